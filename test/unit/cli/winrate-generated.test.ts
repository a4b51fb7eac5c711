// Comparing two runs end to end, all real: two tiny DPO runs train (CPU), `rpo generate A
// --baseline B` samples both on A's eval prompts into one candidates file in A's samples/, the
// file is labeled with the editor's applyLabel by a plan stated in model terms (the sidecar says
// who wrote what), and `rpo winrate` and both runs' dashboard rows (runWinrates) equal the hand
// count. Skipped without the trainer's Python.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { applyLabel, displayOrder } from '../../../src/core/dataset/labeling';
import { parseText } from '../../../src/core/dataset/formats';
import { runWinrates } from '../../../src/node/winrate';
import { testPython } from '../../support/python.cjs';
import { rpoCli } from '../../support/cli';

const repo = path.resolve(__dirname, '..', '..', '..');
const trainerRoot = path.join(repo, 'trainer');
const python = testPython(repo);
const skip = python ? false : 'no Python with the trainer requirements (set RPO_TEST_PYTHON)';
const env = { ...process.env, RPO_PYTHON: python ?? '', OMP_NUM_THREADS: '1', HF_HUB_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' };
const rpo = rpoCli(env);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-winrate-gen-'));
const runs: string[] = [];

before(() => {
  if (!python) return;
  execFileSync(python, ['-m', 'rpo_trainer.testing.tiny_model', path.join(tmp, 'model')], { env: { ...env, PYTHONPATH: trainerRoot }, stdio: 'pipe' });
  const fixtures = path.join(repo, 'test', 'fixtures', 'training');
  fs.copyFileSync(path.join(fixtures, 'tiny.pref.jsonl'), path.join(tmp, 'data.pref.jsonl'));
  for (const [name, seed] of [['run-a', 1], ['run-b', 2]] as const) {
    const config = JSON.parse(fs.readFileSync(path.join(fixtures, 'tiny-dpo.rpo.json'), 'utf8')) as Record<string, unknown>;
    delete config.$schema;
    Object.assign(config, { name, seed, model: 'model', dataset: 'data.pref.jsonl', max_steps: 2, eval_split: 0.25, output_dir: 'runs' });
    const configPath = path.join(tmp, `${name}.rpo.json`);
    fs.writeFileSync(configPath, JSON.stringify(config));
    execFileSync(python, ['-m', 'rpo_trainer', 'train', '--config', configPath], { cwd: trainerRoot, env: { ...env, PYTHONPATH: trainerRoot, PYTHONSAFEPATH: '1' }, stdio: 'pipe' });
    runs.push(path.join(tmp, 'runs', fs.readdirSync(path.join(tmp, 'runs')).find((d) => d.startsWith(name))!));
  }
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('two real runs sampled into one file, judged by plan, equal the hand count', { skip }, async () => {
  const [a, b] = runs as [string, string];
  const g = rpo('generate', a, '--baseline', b, '--max-new-tokens', '6', '--batch-size', '4');
  assert.equal(g.status, 0, g.stderr);
  const samples = path.join(a, 'samples');
  const file = path.join(samples, fs.readdirSync(samples).find((n) => n.endsWith('.pref.jsonl'))!);
  const sidecar = fs.readFileSync(file + '.sources.jsonl', 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { models?: Record<string, { run_dir: string }>; sources?: string[] });
  assert.equal(sidecar[0]!.models!.A!.run_dir, a);
  assert.equal(sidecar[0]!.models!.B!.run_dir, b);
  const lines = fs.readFileSync(file, 'utf8').slice(0, -1).split('\n');
  assert.ok(lines.length >= 4, `${lines.length} prompts sampled`);
  // The plan, in model terms: A, B, tie, A, A, B, tie, ... (identical answers are left out whatever the label)
  const plan = lines.map((_, i) => (['A', 'B', 'tie', 'A'] as const)[i % 4]!);
  let wins = 0, losses = 0, ties = 0, identical = 0;
  const labeled = lines.map((line, i) => {
    const rec = parseText(line) as { responses: unknown[] };
    const same = JSON.stringify(rec.responses[0]) === JSON.stringify(rec.responses[1]);
    const ctx = { annotator: 'ada', time: '2026-12-01T00:00:00.000Z', shown: displayOrder(parseText(line), i, 0)! };
    const p = plan[i]!;
    if (same) identical++;
    if (p === 'tie') {
      if (!same) ties++;
      return applyLabel(line, { type: 'status', status: 'tie' }, ctx);
    }
    const idx = sidecar[i + 1]!.sources!.indexOf(p);
    if (!same && p === 'A') wins++;
    else if (!same) losses++;
    return applyLabel(line, { type: 'choose', side: ctx.shown[0] === `responses.${idx}` ? 'left' : 'right' }, ctx);
  });
  fs.writeFileSync(file, labeled.join('\n') + '\n');
  const r = rpo('winrate', file, '--json', '--resamples', '100');
  assert.equal(r.status, 0, r.stderr);
  const rep = (JSON.parse(r.stdout) as { report: { wins: number; losses: number; ties: number; identical: number; winRate: number | null } }).report;
  assert.deepEqual([rep.wins, rep.losses, rep.ties, rep.identical], [wins, losses, ties, identical]);
  const n = wins + losses + ties;
  assert.equal(rep.winRate, n ? (wins + ties / 2) / n : null);
  // Both dashboards: A sees the file in its samples/, B in A's, each from its own side.
  const [rowA] = await runWinrates(a, { resamples: 0, seed: 0 });
  const [rowB] = await runWinrates(b, { resamples: 0, seed: 0 });
  assert.deepEqual([rowA!.wins, rowA!.losses, rowB!.wins, rowB!.losses], [wins, losses, losses, wins]);
  assert.match(rowA!.opponent, /run run-b/);
  assert.match(rowB!.opponent, /run run-a/);
});

// The dashboard's rows: candidates files in <run>/samples whose sidecar names the run, from the run's side.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { applyLabel, displayOrder } from '../../../src/core/dataset/labeling';
import { parseText } from '../../../src/core/dataset/formats';
import { runWinrates } from '../../../src/node/winrate';
// @ts-expect-error plain ESM builder shared with the UI tests
import { writeCandidates } from '../../builders/candidates.mjs';

/** Writes a candidates file where model A wins `aWins` of n records and B the rest. */
function judged(file: string, models: object, n: number, aWins: number): void {
  const answers = Array.from({ length: n }, (_, i) => ({ prompt: `q${i}`, a: `a${i}${'x'.repeat(i % 5)}`, b: `b${i}${'y'.repeat(i % 3)}` }));
  const entries = writeCandidates(file, answers, { seed: 1, models }) as { sources: string[] }[];
  const lines = readFileSync(file, 'utf8').slice(0, -1).split('\n').map((l, i) => {
    const shown = displayOrder(parseText(l), i, 0)!;
    const idx = entries[i]!.sources.indexOf(i < aWins ? 'A' : 'B');
    return applyLabel(l, { type: 'choose', side: shown[0] === `responses.${idx}` ? 'left' : 'right' }, { annotator: 'ada', time: '2026-12-01T00:00:00.000Z', shown });
  });
  writeFileSync(file, lines.join('\n') + '\n');
}

test('runWinrates: the run as A, as B in a comparison kept in the other run\'s folder, a refused file; files not naming the run left out', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'rpo-runwr-'));
  const run = path.join(root, 'rpo-1');
  const other = path.join(root, 'dpo-1');
  mkdirSync(path.join(run, 'samples'), { recursive: true });
  mkdirSync(path.join(other, 'samples'), { recursive: true });
  const runModel = (dir: string) => ({ kind: 'run', run_dir: dir, checkpoint: null, model: `${dir}/final`, base_model: null, lora: false });
  const ref = { kind: 'reference', run_dir: null, checkpoint: null, model: '/m/tiny', base_model: null, lora: false };
  judged(path.join(run, 'samples', 'final-vs-reference.eval.pref.jsonl'), { A: runModel(run), B: ref }, 10, 7);
  // a comparison sampled from the other run lives in its folder: this run is its B
  judged(path.join(other, 'samples', 'dpo-vs-rpo.eval.pref.jsonl'), { A: runModel(other), B: runModel(run) }, 8, 6);
  judged(path.join(other, 'samples', 'unrelated.eval.pref.jsonl'), { A: runModel(other), B: ref }, 4, 2);
  judged(path.join(run, 'samples', 'broken.eval.pref.jsonl'), { A: runModel(run), B: ref }, 4, 2);
  const broken = path.join(run, 'samples', 'broken.eval.pref.jsonl.sources.jsonl');
  writeFileSync(broken, readFileSync(broken, 'utf8').split('\n').slice(0, -2).join('\n') + '\n');
  const rows = await runWinrates(run, { resamples: 100, seed: 0 });
  assert.deepEqual(rows.map((r) => r.name), ['dpo-vs-rpo.eval.pref.jsonl', 'broken.eval.pref.jsonl', 'final-vs-reference.eval.pref.jsonl']);
  const [asB, b, asA] = rows as [typeof rows[0], typeof rows[0], typeof rows[0]];
  assert.match(b.error!, /4 records in the file, 3 entries in the sidecar/);
  assert.equal(b.winRate, null);
  assert.deepEqual([asA.wins, asA.losses, asA.winRate, asA.opponent], [7, 3, 0.7, 'B (reference model /m/tiny)']);
  assert.deepEqual([asB.wins, asB.losses, asB.winRate, asB.opponent], [2, 6, 0.25, 'A (run dpo-1, final)']);
  assert.ok(asB.wilson![0] < 0.25 && asB.wilson![1] > 0.25);
  rmSync(root, { recursive: true });
});

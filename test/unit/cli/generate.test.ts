// `rpo generate` as a real process over a REAL run: the trainer (tiny model, CPU, DPO) trains,
// then the CLI samples its final model and the reference on the eval split through
// `python -m rpo_trainer generate`; stopped by SIGINT and continued; bad input. The files are
// checked against docs/formats.md with node:crypto (not the project's key code). Skipped without
// the trainer's Python.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildGenerateArgv, checkGenerateOptions, generateProgressText } from '../../../src/core/run/generate';
import { testPython } from '../../support/python.cjs';
import { cliMain, rpoCli, tsxLoader } from '../../support/cli';

const repo = path.resolve(__dirname, '..', '..', '..');
const trainerRoot = path.join(repo, 'trainer');
const python = testPython(repo);
const skip = python ? false : 'no Python with the trainer requirements (set RPO_TEST_PYTHON)';
const env = { ...process.env, RPO_PYTHON: python ?? '', OMP_NUM_THREADS: '1', HF_HUB_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' };
const rpo = rpoCli(env);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-generate-'));
let runDir = '';
let records = 0;

before(() => {
  if (!python) return;
  execFileSync(python, ['-m', 'rpo_trainer.testing.tiny_model', path.join(tmp, 'model')], { env: { ...env, PYTHONPATH: trainerRoot }, stdio: 'pipe' });
  const fixtures = path.join(repo, 'test', 'fixtures', 'training');
  fs.copyFileSync(path.join(fixtures, 'tiny.pref.jsonl'), path.join(tmp, 'data.pref.jsonl'));
  records = fs.readFileSync(path.join(tmp, 'data.pref.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).length;
  const config = JSON.parse(fs.readFileSync(path.join(fixtures, 'tiny-dpo.rpo.json'), 'utf8')) as Record<string, unknown>;
  delete config.$schema;
  Object.assign(config, { model: 'model', dataset: 'data.pref.jsonl', max_steps: 2, eval_split: 0.25, output_dir: 'runs' });
  const configPath = path.join(tmp, 'run.rpo.json');
  fs.writeFileSync(configPath, JSON.stringify(config));
  execFileSync(python, ['-m', 'rpo_trainer', 'train', '--config', configPath], { cwd: trainerRoot, env: { ...env, PYTHONPATH: trainerRoot, PYTHONSAFEPATH: '1' }, stdio: 'pipe' });
  const runs = fs.readdirSync(path.join(tmp, 'runs')).filter((d) => !d.startsWith('.'));
  runDir = path.join(tmp, 'runs', runs[0]!);
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const text = (t: unknown): string => (typeof t === 'string' ? t : (t as { role: string; content: string }[]).map((m) => `${m.role}: ${m.content}`).join('\n\n'));
const enc = (s: string) => {
  const b = Buffer.from(s, 'utf8');
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(b.length));
  return Buffer.concat([n, b]);
};
/** docs/contracts.md §8 for {prompt, responses: [r0, r1]}, from the text. */
const pairKey = (prompt: unknown, r0: unknown, r1: unknown) => {
  const [a, b] = [Buffer.from(text(r0), 'utf8'), Buffer.from(text(r1), 'utf8')].sort(Buffer.compare);
  return createHash('sha256').update(Buffer.concat([enc(text(prompt)), enc(a.toString('utf8')), enc(b.toString('utf8'))])).digest('hex');
};
const jsonl = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l) as Record<string, unknown>);

test('argv, option checks and the progress text', () => {
  assert.deepEqual(buildGenerateArgv('py', { runDir: '/r', baseline: 'dataset', numPrompts: 5, greedy: true, batchSize: 2 }), [
    'py', '-m', 'rpo_trainer', 'generate', '/r', '--baseline', 'dataset', '--num-prompts', '5', '--greedy', '--batch-size', '2',
  ]);
  assert.deepEqual(buildGenerateArgv('py', { runDir: '/r' }, 2, 1234).slice(0, 4), ['py', '-m', 'accelerate.commands.launch', '--num_processes']);
  assert.deepEqual(checkGenerateOptions({ runDir: '/r', batchSize: 0, topP: 1.5, out: 'x.jsonl' }), [
    'batch size must be a whole number of at least 1, found 0',
    'top-p must be in (0, 1], found 1.5',
    'the output file must end in .pref.jsonl, found x.jsonl',
  ]);
  assert.equal(generateProgressText({ done: 16, total: 64, tokens_per_second: 351.6, eta_seconds: 80 }), '16/64 records (25%), 352 tok/s, ETA 1m 20s');
});

test('rpo generate samples the eval split into a blind candidates file and its sidecar', { skip }, () => {
  const r = rpo('generate', runDir, '--max-new-tokens', '8', '--batch-size', '2');
  assert.equal(r.status, 0, r.stderr);
  const out = path.join(runDir, 'samples', 'final-vs-reference.eval.pref.jsonl');
  assert.match(r.stderr, /sampling \d+ prompts \(the run's eval split\)/);
  assert.match(r.stderr, /records \(\d+%\), \d+ tok\/s, ETA /);
  assert.match(r.stderr, new RegExp(`completed: (\\d+) of \\1 records`));
  const cands = jsonl(out);
  const [head, ...side] = jsonl(`${out}.sources.jsonl`);
  assert.equal(cands.length, Math.ceil(0.25 * records));
  assert.equal(side.length, cands.length);
  const models = head!.models as Record<string, Record<string, unknown>>;
  assert.equal(models.A!.model, path.join(runDir, 'final'));
  assert.equal(models.B!.kind, 'reference');
  for (const [i, c] of cands.entries()) {
    assert.deepEqual(Object.keys(c), ['prompt', 'responses']);
    assert.ok(!JSON.stringify(c).includes(path.basename(runDir)) && !JSON.stringify(c).includes('reference'));
    const s = side[i]!;
    assert.equal(s.line, i + 1);
    const responses = c.responses as unknown[];
    assert.equal(s.key, pairKey(c.prompt, responses[0], responses[1]));
  }
});

/** A prompt file of n prompts in the test folder. */
function writePrompts(name: string, n: number, prompt: (i: number) => string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, Array.from({ length: n }, (_, i) => JSON.stringify({ prompt: prompt(i) })).join('\n') + '\n');
  return file;
}

/** `rpo generate ARGS` as a child process, once its first progress line is on stderr (or it has ended). */
async function generateUntilProgress(args: string[]): Promise<{ child: ChildProcess; exited: Promise<number | null>; stderr: () => string }> {
  const child = spawn(process.execPath, ['--import', tsxLoader, cliMain, 'generate', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  await new Promise<void>((resolve) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (/records \(/.test(stderr)) resolve();
    });
    void exited.then(() => resolve());
  });
  return { child, exited, stderr: () => stderr };
}

test('Ctrl+C (SIGINT) stops with exit 3, keeps whole records, and the same command continues', { skip }, async () => {
  const prompts = writePrompts('many.jsonl', 16, (i) => `Tell me about thing ${i}.`);
  const out = path.join(tmp, 'stopped.pref.jsonl');
  const { child, exited, stderr: output } = await generateUntilProgress([runDir, '--prompts', prompts, '--out', out, '--max-new-tokens', '32', '--batch-size', '1']);
  child.kill('SIGINT');
  const code = await exited;
  const stderr = output();
  assert.equal(code, 3, stderr);
  assert.match(stderr, /stopped: (\d+) of 16 records/);
  assert.match(stderr, /stopping: the batch in progress is dropped, the records written are kept/);
  const done = jsonl(out).length;
  assert.ok(done >= 1 && done < 16, `${done} records after the stop`);
  assert.equal(jsonl(`${out}.sources.jsonl`).length, done + 1);
  const again = rpo('generate', runDir, '--prompts', prompts, '--out', out, '--max-new-tokens', '32', '--batch-size', '1');
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, new RegExp(`continuing at record ${done + 1} of 16 prompts`));
  assert.equal(jsonl(out).length, 16);
});

test('the generation stops by itself when rpo generate is killed (a closed terminal, a reloaded window) and the file continues', { skip }, async () => {
  const prompts = writePrompts('orphan.jsonl', 200, (i) => `Say something about item ${i}.`);
  const out = path.join(tmp, 'orphan.pref.jsonl');
  const args = ['generate', runDir, '--prompts', prompts, '--out', out, '--max-new-tokens', '32', '--batch-size', '1'];
  const { child, exited } = await generateUntilProgress(args.slice(1));
  // The trainer runs in its own process group: SIGKILL to the CLI alone does not reach it.
  const holder = (JSON.parse(fs.readFileSync(`${out}.lock`, 'utf8')) as { pid: number }).pid;
  child.kill('SIGKILL');
  await exited;
  const alive = () => {
    try {
      process.kill(holder, 0);
      return true;
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 60_000;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(alive(), false, `the generation (pid ${holder}) still runs a minute after its launcher was killed`);
  assert.equal(fs.existsSync(`${out}.lock`), false, 'it ended normally and released its lock');
  const done = jsonl(out).length;
  assert.ok(done >= 1 && done < 200, `${done} records after the launcher was killed`);
  assert.equal(jsonl(`${out}.sources.jsonl`).length, done + 1);
  const again = rpo(...args.slice(0, -2), '--batch-size', '64');
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, new RegExp(`continuing at record ${done + 1} of 200 prompts`));
  assert.equal(jsonl(out).length, 200);
});

test('bad input: usage errors exit 2, a run with no model exits 1 naming it, a file is never overwritten', { skip }, () => {
  assert.equal(rpo('generate').status, 2);
  const bad = rpo('generate', runDir, '--batch-size', '0');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /batch size must be a whole number of at least 1/);
  const empty = path.join(tmp, 'empty-run');
  fs.mkdirSync(empty);
  fs.copyFileSync(path.join(runDir, 'config.json'), path.join(empty, 'config.json'));
  const none = rpo('generate', empty);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /has no final model and no checkpoint to sample/);
  const mine = path.join(tmp, 'mine.pref.jsonl');
  fs.writeFileSync(mine, '{"prompt": "p", "responses": ["a", "b"]}\n');
  const refused = rpo('generate', runDir, '--out', mine);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /has no sidecar/);
  assert.equal(fs.readFileSync(mine, 'utf8'), '{"prompt": "p", "responses": ["a", "b"]}\n');
});

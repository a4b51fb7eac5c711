import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { buildTrainArgv, trainerEnv } from '../../../src/core/run/launch';
import { freeLocalPort } from '../../../src/node/run/freePort';
import { TrainerProcess, trainerWorkers } from '../../../src/node/run/process';
import { isTrainerAlive, readEventsFile } from '../../../src/node/run/store';
import { testPython } from '../../support/python.cjs';

/**
 * Several processes: a run config with num_processes 2 starts through `accelerate launch` (two
 * gloo ranks on the CPU here), from the real `rpo train` (which shares the extension's launcher,
 * TrainerProcess). Only rank 0 speaks, so every event arrives once; Ctrl+C stops every rank at a
 * checkpoint; --resume finishes the run. Python: $RPO_TEST_PYTHON, .rpo-test/python or the dev
 * venv; skipped without one that has accelerate.
 */
const repo = path.resolve(__dirname, '..', '..', '..');
const TSX = pathToFileURL(require.resolve('tsx')).href;

const python = testPython(repo);
let skip: string | false = python ? false : 'no Python with the trainer requirements (set RPO_TEST_PYTHON)';
if (python) {
  try {
    execFileSync(python, ['-c', 'import accelerate, torch.distributed'], { stdio: 'pipe' });
  } catch {
    skip = `${python} has no accelerate`;
  }
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-multiprocess-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

function rpo(args: string[], onStderr?: (text: string, child: ChildProcess) => void): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', TSX, path.join(repo, 'src', 'cli', 'main.ts'), ...args], { cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    onStderr?.(stderr, child);
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

test('num_processes 2: accelerate launch runs two ranks, events arrive once, Ctrl+C stops every rank, --resume completes', { skip, timeout: 360_000 }, async () => {
  execFileSync(python!, ['-m', 'rpo_trainer.testing.tiny_model', path.join(tmp, 'model')], { env: { ...process.env, PYTHONPATH: path.join(repo, 'trainer') }, stdio: 'pipe' });
  fs.copyFileSync(path.join(repo, 'test', 'fixtures', 'training', 'tiny.pref.jsonl'), path.join(tmp, 'tiny.pref.jsonl'));
  const config = JSON.parse(fs.readFileSync(path.join(repo, 'test', 'fixtures', 'training', 'tiny-dpo.rpo.json'), 'utf8'));
  delete config.$schema;
  Object.assign(config, { name: 'two', model: 'model', num_processes: 2, max_steps: 40 });
  fs.writeFileSync(path.join(tmp, 'two.rpo.json'), JSON.stringify(config));

  // Ctrl+C (SIGINT to `rpo train`) once the first step is reported.
  let interrupted = false;
  const first = await rpo(['train', 'two.rpo.json', '--python', python!], (text, child) => {
    if (!interrupted && /step \d+\/40/.test(text)) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  assert.equal(first.code, 3, `rpo train should exit 3 (stopped):\n${first.stderr.slice(-3000)}`);
  assert.doesNotMatch(first.stderr, /SignalException|SIGKILL/, 'the ranks were stopped by the launcher, not by a signal to the agent');
  for (const rank of [0, 1]) assert.match(first.stderr, new RegExp(`\\[rpo_trainer rank ${rank}\\] SIG\\w+: finishing the current step`), `rank ${rank} says it stops, under its rank`);
  const runs = path.join(tmp, '.rpo', 'runs');
  const runDir = path.join(runs, fs.readdirSync(runs).find((d) => d.startsWith('two-'))!);
  const process1 = JSON.parse(fs.readFileSync(path.join(runDir, 'process.json'), 'utf8'));
  assert.deepEqual(process1.argv.slice(1, 6), ['-m', 'accelerate.commands.launch', '--num_processes', '2', '--multi_gpu']);
  let events = readEventsFile(path.join(runDir, 'events.jsonl')).events;
  const start = events.find((e) => e.type === 'start');
  assert.equal(start?.type === 'start' && start.num_processes, 2, 'two ranks ran');
  assert.equal(events.filter((e) => e.type === 'start').length, 1, 'one start event: only rank 0 speaks');
  const end = events.at(-1);
  assert.ok(end?.type === 'end' && end.status === 'stopped', `last event ${JSON.stringify(end)}`);
  const checkpoint = fs.readdirSync(path.join(runDir, 'checkpoints')).at(-1)!;
  assert.deepEqual(fs.readdirSync(path.join(runDir, 'checkpoints', checkpoint)).filter((f) => f.startsWith('rng_')).sort(), ['rng_0.pt', 'rng_1.pt'], 'every rank saved its RNG state');

  const second = await rpo(['train', '--resume', runDir, '--python', python!]);
  assert.equal(second.code, 0, second.stderr.slice(-3000));
  events = readEventsFile(path.join(runDir, 'events.jsonl')).events;
  assert.equal(events.filter((e) => e.type === 'start').length, 2, 'one start per launch');
  const steps = events.filter((e) => e.type === 'step').map((e) => (e.type === 'step' ? e.step : 0));
  assert.deepEqual(steps, Array.from({ length: 40 }, (_, i) => i + 1), 'every step once, in order, across the stop and the resume');
  const last = events.at(-1);
  assert.ok(last?.type === 'end' && last.status === 'completed');
  assert.ok(!fs.existsSync(path.join(runs, '.launches')), 'launch folders retired');
  assert.equal(fs.readFileSync(path.join(runDir, 'stderr.log'), 'utf8').match(/^==> launch /gm)?.length, 2);
});

test('num_processes 2: a kill reaches the rank workers too (they run in sessions of their own)', { skip, timeout: 240_000 }, async () => {
  // Uses the model and config the test above wrote.
  assert.ok(fs.existsSync(path.join(tmp, 'two.rpo.json')), 'run after the test above');
  const configPath = path.join(tmp, 'two.rpo.json');
  const proc = await TrainerProcess.start({
    argv: buildTrainArgv({ python: python!, configPath, numProcesses: 2, mainProcessPort: await freeLocalPort() }),
    env: trainerEnv(process.env, path.join(repo, 'trainer')),
    cwd: tmp,
    runsDir: path.join(tmp, '.rpo', 'runs'),
    configPath,
    pollMs: 50,
  });
  try {
    const deadline = Date.now() + 180_000;
    while (proc.state.steps.x.length < 1) {
      assert.ok(Date.now() < deadline && proc.running, 'no step within 180 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const workers = trainerWorkers(proc.pid, proc.launch.argv);
    assert.equal(workers.length, 2, `rank workers under the launcher: ${workers.join(', ')}`);
    proc.kill();
    await proc.whenExited();
    assert.equal(proc.state.status, 'failed');
    const gone = Date.now() + 10_000;
    while (workers.some((w) => isTrainerAlive(w)) && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(workers.filter((w) => isTrainerAlive(w)), [], 'rank workers survived the kill');
  } finally {
    proc.kill();
  }
});

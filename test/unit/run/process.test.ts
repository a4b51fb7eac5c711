import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { buildTrainArgv, trainerEnv } from '../../../src/core/run/launch';
import { LAUNCHES_DIR, RUN_STDERR_FILE, TrainerProcess } from '../../../src/node/run/process';
import { loadRun } from '../../../src/node/run/store';
import { testPython } from '../../support/python.cjs';

/**
 * The real trainer (tiny model, CPU) under TrainerProcess: a window reload is a detach followed by
 * an attach from the launch record; a kill -9 is a failed run with the end of stderr.
 * Python: $RPO_TEST_PYTHON, .rpo-test/python, or the dev venv; skipped when none exists.
 */
const repo = path.resolve(__dirname, '..', '..', '..');
const trainerRoot = path.join(repo, 'trainer');

const python = testPython(repo);
const skip = python ? false : 'no Python with the trainer requirements (set RPO_TEST_PYTHON)';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-process-'));
let configPath = '';
const started: TrainerProcess[] = [];

before(() => {
  if (!python) return;
  execFileSync(python, ['-m', 'rpo_trainer.testing.tiny_model', path.join(tmp, 'model')], { env: { ...process.env, PYTHONPATH: trainerRoot }, stdio: 'pipe' });
  const fixtures = path.join(repo, 'test', 'fixtures', 'training');
  fs.copyFileSync(path.join(fixtures, 'tiny.pref.jsonl'), path.join(tmp, 'tiny.pref.jsonl'));
  const config = JSON.parse(fs.readFileSync(path.join(fixtures, 'tiny-dpo.rpo.json'), 'utf8'));
  delete config.$schema;
  Object.assign(config, { model: 'model', max_steps: 300 });
  configPath = path.join(tmp, 'long.rpo.json');
  fs.writeFileSync(configPath, JSON.stringify(config));
});

after(() => {
  for (const p of started) p.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function until(what: string, fn: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startTrainer(): Promise<TrainerProcess> {
  return TrainerProcess.start({
    argv: buildTrainArgv({ python: python!, configPath }),
    env: trainerEnv(process.env, trainerRoot),
    cwd: tmp,
    runsDir: path.join(tmp, '.rpo', 'runs'),
    configPath,
    pollMs: 50,
  }).then((p) => (started.push(p), p));
}

test('window reload: the trainer keeps running detached; a new follower re-attaches, replays and stops it', { skip, timeout: 180_000 }, async () => {
  const first = await startTrainer();
  await until('2 steps', () => first.state.steps.x.length >= 2);
  const runDir = first.state.runDir!;
  assert.ok(fs.existsSync(path.join(runDir, 'process.json')));
  first.detach(); // the old window is gone; the process is not ours to watch any more
  const stepsBefore = first.state.steps.x.length;

  const launches = TrainerProcess.liveLaunches(path.join(tmp, '.rpo', 'runs'));
  assert.equal(launches.length, 1, 'the live launch is found from its record');
  const second = TrainerProcess.attach(launches[0], 50)!;
  assert.ok(second, 'attach returned nothing for a live trainer');
  started.push(second);
  assert.equal(second.pid, first.pid);
  await until('replayed history and new steps', () => second.state.steps.x.length > stepsBefore);
  assert.equal(second.state.steps.x[0], 1, 'the replay starts at the first step');
  assert.equal(second.state.runDir, runDir);

  await second.stop(60_000);
  assert.equal(second.state.status, 'stopped', JSON.stringify(second.state.failure));
  assert.equal(loadRun(runDir).state.status, 'stopped');
  assert.equal(TrainerProcess.liveLaunches(path.join(tmp, '.rpo', 'runs')).length, 0);
  // The launch is retired by the follower that saw the exit: no launch folder left, stderr kept
  // in the run folder and named by process.json.
  assert.ok(!fs.existsSync(path.join(tmp, '.rpo', 'runs', LAUNCHES_DIR, first.launch.id)), 'the launch folder was not removed');
  const stderr = fs.readFileSync(path.join(runDir, RUN_STDERR_FILE), 'utf8');
  assert.match(stderr, new RegExp(`^==> launch ${first.launch.id} \\(pid ${first.pid}`));
  assert.match(stderr, /rpo_trainer/);
  const record = JSON.parse(fs.readFileSync(path.join(runDir, 'process.json'), 'utf8'));
  assert.equal(record.stderrPath, path.join(runDir, RUN_STDERR_FILE));
  assert.equal(record.stdoutPath, undefined);
});

test('kill -9: the run is failed with the process reason and the end of stderr', { skip, timeout: 180_000 }, async () => {
  const proc = await startTrainer();
  await until('1 step', () => proc.state.steps.x.length >= 1);
  proc.kill();
  await proc.whenExited();
  assert.equal(proc.state.status, 'failed');
  assert.match(proc.state.failure!.reason, /SIGKILL/);
  assert.ok(proc.state.failure!.stderrTail, 'stderr tail missing');
  // Reopened from disk later: still failed (its recorded pid is gone), with the end of stderr
  // from the run folder (the launch folder is gone).
  const reopened = loadRun(proc.state.runDir!);
  assert.equal(reopened.state.status, 'failed');
  assert.ok(reopened.state.failure?.stderrTail, 'no stderr tail from the run folder');
  assert.ok(!fs.existsSync(path.dirname(proc.launch.stdoutPath)), 'the launch folder was not removed');
});

test('a Python that does not exist rejects at start (no hang, no record left running)', async () => {
  await assert.rejects(
    TrainerProcess.start({ argv: ['/nonexistent/python3', '-m', 'rpo_trainer'], env: process.env, cwd: tmp, runsDir: path.join(tmp, 'none') }),
    /ENOENT/,
  );
  assert.ok(!fs.existsSync(path.join(tmp, 'none', LAUNCHES_DIR)), 'a launch folder was left for a process that never started');
});

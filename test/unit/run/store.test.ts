import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { EVENTS_FILE, EventFileFollower, isTrainerAlive, listRuns, loadRun, summarizeRun, writeProcessRecord } from '../../../src/node/run/store';
import { endEvent, errorEvent, lines, startEvent, stepEvent } from '../../builders/events';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-store-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

function makeRun(name: string, text: string): string {
  const dir = path.join(root, 'runs', name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, EVENTS_FILE), text);
  return dir;
}

/** A real process whose command line names rpo_trainer, as a trainer's does. */
function fakeTrainer(): Promise<{ pid: number; kill: () => void }> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', 'rpo_trainer'], { stdio: 'ignore' });
  return new Promise((resolve) => child.once('spawn', () => resolve({ pid: child.pid!, kill: () => child.kill('SIGKILL') })));
}

test('a completed run reopens from its events with its series', () => {
  const dir = makeRun('done-1', lines(startEvent({ config: { method: 'dpo' } }), stepEvent(1), stepEvent(2), endEvent('completed', 2)));
  const run = loadRun(dir);
  assert.equal(run.state.status, 'completed');
  assert.deepEqual(run.state.steps.x, [1, 2]);
  assert.equal(run.live, false);
  const summary = summarizeRun(dir)!;
  assert.equal(summary.method, 'dpo');
  assert.equal(summary.status, 'completed');
});

test('a run without end whose recorded process is dead is failed, with the stderr tail', () => {
  const dir = makeRun('crashed', lines(startEvent(), stepEvent(1)));
  const stderr = path.join(dir, 'stderr.log');
  fs.writeFileSync(stderr, 'loading...\nKilled\n');
  // pid 2^22+7 is above Linux's default pid_max: no such process.
  writeProcessRecord(dir, { pid: 4194311, hostname: os.hostname(), startedAt: new Date().toISOString(), argv: ['python'], stderrPath: stderr });
  const run = loadRun(dir);
  assert.equal(run.state.status, 'failed');
  assert.match(run.state.failure!.reason, /ended without an end event/);
  assert.match(run.state.failure!.stderrTail!, /Killed/);
});

test('a run whose recorded process is alive is running and live', async () => {
  const trainer = await fakeTrainer();
  try {
    const dir = makeRun('alive', lines(startEvent(), stepEvent(1)));
    writeProcessRecord(dir, { pid: trainer.pid, hostname: os.hostname(), startedAt: new Date().toISOString(), argv: [] });
    const run = loadRun(dir);
    assert.equal(run.state.status, 'running');
    assert.equal(run.live, true);
  } finally {
    trainer.kill();
  }
});

test('a live pid that is not a trainer (recycled pid) does not count', () => {
  if (!fs.existsSync('/proc/self/cmdline')) return;
  assert.equal(isTrainerAlive(process.pid), false);
});

test('a run with no process record and old events is stale -> failed; recent events -> running', () => {
  const old = makeRun('stale', lines(startEvent(), stepEvent(1)));
  const then = new Date(Date.now() - 60 * 60_000);
  fs.utimesSync(path.join(old, EVENTS_FILE), then, then);
  assert.equal(loadRun(old).state.status, 'failed');
  const fresh = makeRun('fresh', lines(startEvent(), stepEvent(1)));
  assert.equal(loadRun(fresh).state.status, 'running');
});

test('trainer error stays the failure reason', () => {
  const dir = makeRun('oom', lines(startEvent(), errorEvent('CUDA out of memory'), endEvent('failed', 0)));
  assert.equal(summarizeRun(dir)!.failure, 'CUDA out of memory');
});

test('a long events file is summarised from head and tail', () => {
  const events = [startEvent({ total_steps: 20000 })];
  for (let i = 1; i <= 20000; i++) events.push(stepEvent(i, { total_steps: 20000 }) as never);
  events.push(endEvent('completed', 20000, { total_steps: 20000 }) as never);
  const dir = makeRun('long', lines(...events));
  assert.ok(fs.statSync(path.join(dir, EVENTS_FILE)).size > 1024 * 1024);
  const t0 = performance.now();
  const s = summarizeRun(dir)!;
  const ms = performance.now() - t0;
  assert.equal(s.status, 'completed');
  assert.equal(s.step, 20000);
  assert.equal(s.model, '/models/tiny');
  assert.ok(ms < 2000, `summary took ${ms} ms`);
});

test('listRuns lists run folders newest first and skips other folders', () => {
  fs.mkdirSync(path.join(root, 'runs', 'not-a-run'), { recursive: true });
  const names = listRuns(path.join(root, 'runs')).map((r) => r.name);
  assert.ok(names.includes('done-1'));
  assert.ok(!names.includes('not-a-run'));
  assert.deepEqual(listRuns(path.join(root, 'missing')), []);
});

test('the follower reads lines appended by another process, across partial writes', async () => {
  const file = path.join(root, 'follow.jsonl');
  fs.writeFileSync(file, '');
  const got: string[] = [];
  const follower = new EventFileFollower(file, { line: (l) => got.push(l), tooLong: (n) => got.push(`too long: ${n}`) }, 20);
  follower.start();
  const script = `const fs=require('fs');const f=${JSON.stringify(file)};
    fs.appendFileSync(f,'{"a":1}\\n{"b"');setTimeout(()=>fs.appendFileSync(f,':2}\\n{"c":3}'),150);`;
  await new Promise<void>((resolve, reject) => spawn(process.execPath, ['-e', script]).on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`exit ${c}`)))));
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(got, ['{"a":1}', '{"b":2}']);
  follower.stop();
  assert.deepEqual(got, ['{"a":1}', '{"b":2}', '{"c":3}']);
});

test('a follower started on a large backlog (a capture replayed after a reload) reads it over several turns of the event loop, in order', async (t) => {
  const file = path.join(root, 'backlog.jsonl');
  const line = JSON.stringify({ pad: 'p'.repeat(90) });
  const count = Math.ceil((3 * EventFileFollower.POLL_BUDGET_BYTES) / (line.length + 1));
  fs.writeFileSync(file, (line + '\n').repeat(count) + 'x'.repeat(3 << 20) + '\n' + line + '\n');
  let got = 0;
  let tooLong = 0;
  const follower = new EventFileFollower(file, { line: (l) => (assert.equal(l, line), got++), tooLong: (n) => (tooLong = n) }, 10_000);
  follower.start();
  t.after(() => follower.stop());
  const afterFirstTurn = got;
  assert.ok(afterFirstTurn > 0 && afterFirstTurn < count, `the first read stops at the budget (${afterFirstTurn} of ${count} lines)`);
  let turns = 1;
  while (got < count + 1 && turns < 100) {
    await new Promise((r) => setImmediate(r));
    turns++;
  }
  assert.equal(got, count + 1, 'the rest follows without waiting for the poll interval');
  assert.equal(tooLong, 3 << 20, 'the 3 MiB line is skipped and reported with its length');
  assert.ok(turns >= 3, `read over ${turns} turns`);
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { LAUNCHES_DIR, RUN_STDERR_FILE, RunsFolderError, pruneLaunches, retireLaunch, runsFolderFix, runsFolderProblem } from '../../../src/node/run/process';
import { readProcessRecord, writeProcessRecord } from '../../../src/node/run/store';

/** A pid above the kernel's maximum (4194304): never a live process. */
const DEAD_PID = 4194311;

function workspace(): string {
  const runs = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-launches-')), '.rpo', 'runs');
  fs.mkdirSync(runs, { recursive: true });
  return runs;
}

function launchFolder(runs: string, id: string, fields: Record<string, unknown>, ageMs: number): string {
  const dir = path.join(runs, LAUNCHES_DIR, id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'stdout.jsonl'), '');
  fs.writeFileSync(path.join(dir, 'stderr.log'), `stderr of ${id}\n`);
  if (Object.keys(fields).length) {
    fs.writeFileSync(path.join(dir, 'launch.json'), JSON.stringify({ id, hostname: os.hostname(), startedAt: '2026-01-01T00:00:00.000Z', argv: [], stdoutPath: path.join(dir, 'stdout.jsonl'), stderrPath: path.join(dir, 'stderr.log'), ...fields }));
  }
  const t = new Date(Date.now() - ageMs);
  for (const f of fs.readdirSync(dir)) fs.utimesSync(path.join(dir, f), t, t);
  fs.utimesSync(dir, t, t);
  return dir;
}

test('retireLaunch: stderr appended to the run folder per launch, process.json repointed, launch folder removed', () => {
  const runs = workspace();
  const runDir = path.join(runs, 'r-20260101-000000');
  fs.mkdirSync(runDir);
  const a = launchFolder(runs, 'a', { pid: DEAD_PID, runDir }, 0);
  const b = launchFolder(runs, 'b', { pid: DEAD_PID - 1, runDir }, 0);
  writeProcessRecord(runDir, { pid: DEAD_PID - 1, hostname: os.hostname(), startedAt: 'x', argv: [], stdoutPath: path.join(b, 'stdout.jsonl'), stderrPath: path.join(b, 'stderr.log') });
  retireLaunch(a);
  assert.ok(!fs.existsSync(a));
  assert.ok(fs.existsSync(b), 'only the retired launch goes');
  // process.json names launch b: untouched by a's retirement.
  assert.equal(readProcessRecord(runDir)!.stderrPath, path.join(b, 'stderr.log'));
  retireLaunch(b);
  retireLaunch(b); // idempotent
  assert.ok(!fs.existsSync(path.join(runs, LAUNCHES_DIR)), 'the empty .launches folder is removed');
  const text = fs.readFileSync(path.join(runDir, RUN_STDERR_FILE), 'utf8');
  assert.equal(text, `==> launch a (pid ${DEAD_PID}, started 2026-01-01T00:00:00.000Z) <==\nstderr of a\n==> launch b (pid ${DEAD_PID - 1}, started 2026-01-01T00:00:00.000Z) <==\nstderr of b\n`);
  const record = readProcessRecord(runDir)!;
  assert.equal(record.stderrPath, path.join(runDir, RUN_STDERR_FILE));
  assert.equal(record.stdoutPath, undefined);
});

test('retireLaunch never writes outside the runs folder a launch record names', () => {
  const runs = workspace();
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-elsewhere-'));
  const dir = launchFolder(runs, 'evil', { pid: DEAD_PID, runDir: elsewhere }, 0);
  const dotdot = launchFolder(runs, 'evil2', { pid: DEAD_PID, runDir: path.join(runs, '..') }, 0);
  retireLaunch(dir);
  retireLaunch(dotdot);
  assert.deepEqual(fs.readdirSync(elsewhere), []);
  assert.ok(!fs.existsSync(path.join(runs, '..', RUN_STDERR_FILE)));
  assert.ok(!fs.existsSync(dir) && !fs.existsSync(dotdot));
});

test('pruneLaunches: removes dead, idle launches only; live, recent and foreign ones stay', async () => {
  const runs = workspace();
  const runDir = path.join(runs, 'done-20260101-000000');
  fs.mkdirSync(runDir);
  // A live "trainer": any process whose command line names rpo_trainer.
  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', 'rpo_trainer'], { stdio: 'ignore' });
  await new Promise((r) => live.once('spawn', r));
  try {
    const hour = 3_600_000;
    launchFolder(runs, 'dead-old', { pid: DEAD_PID, runDir }, hour);
    launchFolder(runs, 'dead-recent', { pid: DEAD_PID, runDir }, 1000);
    launchFolder(runs, 'live-old', { pid: live.pid, runDir }, hour);
    launchFolder(runs, 'other-host', { pid: DEAD_PID, runDir, hostname: `not-${os.hostname()}` }, hour);
    launchFolder(runs, 'no-record-old', {}, hour);
    launchFolder(runs, 'no-record-recent', {}, 1000);
    fs.writeFileSync(path.join(runs, LAUNCHES_DIR, 'stray-file'), 'x');
    const removed = pruneLaunches(runs).sort();
    assert.deepEqual(removed, ['dead-old', 'no-record-old']);
    assert.deepEqual(fs.readdirSync(path.join(runs, LAUNCHES_DIR)).sort(), ['dead-recent', 'live-old', 'no-record-recent', 'other-host', 'stray-file']);
    assert.match(fs.readFileSync(path.join(runDir, RUN_STDERR_FILE), 'utf8'), /stderr of dead-old/);
    // Later, the recent ones have been idle long enough.
    assert.deepEqual(pruneLaunches(runs, { now: Date.now() + hour }).sort(), ['dead-recent', 'no-record-recent']);
  } finally {
    live.kill();
  }
  assert.deepEqual(pruneLaunches(path.join(os.tmpdir(), 'rpo-no-such-runs-folder')), []);
});

test('runsFolderProblem: each cause of a failed mkdir/open in words, naming the folder', () => {
  const cases: [string, RegExp][] = [
    ['ENOTDIR', /is a file, not a folder/],
    ['EEXIST', /is a file, not a folder/],
    ['EACCES', /permission denied/],
    ['EPERM', /permission denied/],
    ['EROFS', /read-only file system/],
    ['ENOSPC', /disk is full/],
  ];
  for (const [code, text] of cases) {
    const err = runsFolderProblem('/w/.rpo/runs', Object.assign(new Error(`${code}: raw`), { code }));
    assert.ok(err instanceof RunsFolderError);
    assert.equal(err.runsDir, '/w/.rpo/runs');
    assert.match(err.message, /^cannot write the runs folder \/w\/\.rpo\/runs: /);
    assert.match(err.message, text);
  }
  assert.match(runsFolderFix(runsFolderProblem('/w/out', Object.assign(new Error('x'), { code: 'EACCES' })), '/w/a.rpo.json'), /Set "output_dir" in \/w\/a\.rpo\.json/);
  assert.match(runsFolderFix(runsFolderProblem('/w/runs', Object.assign(new Error('x'), { code: 'EACCES' })), undefined), /make \/w\/runs a writable folder/);
});

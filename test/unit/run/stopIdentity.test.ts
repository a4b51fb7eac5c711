import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { checkTrainer, isTrainerArgv } from '../../../src/core/run/trainerIdentity';
import { LAUNCHES_DIR, TrainerProcess } from '../../../src/node/run/process';
import { processFacts, psFacts, StopRefusedError, verifyTrainer } from '../../../src/node/run/processInfo';

/**
 * Stop signals a pid named by a workspace file (launch.json, process.json) only when that pid is
 * the recorded trainer: this user's process, the recorded command line, started when recorded.
 * Real processes: a foreign one (named in a forged record) must not get the signal.
 */

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-stopid-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

const supported = process.platform === 'linux' || process.platform === 'darwin';
const skip = supported ? false : 'process facts are read from /proc or ps here';

/** A detached node process (its own process group, as a trainer) that records a SIGINT in `marker` and exits. */
async function spawnNode(marker: string, extraArgs: string[]): Promise<{ child: ChildProcess; argv: string[]; startedAt: string }> {
  const code = `process.on('SIGINT', () => { require('fs').writeFileSync(${JSON.stringify(marker)}, 'SIGINT'); process.exit(0); }); require('fs').writeFileSync(${JSON.stringify(marker + '.ready')}, ''); setInterval(() => {}, 1000);`;
  const argv = [process.execPath, '-e', code, '--', ...extraArgs];
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: 'ignore' });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const startedAt = new Date().toISOString();
  // wait until its SIGINT handler is installed (node starts slowly on a loaded machine)
  for (const deadline = Date.now() + 20_000; !fs.existsSync(marker + '.ready');) {
    if (Date.now() > deadline) throw new Error('the test process did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, argv, startedAt };
}

const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
const TRAINER_ARGS = ['-m', 'rpo_trainer', 'train', '--config', 'x.rpo.json'];
let n = 0;

function writeLaunch(fields: { pid: number; argv: string[]; startedAt: string }): string {
  const dir = path.join(tmp, 'runs', LAUNCHES_DIR, `launch-${n++}`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'launch.json');
  fs.writeFileSync(file, JSON.stringify({ id: path.basename(dir), hostname: os.hostname(), configPath: null, runDir: null, resumeRunDir: null, stdoutPath: path.join(dir, 'stdout.jsonl'), stderrPath: path.join(dir, 'stderr.log'), ...fields }));
  return file;
}

test('checkTrainer: command line, start time, owner, trainer shape', () => {
  const record = { pid: 42, argv: ['/venv/bin/python', ...TRAINER_ARGS], startedAt: '2026-12-02T05:00:10.000Z' };
  const facts = { pid: 42, startedAtMs: Date.parse('2026-12-02T05:00:09.500Z'), argv: ['/usr/bin/python3.11', ...TRAINER_ARGS], uid: 1000 };
  assert.deepEqual(checkTrainer(record, facts, 1000), { ok: true });
  assert.match((checkTrainer(record, undefined, 1000) as { reason: string }).reason, /no process with pid 42/);
  assert.match((checkTrainer(record, { ...facts, uid: 0 }, 1000) as { reason: string }).reason, /another user/);
  assert.match((checkTrainer(record, { ...facts, argv: ['sleep', '100'] }, 1000) as { reason: string }).reason, /another command line/);
  assert.match((checkTrainer(record, { ...facts, startedAtMs: Date.parse('2026-12-02T04:00:00Z') }, 1000) as { reason: string }).reason, /started at 2026-12-02T04:00:00.000Z/);
  assert.match((checkTrainer(record, { ...facts, startedAtMs: Date.parse('2026-12-02T05:00:20Z') }, 1000) as { reason: string }).reason, /started at/);
  assert.match((checkTrainer({ ...record, argv: ['sleep', '100'] }, { ...facts, argv: ['sleep', '100'] }, 1000) as { reason: string }).reason, /not an RPO trainer launch/);
  // ps / PowerShell: one command-line string (quotes from Windows dropped)
  const line = { pid: 42, startedAtMs: facts.startedAtMs, commandLine: `"C:\\Python\\python.exe" ${TRAINER_ARGS.join(' ')}` };
  assert.deepEqual(checkTrainer(record, line, undefined), { ok: true });
  assert.equal(checkTrainer(record, { ...line, commandLine: 'python -m rpo_trainer train --config other.rpo.json' }, undefined).ok, false);
  assert.ok(isTrainerArgv(['py', '-P', '-m', 'accelerate.commands.launch', '--num_processes', '2', '-m', 'rpo_trainer', 'train', '--resume', 'r']));
  assert.ok(!isTrainerArgv(['py', '-m', 'rpo_trainer', 'doctor']));
});

test('processFacts reads this process: its own arguments, a start time before now, our uid', { skip }, async () => {
  const marker = path.join(tmp, 'facts');
  const { child, argv, startedAt } = await spawnNode(marker, TRAINER_ARGS);
  const facts = (await processFacts(child.pid!))!;
  if (facts.argv) assert.deepEqual(facts.argv, argv);
  else assert.ok(facts.commandLine!.endsWith(TRAINER_ARGS.join(' ')), facts.commandLine);
  const delta = Date.parse(startedAt) - facts.startedAtMs;
  assert.ok(delta > -2000 && delta < 5000, `start time ${new Date(facts.startedAtMs).toISOString()} vs recorded ${startedAt}`);
  assert.equal(facts.uid, process.getuid!());
  assert.deepEqual(await verifyTrainer({ pid: child.pid!, argv, startedAt, hostname: os.hostname() }), { ok: true });
  // The macOS/BSD reader (ps), where ps is there: the same process, start time to the second.
  const ps = await psFacts(child.pid!).catch(() => undefined);
  if (ps) {
    assert.ok(Math.abs(ps.startedAtMs - facts.startedAtMs) < 1500, `ps start ${new Date(ps.startedAtMs).toISOString()} vs ${new Date(facts.startedAtMs).toISOString()}`);
    assert.equal(ps.uid, process.getuid!());
    assert.deepEqual(checkTrainer({ pid: child.pid!, argv, startedAt }, ps, process.getuid!()), { ok: true });
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.equal(await processFacts(child.pid!), undefined);
});

test('Stop of a re-attached launch naming a foreign pid does not signal it', { skip }, async () => {
  // A foreign process that mentions rpo_trainer (so the liveness check takes it for a trainer),
  // e.g. `tail -f rpo_trainer.log`; a forged launch.json names it with a trainer command line.
  const marker = path.join(tmp, 'foreign-sigint');
  const foreign = await spawnNode(marker, ['rpo_trainer']);
  const file = writeLaunch({ pid: foreign.child.pid!, argv: ['python', ...TRAINER_ARGS], startedAt: foreign.startedAt });
  const proc = TrainerProcess.attach(file, 50);
  assert.ok(proc, 'attached (the liveness check alone accepts it)');
  await assert.rejects(proc.stop(1000), (err: unknown) => err instanceof StopRefusedError && /another command line/.test((err as Error).message));
  // a record with the trainer's arguments after the foreign command, or with the foreign command
  // itself (not a trainer launch): refused too
  const file2 = writeLaunch({ pid: foreign.child.pid!, argv: foreign.argv.concat(TRAINER_ARGS), startedAt: foreign.startedAt });
  await assert.rejects(TrainerProcess.attach(file2, 50)!.stop(1000), StopRefusedError);
  const file3 = writeLaunch({ pid: foreign.child.pid!, argv: foreign.argv, startedAt: new Date(Date.now() - 3600_000).toISOString() });
  await assert.rejects(TrainerProcess.attach(file3, 50)!.stop(1000), /not an RPO trainer launch/);
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(alive(foreign.child), 'the foreign process is still running');
  assert.ok(!fs.existsSync(marker), 'the foreign process got no SIGINT');
  for (const p of [proc]) p.detach();
});

test('Stop of a re-attached launch whose pid is the recorded trainer signals it', { skip }, async () => {
  const marker = path.join(tmp, 'trainer-sigint');
  const trainer = await spawnNode(marker, TRAINER_ARGS);
  const file = writeLaunch({ pid: trainer.child.pid!, argv: trainer.argv, startedAt: trainer.startedAt });
  const proc = TrainerProcess.attach(file, 50)!;
  // a forged start time an hour later is refused first
  const forged = writeLaunch({ pid: trainer.child.pid!, argv: trainer.argv, startedAt: new Date(Date.now() + 3600_000).toISOString() });
  await assert.rejects(TrainerProcess.attach(forged, 50)!.stop(1000), (err: unknown) => err instanceof StopRefusedError && /started at/.test((err as Error).message));
  assert.ok(!fs.existsSync(marker));
  await proc.stop(5000);
  assert.equal(fs.readFileSync(marker, 'utf8'), 'SIGINT');
});

test('a process.json naming a foreign pid (a sleep) is not the trainer', { skip }, async () => {
  const sleep = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  children.push(sleep);
  await new Promise((r) => sleep.once('spawn', r));
  const record = { pid: sleep.pid!, hostname: os.hostname(), startedAt: new Date().toISOString(), argv: ['python', ...TRAINER_ARGS] };
  const check = await verifyTrainer(record);
  assert.equal(check.ok, false);
  assert.match((check as { reason: string }).reason, /another command line/);
  assert.equal((await verifyTrainer({ ...record, hostname: 'elsewhere' })).ok, false);
  assert.ok(alive(sleep));
});

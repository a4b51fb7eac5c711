import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { checkTrainer, type ProcessFacts, type RecordedTrainer, type TrainerCheck } from '../../core/run/trainerIdentity';

/**
 * The facts checkTrainer compares, read from the OS: Linux from /proc (start time in clock ticks
 * since boot plus the boot time), macOS and the BSDs from `ps -o lstart=,uid=,command=`, Windows
 * from Win32_Process through PowerShell. Undefined when no such process exists; throws
 * UnverifiableError when the platform gives no answer (then nothing is signalled).
 */

export class UnverifiableError extends Error {}

/** A Stop that was not sent: the pid is not the recorded trainer (or could not be checked). */
export class StopRefusedError extends Error {
  constructor(readonly pid: number, readonly reason: string) {
    super(`not stopping pid ${pid}: ${reason}`);
  }
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim()) || 100;
    } catch {
      clockTicks = 100; // USER_HZ on every Linux architecture in use
    }
  }
  return clockTicks;
}

function linuxFacts(pid: number): ProcessFacts | undefined {
  let stat: string;
  let cmdline: string;
  let status: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw new UnverifiableError(`cannot read /proc/${pid}: ${(err as Error).message}`);
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses; starttime is field 22.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z') return undefined; // exited, not yet collected
  const startTicks = Number(fields[19]);
  const btime = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
  if (!btime || !Number.isFinite(startTicks)) throw new UnverifiableError(`cannot read the start time of pid ${pid}`);
  const uid = /^Uid:\s+(\d+)/m.exec(status);
  return {
    pid,
    startedAtMs: Number(btime[1]) * 1000 + (startTicks / ticksPerSecond()) * 1000,
    argv: cmdline.split('\0').slice(0, cmdline.endsWith('\0') ? -1 : undefined),
    uid: uid ? Number(uid[1]) : undefined,
  };
}

function run(command: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { encoding: 'utf8', timeout: 10_000, windowsHide: true, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout) => {
      // ps exits 1 when the pid does not exist: an empty answer.
      resolve(err && !stdout ? ((err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : '') : stdout);
    });
  });
}

/** macOS and the BSDs (exported: it runs on Linux too, where tests compare it with /proc). */
export async function psFacts(pid: number): Promise<ProcessFacts | undefined> {
  const out = await run('ps', ['-o', 'lstart=,uid=,command=', '-p', String(pid)]);
  if (out === undefined) throw new UnverifiableError('ps is not available');
  const m = /^\s*(\w{3} \w{3}\s+\d{1,2} \d\d:\d\d:\d\d \d{4})\s+(\d+)\s+(.*)$/m.exec(out);
  if (!m) return undefined;
  const startedAtMs = Date.parse(m[1]!.replace(/\s+/g, ' ')); // local time, as ps prints it
  if (!Number.isFinite(startedAtMs)) throw new UnverifiableError(`cannot read the start time of pid ${pid} from ps (${m[1]})`);
  return { pid, startedAtMs, uid: Number(m[2]), commandLine: m[3]! };
}

async function windowsFacts(pid: number): Promise<ProcessFacts | undefined> {
  const script = `$p = Get-CimInstance Win32_Process -Filter 'ProcessId=${pid}'; if ($p) { $p.CreationDate.ToUniversalTime().ToString('o'); $p.CommandLine }`;
  const out = await run('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', script]);
  if (out === undefined) throw new UnverifiableError('PowerShell is not available to check the process');
  const [created, ...command] = out.split(/\r?\n/);
  if (!created?.trim()) return undefined;
  const startedAtMs = Date.parse(created.trim());
  if (!Number.isFinite(startedAtMs)) throw new UnverifiableError(`cannot read the start time of pid ${pid} (${created})`);
  return { pid, startedAtMs, commandLine: command.join(' ').trim() };
}

/** What the OS says about `pid` now (undefined: no such process). */
export async function processFacts(pid: number): Promise<ProcessFacts | undefined> {
  if (process.platform === 'linux') return linuxFacts(pid);
  if (process.platform === 'win32') return windowsFacts(pid);
  return psFacts(pid);
}

/** Checks that the recorded trainer is the process running under its pid on this machine. */
export async function verifyTrainer(record: RecordedTrainer & { hostname?: string }): Promise<TrainerCheck> {
  if (record.hostname !== undefined && record.hostname !== os.hostname()) return { ok: false, reason: `it was started on another machine (${record.hostname})` };
  let facts: ProcessFacts | undefined;
  try {
    facts = await processFacts(record.pid);
  } catch (err) {
    return { ok: false, reason: `cannot check that it is the trainer: ${(err as Error).message}` };
  }
  return checkTrainer(record, facts, process.getuid?.());
}

/** Throws StopRefusedError unless the recorded trainer is the process behind its pid. */
export async function refuseUnlessTrainer(record: RecordedTrainer & { hostname?: string }): Promise<void> {
  const check = await verifyTrainer(record);
  if (!check.ok) throw new StopRefusedError(record.pid, check.reason);
}

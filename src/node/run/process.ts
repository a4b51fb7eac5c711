import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../atomicFile';
import { parseEventLine, type TrainerEvent, tooLongMessage } from '../../core/run/events';
import { FINAL_STATUSES, type RunState, applyEvent, initialRunState, markProcessGone } from '../../core/run/state';
import { refuseUnlessTrainer } from './processInfo';
import { EVENTS_FILE, EventFileFollower, type ProcessRecord, isTrainerAlive, readProcessRecord, readTail, writeProcessRecord } from './store';

/**
 * One trainer process, started here or re-attached after a window reload.
 *
 * The process runs detached in its own process group with stdout and stderr written to capture
 * files in `<runs dir>/.launches/<id>/`, never to pipes: it does not depend on the process that
 * started it (a reloaded VS Code window or a closed terminal does not kill it with SIGPIPE), and
 * whoever comes later can read the whole stream again. `launch.json` in that folder and
 * `process.json` in the run folder (once the trainer announces it) name the pid.
 */

export const LAUNCHES_DIR = '.launches';

/** The entries of a runs folder's launch folder (none when it does not exist). */
function launchNames(runsDir: string): string[] {
  try {
    return fs.readdirSync(path.join(runsDir, LAUNCHES_DIR));
  } catch {
    return [];
  }
}

export interface LaunchRecord extends ProcessRecord {
  id: string;
  configPath: string | null;
  /** The run folder, once the trainer's `start` event named it. */
  runDir: string | null;
  /** The run folder this launch resumes, if any. */
  resumeRunDir: string | null;
  stdoutPath: string;
  stderrPath: string;
}

export interface TrainerProcessListener {
  event?(event: TrainerEvent, state: RunState): void;
  malformed?(line: string, error: string): void;
  stderr?(line: string): void;
  /** The process is gone; `state` is final (completed, stopped or failed). */
  exit?(state: RunState): void;
}

export interface StartOptions {
  argv: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Folder holding the run folders (the config's output_dir): launches are recorded under it. */
  runsDir: string;
  configPath?: string;
  resumeRunDir?: string;
  /** Poll interval of the capture files. */
  pollMs?: number;
}

const STDERR_TAIL_BYTES = 4096;

/**
 * The runs folder (the config's output_dir) cannot hold the launch: it, or a folder on its path,
 * is a file, or it is not writable. Raised before any process starts; the message names the
 * folder and the cause, `runsDir` is the folder.
 */
export class RunsFolderError extends Error {
  constructor(
    readonly runsDir: string,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(`cannot write the runs folder ${runsDir}: ${detail}`);
    this.name = 'RunsFolderError';
  }
}

/** Why a runs folder cannot be written, in words, from the error of the failed mkdir/open. */
export function runsFolderProblem(runsDir: string, err: NodeJS.ErrnoException): RunsFolderError {
  const code = err.code;
  const detail =
    code === 'ENOTDIR' || code === 'EEXIST'
      ? 'it, or a folder on its path, is a file, not a folder'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied (the folder is not writable)'
        : code === 'EROFS'
          ? 'it is on a read-only file system'
          : code === 'ENOSPC'
            ? 'the disk is full'
            : err.message;
  return new RunsFolderError(runsDir, code, detail);
}

/** What to do about a RunsFolderError: where the folder comes from and how to change it. */
export function runsFolderFix(err: RunsFolderError, configPath: string | undefined): string {
  return configPath
    ? `Set "output_dir" in ${configPath} to a folder you can write (a relative path is resolved against the config's folder), or fix ${err.runsDir}.`
    : `A resumed run writes next to its run folder: make ${err.runsDir} a writable folder.`;
}

/** The executable (argv[0]) could not be started (no such file, not executable). */
export class TrainerSpawnError extends Error {
  constructor(
    readonly executable: string,
    override readonly cause: Error,
  ) {
    super(cause.message);
    this.name = 'TrainerSpawnError';
  }
}

export class TrainerProcess {
  readonly state: RunState = initialRunState();
  private readonly listeners = new Set<TrainerProcessListener>();
  private stdout: EventFileFollower | undefined;
  private stderr: EventFileFollower | undefined;
  private child: ChildProcess | undefined;
  private livenessTimer: NodeJS.Timeout | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private exited = false;
  /** This launch's own `start` event was seen (a resumed run's file has earlier ones). */
  private launchStarted = false;
  private readonly exitWaiters: (() => void)[] = [];

  private constructor(
    readonly launch: LaunchRecord,
    private readonly launchFile: string,
  ) {}

  get pid(): number {
    return this.launch.pid;
  }

  get running(): boolean {
    return !this.exited;
  }

  /**
   * Starts the trainer. Rejects with a RunsFolderError when the runs folder cannot hold the launch
   * (nothing is started), with a TrainerSpawnError when the executable cannot be started.
   */
  static async start(options: StartOptions): Promise<TrainerProcess> {
    const id = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`;
    const dir = path.join(options.runsDir, LAUNCHES_DIR, id);
    const stdoutPath = path.join(dir, 'stdout.jsonl');
    const stderrPath = path.join(dir, 'stderr.log');
    let out: number | undefined;
    let err: number;
    let made = false;
    try {
      fs.mkdirSync(dir, { recursive: true });
      made = true;
      out = fs.openSync(stdoutPath, 'a');
      err = fs.openSync(stderrPath, 'a');
    } catch (error) {
      if (out !== undefined) fs.closeSync(out);
      if (made) fs.rmSync(dir, { recursive: true, force: true });
      throw runsFolderProblem(options.runsDir, error as NodeJS.ErrnoException);
    }
    let child: ChildProcess;
    try {
      child = spawn(options.argv[0], options.argv.slice(1), {
        cwd: options.cwd,
        env: options.env,
        detached: true,
        stdio: ['ignore', out, err],
        windowsHide: true,
      });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } catch (error) {
      // Nothing started: leave no launch folder behind.
      fs.closeSync(out);
      fs.closeSync(err);
      retireLaunch(dir);
      throw new TrainerSpawnError(options.argv[0], error as Error);
    }
    fs.closeSync(out);
    fs.closeSync(err);
    // The run must outlive this process (window reload): do not keep the event loop alive for it.
    child.unref();
    const launch: LaunchRecord = {
      id,
      pid: child.pid!,
      hostname: os.hostname(),
      startedAt: new Date().toISOString(),
      argv: options.argv,
      configPath: options.configPath ?? null,
      // A resumed run's folder is known from the start (a second Resume finds it running).
      runDir: options.resumeRunDir ?? null,
      resumeRunDir: options.resumeRunDir ?? null,
      stdoutPath,
      stderrPath,
    };
    const proc = new TrainerProcess(launch, path.join(dir, 'launch.json'));
    proc.saveLaunch();
    proc.child = child;
    child.once('exit', (code, signal) => {
      proc.finish(signal ? `the trainer was killed by ${signal}` : `the trainer exited with code ${code} without an end event`);
    });
    proc.follow(options.pollMs ?? 200);
    return proc;
  }

  /**
   * Re-attaches to a launch recorded by an earlier window whose process still runs: replays its
   * stdout capture from the beginning, then follows it and polls the pid until it exits.
   */
  static attach(launchFile: string, pollMs = 250): TrainerProcess | undefined {
    let launch: LaunchRecord;
    try {
      launch = JSON.parse(fs.readFileSync(launchFile, 'utf8')) as LaunchRecord;
    } catch {
      return undefined;
    }
    if (launch.hostname !== os.hostname() || !isTrainerAlive(launch.pid)) return undefined;
    const proc = new TrainerProcess(launch, launchFile);
    proc.follow(pollMs);
    proc.livenessTimer = setInterval(() => {
      if (!isTrainerAlive(launch.pid)) proc.finish(`the trainer process (pid ${launch.pid}) ended without an end event`);
    }, 1000);
    return proc;
  }

  /** Launch records under a runs folder whose process is alive on this machine. */
  static liveLaunches(runsDir: string): string[] {
    const dir = path.join(runsDir, LAUNCHES_DIR);
    const files: string[] = [];
    for (const name of launchNames(runsDir)) {
      const file = path.join(dir, name, 'launch.json');
      try {
        const launch = JSON.parse(fs.readFileSync(file, 'utf8')) as LaunchRecord;
        if (launch.hostname === os.hostname() && isTrainerAlive(launch.pid)) files.push(file);
      } catch {
        // not a launch folder
      }
    }
    return files;
  }

  onDidChange(listener: TrainerProcessListener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /**
   * Graceful stop: SIGINT to the trainer (every rank of an accelerate launch, see
   * interruptTrainer), so it finishes its step, saves a resumable checkpoint and ends with status
   * `stopped`. After `graceMs` without exit the trainer is killed (killTrainer).
   */
  async stop(graceMs: number): Promise<void> {
    if (this.exited) return;
    // Re-attached from launch.json, a workspace file: its pid is signalled only when it is that
    // trainer (command line, start time, owner); else StopRefusedError. Our own child: at once.
    if (!this.child) await refuseUnlessTrainer(this.launch);
    if (this.exited) return;
    if (!FINAL_STATUSES.has(this.state.status)) this.state.status = 'stopping';
    interruptTrainer(this.pid, this.launch.argv);
    if (!this.killTimer) this.killTimer = setTimeout(() => this.kill(), graceMs);
    return this.whenExited();
  }

  /** Immediate SIGKILL of the process group. */
  kill(): void {
    if (!this.exited) killTrainer(this.pid, this.launch.argv);
  }

  whenExited(): Promise<void> {
    return this.exited ? Promise.resolve() : new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  /** Stops following (the process keeps running): extension deactivation with runs kept alive. */
  detach(): void {
    this.stdout?.stop();
    this.stderr?.stop();
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    if (this.killTimer) clearTimeout(this.killTimer);
    this.child?.removeAllListeners('exit');
    this.listeners.clear();
  }

  /** The end of stderr: the capture, or the run folder's stderr.log once the launch was retired. */
  stderrTail(): string | undefined {
    const runDir = this.launch.runDir ?? this.state.runDir;
    return readTail(this.launch.stderrPath, STDERR_TAIL_BYTES) ?? (runDir ? readTail(path.join(runDir, RUN_STDERR_FILE), STDERR_TAIL_BYTES) : undefined);
  }

  /**
   * A resumed run is followed through its run folder's events.jsonl, which holds the launches
   * before this one too (so the dashboard keeps the whole history); a new run through its stdout
   * capture (the run folder is not known before the `start` event).
   */
  private eventsPath(): string {
    return this.launch.resumeRunDir ? path.join(this.launch.resumeRunDir, EVENTS_FILE) : this.launch.stdoutPath;
  }

  private follow(pollMs: number): void {
    if (this.launch.resumeRunDir) this.state.runDir = this.launch.resumeRunDir;
    this.stdout = new EventFileFollower(this.eventsPath(), {
      line: (line) => this.onStdoutLine(line),
      tooLong: (length, head) => this.onMalformed(head, tooLongMessage(length)),
    }, pollMs);
    const stderrLine = (line: string) => {
      for (const l of this.listeners) l.stderr?.(line);
    };
    this.stderr = new EventFileFollower(this.launch.stderrPath, {
      line: stderrLine,
      tooLong: (length, head) => stderrLine(`[rpo] ${tooLongMessage(length)}; it began: ${head}`),
    }, pollMs);
    this.stdout.start();
    this.stderr.start();
  }

  private onStdoutLine(line: string): void {
    const parsed = parseEventLine(line);
    if (parsed.kind === 'ignored') return;
    if (parsed.kind === 'malformed') return this.onMalformed(line, parsed.error);
    const event = parsed.event;
    const wasStopping = this.state.status === 'stopping';
    applyEvent(this.state, event);
    if (wasStopping && !FINAL_STATUSES.has(this.state.status)) this.state.status = 'stopping';
    // This launch's own start (a resumed run's events file also holds the earlier launches').
    if (event.type === 'start' && event.time >= this.launch.startedAt && !this.launchStarted) {
      this.launchStarted = true;
      this.launch.runDir = event.run_dir;
      this.saveLaunch();
      try {
        writeProcessRecord(event.run_dir, {
          pid: this.pid,
          hostname: this.launch.hostname,
          startedAt: this.launch.startedAt,
          argv: this.launch.argv,
          stdoutPath: this.launch.stdoutPath,
          stderrPath: this.launch.stderrPath,
        });
      } catch {
        // The run folder is the trainer's; without a record it is still listed from its events.
      }
    }
    for (const l of this.listeners) l.event?.(event, this.state);
  }

  private onMalformed(line: string, error: string): void {
    this.state.malformedLines++;
    for (const l of this.listeners) l.malformed?.(line, error);
  }

  private finish(reason: string): void {
    if (this.exited) return;
    this.exited = true;
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    if (this.killTimer) clearTimeout(this.killTimer);
    // The last lines may have been written just before exit.
    this.stdout?.stop();
    this.stderr?.stop();
    if (this.launch.resumeRunDir) this.applyEarlyError();
    else if (!FINAL_STATUSES.has(this.state.status)) this.applyEndFromRunFolder();
    if (!FINAL_STATUSES.has(this.state.status) || this.state.status === 'failed') {
      markProcessGone(this.state, reason, this.stderrTail());
    }
    for (const l of this.listeners) l.exit?.(this.state);
    // The capture files have served their purpose: stderr moves to the run folder, the launch
    // folder goes (see retireLaunch). Never let cleanup break the exit notification.
    try {
      retireLaunch(path.dirname(this.launchFile));
    } catch {
      // pruned at the next activation
    }
    for (const w of this.exitWaiters.splice(0)) w();
  }

  /**
   * Another follower of the same launch (a second window) may have retired it first, taking the
   * stdout capture away before our last read: the run folder's events.jsonl has the same events.
   */
  private applyEndFromRunFolder(): void {
    if (fs.existsSync(this.launch.stdoutPath) || !this.state.runDir) return;
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.state.runDir, EVENTS_FILE), 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      const parsed = parseEventLine(line);
      if (parsed.kind === 'event' && (parsed.event.type === 'error' || parsed.event.type === 'end') && parsed.event.time >= this.launch.startedAt) {
        applyEvent(this.state, parsed.event);
        for (const l of this.listeners) l.event?.(parsed.event, this.state);
      }
    }
  }

  /**
   * A resume that fails before the trainer opens the run folder's events file (a bad checkpoint,
   * a config error) reports it on stdout only: take its error and end from the capture.
   */
  private applyEarlyError(): void {
    if (this.launchStarted) return;
    let text: string;
    try {
      text = fs.readFileSync(this.launch.stdoutPath, 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      const parsed = parseEventLine(line);
      if (parsed.kind === 'event' && (parsed.event.type === 'error' || parsed.event.type === 'end')) {
        applyEvent(this.state, parsed.event);
        for (const l of this.listeners) l.event?.(parsed.event, this.state);
      }
    }
  }

  private saveLaunch(): void {
    writeFileAtomicSync(this.launchFile, JSON.stringify(this.launch, null, 2) + '\n');
  }
}


/** The trainer's stderr of every launch of a run, kept in the run folder once the launch ends. */
export const RUN_STDERR_FILE = 'stderr.log';
/** A dead launch is pruned only when its files have not changed for this long (its launcher may still be finishing). */
export const PRUNE_IDLE_MS = 2 * 60_000;

/** The run folder a launch record names, if it is really a folder directly inside the runs folder. */
function launchRunDir(launch: Partial<LaunchRecord> | undefined, runsDir: string): string | undefined {
  const runDir = launch?.runDir;
  if (typeof runDir !== 'string' || !runDir) return undefined;
  // A launch record is a workspace file: it must not make us write anywhere else. Real paths:
  // the trainer reports its run folder with symbolic links resolved.
  try {
    const resolved = path.resolve(runDir);
    if (!fs.lstatSync(resolved).isDirectory() || path.basename(resolved) === LAUNCHES_DIR) return undefined;
    return path.dirname(fs.realpathSync(resolved)) === fs.realpathSync(runsDir) ? resolved : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Lifecycle of a launch folder `<runs>/.launches/<id>/` (stdout/stderr captures and launch.json):
 * it exists while its trainer runs. When the trainer has exited, whoever saw it exit (the window
 * or `rpo train` that started it, a window that re-attached, or `pruneLaunches` at the next
 * activation) retires it: its stderr is appended to the run folder's `stderr.log` (one header
 * per launch), the run folder's `process.json` is pointed at that file, and the launch folder is
 * removed (the events are all in the run folder's events.jsonl). A launch that never named a run
 * folder (it failed before its `start` event) leaves nothing behind. Idempotent; safe when
 * another follower retires the same launch at the same time.
 */
export function retireLaunch(launchDir: string): void {
  const runsDir = path.dirname(path.dirname(launchDir));
  let launch: Partial<LaunchRecord> | undefined;
  try {
    launch = JSON.parse(fs.readFileSync(path.join(launchDir, 'launch.json'), 'utf8')) as Partial<LaunchRecord>;
  } catch {
    launch = undefined;
  }
  const runDir = launchRunDir(launch, runsDir);
  const stderrCapture = path.join(launchDir, 'stderr.log');
  if (runDir) {
    // Claim the capture first with a rename: of two followers retiring at once, one copies it.
    const claimed = `${stderrCapture}.${process.pid}-${randomBytes(3).toString('hex')}.retiring`;
    let text: string | undefined;
    try {
      fs.renameSync(stderrCapture, claimed);
      text = fs.readFileSync(claimed, 'utf8');
    } catch {
      text = undefined;
    }
    const target = path.join(runDir, RUN_STDERR_FILE);
    if (text) {
      const header = `==> launch ${launch?.id ?? path.basename(launchDir)} (pid ${launch?.pid ?? '?'}, started ${launch?.startedAt ?? '?'}) <==\n`;
      fs.appendFileSync(target, header + text + (text.endsWith('\n') ? '' : '\n'));
    }
    const record = readProcessRecord(runDir);
    if (record && record.pid === launch?.pid && (record.stdoutPath || record.stderrPath !== target)) {
      const { stdoutPath: _gone, ...rest } = record;
      writeProcessRecord(runDir, { ...rest, ...(fs.existsSync(target) ? { stderrPath: target } : { stderrPath: undefined }) });
    }
  }
  fs.rmSync(launchDir, { recursive: true, force: true });
  try {
    fs.rmdirSync(path.dirname(launchDir)); // .launches, when it was the last one
  } catch {
    // other launches remain
  }
}

/**
 * Activation-time cleanup of launch folders left by trainers that ended while no window followed
 * them (window closed, VS Code quit, crash): those whose process is gone on this machine and whose
 * files have not changed for `idleMs`, and folders without a readable launch.json as old as that.
 * Launches recorded on another host (a shared folder) are left alone. Returns the ids removed.
 */
export function pruneLaunches(runsDir: string, options: { now?: number; idleMs?: number } = {}): string[] {
  const now = options.now ?? Date.now();
  const idleMs = options.idleMs ?? PRUNE_IDLE_MS;
  const dir = path.join(runsDir, LAUNCHES_DIR);
  const removed: string[] = [];
  for (const name of launchNames(runsDir)) {
    const launchDir = path.join(dir, name);
    let newest = 0;
    try {
      if (!fs.lstatSync(launchDir).isDirectory()) continue;
      newest = fs.statSync(launchDir).mtimeMs;
      for (const f of fs.readdirSync(launchDir)) newest = Math.max(newest, fs.statSync(path.join(launchDir, f)).mtimeMs);
    } catch {
      continue;
    }
    if (now - newest < idleMs) continue;
    let launch: Partial<LaunchRecord> | undefined;
    try {
      launch = JSON.parse(fs.readFileSync(path.join(launchDir, 'launch.json'), 'utf8')) as Partial<LaunchRecord>;
    } catch {
      launch = undefined;
    }
    if (launch) {
      if (launch.hostname !== os.hostname()) continue;
      if (typeof launch.pid === 'number' && isTrainerAlive(launch.pid)) continue;
    }
    try {
      retireLaunch(launchDir);
      removed.push(name);
    } catch {
      // left for the next time
    }
  }
  return removed;
}

/** The direct children of `pid` (Linux /proc), e.g. the rank workers under accelerate's launcher. */
export function childProcesses(pid: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === pid) children.push(Number(name));
  }
  return children;
}

/**
 * The rank workers of a multi-process launch: `accelerate launch` runs torch's elastic agent,
 * which starts one worker per rank, each in a NEW session (so signals to the launcher's process
 * group do not reach them). Empty for a one-process run or where /proc is missing.
 */
export function trainerWorkers(pid: number, argv: readonly string[]): number[] {
  return argv.includes('accelerate.commands.launch') ? childProcesses(pid) : [];
}

function kill(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch {
    // already gone
  }
}

/**
 * Asks a trainer to stop gracefully. One process: SIGINT to its process group. Several processes:
 * SIGINT to each rank worker directly, not to the agent, which treats SIGINT as fatal: it would
 * pass it on and SIGKILL the workers 30 s later, cutting a long checkpoint short. Left alone, the
 * agent exits when the workers have saved their checkpoint and ended.
 */
export function interruptTrainer(pid: number, argv: readonly string[]): void {
  const workers = trainerWorkers(pid, argv);
  if (workers.length) for (const w of workers) kill(w, 'SIGINT');
  else kill(process.platform === 'win32' ? pid : -pid, 'SIGINT');
}

/** SIGKILL to the trainer's process group and to each rank worker's own group (new sessions). */
export function killTrainer(pid: number, argv: readonly string[]): void {
  if (process.platform === 'win32') return kill(pid, 'SIGKILL');
  for (const w of trainerWorkers(pid, argv)) {
    kill(-w, 'SIGKILL');
    kill(w, 'SIGKILL');
  }
  kill(-pid, 'SIGKILL');
}

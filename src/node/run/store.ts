import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../atomicFile';
import { type LineSink, LineSplitter, MAX_LINE_LENGTH, parseEventLine, type TrainerEvent } from '../../core/run/events';
import { FINAL_STATUSES, type RunState, type RunStatus, applyEvent, initialRunState, markProcessGone } from '../../core/run/state';

/**
 * Run folders on disk: `<workspace>/.rpo/runs/<name>-<timestamp>/` written by the trainer
 * (`events.jsonl`, resolved config, checkpoints, final model). Next to the trainer's files the
 * launcher (extension or `rpo train`) writes `process.json`: which process runs it and where its
 * stdout/stderr captures are, so a reloaded window can re-attach and a dead run is recognised.
 */

export const EVENTS_FILE = 'events.jsonl';
export const PROCESS_FILE = 'process.json';
/** A run without a process record and without events for this long is considered dead. */
export const STALE_AFTER_MS = 15 * 60_000;

export interface ProcessRecord {
  pid: number;
  hostname: string;
  startedAt: string;
  argv: string[];
  /** File receiving the trainer's stdout (the event stream), when the launcher captured it. */
  stdoutPath?: string;
  /** File receiving the trainer's stderr. */
  stderrPath?: string;
}

export interface MalformedLine {
  line: number;
  error: string;
}

export interface EventsFile {
  events: TrainerEvent[];
  malformed: MalformedLine[];
}

/** Parses a whole events file; malformed lines are returned (with 1-based line numbers), not thrown. */
export function parseEventsText(text: string): EventsFile {
  const events: TrainerEvent[] = [];
  const malformed: MalformedLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const parsed = parseEventLine(lines[i]);
    if (parsed.kind === 'event') events.push(parsed.event);
    else if (parsed.kind === 'malformed') {
      // A torn last line of a live file is not an error: it is still being written.
      if (i === lines.length - 1) continue;
      malformed.push({ line: i + 1, error: parsed.error });
    }
  }
  return { events, malformed };
}

export function readEventsFile(file: string): EventsFile {
  return parseEventsText(fs.readFileSync(file, 'utf8'));
}

export function readProcessRecord(runDir: string): ProcessRecord | undefined {
  try {
    const value = JSON.parse(fs.readFileSync(path.join(runDir, PROCESS_FILE), 'utf8')) as ProcessRecord;
    return typeof value.pid === 'number' ? value : undefined;
  } catch {
    return undefined;
  }
}

export function writeProcessRecord(runDir: string, record: ProcessRecord): void {
  writeFileAtomicSync(path.join(runDir, PROCESS_FILE), JSON.stringify(record, null, 2) + '\n');
}

/**
 * Is this process alive and still a trainer? Signal 0 checks existence; on Linux the command line
 * is compared too, so a recycled pid is not mistaken for the run.
 */
export function isTrainerAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline.length && !/rpo_trainer|accelerate/.test(cmdline)) return false;
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // A zombie has exited; its parent has not collected it yet.
    if (/\) Z /.test(stat)) return false;
  } catch {
    // No /proc (macOS, Windows): existence is all we can know.
  }
  return true;
}

/** The last `maxBytes` of a text file (whole lines), or undefined when it cannot be read. */
export function readTail(file: string, maxBytes = 4096): string | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, size - length);
    let text = buf.toString('utf8');
    if (length < size) text = text.slice(text.indexOf('\n') + 1);
    return text.trimEnd();
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export interface LoadedRun {
  runDir: string;
  state: RunState;
  process?: ProcessRecord;
  /** The process is alive on this machine (the run can be followed and stopped). */
  live: boolean;
  malformed: MalformedLine[];
}

/**
 * Decides whether a run whose events have no end is still running. Marks it failed when its
 * process is gone (with the end of its stderr), or when nothing names a process and the events
 * have been silent for STALE_AFTER_MS.
 */
export function settleLiveness(runDir: string, state: RunState, now = Date.now()): { process?: ProcessRecord; live: boolean } {
  const record = readProcessRecord(runDir);
  if (FINAL_STATUSES.has(state.status)) return { process: record, live: false };
  const pid = record?.pid ?? state.start?.pid;
  if (record && record.hostname !== os.hostname()) {
    // Started on another machine sharing this folder: trust the events.
    return { process: record, live: false };
  }
  if (pid !== undefined) {
    if (isTrainerAlive(pid)) return { process: record, live: true };
    const tail = record?.stderrPath ? readTail(record.stderrPath, 2048) : undefined;
    markProcessGone(state, `the trainer process (pid ${pid}) ended without an end event`, tail);
    return { process: record, live: false };
  }
  let mtime = 0;
  try {
    mtime = fs.statSync(path.join(runDir, EVENTS_FILE)).mtimeMs;
  } catch {
    // no events file
  }
  if (now - mtime > STALE_AFTER_MS) {
    markProcessGone(state, `no events for ${Math.round((now - mtime) / 60_000)} minutes and no end event`);
  }
  return { process: record, live: false };
}

/** Reads every event of a run folder and reduces them (finished runs reopen from this). */
export function loadRun(runDir: string): LoadedRun {
  const file = path.join(runDir, EVENTS_FILE);
  const { events, malformed } = fs.existsSync(file) ? readEventsFile(file) : { events: [], malformed: [] };
  const state = initialRunState();
  state.runDir = runDir;
  for (const e of events) applyEvent(state, e);
  state.malformedLines = malformed.length;
  const { process: record, live } = settleLiveness(runDir, state);
  return { runDir, state, process: record, live, malformed };
}

export interface RunSummary {
  runDir: string;
  name: string;
  status: RunStatus;
  live: boolean;
  step: number;
  totalSteps: number;
  method: string | null;
  model: string | null;
  dataset: string | null;
  startedAt: string | null;
  lastEventAt: string | null;
  loss: number | null;
  elapsedSeconds: number;
  failure: string | null;
}

const SUMMARY_WINDOW = 256 * 1024;

/**
 * A run's summary from the head (its first `start`) and the tail (latest progress, end or error)
 * of its events file, so listing many long runs stays fast.
 */
export function summarizeRun(runDir: string): RunSummary | undefined {
  const file = path.join(runDir, EVENTS_FILE);
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return undefined;
  }
  const state = initialRunState();
  state.runDir = runDir;
  if (size <= 2 * SUMMARY_WINDOW) {
    for (const e of readEventsFile(file).events) applyEvent(state, e);
  } else {
    const fd = fs.openSync(file, 'r');
    try {
      const head = Buffer.alloc(SUMMARY_WINDOW);
      fs.readSync(fd, head, 0, SUMMARY_WINDOW, 0);
      const firstStart = parseEventsText(head.toString('utf8')).events.find((e) => e.type === 'start');
      if (firstStart) applyEvent(state, firstStart);
      const tail = Buffer.alloc(SUMMARY_WINDOW);
      fs.readSync(fd, tail, 0, SUMMARY_WINDOW, size - SUMMARY_WINDOW);
      const text = tail.toString('utf8');
      for (const e of parseEventsText(text.slice(text.indexOf('\n') + 1)).events) applyEvent(state, e);
    } finally {
      fs.closeSync(fd);
    }
  }
  const { live } = settleLiveness(runDir, state);
  const config = state.start?.config ?? {};
  return {
    runDir,
    name: path.basename(runDir),
    status: state.status,
    live,
    step: state.step,
    totalSteps: state.totalSteps,
    method: typeof config.method === 'string' ? config.method : null,
    model: state.start?.model.name_or_path ?? null,
    dataset: state.start?.dataset.path ?? null,
    startedAt: state.startedAt,
    lastEventAt: state.lastEventAt,
    loss: state.lastMetrics?.loss ?? null,
    elapsedSeconds: state.elapsedSeconds,
    failure: state.failure?.reason ?? null,
  };
}

/** Every run folder (a folder with an events file) under `runsDir`, newest first. */
export function listRuns(runsDir: string): RunSummary[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(runsDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const runs: RunSummary[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const summary = summarizeRun(path.join(runsDir, entry.name));
    if (summary) runs.push(summary);
  }
  return runs.sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? '') || b.name.localeCompare(a.name));
}

/**
 * Follows a growing file of event lines (a live run's stdout capture or events.jsonl) by polling:
 * works for files written by a process this one did not start, on every OS and file system.
 * One `poll` reads at most `POLL_BUDGET_BYTES`; a started follower continues a longer backlog
 * (a capture replayed after a window reload) on the next turns of the event loop, so a large
 * file never holds the extension host for long. `drain` reads everything at once (the CLI, and
 * the last read at `stop`).
 */
export class EventFileFollower {
  static readonly POLL_BUDGET_BYTES = 4 * 1024 * 1024;
  private offset = 0;
  private timer: NodeJS.Timeout | undefined;
  private continuation: NodeJS.Immediate | undefined;
  private readonly splitter: LineSplitter;
  private readonly decoder = new TextDecoder('utf-8');
  private buffer: Buffer | undefined;

  constructor(
    private readonly file: string,
    sink: LineSink,
    private readonly intervalMs = 250,
    maxLineLength = MAX_LINE_LENGTH,
  ) {
    this.splitter = new LineSplitter(sink, maxLineLength);
  }

  start(): void {
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    this.poll();
  }

  /**
   * Reads what was appended since the last read, up to `budget` bytes; returns the number of
   * bytes read. When the budget ran out and the follower is started, the rest follows on the
   * next turn of the event loop.
   */
  poll(budget = EventFileFollower.POLL_BUDGET_BYTES): number {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch {
      return 0;
    }
    let total = 0;
    let more = false;
    try {
      const buf = (this.buffer ??= Buffer.allocUnsafe(1 << 16));
      for (;;) {
        if (total >= budget) {
          more = true;
          break;
        }
        const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        total += n;
        this.splitter.push(this.decoder.decode(buf.subarray(0, n), { stream: true }));
      }
    } finally {
      fs.closeSync(fd);
    }
    if (more && this.timer && !this.continuation) {
      this.continuation = setImmediate(() => {
        this.continuation = undefined;
        if (this.timer) this.poll();
      });
    }
    return total;
  }

  /** Reads everything appended since the last read (blocking); returns the number of bytes read. */
  drain(): number {
    return this.poll(Infinity);
  }

  /** Stops polling after a final read; a last line without a newline is delivered too. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.continuation) clearImmediate(this.continuation);
    this.continuation = undefined;
    this.drain();
    this.splitter.flush();
  }
}

/**
 * Runs `python -m rpo_trainer generate` and follows its events (src/core/run/generate.ts builds
 * the argument vector). The process runs in its own process group with piped output; stop() asks
 * it to stop (SIGINT: the batch in progress is dropped, every written record is kept and the same
 * command continues the file), kill() ends it. Used by `rpo generate` and "RPO: Sample from Run…".
 * The process is told this one's pid (RPO_LAUNCHER_PID) and stops the same way once it has exited
 * (a reloaded VS Code window, a closed terminal).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type ErrorEvent, type GenerateEndEvent, type GenerateEvent, type GenerateStartEvent, LineSplitter, parseGenerateEventLine, tooLongMessage } from '../../core/run/events';

export interface GenerateListener {
  event?(event: GenerateEvent): void;
  malformed?(line: string, error: string): void;
  stderr?(line: string): void;
}

export interface GenerateResult {
  status: 'completed' | 'stopped' | 'failed';
  start?: GenerateStartEvent;
  end?: GenerateEndEvent;
  error?: ErrorEvent;
  /** Why it failed when no error event says so (exit code, signal, last stderr lines). */
  failure?: string;
}

const STDERR_TAIL_LINES = 20;
/** The variable naming the launcher's pid; trainer/rpo_trainer/gen_launcher.py reads it. */
export const LAUNCHER_ENV = 'RPO_LAUNCHER_PID';

export class GenerateProcess {
  private start?: GenerateStartEvent;
  private end?: GenerateEndEvent;
  private error?: ErrorEvent;
  private stderrTail: string[] = [];
  private readonly exited: Promise<GenerateResult>;
  private killTimer?: NodeJS.Timeout;

  private constructor(
    private readonly child: ChildProcess,
    listener: GenerateListener,
  ) {
    const onEvent = (e: GenerateEvent) => {
      if (e.type === 'generate_start') this.start = e;
      else if (e.type === 'generate_end') this.end = e;
      else if (e.type === 'error') this.error = e;
      listener.event?.(e);
    };
    const out = new LineSplitter({
      line: (text) => {
        const parsed = parseGenerateEventLine(text);
        if (parsed.kind === 'event') onEvent(parsed.event);
        else if (parsed.kind === 'malformed') listener.malformed?.(text, parsed.error);
      },
      tooLong: (length) => listener.malformed?.('', tooLongMessage(length)),
    });
    const err = new LineSplitter({
      line: (text) => {
        this.stderrTail.push(text);
        if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
        listener.stderr?.(text);
      },
      tooLong: () => undefined,
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => out.push(chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => err.push(chunk));
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        out.flush();
        err.flush();
        if (this.killTimer) clearTimeout(this.killTimer);
        resolve(this.result(code, signal));
      });
    });
  }

  /** Starts the process; rejects when the executable cannot start (a wrong Python path). */
  static async start(argv: string[], options: { env: NodeJS.ProcessEnv; cwd: string }, listener: GenerateListener = {}): Promise<GenerateProcess> {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: options.cwd,
      // Its own process group (below) outlives this process; the generation watches this pid
      // and stops, keeping what it wrote, when it has exited (trainer/rpo_trainer/gen_launcher.py).
      env: { ...options.env, [LAUNCHER_ENV]: String(process.pid) },
      detached: process.platform !== 'win32',
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    return new GenerateProcess(child, listener);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  whenExited(): Promise<GenerateResult> {
    return this.exited;
  }

  /** SIGINT to the process group (accelerate's ranks too); SIGKILL after `timeoutMs`. */
  stop(timeoutMs = 30_000): void {
    this.signal('SIGINT');
    if (!this.killTimer) this.killTimer = setTimeout(() => this.kill(), timeoutMs);
  }

  kill(): void {
    this.signal('SIGKILL');
  }

  private signal(sig: NodeJS.Signals): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined) return;
    try {
      if (process.platform === 'win32') this.child.kill(sig);
      else process.kill(-this.child.pid, sig);
    } catch {
      // already gone
    }
  }

  private result(code: number | null, signal: NodeJS.Signals | null): GenerateResult {
    const base = { start: this.start, end: this.end, error: this.error };
    if (this.end && this.end.status !== 'failed' && code === 0) return { status: this.end.status, ...base };
    const tail = this.stderrTail.join('\n');
    const why = this.error
      ? this.error.message + (this.error.hint ? `\nhint: ${this.error.hint}` : '')
      : `${signal ? `killed by ${signal}` : `exited with code ${code}`} without an end event${tail ? `; last output:\n${tail}` : ''}`;
    return { status: 'failed', ...base, failure: why };
  }
}

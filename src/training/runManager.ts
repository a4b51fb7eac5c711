import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import { RunConfigError, launchPlanOf, readRunConfig } from '../core/run/config';
import { buildTrainArgv, trainerProcessOptions } from '../core/run/launch';
import { freeLocalPort } from '../node/run/freePort';
import { RunsFolderError, TrainerProcess, TrainerSpawnError, runsFolderFix } from '../node/run/process';
import type { TrainerEvent } from '../core/run/events';
import { FINAL_STATUSES, type RunState } from '../core/run/state';
import { findPython, describePython } from './python';
import { trainingKeepRunningOnWindowClose, trainingStopTimeoutMs } from '../settings';

/** A run this window follows: started here, or re-attached after a reload. */
export interface LiveRun {
  /** Stable id of the launch (the run folder is only known after the `start` event). */
  readonly id: string;
  readonly proc: TrainerProcess;
  readonly state: RunState;
  /** Run folder, once known. */
  readonly runDir: string | null;
  readonly label: string;
}

export interface RunEventNotice {
  run: LiveRun;
  event?: TrainerEvent;
  exited?: boolean;
}

/** Why a run did not start: the config (or its output_dir) needs fixing, or the Python does. */
export class RunStartError extends Error {
  constructor(
    message: string,
    readonly fix: 'config' | 'python' = 'config',
  ) {
    super(message);
  }
}

/**
 * Starts, stops and follows trainer processes for the window.
 *
 * Window reload: the trainer runs detached with its output captured to files, so it keeps going;
 * on activation `reattach` finds launches under the runs folders whose pid is alive and follows
 * them again from the start of their capture (the dashboard and runs view come back). With
 * `rpo.training.keepRunningOnWindowClose` off, deactivation sends SIGINT to every run instead
 * (it checkpoints and ends `stopped`; resume it from the runs view).
 */
export class RunManager implements vscode.Disposable {
  private readonly runs = new Map<string, LiveRun>();
  private readonly changed = new vscode.EventEmitter<RunEventNotice>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly log: Logger,
    private readonly trainerRoot: string,
  ) {}

  all(): LiveRun[] {
    return [...this.runs.values()];
  }

  get(id: string): LiveRun | undefined {
    return this.runs.get(id);
  }

  byRunDir(runDir: string): LiveRun | undefined {
    const want = path.resolve(runDir);
    // The latest launch of a folder (a resumed run has several).
    return this.all().reverse().find((r) => r.runDir && path.resolve(r.runDir) === want);
  }

  /** The run the status bar shows: the most recently started one still running. */
  current(): LiveRun | undefined {
    return this.all().reverse().find((r) => r.proc.running) ?? this.all().at(-1);
  }

  /** Starts a run from a config file, or resumes a run folder. */
  async start(options: { configPath?: string; resumeRunDir?: string; resource?: vscode.Uri }): Promise<LiveRun> {
    const source = options.configPath ?? path.join(options.resumeRunDir!, 'config.json');
    let plan;
    try {
      plan = launchPlanOf(readRunConfig(source), path.dirname(source));
    } catch (err) {
      if (err instanceof RunConfigError) throw new RunStartError(err.message);
      throw err;
    }
    const python = await findPython(options.resource);
    const argv = buildTrainArgv({
      python: python.command,
      configPath: options.configPath,
      resumeRunDir: options.resumeRunDir,
      numProcesses: plan.numProcesses,
      accelerateConfig: plan.accelerateConfig,
      mainProcessPort: plan.numProcesses > 1 && !plan.accelerateConfig ? await freeLocalPort() : undefined,
    });
    const runsDir = options.resumeRunDir ? path.dirname(options.resumeRunDir) : plan.outputDir;
    this.log.info(`starting ${JSON.stringify(argv)} with Python ${describePython(python)}`);
    let proc: TrainerProcess;
    try {
      proc = await TrainerProcess.start({
        argv,
        ...trainerProcessOptions(process.env, this.trainerRoot),
        runsDir,
        configPath: options.configPath,
        resumeRunDir: options.resumeRunDir,
      });
    } catch (err) {
      if (err instanceof RunsFolderError) throw new RunStartError(`Cannot start the run: ${err.message}. ${runsFolderFix(err, options.configPath)}`);
      if (!(err instanceof TrainerSpawnError)) throw err;
      throw new RunStartError(`Could not start Python ${describePython(python)}: ${err.message}`, 'python');
    }
    const label = options.resumeRunDir ? path.basename(options.resumeRunDir) : plan.name;
    return this.track(proc, label);
  }

  /** Follows the live launches found under these runs folders (after a window reload). */
  reattach(runsDirs: string[]): LiveRun[] {
    const found: LiveRun[] = [];
    const known = new Set(this.all().map((r) => r.proc.launch.id));
    for (const dir of runsDirs) {
      for (const file of TrainerProcess.liveLaunches(dir)) {
        const proc = TrainerProcess.attach(file);
        if (!proc || known.has(proc.launch.id)) {
          proc?.detach();
          continue;
        }
        this.log.info(`re-attached to the running trainer (pid ${proc.pid}) of ${proc.launch.runDir ?? proc.launch.configPath}`);
        found.push(this.track(proc, path.basename(proc.launch.runDir ?? proc.launch.configPath ?? proc.launch.id)));
      }
    }
    return found;
  }

  async stop(run: LiveRun): Promise<void> {
    if (!run.proc.running) return;
    this.log.info(`stopping pid ${run.proc.pid} (SIGINT to its process group)`);
    const done = run.proc.stop(trainingStopTimeoutMs());
    this.changed.fire({ run });
    await done;
  }

  private track(proc: TrainerProcess, label: string): LiveRun {
    const run: LiveRun = {
      id: proc.launch.id,
      proc,
      state: proc.state,
      get runDir() {
        return proc.launch.runDir;
      },
      label,
    };
    this.runs.set(run.id, run);
    proc.onDidChange({
      event: (event) => {
        if (event.type === 'log' && event.level !== 'debug') this.log.info(`trainer: ${event.message}`);
        if (event.type === 'error') this.log.error(`trainer error (${event.error_type}): ${event.message}${event.traceback ? '\n' + event.traceback : ''}`);
        this.changed.fire({ run, event });
      },
      malformed: (line, error) => this.log.warn(`skipped a malformed trainer event line (${error}): ${line.slice(0, 300)}`),
      stderr: (line) => {
        if (line.trim()) this.log.info(`trainer stderr: ${line}`);
      },
      exit: (state) => {
        const how = state.status === 'failed' ? `failed: ${state.failure?.reason ?? ''}` : state.status;
        this.log.info(`trainer pid ${proc.pid} exited (${how})`);
        this.changed.fire({ run, exited: true });
      },
    });
    this.changed.fire({ run });
    return run;
  }

  /** Drops finished runs from the window's list (their folders stay). */
  forget(run: LiveRun): void {
    if (FINAL_STATUSES.has(run.state.status) && !run.proc.running) this.runs.delete(run.id);
  }

  dispose(): void {
    const keep = trainingKeepRunningOnWindowClose();
    for (const run of this.runs.values()) {
      if (!run.proc.running) continue;
      if (keep) {
        this.log.info(`leaving trainer pid ${run.proc.pid} running; it is re-attached when a window opens this workspace`);
        run.proc.detach();
      } else {
        this.log.info(`stopping trainer pid ${run.proc.pid} (window closing)`);
        run.proc.stop(trainingStopTimeoutMs()).catch((err: Error) => this.log.warn(err.message));
        run.proc.detach();
      }
    }
    this.changed.dispose();
  }
}

import type { CheckpointEvent, EndEvent, ErrorEvent, LogEvent, Metrics, StartEvent, StepEvent, TrainerEvent } from './events';
import { type Columns, EVAL_SERIES, type EvalSeriesKey, STEP_SERIES, type StepSeriesKey, emptyColumns } from '../../protocol/series';

/**
 * A run's state, reduced from its events in order. Used by the extension host (live runs and
 * reopened ones), the dashboard, the runs view and the CLI. Reduction mutates in place: a run
 * with 100,000 steps must not be copied per event.
 */

export type RunStatus =
  /** Process started, no `start` event yet (loading the model, tokenising). */
  | 'starting'
  | 'running'
  /** A stop was requested; waiting for the trainer to checkpoint and end. */
  | 'stopping'
  | 'completed'
  | 'stopped'
  | 'failed';

export const FINAL_STATUSES: ReadonlySet<RunStatus> = new Set(['completed', 'stopped', 'failed']);

export interface RunFailure {
  /** Why the run failed: the trainer's error message, or what happened to the process. */
  reason: string;
  /** The last lines the trainer wrote on stderr, when known. */
  stderrTail?: string;
}

export interface RunState {
  status: RunStatus;
  runDir: string | null;
  /** The latest `start` event (a resumed run has one per launch). */
  start: StartEvent | null;
  /** Time of the first `start` event. */
  startedAt: string | null;
  lastEventAt: string | null;
  step: number;
  totalSteps: number;
  epoch: number;
  /** Training seconds over all launches of this run (a resumed run adds up). */
  elapsedSeconds: number;
  /** Training seconds of the launches before the current one. */
  elapsedBeforeLaunch: number;
  etaSeconds: number | null;
  tokensPerSecond: number | null;
  samplesPerSecond: number | null;
  memory: StepEvent['memory'];
  lastMetrics: Metrics | null;
  steps: Columns<StepSeriesKey>;
  evals: Columns<EvalSeriesKey>;
  /**
   * Bumped when points were removed (a resume continues from a checkpoint before the last logged
   * step, so the steps after it are logged again): a consumer holding deltas must start over.
   */
  seriesGeneration: number;
  checkpoints: CheckpointEvent[];
  /** The last MAX_LOGS `log` events. */
  logs: LogEvent[];
  error: ErrorEvent | null;
  end: EndEvent | null;
  failure: RunFailure | null;
  /** Events read. */
  events: number;
  /** Lines that were not valid events (logged and skipped). */
  malformedLines: number;
}

export const MAX_LOGS = 200;

export function initialRunState(): RunState {
  return {
    status: 'starting',
    runDir: null,
    start: null,
    startedAt: null,
    lastEventAt: null,
    step: 0,
    totalSteps: 0,
    epoch: 0,
    elapsedSeconds: 0,
    elapsedBeforeLaunch: 0,
    etaSeconds: null,
    tokensPerSecond: null,
    samplesPerSecond: null,
    memory: null,
    lastMetrics: null,
    steps: emptyColumns(STEP_SERIES),
    evals: emptyColumns(EVAL_SERIES),
    seriesGeneration: 0,
    checkpoints: [],
    logs: [],
    error: null,
    end: null,
    failure: null,
    events: 0,
    malformedLines: 0,
  };
}

function num(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function stepValue(e: StepEvent, key: StepSeriesKey): number | null {
  switch (key) {
    case 'learning_rate':
      return num(e.learning_rate);
    case 'grad_norm':
      return num(e.grad_norm);
    case 'tokens_per_second':
      return num(e.tokens_per_second);
    case 'samples_per_second':
      return num(e.samples_per_second);
    case 'memory_gib':
      return e.memory ? e.memory.allocated_bytes / 2 ** 30 : null;
    default:
      return num(e.metrics[key]);
  }
}

/** Drops points at steps after `step` (a resume from an earlier checkpoint). */
function truncateAfter<K extends string>(c: Columns<K>, step: number): boolean {
  let n = c.x.length;
  while (n > 0 && c.x[n - 1] > step) n--;
  if (n === c.x.length) return false;
  c.x.length = n;
  for (const k of Object.keys(c.y) as K[]) c.y[k].length = n;
  return true;
}

/** Applies one event to the state (in place) and returns it. */
export function applyEvent(state: RunState, event: TrainerEvent): RunState {
  state.events++;
  state.lastEventAt = event.time;
  switch (event.type) {
    case 'start': {
      if (state.start) state.elapsedBeforeLaunch = state.elapsedSeconds;
      state.start = event;
      state.startedAt ??= event.time;
      state.runDir = event.run_dir;
      state.status = 'running';
      state.step = event.step;
      state.totalSteps = event.total_steps;
      state.epoch = event.epoch;
      state.end = null;
      state.error = null;
      state.failure = null;
      // A resume continues from the checkpoint at event.step: what an earlier launch logged after
      // it (steps, evals, checkpoints that resume did not take) is repeated or gone.
      const cutSteps = truncateAfter(state.steps, event.step);
      const cutEvals = truncateAfter(state.evals, event.step);
      if (cutSteps || cutEvals) state.seriesGeneration++;
      if (event.resumed) state.checkpoints = state.checkpoints.filter((c) => c.step <= event.step);
      break;
    }
    case 'step': {
      if (state.status === 'starting') state.status = 'running';
      state.step = event.step;
      state.totalSteps = event.total_steps;
      state.epoch = event.epoch;
      state.elapsedSeconds = state.elapsedBeforeLaunch + event.elapsed_seconds;
      state.etaSeconds = num(event.eta_seconds) ?? estimateEta(state);
      state.tokensPerSecond = num(event.tokens_per_second);
      state.samplesPerSecond = num(event.samples_per_second);
      state.memory = event.memory;
      state.lastMetrics = event.metrics;
      const { steps } = state;
      // A point at or before the last one replaces nothing: logged steps only grow within a launch.
      if (steps.x.length && steps.x[steps.x.length - 1] >= event.step) {
        if (truncateAfter(steps, event.step - 1)) state.seriesGeneration++;
      }
      steps.x.push(event.step);
      for (const key of STEP_SERIES) steps.y[key].push(stepValue(event, key));
      break;
    }
    case 'eval': {
      state.evals.x.push(event.step);
      for (const key of EVAL_SERIES) state.evals.y[key].push(num(event.metrics[key]));
      break;
    }
    case 'checkpoint':
      state.checkpoints.push(event);
      break;
    case 'log':
      state.logs.push(event);
      if (state.logs.length > MAX_LOGS) state.logs.splice(0, state.logs.length - MAX_LOGS);
      break;
    case 'error':
      state.error = event;
      state.status = 'failed';
      state.failure = { reason: event.message };
      break;
    case 'end':
      state.end = event;
      state.status = event.status;
      state.step = event.step;
      state.totalSteps = event.total_steps;
      state.epoch = event.epoch;
      state.elapsedSeconds = state.elapsedBeforeLaunch + event.elapsed_seconds;
      state.etaSeconds = event.status === 'completed' ? 0 : null;
      if (event.run_dir) state.runDir = event.run_dir;
      if (event.status === 'failed' && !state.failure) state.failure = { reason: event.message ?? 'the trainer reported a failure' };
      break;
    default: {
      const never: never = event;
      void never;
    }
  }
  return state;
}

/** Seconds left at the average pace of this launch so far, when the trainer gave no ETA. */
export function estimateEta(state: Pick<RunState, 'step' | 'totalSteps' | 'elapsedSeconds' | 'start'>): number | null {
  const firstStep = state.start?.step ?? 0;
  const done = state.step - firstStep;
  if (done <= 0 || state.totalSteps <= state.step) return state.totalSteps <= state.step && state.totalSteps > 0 ? 0 : null;
  return (state.elapsedSeconds / done) * (state.totalSteps - state.step);
}

/**
 * The trainer process is gone without an `end` event (crash, kill, OOM killer, machine reboot):
 * the run failed. Keeps the trainer's own error when it sent one.
 */
export function markProcessGone(state: RunState, reason: string, stderrTail?: string): RunState {
  if (FINAL_STATUSES.has(state.status) && state.status !== 'failed') return state;
  state.status = 'failed';
  state.etaSeconds = null;
  const base = state.failure ?? { reason };
  state.failure = stderrTail ? { ...base, stderrTail } : base;
  return state;
}

export function reduceEvents(events: Iterable<TrainerEvent>, state = initialRunState()): RunState {
  for (const e of events) applyEvent(state, e);
  return state;
}

/** "1h 02m", "4m 05s", "12s". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

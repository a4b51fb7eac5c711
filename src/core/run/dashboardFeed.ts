import type { DashboardSummary, HostMessage, SeriesPayload } from '../../protocol/dashboard';
import { sliceColumns } from '../../protocol/series';
import { FINAL_STATUSES, type RunState } from './state';

/**
 * What a dashboard is sent for a run: a `reset` first, then `delta`s carrying only the points
 * added since the previous message. Pure, so the host and the benchmark share it.
 */
export class DashboardFeed {
  private sentSteps = 0;
  private sentEvals = 0;
  private generation = -1;

  constructor(private readonly state: RunState) {}

  /** Forces the next message to be a reset (the webview reloaded). */
  invalidate(): void {
    this.generation = -1;
  }

  next(extra: SummaryExtras): HostMessage {
    const s = this.state;
    const summary = toDashboardSummary(s, extra);
    if (this.generation !== s.seriesGeneration) {
      this.generation = s.seriesGeneration;
      this.sentSteps = s.steps.x.length;
      this.sentEvals = s.evals.x.length;
      return { type: 'reset', summary, series: { steps: sliceColumns(s.steps, 0), evals: sliceColumns(s.evals, 0) } };
    }
    const series: SeriesPayload = { steps: sliceColumns(s.steps, this.sentSteps), evals: sliceColumns(s.evals, this.sentEvals) };
    this.sentSteps = s.steps.x.length;
    this.sentEvals = s.evals.x.length;
    return { type: 'delta', summary, series };
  }
}

export interface SummaryExtras {
  name: string;
  /** The process runs on this machine (stop is possible). */
  live: boolean;
}

export function toDashboardSummary(s: RunState, extra: SummaryExtras): DashboardSummary {
  const start = s.start;
  const config = start?.config ?? {};
  const end = s.end;
  const lastStop = [...s.checkpoints].reverse().find((c) => c.reason === 'stop' || c.reason === 'periodic');
  return {
    name: extra.name,
    status: s.status,
    runDir: s.runDir,
    method: typeof config.method === 'string' ? config.method : null,
    model: start?.model.name_or_path ?? null,
    dataset: start?.dataset.path ?? null,
    trainRecords: start?.dataset.train ?? null,
    devices: start ? start.devices.map((d) => d.name + (d.memory_bytes ? ` (${(d.memory_bytes / 2 ** 30).toFixed(0)} GiB)` : '')).join(', ') + (start.num_processes > 1 ? ` × ${start.num_processes} processes` : '') : null,
    precision: start?.precision ?? null,
    lora: start?.model.lora ?? null,
    step: s.step,
    totalSteps: s.totalSteps,
    epoch: s.epoch,
    elapsedSeconds: s.elapsedSeconds,
    etaSeconds: s.etaSeconds,
    tokensPerSecond: s.tokensPerSecond,
    samplesPerSecond: s.samplesPerSecond,
    memoryAllocatedBytes: s.memory?.allocated_bytes ?? null,
    memoryPeakBytes: s.memory?.peak_bytes ?? null,
    loss: s.lastMetrics?.loss ?? null,
    accuracy: s.lastMetrics?.['rewards/accuracies'] ?? null,
    margin: s.lastMetrics?.['rewards/margins'] ?? null,
    effectiveBeta: s.lastMetrics?.['contrast/effective_beta'] ?? null,
    checkpoints: s.checkpoints.slice(-20).map((c) => ({ step: c.step, path: c.path, reason: c.reason })),
    finalModel: end?.final_model ?? null,
    error: s.error ? { message: s.error.message, errorType: s.error.error_type, hint: s.error.hint, traceback: s.error.traceback } : null,
    failure: s.failure && !s.error ? { reason: s.failure.reason, stderrTail: s.failure.stderrTail ?? null } : s.failure?.stderrTail && s.error ? { reason: s.failure.reason, stderrTail: s.failure.stderrTail } : null,
    canStop: extra.live && !FINAL_STATUSES.has(s.status),
    canResume: !extra.live && (s.status === 'stopped' || (s.status === 'failed' && lastStop !== undefined)) && s.runDir !== null,
    malformedLines: s.malformedLines,
  };
}

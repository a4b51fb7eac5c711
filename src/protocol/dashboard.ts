/**
 * Messages between a run's dashboard panel (src/training/dashboard.ts) and its webview
 * (webview/dashboard). The host reduces the trainer's events and sends the summary plus only the
 * chart points the view has not seen (deltas); a `reset` replaces everything (first load, or a
 * resume that rewound the series). Messages from the webview are untrusted: `parseDashboardMessage`.
 */
import type { Columns, EvalSeriesKey, StepSeriesKey } from './series';

export type DashboardStatus = 'starting' | 'running' | 'stopping' | 'completed' | 'stopped' | 'failed';

export interface DashboardSummary {
  name: string;
  status: DashboardStatus;
  runDir: string | null;
  method: string | null;
  model: string | null;
  dataset: string | null;
  trainRecords: number | null;
  devices: string | null;
  precision: string | null;
  lora: boolean | null;
  step: number;
  totalSteps: number;
  epoch: number;
  elapsedSeconds: number;
  /** ETA as of the last event; the view counts down from `receivedAt`. */
  etaSeconds: number | null;
  tokensPerSecond: number | null;
  samplesPerSecond: number | null;
  memoryAllocatedBytes: number | null;
  memoryPeakBytes: number | null;
  loss: number | null;
  accuracy: number | null;
  margin: number | null;
  effectiveBeta: number | null;
  checkpoints: { step: number; path: string; reason: string }[];
  finalModel: string | null;
  error: { message: string; errorType: string; hint: string | null; traceback: string | null } | null;
  /** The process died without an `end`: why, and the end of its stderr. */
  failure: { reason: string; stderrTail: string | null } | null;
  /** The trainer runs on this machine and can be stopped from here. */
  canStop: boolean;
  /** Stopped (or failed after a checkpoint): `--resume` can continue it. */
  canResume: boolean;
  malformedLines: number;
}

export interface SeriesPayload {
  steps: Columns<StepSeriesKey>;
  evals: Columns<EvalSeriesKey>;
}

export type HostMessage =
  /** Everything: the view drops what it has. */
  | { type: 'reset'; summary: DashboardSummary; series: SeriesPayload }
  /** New points appended since the last message, and the new summary. */
  | { type: 'delta'; summary: DashboardSummary; series: SeriesPayload }
  /** A second run drawn on the same charts (dashed); null clears it. */
  | { type: 'overlay'; overlay: { name: string; method: string | null; series: SeriesPayload } | null };

export type ViewMessage =
  | { type: 'ready' }
  | { type: 'stop' }
  | { type: 'resume' }
  | { type: 'openFolder' }
  | { type: 'pickOverlay' }
  | { type: 'clearOverlay' };

const VIEW_TYPES: ReadonlySet<string> = new Set<ViewMessage['type']>(['ready', 'stop', 'resume', 'openFolder', 'pickOverlay', 'clearOverlay']);

/** Validates a message from the webview; undefined when it is not one we accept. */
export function parseDashboardMessage(value: unknown): ViewMessage | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !VIEW_TYPES.has(type)) return undefined;
  if (Object.keys(value).length !== 1) return undefined;
  return { type } as ViewMessage;
}

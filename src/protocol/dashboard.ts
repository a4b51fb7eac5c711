/**
 * Messages between a run's dashboard panel (src/training/dashboard.ts) and its webview
 * (webview/dashboard). The host reduces the trainer's events and sends the summary plus only the
 * chart points the view has not seen (deltas); a `reset` replaces everything (first load, or a
 * resume that rewound the series). Messages from the webview are untrusted: `parseDashboardMessage`.
 */
import type { Columns, EvalSeriesKey, StepSeriesKey } from './series';
import type { WinrateEntry } from './winrate';

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

/**
 * The data map (Dataset Cartography): one point per training pair the run visited, as columns
 * (ArrayBuffers of float32, `count` entries each; VS Code transfers ArrayBuffers without JSON).
 * Point i is the host's i-th visited training row; hover, click and box messages name points.
 */
export interface DataMapPayload {
  count: number;
  variability: ArrayBuffer;
  confidence: ArrayBuffer;
  correctness: ArrayBuffer;
  aum: ArrayBuffer;
  /** The step the file was written at, and whether the run had finished then. */
  step: number;
  complete: boolean;
  /** Training rows never visited (not drawn). */
  unvisited: number;
}

/** A rectangle of the map in data units: x = variability, y = confidence. */
export interface DataBox {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

export type HostMessage =
  /** Everything: the view drops what it has. */
  | { type: 'reset'; summary: DashboardSummary; series: SeriesPayload }
  /** New points appended since the last message, and the new summary. */
  | { type: 'delta'; summary: DashboardSummary; series: SeriesPayload }
  /** A second run drawn on the same charts (dashed); null clears it. */
  | { type: 'overlay'; overlay: { name: string; method: string | null; series: SeriesPayload } | null }
  /** The run's data map, or why there is none (no file yet, an older run, an unreadable file). */
  | { type: 'dataMap'; map: DataMapPayload | null; note: string | null }
  /** The first line of a point's prompt (null: the record is gone or changed; `note` says why). */
  | { type: 'dataMapPrompt'; point: number; text: string | null; note: string | null }
  /** The run's win rate against other models, one row per judged candidates file in <run>/samples. */
  | { type: 'winrate'; rows: WinrateEntry[] };

export type ViewMessage =
  | { type: 'ready' }
  | { type: 'stop' }
  | { type: 'resume' }
  /** RPO: Sample from Run… for this run (generate). */
  | { type: 'sample' }
  | { type: 'openFolder' }
  | { type: 'pickOverlay' }
  | { type: 'clearOverlay' }
  /** The view shows point `point`: send its prompt's first line. */
  | { type: 'mapHover'; point: number }
  /** Open these points' records in the preference editor (a click: one point). */
  | { type: 'mapOpen'; points: number[] }
  /** Open the records of every point inside this box (a dragged box, or a bin). */
  | { type: 'mapOpenBox'; box: DataBox };

const VIEW_TYPES: ReadonlySet<string> = new Set<ViewMessage['type']>(['ready', 'stop', 'resume', 'sample', 'openFolder', 'pickOverlay', 'clearOverlay']);

/** At most this many points in one `mapOpen` (a box goes as `mapOpenBox`). */
export const MAX_OPEN_POINTS = 1000;

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 31;
}

function parseMapMessage(value: Record<string, unknown>): ViewMessage | undefined {
  const keys = Object.keys(value);
  switch (value.type) {
    case 'mapHover':
      return keys.length === 2 && isIndex(value.point) ? { type: 'mapHover', point: value.point } : undefined;
    case 'mapOpen': {
      const points = value.points;
      if (keys.length !== 2 || !Array.isArray(points) || points.length === 0 || points.length > MAX_OPEN_POINTS || !points.every(isIndex)) return undefined;
      return { type: 'mapOpen', points: [...points] };
    }
    case 'mapOpenBox': {
      const box = value.box as Record<string, unknown> | null;
      if (keys.length !== 2 || typeof box !== 'object' || box === null || Array.isArray(box)) return undefined;
      const names = ['x0', 'x1', 'y0', 'y1'] as const;
      if (Object.keys(box).length !== 4 || !names.every((k) => typeof box[k] === 'number' && Number.isFinite(box[k]))) return undefined;
      return { type: 'mapOpenBox', box: { x0: box.x0 as number, x1: box.x1 as number, y0: box.y0 as number, y1: box.y1 as number } };
    }
    default:
      return undefined;
  }
}

/** Validates a message from the webview; undefined when it is not one we accept. */
export function parseDashboardMessage(value: unknown): ViewMessage | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const type = (value as { type?: unknown }).type;
  if (type === 'mapHover' || type === 'mapOpen' || type === 'mapOpenBox') return parseMapMessage(value as Record<string, unknown>);
  if (typeof type !== 'string' || !VIEW_TYPES.has(type)) return undefined;
  if (Object.keys(value).length !== 1) return undefined;
  return { type } as ViewMessage;
}

/**
 * Messages between the contrast preview's host (src/preview) and its webview (webview/preview).
 * The host loads the dataset and its embeddings, forms a minibatch with the trainer's sampler
 * and sends the batch's COSINE matrix; the webview turns cosines into weights itself
 * (src/core/contrast/weights.ts), so the temperature slider never round-trips to the host.
 * Everything the webview sends is untrusted: `parseViewMessage` validates it.
 */

export interface PreviewSettings {
  mode: 'paired' | 'unpaired';
  tau: number;
  beta: number;
  batchSize: number;
  numProcesses: number;
  globalContrast: boolean;
  similarityBatching: boolean;
  seed: number;
  epoch: number;
}

/** The settings the webview may change (the rest come from the run config). */
export type EditableSettings = Pick<PreviewSettings, 'batchSize' | 'numProcesses' | 'globalContrast' | 'similarityBatching' | 'seed' | 'epoch' | 'mode'>;

export interface BatchPayload {
  index: number;
  count: number;
  shortEpoch: boolean;
  rowLines: number[];
  colLines: number[];
  /** Prompt text of each row / column, cut to PROMPT_SNIPPET characters. */
  rowPrompts: string[];
  colPrompts: string[];
  /** rows x cols, row-major. */
  cosine: number[];
}

export interface HistogramPayload {
  counts: number[];
  lo: number;
  hi: number;
  sampled: number;
  total: number;
  mean: number;
  median: number;
}

export interface Neighbour {
  line: number;
  cosine: number;
  prompt: string;
}

export interface NeighboursPayload {
  line: number;
  prompt: string;
  /** Mean cosine of this prompt to the dataset's prompts: the "typical" batch mate. */
  meanCosine: number;
  items: Neighbour[];
}

export type PreviewStatus = 'idle' | 'loading' | 'embedding' | 'ready' | 'error' | 'untrusted';

export interface PreviewState {
  status: PreviewStatus;
  message: string;
  fileName: string;
  settings: PreviewSettings;
  /** Where the settings came from, e.g. "run config train.rpo.json" or "defaults". */
  settingsSource: string;
  usable: number;
  train: number;
  warnings: string[];
  batch: BatchPayload | null;
  histogram: HistogramPayload | null;
  neighbours: NeighboursPayload | null;
}

export type HostMessage =
  | { type: 'state'; state: PreviewState }
  | { type: 'batch'; batch: BatchPayload; settings: PreviewSettings; warnings: string[] }
  | { type: 'neighbours'; neighbours: NeighboursPayload | null };

export type ViewMessage =
  | { type: 'ready' }
  | { type: 'settings'; settings: Partial<EditableSettings> }
  | { type: 'resample' }
  | { type: 'reveal'; line: number }
  | { type: 'embed' };

export const PROMPT_SNIPPET = 600;
/** The ranges of the preview's controls (the host clamps a run config's values to them too). */
export const MAX_BATCH = 256;
export const MAX_PROCESSES = 64;
export const TAU_RANGE = { min: 0.05, max: 2, step: 0.05 } as const;

const isInt = (v: unknown, min: number, max: number): v is number => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;

export function parseViewMessage(data: unknown): ViewMessage | string {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'not an object';
  const m = data as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
    case 'resample':
    case 'embed':
      return { type: m.type };
    case 'reveal':
      if (!isInt(m.line, 0, Number.MAX_SAFE_INTEGER)) return 'reveal: bad line';
      return { type: 'reveal', line: m.line };
    case 'settings': {
      const s = m.settings;
      if (typeof s !== 'object' || s === null || Array.isArray(s)) return 'settings: not an object';
      const raw = s as Record<string, unknown>;
      const out: Partial<EditableSettings> = {};
      for (const [k, v] of Object.entries(raw)) {
        switch (k) {
          case 'batchSize':
            if (!isInt(v, 1, MAX_BATCH)) return `settings: batchSize must be an integer from 1 to ${MAX_BATCH}`;
            out.batchSize = v;
            break;
          case 'numProcesses':
            if (!isInt(v, 1, MAX_PROCESSES)) return `settings: numProcesses must be an integer from 1 to ${MAX_PROCESSES}`;
            out.numProcesses = v;
            break;
          case 'seed':
            if (!isInt(v, 0, 4294967295)) return 'settings: seed must be an integer from 0 to 2^32-1';
            out.seed = v;
            break;
          case 'epoch':
            if (!isInt(v, 0, 1_000_000)) return 'settings: bad epoch';
            out.epoch = v;
            break;
          case 'globalContrast':
          case 'similarityBatching':
            if (typeof v !== 'boolean') return `settings: ${k} must be a boolean`;
            out[k] = v;
            break;
          case 'mode':
            if (v !== 'paired' && v !== 'unpaired') return 'settings: bad mode';
            out.mode = v;
            break;
          default:
            return `settings: unknown field ${k}`;
        }
      }
      return { type: 'settings', settings: out };
    }
    default:
      return `unknown message type ${String(m.type)}`;
  }
}

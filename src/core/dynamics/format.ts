import { type AnyDType, DTYPE_BYTES, SafetensorsError, type TensorInfo, parseSafetensorsBytes } from '../safetensors';
import { KEY_BYTES } from './pairKey';

/**
 * The training dynamics file of a run, `<run_dir>/dynamics.safetensors` (docs/contracts.md §8):
 * one row per usable record (training rows first, then eval rows, each in usable-list order)
 * with its pair key, line, trained side and per-pair statistics over its visits. Parsed into
 * typed-array views of the file's bytes (no copy where the data is aligned, as the trainer's
 * safetensors writer leaves it).
 */

export const DYNAMICS_FILE = 'dynamics.safetensors';
export const DYNAMICS_FORMAT = 'rpo-dynamics';
export const DYNAMICS_VERSION = 1;

export class DynamicsError extends Error {}

export interface DynamicsMeta {
  run: string;
  method: string;
  beta: number;
  step: number;
  epoch: number;
  /** The dataset path the run read. */
  dataset: string;
  datasetSha256: string;
  labelsSha256: string;
  /** True once the run finished (false: written at a checkpoint of a run that went on, or stopped). */
  complete: boolean;
  /** Every `__metadata__` string as written. */
  raw: Record<string, string>;
}

export interface Dynamics {
  meta: DynamicsMeta;
  /** Rows (N). */
  rows: number;
  /** Training rows: rows 0 .. trainRows-1 (split 0); the rest are eval rows. */
  trainRows: number;
  /** N x 32 bytes: the pair key of row i at [32 i, 32 i + 32). */
  key: Uint8Array;
  /** 1-based line in the dataset file the run read. */
  line: Int32Array;
  /** The label the run trained on (0: chosen is the first response by UTF-8 order, 1: the second; unpaired: the label). */
  side: Uint8Array;
  /** 0 training, 1 eval. */
  split: Uint8Array;
  visits: Int32Array;
  aum: Float32Array;
  confidence: Float32Array;
  variability: Float32Array;
  correctness: Float32Array;
  lastMargin: Float32Array;
  diagWeight: Float32Array;
  /** The step of each eval (E). */
  evalSteps: number[];
  /** E x M, M = eval rows, row-major: margin of eval row m at eval e at [e M + m]. */
  evalMargin: Float32Array;
}

/** Every dtype is parsed, so a wrong one is reported against the tensor's expected dtype. */
const DTYPES = Object.keys(DTYPE_BYTES) as AnyDType[];

interface Column {
  name: string;
  dtype: 'U8' | 'I32' | 'F32';
  /** Shape after N (the row count). */
  inner: number[];
}

const ROW_COLUMNS: Column[] = [
  { name: 'key', dtype: 'U8', inner: [KEY_BYTES] },
  { name: 'line', dtype: 'I32', inner: [] },
  { name: 'side', dtype: 'U8', inner: [] },
  { name: 'split', dtype: 'U8', inner: [] },
  { name: 'visits', dtype: 'I32', inner: [] },
  { name: 'aum', dtype: 'F32', inner: [] },
  { name: 'confidence', dtype: 'F32', inner: [] },
  { name: 'variability', dtype: 'F32', inner: [] },
  { name: 'correctness', dtype: 'F32', inner: [] },
  { name: 'last_margin', dtype: 'F32', inner: [] },
  { name: 'diag_weight', dtype: 'F32', inner: [] },
];

const META_STRINGS = ['run', 'method', 'dataset', 'dataset_sha256', 'labels_sha256'] as const;
const META_NUMBERS = ['beta', 'step', 'epoch'] as const;

/**
 * Parses the bytes of a dynamics file. `where` names the file in errors. Throws DynamicsError
 * naming the file and the tensor or metadata key at fault: not safetensors, another format, a
 * newer version, a missing tensor, a wrong dtype or shape, a side or split other than 0 / 1,
 * eval rows before training rows.
 */
export function parseDynamics(bytes: Uint8Array, where = DYNAMICS_FILE): Dynamics {
  let parsed;
  try {
    parsed = parseSafetensorsBytes(bytes, where, DTYPES);
  } catch (err) {
    if (err instanceof SafetensorsError) throw new DynamicsError(err.message);
    throw err;
  }
  const { header, dataStart } = parsed;
  const m = header.metadata;
  if (m.format !== DYNAMICS_FORMAT) throw new DynamicsError(`${where}: not an RPO training dynamics file (__metadata__.format is ${m.format === undefined ? 'missing' : JSON.stringify(m.format)}, expected "${DYNAMICS_FORMAT}")`);
  const version = Number(m.version);
  if (!Number.isInteger(version) || version < 1) throw new DynamicsError(`${where}: __metadata__.version ${JSON.stringify(m.version)} is not a version number`);
  if (version > DYNAMICS_VERSION) throw new DynamicsError(`${where}: dynamics version ${version} was written by a newer trainer; this RPO Studio reads version ${DYNAMICS_VERSION}: update the extension`);
  for (const k of META_STRINGS) if (typeof m[k] !== 'string') throw new DynamicsError(`${where}: __metadata__.${k} is missing`);
  const nums = {} as Record<(typeof META_NUMBERS)[number], number>;
  for (const k of META_NUMBERS) {
    const v = m[k] === undefined || m[k].trim() === '' ? NaN : Number(m[k]);
    if (!Number.isFinite(v)) throw new DynamicsError(`${where}: __metadata__.${k} ${m[k] === undefined ? 'is missing' : `${JSON.stringify(m[k])} is not a number`}`);
    nums[k] = v;
  }
  if (m.complete !== 'true' && m.complete !== 'false') throw new DynamicsError(`${where}: __metadata__.complete ${m.complete === undefined ? 'is missing' : `${JSON.stringify(m.complete)} must be "true" or "false"`}`);

  const tensor = (name: string): TensorInfo => {
    const t = header.tensors[name];
    if (!t) throw new DynamicsError(`${where}: tensor ${name} is missing`);
    return t;
  };
  const keyInfo = tensor('key');
  const n = keyInfo.shape[0] ?? -1;
  const views: Record<string, Uint8Array | Int32Array | Float32Array> = {};
  for (const c of ROW_COLUMNS) {
    const t = tensor(c.name);
    const want = [n, ...c.inner];
    if (t.dtype !== c.dtype) throw new DynamicsError(`${where}: tensor ${c.name} has dtype ${t.dtype}, expected ${c.dtype}`);
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new DynamicsError(`${where}: tensor ${c.name} has shape [${t.shape.join(', ')}], expected [${c.name === 'key' ? `N, ${KEY_BYTES}` : n}]`);
    }
    views[c.name] = view(bytes, dataStart, t) as Uint8Array | Int32Array | Float32Array;
  }
  const split = views.split as Uint8Array;
  const side = views.side as Uint8Array;
  let trainRows = 0;
  while (trainRows < n && split[trainRows] === 0) trainRows++;
  for (let i = 0; i < n; i++) {
    if (side[i]! > 1) throw new DynamicsError(`${where}: tensor side: row ${i} is ${side[i]}, expected 0 or 1`);
    if (split[i]! > 1) throw new DynamicsError(`${where}: tensor split: row ${i} is ${split[i]}, expected 0 or 1`);
    if (i >= trainRows && split[i] === 0) throw new DynamicsError(`${where}: tensor split: training row ${i} comes after eval row ${trainRows} (training rows come first)`);
  }
  const evalRows = n - trainRows;
  const stepsInfo = tensor('eval_steps');
  if (stepsInfo.dtype !== 'I64' || stepsInfo.shape.length !== 1) throw new DynamicsError(`${where}: tensor eval_steps has ${stepsInfo.dtype} [${stepsInfo.shape.join(', ')}], expected I64 [E]`);
  const e = stepsInfo.shape[0]!;
  const marginInfo = tensor('eval_margin');
  if (marginInfo.dtype !== 'F32' || marginInfo.shape.length !== 2 || marginInfo.shape[0] !== e || marginInfo.shape[1] !== evalRows) {
    throw new DynamicsError(`${where}: tensor eval_margin has ${marginInfo.dtype} [${marginInfo.shape.join(', ')}], expected F32 [${e}, ${evalRows}] (evals x eval rows)`);
  }
  const steps64 = view(bytes, dataStart, stepsInfo) as BigInt64Array;
  return {
    meta: {
      run: m.run!, method: m.method!, beta: nums.beta, step: nums.step, epoch: nums.epoch, dataset: m.dataset!,
      datasetSha256: m.dataset_sha256!, labelsSha256: m.labels_sha256!, complete: m.complete === 'true', raw: { ...m },
    },
    rows: n,
    trainRows,
    key: views.key as Uint8Array,
    line: views.line as Int32Array,
    side,
    split,
    visits: views.visits as Int32Array,
    aum: views.aum as Float32Array,
    confidence: views.confidence as Float32Array,
    variability: views.variability as Float32Array,
    correctness: views.correctness as Float32Array,
    lastMargin: views.last_margin as Float32Array,
    diagWeight: views.diag_weight as Float32Array,
    evalSteps: Array.from(steps64, (s) => Number(s)),
    evalMargin: view(bytes, dataStart, marginInfo) as Float32Array,
  };
}

/** A typed-array view of a tensor's bytes; a copy only when its offset is not a multiple of the element size. */
function view(bytes: Uint8Array, dataStart: number, t: TensorInfo): Uint8Array | Int32Array | Float32Array | BigInt64Array {
  const size = DTYPE_BYTES[t.dtype];
  const count = (t.end - t.begin) / size;
  let buffer = bytes.buffer;
  let offset = bytes.byteOffset + dataStart + t.begin;
  if (offset % size !== 0) {
    const copy = new Uint8Array(t.end - t.begin);
    copy.set(bytes.subarray(dataStart + t.begin, dataStart + t.end));
    buffer = copy.buffer;
    offset = 0;
  }
  switch (t.dtype) {
    case 'U8': return new Uint8Array(buffer, offset, count);
    case 'I32': return new Int32Array(buffer, offset, count);
    case 'F32': return new Float32Array(buffer, offset, count);
    case 'I64': return new BigInt64Array(buffer, offset, count);
    default: throw new DynamicsError(`unexpected dtype ${t.dtype}`);
  }
}

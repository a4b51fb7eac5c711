import { DYNAMICS_FORMAT, DYNAMICS_VERSION } from './format';
import { KEY_BYTES } from './pairKey';

/**
 * Writes a dynamics file's bytes (docs/contracts.md §8) the way the trainer's safetensors writer
 * lays them out: tensors by descending element size then name, the header padded with spaces to
 * a multiple of 8. For tests and benchmarks (the trainer writes the real ones).
 */

export interface DynamicsRowsInput {
  /** N x 32. */
  key: Uint8Array;
  line: ArrayLike<number>;
  side: ArrayLike<number>;
  split: ArrayLike<number>;
  visits: ArrayLike<number>;
  aum: ArrayLike<number>;
  confidence?: ArrayLike<number>;
  variability?: ArrayLike<number>;
  correctness?: ArrayLike<number>;
  lastMargin?: ArrayLike<number>;
  diagWeight?: ArrayLike<number>;
  evalSteps?: number[];
  /** E x M row-major. */
  evalMargin?: ArrayLike<number>;
  /** `__metadata__` overrides and additions (all strings). */
  metadata?: Record<string, string>;
}

export function encodeDynamics(input: DynamicsRowsInput): Uint8Array {
  const n = input.key.length / KEY_BYTES;
  let m = 0;
  for (let i = 0; i < n; i++) if (input.split[i]) m++;
  const e = input.evalSteps?.length ?? 0;
  const nan = (k?: ArrayLike<number>) => (k ? Float32Array.from(k) : new Float32Array(n).fill(NaN));
  const tensors: [string, 'U8' | 'I32' | 'I64' | 'F32', number[], Uint8Array][] = [
    ['key', 'U8', [n, KEY_BYTES], input.key],
    ['line', 'I32', [n], bytes(Int32Array.from(input.line))],
    ['side', 'U8', [n], Uint8Array.from(input.side)],
    ['split', 'U8', [n], Uint8Array.from(input.split)],
    ['visits', 'I32', [n], bytes(Int32Array.from(input.visits))],
    ['aum', 'F32', [n], bytes(Float32Array.from(input.aum))],
    ['confidence', 'F32', [n], bytes(nan(input.confidence))],
    ['variability', 'F32', [n], bytes(nan(input.variability))],
    ['correctness', 'F32', [n], bytes(nan(input.correctness))],
    ['last_margin', 'F32', [n], bytes(nan(input.lastMargin))],
    ['diag_weight', 'F32', [n], bytes(nan(input.diagWeight))],
    ['eval_steps', 'I64', [e], bytes(BigInt64Array.from((input.evalSteps ?? []).map((s) => BigInt(s))))],
    ['eval_margin', 'F32', [e, m], bytes(input.evalMargin ? Float32Array.from(input.evalMargin) : new Float32Array(e * m))],
  ];
  const size = { U8: 1, I32: 4, F32: 4, I64: 8 };
  tensors.sort((a, b) => size[b[1]] - size[a[1]] || (a[0] < b[0] ? -1 : 1));
  const metadata: Record<string, string> = {
    format: DYNAMICS_FORMAT, version: String(DYNAMICS_VERSION), run: 'run', method: 'dpo', beta: '0.1', step: '1', epoch: '1',
    dataset: 'data.pref.jsonl', dataset_sha256: '0'.repeat(64), labels_sha256: '0'.repeat(64), complete: 'true', ...input.metadata,
  };
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, dtype, shape, data] of tensors) {
    header[name] = { dtype, shape, data_offsets: [offset, offset + data.length] };
    offset += data.length;
  }
  let json = JSON.stringify(header);
  const jsonBytes = () => new TextEncoder().encode(json);
  json += ' '.repeat((8 - (jsonBytes().length % 8)) % 8);
  const head = jsonBytes();
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let o = 8 + head.length;
  for (const [, , , data] of tensors) {
    out.set(data, o);
    o += data.length;
  }
  return out;
}

function bytes(a: Int32Array | Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

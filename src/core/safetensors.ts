/**
 * The safetensors container, pure (no fs): an 8-byte little-endian header length, a JSON header
 * ({name: {dtype, shape, data_offsets}, __metadata__: {string: string}}), then the tensor bytes
 * (data_offsets relative to the first byte after the header). Shared by the embedding cache
 * (src/embeddings/safetensors.ts, which adds file reads and writes) and the training dynamics
 * file (src/core/dynamics). No maintained npm reader covers local files with typed-array views
 * (huggingface.js only fetches remote headers), hence this small one.
 */

/** Element sizes of the safetensors dtypes this project can meet. */
export const DTYPE_BYTES = { BOOL: 1, U8: 1, I8: 1, U16: 2, I16: 2, F16: 2, BF16: 2, U32: 4, I32: 4, F32: 4, U64: 8, I64: 8, F64: 8 } as const;
export type AnyDType = keyof typeof DTYPE_BYTES;

export class SafetensorsError extends Error {}

/** A tensor's place in the file, before its bytes are read. */
export interface TensorInfo<D extends string = AnyDType> {
  dtype: D;
  shape: number[];
  /** Byte offsets relative to the start of the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader<D extends string = AnyDType> {
  metadata: Record<string, string>;
  tensors: Record<string, TensorInfo<D>>;
}

/** Refuse absurd headers before allocating them. */
export const MAX_HEADER = 100 * 1024 * 1024;

/** The header length (first 8 bytes), checked against the file size. */
export function headerLength(first8: Uint8Array, fileSize: number, where: string): number {
  if (fileSize < 8 || first8.length < 8) throw new SafetensorsError(`${where}: ${fileSize} bytes, too short for a safetensors header`);
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const len = view.getBigUint64(0, true);
  if (len > BigInt(MAX_HEADER) || 8 + Number(len) > fileSize) throw new SafetensorsError(`${where}: header length ${len} exceeds the file (${fileSize} bytes)`);
  return Number(len);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses and checks the JSON header against `dataLen`, the number of bytes after it. `dtypes`
 * lists the dtypes the caller accepts (others are an error naming the tensor).
 */
export function parseHeader<D extends AnyDType>(bytes: Uint8Array, dataLen: number, where: string, dtypes: readonly D[]): SafetensorsHeader<D> {
  let header: unknown;
  try {
    header = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    throw new SafetensorsError(`${where}: header is not JSON (${(err as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw new SafetensorsError(`${where}: header is not a JSON object`);
  const out: SafetensorsHeader<D> = { metadata: {}, tensors: {} };
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SafetensorsError(`${where}: __metadata__ is not an object`);
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new SafetensorsError(`${where}: __metadata__.${k} is not a string`);
        out.metadata[k] = v;
      }
      continue;
    }
    const t = (value ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t.dtype !== 'string' || !(dtypes as readonly string[]).includes(t.dtype)) {
      throw new SafetensorsError(`${where}: tensor ${name}: unsupported dtype ${String(t.dtype)}`);
    }
    const dtype = t.dtype as D;
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new SafetensorsError(`${where}: tensor ${name}: bad shape`);
    const offs = t.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o))) throw new SafetensorsError(`${where}: tensor ${name}: bad data_offsets`);
    const [begin, end] = offs as [number, number];
    const expected = (t.shape as number[]).reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    if (begin < 0 || end < begin || end > dataLen || end - begin !== expected) {
      throw new SafetensorsError(`${where}: tensor ${name}: data_offsets [${begin}, ${end}] do not match shape [${(t.shape as number[]).join(', ')}] within ${dataLen} data bytes`);
    }
    out.tensors[name] = { dtype, shape: t.shape as number[], begin, end };
  }
  return out;
}

/** A whole file in memory: its header and where the data section starts in `buf`. */
export function parseSafetensorsBytes<D extends AnyDType>(buf: Uint8Array, where: string, dtypes: readonly D[]): { header: SafetensorsHeader<D>; dataStart: number } {
  const len = headerLength(buf, buf.length, where);
  const header = parseHeader(buf.subarray(8, 8 + len), buf.length - 8 - len, where, dtypes);
  return { header, dataStart: 8 + len };
}

import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic, writeFileAtomicSync } from '../node/atomicFile';

/**
 * A small safetensors reader/writer: 8-byte little-endian header length, a JSON header
 * ({name: {dtype, shape, data_offsets}, __metadata__: {string: string}}), then the tensor bytes.
 * Only what the embedding cache needs (F32 and U8); Python reads our files with
 * safetensors.numpy.load_file.
 */

export type DType = 'F32' | 'U8';

export interface Tensor {
  dtype: DType;
  shape: number[];
  /** The raw little-endian bytes (a view into the file buffer when read). */
  data: Uint8Array;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Record<string, Tensor>;
}

export class SafetensorsError extends Error {}

const BYTES: Record<DType, number> = { F32: 4, U8: 1 };
/** Refuse absurd headers before allocating them. */
const MAX_HEADER = 100 * 1024 * 1024;

export function parseSafetensors(buf: Uint8Array, where = 'safetensors file'): SafetensorsFile {
  if (buf.length < 8) throw new SafetensorsError(`${where}: ${buf.length} bytes, too short for a safetensors header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > buf.length) throw new SafetensorsError(`${where}: header length ${headerLen} exceeds the file (${buf.length} bytes)`);
  const header = parseHeader(buf.subarray(8, 8 + headerLen), buf.length - 8 - headerLen, where);
  const dataStart = 8 + headerLen;
  const tensors: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(header.tensors)) {
    tensors[name] = { dtype: t.dtype, shape: t.shape, data: buf.subarray(dataStart + t.begin, dataStart + t.end) };
  }
  return { metadata: header.metadata, tensors };
}

/** A tensor's place in the file, before its bytes are read. */
export interface TensorInfo {
  dtype: DType;
  shape: number[];
  /** Byte offsets relative to the start of the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  tensors: Record<string, TensorInfo>;
}

/** Parses and checks the JSON header against `dataLen`, the number of bytes after it. */
function parseHeader(bytes: Uint8Array, dataLen: number, where: string): SafetensorsHeader {
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new SafetensorsError(`${where}: header is not JSON (${(err as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw new SafetensorsError(`${where}: header is not a JSON object`);
  const out: SafetensorsHeader = { metadata: {}, tensors: {} };
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries((value ?? {}) as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new SafetensorsError(`${where}: __metadata__.${k} is not a string`);
        out.metadata[k] = v;
      }
      continue;
    }
    const t = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (t.dtype !== 'F32' && t.dtype !== 'U8') throw new SafetensorsError(`${where}: tensor ${name}: unsupported dtype ${String(t.dtype)}`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new SafetensorsError(`${where}: tensor ${name}: bad shape`);
    const offs = t.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o))) throw new SafetensorsError(`${where}: tensor ${name}: bad data_offsets`);
    const [begin, end] = offs as [number, number];
    const expected = (t.shape as number[]).reduce((a, b) => a * b, 1) * BYTES[t.dtype];
    if (begin < 0 || end < begin || end > dataLen || end - begin !== expected) {
      throw new SafetensorsError(`${where}: tensor ${name}: data_offsets [${begin}, ${end}] do not match shape [${(t.shape as number[]).join(', ')}] within ${dataLen} data bytes`);
    }
    out.tensors[name] = { dtype: t.dtype, shape: t.shape as number[], begin, end };
  }
  return out;
}

/**
 * An open safetensors file whose header has been read and checked against the file size; tensor
 * bytes are read only when asked for (the embedding cache often needs its keys alone). Reads go
 * through one file handle, so a file renamed over this one meanwhile does not mix two versions.
 */
export class SafetensorsReader {
  private constructor(
    private readonly handle: fs.promises.FileHandle,
    readonly where: string,
    readonly header: SafetensorsHeader,
    private readonly dataStart: number,
  ) {}

  /** Opens `file` (an ENOENT error passes through) and reads its header. */
  static async open(file: string): Promise<SafetensorsReader> {
    const handle = await fs.promises.open(file, 'r');
    try {
      const { size } = await handle.stat();
      if (size < 8) throw new SafetensorsError(`${file}: ${size} bytes, too short for a safetensors header`);
      const head = Buffer.alloc(8);
      await readFully(handle, head, 0, file);
      const headerLen = Number(head.readBigUInt64LE(0));
      if (headerLen > MAX_HEADER || 8 + headerLen > size) throw new SafetensorsError(`${file}: header length ${headerLen} exceeds the file (${size} bytes)`);
      const json = Buffer.alloc(headerLen);
      await readFully(handle, json, 8, file);
      return new SafetensorsReader(handle, file, parseHeader(json, size - 8 - headerLen, file), 8 + headerLen);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /**
   * The bytes of one tensor, in a Buffer of their own (byteOffset 0, so F32 data can be viewed
   * as a Float32Array without a copy).
   */
  async read(name: string): Promise<Uint8Array> {
    const t = this.header.tensors[name];
    if (!t) throw new SafetensorsError(`${this.where}: missing tensor ${name}`);
    const buf = Buffer.allocUnsafeSlow(t.end - t.begin);
    await readFully(this.handle, buf, this.dataStart + t.begin, this.where);
    return buf;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** Fills `buf` from `position` in reads of up to 64 MiB (few round trips to the thread pool). */
async function readFully(handle: fs.promises.FileHandle, buf: Uint8Array, position: number, where: string): Promise<void> {
  for (let done = 0; done < buf.length; ) {
    const { bytesRead } = await handle.read(buf, done, Math.min(buf.length - done, 64 * 1024 * 1024), position + done);
    if (bytesRead === 0) throw new SafetensorsError(`${where}: the file ended early (it shrank while being read)`);
    done += bytesRead;
  }
}

/**
 * Serialise tensors (in the given order) and metadata. The header is padded with spaces to a
 * multiple of 8 bytes, as the reference implementation does, so F32 data stays aligned.
 */
export function serializeSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string>): Buffer[] {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const expected = t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype];
    if (t.data.byteLength !== expected) throw new SafetensorsError(`tensor ${name}: ${t.data.byteLength} bytes for shape [${t.shape.join(', ')}]`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return [head, Buffer.from(json, 'utf8'), ...Object.values(tensors).map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))];
}

/** Writes atomically (src/node/atomicFile.ts: a temporary file in the same folder, fsync, rename). */
export function writeSafetensorsFile(file: string, tensors: Record<string, Tensor>, metadata: Record<string, string>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomicSync(file, serializeSafetensors(tensors, metadata));
}

/**
 * `writeSafetensorsFile` off the event loop: writes, fsync and rename run in libuv's thread
 * pool, so a cache of hundreds of MB (and a slow fsync) never stalls the extension host. The
 * tensors' bytes must not change until the promise settles.
 */
export async function writeSafetensorsFileAsync(file: string, tensors: Record<string, Tensor>, metadata: Record<string, string>): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, serializeSafetensors(tensors, metadata));
}

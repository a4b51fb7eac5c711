import fs from 'node:fs';
import path from 'node:path';
import { type SafetensorsHeader as CoreHeader, type TensorInfo as CoreTensorInfo, SafetensorsError, headerLength, parseHeader, parseSafetensorsBytes } from '../core/safetensors';
import { writeFileAtomic, writeFileAtomicSync } from '../node/atomicFile';

/**
 * A small safetensors reader/writer: 8-byte little-endian header length, a JSON header
 * ({name: {dtype, shape, data_offsets}, __metadata__: {string: string}}), then the tensor bytes.
 * Only what the embedding cache needs (F32 and U8); the header parsing is the pure one in
 * src/core/safetensors.ts. Python reads our files with safetensors.numpy.load_file.
 */

export type DType = 'F32' | 'U8';
const DTYPES: readonly DType[] = ['F32', 'U8'];

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

export { SafetensorsError };
export type TensorInfo = CoreTensorInfo<DType>;
export type SafetensorsHeader = CoreHeader<DType>;

const BYTES: Record<DType, number> = { F32: 4, U8: 1 };

export function parseSafetensors(buf: Uint8Array, where = 'safetensors file'): SafetensorsFile {
  const { header, dataStart } = parseSafetensorsBytes(buf, where, DTYPES);
  const tensors: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(header.tensors)) {
    tensors[name] = { dtype: t.dtype, shape: t.shape, data: buf.subarray(dataStart + t.begin, dataStart + t.end) };
  }
  return { metadata: header.metadata, tensors };
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
      const head = Buffer.alloc(8);
      if (size >= 8) await readFully(handle, head, 0, file);
      const headerLen = headerLength(head, size, file);
      const json = Buffer.alloc(headerLen);
      await readFully(handle, json, 8, file);
      return new SafetensorsReader(handle, file, parseHeader(json, size - 8 - headerLen, file, DTYPES), 8 + headerLen);
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

import { open } from 'node:fs/promises';

/**
 * A file's bytes held as fixed-size Buffer chunks plus an index of line start offsets.
 *
 * Why not one string: V8 strings stop at 0x1fffffe8 characters (about 512 MB), so a 1.4 GB
 * preference file cannot be decoded at once. Lines are decoded on demand instead.
 * Why chunks: one Buffer is capped at 4 GiB and large contiguous allocations fail on busy
 * machines; chunks also make it cheap to back the bytes with SharedArrayBuffers so a worker
 * thread can scan them without a copy (see `toShared` / `fromShared`).
 * Why Float64Array offsets: byte offsets past 4 GiB do not fit a Uint32Array.
 *
 * Line model (what `rpo validate` line numbers mean, 1-based there, 0-based here):
 * - a UTF-8 BOM at the very start of the file is not part of line 0 (`bomLength` = 3);
 * - a line ends at `\n`; a `\r` right before it belongs to the ending (`eolLength` 2);
 * - the last line may have no ending; a file ending in `\n` has no extra empty line after it;
 * - an empty file has 0 lines; blank lines are lines (their content is empty).
 * Bytes are never changed: `content(i)` + `eol(i)` over all lines, prefixed by the BOM, is the
 * file.
 */
export class LineIndex {
  /** Bytes per chunk (the last chunk may be shorter). 256 MiB: few chunks, easy allocations. */
  static readonly DEFAULT_CHUNK_SIZE = 256 * 1024 * 1024;

  private constructor(
    /** The file's bytes, chunk k covering [k * chunkSize, (k + 1) * chunkSize). */
    readonly chunks: readonly Buffer[],
    readonly chunkSize: number,
    readonly byteLength: number,
    /** starts[i] = byte offset where line i's raw span begins; starts[lineCount] = byteLength. */
    private readonly starts: Float64Array,
    readonly lineCount: number,
    readonly bomLength: 0 | 3,
  ) {}

  /** Indexes bytes already in memory (tests, small files, a worker's shared chunks). */
  static fromBuffer(bytes: Buffer): LineIndex {
    return LineIndex.fromChunks([bytes], Math.max(bytes.length, 1));
  }

  /** Indexes chunks that are each `chunkSize` bytes long except possibly the last. */
  static fromChunks(chunks: readonly Buffer[], chunkSize: number): LineIndex {
    const builder = new LineIndexBuilder();
    for (const chunk of chunks) builder.push(chunk);
    return builder.finish(chunks, chunkSize);
  }

  /**
   * Reads a file into chunks (fs reads straight into preallocated Buffers: no giant string, no
   * intermediate copies) and indexes it while reading. `shared` backs the chunks with
   * SharedArrayBuffers so `toShared()` can hand them to a worker without copying.
   */
  static async read(
    path: string,
    options: { shared?: boolean; chunkSize?: number; onProgress?: (bytesRead: number, total: number) => void; signal?: AbortSignal } = {},
  ): Promise<LineIndex> {
    const chunkSize = options.chunkSize ?? LineIndex.DEFAULT_CHUNK_SIZE;
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const chunks: Buffer[] = [];
      const builder = new LineIndexBuilder();
      const readSize = 16 * 1024 * 1024;
      for (let chunkStart = 0; chunkStart < size; chunkStart += chunkSize) {
        const length = Math.min(chunkSize, size - chunkStart);
        const chunk = options.shared ? Buffer.from(new SharedArrayBuffer(length)) : Buffer.allocUnsafe(length);
        let filled = 0;
        while (filled < length) {
          options.signal?.throwIfAborted();
          const { bytesRead } = await handle.read(chunk, filled, Math.min(readSize, length - filled), chunkStart + filled);
          if (bytesRead === 0) throw new Error(`${path}: the file shrank while it was being read (expected ${size} bytes)`);
          // Indexed read by read: a few ms per 16 MB between reads, not one long block per chunk.
          builder.push(chunk.subarray(filled, filled + bytesRead));
          filled += bytesRead;
          options.onProgress?.(chunkStart + filled, size);
        }
        chunks.push(chunk);
      }
      return builder.finish(chunks, chunks.length > 1 ? chunkSize : Math.max(size, 1));
    } finally {
      await handle.close();
    }
  }

  /** Plain data (SharedArrayBuffers when read with `shared`) to post to a worker. */
  toShared(): SharedLineIndexData {
    return {
      chunks: this.chunks.map((c) => new Uint8Array(c.buffer, c.byteOffset, c.length)),
      chunkSize: this.chunkSize,
      byteLength: this.byteLength,
      starts: this.starts.subarray(0, this.lineCount + 1),
      lineCount: this.lineCount,
      bomLength: this.bomLength,
    };
  }

  /** Rebuilds an index from `toShared()` data (in a worker) without rescanning. */
  static fromShared(data: SharedLineIndexData): LineIndex {
    const chunks = data.chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    return new LineIndex(chunks, data.chunkSize, data.byteLength, data.starts, data.lineCount, data.bomLength);
  }

  /** Byte offset where line i's content begins (after the BOM for line 0). */
  contentStart(i: number): number {
    return i === 0 ? this.bomLength : this.starts[i]!;
  }

  /** Byte offset where line i's content ends (before its `\n` or `\r\n`). */
  contentEnd(i: number): number {
    return this.starts[i + 1]! - this.eolLength(i);
  }

  /** End of line i's raw span (after its line ending). */
  rawEnd(i: number): number {
    return this.starts[i + 1]!;
  }

  /** 0, 1 (`\n`) or 2 (`\r\n`). */
  eolLength(i: number): 0 | 1 | 2 {
    const end = this.starts[i + 1]!;
    const start = this.contentStart(i);
    if (end <= start || this.byteAt(end - 1) !== 0x0a) return 0;
    return end - 1 > start && this.byteAt(end - 2) === 0x0d ? 2 : 1;
  }

  /** Line i's ending as bytes: '', '\n' or '\r\n'. */
  eol(i: number): '' | '\n' | '\r\n' {
    return (['', '\n', '\r\n'] as const)[this.eolLength(i)];
  }

  /** Line i's content bytes (no ending). A view into the file's bytes unless it spans chunks. */
  content(i: number): Buffer {
    return this.slice(this.contentStart(i), this.contentEnd(i));
  }

  /** Line i's content decoded as UTF-8 (invalid sequences become U+FFFD; check with isUtf8). */
  text(i: number): string {
    return this.content(i).toString('utf8');
  }

  /** Bytes [start, end) of the file; zero-copy when inside one chunk. */
  slice(start: number, end: number): Buffer {
    const k = Math.floor(start / this.chunkSize);
    const chunkStart = k * this.chunkSize;
    if (end <= chunkStart + this.chunkSize || end === start) {
      return this.chunks[k]!.subarray(start - chunkStart, end - chunkStart);
    }
    const parts: Buffer[] = [];
    for (let pos = start; pos < end; ) {
      const kk = Math.floor(pos / this.chunkSize);
      const base = kk * this.chunkSize;
      const stop = Math.min(end, base + this.chunkSize);
      parts.push(this.chunks[kk]!.subarray(pos - base, stop - base));
      pos = stop;
    }
    return Buffer.concat(parts, end - start);
  }

  /** Views over bytes [start, end), chunk by chunk (for streaming writes without copies). */
  *views(start: number, end: number): Generator<Buffer> {
    for (let pos = start; pos < end; ) {
      const k = Math.floor(pos / this.chunkSize);
      const base = k * this.chunkSize;
      const stop = Math.min(end, base + this.chunkSize);
      yield this.chunks[k]!.subarray(pos - base, stop - base);
      pos = stop;
    }
  }

  private byteAt(offset: number): number {
    const k = Math.floor(offset / this.chunkSize);
    return this.chunks[k]![offset - k * this.chunkSize]!;
  }
}

/** What `LineIndex.toShared()` returns: structured-clone friendly, shared when possible. */
export interface SharedLineIndexData {
  chunks: Uint8Array[];
  chunkSize: number;
  byteLength: number;
  starts: Float64Array;
  lineCount: number;
  bomLength: 0 | 3;
}

/** Incremental newline scan over consecutive chunks. */
class LineIndexBuilder {
  private starts = new Float64Array(1024);
  private count = 1; // starts[0] = 0
  private offset = 0;
  private bom: 0 | 3 = 0;
  private firstBytes: number[] = [];

  push(chunk: Buffer): void {
    if (this.firstBytes.length < 3) {
      for (let j = 0; j < chunk.length && this.firstBytes.length < 3; j++) this.firstBytes.push(chunk[j]!);
      if (this.firstBytes.length === 3 && this.firstBytes[0] === 0xef && this.firstBytes[1] === 0xbb && this.firstBytes[2] === 0xbf) this.bom = 3;
    }
    let pos = chunk.indexOf(0x0a);
    while (pos !== -1) {
      if (this.count === this.starts.length) {
        const grown = new Float64Array(this.starts.length * 2);
        grown.set(this.starts);
        this.starts = grown;
      }
      this.starts[this.count++] = this.offset + pos + 1;
      pos = chunk.indexOf(0x0a, pos + 1);
    }
    this.offset += chunk.length;
  }

  finish(chunks: readonly Buffer[], chunkSize: number): LineIndex {
    const byteLength = this.offset;
    // count-1 newlines seen; a non-empty tail after the last newline is one more line.
    let lineCount = this.count - 1;
    const lastStart = this.starts[this.count - 1]!;
    if (byteLength > Math.max(lastStart, this.count === 1 ? this.bom : 0)) lineCount++;
    const starts = new Float64Array(lineCount + 1);
    starts.set(this.starts.subarray(0, Math.min(this.count, lineCount + 1)));
    starts[lineCount] = byteLength;
    // A file that is only a BOM has no lines; keep the BOM as a prefix.
    const Ctor = LineIndex as unknown as new (...args: unknown[]) => LineIndex;
    return new Ctor(chunks.length ? chunks : [Buffer.alloc(0)], chunkSize, byteLength, starts, lineCount, this.bom);
  }
}

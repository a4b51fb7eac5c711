import { type FileHandle, open } from 'node:fs/promises';
import { readUpTo } from '../core/dataset/diskFile';

/**
 * Reads single lines of a large file on demand: one streaming scan records where each line
 * starts (8 bytes per line: 8 MB for 1,000,000 lines; the file's bytes are not kept), then a line
 * is one positioned read. For the data map's hover (the prompt of one pair of a 1M-pair file).
 * The scan is redone when the file's size or modification time changed since it was made.
 */
export class LineOffsets {
  private constructor(
    readonly path: string,
    private readonly starts: Float64Array,
    readonly lineCount: number,
    private readonly size: number,
    private readonly mtimeMs: number,
  ) {}

  static async scan(path: string, signal?: AbortSignal): Promise<LineOffsets> {
    const handle = await open(path, 'r');
    try {
      const { size, mtimeMs } = await handle.stat();
      let starts = new Float64Array(1024);
      let count = 1; // starts[0] = 0
      const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
      for (let pos = 0; pos < size; ) {
        signal?.throwIfAborted();
        const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, size - pos), pos);
        if (bytesRead === 0) break;
        let at = buf.indexOf(0x0a);
        while (at !== -1 && at < bytesRead) {
          if (count === starts.length) {
            const grown = new Float64Array(starts.length * 2);
            grown.set(starts);
            starts = grown;
          }
          starts[count++] = pos + at + 1;
          at = buf.indexOf(0x0a, at + 1);
        }
        pos += bytesRead;
      }
      // A last line without a newline counts; a file ending in a newline has no empty line after it.
      const lastStart = starts[count - 1]!;
      const lineCount = size > lastStart ? count : count - 1;
      const exact = new Float64Array(lineCount + 1);
      exact.set(starts.subarray(0, Math.min(count, lineCount + 1)));
      exact[lineCount] = size;
      return new LineOffsets(path, exact, lineCount, size, mtimeMs);
    } finally {
      await handle.close();
    }
  }

  /** Whether the file still has the size and time it had when scanned. */
  async current(): Promise<boolean> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(this.path, 'r');
      const { size, mtimeMs } = await handle.stat();
      return size === this.size && mtimeMs === this.mtimeMs;
    } catch {
      return false;
    } finally {
      await handle?.close();
    }
  }

  /** Line `n` (1-based) without its line ending (a BOM on line 1 dropped), or undefined past the end. */
  async line(n: number): Promise<string | undefined> {
    if (!Number.isInteger(n) || n < 1 || n > this.lineCount) return undefined;
    const start = this.starts[n - 1]!;
    const end = this.starts[n]!;
    const handle = await open(this.path, 'r');
    try {
      const buf = Buffer.allocUnsafe(end - start);
      let text = buf.subarray(0, await readUpTo(handle, buf, start)).toString('utf8');
      if (n === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      return text.replace(/\r?\n$/, '');
    } finally {
      await handle.close();
    }
  }
}

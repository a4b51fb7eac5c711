import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { mergeFiles, type MergeConflict, type MergeOptions, type MergeResult } from '../core/merge';
import type { ResolutionPolicy } from '../core/dataset/votes';

/**
 * The merge of line-aligned files block by block (docs/merge.md, "Speed"). The files are not
 * held in memory: each is scanned once for its line offsets; the lines are cut into blocks, each
 * read from the three files (positioned reads), merged with mergeFiles into bytes with their line
 * endings, and written in order; in worker threads on 2 or more cores. Same output as one
 * mergeFiles over the whole files.
 */

/** A file's line start offsets (as LineIndex counts lines): starts[lineCount] is its size. */
export interface LineOffsets {
  path: string;
  starts: Float64Array;
  lineCount: number;
  /** The file starts with a UTF-8 byte order mark. */
  bom: boolean;
}

/** Scans a file for its line offsets, 16 MiB at a time (its bytes are not kept). */
export function indexLines(path: string): LineOffsets {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(16 * 1024 * 1024);
    let starts = new Float64Array(1 << 16);
    let n = 1; // starts[0] = 0
    let pos = 0;
    let last = -1;
    let bom = false;
    for (;;) {
      const got = readSync(fd, buf, 0, buf.length, pos);
      if (got === 0) break;
      if (pos === 0 && got >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) bom = true;
      for (let i = buf.indexOf(10); i >= 0 && i < got; i = buf.indexOf(10, i + 1)) {
        if (n === starts.length) {
          const bigger = new Float64Array(starts.length * 2);
          bigger.set(starts);
          starts = bigger;
        }
        starts[n++] = pos + i + 1;
      }
      last = buf[got - 1]!;
      pos += got;
    }
    // a last line without a line ending is a line; an empty file has none
    let lineCount = n - 1;
    if (pos > 0 && last !== 10) lineCount++;
    const shared = new Float64Array(new SharedArrayBuffer((lineCount + 1) * 8));
    shared.set(starts.subarray(0, lineCount));
    shared[lineCount] = pos;
    return { path, starts: shared, lineCount, bom };
  } finally {
    closeSync(fd);
  }
}

export interface MergeWorkerInit {
  type: 'init';
  base: LineOffsets | null;
  ours: LineOffsets;
  theirs: LineOffsets;
  policy: ResolutionPolicy;
  fastPath: boolean;
}
export interface MergeWorkerBlock {
  type: 'block';
  block: number;
  start: number;
  end: number;
  /** A buffer written out before, handed back for this block's bytes (bounds the memory in flight). */
  reuse?: ArrayBuffer;
}
export type MergeWorkerRequest = MergeWorkerInit | MergeWorkerBlock;
export type MergeWorkerReply =
  | { type: 'merged'; block: number; bytes: Uint8Array; united: number; disputed: number; conflicts: MergeConflict[] }
  | { type: 'failed'; message: string };

/**
 * Lines [start, end) of a file, in a buffer holding their bytes, cut at the file's line offsets
 * (as LineIndex cuts them: content without its `\n` or `\r\n`, the BOM not part of line 0).
 */
export class BlockLines {
  readonly lineCount: number;
  constructor(readonly buf: Buffer, readonly f: LineOffsets, readonly start: number, readonly end: number, readonly from: number) {
    this.lineCount = end - start;
    // each line but the file's last ends at a \n: the file changed since the scan otherwise
    const n = this.lineCount;
    for (let i = 0; i < n; i++) {
      const e = f.starts[start + i + 1]! - from;
      if (buf[e - 1] !== 0x0a && start + i + 1 < f.lineCount) throw new Error(`${f.path} changed while it was merged`);
    }
  }
  private contentStart(i: number): number {
    return i === 0 && this.start === 0 && this.f.bom ? 3 : this.f.starts[this.start + i]! - this.from;
  }
  eolLength(i: number): 0 | 1 | 2 {
    const end = this.f.starts[this.start + i + 1]! - this.from;
    const s = this.contentStart(i);
    if (end <= s || this.buf[end - 1] !== 0x0a) return 0;
    return end - 1 > s && this.buf[end - 2] === 0x0d ? 2 : 1;
  }
  content(i: number): Buffer {
    return this.buf.subarray(this.contentStart(i), this.f.starts[this.start + i + 1]! - this.from - this.eolLength(i));
  }
  eol(i: number): '' | '\n' | '\r\n' {
    return EOLS[this.eolLength(i)];
  }
  get byteLength(): number {
    return this.f.starts[this.end]! - this.from;
  }
}
const EOLS = ['', '\n', '\r\n'] as const;

/** One worker's open files and read buffers. */
export class BlockReader {
  private readonly fds: (number | null)[];
  private readonly bufs: Buffer[] = [Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0)];
  constructor(readonly init: MergeWorkerInit) {
    this.fds = [init.base ? openSync(init.base.path, 'r') : null, openSync(init.ours.path, 'r'), openSync(init.theirs.path, 'r')];
  }
  close(): void {
    for (const fd of this.fds) if (fd !== null) closeSync(fd);
  }
  /**
   * Lines [start, end) of file k (over a buffer reused by the next block), cut at the offsets the
   * scan found: the block's bytes are not scanned again.
   */
  private lines(k: number, f: LineOffsets, start: number, end: number): BlockLines {
    const from = f.starts[start]!;
    const len = f.starts[end]! - from;
    if (this.bufs[k]!.length < len) this.bufs[k] = Buffer.allocUnsafeSlow(Math.max(len, this.bufs[k]!.length * 2));
    const buf = this.bufs[k]!;
    for (let at = 0; at < len; ) {
      const got = readSync(this.fds[k]!, buf, at, len - at, from + at);
      if (got === 0) throw new Error(`${f.path} changed while it was merged`);
      at += got;
    }
    return new BlockLines(buf, f, start, end, from);
  }

  /**
   * Lines [start, end) merged, each followed by our line ending (as the aligned merge writes
   * them: the file's last line keeps its own, possibly none).
   */
  merge(block: number, start: number, end: number, reuse?: ArrayBuffer): Extract<MergeWorkerReply, { type: 'merged' }> {
    const init = this.init;
    const base = init.base ? this.lines(0, init.base, start, end) : null;
    const ours = this.lines(1, init.ours, start, end);
    const theirs = this.lines(2, init.theirs, start, end);
    // never from Buffer's pool: the bytes' ArrayBuffer is transferred to the main thread
    const want = Math.max(1024, ours.byteLength * 2);
    let out = reuse && reuse.byteLength >= want ? Buffer.from(reuse) : Buffer.allocUnsafeSlow(want);
    let size = 0;
    const lastBlock = end === init.ours.lineCount;
    let i = 0;
    const res = mergeFiles(base, ours, theirs, {
      policy: init.policy,
      fastPath: init.fastPath,
      onLine: (line) => {
        // the line and our line ending (a \n where the line has none, but for the file's last)
        let eol = ours.eolLength(i);
        if (eol === 0 && (i < ours.lineCount - 1 || !lastBlock)) eol = 1;
        const len = line.length;
        if (size + len + eol > out.length) {
          const bigger = Buffer.allocUnsafeSlow(Math.max(out.length * 2, size + len + eol));
          out.copy(bigger, 0, 0, size);
          out = bigger;
        }
        out.set(line, size);
        size += len;
        if (eol === 2) out[size++] = 0x0d;
        if (eol > 0) out[size++] = 0x0a;
        i++;
      },
    });
    for (const c of res.conflicts) c.line += start;
    return { type: 'merged', block, bytes: out.subarray(0, size), united: res.united, disputed: res.disputed, conflicts: res.conflicts };
  }
}

export interface ParallelMergeOptions extends MergeOptions {
  /** The built worker (dist/workers/merge.js); without it the merge runs in this thread. */
  workerPath?: string;
  /** Worker threads (default: the machine's parallelism, at most 4). */
  threads?: number;
}

/** Lines per block. */
const BLOCK = 8192;
/** Fewest lines merged in workers by default (32 blocks). */
const WORKER_LINES = 32 * BLOCK;

/**
 * How a merge of these files runs block by block: the worker threads (0: the blocks are merged in
 * this thread), or null when it does not (line counts differ, or fewer than 4 blocks: the files
 * are read whole). Workers need the built worker, 2 or more cores and 262,144 lines or more unless `threads` says (one per core, at most 4:
 * at 1M lines on 2 shared cores two workers took 1.06-1.11x the CPU of one thread and no more wall, docs/merge.md).
 */
export function blockThreads(base: LineOffsets | null, ours: LineOffsets, theirs: LineOffsets, options: ParallelMergeOptions): number | null {
  const n = ours.lineCount;
  if (theirs.lineCount !== n || (base && base.lineCount !== n) || n < 4 * BLOCK) return null;
  if (!options.workerPath || !existsSync(options.workerPath)) return 0;
  // a worker costs about 0.3 s of CPU to start: below this many lines one thread is as quick (docs/merge.md)
  const t = options.threads ?? (n < WORKER_LINES ? 0 : Math.min(availableParallelism(), 4));
  return t > 1 ? t : 0;
}

/**
 * Merges aligned files block by block, in `threads` workers (0: in this thread); `write` receives the merged bytes (with line
 * endings, after the BOM) in order. Conflicts: the first `maxConflicts` by line, as mergeFiles
 * reports them.
 */
export async function mergeParallel(base: LineOffsets | null, ours: LineOffsets, theirs: LineOffsets, options: ParallelMergeOptions, threads: number, write: (bytes: Uint8Array) => void): Promise<MergeResult> {
  const n = ours.lineCount;
  const blocks = Math.ceil(n / BLOCK);
  const init: MergeWorkerInit = { type: 'init', base, ours, theirs, policy: options.policy ?? 'majority', fastPath: options.fastPath ?? true };
  const res: MergeResult = { lines: [], conflicts: [], aligned: true, united: 0, disputed: 0 };
  if (threads === 0) {
    const reader = new BlockReader(init);
    try {
      let reuse: ArrayBuffer | undefined;
      for (let b = 0; b < blocks; b++) {
        const m = reader.merge(b, b * BLOCK, Math.min(n, (b + 1) * BLOCK), reuse);
        res.united += m.united;
        res.disputed += m.disputed;
        res.conflicts.push(...m.conflicts);
        if (!res.conflicts.length) write(m.bytes);
        reuse = m.bytes.buffer as ArrayBuffer;
      }
    } finally {
      reader.close();
    }
    res.conflicts = res.conflicts.slice(0, options.maxConflicts ?? 20);
    return res;
  }
  const workers = Array.from({ length: threads }, () => new Worker(options.workerPath!));
  const pending = new Map<number, Uint8Array>();
  const free: ArrayBuffer[] = []; // written blocks' buffers, handed back to the workers
  let next = 0;
  let written = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const give = (w: Worker) => {
        if (next >= blocks) return;
        const b = next++;
        const reuse = free.pop();
        w.postMessage({ type: 'block', block: b, start: b * BLOCK, end: Math.min(n, (b + 1) * BLOCK), reuse } satisfies MergeWorkerBlock, reuse ? [reuse] : []);
      };
      for (const w of workers) {
        w.on('error', reject);
        w.on('message', (m: MergeWorkerReply) => {
          if (m.type === 'failed') {
            reject(new Error(m.message));
            return;
          }
          res.united += m.united;
          res.disputed += m.disputed;
          res.conflicts.push(...m.conflicts);
          pending.set(m.block, m.bytes);
          try {
            for (let bytes = pending.get(written); bytes; bytes = pending.get(written)) {
              pending.delete(written);
              if (!res.conflicts.length) write(bytes);
              free.push(bytes.buffer as ArrayBuffer);
              written++;
            }
          } catch (err) {
            reject(err as Error);
            return;
          }
          if (written === blocks) resolve();
          else give(w);
        });
        w.postMessage(init);
        give(w);
        give(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  res.conflicts.sort((a, b) => a.line - b.line);
  res.conflicts = res.conflicts.slice(0, options.maxConflicts ?? 20);
  return res;
}

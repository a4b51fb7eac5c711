import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { LineIndex, SharedLineIndexData } from '../core/dataset/lineIndex';
import { mergeFiles, type MergeConflict, type MergeOptions, type MergeResult } from '../core/merge';
import type { ResolutionPolicy } from '../core/dataset/votes';

/**
 * The merge of line-aligned inputs in worker threads (docs/merge.md, "Speed"): the lines are cut
 * into blocks, each worker merges blocks of the shared inputs (LineIndex read with `shared`, no
 * copy) into bytes with their line endings, and the caller writes the blocks in order. Same
 * output as one `mergeFiles` over all lines.
 */

export interface MergeWorkerInit {
  type: 'init';
  base: SharedLineIndexData | null;
  ours: SharedLineIndexData;
  theirs: SharedLineIndexData;
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

export interface MergeInputs {
  base: LineIndex | null;
  ours: LineIndex;
  theirs: LineIndex;
  policy: ResolutionPolicy;
  fastPath: boolean;
}

/**
 * Lines [start, end) merged, each followed by our line ending (per line, as the aligned merge
 * writes them; the file's last line keeps its own, possibly none).
 */
export function mergeBlock(inp: MergeInputs, block: number, start: number, end: number, reuse?: ArrayBuffer): Extract<MergeWorkerReply, { type: 'merged' }> {
  const ours = inp.ours;
  // never from Buffer's pool: the bytes' ArrayBuffer is transferred to the main thread
  const want = Math.max(1024, Math.min(ours.rawEnd(end - 1) - ours.contentStart(start), 64 * 1024 * 1024) * 2);
  let out = reuse && reuse.byteLength >= want ? Buffer.from(reuse) : Buffer.allocUnsafeSlow(want);
  let size = 0;
  const put = (bytes: Uint8Array | string) => {
    const len = typeof bytes === 'string' ? bytes.length : bytes.length;
    if (size + len > out.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(out.length * 2, size + len));
      out.copy(bigger, 0, 0, size);
      out = bigger;
    }
    size += typeof bytes === 'string' ? out.write(bytes, size, 'latin1') : (out.set(bytes, size), len);
  };
  let i = start;
  const res = mergeFiles(inp.base, ours, inp.theirs, {
    policy: inp.policy,
    fastPath: inp.fastPath,
    range: [start, end],
    onLine: (line) => {
      put(line);
      put(i < ours.lineCount - 1 ? ours.eol(i) || '\n' : ours.eol(i));
      i++;
    },
  });
  return { type: 'merged', block, bytes: out.subarray(0, size), united: res.united, disputed: res.disputed, conflicts: res.conflicts };
}

export interface ParallelMergeOptions extends MergeOptions {
  /** The built worker (dist/workers/merge.js); without it the merge runs in this thread. */
  workerPath?: string;
  /** Worker threads (default: the machine's parallelism, at most 4). */
  threads?: number;
}

/** Lines per block. */
const BLOCK = 8192;

/** Whether a parallel merge applies: aligned inputs, a worker, more than one thread, enough lines. */
export function parallelThreads(base: LineIndex | null, ours: LineIndex, theirs: LineIndex, options: ParallelMergeOptions): number {
  const n = ours.lineCount;
  if (theirs.lineCount !== n || (base && base.lineCount !== n) || n < 4 * BLOCK) return 0;
  if (!options.workerPath || !existsSync(options.workerPath)) return 0;
  const t = options.threads ?? Math.min(availableParallelism(), 4);
  return t > 1 ? t : 0;
}

/**
 * Merges aligned inputs in `threads` workers; `write` receives the merged bytes (with line
 * endings) in order. Conflicts: the first `maxConflicts` by line, as mergeFiles reports them.
 */
export async function mergeParallel(base: LineIndex | null, ours: LineIndex, theirs: LineIndex, options: ParallelMergeOptions, threads: number, write: (bytes: Uint8Array) => void): Promise<MergeResult> {
  const n = ours.lineCount;
  const blocks = Math.ceil(n / BLOCK);
  // line offsets in shared memory too: one copy for all workers
  const share = (d: SharedLineIndexData): SharedLineIndexData => {
    const starts = new Float64Array(new SharedArrayBuffer(d.starts.byteLength));
    starts.set(d.starts);
    return { ...d, starts };
  };
  const init: MergeWorkerInit = { type: 'init', base: base ? share(base.toShared()) : null, ours: share(ours.toShared()), theirs: share(theirs.toShared()), policy: options.policy ?? 'majority', fastPath: options.fastPath ?? true };
  const workers = Array.from({ length: threads }, () => new Worker(options.workerPath!));
  const res: MergeResult = { lines: [], conflicts: [], aligned: true, united: 0, disputed: 0 };
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

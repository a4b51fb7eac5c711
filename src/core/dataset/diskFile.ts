import { createHash } from 'node:crypto';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * What a document remembers about its file on disk, to tell an external change from its own
 * writes: size, modification time, the inode (an editor or script that writes a new file and
 * renames it into place changes it) and a hash of the first and last SAMPLE_BYTES (a change
 * within the file system's mtime granularity, 1-2 s on FAT, SMB and some NFS set-ups, that keeps
 * the size is still seen when it touches either end; a full hash of a 1.4 GB file is too slow
 * for every save).
 */
export interface DiskState {
  size: number;
  mtimeMs: number;
  /** `dev:ino` as decimal text (bigint stat: exact on Windows too). */
  id: string;
  sample: string;
}

export const SAMPLE_BYTES = 64 * 1024;

/** The byte ranges hashed into `sample`: the head and the tail (one range for a small file). */
function sampleRanges(size: number): [number, number][] {
  if (size <= 2 * SAMPLE_BYTES) return [[0, size]];
  return [[0, SAMPLE_BYTES], [size - SAMPLE_BYTES, size]];
}

/** The sample hash of bytes already in memory, given as a reader of [start, end) ranges. */
export function sampleHash(size: number, rangeBytes: (start: number, end: number) => Iterable<Buffer>): string {
  const hash = createHash('sha256');
  hash.update(String(size));
  for (const [start, end] of sampleRanges(size)) for (const b of rangeBytes(start, end)) hash.update(b);
  return hash.digest('hex');
}

/**
 * Milliseconds from a bigint stat's nanoseconds, computed as Node computes a number stat's
 * `mtimeMs` (sec * 1e3 + nsec / 1e6): equal to what backups made with number stats recorded.
 */
export function msOf(ns: bigint): number {
  return Number(ns / 1_000_000_000n) * 1e3 + Number(ns % 1_000_000_000n) / 1e6;
}

/** Fills `buf` from `position` of the file, short only at its end; returns the bytes read. */
export async function readUpTo(handle: FileHandle, buf: Uint8Array, position: number): Promise<number> {
  let filled = 0;
  while (filled < buf.length) {
    const { bytesRead } = await handle.read(buf, filled, buf.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/** The state of an open file (fstat + sample read through the handle). */
export async function handleState(handle: FileHandle): Promise<DiskState> {
  const s = await handle.stat({ bigint: true });
  const size = Number(s.size);
  const ranges = new Map<number, Buffer>();
  for (const [start, end] of sampleRanges(size)) {
    const buf = Buffer.alloc(end - start);
    ranges.set(start, buf.subarray(0, await readUpTo(handle, buf, start)));
  }
  return {
    size,
    mtimeMs: msOf(s.mtimeNs),
    id: `${s.dev}:${s.ino}`,
    sample: sampleHash(size, (start) => [ranges.get(start)!]),
  };
}

/** The state of the file at `path` (following symbolic links), or undefined when there is none. */
export async function diskState(path: string): Promise<DiskState | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return await handleState(handle);
  } finally {
    await handle.close();
  }
}

export function sameDiskState(a: DiskState, b: DiskState): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.id === b.id && a.sample === b.sample;
}

/** What changed between two states, for messages ("size 120 -> 98 bytes, modified ..."). */
export function describeChange(before: DiskState, after: DiskState | undefined): string {
  if (!after) return 'it was deleted';
  const parts: string[] = [];
  if (after.id !== before.id) parts.push('it was replaced by another file');
  if (after.size !== before.size) parts.push(`size ${before.size} -> ${after.size} bytes`);
  if (after.mtimeMs !== before.mtimeMs) parts.push(`modified ${new Date(after.mtimeMs).toISOString()}`);
  if (!parts.length) parts.push('its content changed');
  return parts.join(', ');
}

/**
 * The file a write to `path` must replace: the target of a symbolic link (every link in the path
 * resolved), or for a file that does not exist yet its resolved folder plus its name. Replacing
 * the link itself would leave the real file without the write.
 */
export async function realTarget(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  try {
    return join(await realpath(dirname(path)), basename(path));
  } catch {
    return path;
  }
}

/**
 * True when `a` and `b` name the same existing file (same device and inode, whatever links or
 * folder links lead to it; bigint stat so NTFS file ids compare exactly).
 */
export async function sameFile(a: string, b: string): Promise<boolean> {
  let sa, sb;
  try {
    [sa, sb] = await Promise.all([stat(a, { bigint: true }), stat(b, { bigint: true })]);
  } catch {
    return false;
  }
  return sa.dev === sb.dev && sa.ino === sb.ino && sa.ino !== 0n;
}

/**
 * Whether a file may be replaced by a save: read-only when no write permission bit is set (as
 * root too: someone marked it read-only on purpose) or the process may not write it.
 */
export function isReadOnly(mode: number, writable: boolean): boolean {
  return (mode & 0o222) === 0 || !writable;
}

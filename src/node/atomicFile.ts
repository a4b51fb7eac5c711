import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The one way RPO Studio replaces a whole file that others read while it is written (run configs,
 * launch and process records, the embedding cache): the data goes to a temporary file next to
 * the target, is flushed to disk (fsync), and the temporary file is renamed over the target. A
 * reader sees the old content or the new, never a truncated file, and a crash leaves one of the
 * two. The temporary name is unique per writer (two windows may write the same record) and does
 * not end like the target (a `*.rpo.json` glob or a `readdir` filter does not pick it up); a
 * failed write removes it. Preference files are not written here: their saves stream line by
 * line (src/core/dataset/lineDocument.ts) and keep links and permissions.
 *
 * Sync and async forms share all of this; use the async form in the extension host for anything
 * large (the writes, fsync and rename run in libuv's thread pool).
 */

/** A whole file's content: text (UTF-8), bytes, or byte chunks written in order. */
export type FileContent = string | Uint8Array | readonly Uint8Array[];

export interface AtomicWriteOptions {
  /**
   * Flush the data to disk before the rename (default true). Only small records that the next
   * event rewrites anyway may skip it.
   */
  fsync?: boolean;
}

/** Largest single write of the async form (a chunk of hundreds of MB is written in slices). */
const MAX_WRITE = 64 * 1024 * 1024;

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

function chunksOf(data: FileContent): readonly Uint8Array[] {
  return typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
}

export function writeFileAtomicSync(file: string, data: FileContent, options: AtomicWriteOptions = {}): void {
  const tmp = tempName(file);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx');
    for (const chunk of chunksOf(data)) {
      for (let done = 0; done < chunk.length; ) done += fs.writeSync(fd, chunk, done, chunk.length - done);
    }
    if (options.fsync !== false) fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

export async function writeFileAtomic(file: string, data: FileContent, options: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tempName(file);
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(tmp, 'wx');
    for (const chunk of chunksOf(data)) {
      for (let done = 0; done < chunk.length; ) done += (await handle.write(chunk, done, Math.min(chunk.length - done, MAX_WRITE))).bytesWritten;
    }
    if (options.fsync !== false) await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.promises.rename(tmp, file);
  } catch (err) {
    if (handle) await handle.close();
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}

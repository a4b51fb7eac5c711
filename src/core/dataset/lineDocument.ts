import { randomBytes } from 'node:crypto';
import { access, chmod, constants, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type DiskState, describeChange, diskState, handleState, isReadOnly, msOf, realTarget, sameDiskState, sampleHash } from './diskFile';
import { LineIndex } from './lineIndex';

/**
 * The pure document model behind the labeling editor (no vscode): the file's original bytes
 * with a line index, plus an overlay of whole-line replacements.
 *
 * - Edits replace the content of whole lines (never the line ending, never add/remove lines).
 *   `applyEdits` returns a `LineEdit` that knows its inverse: undo/redo work at any time,
 *   also after save (VS Code keeps its undo stack across saves).
 * - Dirty state is exact: the set of lines whose current content differs from what was last
 *   saved (undoing back to the saved state makes the document clean again).
 * - `save` streams the original bytes (views into the loaded chunks, no copies) with the
 *   replaced lines spliced in to a temporary file in the same folder, fsyncs it and renames it
 *   over the target: nothing is half-written. Every unedited byte (BOM, `\r\n`, a missing final
 *   newline, invalid lines) is written as it was. A symbolic link is saved through (its target
 *   is replaced, the link stays). Save refuses, with a `SaveRefusedError` naming the reason, when
 *   the file changed on disk since it was loaded or last saved (size, mtime, inode, or a hash of
 *   its first and last 64 KiB), when it is read-only, and when it has other hard links (a rename
 *   would split them); the caller may then overwrite the change or write through the links in
 *   place (`SaveOptions`).
 * - `backup` is the pending edits plus the file's size and mtime (a few KB, never a copy);
 *   `LineDocument.restore` replays it after checking the file has not changed.
 * - `revert` reloads from disk and drops every edit.
 */
export interface LineEdit {
  /** Human label for VS Code's undo stack, e.g. "Label: chosen (line 17)". */
  readonly label: string;
  readonly changes: readonly LineChange[];
}

export interface LineChange {
  /** 0-based line number. */
  readonly line: number;
  /** Content before the edit (no line ending). */
  readonly before: Buffer;
  /** Content after the edit (no line ending). */
  readonly after: Buffer;
}

/** A change request: the new content (no line ending) of one line. */
export interface LineReplacement {
  line: number;
  text: string | Buffer;
}

/** What `backup()` returns and `restore()` reads (JSON-serialisable). */
export interface DocumentBackup {
  format: 'rpo-line-edits';
  version: 1;
  /** The file the edits apply to, as it was when the backup was made. */
  size: number;
  mtimeMs: number;
  /** [0-based line, new content as UTF-8 text or `b64:` + base64 for non-UTF-8 bytes]. */
  edits: [number, string][];
}

export class DocumentChangedError extends Error {}

/** Why `save` did not write (the caller may ask the user and retry with `SaveOptions`). */
export type SaveRefusal =
  /** The file is not the one loaded or last saved: an external change would be overwritten. */
  | { kind: 'changed-on-disk'; path: string; change: string }
  /** No write permission: the user marked it read-only, or may not write it. */
  | { kind: 'read-only'; path: string }
  /** The file has other hard links: replacing it would leave them with the old content. */
  | { kind: 'hard-links'; path: string; links: number };

export class SaveRefusedError extends Error {
  constructor(readonly refusal: SaveRefusal) {
    super(refusalMessage(refusal));
  }
}

function refusalMessage(r: SaveRefusal): string {
  switch (r.kind) {
    case 'changed-on-disk':
      return `${r.path} changed on disk since it was loaded or last saved (${r.change}); not saved, so that change is not overwritten`;
    case 'read-only':
      return `${r.path} is read-only; not saved (make it writable, or save to another file with Save As)`;
    case 'hard-links':
      return `${r.path} has ${r.links - 1} other hard link${r.links === 2 ? '' : 's'}; not saved (replacing it would leave the other names with the old content)`;
  }
}

export interface SaveOptions {
  signal?: AbortSignal;
  /** Replace the file even if it changed on disk since it was loaded or last saved. */
  overwriteChanged?: boolean;
  /**
   * A file with several hard links: write its bytes in place (every name sees the save). The
   * complete new content is written and synced to a temporary file first and removed only once
   * the file is rewritten; if the rewrite fails the error names that copy.
   */
  inPlace?: boolean;
}

export class LineDocument {
  private index: LineIndex;
  /** Current content of edited lines (absent: the original content). */
  private overlay = new Map<number, Buffer>();
  /** Content of lines as last saved (absent: the original content). */
  private saved = new Map<number, Buffer>();
  /** Lines whose current content differs from the saved content. */
  private dirtyLines = new Set<number>();
  /** The file on disk as we last read or wrote it. */
  private disk: DiskState;
  /** An external change the user chose to keep their edits over (save overwrites it without asking). */
  private accepted: DiskState | undefined;
  /** Bumped on every change (apply, undo, redo, revert): cache parses by (line, version) if needed. */
  version = 0;
  /**
   * Set for `head()` documents: only the first whole lines of a bigger file, to show while the
   * file is read. They refuse edits, save, backup and revert: writing them would cut the file.
   */
  partial: { totalBytes: number } | undefined;

  private constructor(
    readonly path: string,
    index: LineIndex,
    disk: DiskState,
  ) {
    this.index = index;
    this.disk = disk;
  }

  /** Reads and indexes the file. `shared`: back the bytes with SharedArrayBuffers (for workers). */
  static async open(path: string, options: { shared?: boolean; onProgress?: (read: number, total: number) => void; signal?: AbortSignal } = {}): Promise<LineDocument> {
    const before = await stat(path, { bigint: true });
    const index = await LineIndex.read(path, options);
    const after = await stat(path, { bigint: true });
    if (after.size !== before.size || after.mtimeNs !== before.mtimeNs || after.ino !== before.ino || index.byteLength !== Number(after.size)) {
      throw new DocumentChangedError(`${path} changed while it was being read; try again`);
    }
    const size = index.byteLength;
    return new LineDocument(path, index, { size, mtimeMs: msOf(after.mtimeNs), id: `${after.dev}:${after.ino}`, sample: sampleHash(size, (s, e) => index.views(s, e)) });
  }

  /**
   * The first whole lines of the file (up to `maxBytes`), read-only (`partial`), or undefined
   * when the file is not bigger than that (open it whole). For a first screen of a huge file
   * while `open` reads all of it. `minLines`: stop early once that many whole lines are in
   * (reads of `firstReadBytes`, default 256 KiB, doubling up to `maxBytes`).
   */
  static async head(path: string, maxBytes: number, options: { minLines?: number; firstReadBytes?: number } = {}): Promise<LineDocument | undefined> {
    const handle = await open(path, 'r');
    try {
      const s = await handleState(handle);
      if (s.size <= maxBytes) return undefined;
      const buf = Buffer.allocUnsafe(maxBytes);
      // With minLines: read firstReadBytes, doubling while fewer whole lines than that are in.
      let want = options.minLines ? Math.min(options.firstReadBytes ?? 256 * 1024, maxBytes) : maxBytes;
      let filled = 0;
      let lines = 0;
      while (filled < maxBytes) {
        const { bytesRead } = await handle.read(buf, filled, want - filled, filled);
        if (bytesRead === 0) break;
        const read = buf.subarray(0, filled + bytesRead);
        for (let at = read.indexOf(0x0a, filled); at >= 0; at = read.indexOf(0x0a, at + 1)) lines++;
        filled += bytesRead;
        if (filled < want) continue;
        if (lines >= (options.minLines ?? Infinity)) break;
        want = Math.min(want * 2, maxBytes);
      }
      const end = buf.subarray(0, filled).lastIndexOf(0x0a);
      if (end < 0) return undefined; // one huge first line: nothing whole to show early
      const doc = new LineDocument(path, LineIndex.fromBuffer(buf.subarray(0, end + 1)), s);
      doc.partial = { totalBytes: s.size };
      return doc;
    } finally {
      await handle.close();
    }
  }

  private refusePartial(what: string): void {
    if (this.partial) throw new Error(`${this.path}: cannot ${what} while the file is still being read (only its first ${this.index.byteLength} of ${this.partial.totalBytes} bytes are loaded)`);
  }

  /** Opens the file and replays a backup; throws DocumentChangedError if the file changed since. */
  static async restore(path: string, backup: DocumentBackup | string, options: { shared?: boolean } = {}): Promise<LineDocument> {
    const b: DocumentBackup = typeof backup === 'string' ? JSON.parse(backup) : backup;
    if (b.format !== 'rpo-line-edits' || b.version !== 1) throw new Error(`${path}: not an RPO Studio backup (format ${String(b.format)}, version ${String(b.version)})`);
    const doc = await LineDocument.open(path, options);
    if (doc.disk.size !== b.size || doc.disk.mtimeMs !== b.mtimeMs) {
      throw new DocumentChangedError(
        `${path} changed on disk after the unsaved edits were backed up (size ${b.size} -> ${doc.disk.size} bytes, modified ${new Date(b.mtimeMs).toISOString()} -> ${new Date(doc.disk.mtimeMs).toISOString()}); the ${b.edits.length} unsaved line edit(s) were not applied`,
      );
    }
    for (const [line, text] of b.edits) {
      if (!Number.isInteger(line) || line < 0 || line >= doc.lineCount) throw new Error(`${path}: backup edits line ${line + 1}, but the file has ${doc.lineCount} lines`);
      const bytes = text.startsWith('b64:') ? Buffer.from(text.slice(4), 'base64') : Buffer.from(text, 'utf8');
      doc.overlay.set(line, bytes);
      doc.markLine(line);
    }
    doc.version++;
    return doc;
  }

  get lineCount(): number {
    return this.index.lineCount;
  }

  /** The loaded original bytes and their line index (e.g. to hand to a worker via toShared()). */
  get lineIndex(): LineIndex {
    return this.index;
  }

  get isDirty(): boolean {
    return this.dirtyLines.size > 0;
  }

  /** Lines that differ from the saved file (sorted). */
  dirtyLineNumbers(): number[] {
    return [...this.dirtyLines].sort((a, b) => a - b);
  }

  /** Lines whose content differs from the originally loaded file (sorted). */
  editedLineNumbers(): number[] {
    return [...this.overlay.keys()].sort((a, b) => a - b);
  }

  /** Current content bytes of line i (no ending). */
  lineBytes(i: number): Buffer {
    this.checkLine(i);
    return this.overlay.get(i) ?? this.index.content(i);
  }

  /** Current content of line i decoded as UTF-8 (no ending). */
  lineText(i: number): string {
    return this.lineBytes(i).toString('utf8');
  }

  /** The line's ending as in the file: '', '\n' or '\r\n'. */
  lineEnding(i: number): '' | '\n' | '\r\n' {
    this.checkLine(i);
    return this.index.eol(i);
  }

  /** Replaces whole lines; returns the edit (with inverse data) for the undo stack. */
  applyEdits(replacements: readonly LineReplacement[], label = 'Edit'): LineEdit {
    this.refusePartial('edit it');
    const afters = replacements.map((r) => {
      this.checkLine(r.line);
      const after = typeof r.text === 'string' ? Buffer.from(r.text, 'utf8') : Buffer.from(r.text);
      if (after.includes(0x0a) || after.includes(0x0d)) throw new Error(`line ${r.line + 1}: a replacement must not contain a line break`);
      return after;
    });
    // Applied one by one so a line replaced twice in one edit undoes to its first state.
    const changes: LineChange[] = replacements.map((r, k) => {
      const change = { line: r.line, before: this.lineBytes(r.line), after: afters[k]! };
      this.setLine(r.line, change.after);
      return change;
    });
    this.version++;
    return { label, changes };
  }

  /** Reverts an edit made by applyEdits (VS Code's undo callback). */
  undo(edit: LineEdit): void {
    for (let k = edit.changes.length - 1; k >= 0; k--) this.setLine(edit.changes[k]!.line, edit.changes[k]!.before);
    this.version++;
  }

  /** Re-applies an edit (VS Code's redo callback). */
  redo(edit: LineEdit): void {
    for (const c of edit.changes) this.setLine(c.line, c.after);
    this.version++;
  }

  /**
   * Writes the document to `target` (default: its own file) atomically, through symbolic links
   * (see the class comment for what it refuses and `SaveOptions`). Saving to its own file makes
   * the current state the saved (clean) state.
   */
  async save(target: string = this.path, options: SaveOptions = {}): Promise<void> {
    this.refusePartial('save it');
    const real = await realTarget(target);
    const own = target === this.path || real === (await realTarget(this.path));
    let existing;
    try {
      existing = await stat(real);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (existing) {
      const writable = await access(real, constants.W_OK).then(() => true, () => false);
      if (isReadOnly(existing.mode, writable)) throw new SaveRefusedError({ kind: 'read-only', path: target });
      if (existing.nlink > 1 && !options.inPlace) throw new SaveRefusedError({ kind: 'hard-links', path: target, links: existing.nlink });
    }
    if (own && !options.overwriteChanged) await this.refuseIfChanged(real, target);
    const tmp = join(dirname(real), `.${basename(real)}.${randomBytes(6).toString('hex')}.rpo-save.tmp`);
    let handle: FileHandle;
    try {
      handle = await open(tmp, 'wx+');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
        throw new Error(`${target}: not saved: cannot create a file in ${dirname(real)} (${code}); make the folder writable, or save to another folder with Save As`);
      }
      throw err;
    }
    let written: DiskState;
    let keepTmp = false;
    try {
      await this.writeTo(handle, options.signal);
      await handle.sync();
      written = await handleState(handle);
      await handle.close();
      // The write took a while (seconds for a big file): look again just before replacing.
      if (own && !options.overwriteChanged) await this.refuseIfChanged(real, target);
      if (existing && existing.nlink > 1) {
        keepTmp = true;
        // Not cancellable once started: a half-rewritten file is worse than a late save.
        written = await this.rewriteInPlace(real);
        keepTmp = false;
        await unlink(tmp);
      } else {
        if (existing) await chmod(tmp, existing.mode & 0o7777);
        await rename(tmp, real);
      }
    } catch (err) {
      await handle.close().catch(() => undefined);
      if (keepTmp) throw new Error(`${target}: rewriting it in place failed (${(err as Error).message}); the complete saved content is in ${tmp}`);
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    if (own) {
      this.saved = new Map(this.overlay);
      this.dirtyLines.clear();
      this.disk = written;
      this.accepted = undefined;
    }
  }

  /** Writes the current content over the file's own bytes (keeps its inode and hard links). */
  private async rewriteInPlace(path: string): Promise<DiskState> {
    const handle = await open(path, 'r+');
    try {
      await this.writeTo(handle);
      await handle.truncate(this.byteLength());
      await handle.sync();
      return await handleState(handle);
    } finally {
      await handle.close();
    }
  }

  private byteLength(): number {
    let n = 0;
    this.forEachPart((b) => (n += b.length));
    return n;
  }

  private async refuseIfChanged(real: string, target: string): Promise<void> {
    const now = await diskState(real);
    // Deleted meanwhile: saving writes it again, nothing to overwrite.
    if (!now || sameDiskState(now, this.disk) || (this.accepted && sameDiskState(now, this.accepted))) return;
    throw new SaveRefusedError({ kind: 'changed-on-disk', path: target, change: describeChange(this.disk, now) });
  }

  /**
   * The user keeps their edits over the external change now on disk: the next save overwrites
   * that state without refusing (a later change is refused again).
   */
  async acceptDiskChange(): Promise<void> {
    this.accepted = await diskState(this.path);
  }

  /** The pending edits (relative to the file on disk) plus the file's size and mtime. */
  backup(): DocumentBackup {
    this.refusePartial('back it up');
    const edits: [number, string][] = [];
    for (const line of this.dirtyLineNumbers()) {
      const bytes = this.lineBytes(line);
      const text = bytes.toString('utf8');
      edits.push([line, Buffer.from(text, 'utf8').equals(bytes) ? text : 'b64:' + bytes.toString('base64')]);
    }
    return { format: 'rpo-line-edits', version: 1, size: this.disk.size, mtimeMs: this.disk.mtimeMs, edits };
  }

  /** Reloads from disk, dropping every edit (VS Code's revert; also "reload when clean"). */
  async revert(options: { shared?: boolean } = {}): Promise<void> {
    this.refusePartial('revert it');
    const fresh = await LineDocument.open(this.path, options);
    this.index = fresh.index;
    this.disk = fresh.disk;
    this.accepted = undefined;
    this.overlay.clear();
    this.saved.clear();
    this.dirtyLines.clear();
    this.version++;
  }

  /** True when the file on disk is not the one we loaded or last saved (external change). */
  async changedOnDisk(): Promise<boolean> {
    try {
      const now = await diskState(this.path);
      return !now || !sameDiskState(now, this.disk);
    } catch {
      return true;
    }
  }

  /** The full current content as bytes. Small files and tests only (a 1.4 GB file does not fit). */
  toBuffer(): Buffer {
    const parts: Buffer[] = [];
    this.forEachPart((b) => parts.push(b));
    return Buffer.concat(parts);
  }

  private async writeTo(handle: FileHandle, signal?: AbortSignal): Promise<void> {
    let batch: Buffer[] = [];
    let batchBytes = 0;
    const flush = async () => {
      if (!batch.length) return;
      signal?.throwIfAborted();
      // writev may write partially; loop until every byte is out.
      let buffers = batch;
      batch = [];
      batchBytes = 0;
      while (buffers.length) {
        const { bytesWritten } = await handle.writev(buffers);
        buffers = dropWritten(buffers, bytesWritten);
      }
    };
    const parts: Buffer[] = [];
    this.forEachPart((b) => parts.push(b));
    for (const p of parts) {
      batch.push(p);
      batchBytes += p.length;
      if (batch.length >= 512 || batchBytes >= 64 * 1024 * 1024) await flush();
    }
    await flush();
  }

  /** Calls `emit` with the current file's bytes in order: original runs as views, edited lines as new bytes. */
  private forEachPart(emit: (b: Buffer) => void): void {
    const idx = this.index;
    const edited = this.editedLineNumbers();
    let pos = 0; // next original byte to emit
    for (const line of edited) {
      const start = idx.contentStart(line);
      for (const v of idx.views(pos, start)) emit(v);
      emit(this.overlay.get(line)!);
      pos = idx.contentEnd(line);
    }
    for (const v of idx.views(pos, idx.byteLength)) emit(v);
  }

  private setLine(line: number, content: Buffer): void {
    if (content.equals(this.index.content(line))) this.overlay.delete(line);
    else this.overlay.set(line, content);
    this.markLine(line);
  }

  private markLine(line: number): void {
    const savedContent = this.saved.get(line) ?? this.index.content(line);
    if (this.lineBytes(line).equals(savedContent)) this.dirtyLines.delete(line);
    else this.dirtyLines.add(line);
  }

  private checkLine(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.index.lineCount) throw new RangeError(`line ${i} is out of range (the document has ${this.index.lineCount} lines)`);
  }
}

function dropWritten(buffers: Buffer[], written: number): Buffer[] {
  let k = 0;
  while (k < buffers.length && written >= buffers[k]!.length) written -= buffers[k++]!.length;
  if (k === buffers.length) return [];
  const rest = buffers.slice(k);
  rest[0] = rest[0]!.subarray(written);
  return rest;
}

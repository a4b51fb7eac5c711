import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DocumentChangedError, SaveRefusedError, type LineEdit, type SaveOptions } from '../core/dataset/lineDocument';
import type { Logger } from '../core/log';
import type { LabelAction } from '../protocol/labeling';
import type { KeyOptions } from './lineKeys';
import { HEAD_BYTES, HEAD_LINES, HEAD_OPEN_BYTES, LabelingModel, type LabelSettings, type ModelOptions } from './model';
import { askAboutSave, saveQuestion } from './saveQuestions';
import { heldWholeRead } from './testHookState';


/**
 * Files over this size start their scan once a view has painted its first rows (at most
 * SCAN_WAIT_MS after opening): a scan worker busy on one of two cores slowed VS Code's creation
 * of the webview (at 100k records on 2 loaded cores: about 100 ms of the first screen, and a
 * narrower spread). Smaller files scan at once: their scan is done before the view asks.
 */
const SCAN_GATE_MIN_BYTES = 8 * 1024 * 1024;
const SCAN_WAIT_MS = 1500;

interface FirstScreenGate {
  promise: Promise<void>;
  open: () => void;
}

function firstScreenGate(): FirstScreenGate {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
    setTimeout(resolve, SCAN_WAIT_MS);
  });
  return { promise, open };
}

/** VS Code's limit for files it opens as text for an extension (and diffs). */
const COMPARE_MAX_BYTES = 50 * 1024 * 1024;

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;

function logWhenScanned(log: Logger, uri: vscode.Uri, model: LabelingModel, t0: number, rss0: number): void {
  void model.whenScanned().then(() => {
    const c = model.counts;
    if (c.complete) log.info(`scanned ${uri.fsPath}: ${c.records} records, ${c.invalid} invalid in ${(performance.now() - t0).toFixed(0)} ms from open (worker ${model.scanMs.toFixed(0)} ms); extension host RSS ${mb(process.memoryUsage().rss)} (${mb(rss0)} before opening)`);
  });
}

/**
 * The custom document (VS Code's side of the model): a LabelingModel per open file, edits
 * reported to VS Code with undo/redo callbacks, save / save as / revert / hot-exit backup, and a
 * watcher on the file: reload when clean, ask when dirty.
 */
export class LabelingDocument implements vscode.CustomDocument {
  private readonly changeContent = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<LabelingDocument>>();
  /** Fired for every edit (VS Code tracks dirty state and undo/redo from it). */
  readonly onDidChangeContent = this.changeContent.event;
  private readonly changeModel = new vscode.EventEmitter<'edit' | 'scan' | 'reload'>();
  /** Views refresh on this (edit, undo, redo, scan progress, reload). */
  readonly onDidChangeModel = this.changeModel.event;
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposeEmitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  /** Set while we write the file ourselves, so the watcher does not treat it as external. */
  private saving = false;
  private asking = false;

  /** A view painted this document's first rows (a big file's scan starts then). */
  firstScreenShown: () => void = () => undefined;

  private offModel: () => void;
  private disposed = false;
  /**
   * True once the model is the whole file: at once for a file opened in one step; for a big one
   * when its whole model replaced the read-only head. False if reading it failed or the document
   * closed first.
   */
  private whole: Promise<boolean> = Promise.resolve(true);

  private constructor(readonly uri: vscode.Uri, public model: LabelingModel, private readonly log: Logger) {
    this.disposables.push(this.changeContent, this.changeModel, this.disposeEmitter);
    this.offModel = model.onChange((what) => this.changeModel.fire(what));
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(uri.fsPath)), path.basename(uri.fsPath)));
    this.disposables.push(watcher, watcher.onDidChange(() => void this.onFileChanged()), watcher.onDidCreate(() => void this.onFileChanged()));
  }

  /** `scanKeys`: the key options of the newest run on the file, so its scan keys the lines for that run too (ModelOptions.scanKeys). */
  static async open(uri: vscode.Uri, backupId: string | undefined, workerPath: string, log: Logger, scanKeys?: KeyOptions): Promise<LabelingDocument> {
    const options: ModelOptions = { workerPath, ...(scanKeys ? { scanKeys } : {}) };
    if (uri.scheme !== 'file') throw new Error(`RPO Preference Editor opens files on disk only (got ${uri.scheme}:)`);
    const t0 = performance.now();
    const rss0 = process.memoryUsage().rss;
    let backup: string | undefined;
    if (backupId) {
      try {
        backup = new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.parse(backupId)));
      } catch (err) {
        log.warn(`backup ${backupId} unreadable, opening the file as saved: ${String(err)}`);
      }
    }
    const size = (await vscode.workspace.fs.stat(uri)).size;
    // A big file's scan (a worker busy for a second or more) waits for the first screen.
    const gate = size > SCAN_GATE_MIN_BYTES ? firstScreenGate() : undefined;
    if (!backup) {
      const twoSteps = await LabelingDocument.openInTwoSteps(uri, size, options, log, t0, rss0, gate);
      if (twoSteps) return twoSteps;
    }
    let model: LabelingModel;
    let restored = !!backup;
    try {
      model = await LabelingModel.open(uri.fsPath, { ...options, scanGate: gate?.promise }, backup);
    } catch (err) {
      if (!backup) throw err;
      // The file changed under the backup: keep the file, tell the user what was not restored.
      const message = err instanceof Error ? err.message : String(err);
      log.warn(`backup ${backupId} not restored: ${message}`);
      void vscode.window.showWarningMessage(`RPO: ${message}`);
      model = await LabelingModel.open(uri.fsPath, options);
      restored = false;
    }
    log.info(`opened ${uri.fsPath}: ${model.lineCount} lines in ${(performance.now() - t0).toFixed(0)} ms${restored ? ' (restored unsaved edits from backup)' : ''}; extension host RSS ${mb(rss0)} -> ${mb(process.memoryUsage().rss)}`);
    logWhenScanned(log, uri, model, t0, rss0);
    const document = new LabelingDocument(uri, model, log);
    if (gate) document.firstScreenShown = gate.open;
    return document;
  }

  /**
   * A huge file: the first screen from its first lines (a read-only head model) while the whole
   * file is read; the whole model then replaces it (views refresh as on a reload).
   */
  private static async openInTwoSteps(uri: vscode.Uri, size: number, options: ModelOptions, log: Logger, t0: number, rss0: number, gate: FirstScreenGate | undefined): Promise<LabelingDocument | undefined> {
    if (size <= HEAD_OPEN_BYTES) return undefined;
    // The whole read starts at once (the counts wait for it, not for the head); its scan once the
    // first screen is painted.
    const progress: { listener?: (read: number, total: number) => void } = {};
    const wholeRead = LabelingModel.open(uri.fsPath, { ...options, scanGate: gate?.promise }, undefined, (read, total) => progress.listener?.(read, total));
    wholeRead.catch(() => undefined); // handled by whoever awaits it
    const head = await LabelingModel.openHead(uri.fsPath, HEAD_BYTES, HEAD_LINES).catch(() => undefined);
    if (!head) {
      // Nothing whole to show early (one huge first line): open as usual.
      gate?.open();
      const model = await wholeRead;
      log.info(`opened ${uri.fsPath}: ${model.lineCount} lines in ${(performance.now() - t0).toFixed(0)} ms; extension host RSS ${mb(rss0)} -> ${mb(process.memoryUsage().rss)}`);
      logWhenScanned(log, uri, model, t0, rss0);
      return new LabelingDocument(uri, model, log);
    }
    log.info(`opened ${uri.fsPath}: its first ${head.lineCount} lines (${(head.doc.lineIndex.byteLength / 1024 / 1024).toFixed(2)} MB of ${mb(size)}) in ${(performance.now() - t0).toFixed(0)} ms, read-only while the whole file is read`);
    const document = new LabelingDocument(uri, head, log);
    if (gate) document.firstScreenShown = gate.open;
    document.whole = document.loadWhole(options, t0, rss0, wholeRead, progress);
    return document;
  }

  /** Resolves when the model is the whole file (see `whole`): edits wait for it. */
  whenWhole(): Promise<boolean> {
    return this.whole;
  }

  private async loadWhole(options: ModelOptions, t0: number, rss0: number, firstTry: Promise<LabelingModel>, progress: { listener?: (read: number, total: number) => void }): Promise<boolean> {
    const head = this.model;
    let lastEmit = 0;
    progress.listener = (read, total) => {
      head.reading = { read, total };
      const now = performance.now();
      if (now - lastEmit > 250) {
        lastEmit = now;
        this.changeModel.fire('scan'); // views show the read progress
      }
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const whole = await (attempt === 0 ? firstTry : LabelingModel.open(this.uri.fsPath, options, undefined, (read, total) => progress.listener?.(read, total)));
        if (RPO_TEST_HOOKS_BUILT) await heldWholeRead();
        if (this.disposed) {
          whole.dispose();
          return false;
        }
        this.offModel();
        this.model = whole;
        this.offModel = whole.onChange((what) => this.changeModel.fire(what));
        head.dispose();
        this.log.info(`opened ${this.uri.fsPath}: ${whole.lineCount} lines in ${(performance.now() - t0).toFixed(0)} ms; extension host RSS ${mb(rss0)} -> ${mb(process.memoryUsage().rss)}`);
        logWhenScanned(this.log, this.uri, whole, t0, rss0);
        this.changeModel.fire('reload');
        return true;
      } catch (err) {
        if (this.disposed) return false;
        if (err instanceof DocumentChangedError && attempt < 2) continue;
        const message = err instanceof Error ? err.message : String(err);
        this.log.error(`could not read ${this.uri.fsPath}: ${message}`);
        void vscode.window.showErrorMessage(`RPO: could not read ${path.basename(this.uri.fsPath)}: ${message}. Only its first lines are shown, read-only; close and reopen the file to try again.`);
        return false;
      }
    }
  }

  /** Applies an edit to the model and reports it to VS Code (undo/redo go back to the model). */
  private record(edit: LineEdit): void {
    this.changeContent.fire({
      document: this,
      label: edit.label,
      undo: () => this.model.undo(edit),
      redo: () => this.model.redo(edit),
    });
  }

  label(line: number, action: LabelAction, settings: LabelSettings): void {
    this.record(this.model.label(line, action, settings));
  }

  note(line: number, note: string, settings: LabelSettings): void {
    this.record(this.model.note(line, note, settings));
  }

  /** Marks a seeded share of the labeled records for blind re-annotation (one undoable edit). */
  markBlind(share: number, seed: string): { marked: number; candidates: number } {
    const { edit, marked, candidates } = this.model.markBlind(share, seed);
    if (edit) this.record(edit);
    return { marked, candidates };
  }

  get isDirty(): boolean {
    return this.model.doc.isDirty;
  }

  async save(cancellation?: vscode.CancellationToken): Promise<void> {
    await this.saveAs(this.uri, cancellation);
  }

  async saveAs(target: vscode.Uri, _cancellation?: vscode.CancellationToken): Promise<void> {
    if (target.scheme !== 'file') throw new Error('RPO Preference Editor saves to files on disk only');
    const t0 = performance.now();
    const options: SaveOptions = {};
    const name = path.basename(target.fsPath);
    this.saving = true;
    try {
      for (;;) {
        try {
          await this.model.save(target.fsPath === this.uri.fsPath ? undefined : target.fsPath, options);
          break;
        } catch (err) {
          if (!(err instanceof SaveRefusedError)) throw err;
          const question = saveQuestion(err.refusal, name);
          if (!question) throw err;
          this.log.warn(err.message);
          const choice = await askAboutSave(question);
          if (choice === 'overwrite') options.overwriteChanged = true;
          else if (choice === 'inPlace') options.inPlace = true;
          else if (choice === 'reload') {
            // After this save has failed: VS Code's revert drops its edits too.
            setTimeout(() => void this.revertInVsCode(), 0);
            throw new Error(`${name} was not saved: reloading it from disk as you chose`);
          } else if (choice === 'compare') {
            await this.compareWithDisk(name);
            throw new Error(`${name} was not saved: compare your version with the file on disk, then save again (Overwrite) or revert`);
          } else throw new Error(`${name} was not saved: ${err.message}`);
        }
      }
    } finally {
      // The watcher event for our own rename arrives after this; changedOnDisk() sorts it out.
      setTimeout(() => (this.saving = false), 1000);
    }
    this.log.info(`saved ${target.fsPath}${options.inPlace ? ' in place (through its hard links)' : ''}${options.overwriteChanged ? ' over a change on disk' : ''} in ${(performance.now() - t0).toFixed(0)} ms`);
  }

  /** VS Code's revert of this document (its edits and dirty state go too), from an editor showing it. */
  private async revertInVsCode(): Promise<void> {
    const tab = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputCustom && t.input.uri.toString() === this.uri.toString());
    if (!tab) return void (await this.revert());
    await vscode.commands.executeCommand('vscode.openWith', this.uri, (tab.input as vscode.TabInputCustom).viewType, tab.group.viewColumn);
    await vscode.commands.executeCommand('workbench.action.files.revert', this.uri);
  }

  /**
   * Copies of the file on disk and of the unsaved version in a temporary folder, named so that
   * they open as text (`x.pref (on disk).jsonl`: not `*.pref.jsonl`, which would show both in this
   * editor), and VS Code's text diff of the two. Over COMPARE_MAX_BYTES (VS Code does not diff
   * such files) only the unsaved copy is written and named.
   */
  private async compareWithDisk(name: string): Promise<void> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rpo-compare-'));
    const stem = name.replace(/\.jsonl$/, '');
    const mine = path.join(dir, `${stem} (unsaved).jsonl`);
    await this.model.save(mine);
    const size = (await fs.stat(this.uri.fsPath).catch(() => undefined))?.size ?? 0;
    if (size > COMPARE_MAX_BYTES || (await fs.stat(mine)).size > COMPARE_MAX_BYTES) {
      this.log.info(`${this.uri.fsPath} is too large to compare in VS Code; your unsaved version is in ${mine}`);
      void vscode.window.showInformationMessage(`RPO: ${name} is too large for VS Code's diff; your unsaved version is in ${mine}.`);
      return;
    }
    const disk = path.join(dir, `${stem} (on disk).jsonl`);
    await fs.copyFile(this.uri.fsPath, disk);
    this.log.info(`comparing ${this.uri.fsPath} (copied to ${disk}) with your unsaved version (${mine})`);
    await vscode.commands.executeCommand('vscode.diff', vscode.Uri.file(disk), vscode.Uri.file(mine), `${name}: on disk ↔ your unsaved version`);
  }

  async revert(_cancellation?: vscode.CancellationToken): Promise<void> {
    await this.model.reload();
  }

  async backup(destination: vscode.Uri, _cancellation: vscode.CancellationToken): Promise<vscode.CustomDocumentBackup> {
    const data = JSON.stringify(this.model.backup());
    await vscode.workspace.fs.writeFile(destination, new TextEncoder().encode(data));
    return {
      id: destination.toString(),
      delete: async () => {
        try {
          await vscode.workspace.fs.delete(destination);
        } catch {
          // already gone
        }
      },
    };
  }

  private async onFileChanged(): Promise<void> {
    if (this.asking) return;
    if (!(await this.model.doc.changedOnDisk())) return; // our own save, or a touch with no change
    if (this.saving) return;
    if (!this.isDirty) {
      this.log.info(`${this.uri.fsPath} changed on disk: reloading`);
      // Deleted or unreadable: keep what is shown (a save writes it again).
      await this.model.reload().catch((err: Error) => this.log.warn(`could not reload ${this.uri.fsPath}: ${err.message}`));
      return;
    }
    this.asking = true;
    try {
      const n = this.model.doc.dirtyLineNumbers().length;
      const reload = 'Reload from Disk';
      const keep = 'Keep My Changes';
      const choice = await vscode.window.showWarningMessage(
        `${path.basename(this.uri.fsPath)} changed on disk while you have ${n} unsaved labeled line${n === 1 ? '' : 's'}. Reload it (your unsaved labels are lost) or keep your changes (saving then overwrites the file)?`,
        reload,
        keep,
      );
      if (choice === reload) {
        await vscode.commands.executeCommand('workbench.action.files.revert');
      } else if (choice === keep) {
        // Saving then overwrites this change without asking again (a later one is asked about).
        await this.model.doc.acceptDiskChange();
      }
    } finally {
      this.asking = false;
    }
  }

  dispose(): void {
    this.disposed = true;
    this.disposeEmitter.fire();
    this.offModel();
    this.model.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

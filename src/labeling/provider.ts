import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LabelError } from '../core/dataset/labeling';
import { blindSeed } from '../core/dataset/blind';
import { parseShare } from './shareInput';
import { labelingAdvanceAfterLabel, labelingAnnotator, labelingDisplaySeed, labelingResolution, labelingWordDiff } from '../settings';
import type { Logger } from '../core/log';
import { INITIAL_ROWS, INITIAL_STATE_ELEMENT_ID, parseViewMessage, type Counts, type ShowRecordsArgs, type ShowRecordsResult, type Filter, type HostMessage, type InitialState, type LabelAction, type NavAction, type ViewMessage } from '../protocol/labeling';
import { webviewHtml, webviewOptions, webviewPoster } from '../webviewHtml';
import { LabelingDocument } from './document';
import type { LabelingModel, LabelSettings } from './model';
import { publishLabelingSelection, setLabelingRevealHandler } from './selection';
import { recordBackup } from './testHookState';
import { latestRunFor, latestRunKeyOptions, pickRun, showRunOn } from './runs';
import { runProblem } from './runNotes';
import { readRunDynamics } from '../node/dynamics';

export const VIEW_TYPE = 'rpo.labelingEditor';
const FOCUS_CONTEXT = 'rpo.labeling.focused';
/** Filters whose records carry a label already: a label goes on to the filter's next record, not the next unlabeled one. */
const REVIEW_FILTERS: ReadonlySet<Filter> = new Set<Filter>(['blind', 'disputed', 'suspect', 'picked']);

/** One open editor (webview) on a document: its filter, search and selection. */
export class LabelingView {
  filter: Filter = 'all';
  query = '';
  selected = 0;
  ready = false;
  /** True while this view applies an edit: it sends its own selection afterwards. */
  applying = false;
  /** Counts and list invalidation owed after this view's own edit (sent after its selection). */
  refreshAfterApply = false;
  /** When the view last said 'ready', until its first rows are painted. */
  private readyAt: number | undefined;
  private readonly createdAt = performance.now();
  /**
   * Everything that reads or moves the selection (label and navigation keys, clicks, filter,
   * note, reveal, refreshes after an edit elsewhere) runs here, one at a time, in the order it
   * arrived: keys pressed at any speed apply in order, each to the record the keys before it left
   * selected, and the view gets its 'selected' messages in that order too.
   */
  private inOrder<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined); // a failed task (logged by its caller) does not stop the next
    return run;
  }
  private queue: Promise<unknown> = Promise.resolve();

  private readonly postToPanel: (m: HostMessage) => Thenable<boolean>;

  constructor(readonly document: LabelingDocument, readonly panel: vscode.WebviewPanel, private readonly host: LabelingEditorProvider) {
    this.postToPanel = webviewPoster<HostMessage>(panel);
  }

  /**
   * The settings labels and the detail use: in the "Blind" filter the display seed is
   * re-randomised per annotator (`blindSeed`) and the detail hides the votes and the label.
   */
  private labelSettings(): LabelSettings {
    const s = this.host.settings(this.document.uri);
    return this.filter === 'blind' ? { ...s, seed: blindSeed(s.seed, s.annotator), blind: true } : s;
  }

  /** What the HTML's initial state showed: still current at 'ready' unless one of these changed. */
  private embedded: { id: string; model: LabelingModel; version: number; selected: number; filter: Filter; query: string; counts: Counts; wordDiff: boolean } | undefined;

  /**
   * The first screen for the webview's HTML (init, the selected record, the rows around it):
   * the view paints it as its script runs instead of asking after 'ready'.
   */
  async initialState(): Promise<InitialState> {
    const model = this.document.model;
    const wordDiff = this.host.wordDiff();
    const counts = model.counts;
    let selected: InitialState['selected'] = { type: 'selected', detail: null, position: -1 };
    let position = 0;
    if (model.lineCount > 0) {
      this.selected = Math.min(this.selected, model.lineCount - 1);
      position = await model.position(this.filter, this.query, this.selected);
      selected = { type: 'selected', detail: model.detail(this.selected, this.labelSettings().seed, this.filter === 'blind'), position };
    }
    // After the clamp above: init names the line the view shows.
    const init = this.initMessage(counts, wordDiff);
    const start = Math.max(0, position - INITIAL_ROWS / 2);
    const r = await model.rows(this.filter, this.query, start, INITIAL_ROWS);
    const id = randomUUID();
    this.embedded = { id, model, version: model.doc.version, selected: this.selected, filter: this.filter, query: this.query, counts, wordDiff };
    publishLabelingSelection({ uri: this.document.uri, line: this.selected });
    return { id, init, selected, rows: { filter: this.filter, query: this.query, start, matching: r.matching, complete: counts.complete, rows: r.rows } };
  }

  private initMessage(counts: Counts, wordDiff: boolean): Extract<HostMessage, { type: 'init' }> {
    const fileName = path.basename(this.document.uri.fsPath);
    return { type: 'init', fileName, counts, settings: { wordDiff, annotator: this.host.settings().annotator }, selected: this.selected, filter: this.filter, query: this.query, readonly: false };
  }

  post(m: HostMessage): void {
    void this.postToPanel(m);
  }

  private async sendSelected(): Promise<void> {
    const model = this.document.model;
    if (model.lineCount === 0) {
      this.post({ type: 'selected', detail: null, position: -1 });
      return;
    }
    this.selected = Math.min(this.selected, model.lineCount - 1);
    const detail = model.detail(this.selected, this.labelSettings().seed, this.filter === 'blind');
    const position = await model.position(this.filter, this.query, this.selected);
    this.post({ type: 'selected', detail, position });
    publishLabelingSelection({ uri: this.document.uri, line: this.selected });
    this.schedulePrefetch();
  }

  private prefetchScheduled = false;

  /**
   * After the selection (and the counts and invalidation a label owes): the record a label would
   * advance to, so the view can build it ahead (a hint; 'selected' stays the truth).
   */
  private schedulePrefetch(): void {
    if (this.prefetchScheduled || !this.host.advanceAfterLabel()) return;
    this.prefetchScheduled = true;
    setImmediate(() => {
      this.prefetchScheduled = false;
      const model = this.document.model;
      if (!this.ready || this.selected >= model.lineCount) return;
      const next = model.nextUnlabeled(this.selected);
      if (next === this.selected || next >= model.lineCount) return;
      this.post({ type: 'prefetch', detail: model.detail(next, this.labelSettings().seed, this.filter === 'blind') });
    });
  }

  sendCounts(): void {
    this.post({ type: 'counts', counts: this.document.model.counts });
  }

  async onMessage(raw: unknown): Promise<void> {
    const m = parseViewMessage(raw);
    if (typeof m === 'string') {
      this.host.log.warn(`ignored a message from the labeling view: ${m}`);
      return;
    }
    await this.handle(m);
  }

  private async handle(m: ViewMessage): Promise<void> {
    const model = this.document.model;
    switch (m.type) {
      case 'ready':
        // At once, not in turn: the view's 'firstRows' can come in the same batch of messages.
        this.readyAt = performance.now();
        await this.inOrder(() => this.start(m.embedded));
        break;
      case 'rows': {
        const r = await model.rows(m.filter, m.query, m.start, m.count);
        this.post({ type: 'rows', requestId: m.requestId, filter: m.filter, query: m.query, start: m.start, matching: r.matching, complete: model.counts.complete, rows: r.rows });
        break;
      }
      case 'select':
        await this.select(m.index);
        break;
      case 'setFilter':
        await this.inOrder(async () => {
          this.filter = m.filter;
          this.query = m.query;
          await this.sendSelected();
        });
        break;
      case 'label':
        await this.label(m.action, m.index);
        break;
      case 'navigate':
        await this.navigate(m.action);
        break;
      case 'note':
        await this.inOrder(async () => {
          if (!(await this.whenEditable())) return;
          if (m.index < this.document.model.lineCount) this.apply(() => this.document.note(m.index, m.note, this.labelSettings()));
          await this.sendSelected();
          this.flushRefresh();
        });
        break;
      case 'reopenAsText':
        await reopenAsText(this.document.uri, this.panel.viewColumn);
        break;
      case 'pickRun':
        await this.host.pickRunFor(this.document);
        break;
      case 'focus':
        this.host.setFocused(this, m.focused);
        break;
      case 'firstRows':
        if (this.readyAt !== undefined) {
          const firstRowsMs = performance.now() - this.readyAt;
          this.readyAt = undefined;
          this.document.firstScreenShown();
          this.host.log.info(`first rows painted ${firstRowsMs.toFixed(0)} ms after the view was ready, ${(performance.now() - this.createdAt).toFixed(0)} ms after the editor was created`);
        }
        break;
      default: {
        const never: never = m;
        void never;
      }
    }
  }

  /** The view's script ran ('ready'): what it needs beyond the first screen it painted, if any. */
  private async start(embeddedId: string | undefined): Promise<void> {
    const model = this.document.model;
    this.ready = true;
    const embedded = this.embedded;
    this.embedded = undefined;
    if (embedded && embedded.id === embeddedId && embedded.filter === this.filter && embedded.query === this.query && embedded.wordDiff === this.host.wordDiff()) {
      // The view painted the first screen from its HTML. Only what changed since goes out:
      // after an edit or the whole file replacing its head, the selection and a refresh of
      // the rows (kept on screen until the fresh ones come, as after a reload); the counts
      // if the scan moved them (the rows of the list do not depend on the scan).
      const changed = embedded.model !== model || embedded.version !== model.doc.version;
      if (changed || embedded.selected !== this.selected) await this.sendSelected();
      else this.schedulePrefetch();
      if (changed || JSON.stringify(model.counts) !== JSON.stringify(embedded.counts)) this.sendCounts();
      if (changed) this.post({ type: 'invalidate' });
    } else {
      this.post(this.initMessage(model.counts, this.host.wordDiff()));
      await this.sendSelected();
    }
    void model.whenScanned().then(() => this.checkVerdict());
  }

  private checkVerdict(): void {
    const verdict = this.document.model.verdict();
    if (verdict.kind === 'not-preference') this.post({ type: 'notPreference', reason: `${verdict.reason}.` });
  }

  private apply(fn: () => void): boolean {
    this.applying = true;
    try {
      fn();
      return true;
    } catch (err) {
      if (err instanceof LabelError) {
        this.post({ type: 'error', message: err.message });
        void vscode.window.setStatusBarMessage(`RPO: ${err.message}`, 4000);
        return false;
      }
      throw err;
    } finally {
      this.applying = false;
    }
  }

  /**
   * A big file's first lines are shown read-only while the whole file is read: an edit then waits
   * for the whole model (the same line numbers), in the order the keys were pressed.
   */
  private async whenEditable(): Promise<boolean> {
    if (!this.document.model.partial) return true;
    void vscode.window.setStatusBarMessage('RPO: still reading the file; the label is applied once it is read', 4000);
    return this.document.whenWhole();
  }

  /**
   * Labels `index`, or without it (a key) the record selected when the label's turn comes: after
   * every key pressed before it has moved the selection.
   */
  label(action: LabelAction, index?: number): Promise<void> {
    return this.inOrder(() => this.applyLabel(action, index));
  }

  private async applyLabel(action: LabelAction, requested: number | undefined): Promise<void> {
    if (!(await this.whenEditable())) return;
    const index = requested ?? this.selected;
    const model = this.document.model;
    if (index >= model.lineCount) return;
    const ok = this.apply(() => this.document.label(index, action, this.labelSettings()));
    if (ok && action !== 'clear' && this.host.advanceAfterLabel()) {
      // Filters of records that carry a label already (blind re-annotation, adjudication, a run's
      // suspects, records another view picked) go on to the next record of the filter.
      const next = REVIEW_FILTERS.has(this.filter) ? await model.navigate('next', this.filter, this.query, index) : model.nextUnlabeled(index);
      this.selected = next;
    } else {
      this.selected = index;
    }
    await this.sendSelected();
    this.flushRefresh();
  }

  /**
   * "Mark Records for Blind Re-annotation…": asks the share and the seed, marks them (one undoable
   * edit), then shows the "Blind" filter.
   */
  markBlind(): Promise<void> {
    return this.inOrder(async () => {
      if (!(await this.whenEditable())) return;
      const shareText = await vscode.window.showInputBox({
        title: 'RPO: Mark Records for Blind Re-annotation (1/2)',
        prompt: 'Percent of the labeled records (labeled, tie or both bad; not yet marked) to mark for a second, blind annotator',
        value: '10',
        validateInput: (v) => (parseShare(v) === null ? 'a number from 0 to 100' : undefined),
      });
      if (shareText === undefined) return;
      const seed = await vscode.window.showInputBox({
        title: 'RPO: Mark Records for Blind Re-annotation (2/2)',
        prompt: 'Seed of the random pick (the same seed picks the same records)',
        value: 'blind',
      });
      if (seed === undefined) return;
      let result: { marked: number; candidates: number } | undefined;
      this.apply(() => { result = this.document.markBlind(parseShare(shareText)!, seed); });
      if (!result) return;
      this.host.log.info(`blind re-annotation: marked ${result.marked} of ${result.candidates} labeled records in ${this.document.uri.fsPath} (seed ${JSON.stringify(seed)})`);
      void vscode.window.showInformationMessage(`RPO: marked ${result.marked} of ${result.candidates} labeled records for blind re-annotation. The "Blind" filter shows them without the earlier votes; save to keep the marks.`);
      this.filter = 'blind';
      this.query = '';
      this.post(this.initMessage(this.document.model.counts, this.host.wordDiff()));
      await this.sendSelected();
      this.flushRefresh();
    });
  }

  /**
   * Shows a list of lines (already set on the model as the "Picked" filter, or the Suspect
   * filter) with `first` selected: the filter changes, the view restarts from 'init'.
   */
  showFilter(filter: Filter, first: number | undefined): Promise<void> {
    return this.inOrder(async () => {
      this.filter = filter;
      this.query = '';
      if (first !== undefined) this.selected = first;
      if (!this.ready) return; // the view's start sends init and selection with this filter
      this.post(this.initMessage(this.document.model.counts, this.host.wordDiff()));
      await this.sendSelected();
    });
  }

  /** After an edit of this view: the selection went out first (what the user waits for), now the counts and rows. */
  flushRefresh(): void {
    if (!this.refreshAfterApply) return;
    this.refreshAfterApply = false;
    this.sendCounts();
    this.post({ type: 'invalidate' });
  }

  navigate(action: NavAction): Promise<void> {
    return this.inOrder(async () => {
      this.selected = await this.document.model.navigate(action, this.filter, this.query, this.selected);
      await this.sendSelected();
    });
  }

  /** Selects a line (a click in the list, the preview's reveal). */
  select(line: number): Promise<void> {
    return this.inOrder(async () => {
      this.selected = line; // sendSelected clamps it to the file
      if (this.ready) await this.sendSelected();
    });
  }

  /** After an edit from elsewhere (undo, redo, another view, a reload): the selection again, in turn. */
  refreshSelection(): Promise<void> {
    return this.inOrder(() => this.sendSelected());
  }
}

/**
 * "Reopen as Text": the file in VS Code's text editor in the same editor group, in place of the
 * preference editor (its tab closes; a dirty document asks first, as any closing editor does).
 */
export async function reopenAsText(uri: vscode.Uri, viewColumn?: vscode.ViewColumn): Promise<void> {
  await vscode.commands.executeCommand('vscode.openWith', uri, 'default', { viewColumn: viewColumn ?? vscode.ViewColumn.Active, preview: false });
  // Tab objects go stale when the tab model changes: look them up after opening.
  const custom = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputCustom && t.input.uri.toString() === uri.toString());
  if (custom.length) await vscode.window.tabGroups.close(custom);
}

export class LabelingEditorProvider implements vscode.CustomEditorProvider<LabelingDocument> {
  private readonly changeDocument = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<LabelingDocument>>();
  readonly onDidChangeCustomDocument = this.changeDocument.event;
  /**
   * Views of every provider instance (one instance per view type: VS Code routes a provider's
   * edit events to the documents of the view type it was registered for, so two view types
   * cannot share one emitter).
   */
  private static readonly views = new Set<LabelingView>();
  private static activeView: LabelingView | undefined;
  private get views() {
    return LabelingEditorProvider.views;
  }
  private get activeView() {
    return LabelingEditorProvider.activeView;
  }
  private set activeView(v: LabelingView | undefined) {
    LabelingEditorProvider.activeView = v;
  }

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly log: Logger,
    private readonly annotatorDefault: string,
    readonly diagnostics: vscode.DiagnosticCollection,
  ) {}

  /** The labeling settings; `file` scopes the resolution policy (a folder may set its own). */
  settings(file?: vscode.Uri): LabelSettings {
    return { annotator: labelingAnnotator() || this.annotatorDefault, seed: labelingDisplaySeed(), policy: labelingResolution(file) };
  }

  wordDiff(): boolean {
    return labelingWordDiff();
  }

  advanceAfterLabel(): boolean {
    return labelingAdvanceAfterLabel();
  }

  async openCustomDocument(uri: vscode.Uri, openContext: vscode.CustomDocumentOpenContext, _token: vscode.CancellationToken): Promise<LabelingDocument> {
    const workerPath = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'workers', 'labelingScan.js').fsPath;
    // The newest run on the file (shown after the scan): its scan keys the lines for it too.
    const scanKeys = uri.scheme === 'file' ? latestRunKeyOptions(uri.fsPath) : undefined;
    const document = await LabelingDocument.open(uri, openContext.untitledDocumentData ? undefined : openContext.backupId, workerPath, this.log, scanKeys);
    let publishedInvalid = -1;
    let publishedModel = document.model;
    const subs = [
      document.onDidChangeContent((e) => this.changeDocument.fire(e)),
      document.onDidChangeModel((what) => {
        // Problems: once the scan is complete, then only when the invalid lines change (not per label).
        const model = document.model;
        if ((what !== 'scan' || model.counts.complete) && (model.invalidVersion !== publishedInvalid || model !== publishedModel)) {
          publishedInvalid = model.invalidVersion;
          publishedModel = model;
          this.publishDiagnostics(document);
        }
        for (const view of this.views) {
          if (view.document !== document || !view.ready) continue;
          if (view.applying) {
            // The view that made the edit sends its (advanced) selection first, then the rest.
            view.refreshAfterApply = true;
            continue;
          }
          view.sendCounts();
          view.post({ type: 'invalidate' });
          if (what !== 'scan') void view.refreshSelection();
        }
      }),
    ];
    void this.showLatestRun(document).catch((err) => this.log.warn(`showing the latest run: ${err instanceof Error ? err.message : String(err)}`));
    document.onDidDispose(() => {
      this.diagnostics.delete(document.uri);
      for (const s of subs) s.dispose();
    });
    return document;
  }

  // ---------------------------------------------------------------- a run's view of the records

  /**
   * Shows a run's view of a document (the Suspect filter, margins in the detail, "label changed
   * since run"); null hides it. Problems (no dynamics file, unreadable) are shown as a message and
   * leave the editor as it was; `quiet`: logged only (the automatic pick of the latest run).
   */
  async showRun(document: LabelingDocument, runDir: string | null, quiet = false): Promise<boolean> {
    if (runDir === null) {
      document.model.detachRun();
      return true;
    }
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `RPO: matching run ${path.basename(runDir)} to ${path.basename(document.uri.fsPath)}` }, () => showRunOn(document, runDir, this.log));
      return true;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log.warn(message);
      if (!quiet) void vscode.window.showWarningMessage(`RPO: ${message}`);
      return false;
    }
  }

  /** "Pick Run…" of the editor's toolbar and the command. */
  async pickRunFor(document: LabelingDocument): Promise<void> {
    const runDir = await pickRun(document.uri.fsPath);
    if (runDir === undefined) return;
    if (await this.showRun(document, runDir)) {
      const c = document.model.counts.run;
      if (runDir && c) for (const view of this.views) if (view.document === document) await view.showFilter(c.suspects > 0 ? 'suspect' : view.filter, undefined);
    }
  }

  /** After the scan of a newly opened file: the newest run that trained on it, if it has dynamics. */
  private async showLatestRun(document: LabelingDocument): Promise<void> {
    await document.model.whenScanned();
    if (!(await document.whenWhole()) || document.model.runShown) return;
    const latest = latestRunFor(document.uri.fsPath);
    if (latest) await this.showRun(document, latest.summary.runDir, true);
  }

  /**
   * `rpo.label.showRecords`: another view (the run dashboard's data map) asks the editor to show
   * records of a run. Opens the file (default: the dataset the run trained on), shows that run's
   * view of it, and lists the records in the "Picked" filter, in the order given, the first one
   * selected. Records are found by their pair key (docs/contracts.md §8), never by line number:
   * a record removed or edited since the run is not shown, and the message says how many.
   */
  async showRecords(args: ShowRecordsArgs): Promise<ShowRecordsResult> {
    const runDir = args.runDir;
    const rows = args.rows ?? [];
    const keys = (args.keys ?? []).map((k) => Buffer.from(k, 'hex'));
    const file = args.file ? (/^[a-z][\w+.-]+:/i.test(args.file) && !/^[a-z]:[\\/]/i.test(args.file) ? vscode.Uri.parse(args.file) : vscode.Uri.file(args.file)) : undefined;
    let target = file;
    if (!target) {
      try {
        target = vscode.Uri.file(readRunDynamics(runDir).dataset);
      } catch (err) {
        const message = runProblem(runDir, err);
        void vscode.window.showWarningMessage(`RPO: ${message}`);
        return { shown: 0, missing: rows.length + keys.length, message };
      }
    }
    await vscode.commands.executeCommand('vscode.openWith', target, VIEW_TYPE, vscode.ViewColumn.One);
    const view = [...this.views].find((v) => v.document.uri.toString() === target!.toString());
    if (!view) return { shown: 0, missing: rows.length + keys.length, message: `could not open ${target.fsPath} in the preference editor` };
    view.panel.reveal(undefined, false);
    const document = view.document;
    await document.model.whenScanned();
    if (document.model.runShown?.runDir !== runDir && !(await this.showRun(document, runDir))) {
      return { shown: 0, missing: rows.length + keys.length, message: 'the run could not be read' };
    }
    const model = document.model;
    await model.whenRunMatched();
    const lines = [...model.linesOfRows(rows), ...model.linesOfKeys(keys)];
    const asked = rows.length + keys.length;
    const shown = model.setPicked(lines);
    const missing = asked - shown;
    let message: string | undefined;
    if (missing > 0) {
      message = `${missing.toLocaleString('en-US')} of the ${asked.toLocaleString('en-US')} records are no longer in ${path.basename(target.fsPath)} (removed or edited since the run)${shown ? '' : ': nothing to show'}.`;
      void vscode.window.showInformationMessage(`RPO: ${message}`);
    }
    this.log.info(`showRecords: ${shown} of ${asked} records of run ${path.basename(runDir)} shown in ${target.fsPath}`);
    await view.showFilter(shown ? 'picked' : view.filter, shown ? lines[0] : undefined);
    return { shown, missing, ...(message ? { message } : {}) };
  }

  private publishDiagnostics(document: LabelingDocument): void {
    const list: vscode.Diagnostic[] = [];
    for (const x of [...document.model.invalid.values()].sort((a, b) => a.line - b.line)) {
      const col = Math.max((x.column ?? 1) - 1, 0);
      const d = new vscode.Diagnostic(new vscode.Range(x.line, col, x.line, col + 1), `Line ${x.line + 1}: ${x.reason}`, vscode.DiagnosticSeverity.Error);
      d.source = 'RPO';
      list.push(d);
    }
    this.diagnostics.set(document.uri, list);
  }

  async resolveCustomEditor(document: LabelingDocument, panel: vscode.WebviewPanel, _token: vscode.CancellationToken): Promise<void> {
    panel.webview.options = webviewOptions(this.context.extensionUri);
    const view = new LabelingView(document, panel, this);
    this.views.add(view);
    this.activeView = view;
    panel.webview.onDidReceiveMessage((m) => view.onMessage(m).catch((err) => this.log.error(err instanceof Error ? err : String(err))));
    setLabelingRevealHandler((uri, line) => this.reveal(uri, line));
    panel.onDidChangeViewState(() => {
      if (panel.active) publishLabelingSelection({ uri: document.uri, line: view.selected });
      if (panel.active) this.activeView = view;
      else if (this.activeView === view) this.setFocused(view, false);
    });
    panel.onDidDispose(() => {
      this.views.delete(view);
      if (this.activeView === view) {
        this.activeView = undefined;
        void vscode.commands.executeCommand('setContext', FOCUS_CONTEXT, false);
      }
    });
    // The first screen goes into the HTML: the view paints it without asking (see InitialState).
    const initial = await view.initialState();
    panel.webview.html = webviewHtml(panel.webview, this.context.extensionUri, { view: 'labeling', title: path.basename(document.uri.fsPath), css: true, inline: true, json: { id: INITIAL_STATE_ELEMENT_ID, value: initial } });
  }

  setFocused(view: LabelingView, focused: boolean): void {
    if (focused) this.activeView = view;
    void vscode.commands.executeCommand('setContext', FOCUS_CONTEXT, focused);
  }

  /** Selects a record (the contrast preview's neighbour list jumps here), opening the file if needed. */
  async reveal(uri: vscode.Uri, line: number): Promise<void> {
    let view = [...this.views].find((v) => v.document.uri.toString() === uri.toString());
    if (!view) {
      await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE, vscode.ViewColumn.One);
      view = [...this.views].find((v) => v.document.uri.toString() === uri.toString());
      if (!view) return;
    }
    view.panel.reveal(undefined, true);
    await view.select(line);
  }

  /** The view commands act on: the active labeling editor. */
  active(): LabelingView | undefined {
    if (this.activeView && this.views.has(this.activeView) && this.activeView.panel.active) return this.activeView;
    for (const v of this.views) if (v.panel.active) return v;
    return undefined;
  }

  saveCustomDocument(document: LabelingDocument, cancellation: vscode.CancellationToken): Thenable<void> {
    return document.save(cancellation);
  }

  saveCustomDocumentAs(document: LabelingDocument, destination: vscode.Uri, cancellation: vscode.CancellationToken): Thenable<void> {
    return document.saveAs(destination, cancellation);
  }

  revertCustomDocument(document: LabelingDocument, cancellation: vscode.CancellationToken): Thenable<void> {
    return document.revert(cancellation);
  }

  async backupCustomDocument(document: LabelingDocument, context: vscode.CustomDocumentBackupContext, cancellation: vscode.CancellationToken): Promise<vscode.CustomDocumentBackup> {
    const backup = await document.backup(context.destination, cancellation);
    const edits = document.model.doc.dirtyLineNumbers().length;
    this.log.info(`backed up ${edits} unsaved line edit(s) of ${document.uri.fsPath} to ${backup.id}`);
    if (RPO_TEST_HOOKS_BUILT) recordBackup({ uri: document.uri.toString(), id: backup.id, edits });
    return backup;
  }

  /** The open views, oldest first. */
  openViews(): LabelingView[] {
    return [...this.views];
  }

  dispose(): void {
    this.changeDocument.dispose();
  }
}


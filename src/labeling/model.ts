import { Worker } from 'node:worker_threads';
import { parseLine, type ParsedLine } from '../core/dataset/formats';
import { applyLabel, displayOrder, type LabelIntent } from '../core/dataset/labeling';
import { LineDocument, type DocumentBackup, type LineEdit } from '../core/dataset/lineDocument';
import { addToStats, emptyStats, fileVerdict, lineCode, mergeStats, stateOfCode, type DatasetStats, type FileVerdict } from '../core/dataset/stats';
import type { Counts, Filter, LabelAction, NavAction, RecordDetail, RowSummary } from '../protocol/labeling';
import { recordDetail, rowSummary, statusOfState } from './recordView';
import { scanAll, searchLines, type InvalidLine, type ScanReply, type ScanRequest } from './scanWork';

/**
 * The labeling editor's model, without vscode: the core's LineDocument (the file's bytes, line
 * overlay, undo data, atomic save, backup) plus what the editor needs on top of it, kept up to
 * date across edits, undo, redo and reloads:
 * - one code byte per line (kind + label state; 255 until scanned) filled by a worker thread
 *   that parses the whole file over the document's shared bytes;
 * - counts (labeled / total, per annotator), invalid lines (for the Problems panel);
 * - filtered lists and host-side search, answered as windows of rows for the virtual list.
 */

export const UNSCANNED = 255;

export interface ModelOptions {
  /** Path of the built worker (dist/workers/labelingScan.js); absent: scan on this thread in slices (tests). */
  workerPath?: string;
}

export interface LabelSettings {
  annotator: string;
  seed: string;
}

type Listener = (what: 'edit' | 'scan' | 'reload') => void;

function isTieSkip(state: string): boolean {
  return state === 'tie' || state === 'skip' || state === 'both_bad' || state === 'excluded';
}

export function countsOf(stats: DatasetStats, scanned: number, lines: number): Counts {
  const s = stats.byState;
  const byAnnotator: Record<string, number> = {};
  for (const [a, n] of Object.entries(stats.byAnnotator)) if (n > 0) byAnnotator[a] = n;
  return {
    lines,
    scanned,
    complete: scanned >= lines,
    records: stats.records,
    labeled: s.labeled,
    unlabeled: s['needs-label'] + s.unreviewed,
    tieSkip: s.tie + s.skip + s.both_bad + s.excluded,
    invalid: stats.invalid,
    byAnnotator,
  };
}

function negate(stats: DatasetStats): DatasetStats {
  const neg = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, -v]));
  return {
    ...stats,
    lines: -stats.lines, blank: -stats.blank, invalid: -stats.invalid, records: -stats.records,
    identicalPairs: -stats.identicalPairs, hhTranscripts: -stats.hhTranscripts, decided: -stats.decided,
    invalidByCode: neg(stats.invalidByCode as Record<string, number>),
    byKind: neg(stats.byKind) as DatasetStats['byKind'],
    byStyle: neg(stats.byStyle) as DatasetStats['byStyle'],
    byState: neg(stats.byState) as DatasetStats['byState'],
    byAnnotator: neg(stats.byAnnotator),
  };
}

function statsOf(rec: ParsedLine): DatasetStats {
  return addToStats(emptyStats(), rec);
}

/** Maps a label action to the core's intents (applied in order to the line's text). */
export function intentsFor(action: LabelAction): LabelIntent[] {
  switch (action) {
    case 'chooseLeft': return [{ type: 'choose', side: 'left', strength: 'clearly' }];
    case 'chooseRight': return [{ type: 'choose', side: 'right', strength: 'clearly' }];
    case 'chooseLeftSlightly': return [{ type: 'choose', side: 'left', strength: 'slightly' }];
    case 'chooseRightSlightly': return [{ type: 'choose', side: 'right', strength: 'slightly' }];
    case 'tie': return [{ type: 'status', status: 'tie' }];
    case 'skip': return [{ type: 'status', status: 'skip' }];
    case 'bothBad': return [{ type: 'status', status: 'both_bad' }];
    case 'exclude': return [{ type: 'status', status: 'excluded' }];
    case 'clear': return [{ type: 'clear' }];
    case 'thumbsUp': return [{ type: 'thumbs', up: true }];
    case 'thumbsDown': return [{ type: 'thumbs', up: false }];
    case 'confirm': return [{ type: 'confirm' }];
    case 'flip': return [{ type: 'flip' }];
  }
}

const ACTION_NAMES: Record<LabelAction, string> = {
  chooseLeft: 'left better', chooseRight: 'right better', chooseLeftSlightly: 'left slightly better',
  chooseRightSlightly: 'right slightly better', tie: 'tie', skip: 'skip', bothBad: 'both bad', exclude: 'exclude',
  clear: 'clear label', thumbsUp: 'thumbs up', thumbsDown: 'thumbs down', confirm: 'confirm', flip: 'flip',
};

export class LabelingModel {
  codes: Uint8Array;
  private stats: DatasetStats = emptyStats();
  private scanned = 0;
  private generation = 0;
  private worker: Worker | undefined;
  /** Invalid lines reported so far (capped by the worker), by line. */
  readonly invalid = new Map<number, InvalidLine>();
  private filterCache = new Map<Filter, Uint32Array>();
  private searchCache: { query: string; lines: Uint32Array } | undefined;
  private searchPending = new Map<number, (lines: Uint32Array) => void>();
  private searchSeq = 0;
  private listeners = new Set<Listener>();
  private scanDone: Promise<void> = Promise.resolve();
  private resolveScan: () => void = () => undefined;
  scanMs = 0;

  private constructor(readonly doc: LineDocument, private readonly options: ModelOptions) {
    this.codes = new Uint8Array(doc.lineCount).fill(UNSCANNED);
  }

  static async open(path: string, options: ModelOptions = {}, backup?: DocumentBackup | string): Promise<LabelingModel> {
    const doc = backup ? await LineDocument.restore(path, backup, { shared: true }) : await LineDocument.open(path, { shared: true });
    const model = new LabelingModel(doc, options);
    model.startScan();
    return model;
  }

  get lineCount(): number {
    return this.doc.lineCount;
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(what: 'edit' | 'scan' | 'reload'): void {
    for (const l of this.listeners) l(what);
  }

  /** Resolves when every line has been classified. */
  whenScanned(): Promise<void> {
    return this.scanDone;
  }

  get counts(): Counts {
    return countsOf(this.stats, this.scanned, this.lineCount);
  }

  verdict(): FileVerdict {
    return fileVerdict(this.stats);
  }

  // ---------------------------------------------------------------- scanning

  private startScan(): void {
    const generation = ++this.generation;
    this.codes = new Uint8Array(this.lineCount).fill(UNSCANNED);
    this.stats = emptyStats();
    this.scanned = 0;
    this.invalid.clear();
    this.filterCache.clear();
    this.searchCache = undefined;
    this.scanDone = new Promise((resolve) => (this.resolveScan = resolve));
    if (this.lineCount === 0) {
      this.resolveScan();
      return;
    }
    const t0 = performance.now();
    if (this.options.workerPath) {
      this.ensureWorker().postMessage({ type: 'scan', generation, data: this.doc.lineIndex.toShared() } satisfies ScanRequest);
    } else {
      // Tests: same work in slices on this thread.
      const batches: Parameters<Parameters<typeof scanAll>[1]>[] = [];
      scanAll(this.doc.lineIndex, (...args) => batches.push(args));
      const next = () => {
        if (generation !== this.generation) return;
        const b = batches.shift();
        if (!b) {
          this.scanMs = performance.now() - t0;
          this.resolveScan();
          this.emit('scan');
          return;
        }
        this.onScanned(...b);
        setImmediate(next);
      };
      setImmediate(next);
    }
  }

  private ensureWorker(): Worker {
    if (!this.worker) {
      this.worker = new Worker(this.options.workerPath!);
      this.worker.on('message', (m: ScanReply) => this.onWorker(m));
      this.worker.on('error', (err) => {
        this.worker = undefined;
        for (const [, resolve] of this.searchPending) resolve(new Uint32Array(0));
        this.searchPending.clear();
        this.lastError = err.message;
      });
    }
    return this.worker;
  }

  lastError: string | undefined;

  private onWorker(m: ScanReply): void {
    if (m.generation !== this.generation) return;
    switch (m.type) {
      case 'scanned':
        this.onScanned(m.from, m.to, m.codes, m.stats, m.invalid);
        this.emit('scan');
        break;
      case 'scanDone':
        this.scanMs = m.ms;
        this.resolveScan();
        this.emit('scan');
        break;
      case 'found':
        this.searchPending.get(m.id)?.(m.lines);
        this.searchPending.delete(m.id);
        break;
      case 'failed':
        this.lastError = m.message;
        if (m.id !== undefined) {
          this.searchPending.get(m.id)?.(new Uint32Array(0));
          this.searchPending.delete(m.id);
        } else this.resolveScan();
        break;
    }
  }

  /** A batch of the worker's codes (computed from the bytes as loaded) merged with our edits. */
  private onScanned(from: number, to: number, codes: Uint8Array, stats: DatasetStats, invalid: InvalidLine[]): void {
    this.codes.set(codes, from);
    const parts = [this.stats, stats];
    for (const x of invalid) this.invalid.set(x.line, x);
    for (const line of this.doc.editedLineNumbers()) {
      if (line < from || line >= to) continue;
      const original = parseLine(this.doc.lineIndex.content(line));
      const current = this.parse(line);
      parts.push(negate(statsOf(original)), statsOf(current));
      this.codes[line] = lineCode(current);
      this.updateInvalid(line, current);
    }
    this.stats = mergeStats(parts);
    this.scanned += to - from;
    this.filterCache.clear();
  }

  private updateInvalid(line: number, rec: ParsedLine): void {
    if (rec.kind === 'invalid') this.invalid.set(line, { line, reason: rec.reason, column: rec.column });
    else this.invalid.delete(line);
  }

  // ---------------------------------------------------------------- reading

  parse(line: number): ParsedLine {
    return parseLine(this.doc.lineBytes(line));
  }

  row(line: number): RowSummary {
    return rowSummary(line, this.parse(line));
  }

  detail(line: number, seed: string): RecordDetail {
    return recordDetail(line, this.parse(line), seed, () => this.doc.lineText(line));
  }

  private filterList(filter: Filter): Uint32Array | null {
    if (filter === 'all') return null;
    let list = this.filterCache.get(filter);
    if (list) return list;
    const codes = this.codes;
    const out = new Uint32Array(codes.length);
    let n = 0;
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i]!;
      if (c !== UNSCANNED && matchesFilter(filter, c)) out[n++] = i;
    }
    list = out.slice(0, n);
    this.filterCache.set(filter, list);
    return list;
  }

  /** Lines matching the search (worker), corrected for edited lines. */
  async search(query: string): Promise<Uint32Array> {
    if (this.searchCache?.query === query) return this.searchCache.lines;
    const generation = this.generation;
    let lines: Uint32Array;
    if (this.worker || this.options.workerPath) {
      const id = ++this.searchSeq;
      lines = await new Promise<Uint32Array>((resolve) => {
        this.searchPending.set(id, resolve);
        this.ensureWorker().postMessage({ type: 'search', generation, id, query, data: this.doc.lineIndex.toShared() } satisfies ScanRequest);
      });
    } else {
      lines = searchLines(this.doc.lineIndex, query);
    }
    const edited = this.doc.editedLineNumbers();
    if (edited.length) {
      const set = new Set(lines);
      const q = query.toLowerCase();
      for (const line of edited) {
        if (this.doc.lineText(line).toLowerCase().includes(q)) set.add(line);
        else set.delete(line);
      }
      lines = Uint32Array.from([...set].sort((a, b) => a - b));
    }
    if (generation === this.generation) this.searchCache = { query, lines };
    return lines;
  }

  /** The lines of a filter + search, or null for "every line". */
  async matching(filter: Filter, query: string): Promise<Uint32Array | null> {
    const list = this.filterList(filter);
    if (!query) return list;
    const found = await this.search(query);
    if (!list) return found;
    return found.filter((line) => matchesFilter(filter, this.codes[line]!));
  }

  async rows(filter: Filter, query: string, start: number, count: number): Promise<{ matching: number; rows: RowSummary[] }> {
    const list = await this.matching(filter, query);
    const total = list ? list.length : this.lineCount;
    const rows: RowSummary[] = [];
    for (let p = start; p < Math.min(start + count, total); p++) rows.push(this.row(list ? list[p]! : p));
    return { matching: total, rows };
  }

  /** Position of `line` in the filtered list; -1 when it is not in it. */
  async position(filter: Filter, query: string, line: number): Promise<number> {
    const list = await this.matching(filter, query);
    if (!list) return line < this.lineCount ? line : -1;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = list[mid]!;
      if (v === line) return mid;
      if (v < line) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Where a navigation action goes from `line` within the current list. */
  async navigate(action: NavAction, filter: Filter, query: string, line: number, page = 20): Promise<number> {
    if (action === 'nextUnlabeled') return this.nextUnlabeled(line);
    const list = await this.matching(filter, query);
    const total = list ? list.length : this.lineCount;
    if (total === 0) return line;
    const at = (p: number) => (list ? list[p]! : p);
    let pos = await this.position(filter, query, line);
    if (pos < 0) {
      // Not in the list (filtered out after a label): continue from the next list entry after it.
      pos = lowerBound(list, line, total) - (action === 'next' || action === 'pageDown' ? 1 : 0);
    }
    switch (action) {
      case 'next': return at(Math.min(pos + 1, total - 1));
      case 'previous': return at(Math.max(pos - 1, 0));
      case 'pageDown': return at(Math.min(pos + page, total - 1));
      case 'pageUp': return at(Math.max(pos - page, 0));
      case 'first': return at(0);
      case 'last': return at(total - 1);
    }
  }

  /** The next line awaiting a decision after `line` (wrapping), or `line` when none. */
  nextUnlabeled(line: number): number {
    const codes = this.codes;
    const n = codes.length;
    for (let k = 1; k <= n; k++) {
      const i = (line + k) % n;
      const c = codes[i]!;
      if (c === UNSCANNED) {
        const s = statusOfState(stateOfCode(lineCode(this.parse(i))));
        if (s === 'unlabeled' || s === 'unreviewed') return i;
      } else if (matchesFilter('unlabeled', c)) return i;
    }
    return line;
  }

  // ---------------------------------------------------------------- editing

  /** Applies a label action to a line; returns the edit for VS Code's undo stack. Throws LabelError. */
  label(line: number, action: LabelAction, settings: LabelSettings, time = new Date().toISOString()): LineEdit {
    const rec = this.parse(line);
    const shown = displayOrder(rec, line, settings.seed);
    let text = this.doc.lineText(line);
    for (const intent of intentsFor(action)) text = applyLabel(text, intent, { annotator: settings.annotator, time, shown });
    return this.replace(line, text, `Label line ${line + 1}: ${ACTION_NAMES[action]}`);
  }

  note(line: number, note: string, settings: LabelSettings, time = new Date().toISOString()): LineEdit {
    const rec = this.parse(line);
    const text = applyLabel(this.doc.lineText(line), { type: 'note', note: note || null }, { annotator: settings.annotator, time, shown: displayOrder(rec, line, settings.seed) });
    return this.replace(line, text, `Note on line ${line + 1}`);
  }

  private replace(line: number, text: string, label: string): LineEdit {
    const before = this.parse(line);
    const edit = this.doc.applyEdits([{ line, text }], label);
    this.afterChange([{ line, before }]);
    return edit;
  }

  undo(edit: LineEdit): void {
    const before = edit.changes.map((c) => ({ line: c.line, before: this.parse(c.line) }));
    this.doc.undo(edit);
    this.afterChange(before);
  }

  redo(edit: LineEdit): void {
    const before = edit.changes.map((c) => ({ line: c.line, before: this.parse(c.line) }));
    this.doc.redo(edit);
    this.afterChange(before);
  }

  private afterChange(changes: { line: number; before: ParsedLine }[]): void {
    const parts = [this.stats];
    for (const { line, before } of changes) {
      const after = this.parse(line);
      // Unscanned lines: the worker's batch will account for them (it corrects edited lines).
      if (this.codes[line] === UNSCANNED) continue;
      parts.push(negate(statsOf(before)), statsOf(after));
      const code = lineCode(after);
      if (code !== this.codes[line]) this.filterCache.clear();
      this.codes[line] = code;
      this.updateInvalid(line, after);
    }
    this.stats = mergeStats(parts);
    this.searchCache = undefined;
    this.emit('edit');
  }

  async save(target?: string): Promise<void> {
    await this.doc.save(target);
  }

  backup(): DocumentBackup {
    return this.doc.backup();
  }

  /** Reloads from disk (revert, or an external change while clean) and rescans. */
  async reload(): Promise<void> {
    await this.doc.revert({ shared: true });
    this.startScan();
    this.emit('reload');
  }

  dispose(): void {
    this.generation++;
    void this.worker?.terminate();
    this.worker = undefined;
    this.listeners.clear();
  }
}

function matchesFilter(filter: Filter, code: number): boolean {
  const state = stateOfCode(code);
  switch (filter) {
    case 'all': return true;
    case 'unlabeled': return state === 'needs-label' || state === 'unreviewed';
    case 'labeled': return state === 'labeled';
    case 'tieSkip': return isTieSkip(state);
    case 'invalid': return state === 'invalid';
  }
}

/** First position in `list` whose line is >= line (list null: every line). */
function lowerBound(list: Uint32Array | null, line: number, total: number): number {
  if (!list) return Math.min(line, total);
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < line) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

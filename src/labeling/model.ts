import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { parseLine, type ParsedLine, type PreferenceRecord } from '../core/dataset/formats';
import { applyLabel, displayOrder, LabelError, type LabelIntent } from '../core/dataset/labeling';
import type { ResolutionPolicy } from '../core/dataset/votes';
import { blindOrder, isBlindCandidate, markBlindLine, pickBlind } from '../core/dataset/blind';
import { LineDocument, type DocumentBackup, type LineEdit, type SaveOptions } from '../core/dataset/lineDocument';
import { addToStats, emptyStats, fileVerdict, isBlindCode, lineCode, mergeStats, stateOfCode, type DatasetStats, type FileVerdict } from '../core/dataset/stats';
import type { Counts, Filter, LabelAction, NavAction, RecordDetail, RowSummary } from '../protocol/labeling';
import { recordDetail, rowSummary, sideLabel, statusOfState } from './recordView';
import { LineSet } from './lineSet';
import { bytesMatch, SCAN_BATCH, scanAll, searchLines, variants, type InvalidLine, type LineKeys, type ScanReply, type ScanRequest } from './scanWork';
import { keyLines, lineKey, sameKeyOptions } from './lineKeys';
import { RunOverlay, SIDE_NONE, type RunIdentity } from './runOverlay';
import { KEY_BYTES, keyedRecords, sameKey, type Dynamics } from '../core/dynamics';
import type { KeyOptions } from './lineKeys';

/**
 * The labeling editor's model, without vscode: the core's LineDocument (the file's bytes, line
 * overlay, undo data, atomic save, backup) plus what the editor needs on top of it, kept up to
 * date across edits, undo, redo and reloads:
 * - one code byte per line (kind + label state; 255 until scanned) filled by a worker thread
 *   that parses the whole file over the document's shared bytes;
 * - counts (labeled / total, per annotator), invalid lines (for the Problems panel);
 * - filtered lists and host-side search, answered as windows of rows for the virtual list.
 *   Each filter (and each filter within the current search) is a LineSet over the codes: a
 *   label, undo or redo updates it in O(changed lines), never by rebuilding a list of records.
 */

export const UNSCANNED = 255;
/** Files bigger than this open in two steps: a first screen from their first lines, then the whole file. */
export const HEAD_OPEN_BYTES = 64 * 1024 * 1024;
/** How much of such a file the first screen reads at most. */
export const HEAD_BYTES = 4 * 1024 * 1024;
/**
 * The first screen reads 256 KiB, more (doubling, up to HEAD_BYTES) until it holds this many
 * whole lines: a few screens of rows, not 4 MB (measured: 4 MB of HH records, 4,006 lines, kept
 * the extension host busy 100-230 ms before the editor could be created).
 */
export const HEAD_LINES = 200;

/** Lines per slice of a scan on the extension host's thread (a few ms each). */
const THREAD_SCAN_SLICE = 256;

export interface ModelOptions {
  /** Path of the built worker (dist/workers/labelingScan.js); absent: scan on this thread in slices (tests). */
  workerPath?: string;
  /** Scan workers (default: 1 up to 250k lines, else the machine's cores, at most 4); searches use the first. */
  scanWorkers?: number;
  /**
   * The first scan's workers start when this settles (the editor's first screen: a worker busy
   * on one of two cores slowed VS Code's creation of the webview); reloads scan at once.
   */
  scanGate?: Promise<unknown>;
  /**
   * Pair keys to compute in the scan itself, from the records it parses (a run's mode and usable
   * rules: the newest run on the file). A run shown with the same options is then matched without
   * a second pass over the file. Showing a run sets them for later scans (reloads).
   */
  scanKeys?: KeyOptions;
}

export interface LabelSettings {
  annotator: string;
  seed: string;
  /** How a record's votes resolve (the `rpo.labeling.resolution` setting); default `majority`. */
  policy?: ResolutionPolicy;
  /** A blind view (the "Blind" filter): records show in `blindOrder` for `seed` (pass `blindSeed(...)`). */
  blind?: boolean;
}

type Listener = (what: 'edit' | 'scan' | 'reload') => void;

/** An ordered list of lines the view reads by position (a filter, a search, or every line). */
export interface LineList {
  readonly length: number;
  /** The line at position p (0 <= p < length). */
  at(p: number): number;
  /** Position of `line`, -1 when it is not in the list. */
  positionOf(line: number): number;
  /** Number of listed lines < line. */
  lowerBound(line: number): number;
  /** Up to `count` lines from position p on. */
  slice(p: number, count: number): number[];
}

/** Every line 0..n-1. */
class AllLines implements LineList {
  constructor(readonly length: number) {}
  at(p: number): number {
    return p;
  }
  positionOf(line: number): number {
    return line >= 0 && line < this.length ? line : -1;
  }
  lowerBound(line: number): number {
    return Math.max(0, Math.min(line, this.length));
  }
  slice(p: number, count: number): number[] {
    const out: number[] = [];
    for (let i = Math.max(p, 0); i < Math.min(p + count, this.length); i++) out.push(i);
    return out;
  }
}

/** Filters over the per-line codes (the others are ranked lists: Suspect, Picked). */
type ListFilter = Exclude<Filter, 'all' | 'suspect' | 'picked'>;
type RankedFilter = 'suspect' | 'picked';
const isRanked = (f: Filter): f is RankedFilter => f === 'suspect' || f === 'picked';

/** Lines in a given order (a ranking, the records another view picked), with each line's position. */
export class RankedLines implements LineList {
  private readonly pos: Int32Array;
  constructor(private readonly lines: Int32Array, lineCount: number) {
    this.pos = new Int32Array(lineCount).fill(-1);
    for (let p = 0; p < lines.length; p++) if (this.pos[lines[p]!]! < 0) this.pos[lines[p]!] = p;
  }
  get length(): number {
    return this.lines.length;
  }
  at(p: number): number {
    return this.lines[p]!;
  }
  positionOf(line: number): number {
    return line >= 0 && line < this.pos.length ? this.pos[line]! : -1;
  }
  /** A ranked list has no line order: a line outside it continues from the top. */
  lowerBound(): number {
    return 0;
  }
  slice(p: number, count: number): number[] {
    return Array.from(this.lines.subarray(Math.max(p, 0), Math.max(p, 0) + Math.max(count, 0)));
  }
}

/** The Suspect filter over a run overlay (positions: matched suspect ranks, most suspect first). */
class SuspectLines implements LineList {
  constructor(private readonly run: RunOverlay) {}
  get length(): number {
    return this.run.suspectSet.length;
  }
  at(p: number): number {
    return this.run.suspectLine(p);
  }
  positionOf(line: number): number {
    return this.run.suspectPosition(line);
  }
  lowerBound(): number {
    return 0;
  }
  slice(p: number, count: number): number[] {
    return this.run.suspectSet.slice(p, count).map((rank) => this.run.suspectLineOfRank(rank));
  }
}
const LIST_FILTERS: readonly ListFilter[] = ['unlabeled', 'labeled', 'tieSkip', 'disputed', 'blind', 'invalid'];

/** Current search: a hit byte per line plus a LineSet per filter within it (built on demand). */
interface SearchState {
  query: string;
  needles: Buffer[];
  hit: Uint8Array;
  sets: Map<Filter, LineSet>;
}

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
    disputed: s.disputed,
    blind: stats.blind,
    invalid: stats.invalid,
    byAnnotator,
  };
}

function negate(stats: DatasetStats): DatasetStats {
  const neg = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, -v]));
  return {
    ...stats,
    lines: -stats.lines, blank: -stats.blank, invalid: -stats.invalid, records: -stats.records,
    identicalPairs: -stats.identicalPairs, hhTranscripts: -stats.hhTranscripts, decided: -stats.decided, blind: -stats.blind,
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
    // Adjudication: the same judgements, written as an adjudicator's vote (`isAdjudication`).
    case 'adjudicateLeft': return [{ type: 'choose', side: 'left', strength: 'clearly' }];
    case 'adjudicateRight': return [{ type: 'choose', side: 'right', strength: 'clearly' }];
    case 'adjudicateTie': return [{ type: 'status', status: 'tie' }];
  }
}

/** Actions that write an adjudicator's vote (it wins under the `adjudicated` policy). */
export function isAdjudication(action: LabelAction): boolean {
  return action === 'adjudicateLeft' || action === 'adjudicateRight' || action === 'adjudicateTie';
}

const ACTION_NAMES: Record<LabelAction, string> = {
  chooseLeft: 'left better', chooseRight: 'right better', chooseLeftSlightly: 'left slightly better',
  chooseRightSlightly: 'right slightly better', tie: 'tie', skip: 'skip', bothBad: 'both bad', exclude: 'exclude',
  clear: 'clear label', thumbsUp: 'thumbs up', thumbsDown: 'thumbs down', confirm: 'confirm', flip: 'flip',
  adjudicateLeft: 'adjudicated left', adjudicateRight: 'adjudicated right', adjudicateTie: 'adjudicated tie',
};

export class LabelingModel {
  codes: Uint8Array;
  private stats: DatasetStats = emptyStats();
  private scanned = 0;
  private generation = 0;
  /** Scan workers; workers[0] also answers searches. */
  private workers: (Worker | undefined)[] = [];
  private scansRunning = 0;
  /** Invalid lines reported so far (capped by the worker), by line. */
  readonly invalid = new Map<number, InvalidLine>();
  /** One LineSet per filter over `codes` (unscanned lines match none). */
  private filterSets = new Map<ListFilter, LineSet>();
  private searchState: SearchState | undefined;
  private searchInFlight = new Map<string, Promise<SearchState | undefined>>();
  /** Bumped whenever the set of invalid lines changes (the Problems panel republishes then). */
  invalidVersion = 0;
  private searchPending = new Map<number, (lines: Uint32Array) => void>();
  /** The picked run's view of the file (the Suspect filter, "label changed since run"). */
  private run: { rows: Dynamics; id: RunIdentity; options: KeyOptions; overlay: RunOverlay; seq: number; pending: number; done: Promise<void>; resolve: () => void; fromScan: boolean } | undefined;
  /** Key options of the next scans (ModelOptions.scanKeys, then the run shown). */
  private scanKeyOptions: KeyOptions | undefined;
  /** This scan's keys of the loaded bytes, per line (32 bytes, side), and the line ranges in so far. */
  private scanKeys: { options: KeyOptions; keys: Uint8Array; sides: Uint8Array; ranges: [number, number][] } | undefined;
  /** This scan's every range is in (or failed). */
  private scanComplete = false;
  private runSeq = 0;
  /** Lines another view asked to show (`rpo.label.showRecords`), in its order. */
  private picked: RankedLines | undefined;
  private searchSeq = 0;
  private listeners = new Set<Listener>();
  private scanDone: Promise<void> = Promise.resolve();
  private resolveScan: () => void = () => undefined;
  scanMs = 0;

  private scanGate: Promise<unknown> | undefined;

  private constructor(readonly doc: LineDocument, private readonly options: ModelOptions) {
    this.scanGate = options.scanGate;
    this.scanKeyOptions = options.scanKeys;
    this.codes = new Uint8Array(doc.lineCount).fill(UNSCANNED);
  }

  static async open(path: string, options: ModelOptions = {}, backup?: DocumentBackup | string, onProgress?: (read: number, total: number) => void): Promise<LabelingModel> {
    const doc = backup ? await LineDocument.restore(path, backup, { shared: true }) : await LineDocument.open(path, { shared: true, onProgress });
    const model = new LabelingModel(doc, options);
    model.startScan();
    return model;
  }

  /**
   * A read-only model of the file's first whole lines (up to `maxBytes`) for the first screen of
   * a huge file while `open` reads all of it; undefined when the file is not bigger than that.
   * Scanned on this thread (a few MB). Labels, notes and save refuse until the whole file is in.
   */
  static async openHead(path: string, maxBytes: number, minLines?: number): Promise<LabelingModel | undefined> {
    const doc = await LineDocument.head(path, maxBytes, { minLines });
    if (!doc) return undefined;
    const model = new LabelingModel(doc, {});
    model.reading = { read: doc.lineIndex.byteLength, total: doc.partial!.totalBytes };
    model.startScan();
    return model;
  }

  /** While this is a head model: bytes of the whole file read so far (the document updates it). */
  reading: { read: number; total: number } | undefined;

  get partial(): boolean {
    return !!this.doc.partial;
  }

  private refusePartial(): void {
    if (this.reading) {
      const mb = (n: number) => `${Math.round(n / 1024 / 1024)} MB`;
      throw new LabelError(`the file is still being read (${mb(this.reading.read)} of ${mb(this.reading.total)}); labels can be made once it is all in`);
    }
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
    const c = countsOf(this.stats, this.scanned, this.lineCount);
    if (this.run) c.run = this.run.overlay.counts();
    if (this.picked) c.picked = this.picked.length;
    if (this.reading) return { ...c, complete: false, reading: { ...this.reading } };
    return c;
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
    this.invalidVersion++;
    this.filterSets = new Map(LIST_FILTERS.map((f) => [f, new LineSet(this.lineCount, this.filterPredicate(f))]));
    this.searchState = undefined;
    this.searchInFlight.clear();
    this.scanDone = new Promise((resolve) => (this.resolveScan = resolve));
    this.picked = undefined;
    this.scanComplete = false;
    const keyOptions = this.scanKeyOptions;
    this.scanKeys = keyOptions && this.lineCount > 0 ? { options: keyOptions, keys: new Uint8Array(this.lineCount * 32), sides: new Uint8Array(this.lineCount), ranges: [] } : undefined;
    if (this.run) void this.attachRun(this.run.rows, this.run.id, this.run.options, this.run.overlay);
    if (this.lineCount === 0) {
      this.scanComplete = true;
      this.resolveScan();
      return;
    }
    const t0 = performance.now();
    if (this.options.workerPath) {
      // Contiguous ranges (whole batches) for several workers over the same shared bytes.
      // Default: one worker up to 250k lines (each worker's start costs more than it saves there:
      // on a loaded 2-core machine 2 workers scanned 100k HH records 1.18-1.50x slower than 1),
      // the cores (at most 4) above (1M records: 2 workers took 0.59x the time of 1).
      const wanted = this.options.scanWorkers ?? (this.lineCount < 250_000 ? 1 : Math.min(4, availableParallelism()));
      const k = Math.max(1, Math.min(wanted, Math.ceil(this.lineCount / SCAN_BATCH)));
      const per = Math.ceil(this.lineCount / k / SCAN_BATCH) * SCAN_BATCH;
      const start = () => {
        if (generation !== this.generation) return;
        const data = this.doc.lineIndex.toShared();
        this.scansRunning = 0;
        for (let w = 0; w * per < this.lineCount; w++) {
          this.scansRunning++;
          this.ensureWorker(w).postMessage({ type: 'scan', generation, data, from: w * per, to: Math.min((w + 1) * per, this.lineCount), ...(keyOptions ? { keys: keyOptions } : {}) } satisfies ScanRequest);
        }
        this.scanStarted = performance.now();
      };
      // The first scan may wait (options.scanGate); a reload's scan starts at once.
      const gate = this.scanGate;
      this.scanGate = undefined;
      if (gate) void gate.then(start, start);
      else start();
    } else {
      // A huge file's head model and tests: the same work on this thread, one slice per turn of
      // the event loop, parsed when its turn comes (a head's first screen is built before its
      // scan, not after: the rows and the detail parse their lines themselves).
      const reported = { n: 0 };
      let from = 0;
      const next = () => {
        if (generation !== this.generation) return;
        if (from >= this.lineCount) {
          this.scanMs = performance.now() - t0;
          this.scanEnded();
          return;
        }
        const to = Math.min(from + THREAD_SCAN_SLICE, this.lineCount);
        scanAll(this.doc.lineIndex, (...b) => this.onScanned(...b), reported, from, to, keyOptions);
        from = to;
        setImmediate(next);
      };
      setImmediate(next);
    }
  }

  private scanStarted = 0;

  private ensureWorker(i = 0): Worker {
    let worker = this.workers[i];
    if (!worker) {
      const w = new Worker(this.options.workerPath!);
      worker = w;
      this.workers[i] = w;
      w.on('message', (m: ScanReply) => this.onWorker(m));
      w.on('error', (err) => {
        if (this.workers[i] === w) this.workers[i] = undefined;
        if (i === 0) {
          for (const [, resolve] of this.searchPending) resolve(new Uint32Array(0));
          this.searchPending.clear();
        }
        this.lastError = err.message;
        this.scanFinished();
      });
    }
    return worker;
  }

  /** One worker's range is done (or failed): the scan is done when every range is. */
  private scanFinished(): void {
    if (this.scansRunning <= 0) return;
    if (--this.scansRunning > 0) return;
    this.scanMs = performance.now() - this.scanStarted;
    this.scanEnded();
  }

  /** Every line classified (and keyed, with scan keys): a run fed by the scan is matched. */
  private scanEnded(): void {
    this.scanComplete = true;
    this.resolveScan();
    if (this.run?.fromScan) this.keysFinished();
    this.emit('scan');
  }

  lastError: string | undefined;

  private onWorker(m: ScanReply): void {
    if (m.generation !== this.generation) return;
    switch (m.type) {
      case 'scanned':
        this.onScanned(m.from, m.to, m.codes, m.stats, m.invalid, m.keys);
        this.emit('scan');
        break;
      case 'scanDone':
        this.scanFinished();
        break;
      case 'found':
        this.searchPending.get(m.id)?.(m.lines);
        this.searchPending.delete(m.id);
        break;
      case 'keyed':
        if (this.run?.seq === m.run) {
          this.onKeyed(m.from, m.keys, m.sides);
          this.emit('scan');
        }
        break;
      case 'keysDone':
        if (this.run?.seq === m.run) this.keysFinished();
        break;
      case 'failed':
        this.lastError = m.message;
        if (m.run !== undefined) {
          if (this.run?.seq === m.run) this.keysFinished();
        } else if (m.id !== undefined) {
          this.searchPending.get(m.id)?.(new Uint32Array(0));
          this.searchPending.delete(m.id);
        } else this.scanFinished();
        break;
    }
  }

  /** A batch of the worker's codes (computed from the bytes as loaded) merged with our edits. */
  private onScanned(from: number, to: number, codes: Uint8Array, stats: DatasetStats, invalid: InvalidLine[], keys?: LineKeys): void {
    this.codes.set(codes, from);
    const sk = this.scanKeys;
    if (keys && sk) {
      sk.keys.set(keys.keys, from * 32);
      sk.sides.set(keys.sides, from);
      sk.ranges.push([from, to]);
      if (this.run?.fromScan) this.onKeyed(from, keys.keys, keys.sides);
    }
    const parts = [this.stats, stats];
    for (const x of invalid) this.invalid.set(x.line, x);
    if (invalid.length) this.invalidVersion++;
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
    for (const set of this.filterSets.values()) set.recount(from, to);
    if (this.searchState) for (const [f, set] of this.searchState.sets) if (f !== 'all') set.recount(from, to);
  }

  private updateInvalid(line: number, rec: ParsedLine): void {
    const had = this.invalid.has(line);
    if (rec.kind === 'invalid') this.invalid.set(line, { line, reason: rec.reason, column: rec.column });
    else this.invalid.delete(line);
    if (had || rec.kind === 'invalid') this.invalidVersion++;
  }

  private filterPredicate(filter: ListFilter): (line: number) => boolean {
    const table = FILTER_TABLES[filter];
    return (line) => table[this.codes[line]!] === 1;
  }

  // ---------------------------------------------------------------- reading

  parse(line: number): ParsedLine {
    return parseLine(this.doc.lineBytes(line));
  }

  row(line: number): RowSummary {
    const row = rowSummary(line, this.parse(line));
    if (this.run?.overlay.labelChanged(line)) row.changed = true;
    return row;
  }

  /** What the view shows of a line; `blind`: as the "Blind" filter shows it (no votes, label or chosen/rejected; `seed` is the blind seed). */
  detail(line: number, seed: string, blind = false): RecordDetail {
    const rec = this.parse(line);
    const detail = recordDetail(line, rec, seed, () => this.doc.lineText(line), blind);
    if (this.run && !blind) {
      // rpo-unpaired: a row is one item (a completion with its label), matched by the record's first.
      const items = this.run.id.itemsPerRecord;
      const view = this.run.overlay.view(line, (side) => (items ? `${rec.kind === 'unpaired' ? 'the completion' : 'the chosen response'} as a thumbs ${side === 1 ? 'up' : 'down'}` : sideLabel(rec, line, seed, side)));
      if (view) detail.dynamics = view;
    }
    return detail;
  }

  // ---------------------------------------------------------------- a run's view

  /**
   * Shows a run's view of the file: its dynamics rows (`rows`, parsed by the core) matched to the
   * file's records by pair key, computed by the scan workers over the shared bytes (edited lines
   * on this thread), batch by batch; counts and the Suspect filter grow as batches come.
   * Replaces a run shown before. Resolves when every line is keyed.
   */
  attachRun(rows: Dynamics, id: RunIdentity, options: KeyOptions, previous?: RunOverlay): Promise<void> {
    const seq = ++this.runSeq;
    let resolve: () => void = () => undefined;
    const done = new Promise<void>((r) => (resolve = r));
    const overlay = previous ? previous.rebuilt(this.lineCount) : new RunOverlay(rows, id, this.lineCount);
    this.run?.resolve();
    const sk = this.scanKeys;
    const fromScan = !!sk && sameKeyOptions(sk.options, options);
    this.run = { rows, id, options, overlay, seq, pending: 0, done, resolve, fromScan };
    // Later scans (a reload) key the lines as this run does, in the same pass.
    this.scanKeyOptions = options;
    const generation = this.generation;
    if (this.lineCount === 0) {
      resolve();
      return done;
    }
    if (fromScan) {
      // The scan keyed the lines already (or is keying them): no second pass over the file.
      this.run.pending = 1;
      for (const [from, to] of sk!.ranges) this.onKeyed(from, sk!.keys.subarray(from * 32, to * 32), sk!.sides.subarray(from, to));
      if (this.scanComplete) this.keysFinished();
      return done;
    }
    if (this.options.workerPath) {
      const k = Math.max(1, Math.min(this.options.scanWorkers ?? (this.lineCount < 250_000 ? 1 : Math.min(4, availableParallelism())), Math.ceil(this.lineCount / SCAN_BATCH)));
      const per = Math.ceil(this.lineCount / k / SCAN_BATCH) * SCAN_BATCH;
      const data = this.doc.lineIndex.toShared();
      for (let w = 0; w * per < this.lineCount; w++) {
        this.run.pending++;
        this.ensureWorker(w).postMessage({ type: 'keys', generation, run: seq, data, from: w * per, to: Math.min((w + 1) * per, this.lineCount), options } satisfies ScanRequest);
      }
    } else {
      let from = 0;
      this.run.pending = 1;
      const next = () => {
        if (this.run?.seq !== seq || generation !== this.generation) return;
        if (from >= this.lineCount) return this.keysFinished();
        const to = Math.min(from + THREAD_SCAN_SLICE, this.lineCount);
        const { keys, sides } = keyLines(this.doc.lineIndex, from, to, options);
        this.onKeyed(from, keys, sides);
        this.emit('scan');
        from = to;
        setImmediate(next);
      };
      setImmediate(next);
    }
    return done;
  }

  /** Stops showing a run's view. */
  detachRun(): void {
    this.run?.resolve();
    this.run = undefined;
    this.scanKeyOptions = this.options.scanKeys;
    this.runSeq++;
    this.emit('scan');
  }

  /** The run shown, if any. */
  get runShown(): RunIdentity | undefined {
    return this.run?.id;
  }

  /** The shown run's notes (RunIdentity.notes) changed: the views refresh their counts. */
  runNotesChanged(): void {
    if (this.run) this.emit('scan');
  }

  /** Whether the shown run's keys came from the scan itself (no second pass over the file). */
  get runKeyedInScan(): boolean {
    return !!this.run?.fromScan;
  }

  /** Resolves when the shown run's keys are all in (at once without a run). */
  whenRunMatched(): Promise<void> {
    return this.run?.done ?? Promise.resolve();
  }

  /** A batch of keys of the loaded bytes; lines edited since are keyed from their text now. */
  private onKeyed(from: number, keys: Uint8Array, sides: Uint8Array): void {
    const run = this.run!.overlay;
    const to = from + sides.length;
    for (const line of this.doc.editedLineNumbers()) {
      if (line < from || line >= to || run.isKeyed(line)) continue;
      const k = lineKey(line, this.parse(line), this.run!.options);
      run.setLine(line, k?.key ?? null, k?.side ?? SIDE_NONE);
    }
    run.addKeys(from, keys, sides);
  }

  private keysFinished(): void {
    const run = this.run;
    if (!run || --run.pending > 0) return;
    run.resolve();
    this.emit('scan');
  }

  /**
   * Lines another view asked the editor to show (the "Picked" filter), in the given order;
   * out-of-range lines are dropped. Empty or undefined: none.
   */
  setPicked(lines: readonly number[] | undefined): number {
    const valid = (lines ?? []).filter((l) => Number.isSafeInteger(l) && l >= 0 && l < this.lineCount);
    this.picked = valid.length ? new RankedLines(Int32Array.from(valid), this.lineCount) : undefined;
    return valid.length;
  }

  /**
   * Lines holding these rows of the shown run (0-based row indices), in order; rows not found are
   * left out. rpo-unpaired: a row of a paired record's other item (its line is matched by its
   * first item) is found on a candidate line whose record has that item, by content.
   */
  linesOfRows(rows: readonly number[]): number[] {
    const run = this.run;
    if (!run) return [];
    return rows.flatMap((r) => {
      let line = run.overlay.lineOfRowIndex(r);
      if (line < 0 && run.id.itemsPerRecord) line = run.overlay.itemLineCandidates(r).find((l) => this.holdsRow(l, r)) ?? -1;
      return line >= 0 ? [line] : [];
    });
  }

  /** Whether `line`'s record, keyed under the shown run's options, has row r's pair key. */
  private holdsRow(line: number, r: number): boolean {
    const run = this.run!;
    for (const k of keyedRecords([[line, this.parse(line)]], run.options.mode, run.options.usable)) {
      if (sameKey(k.key, 0, run.rows.key, r * KEY_BYTES)) return true;
    }
    return false;
  }

  /** Lines of the file whose records have these pair keys (32 bytes each), by content; once the shown run's keys are in. */
  linesOfKeys(keys: readonly Uint8Array[]): number[] {
    return this.run ? keys.flatMap((k) => this.run!.overlay.linesOfKey(k)) : [];
  }

  /** The current search (worker over the loaded bytes, corrected for edited lines), shared by concurrent callers. */
  private async searchFor(query: string): Promise<SearchState | undefined> {
    if (this.searchState?.query === query) return this.searchState;
    const pending = this.searchInFlight.get(query);
    if (pending) return pending;
    const run = (async () => {
      const generation = this.generation;
      let lines: Uint32Array;
      if (this.options.workerPath) {
        const id = ++this.searchSeq;
        lines = await new Promise<Uint32Array>((resolve) => {
          this.searchPending.set(id, resolve);
          this.ensureWorker().postMessage({ type: 'search', generation, id, query, data: this.doc.lineIndex.toShared() } satisfies ScanRequest);
        });
      } else {
        lines = searchLines(this.doc.lineIndex, query);
      }
      if (generation !== this.generation) return undefined;
      const hit = new Uint8Array(this.lineCount);
      for (const line of lines) hit[line] = 1;
      const needles = variants(query);
      for (const line of this.doc.editedLineNumbers()) hit[line] = bytesMatch(this.doc.lineBytes(line), needles) ? 1 : 0;
      const state: SearchState = { query, needles, hit, sets: new Map() };
      this.searchState = state;
      return state;
    })();
    this.searchInFlight.set(query, run);
    try {
      return await run;
    } finally {
      this.searchInFlight.delete(query);
    }
  }

  /** Lines matching the search (worker), corrected for edited lines. */
  async search(query: string): Promise<Uint32Array> {
    if (!query) return new Uint32Array(0);
    const list = await this.list('all', query);
    return Uint32Array.from(list.slice(0, list.length));
  }

  /** A ranked filter without search: the run's suspects, the picked lines (empty without them). */
  private rankedList(filter: RankedFilter): LineList {
    if (filter === 'suspect') return this.run ? new SuspectLines(this.run.overlay) : new AllLines(0);
    return this.picked ?? new AllLines(0);
  }

  /** The ordered lines of a filter + search: what the virtual list shows. */
  async list(filter: Filter, query: string): Promise<LineList> {
    if (!query) return filter === 'all' ? new AllLines(this.lineCount) : isRanked(filter) ? this.rankedList(filter) : this.filterSets.get(filter)!;
    const state = await this.searchFor(query);
    if (!state) return new AllLines(0); // superseded by a reload
    if (isRanked(filter)) {
      // The ranked list's lines that the search hits, in rank order (O(list); built per request).
      const all = this.rankedList(filter);
      const out: number[] = [];
      for (let p = 0; p < all.length; p += 4096) for (const line of all.slice(p, 4096)) if (state.hit[line] === 1) out.push(line);
      return new RankedLines(Int32Array.from(out), this.lineCount);
    }
    let set = state.sets.get(filter);
    if (!set) {
      const hit = state.hit;
      const table = filter === 'all' ? undefined : FILTER_TABLES[filter];
      set = LineSet.build(this.lineCount, table ? (line) => hit[line] === 1 && table[this.codes[line]!] === 1 : (line) => hit[line] === 1);
      state.sets.set(filter, set);
    }
    return set;
  }

  /** The lines of a filter + search, or null for "every line" (materialised: tests and small files). */
  async matching(filter: Filter, query: string): Promise<Uint32Array | null> {
    if (filter === 'all' && !query) return null;
    const list = await this.list(filter, query);
    return Uint32Array.from(list.slice(0, list.length));
  }

  async rows(filter: Filter, query: string, start: number, count: number): Promise<{ matching: number; rows: RowSummary[] }> {
    const list = await this.list(filter, query);
    // The Blind filter's rows do not tell how the records were labeled (labeled, disputed...).
    const row = filter === 'blind' ? (line: number): RowSummary => ({ ...this.row(line), status: 'unlabeled' }) : (line: number) => this.row(line);
    return { matching: list.length, rows: list.slice(start, count).map(row) };
  }

  /** Position of `line` in the filtered list; -1 when it is not in it. */
  async position(filter: Filter, query: string, line: number): Promise<number> {
    return (await this.list(filter, query)).positionOf(line);
  }

  /** Where a navigation action goes from `line` within the current list. */
  async navigate(action: NavAction, filter: Filter, query: string, line: number, page = 20): Promise<number> {
    if (action === 'nextUnlabeled') return this.nextUnlabeled(line);
    const list = await this.list(filter, query);
    const total = list.length;
    if (total === 0) return line;
    const at = (p: number) => list.at(p);
    let pos = list.positionOf(line);
    if (pos < 0) {
      // Not in the list (filtered out after a label): continue from the next list entry after it.
      pos = list.lowerBound(line) - (action === 'next' || action === 'pageDown' ? 1 : 0);
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
    if (this.scanned >= this.lineCount) {
      // Scanned: the unlabeled set answers in O(log n).
      const set = this.filterSets.get('unlabeled')!;
      if (set.length === 0) return line;
      const after = set.lowerBound(line + 1);
      return set.at(after < set.length ? after : 0);
    }
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
    this.refusePartial();
    const rec = this.parse(line);
    const shown = (settings.blind ? blindOrder : displayOrder)(rec, line, settings.seed);
    let text = this.doc.lineText(line);
    // An adjudication resolves the record: the adjudicator's vote wins whatever the file's policy.
    const adjudicator = isAdjudication(action);
    const ctx = { annotator: settings.annotator, time, shown, policy: adjudicator ? 'adjudicated' as const : settings.policy ?? 'majority', adjudicator };
    for (const intent of intentsFor(action)) text = applyLabel(text, intent, ctx);
    return this.replace(line, text, `Label line ${line + 1}: ${ACTION_NAMES[action]}`);
  }

  note(line: number, note: string, settings: LabelSettings, time = new Date().toISOString()): LineEdit {
    this.refusePartial();
    const rec = this.parse(line);
    const text = applyLabel(this.doc.lineText(line), { type: 'note', note: note || null }, { annotator: settings.annotator, time, shown: (settings.blind ? blindOrder : displayOrder)(rec, line, settings.seed), policy: settings.policy ?? 'majority' });
    return this.replace(line, text, `Note on line ${line + 1}`);
  }

  /**
   * Marks a seeded random share (0..1) of the records a second annotator can re-judge
   * (`isBlindCandidate`: labeled, tie or both bad, not yet marked) with `rpo_blind`, as one
   * undoable edit. Returns the edit (null when nothing was marked) and the figures.
   */
  markBlind(share: number, seed: string): { edit: LineEdit | null; marked: number; candidates: number } {
    this.refusePartial();
    if (this.scanned < this.lineCount) throw new LabelError('the file is still being scanned; mark records for blind re-annotation once the counts are complete');
    const candidates: number[] = [];
    for (let i = 0; i < this.lineCount; i++) {
      const state = stateOfCode(this.codes[i]!);
      if ((state === 'labeled' || state === 'tie' || state === 'both_bad') && isBlindCandidate(this.parse(i))) candidates.push(i);
    }
    const picked = pickBlind(candidates, share, seed);
    if (picked.length === 0) return { edit: null, marked: 0, candidates: candidates.length };
    const changes = picked.map((line) => ({ line, before: this.parse(line) }));
    const replacements = changes.map(({ line, before }) => ({ line, text: markBlindLine(before as PreferenceRecord, this.doc.lineText(line)) }));
    const edit = this.doc.applyEdits(replacements, `Mark ${picked.length} records for blind re-annotation`);
    this.afterChange(changes);
    return { edit, marked: picked.length, candidates: candidates.length };
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

  /**
   * Brings codes, counts, filter sets and the current search up to date for the changed lines
   * only: O(changed lines x log(lines)), whatever the size of the file.
   */
  private afterChange(changes: { line: number; before: ParsedLine }[]): void {
    const parts = [this.stats];
    const search = this.searchState;
    for (const { line, before } of changes) {
      const after = this.parse(line);
      const oldCode = this.codes[line]!;
      const oldHit = search ? search.hit[line] === 1 : false;
      if (search) {
        const newHit = bytesMatch(this.doc.lineBytes(line), search.needles);
        search.hit[line] = newHit ? 1 : 0;
        // Unscanned lines match no filter yet; 'all' within a search needs only the hit.
        if (oldCode === UNSCANNED) search.sets.get('all')?.update(line, oldHit, newHit);
      }
      // The run's view: its key (the same unless the text was edited) and its side now.
      const run = this.run?.overlay;
      if (run?.isKeyed(line)) {
        const k = lineKey(line, after, this.run!.options);
        run.setLine(line, k?.key ?? null, k?.side ?? SIDE_NONE);
      }
      // Unscanned lines: the worker's batch will account for them (it corrects edited lines).
      if (oldCode === UNSCANNED) continue;
      parts.push(negate(statsOf(before)), statsOf(after));
      const code = lineCode(after);
      this.codes[line] = code;
      for (const [f, set] of this.filterSets) set.update(line, FILTER_TABLES[f][oldCode] === 1, FILTER_TABLES[f][code] === 1);
      if (search) {
        const newHit = search.hit[line] === 1;
        for (const [f, set] of search.sets) {
          const table = f === 'all' ? undefined : FILTER_TABLES[f as ListFilter];
          set.update(line, oldHit && (!table || table[oldCode] === 1), newHit && (!table || table[code] === 1));
        }
      }
      this.updateInvalid(line, after);
    }
    this.stats = mergeStats(parts);
    this.emit('edit');
  }

  async save(target?: string, options?: SaveOptions): Promise<void> {
    await this.doc.save(target, options);
  }

  backup(): DocumentBackup {
    return this.doc.backup();
  }

  /** Reloads from disk (revert, or an external change while clean) and rescans. */
  async reload(): Promise<void> {
    if (this.partial) return; // the whole file is being read: that model replaces this one
    await this.doc.revert({ shared: true });
    this.startScan();
    this.emit('reload');
  }

  dispose(): void {
    this.generation++;
    for (const w of this.workers) void w?.terminate();
    this.workers = [];
    this.listeners.clear();
  }
}

/** Per filter, 1 for each code (kind + state byte) that the filter lists; UNSCANNED matches none. */
const FILTER_TABLES: Record<ListFilter, Uint8Array> = Object.fromEntries(
  LIST_FILTERS.map((f) => {
    const t = new Uint8Array(256);
    for (let c = 0; c < 256; c++) t[c] = c !== UNSCANNED && stateOfCode(c) !== undefined && matchesFilter(f, c) ? 1 : 0;
    return [f, t];
  }),
) as Record<ListFilter, Uint8Array>;

function matchesFilter(filter: Filter, code: number): boolean {
  const state = stateOfCode(code);
  switch (filter) {
    case 'all': return true;
    case 'unlabeled': return state === 'needs-label' || state === 'unreviewed';
    case 'labeled': return state === 'labeled';
    case 'tieSkip': return isTieSkip(state);
    case 'disputed': return state === 'disputed';
    case 'blind': return isBlindCode(code);
    case 'invalid': return state === 'invalid';
    case 'suspect': case 'picked': return false; // ranked lists, not code filters
  }
}

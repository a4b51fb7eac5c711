import { type Dynamics, DynamicsIndex, NO_SIDE, rankSuspects, unvisitedCount } from '../core/dynamics';
import type { DynamicsView, RunCounts } from '../protocol/labeling';
import { LineSet } from './lineSet';

/**
 * A run's view of the records of the file open in the preference editor (docs/contracts.md §8),
 * without vscode: the run's dynamics rows matched to the file's lines by pair key (content, never
 * the line number), the "Suspect" filter (matched suspects in the run's ranking, most suspect
 * first) and the records whose label changed since the run, all kept exact across labels, undo
 * and redo in O(changed lines):
 * - the file's keys arrive in batches (scan workers; `addKeys`), in any order;
 * - a label changes a line's side (`setLine`), its key never (the pair is unordered);
 * - the Suspect list is a LineSet over suspect ranks (a rank is in it once its record is found),
 *   so at(p) / positionOf / counts cost what the other filters' do.
 */

/** A line's side in the file now: 0 / 1 as the contract's `side`, NO_SIDE (255) when it does not train now (unlabeled, a status, disputed, below min_agreement), or these: */
export const SIDE_UNKEYED = 253;
/** Not a record (invalid or blank line): no key. */
export const SIDE_NONE = 254;

export interface RunIdentity {
  name: string;
  runDir: string;
  /** Problems known before matching (another file, changed file, unfinished run): plain text. */
  notes: string[];
  /**
   * rpo-unpaired: a paired record is two rows (its chosen and its rejected item) and its line is
   * matched by the first, so unmatched rows do not mean records missing from the file.
   */
  itemsPerRecord?: boolean;
}

export class RunOverlay {
  private readonly index: DynamicsIndex;
  private readonly suspects: Int32Array;
  /** Training rows never in a batch (a run stopped before reaching them). */
  private readonly unvisited: number;
  /** Per file line: the matched row, -1 none. */
  private rowOfLine: Int32Array;
  /** Per file line: its side now (0 / 1, or SIDE_*). */
  private sideNow: Uint8Array;
  /** Per row: its 0-based suspect rank, -1 when not a suspect. */
  private readonly rankOfRow: Int32Array;
  /** Per row: the file line holding it, -1 while none (two lines with its content: the one the run read, else the first found). */
  private lineOfRow: Int32Array;
  /** Per suspect rank: the file line holding it, -1 while none. */
  private lineOfRank: Int32Array;
  /** The Suspect filter (positions = suspect ranks whose record is in the file). */
  suspectSet: LineSet;
  private keyedLines = 0;
  private matchedLines = 0;
  /** Matched lines whose label changed since the run: [0] the other side now, [1] no longer training. */
  private readonly changed = [0, 0];
  /** Row numbers ordered by the line the run read (itemLineCandidates), made on first use. */
  private rowsByRunLine: Int32Array | undefined;

  constructor(readonly rows: Dynamics, readonly id: RunIdentity, readonly lineCount: number, index?: DynamicsIndex, suspects?: Int32Array) {
    this.index = index ?? new DynamicsIndex(rows);
    this.suspects = suspects ?? rankSuspects(rows);
    this.unvisited = unvisitedCount(rows);
    this.rankOfRow = new Int32Array(rows.rows).fill(-1);
    for (let r = 0; r < this.suspects.length; r++) this.rankOfRow[this.suspects[r]!] = r;
    this.rowOfLine = new Int32Array(lineCount).fill(-1);
    this.sideNow = new Uint8Array(lineCount).fill(SIDE_UNKEYED);
    this.lineOfRank = new Int32Array(this.suspects.length).fill(-1);
    this.lineOfRow = new Int32Array(rows.rows).fill(-1);
    this.suspectSet = new LineSet(this.suspects.length, (rank) => this.lineOfRank[rank]! >= 0);
  }

  /** The shared parts of the run (index, ranking) for a rebuilt overlay (a reload of the file). */
  rebuilt(lineCount: number): RunOverlay {
    return new RunOverlay(this.rows, this.id, lineCount, this.index, this.suspects);
  }

  /** Every line has its key. */
  get complete(): boolean {
    return this.keyedLines >= this.lineCount;
  }

  /** Whether `line` has been keyed (a batch or an edit accounted for it). */
  isKeyed(line: number): boolean {
    return this.sideNow[line] !== SIDE_UNKEYED;
  }

  /**
   * Keys of lines [from, from + sides.length): 32 bytes per line in `keys`, `sides[i]` the line's
   * side or SIDE_NOT_TRAINING / SIDE_NONE (no key). Lines already keyed (edited since) are kept.
   */
  addKeys(from: number, keys: Uint8Array, sides: Uint8Array): void {
    for (let i = 0; i < sides.length; i++) {
      const line = from + i;
      if (this.isKeyed(line)) continue;
      this.keyedLines++;
      const side = sides[i]!;
      this.sideNow[line] = side;
      if (side === SIDE_NONE) continue;
      const row = this.match(keys, i * 32, line);
      if (row >= 0) this.link(line, row);
    }
  }

  /**
   * One line changed (a label, undo, redo, or an edit before its batch came): its key (null: not
   * a record) and side now. O(log suspects).
   */
  setLine(line: number, key: Uint8Array | null, side: number): void {
    if (!this.isKeyed(line)) this.keyedLines++;
    const oldRow = this.rowOfLine[line]!;
    if (oldRow >= 0) this.unlink(line, oldRow);
    this.sideNow[line] = key ? side : SIDE_NONE;
    const row = key ? this.match(key, 0, line) : -1;
    if (row >= 0) this.link(line, row);
  }

  /**
   * The row for a key at k[at..] seen on `line`: among the rows with that key not matched to
   * another line, the one the run read at this line, else the first. (Identical records on
   * several lines: each gets its own row; which copy gets which row can differ from the core's
   * whole-file matchDynamics, never the content.)
   */
  private match(k: Uint8Array, at: number, line: number): number {
    let first = -1;
    for (let r = this.index.find(k, at); r !== -1; r = this.index.nextSame[r]!) {
      const held = this.lineOfRow[r]!;
      if (held !== -1 && held !== line) continue;
      if (this.rows.line[r] === line + 1) return r;
      if (first === -1) first = r;
    }
    return first;
  }

  /** Label changed since the run: the other side, or no longer training (NO_SIDE). */
  private isChanged(line: number, row: number): boolean {
    return this.sideNow[line] !== this.rows.side[row];
  }

  private countChange(line: number, row: number, d: 1 | -1): void {
    if (!this.isChanged(line, row)) return;
    this.changed[this.sideNow[line] === NO_SIDE ? 1 : 0]! += d;
  }

  private link(line: number, row: number): void {
    this.rowOfLine[line] = row;
    this.matchedLines++;
    this.countChange(line, row, 1);
    this.lineOfRow[row] = line;
    const rank = this.rankOfRow[row]!;
    if (rank < 0) return;
    const had = this.lineOfRank[rank]! >= 0;
    this.lineOfRank[rank] = line;
    if (!had) this.suspectSet.update(rank, false, true);
  }

  private unlink(line: number, row: number): void {
    this.countChange(line, row, -1);
    this.rowOfLine[line] = -1;
    this.matchedLines--;
    if (this.lineOfRow[row] === line) this.lineOfRow[row] = -1;
    const rank = this.rankOfRow[row]!;
    if (rank >= 0 && this.lineOfRank[rank] === line) {
      this.lineOfRank[rank] = -1;
      this.suspectSet.update(rank, true, false);
    }
  }

  // ---------------------------------------------------------------- reading

  counts(): RunCounts {
    const notes = [...this.id.notes];
    const suspectsFound = this.suspectSet.length;
    if (this.unvisited > 0) notes.push(`${this.unvisited.toLocaleString('en-US')} of the run's training pairs were never in a batch (it stopped before reaching them): they have no figures and are not ranked.`);
    if (this.complete) {
      if (this.matchedLines === 0 && this.rows.rows > 0) notes.unshift(`No record of this file matches run ${this.id.name}: it trained on other records (another file, or this one edited beyond recognition).`);
      else if (this.matchedLines < this.rows.rows && !this.id.itemsPerRecord) notes.push(`${(this.rows.rows - this.matchedLines).toLocaleString('en-US')} of the run's ${this.rows.rows.toLocaleString('en-US')} records are no longer in this file (removed or edited since the run).`);
    }
    return {
      name: this.id.name,
      runDir: this.id.runDir,
      complete: this.complete,
      rows: this.rows.rows,
      matched: this.matchedLines,
      suspects: suspectsFound,
      suspectsMissing: this.complete && !this.id.itemsPerRecord ? this.suspects.length - suspectsFound : 0,
      changed: this.changed[0]! + this.changed[1]!,
      flipped: this.changed[0]!,
      unlabeled: this.changed[1]!,
      notes,
    };
  }

  /** The lines holding the run's rows with this pair key (32 bytes): empty when not in the run, or no longer in the file. */
  linesOfKey(key: Uint8Array): number[] {
    if (key.length !== 32) return [];
    const out: number[] = [];
    for (let r = this.index.find(key, 0); r !== -1; r = this.index.nextSame[r]!) if (this.lineOfRow[r]! >= 0) out.push(this.lineOfRow[r]!);
    return out;
  }

  /** The line holding row r, -1 when none (not found, or r is not a row). */
  lineOfRowIndex(r: number): number {
    return Number.isSafeInteger(r) && r >= 0 && r < this.rows.rows ? this.lineOfRow[r]! : -1;
  }

  /** The line holding suspect rank `rank` (a position of `suspectSet`). */
  suspectLineOfRank(rank: number): number {
    return this.lineOfRank[rank]!;
  }

  /**
   * rpo-unpaired: the lines that may hold row r's item although the row is not matched (each line
   * is matched by its first item; a paired record's other item is a row of its own): the current
   * lines of the other rows the run read on r's line (the same record's other item), then the line
   * the run read. Candidates only: the caller checks the line's content against r's key.
   */
  itemLineCandidates(r: number): number[] {
    if (!Number.isSafeInteger(r) || r < 0 || r >= this.rows.rows) return [];
    const runLines = this.rows.line;
    const byLine = (this.rowsByRunLine ??= rowsSortedByLine(runLines));
    const runLine = runLines[r]!;
    let lo = 0;
    let hi = byLine.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (runLines[byLine[mid]!]! < runLine) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    for (let i = lo; i < byLine.length && runLines[byLine[i]!] === runLine; i++) {
      const line = this.lineOfRow[byLine[i]!]!;
      if (byLine[i] !== r && line >= 0 && !out.includes(line)) out.push(line);
    }
    if (runLine >= 1 && runLine <= this.lineCount && !out.includes(runLine - 1)) out.push(runLine - 1);
    return out;
  }

  /** The line at Suspect position p. */
  suspectLine(p: number): number {
    return this.lineOfRank[this.suspectSet.at(p)]!;
  }

  /** The Suspect position of `line`, -1 when it is not one. */
  suspectPosition(line: number): number {
    const row = line >= 0 && line < this.lineCount ? this.rowOfLine[line]! : -1;
    if (row < 0) return -1;
    const rank = this.rankOfRow[row]!;
    if (rank < 0 || this.lineOfRank[rank] !== line) return -1;
    return this.suspectSet.positionOf(rank);
  }

  isSuspect(line: number): boolean {
    return this.suspectPosition(line) >= 0;
  }

  /** The record's label differs from the one the run trained on. */
  labelChanged(line: number): boolean {
    const row = this.rowOfLine[line]!;
    return row >= 0 && this.isChanged(line, row);
  }

  rowOf(line: number): number {
    return this.rowOfLine[line]!;
  }

  /**
   * What the detail shows; `sideName(side)` names a side (0 / 1) in the view's terms (e.g. which
   * response the run took as chosen). Undefined for lines that are not records.
   */
  view(line: number, sideName: (side: number) => string): DynamicsView | undefined {
    if (this.sideNow[line] === SIDE_NONE) return undefined;
    const row = this.rowOfLine[line]!;
    if (row < 0) return this.isKeyed(line) ? { run: this.id.name, split: 'absent' } : undefined;
    const r = this.rows;
    const visits = r.visits[row]!;
    const num = (a: Float32Array) => (Number.isFinite(a[row]!) ? a[row]! : undefined);
    const rank = this.rankOfRow[row]!;
    const v: DynamicsView = {
      run: this.id.name,
      split: r.split[row] === 1 ? 'eval' : 'training',
      visits,
      runLine: r.line[row]!,
      trainedOn: sideName(r.side[row]!),
      labelChanged: this.isChanged(line, row),
    };
    if (visits > 0) {
      const put = (k: 'aum' | 'confidence' | 'variability' | 'correctness' | 'lastMargin', a: Float32Array) => {
        const x = num(a);
        if (x !== undefined) v[k] = x;
      };
      put('aum', r.aum);
      put('confidence', r.confidence);
      put('variability', r.variability);
      put('correctness', r.correctness);
      put('lastMargin', r.lastMargin);
    }
    if (rank >= 0 && this.lineOfRank[rank] === line) v.suspectRank = rank + 1;
    return v;
  }

  /** Memory held (bytes): per-line arrays, per-row arrays and the key table. */
  get bytes(): number {
    return this.rowOfLine.byteLength + this.sideNow.byteLength + this.rankOfRow.byteLength + this.lineOfRank.byteLength;
  }
}

/** Row numbers ordered by their run line (a counting sort: lines are 1-based and bounded by the file the run read). */
function rowsSortedByLine(line: Int32Array): Int32Array {
  let max = 0;
  for (let i = 0; i < line.length; i++) if (line[i]! > max) max = line[i]!;
  const start = new Int32Array(max + 2);
  for (let i = 0; i < line.length; i++) start[Math.max(0, line[i]!) + 1]!++;
  for (let l = 1; l < start.length; l++) start[l]! += start[l - 1]!;
  const out = new Int32Array(line.length);
  for (let i = 0; i < line.length; i++) out[start[Math.max(0, line[i]!)]!++] = i;
  return out;
}

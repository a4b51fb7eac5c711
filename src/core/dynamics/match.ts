import { createHash } from 'node:crypto';
import type { Dynamics } from './format';
import { KEY_BYTES, type KeyedRecord, NO_SIDE } from './pairKey';

/**
 * Matching a run's rows to the records of the file as it is now (docs/contracts.md §8): by pair
 * key only; the line a row was read from is never the identity. So lines added, removed or moved
 * never give a wrong match, a relabeled record is found with its label changed, and a removed
 * record is not found.
 *
 * A key held by one row and one record matches at once. Identical records (the same key on
 * several lines, in the run or in the file) are paired within their key by line: each record's
 * expected run line is its line shifted as the nearest uniquely matched record shifted, and the
 * closest rows are taken first, so the copy that stayed keeps its row and an inserted copy is
 * the one left unmatched.
 *
 * Memory: an open-addressing table of Int32 row indices over the rows' keys (the keys stay in
 * the dynamics file's bytes), probed with the first 4 key bytes (SHA-256: uniform), with the next
 * 4 as a tag beside each slot (few key reads), a hit checked on all 32 bytes; and a chain of rows
 * with the same key: 20 bytes a row besides the file; while matching, 13 bytes a file record
 * (line, side, key group, row).
 */

/** Row flags of a match. */
export const ROW_NOT_FOUND = 1;
/** Found on another line than the one the run read. */
export const ROW_MOVED = 2;
/** Found with the other label (side differs from the one trained on). */
export const ROW_LABEL_CHANGED = 4;
/** Found, but the record has no label now (tie, skip, both bad, excluded, disputed, candidates, below min_agreement). */
export const ROW_UNLABELED = 8;

export class DynamicsIndex {
  /** Open addressing, linear probing: per slot [row (-1: empty), key bytes 4..7 as a tag]. */
  private readonly slots: Int32Array;
  private readonly mask: number;
  /** Per row: the next row (in row order) with the same key, or -1 (identical records in the run). find() gives the first. */
  readonly nextSame: Int32Array;

  constructor(readonly dynamics: Dynamics) {
    const n = dynamics.rows;
    let size = 16;
    while (size < n * 2) size *= 2;
    this.mask = size - 1;
    const slots = (this.slots = new Int32Array(size * 2).fill(-1));
    const next = (this.nextSame = new Int32Array(n).fill(-1));
    const key = dynamics.key;
    for (let r = 0; r < n; r++) {
      const o = r * KEY_BYTES;
      const tag = word(key, o + 4);
      let slot = word(key, o) & this.mask;
      // Rows with this key sit along the probe in row order: the last one met precedes r in the chain.
      let previous = -1;
      for (let other = slots[slot * 2]!; other !== -1; other = slots[slot * 2]!) {
        if (slots[slot * 2 + 1] === tag && sameKey(key, other * KEY_BYTES, key, o)) previous = other;
        slot = (slot + 1) & this.mask;
      }
      if (previous !== -1) next[previous] = r;
      slots[slot * 2] = r;
      slots[slot * 2 + 1] = tag;
    }
  }

  /**
   * The first row (lowest index) whose key equals `key[offset..offset+32)`, or -1. Rows are
   * inserted in order along the same probe sequence, so the first hit is the lowest row.
   */
  find(key: Uint8Array, offset = 0): number {
    const rowKeys = this.dynamics.key;
    const slots = this.slots;
    const tag = word(key, offset + 4);
    for (let slot = word(key, offset) & this.mask; ; slot = (slot + 1) & this.mask) {
      const r = slots[slot * 2]!;
      if (r === -1) return -1;
      if (slots[slot * 2 + 1] === tag && sameKey(rowKeys, r * KEY_BYTES, key, offset)) return r;
    }
  }

  /** The rows whose key equals `key[offset..offset+32)`, in row order. */
  rowsOf(key: Uint8Array, offset = 0): number[] {
    const out: number[] = [];
    this.probe(key, offset, (r) => {
      out.push(r);
      return false;
    });
    return out;
  }

  /** Calls `visit` with each row whose key equals `key[offset..offset+32)`, in row order, until it returns true. */
  probe(key: Uint8Array, offset: number, visit: (row: number) => boolean): void {
    const rowKeys = this.dynamics.key;
    const slots = this.slots;
    const tag = word(key, offset + 4);
    for (let slot = word(key, offset) & this.mask; ; slot = (slot + 1) & this.mask) {
      const r = slots[slot * 2]!;
      if (r === -1) return;
      if (slots[slot * 2 + 1] === tag && sameKey(rowKeys, r * KEY_BYTES, key, offset) && visit(r)) return;
    }
  }
}

/** 4 key bytes as an int32 (little-endian). */
function word(k: Uint8Array, o: number): number {
  return k[o]! | (k[o + 1]! << 8) | (k[o + 2]! << 16) | (k[o + 3]! << 24);
}

/** Whether the pair keys at a[ao..] and b[bo..] (KEY_BYTES each) are equal. */
export function sameKey(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  for (let i = 0; i < KEY_BYTES; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

export interface MatchCounts {
  /** Rows found in the file (training and eval). */
  matched: number;
  notFound: number;
  moved: number;
  labelChanged: number;
  unlabeled: number;
  /** The same, training rows only. */
  train: { rows: number; matched: number; notFound: number; moved: number; labelChanged: number; unlabeled: number };
  /** Keyed records of the file (usable items and records without a label now). */
  fileRecords: number;
  /** Of those, with no row: records the run did not see (added, or edited since). */
  fileUnmatched: number;
}

export interface DynamicsMatch {
  /** Per row: the 0-based line of the matched record in the current file, or -1. */
  rowLine: Int32Array;
  /** Per row: ROW_* flags (0: found on the line the run read, with the label it trained on). */
  rowFlags: Uint8Array;
  /** Per keyed file record, in the order given: its 0-based line. */
  recordLine: Int32Array;
  /** Per keyed file record: the row matched to it, or -1. */
  recordRow: Int32Array;
  counts: MatchCounts;
  /**
   * labels_sha256 of the records given (§8: key ++ byte(side) over those with a side, in the
   * order given): equal to the run's when the file's usable list and labels are the run's.
   */
  labelsSha256: string;
}

/**
 * Matches the rows of a run to the keyed records of the current file (keyedRecords(), in file
 * order). Each row is matched at most once and each record at most once, only ever to a row with
 * its key.
 */
export function matchDynamics(dynamics: Dynamics, records: Iterable<KeyedRecord>, index: DynamicsIndex = new DynamicsIndex(dynamics)): DynamicsMatch {
  if (index.dynamics !== dynamics) throw new Error('matchDynamics: the index is of another dynamics');
  const n = dynamics.rows;
  const runLine = dynamics.line;
  const sides = dynamics.side;
  const next = index.nextSame;
  // Pass 1: each record's line, side and key group (the first row with its key, or -1).
  let recLine: Int32Array = new Int32Array(1024);
  let recGroup: Int32Array = new Int32Array(1024);
  let recSide: Uint8Array = new Uint8Array(1024);
  let count = 0;
  // labels_sha256 input (key ++ side of each labeled record), hashed 2048 records at a time.
  const labels = createHash('sha256');
  const pending = new Uint8Array(33 * 2048);
  let used = 0;
  const fileCount = new Int32Array(n);
  for (const rec of records) {
    if (count === recLine.length) {
      recLine = grow(recLine);
      recGroup = grow(recGroup);
      const s2 = new Uint8Array(recSide.length * 2);
      s2.set(recSide);
      recSide = s2;
    }
    if (rec.side === 0 || rec.side === 1) {
      if (used === pending.length) {
        labels.update(pending);
        used = 0;
      }
      pending.set(rec.key.length === KEY_BYTES ? rec.key : rec.key.subarray(0, KEY_BYTES), used);
      pending[used + KEY_BYTES] = rec.side;
      used += KEY_BYTES + 1;
    }
    const g = index.find(rec.key, 0);
    recLine[count] = rec.line;
    recSide[count] = rec.side;
    recGroup[count] = g;
    if (g !== -1) fileCount[g]!++;
    count++;
  }
  const rowLine = new Int32Array(n).fill(-1);
  const rowFlags = new Uint8Array(n).fill(ROW_NOT_FOUND);
  const recordRow = new Int32Array(count).fill(-1);
  const take = (i: number, r: number) => {
    recordRow[i] = r;
    const line = recLine[i]!;
    rowLine[r] = line;
    let flags = 0;
    if (runLine[r] !== line + 1) flags |= ROW_MOVED;
    const side = recSide[i]!;
    if (side === NO_SIDE) flags |= ROW_UNLABELED;
    else if (side !== sides[r]) flags |= ROW_LABEL_CHANGED;
    rowFlags[r] = flags;
  };
  // Pass 2: keys held by one row and one record; they are the anchors for the rest.
  const anchorLine: number[] = [];
  const anchorShift: number[] = [];
  const ambiguous = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const g = recGroup[i]!;
    if (g === -1) continue;
    if (fileCount[g] === 1 && next[g] === -1) {
      take(i, g);
      anchorLine.push(recLine[i]!);
      anchorShift.push(runLine[g]! - 1 - recLine[i]!);
    } else {
      const list = ambiguous.get(g);
      if (list) list.push(i);
      else ambiguous.set(g, [i]);
    }
  }
  // Pass 3: identical records, paired within their key by distance to their expected run line.
  const shiftNear = (line: number): number => {
    if (!anchorLine.length) return 0;
    let lo = 0;
    let hi = anchorLine.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (anchorLine[mid]! < line) lo = mid + 1;
      else hi = mid;
    }
    const after = lo < anchorLine.length ? lo : -1;
    const before = lo > 0 ? lo - 1 : -1;
    if (before === -1) return anchorShift[after]!;
    if (after === -1) return anchorShift[before]!;
    return line - anchorLine[before]! <= anchorLine[after]! - line ? anchorShift[before]! : anchorShift[after]!;
  };
  for (const [g, recs] of ambiguous) {
    const rows: number[] = [];
    for (let r = g; r !== -1; r = next[r]!) rows.push(r);
    const expected = recs.map((i) => recLine[i]! + shiftNear(recLine[i]!));
    if (recs.length * rows.length <= 65536) {
      const pairs: [number, number, number][] = [];
      recs.forEach((i, k) => {
        for (const r of rows) pairs.push([Math.abs(runLine[r]! - 1 - expected[k]!) * 2 + (recSide[i] === sides[r] ? 0 : 1), k, r]);
      });
      pairs.sort((a, b) => a[0] - b[0] || a[2] - b[2] || a[1] - b[1]);
      const used = new Set<number>();
      for (const [, k, r] of pairs) {
        const i = recs[k]!;
        if (recordRow[i] !== -1 || used.has(r)) continue;
        used.add(r);
        take(i, r);
      }
    } else {
      // Very many copies: pair them in line order.
      const order = recs.map((_, k) => k).sort((a, b) => expected[a]! - expected[b]! || a - b);
      for (let k = 0; k < Math.min(order.length, rows.length); k++) take(recs[order[k]!]!, rows[k]!);
    }
  }
  const counts: MatchCounts = {
    matched: 0, notFound: 0, moved: 0, labelChanged: 0, unlabeled: 0,
    train: { rows: dynamics.trainRows, matched: 0, notFound: 0, moved: 0, labelChanged: 0, unlabeled: 0 },
    fileRecords: count, fileUnmatched: 0,
  };
  for (let i = 0; i < count; i++) if (recordRow[i] === -1) counts.fileUnmatched++;
  for (let r = 0; r < n; r++) {
    const f = rowFlags[r]!;
    const c = r < dynamics.trainRows ? [counts, counts.train] : [counts];
    for (const t of c) {
      if (f & ROW_NOT_FOUND) t.notFound++;
      else t.matched++;
      if (f & ROW_MOVED) t.moved++;
      if (f & ROW_LABEL_CHANGED) t.labelChanged++;
      if (f & ROW_UNLABELED) t.unlabeled++;
    }
  }
  labels.update(pending.subarray(0, used));
  return { rowLine, rowFlags, recordLine: recLine.subarray(0, count), recordRow, counts, labelsSha256: labels.digest('hex') };
}

function grow(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** Rows whose record is found with the other label now (label changed since the run). */
export function labelsChangedCount(match: DynamicsMatch): number {
  return match.counts.labelChanged;
}

/**
 * Per 0-based file line (0 .. lineCount-1): the row matched to a record on it, or -1. In
 * unpaired mode a paired record has two rows (chosen item, rejected item): the first is given.
 */
export function rowOfLine(match: DynamicsMatch, lineCount: number): Int32Array {
  const out = new Int32Array(lineCount).fill(-1);
  for (let i = match.recordLine.length - 1; i >= 0; i--) {
    const line = match.recordLine[i]!;
    const r = match.recordRow[i]!;
    if (r !== -1 && line < lineCount) out[line] = r;
  }
  return out;
}

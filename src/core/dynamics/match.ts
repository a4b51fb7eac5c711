import { createHash } from 'node:crypto';
import type { Dynamics } from './format';
import { KEY_BYTES, type KeyedRecord, NO_SIDE } from './pairKey';

/**
 * Matching a run's rows to the records of the file as it is now (docs/contracts.md §8): by pair
 * key only; a row's recorded line is a hint (preferred among records with the same key, which
 * have the same content), never the identity. So lines added, removed or moved never give a
 * wrong match, a relabeled record is found with its label changed, and a removed record is not
 * found.
 *
 * Memory: an open-addressing table of Int32 row indices over the rows' keys (the keys stay in
 * the dynamics file's bytes), probed with the first 4 key bytes (SHA-256: uniform), every hit
 * checked on all 32 bytes. About 12 bytes a row besides the file; 8 more a file record.
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
  private readonly table: Int32Array;
  private readonly mask: number;

  constructor(readonly dynamics: Dynamics) {
    const n = dynamics.rows;
    let size = 16;
    while (size < n * 2) size *= 2;
    this.mask = size - 1;
    this.table = new Int32Array(size).fill(-1);
    const key = dynamics.key;
    for (let r = 0; r < n; r++) {
      let slot = bucket(key, r * KEY_BYTES) & this.mask;
      while (this.table[slot] !== -1) slot = (slot + 1) & this.mask;
      this.table[slot] = r;
    }
  }

  /** The rows whose key equals `key[offset..offset+32)`, in row order. */
  rowsOf(key: Uint8Array, offset = 0): number[] {
    const out: number[] = [];
    const rowKeys = this.dynamics.key;
    for (let slot = bucket(key, offset) & this.mask; ; slot = (slot + 1) & this.mask) {
      const r = this.table[slot]!;
      if (r === -1) break;
      if (sameKey(rowKeys, r * KEY_BYTES, key, offset)) out.push(r);
    }
    return out.sort((a, b) => a - b);
  }

  /** The first row with this key, or -1. */
  find(key: Uint8Array, offset = 0): number {
    const rowKeys = this.dynamics.key;
    let best = -1;
    for (let slot = bucket(key, offset) & this.mask; ; slot = (slot + 1) & this.mask) {
      const r = this.table[slot]!;
      if (r === -1) return best;
      if (sameKey(rowKeys, r * KEY_BYTES, key, offset) && (best === -1 || r < best)) best = r;
    }
  }

  /** @internal the probe sequence, for matchDynamics. */
  probe(key: Uint8Array, offset: number, visit: (row: number) => boolean): void {
    const rowKeys = this.dynamics.key;
    for (let slot = bucket(key, offset) & this.mask; ; slot = (slot + 1) & this.mask) {
      const r = this.table[slot]!;
      if (r === -1) return;
      if (sameKey(rowKeys, r * KEY_BYTES, key, offset) && visit(r)) return;
    }
  }
}

function bucket(k: Uint8Array, o: number): number {
  return (k[o]! | (k[o + 1]! << 8) | (k[o + 2]! << 16) | (k[o + 3]! << 24)) >>> 0;
}

function sameKey(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
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
  /** Per row: ROW_* flags (0: found on the same line with the same label). */
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
 * order). Each row is matched at most once and each record at most once; among rows with the
 * record's key, the one the run read on the same line is preferred, else the first unmatched.
 */
export function matchDynamics(dynamics: Dynamics, records: Iterable<KeyedRecord>, index: DynamicsIndex = new DynamicsIndex(dynamics)): DynamicsMatch {
  if (index.dynamics !== dynamics) throw new Error('matchDynamics: the index is of another dynamics');
  const n = dynamics.rows;
  const rowLine = new Int32Array(n).fill(-1);
  const rowFlags = new Uint8Array(n).fill(ROW_NOT_FOUND);
  let recordLine: Int32Array = new Int32Array(1024);
  let recordRow: Int32Array = new Int32Array(1024);
  let count = 0;
  let unmatched = 0;
  const lines = dynamics.line;
  const sides = dynamics.side;
  const labels = createHash('sha256');
  const sideByte = new Uint8Array(1);
  for (const rec of records) {
    if (rec.side === 0 || rec.side === 1) {
      sideByte[0] = rec.side;
      labels.update(rec.key).update(sideByte);
    }
    if (count === recordLine.length) {
      recordLine = grow(recordLine);
      recordRow = grow(recordRow);
    }
    const line1 = rec.line + 1;
    let first = -1;
    let hinted = -1;
    index.probe(rec.key, 0, (r) => {
      if (rowLine[r] !== -1) return false;
      if (lines[r] === line1) {
        hinted = r;
        return true;
      }
      if (first === -1 || r < first) first = r;
      return false;
    });
    const r = hinted !== -1 ? hinted : first;
    recordLine[count] = rec.line;
    recordRow[count] = r;
    count++;
    if (r === -1) {
      unmatched++;
      continue;
    }
    rowLine[r] = rec.line;
    let flags = 0;
    if (lines[r] !== line1) flags |= ROW_MOVED;
    if (rec.side === NO_SIDE) flags |= ROW_UNLABELED;
    else if (rec.side !== sides[r]) flags |= ROW_LABEL_CHANGED;
    rowFlags[r] = flags;
  }
  const counts: MatchCounts = {
    matched: 0, notFound: 0, moved: 0, labelChanged: 0, unlabeled: 0,
    train: { rows: dynamics.trainRows, matched: 0, notFound: 0, moved: 0, labelChanged: 0, unlabeled: 0 },
    fileRecords: count, fileUnmatched: unmatched,
  };
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
  return { rowLine, rowFlags, recordLine: recordLine.subarray(0, count), recordRow: recordRow.subarray(0, count), counts, labelsSha256: labels.digest('hex') };
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

import { LineIndex, type SharedLineIndexData } from '../core/dataset/lineIndex';
import type { ParsedLine } from '../core/dataset/formats';
import { scanLines, type DatasetStats } from '../core/dataset/stats';
import { keyLine, type KeyOptions } from './lineKeys';

/**
 * The work the labeling scan worker does, as plain functions (unit-tested without a thread):
 * classify ranges of lines (per-line codes + stats + invalid lines) and find lines containing a
 * search string, both straight over the file's shared bytes.
 */

export const SCAN_BATCH = 20_000;
export const MAX_INVALID_REPORTED = 1000;

export type ScanRequest =
  /** Scan lines [from, to) (one worker's share); with `keys`, each line's pair key too, from the same parse (a run's view of the file). */
  | { type: 'scan'; generation: number; data: SharedLineIndexData; from: number; to: number; keys?: KeyOptions }
  | { type: 'search'; generation: number; id: number; query: string; data: SharedLineIndexData }
  /** Pair keys of lines [from, to) (a run's view of the file, docs/contracts.md §8). */
  | { type: 'keys'; generation: number; run: number; data: SharedLineIndexData; from: number; to: number; options: KeyOptions };

export type ScanReply =
  | { type: 'scanned'; generation: number; from: number; to: number; codes: Uint8Array; stats: DatasetStats; invalid: InvalidLine[]; keys?: LineKeys }
  | { type: 'scanDone'; generation: number; ms: number }
  | { type: 'found'; generation: number; id: number; lines: Uint32Array; ms: number }
  /** 32 bytes of key per line (zeros: none) and each line's side (lineKeys.ts). */
  | { type: 'keyed'; generation: number; run: number; from: number; keys: Uint8Array; sides: Uint8Array }
  | { type: 'keysDone'; generation: number; run: number }
  | { type: 'failed'; generation: number; id?: number; run?: number; message: string };

/** Pair keys of a batch of lines: 32 bytes per line (zeros: none) and each line's side (lineKeys.ts). */
export interface LineKeys {
  keys: Uint8Array;
  sides: Uint8Array;
}

export interface InvalidLine {
  line: number;
  reason: string;
  column: number | null;
}

/**
 * Scans lines [start, end) in batches, calling `emit` after each (a worker posts each batch).
 * With `keyOptions`: each line's pair key and side as well, computed from the record parsed for
 * the scan (no second parse of the file when a run's view is wanted).
 */
export function scanAll(index: LineIndex, emit: (from: number, to: number, codes: Uint8Array, stats: DatasetStats, invalid: InvalidLine[], keys?: LineKeys) => void, reportedSoFar = { n: 0 }, start = 0, end = index.lineCount, keyOptions?: KeyOptions): void {
  for (let from = start; from < end; from += SCAN_BATCH) {
    const to = Math.min(from + SCAN_BATCH, end);
    let keys: LineKeys | undefined;
    let each: ((line: number, rec: ParsedLine) => void) | undefined;
    if (keyOptions) {
      const k = (keys = { keys: new Uint8Array((to - from) * 32), sides: new Uint8Array(to - from) });
      each = (line, rec) => keyLine(line, rec, keyOptions, k.keys, k.sides, line - from);
    }
    const r = scanLines(index, from, to, { maxInvalid: Math.max(MAX_INVALID_REPORTED - reportedSoFar.n, 0), each });
    reportedSoFar.n += r.invalid.length;
    emit(from, to, r.codes, r.stats, r.invalid.map((x) => ({ line: x.line, reason: x.record.reason, column: x.record.column })), keys);
  }
}

/** Case variants searched as bytes: exact, lower, upper, Capitalised. */
export function variants(query: string): Buffer[] {
  const lower = query.toLowerCase();
  const set = new Set([query, lower, query.toUpperCase(), lower.charAt(0).toUpperCase() + lower.slice(1)]);
  return [...set].filter((v) => v.length > 0).map((v) => Buffer.from(v, 'utf8'));
}

/**
 * Lines (0-based, ascending) whose raw bytes contain `query` in one of its case variants. Byte
 * search (Buffer.indexOf) over each chunk, no decoding: about memory speed. Text inside JSON
 * escapes (\n, \", \uXXXX) is matched as written in the file.
 */
export function searchLines(index: LineIndex, query: string): Uint32Array {
  const found = new Set<number>();
  if (!query) return new Uint32Array(0);
  for (const needle of variants(query)) {
    for (let k = 0; k < index.chunks.length; k++) {
      const chunk = index.chunks[k]!;
      const base = k * index.chunkSize;
      let pos = chunk.indexOf(needle, 0);
      while (pos >= 0) {
        const line = lineAt(index, base + pos);
        found.add(line);
        const next = index.rawEnd(line) - base;
        if (next >= chunk.length) break;
        pos = chunk.indexOf(needle, next);
      }
    }
  }
  return Uint32Array.from([...found].sort((a, b) => a - b));
}

/** Whether one line's bytes match a search the way `searchLines` does (edited lines). */
export function bytesMatch(bytes: Uint8Array, needles: readonly Buffer[]): boolean {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const needle of needles) if (b.includes(needle)) return true;
  return false;
}

/** The line holding byte `offset` (binary search over line starts). */
export function lineAt(index: LineIndex, offset: number): number {
  let lo = 0;
  let hi = index.lineCount - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (index.contentStart(mid) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export { LineIndex };

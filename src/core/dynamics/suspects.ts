import type { Dynamics } from './format';

/**
 * The suspect ranking (docs/contracts.md §8): training rows with visits > 0, by ascending AUM
 * (the mean margin over visits; most suspect first), ties by line. A row is a suspect when its
 * AUM < 0: the model prefers the other response. Eval rows and rows never visited are not ranked.
 */

export interface RankOptions {
  /** At most this many rows (default: all). */
  top?: number;
  /** Also rank rows with AUM >= 0 after the suspects (default false: suspects only). */
  all?: boolean;
}

/** Row indices, most suspect first. */
export function rankSuspects(d: Dynamics, options: RankOptions = {}): Int32Array {
  const top = options.top ?? Infinity;
  if (!(top >= 0)) throw new RangeError(`top must be >= 0, got ${top}`);
  const aum = d.aum;
  const visits = d.visits;
  const line = d.line;
  let count = 0;
  const rows = new Int32Array(d.trainRows);
  for (let r = 0; r < d.trainRows; r++) {
    const a = aum[r]!;
    if (visits[r]! > 0 && !Number.isNaN(a) && (options.all || a < 0)) rows[count++] = r;
  }
  const ranked = rows.subarray(0, count);
  // Sort by (aum, line, row): a total order, so the ranking is the same on every run.
  ranked.sort((x, y) => aum[x]! - aum[y]! || line[x]! - line[y]! || x - y);
  return ranked.slice(0, Math.min(count, top));
}

/** Training rows with visits > 0 and AUM < 0. */
export function suspectCount(d: Dynamics): number {
  let n = 0;
  for (let r = 0; r < d.trainRows; r++) if (d.visits[r]! > 0 && d.aum[r]! < 0) n++;
  return n;
}

/** Training rows never in a batch (visits 0, NaN statistics): the run stopped before reaching them. */
export function unvisitedCount(d: Dynamics): number {
  let n = 0;
  for (let r = 0; r < d.trainRows; r++) if (d.visits[r] === 0) n++;
  return n;
}

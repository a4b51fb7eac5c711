import type { ParsedLine, PreferenceRecord } from '../dataset/formats';
import { judgementOf, VOTES_FIELD, type Vote } from '../dataset/votes';
import { mulberry32 } from '../contrast/prng';
import { multinomialDraw, uniformOf } from './multinomial';

/**
 * Inter-annotator agreement over the votes of a preference file (docs/agreement.md). Pure.
 *
 * Items are pairwise records (paired, candidates) with votes. Each vote becomes one code in the
 * record's fixed orientation (`first` = the file's original chosen, or `responses[0]`; `second`
 * the other; undone `flipped` / `from_responses`), so the categories mean the same for every
 * annotator whatever side they were shown:
 *
 * | code | nominal | ordinal (strength) |
 * | 0 | first  | 0 clearly first  |
 * | 1 | first  | 1 slightly first |
 * | 2 | tie    | 2 tie            |
 * | 3 | second | 3 slightly second|
 * | 4 | second | 4 clearly second |
 * | 5 | first  | missing (no strength) |
 * | 6 | second | missing (no strength) |
 * skip, both_bad and excluded votes are missing from every measure.
 *
 * Statistics are computed from pattern counts (items with the same raters and codes grouped),
 * which is also how the bootstrap resamples items cheaply.
 */

export const NOMINAL = ['first', 'second', 'tie'] as const;
export const ORDINAL = ['clearly first', 'slightly first', 'tie', 'slightly second', 'clearly second'] as const;
const NOM_OF = [0, 0, 2, 1, 1, 0, 1];
const ORD_OF = [0, 1, 2, 3, 4, -1, -1];

export interface Pattern {
  /** Annotator indices (ascending) and their codes. */
  raters: number[];
  codes: number[];
}

export interface AnnotatorStats {
  annotator: string;
  /** Votes on pairwise records (any status). */
  votes: number;
  /** Of this annotator's counting votes on records with two or more votes and a resolved (not disputed) label: how many match it. */
  agreeWithResolved: number;
  resolvedCompared: number;
  /** Preferences given with a known display order, and how many picked the left side. */
  picks: number;
  leftPicks: number;
  leftShare: number | null;
  /** Two-sided exact binomial test of leftPicks out of picks against 1/2 (scipy.stats.binomtest). */
  leftPValue: number | null;
  ties: number;
  skips: number;
  /** Median seconds between this annotator's consecutive votes (by time), or null with fewer than two. */
  medianSeconds: number | null;
}

export interface VoteTable {
  annotators: string[];
  patterns: Pattern[];
  /** Per item (records with two or more nominal votes, file order): its pattern index. */
  itemPattern: Int32Array;
  /** 0-based line of each item. */
  itemLine: Int32Array;
  perAnnotator: AnnotatorStats[];
  /** Pairwise records with any vote (or a single annotator's rpo_label). */
  recordsWithVotes: number;
}

/** Collects the vote table from parsed lines. */
export function collectVotes(lines: Iterable<[number, ParsedLine]>): VoteTable {
  const c = new VoteCollector();
  for (const [line, rec] of lines) c.add(line, rec);
  return mergePartials([{ partial: c.partial(), lineOffset: 0 }]);
}

/** Per-annotator tallies while collecting (times: finite vote times, ms, in file order). */
export interface AnnotatorTally {
  votes: number;
  agree: number;
  compared: number;
  picks: number;
  left: number;
  ties: number;
  skips: number;
  times: Float64Array;
}

/**
 * The votes of a run of consecutive lines (one worker's share of a file): annotators and patterns
 * numbered in order of first appearance within it, lines relative to its first line. Plain data
 * (structured-clone friendly); `mergePartials` joins the partials of a file in order into the
 * table `collectVotes` gives for the whole file.
 */
export interface VotePartial {
  annotators: string[];
  patterns: Pattern[];
  itemPattern: Int32Array;
  itemLine: Int32Array;
  tallies: AnnotatorTally[];
  recordsWithVotes: number;
}

/** Collects votes line by line (`add`), for `collectVotes` and for each worker's share of a file. */
export class VoteCollector {
  private readonly annotators: string[] = [];
  private readonly index = new Map<string, number>();
  private readonly patterns: Pattern[] = [];
  private readonly patternIndex = new Map<number | string, number>();
  private itemPattern: Int32Array = new Int32Array(1024);
  private itemLine: Int32Array = new Int32Array(1024);
  private items = 0;
  private readonly tallies: { votes: number; agree: number; compared: number; picks: number; left: number; ties: number; skips: number; times: Float64Array; n: number }[] = [];
  private recordsWithVotes = 0;
  // One record's counting codes, by annotator (a later vote of the same annotator replaces an earlier one).
  private readonly raters: number[] = [];
  private readonly codes: number[] = [];

  private idOf(a: string): number {
    let i = this.index.get(a);
    if (i === undefined) {
      i = this.annotators.length;
      this.annotators.push(a);
      this.index.set(a, i);
      this.tallies.push({ votes: 0, agree: 0, compared: 0, picks: 0, left: 0, ties: 0, skips: 0, times: new Float64Array(1024), n: 0 });
    }
    return i;
  }

  add(line: number, rec: ParsedLine): void {
    if (rec.kind !== 'paired' && rec.kind !== 'candidates') return;
    const votes = votesOf(rec);
    if (votes.length === 0) return;
    this.recordsWithVotes++;
    const side = sideKey(rec);
    const status = rec.provenance?.status ?? null;
    const resolved = votes.length >= 2 && status !== 'disputed' && rec.provenance ? status ?? (rec.kind === 'paired' ? 'chosen' : null) : null;
    const raters = this.raters;
    const codes = this.codes;
    raters.length = 0;
    codes.length = 0;
    for (const v of votes) {
      const a = this.idOf(v.annotator);
      const s = this.tallies[a]!;
      s.votes++;
      const t = isoTime(v.time);
      if (Number.isFinite(t)) {
        if (s.n === s.times.length) s.times = grow(s.times);
        s.times[s.n++] = t;
      }
      if (v.status === 'tie') s.ties++;
      if (v.status === 'skip') s.skips++;
      if (v.choice !== null && v.shown) {
        s.picks++;
        if (v.shown[0] === v.choice) s.left++;
      }
      const j = judgementOf(v);
      if (resolved !== null && j !== null) {
        s.compared++;
        if (j === resolved) s.agree++;
      }
      const code = voteCode(v, side);
      if (code >= 0) {
        const at = raters.indexOf(a);
        if (at >= 0) codes[at] = code;
        else {
          raters.push(a);
          codes.push(code);
        }
      }
    }
    if (raters.length < 2) return;
    // Sort by annotator (insertion sort: a handful of votes).
    for (let i = 1; i < raters.length; i++) {
      const r = raters[i]!;
      const c = codes[i]!;
      let k = i - 1;
      while (k >= 0 && raters[k]! > r) {
        raters[k + 1] = raters[k]!;
        codes[k + 1] = codes[k]!;
        k--;
      }
      raters[k + 1] = r;
      codes[k + 1] = c;
    }
    const key = patternKey(raters, codes);
    let p = this.patternIndex.get(key);
    if (p === undefined) {
      p = this.patterns.length;
      this.patterns.push({ raters: raters.slice(), codes: codes.slice() });
      this.patternIndex.set(key, p);
    }
    if (this.items === this.itemPattern.length) {
      this.itemPattern = growInt(this.itemPattern);
      this.itemLine = growInt(this.itemLine);
    }
    this.itemPattern[this.items] = p;
    this.itemLine[this.items++] = line;
  }

  partial(): VotePartial {
    return {
      annotators: this.annotators.slice(),
      patterns: this.patterns.slice(),
      itemPattern: this.itemPattern.slice(0, this.items),
      itemLine: this.itemLine.slice(0, this.items),
      tallies: this.tallies.map(({ n, times, ...s }) => ({ ...s, times: times.slice(0, n) })),
      recordsWithVotes: this.recordsWithVotes,
    };
  }
}

/**
 * A pattern's identity from its raters and codes: one number r * 8 + code + 1 (< 65536) a rating,
 * packed into one number for two or three ratings, else joined into a string.
 */
function patternKey(raters: readonly number[], codes: readonly number[]): number | string {
  const m = raters.length;
  if (m <= 3 && raters[m - 1]! < 8191) {
    let key = 0;
    for (let i = m - 1; i >= 0; i--) key = key * 65536 + raters[i]! * 8 + codes[i]! + 1;
    return key;
  }
  return raters.join(',') + ':' + codes.join('');
}

/**
 * Joins the partials of consecutive line runs, in file order, into the vote table of the whole:
 * annotators and patterns renumbered in order of first appearance over the file (as one
 * collector over every line numbers them), lines shifted by each run's first line.
 */
export function mergePartials(parts: readonly { partial: VotePartial; lineOffset: number }[]): VoteTable {
  const annotators: string[] = [];
  const index = new Map<string, number>();
  const patterns: Pattern[] = [];
  const patternIndex = new Map<number | string, number>();
  const tallies: AnnotatorTally[] = [];
  let n = 0;
  for (const { partial } of parts) n += partial.itemPattern.length;
  const itemPattern = new Int32Array(n);
  const itemLine = new Int32Array(n);
  let at = 0;
  let recordsWithVotes = 0;
  for (const { partial, lineOffset } of parts) {
    const aMap = partial.annotators.map((a, i) => {
      let g = index.get(a);
      const t = partial.tallies[i]!;
      if (g === undefined) {
        g = annotators.length;
        annotators.push(a);
        index.set(a, g);
        tallies.push({ ...t });
      } else {
        const s = tallies[g]!;
        s.votes += t.votes;
        s.agree += t.agree;
        s.compared += t.compared;
        s.picks += t.picks;
        s.left += t.left;
        s.ties += t.ties;
        s.skips += t.skips;
        const times = new Float64Array(s.times.length + t.times.length);
        times.set(s.times);
        times.set(t.times, s.times.length);
        s.times = times;
      }
      return g;
    });
    const pMap = partial.patterns.map((p) => {
      const order = p.raters.map((_, i) => i).sort((x, y) => aMap[p.raters[x]!]! - aMap[p.raters[y]!]!);
      const raters = order.map((i) => aMap[p.raters[i]!]!);
      const codes = order.map((i) => p.codes[i]!);
      const key = patternKey(raters, codes);
      let g = patternIndex.get(key);
      if (g === undefined) {
        g = patterns.length;
        patterns.push({ raters, codes });
        patternIndex.set(key, g);
      }
      return g;
    });
    for (let i = 0; i < partial.itemPattern.length; i++) {
      itemPattern[at] = pMap[partial.itemPattern[i]!]!;
      itemLine[at++] = partial.itemLine[i]! + lineOffset;
    }
    recordsWithVotes += partial.recordsWithVotes;
  }
  const perAnnotator = annotators.map((annotator, i): AnnotatorStats => {
    const s = tallies[i]!;
    return {
      annotator,
      votes: s.votes,
      agreeWithResolved: s.agree,
      resolvedCompared: s.compared,
      picks: s.picks,
      leftPicks: s.left,
      leftShare: s.picks ? s.left / s.picks : null,
      leftPValue: s.picks ? binomTestHalf(s.left, s.picks) : null,
      ties: s.ties,
      skips: s.skips,
      medianSeconds: medianGap(s.times),
    };
  });
  return { annotators, patterns, itemPattern, itemLine, perAnnotator, recordsWithVotes };
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
function growInt(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/**
 * Date.parse of a vote time. The form the writers use, `YYYY-MM-DDTHH:MM:SS.sssZ` (years 1970 to
 * 9999, days up to 28), is read digit by digit into Date.UTC, which gives the same number; any
 * other text goes to Date.parse.
 */
export function isoTime(s: string): number {
  if (s.length === 24 && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45 && s.charCodeAt(10) === 84 && s.charCodeAt(13) === 58 && s.charCodeAt(16) === 58 && s.charCodeAt(19) === 46 && s.charCodeAt(23) === 90) {
    let ok = true;
    for (let k = 0; k < DIGITS.length; k++) {
      const x = s.charCodeAt(DIGITS[k]!) - 48;
      if (x < 0 || x > 9) ok = false;
    }
    if (ok) {
      const year = (s.charCodeAt(0) - 48) * 1000 + (s.charCodeAt(1) - 48) * 100 + (s.charCodeAt(2) - 48) * 10 + (s.charCodeAt(3) - 48);
      const month = (s.charCodeAt(5) - 48) * 10 + (s.charCodeAt(6) - 48);
      const day = (s.charCodeAt(8) - 48) * 10 + (s.charCodeAt(9) - 48);
      const hour = (s.charCodeAt(11) - 48) * 10 + (s.charCodeAt(12) - 48);
      const minute = (s.charCodeAt(14) - 48) * 10 + (s.charCodeAt(15) - 48);
      const second = (s.charCodeAt(17) - 48) * 10 + (s.charCodeAt(18) - 48);
      const ms = (s.charCodeAt(20) - 48) * 100 + (s.charCodeAt(21) - 48) * 10 + (s.charCodeAt(22) - 48);
      if (year >= 1970 && month >= 1 && month <= 12 && day >= 1 && day <= 28 && hour <= 23 && minute <= 59 && second <= 59) return Date.UTC(year, month - 1, day, hour, minute, second, ms);
    }
  }
  return Date.parse(s);
}
const DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];

/** A record's votes: `rpo_votes`, or the one vote a single annotator's `rpo_label` stands for. */
function votesOf(rec: PreferenceRecord): Vote[] {
  const votes = rec.object[VOTES_FIELD] as Vote[] | undefined;
  if (votes) return votes;
  const p = rec.provenance;
  if (!p || p.status === 'disputed') return [];
  const choice = p.status ? null : rec.kind === 'paired' ? 'chosen' : null;
  if (!p.status && choice === null) return [];
  return [{ annotator: p.annotator, time: p.time, choice, strength: p.strength, status: p.status, note: p.note, shown: p.shown, adjudicator: false }];
}

/**
 * How current field names map to 0 (first) / 1 (second) in the record's original orientation:
 * -1 for candidates (`responses.0` is first), else the side of `chosen` (`rejected` the other).
 */
function sideKey(rec: PreferenceRecord): number {
  if (rec.kind === 'candidates') return -1;
  const p = rec.provenance;
  if (p?.from_responses) return p.from_responses[0];
  return p?.flipped ? 1 : 0;
}

function voteCode(v: Vote, side: number): number {
  if (v.status === 'tie') return 2;
  if (v.status !== null || v.choice === null) return -1;
  const s = side < 0 ? (v.choice === 'responses.0' ? 0 : 1) : v.choice === 'chosen' ? side : 1 - side;
  if (v.strength === 'clearly') return s === 0 ? 0 : 4;
  if (v.strength === 'slightly') return s === 0 ? 1 : 3;
  return 5 + s;
}

// ------------------------------------------------------------------ statistics on pattern counts

/** Mean over items of the share of agreeing rater pairs (nominal): Fleiss' P-bar over all items. */
export function percentAgreement(t: VoteTable, w: Float64Array): number | null {
  let sum = 0;
  let n = 0;
  t.patterns.forEach((p, k) => {
    if (!w[k]) return;
    const c = [0, 0, 0];
    for (const code of p.codes) c[NOM_OF[code]!]!++;
    const m = p.codes.length;
    sum += (w[k]! * (c[0]! * (c[0]! - 1) + c[1]! * (c[1]! - 1) + c[2]! * (c[2]! - 1))) / (m * (m - 1));
    n += w[k]!;
  });
  return n ? sum / n : null;
}

/** Cohen's kappa of annotators a and b over items both rated (scikit-learn cohen_kappa_score). */
export function cohenKappa(t: VoteTable, w: Float64Array, a: number, b: number): { kappa: number | null; items: number } {
  const cm = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  let n = 0;
  t.patterns.forEach((p, k) => {
    if (!w[k]) return;
    const ia = p.raters.indexOf(a);
    const ib = p.raters.indexOf(b);
    if (ia < 0 || ib < 0) return;
    cm[NOM_OF[p.codes[ia]!]! * 3 + NOM_OF[p.codes[ib]!]!]! += w[k]!;
    n += w[k]!;
  });
  if (!n) return { kappa: null, items: 0 };
  const rows = [0, 1, 2].map((i) => cm[i * 3]! + cm[i * 3 + 1]! + cm[i * 3 + 2]!);
  const cols = [0, 1, 2].map((j) => cm[j]! + cm[3 + j]! + cm[6 + j]!);
  let observed = 0;
  let expected = 0;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      if (i === j) continue;
      observed += cm[i * 3 + j]!;
      expected += (rows[i]! * cols[j]!) / n;
    }
  }
  return { kappa: expected === 0 ? null : 1 - observed / expected, items: n };
}

/** The number of ratings Fleiss' kappa uses: the most common per item (the larger on a tie). */
export function fleissRaters(t: VoteTable): number {
  const count = new Map<number, number>();
  for (let i = 0; i < t.itemPattern.length; i++) {
    const m = t.patterns[t.itemPattern[i]!]!.codes.length;
    count.set(m, (count.get(m) ?? 0) + 1);
  }
  let best = 0;
  let bestN = 0;
  for (const [m, c] of count) if (c > bestN || (c === bestN && m > best)) [best, bestN] = [m, c];
  return best;
}

/** Fleiss' kappa over the items with exactly `m` nominal ratings (statsmodels fleiss_kappa, method "fleiss"). */
export function fleissKappa(t: VoteTable, w: Float64Array, m: number): { kappa: number | null; items: number } {
  const total = [0, 0, 0];
  let pSum = 0;
  let items = 0;
  t.patterns.forEach((p, k) => {
    if (!w[k] || p.codes.length !== m) return;
    const c = [0, 0, 0];
    for (const code of p.codes) c[NOM_OF[code]!]!++;
    for (let j = 0; j < 3; j++) total[j]! += w[k]! * c[j]!;
    pSum += (w[k]! * (c[0]! * c[0]! + c[1]! * c[1]! + c[2]! * c[2]! - m)) / (m * (m - 1));
    items += w[k]!;
  });
  if (!items || m < 2) return { kappa: null, items };
  const nTotal = items * m;
  const pe = total.reduce((s, x) => s + (x / nTotal) * (x / nTotal), 0);
  const pMean = pSum / items;
  return { kappa: pe === 1 ? null : (pMean - pe) / (1 - pe), items };
}

/** Krippendorff's alpha (the `krippendorff` package): nominal over first/second/tie, or ordinal over the five strength levels. */
export function krippendorffAlpha(t: VoteTable, w: Float64Array, level: 'nominal' | 'ordinal'): number | null {
  const V = level === 'nominal' ? 3 : 5;
  const o = new Float64Array(V * V);
  const vals: number[] = [];
  t.patterns.forEach((p, k) => {
    if (!w[k]) return;
    vals.length = 0;
    for (const code of p.codes) {
      const v = level === 'nominal' ? NOM_OF[code]! : ORD_OF[code]!;
      if (v >= 0) vals.push(v);
    }
    const m = vals.length;
    if (m < 2) return;
    const f = w[k]! / (m - 1);
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (i !== j) o[vals[i]! * V + vals[j]!]! += f;
  });
  const nv = new Float64Array(V);
  for (let c = 0; c < V; c++) for (let k = 0; k < V; k++) nv[k]! += o[c * V + k]!;
  const n = nv.reduce((s, x) => s + x, 0);
  if (n <= 1) return null;
  const d = (c: number, k: number): number => {
    if (c === k) return 0;
    if (level === 'nominal') return 1;
    const lo = Math.min(c, k);
    const hi = Math.max(c, k);
    let s = 0;
    for (let g = lo; g <= hi; g++) s += nv[g]!;
    return (s - (nv[lo]! + nv[hi]!) / 2) ** 2;
  };
  let num = 0;
  let den = 0;
  for (let c = 0; c < V; c++) {
    for (let k = 0; k < V; k++) {
      const dk = d(c, k);
      if (!dk) continue;
      num += o[c * V + k]! * dk;
      den += ((nv[c]! * nv[k]! - (c === k ? nv[c]! : 0)) / (n - 1)) * dk;
    }
  }
  return den === 0 ? null : 1 - num / den;
}

// ------------------------------------------------------------------ report with bootstrap intervals

export interface Estimate {
  value: number | null;
  /** Bootstrap 95% percentile interval [2.5%, 97.5%], or null when no resample gave a value. */
  ci: [number, number] | null;
}

export interface AgreementReport {
  /** Items: pairwise records with two or more votes that count (first / second / tie). */
  items: number;
  annotators: number;
  recordsWithVotes: number;
  percentAgreement: Estimate;
  cohen: { a: string; b: string; items: number; kappa: Estimate }[];
  fleiss: { raters: number; items: number; kappa: Estimate };
  alphaNominal: Estimate;
  alphaOrdinal: Estimate;
  bootstrap: { resamples: number; seed: number };
  perAnnotator: AnnotatorStats[];
}

export interface AgreementOptions {
  /** Bootstrap resamples (default 1000; 0 turns intervals off). */
  resamples?: number;
  /** Seed of the resampling (mulberry32, docs/contracts.md §5). Default 0. */
  seed?: number;
}

/**
 * Every measure with its bootstrap 95% interval (items resampled with replacement, seeded): when
 * `drawsPatterns(n, K)` each resample's pattern counts are one multinomial draw
 * (`multinomialResampleCounts`), else n item draws (`resampleCounts`). `counts`, when given, holds the pattern counts of every resample (resample r at [r * K, (r + 1) * K),
 * as `resampleCounts(t.itemPattern, K, seed, 0, B)` or `multinomialResampleCounts` gives them: computed elsewhere, e.g. in worker threads).
 */
export function agreementReport(t: VoteTable, options: AgreementOptions = {}, counts?: Int32Array): AgreementReport {
  const B = options.resamples ?? 1000;
  const seed = options.seed ?? 0;
  const K = t.patterns.length;
  const full = new Float64Array(K);
  for (let i = 0; i < t.itemPattern.length; i++) full[t.itemPattern[i]!]!++;
  const m = fleissRaters(t);
  const pairs: [number, number][] = [];
  for (let a = 0; a < t.annotators.length; a++) for (let b = a + 1; b < t.annotators.length; b++) if (cohenKappa(t, full, a, b).items > 0) pairs.push([a, b]);
  const measures = (w: Float64Array): (number | null)[] => [
    percentAgreement(t, w),
    fleissKappa(t, w, m).kappa,
    krippendorffAlpha(t, w, 'nominal'),
    krippendorffAlpha(t, w, 'ordinal'),
    ...pairs.map(([a, b]) => cohenKappa(t, w, a, b).kappa),
  ];
  const point = measures(full);
  const samples: number[][] = point.map(() => []);
  const n = t.itemPattern.length;
  if (B > 0 && n > 0) {
    mulberry32(seed); // validates the seed
    if (counts && counts.length !== B * K) throw new Error(`resample counts: expected ${B * K} numbers, got ${counts.length}`);
    const w = new Float64Array(K);
    const add = () =>
      measures(w).forEach((v, j) => {
        if (v !== null && Number.isFinite(v)) samples[j]!.push(v);
      });
    if (!counts && drawsPatterns(n, K)) {
      // Pattern counts drawn as Multinomial(n, full / n): one generator for every resample, in order.
      const uniform = uniformOf(mulberry32(seed));
      for (let r = 0; r < B; r++) {
        multinomialDraw(n, full, n, uniform, w);
        add();
      }
    } else {
      // Without precomputed counts: blocks of resamples, a few MB of counts at a time.
      const block = Math.max(1, Math.floor(4_000_000 / Math.max(K, 1)));
      for (let r0 = 0; r0 < B; r0 += block) {
        const r1 = Math.min(B, r0 + block);
        const c = counts ? counts.subarray(r0 * K, r1 * K) : resampleCounts(t.itemPattern, K, seed, r0, r1);
        for (let r = 0; r < r1 - r0; r++) {
          for (let k = 0; k < K; k++) w[k] = c[r * K + k]!;
          add();
        }
      }
    }
  }
  const est = (j: number): Estimate => ({ value: point[j]!, ci: interval(samples[j]!) });
  return {
    items: n,
    annotators: t.annotators.length,
    recordsWithVotes: t.recordsWithVotes,
    percentAgreement: est(0),
    fleiss: { raters: m, items: fleissKappa(t, full, m).items, kappa: est(1) },
    alphaNominal: est(2),
    alphaOrdinal: est(3),
    cohen: pairs.map(([a, b], i) => ({ a: t.annotators[a]!, b: t.annotators[b]!, items: cohenKappa(t, full, a, b).items, kappa: est(4 + i) })),
    bootstrap: { resamples: B, seed },
    perAnnotator: t.perAnnotator,
  };
}

/**
 * Whether the bootstrap of n items in K distinct patterns draws each resample's pattern counts
 * from Multinomial(n, observed pattern shares) (K binomial draws a resample) rather than n items
 * (`resampleCounts`): when 16 * K <= n. The two are the same distribution of pattern counts.
 */
export function drawsPatterns(n: number, K: number): boolean {
  return n > 0 && K > 0 && 16 * K <= n;
}

/**
 * The pattern counts of B multinomial resamples (resample r at [r * K, (r + 1) * K)), as
 * agreementReport draws them when `drawsPatterns(n, K)`: one mulberry32(seed) generator, uniforms
 * (u + 1/2) / 2^32, conditional binomials over the patterns in index order (src/core/agreement/multinomial.ts).
 */
export function multinomialResampleCounts(patternCounts: ArrayLike<number>, seed: number, B: number): Int32Array {
  const K = patternCounts.length;
  let n = 0;
  for (let k = 0; k < K; k++) n += patternCounts[k]!;
  const out = new Int32Array(Math.max(0, B) * K);
  if (n === 0) return out;
  const uniform = uniformOf(mulberry32(seed));
  for (let r = 0; r < B; r++) multinomialDraw(n, patternCounts, n, uniform, out.subarray(r * K, (r + 1) * K));
  return out;
}

/**
 * The pattern counts of bootstrap resamples [from, to) of n = itemPattern.length items, K
 * patterns: resample r makes n mulberry32 draws (docs/contracts.md §5, inlined) starting where
 * the generator seeded with `seed` stands after r * n draws (the state only adds 0x6D2B79F5 a
 * draw, so any resample can start on its own: state seed + r * n * 0x6D2B79F5 mod 2^32); draw
 * u picks item floor(u * n / 2^32), and its pattern is counted. Returns (to - from) * K counts,
 * resample by resample. Any split of [0, B) into ranges gives the same numbers.
 */
export function resampleCounts(itemPattern: Int32Array, K: number, seed: number, from: number, to: number): Int32Array {
  const n = itemPattern.length;
  const out = new Int32Array(Math.max(0, to - from) * K);
  if (n === 0 || to <= from) return out;
  const seed32 = seed % 4294967296;
  // floor(u * n / 2^32) = trunc(u * (n * 2^-32)): u * n < 2^53 is exact and scaling by 2^-32 is exact.
  const scale = n * 2.3283064365386963e-10;
  if (K <= 2) {
    // One bit an item (125 KB at a million items: stays in the core's cache); counts[1] = sum of the bits.
    const bits = new Int32Array((n + 31) >>> 5);
    for (let i = 0; i < n; i++) if (itemPattern[i] === 1) bits[i >>> 5]! |= 1 << (i & 31);
    for (let r = from; r < to; r++) {
      const ones = drawBits(startState(seed32, r, n), n, scale, bits);
      if (K === 2) {
        out[(r - from) * 2] = n - ones;
        out[(r - from) * 2 + 1] = ones;
      } else out[r - from] = n;
    }
    return out;
  }
  // The item -> pattern map in the narrowest typed array that holds it; four interleaved count
  // rows so consecutive draws do not wait on the same counter.
  const items = K <= 0x100 ? Uint8Array.from(itemPattern) : K <= 0x10000 ? Uint16Array.from(itemPattern) : itemPattern;
  const lanes = new Int32Array(4 * K);
  for (let r = from; r < to; r++) {
    lanes.fill(0);
    drawLanes(startState(seed32, r, n), n, scale, items, lanes);
    const o = (r - from) * K;
    for (let k = 0; k < K; k++) out[o + k] = lanes[4 * k]! + lanes[4 * k + 1]! + lanes[4 * k + 2]! + lanes[4 * k + 3]!;
  }
  return out;
}

/** The generator's state (as a signed 32-bit integer) after r * n draws from seed32. */
function startState(seed32: number, r: number, n: number): number {
  const rn = (r * n) % 4294967296;
  return (seed32 + Math.imul(rn | 0, 0x6d2b79f5)) | 0;
}

/** n draws from state s; returns how many picked an item whose bit is set. */
function drawBits(s: number, n: number, scale: number, bits: Int32Array): number {
  let ones = 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) | 0;
    let x = Math.imul(s ^ (s >>> 15), s | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    const j = (((x ^ (x >>> 14)) >>> 0) * scale) | 0;
    ones += (bits[j >>> 5]! >>> (j & 31)) & 1;
  }
  return ones;
}

/** n draws from state s, four at a time; pattern k of draw i counted in lanes[4k + i % 4]. */
function drawLanes(s: number, n: number, scale: number, items: Uint8Array | Uint16Array | Int32Array, lanes: Int32Array): void {
  const n4 = n - (n % 4);
  let i = 0;
  for (; i < n4; i += 4) {
    const s0 = (s + 0x6d2b79f5) | 0;
    const s1 = (s0 + 0x6d2b79f5) | 0;
    const s2 = (s1 + 0x6d2b79f5) | 0;
    const s3 = (s2 + 0x6d2b79f5) | 0;
    s = s3;
    let a = Math.imul(s0 ^ (s0 >>> 15), s0 | 1);
    a ^= a + Math.imul(a ^ (a >>> 7), a | 61);
    let b = Math.imul(s1 ^ (s1 >>> 15), s1 | 1);
    b ^= b + Math.imul(b ^ (b >>> 7), b | 61);
    let c = Math.imul(s2 ^ (s2 >>> 15), s2 | 1);
    c ^= c + Math.imul(c ^ (c >>> 7), c | 61);
    let d = Math.imul(s3 ^ (s3 >>> 15), s3 | 1);
    d ^= d + Math.imul(d ^ (d >>> 7), d | 61);
    lanes[items[(((a ^ (a >>> 14)) >>> 0) * scale) | 0]! << 2]!++;
    lanes[(items[(((b ^ (b >>> 14)) >>> 0) * scale) | 0]! << 2) | 1]!++;
    lanes[(items[(((c ^ (c >>> 14)) >>> 0) * scale) | 0]! << 2) | 2]!++;
    lanes[(items[(((d ^ (d >>> 14)) >>> 0) * scale) | 0]! << 2) | 3]!++;
  }
  for (; i < n; i++) {
    s = (s + 0x6d2b79f5) | 0;
    let x = Math.imul(s ^ (s >>> 15), s | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    lanes[items[(((x ^ (x >>> 14)) >>> 0) * scale) | 0]! << 2]!++;
  }
}

/** The 2.5% and 97.5% quantiles with linear interpolation (numpy's default percentile). */
export function interval(values: number[]): [number, number] | null {
  if (!values.length) return null;
  const v = values.slice().sort((x, y) => x - y);
  const q = (p: number) => {
    const h = (v.length - 1) * p;
    const lo = Math.floor(h);
    const hi = Math.min(lo + 1, v.length - 1);
    return v[lo]! + (h - lo) * (v[hi]! - v[lo]!);
  };
  return [q(0.025), q(0.975)];
}

// ------------------------------------------------------------------ helpers

function medianGap(times: Float64Array): number | null {
  if (times.length < 2) return null;
  const t = times.slice().sort(); // numeric ascending (a typed array sort)
  const gaps = new Float64Array(t.length - 1);
  for (let i = 1; i < t.length; i++) gaps[i - 1] = (t[i]! - t[i - 1]!) / 1000;
  gaps.sort();
  const mid = gaps.length >> 1;
  return gaps.length % 2 ? gaps[mid]! : (gaps[mid - 1]! + gaps[mid]!) / 2;
}

/** Two-sided exact binomial test of k successes in n trials against p = 1/2 (as scipy.stats.binomtest). */
export function binomTestHalf(k: number, n: number): number {
  if (n === 0) return 1;
  const lo = Math.min(k, n - k);
  if (2 * lo === n) return 1;
  // P(X <= lo): sum the pmf downward from lo (terms shrink fast) in log space.
  const logTerm = logChoose(n, lo) - n * Math.LN2;
  let term = 1;
  let sum = 1;
  for (let i = lo; i > 0; i--) {
    term *= i / (n - i + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.min(1, 2 * Math.exp(logTerm) * sum);
}

function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

/** ln Γ(x) for x >= 1 (Lanczos, g = 7); exact sums of logs for small integers. */
export function logGamma(x: number): number {
  if (Number.isInteger(x) && x <= 171) {
    let s = 0;
    for (let i = 2; i < x; i++) s += Math.log(i);
    return s;
  }
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

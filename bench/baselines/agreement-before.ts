import type { ParsedLine, PreferenceRecord } from '../../src/core/dataset/formats';
import { judgementOf, VOTES_FIELD, type Vote } from '../../src/core/dataset/votes';
import { mulberry32 } from '../../src/core/contrast/prng';

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
  const annotators: string[] = [];
  const index = new Map<string, number>();
  const idOf = (a: string) => {
    let i = index.get(a);
    if (i === undefined) {
      i = annotators.length;
      annotators.push(a);
      index.set(a, i);
    }
    return i;
  };
  const patterns: Pattern[] = [];
  const patternIndex = new Map<string, number>();
  const itemPattern: number[] = [];
  const itemLine: number[] = [];
  const acc: { votes: number; agree: number; compared: number; picks: number; left: number; ties: number; skips: number; times: number[] }[] = [];
  let recordsWithVotes = 0;
  for (const [line, rec] of lines) {
    if (rec.kind !== 'paired' && rec.kind !== 'candidates') continue;
    const votes = votesOf(rec);
    if (votes.length === 0) continue;
    recordsWithVotes++;
    const side = sideMap(rec);
    const status = rec.provenance?.status ?? null;
    const resolved = votes.length >= 2 && status !== 'disputed' && rec.provenance ? status ?? (rec.kind === 'paired' ? 'chosen' : null) : null;
    const codes = new Map<number, number>();
    for (const v of votes) {
      const a = idOf(v.annotator);
      const s = (acc[a] ??= { votes: 0, agree: 0, compared: 0, picks: 0, left: 0, ties: 0, skips: 0, times: [] });
      s.votes++;
      const t = Date.parse(v.time);
      if (Number.isFinite(t)) s.times.push(t);
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
      if (code >= 0) codes.set(a, code);
    }
    if (codes.size < 2) continue;
    const raters = [...codes.keys()].sort((x, y) => x - y);
    const cs = raters.map((r) => codes.get(r)!);
    const key = raters.join(',') + ':' + cs.join('');
    let p = patternIndex.get(key);
    if (p === undefined) {
      p = patterns.length;
      patterns.push({ raters, codes: cs });
      patternIndex.set(key, p);
    }
    itemPattern.push(p);
    itemLine.push(line);
  }
  const perAnnotator = annotators.map((annotator, i): AnnotatorStats => {
    const s = acc[i]!;
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
  return { annotators, patterns, itemPattern: Int32Array.from(itemPattern), itemLine: Int32Array.from(itemLine), perAnnotator, recordsWithVotes };
}

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

/** Current field name -> 0 (first) / 1 (second) in the record's original orientation. */
function sideMap(rec: PreferenceRecord): (name: string) => number {
  if (rec.kind === 'candidates') return (n) => (n === 'responses.0' ? 0 : 1);
  const p = rec.provenance;
  if (p?.from_responses) {
    const c = p.from_responses[0];
    return (n) => (n === 'chosen' ? c : 1 - c);
  }
  const flipped = p?.flipped ?? false;
  return (n) => ((n === 'chosen') !== flipped ? 0 : 1);
}

function voteCode(v: Vote, side: (name: string) => number): number {
  if (v.status === 'tie') return 2;
  if (v.status !== null || v.choice === null) return -1;
  const s = side(v.choice);
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

/** Every measure with its bootstrap 95% interval (items resampled with replacement, seeded). */
export function agreementReport(t: VoteTable, options: AgreementOptions = {}): AgreementReport {
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
    mulberry32(seed); // validates the seed; the loop below inlines the same generator
    let state = seed % 4294967296;
    const w = new Float64Array(K);
    // Counts in a small typed array and the item -> pattern map in the narrowest one that holds
    // it (1 MB at a million items and < 256 patterns: cache-resident for the random reads).
    const counts = new Int32Array(K);
    const items = K <= 0x100 ? Uint8Array.from(t.itemPattern) : K <= 0x10000 ? Uint16Array.from(t.itemPattern) : t.itemPattern;
    // floor(u * n / 2^32) = trunc(u * (n * 2^-32)): u * n < 2^53 is exact and scaling by 2^-32 is exact.
    const scale = n * 2.3283064365386963e-10;
    for (let r = 0; r < B; r++) {
      counts.fill(0);
      state = drawCounts(state, n, scale, items, counts);
      for (let k = 0; k < K; k++) w[k] = counts[k]!;
      measures(w).forEach((v, j) => {
        if (v !== null && Number.isFinite(v)) samples[j]!.push(v);
      });
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
 * One resample: n mulberry32 draws from `state` (docs/contracts.md §5, inlined), item
 * floor(next * n / 2^32), its pattern counted. Returns the generator's state after them.
 */
function drawCounts(state: number, n: number, scale: number, items: Uint8Array | Uint16Array | Int32Array, counts: Int32Array): number {
  let s = state | 0; // the same 32 bits as a signed integer (stays a small integer in V8)
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) | 0;
    let x = Math.imul(s ^ (s >>> 15), s | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    counts[items[(((x ^ (x >>> 14)) >>> 0) * scale) | 0]!]!++;
  }
  return s >>> 0;
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

function medianGap(times: number[]): number | null {
  if (times.length < 2) return null;
  const t = times.slice().sort((x, y) => x - y);
  const gaps: number[] = [];
  for (let i = 1; i < t.length; i++) gaps.push((t[i]! - t[i - 1]!) / 1000);
  gaps.sort((x, y) => x - y);
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

import { type EpochPlan, planEpoch } from './sampler';
import type { UsableOptions } from './usable';
import { type Matrix, effectiveBeta, histogram, matrix, offDiagonalMass, softmaxRows } from './weights';
import { mulberry32, range, shuffle } from './prng';
import { TopKIndex } from './topkIndex';

/**
 * What the weight preview and `rpo weights` show: one minibatch formed exactly as the trainer
 * forms it (docs/contracts.md §5) and its contrast matrix, plus dataset-wide numbers. Pure; the
 * host computes the cosine matrix here and the webview recomputes weights from it on every
 * slider move (weights.ts), so an update costs a softmax over at most 64 x 64 entries.
 */

export interface ContrastSettings {
  mode: 'paired' | 'unpaired';
  tau: number;
  beta: number;
  /** Per-device batch size B. */
  batchSize: number;
  numProcesses: number;
  /** The matrix spans the global batch (G x G) instead of rank 0's B x B. */
  globalContrast: boolean;
  similarityBatching: boolean;
  seed: number;
  epoch: number;
  /** Fraction of usable records held out for eval (the last ceil(f * n)). */
  evalSplit: number;
  /** Run config `min_agreement`: records whose vote agreement is below it do not train (absent: 0). */
  minAgreement?: number;
  /** Run config `votes`: which label trains on records with votes (absent: `resolved`). */
  votes?: UsableOptions['votes'];
}

export const DEFAULT_SETTINGS: ContrastSettings = {
  mode: 'paired', tau: 0.5, beta: 0.1, batchSize: 4, numProcesses: 1, globalContrast: false,
  similarityBatching: false, seed: 42, epoch: 0, evalSplit: 0, minAgreement: 0, votes: 'resolved',
};

/** Training items count after the eval split. */
export function trainCount(usable: number, evalSplit: number): number {
  return evalSplit > 0 && usable > 0 ? usable - Math.ceil(evalSplit * usable) : usable;
}

export interface BatchView {
  batchIndex: number;
  batchCount: number;
  shortEpoch: boolean;
  /** Item indices (into the usable list) of the matrix rows (chosen side) and columns (rejected side). */
  rows: number[];
  cols: number[];
  cosine: Matrix;
}

/** The epoch plan over the training items (`vectors`: their L2-normalised rows, n x dim). */
export function planFor(n: number, vectors: Float32Array, dim: number, s: ContrastSettings): EpochPlan {
  return planEpoch(n, {
    seed: s.seed, epoch: s.epoch, batchSize: s.batchSize, numProcesses: s.numProcesses,
    ...(s.similarityBatching ? { similarity: { vectors: vectors.subarray(0, n * dim), dim } } : {}),
  });
}

/**
 * Batch k of the plan as a contrast matrix. Paired: rank 0's slice (or the whole global batch
 * with global contrast), rows and columns the same items. Unpaired: chosen items (label true) x
 * rejected items (label false) of that slice.
 */
export function batchView(plan: EpochPlan, k: number, vectors: Float32Array, dim: number, s: ContrastSettings, labels?: ArrayLike<boolean>): BatchView {
  const batchCount = plan.batches.length;
  if (!batchCount) return { batchIndex: 0, batchCount: 0, shortEpoch: plan.shortEpoch, rows: [], cols: [], cosine: matrix(0, 0) };
  const batchIndex = Math.min(Math.max(0, k), batchCount - 1);
  const items = s.globalContrast ? (plan.batches[batchIndex] as number[]) : ((plan.ranks[batchIndex] as number[][])[0] as number[]);
  let rows = items;
  let cols = items;
  if (s.mode === 'unpaired') {
    if (!labels) throw new RangeError('unpaired preview needs the labels of the items');
    rows = items.filter((i) => labels[i]);
    cols = items.filter((i) => !labels[i]);
  }
  return { batchIndex, batchCount, shortEpoch: plan.shortEpoch, rows, cols, cosine: cosineOf(vectors, dim, rows, cols) };
}

/** Cosine of L2-normalised rows: a float64 dot product. */
export function cosineOf(vectors: Float32Array, dim: number, rows: readonly number[], cols: readonly number[]): Matrix {
  const out = matrix(rows.length, cols.length);
  rows.forEach((r, i) => {
    cols.forEach((c, j) => {
      let s = 0;
      for (let d = 0; d < dim; d++) s += (vectors[r * dim + d] as number) * (vectors[c * dim + d] as number);
      out.data[i * cols.length + j] = s;
    });
  });
  return out;
}

export interface MatrixNumbers {
  weights: Matrix;
  /** Paired only (square): beta * w_ii per row, and their mean. */
  effectiveBeta: number[];
  meanEffectiveBeta: number;
  offDiagonalMass: number;
}

export function matrixNumbers(cosine: Matrix, tau: number, beta: number, paired: boolean): MatrixNumbers {
  const weights = softmaxRows(cosine, tau);
  if (!paired) return { weights, effectiveBeta: [], meanEffectiveBeta: NaN, offDiagonalMass: NaN };
  const eb = effectiveBeta(weights, beta);
  return { weights, effectiveBeta: eb, meanEffectiveBeta: eb.length ? eb.reduce((a, b) => a + b, 0) / eb.length : NaN, offDiagonalMass: offDiagonalMass(weights) };
}

export interface NeighbourHistogram {
  /** Counts over `bins` equal bins of [lo, hi]. */
  counts: number[];
  lo: number;
  hi: number;
  /** Prompts whose nearest neighbour was computed (a seeded sample when the dataset is large). */
  sampled: number;
  /** Distinct prompts in the dataset. */
  total: number;
  mean: number;
  median: number;
}

/**
 * Each distinct prompt's highest cosine to another distinct prompt, as a histogram. Costs
 * sampled * total * dim multiply-adds; `budget` caps that by sampling prompts (seeded).
 */
export function neighbourHistogram(vectors: Float32Array, dim: number, bins = 20, budget = 4e7, seed = 0): NeighbourHistogram {
  const total = Math.floor(vectors.length / dim);
  const maxSample = Math.max(1, Math.floor(budget / Math.max(1, total * dim)));
  const sample = total <= maxSample ? range(total) : shuffle(range(total), mulberry32(seed)).slice(0, maxSample);
  const values: number[] = [];
  const index = TopKIndex.create(vectors, dim);
  for (const row of sample) {
    const hit = index.query(vectors.subarray(row * dim, (row + 1) * dim), 1, { exclude: (i) => i === row });
    if (hit.length) values.push(hit[0]!.cosine);
  }
  const sorted = values.slice().sort((a, b) => a - b);
  return {
    counts: histogram(values, bins, 0, 1), lo: 0, hi: 1, sampled: values.length, total,
    mean: values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN,
    median: sorted.length ? (sorted[Math.floor((sorted.length - 1) / 2)]! + sorted[Math.ceil((sorted.length - 1) / 2)]!) / 2 : NaN,
  };
}

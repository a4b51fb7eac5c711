/**
 * RPO contrast weights (docs/method.md, docs/contracts.md §3): cosine between
 * prompt embeddings, row-wise softmax with temperature, the same-prompt pair's effective beta and
 * the share of weight off the diagonal. Pure and browser-safe: the preview webview imports it.
 * Rows are prompts of the chosen side (i), columns of the rejected side (j).
 */

/** A dense row-major matrix of float64. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

export type Vector = ArrayLike<number>;

export function matrix(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

export function at(m: Matrix, i: number, j: number): number {
  return m.data[i * m.cols + j] as number;
}

export function toRows(m: Matrix): number[][] {
  return Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
}

function dot(a: Vector, b: Vector): number {
  let s = 0;
  for (let d = 0; d < a.length; d++) s += (a[d] as number) * (b[d] as number);
  return s;
}

/** cos_ij = <a_i, b_j> / (|a_i| |b_j|). A zero vector has cosine 0 with everything. */
export function cosineMatrix(a: readonly Vector[], b: readonly Vector[] = a): Matrix {
  const na = a.map((v) => Math.sqrt(dot(v, v)));
  const nb = b === a ? na : b.map((v) => Math.sqrt(dot(v, v)));
  const out = matrix(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b.length; j++) {
      const denom = (na[i] as number) * (nb[j] as number);
      out.data[i * b.length + j] = denom > 0 ? dot(a[i] as Vector, b[j] as Vector) / denom : 0;
    }
  }
  return out;
}

/** w_ij = softmax_j(cos_ij / tau); each non-empty row sums to 1. */
export function softmaxRows(cos: Matrix, tau: number, out: Matrix = matrix(cos.rows, cos.cols)): Matrix {
  if (!(tau > 0)) throw new RangeError(`temperature must be > 0, got ${tau}`);
  const { rows, cols, data } = cos;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) max = Math.max(max, data[o + j] as number);
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(((data[o + j] as number) - max) / tau);
      out.data[o + j] = e;
      sum += e;
    }
    for (let j = 0; j < cols; j++) out.data[o + j] = (out.data[o + j] as number) / sum;
  }
  return out;
}

/** beta * w_ii for every row of a square weight matrix. */
export function effectiveBeta(weights: Matrix, beta: number): number[] {
  return Array.from({ length: Math.min(weights.rows, weights.cols) }, (_, i) => beta * at(weights, i, i));
}

/** (sum of w_ij, i != j) / M = 1 - mean_i w_ii; 0 for an empty or 1 x 1 matrix. */
export function offDiagonalMass(weights: Matrix): number {
  const m = Math.min(weights.rows, weights.cols);
  if (!m) return 0;
  let diag = 0;
  for (let i = 0; i < m; i++) diag += at(weights, i, i);
  return 1 - diag / m;
}

export interface ContrastSummary {
  cosine: Matrix;
  weights: Matrix;
  /** Paired (square) only: beta * w_ii per row. */
  effectiveBeta: number[];
  /** Paired (square) only. */
  offDiagonalMass: number;
}

/** Everything the preview shows for one paired minibatch. */
export function pairedContrast(prompts: readonly Vector[], tau: number, beta: number): ContrastSummary {
  const cosine = cosineMatrix(prompts);
  const weights = softmaxRows(cosine, tau);
  return { cosine, weights, effectiveBeta: effectiveBeta(weights, beta), offDiagonalMass: offDiagonalMass(weights) };
}

/** Chosen-prompt x rejected-prompt weights for unpaired data (softmax over the rejected axis). */
export function unpairedContrast(chosen: readonly Vector[], rejected: readonly Vector[], tau: number): { cosine: Matrix; weights: Matrix } {
  const cosine = cosineMatrix(chosen, rejected);
  return { cosine, weights: softmaxRows(cosine, tau) };
}

/** Counts of values in `bins` equal-width bins over [lo, hi] (values outside are clamped). */
export function histogram(values: ArrayLike<number>, bins: number, lo = -1, hi = 1): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (let k = 0; k < values.length; k++) {
    const x = values[k] as number;
    if (Number.isNaN(x)) continue;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(((x - lo) / (hi - lo)) * bins)));
    counts[b] = (counts[b] as number) + 1;
  }
  return counts;
}

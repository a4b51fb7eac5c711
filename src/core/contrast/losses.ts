import type { RunMethod } from '../run/config';
import { type Matrix, at } from './weights';

/**
 * The preference losses the trainer offers, written from the math in docs/method.md.
 * The trainer computes them in PyTorch; these exist so the golden file checks both sides and
 * the preview can show what a batch would cost. Inputs are log-ratios (policy minus reference
 * log-probs, summed over response tokens).
 */

/** -log(sigmoid(x)) = softplus(-x), stable for any |x|. */
export function negLogSigmoid(x: number): number {
  return x >= 0 ? Math.log1p(Math.exp(-x)) : -x + Math.log1p(Math.exp(x));
}

/**
 * -log sigmoid(x) with label smoothing from the votes (conservative DPO, Mitchell 2023):
 * (1 - eps) * -log sigmoid(x) + eps * -log sigmoid(-x); eps = 0 is negLogSigmoid exactly.
 */
export function smoothedNegLogSigmoid(x: number, eps: number): number {
  return eps === 0 ? negLogSigmoid(x) : (1 - eps) * negLogSigmoid(x) + eps * negLogSigmoid(-x);
}

/** The paired methods of the method table (trainer/rpo_trainer/schemas/methods.json): a new one fails the switch below until its loss is written. */
export type PairedLossName = Exclude<RunMethod, 'rpo-unpaired'>;

export interface PairedLossInput {
  /** r_w,i for i < M */
  chosen: ArrayLike<number>;
  /** r_l,j for j < M */
  rejected: ArrayLike<number>;
  beta: number;
  /** M x M softmax weights (rpo only). */
  weights?: Matrix;
  /** a of rpo-diagonal (default 0.8). */
  diagonalWeight?: number;
  /** Label smoothing eps_i of each row (from the votes); every term of row i uses it. Absent: 0. */
  eps?: ArrayLike<number>;
}

/** Mean over the batch of the chosen loss; 0 for an empty batch. */
export function pairedLoss(name: PairedLossName, x: PairedLossInput): number {
  const m = x.chosen.length;
  if (x.rejected.length !== m) throw new RangeError(`paired batch: ${m} chosen but ${x.rejected.length} rejected`);
  if (!m) return 0;
  const s = (i: number, j: number) => (x.chosen[i] as number) - (x.rejected[j] as number);
  if (x.eps && x.eps.length !== m) throw new RangeError(`paired batch: ${m} rows but ${x.eps.length} eps`);
  const e = (i: number) => (x.eps ? (x.eps[i] as number) : 0);
  const l = (i: number, j: number) => smoothedNegLogSigmoid(x.beta * s(i, j), e(i));
  let total = 0;
  switch (name) {
    case 'dpo':
      for (let i = 0; i < m; i++) total += l(i, i);
      return total / m;
    case 'ipo':
      for (let i = 0; i < m; i++) {
        const h = 1 / (2 * x.beta);
        total += e(i) === 0 ? (s(i, i) - h) ** 2 : (1 - e(i)) * (s(i, i) - h) ** 2 + e(i) * (s(i, i) + h) ** 2;
      }
      return total / m;
    case 'rpo-uniform':
      for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) total += l(i, j);
      return total / (m * m);
    case 'rpo': {
      const w = x.weights;
      if (!w || w.rows !== m || w.cols !== m) throw new RangeError(`rpo needs an ${m} x ${m} weight matrix`);
      for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) total += smoothedNegLogSigmoid(x.beta * at(w, i, j) * s(i, j), e(i));
      return total / (m * m);
    }
    case 'rpo-diagonal': {
      const a = x.diagonalWeight ?? 0.8;
      for (let i = 0; i < m; i++) {
        if (m === 1) {
          total += l(i, i); // no off-diagonal pair: the diagonal term alone
          continue;
        }
        let off = 0;
        for (let j = 0; j < m; j++) if (j !== i) off += l(i, j);
        total += a * l(i, i) + (1 - a) * (off / (m - 1));
      }
      return total / m;
    }
    default: {
      const never: never = name;
      throw new RangeError(`unknown loss ${String(never)}`);
    }
  }
}

/**
 * rpo-unpaired: mean over (i, j) of -log sigmoid(beta * w_ij * (r_w,i - r_l,j)) with an
 * Mc x Nr weight matrix. A batch with no chosen or no rejected item contributes 0. With label
 * smoothing, each item has its eps and the term (i, j) uses (eps_i + eps_j) / 2.
 */
export function unpairedLoss(
  chosen: ArrayLike<number>,
  rejected: ArrayLike<number>,
  weights: Matrix,
  beta: number,
  eps?: { chosen: ArrayLike<number>; rejected: ArrayLike<number> },
): number {
  const mc = chosen.length;
  const nr = rejected.length;
  if (!mc || !nr) return 0;
  if (weights.rows !== mc || weights.cols !== nr) throw new RangeError(`unpaired batch: weights ${weights.rows} x ${weights.cols}, expected ${mc} x ${nr}`);
  if (eps && (eps.chosen.length !== mc || eps.rejected.length !== nr)) throw new RangeError(`unpaired batch: eps for ${eps.chosen.length} x ${eps.rejected.length}, expected ${mc} x ${nr}`);
  let total = 0;
  for (let i = 0; i < mc; i++) {
    for (let j = 0; j < nr; j++) {
      const e = eps ? ((eps.chosen[i] as number) + (eps.rejected[j] as number)) / 2 : 0;
      total += smoothedNegLogSigmoid(beta * at(weights, i, j) * ((chosen[i] as number) - (rejected[j] as number)), e);
    }
  }
  return total / (mc * nr);
}

import { mulberry32 } from '../contrast/prng';

/**
 * The win-rate statistics (docs/evaluate.md, "How the win rate is computed"). Pure; checked
 * against statsmodels / scikit-learn on the numbers of test/golden/winrate.json.
 *
 * An outcome is 1 (A's answer preferred), 0 (B's) or 0.5 (a tie; `both_bad` counts as a tie).
 */

/** The 97.5% quantile of the standard normal (scipy.stats.norm.isf(0.025)). */
export const Z95 = 1.959963984540054;

/**
 * Wilson score interval of `successes` out of `n` at 95% (statsmodels
 * `proportion_confint(successes, n, method="wilson")`); `successes` may be fractional (ties count
 * half). Null for n = 0.
 */
export function wilson(successes: number, n: number): [number, number] | null {
  if (n <= 0) return null;
  const p = successes / n;
  const z2 = Z95 * Z95;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [center - half, center + half];
}

/**
 * Percentile bootstrap 95% interval of the mean outcome: `resamples` resamples of the n outcomes
 * with replacement, index `floor(next() * n / 2^32)` from mulberry32(seed), n draws per
 * resample; the 2.5th and 97.5th percentiles of the resampled win rates with linear
 * interpolation (numpy's default). Null for n = 0 or no resamples.
 */
export function bootstrapInterval(outcomes: readonly number[], resamples: number, seed: number): [number, number] | null {
  const n = outcomes.length;
  if (n === 0 || resamples <= 0) return null;
  const next = mulberry32(seed);
  const values = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += outcomes[Math.floor((next() * n) / 4294967296)]!;
    values[b] = sum / n;
  }
  values.sort();
  const q = (p: number) => {
    const h = (resamples - 1) * p;
    const lo = Math.floor(h);
    const hi = Math.min(lo + 1, resamples - 1);
    return values[lo]! + (h - lo) * (values[hi]! - values[lo]!);
  };
  return [q(0.025), q(0.975)];
}

export interface LengthControlled {
  /** sigmoid(intercept): the predicted win rate of A at equal length; null when not estimable. */
  value: number | null;
  /** sigmoid(intercept ± 1.96 · se(intercept)): Wald interval on the logit scale. */
  ci: [number, number] | null;
  intercept: number | null;
  /** Coefficient of tanh(d / sd): how much a longer answer moves the preference. */
  slope: number | null;
  /** Population standard deviation of the length differences (characters) used to scale d. */
  scale: number | null;
  /** Why the value is null: 'no judgements', 'one outcome only', 'length difference does not vary', 'no convergence' (outcomes separated by length, or no pair near equal length: the fit runs off). */
  reason: string | null;
}

/**
 * Length-controlled win rate, after AlpacaEval 2's length-controlled win rate (Dubois et al.
 * 2024) reduced to one comparison: a logistic regression of the preference for A on
 * x = tanh(d / sd), d = length of A's answer minus length of B's (Unicode code points of the
 * answer text), sd their population standard deviation over the judged records; a win is
 * y = 1 (weight 1), a loss y = 0 (weight 1), a tie two rows y = 1 and y = 0 of weight 1/2
 * (statsmodels GLM Binomial with freq_weights). The reported value is the fitted win rate at
 * equal length, sigmoid(intercept). Fitted by Newton-Raphson (IRLS) to a step below 1e-12.
 */
export function lengthControlled(outcomes: readonly number[], lengthDiffs: readonly number[]): LengthControlled {
  const none = (reason: string, scale: number | null = null): LengthControlled => ({ value: null, ci: null, intercept: null, slope: null, scale, reason });
  const n = outcomes.length;
  if (n === 0) return none('no judgements');
  const mean = lengthDiffs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(lengthDiffs.reduce((a, d) => a + (d - mean) * (d - mean), 0) / n);
  // Rows (x, y, w).
  const xs: number[] = [];
  const ys: number[] = [];
  const ws: number[] = [];
  let w1 = 0;
  let w0 = 0;
  for (let i = 0; i < n; i++) {
    const x = sd > 0 ? Math.tanh(lengthDiffs[i]! / sd) : 0;
    const o = outcomes[i]!;
    if (o > 0) {
      xs.push(x); ys.push(1); ws.push(o); w1 += o;
    }
    if (o < 1) {
      xs.push(x); ys.push(0); ws.push(1 - o); w0 += 1 - o;
    }
  }
  if (w1 === 0 || w0 === 0) return none('one outcome only', sd);
  if (!(sd > 0)) return none('length difference does not vary', sd);
  let b0 = 0;
  let b1 = 0;
  let h00 = 0, h01 = 0, h11 = 0;
  let converged = false;
  for (let iter = 0; iter < 100; iter++) {
    let g0 = 0, g1 = 0;
    h00 = 0; h01 = 0; h11 = 0;
    for (let k = 0; k < xs.length; k++) {
      const x = xs[k]!;
      const p = 1 / (1 + Math.exp(-(b0 + b1 * x)));
      const r = ws[k]! * (ys[k]! - p);
      const v = ws[k]! * p * (1 - p);
      g0 += r; g1 += r * x;
      h00 += v; h01 += v * x; h11 += v * x * x;
    }
    const det = h00 * h11 - h01 * h01;
    if (!(det > 0)) break;
    const d0 = (h11 * g0 - h01 * g1) / det;
    const d1 = (h00 * g1 - h01 * g0) / det;
    b0 += d0;
    b1 += d1;
    if (Math.abs(b0) > 30 || Math.abs(b1) > 30) break;
    if (Math.abs(d0) < 1e-12 && Math.abs(d1) < 1e-12) {
      converged = true;
      break;
    }
  }
  if (!converged) return none('no convergence', sd);
  // Standard error from the information at the estimate (recomputed there).
  h00 = 0; h01 = 0; h11 = 0;
  for (let k = 0; k < xs.length; k++) {
    const x = xs[k]!;
    const p = 1 / (1 + Math.exp(-(b0 + b1 * x)));
    const v = ws[k]! * p * (1 - p);
    h00 += v; h01 += v * x; h11 += v * x * x;
  }
  const se0 = Math.sqrt(h11 / (h00 * h11 - h01 * h01));
  const sig = (t: number) => 1 / (1 + Math.exp(-t));
  return { value: sig(b0), ci: [sig(b0 - Z95 * se0), sig(b0 + Z95 * se0)], intercept: b0, slope: b1, scale: sd, reason: null };
}

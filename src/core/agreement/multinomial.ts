/**
 * Exact binomial and multinomial draws from a seeded uniform source (docs/agreement.md,
 * "Bootstrap"). Pure.
 *
 * `binomialDraw(n, p, uniform)`: with q = min(p, 1 - p) (a draw for p > 1/2 is n minus a draw
 * for 1 - p),
 * - n·q >= 10: BTRD (W. Hörmann, "The generation of binomial random variates", J. Statist.
 *   Comput. Simul. 46, 1993): exact rejection from a transformed-rejection hat, O(1) uniforms;
 * - n·q < 10: inversion by sequential search from 0 (the pmf by its recurrence), O(n·q) uniforms.
 * Both are exact up to floating point: no normal approximation. Hand-written: the npm package
 * that has both (@stdlib/random-base-binomial 0.2.2, with a `prng` option) failed the chi-square
 * test of test/unit/agreement/multinomial.test.ts (Binomial(60, 0.4): chi-square 4172 on 31 df;
 * its BTRD multiplies the pmf ratio for i = m and i = k too, where the paper starts at m + 1 and
 * k + 1), and its small-mean branch sums n Bernoulli trials (n uniforms: too slow at n = 10^6).
 */

/** A uniform source on (0, 1). */
export type Uniform = () => number;

/** Uniforms (u + 1/2) / 2^32 from a 32-bit generator (never 0 or 1: logs stay finite). */
export function uniformOf(next32: () => number): Uniform {
  return () => (next32() + 0.5) * 2.3283064365386963e-10;
}

/** One Binomial(n, p) draw (n a non-negative integer, p in [0, 1]). */
export function binomialDraw(n: number, p: number, uniform: Uniform): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomialDraw(n, 1 - p, uniform);
  if (n * p >= 10) return btrd(n, p, uniform);
  return inversion(n, p, uniform);
}

/** Binomial(n, p), p <= 1/2, n·p < 10: the smallest x with u < P(X <= x). */
function inversion(n: number, p: number, uniform: Uniform): number {
  const q = 1 - p;
  const s = p / q;
  const a = (n + 1) * s;
  let r = Math.exp(n * Math.log1p(-p)); // P(X = 0)
  const r0 = r;
  for (;;) {
    let u = uniform();
    let x = 0;
    r = r0;
    while (u > r && x < n) {
      u -= r;
      x++;
      r *= a / x - s; // P(X = x) / P(X = x - 1) = (n - x + 1) p / (x q)
    }
    // Rounding can leave u above the (tiny) tail: start again past 110 (mean < 10; as GSL's BINV).
    if (x <= 110) return x;
  }
}

/** Stirling's series correction fc(k) = ln k! - ln sqrt(2 pi) - (k + 1/2) ln(k + 1) + k + 1. */
const FC_SMALL = Array.from({ length: 10 }, (_, k) => {
  let lnFact = 0;
  for (let i = 2; i <= k; i++) lnFact += Math.log(i);
  return lnFact - 0.5 * Math.log(2 * Math.PI) - (k + 0.5) * Math.log(k + 1) + k + 1;
});
function fc(k: number): number {
  if (k < 10) return FC_SMALL[k]!;
  const r = 1 / (k + 1);
  const r2 = r * r;
  return (1 / 12 - (1 / 360 - r2 / 1260) * r2) * r;
}

/** BTRD (Hörmann 1993, steps 0-3.4) for p <= 1/2, n·p >= 10. */
function btrd(n: number, p: number, uniform: Uniform): number {
  const q = 1 - p;
  const m = Math.floor((n + 1) * p);
  const r = p / q;
  const nr = (n + 1) * r;
  const npq = n * p * q;
  const spq = Math.sqrt(npq);
  const b = 1.15 + 2.53 * spq;
  const a = -0.0873 + 0.0248 * b + 0.01 * p;
  const c = n * p + 0.5;
  const alpha = (2.83 + 5.1 / b) * spq;
  const vr = 0.92 - 4.2 / b;
  const urvr = 0.86 * vr;
  for (;;) {
    let v = uniform();
    let u: number;
    if (v <= urvr) {
      u = v / vr - 0.43;
      return Math.floor(((2 * a) / (0.5 - Math.abs(u)) + b) * u + c);
    }
    if (v >= vr) u = uniform() - 0.5;
    else {
      u = v / vr - 0.93;
      u = Math.sign(u) * 0.5 - u;
      v = uniform() * vr;
    }
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + c);
    if (k < 0 || k > n) continue;
    v = (v * alpha) / (a / (us * us) + b);
    const km = Math.abs(k - m);
    if (km <= 15) {
      // 3.1: f(k) / f(m) by the recurrence f(i) / f(i - 1) = nr / i - r.
      let f = 1;
      if (m < k) for (let i = m + 1; i <= k; i++) f *= nr / i - r;
      else if (m > k) for (let i = k + 1; i <= m; i++) v *= nr / i - r;
      if (v <= f) return k;
      continue;
    }
    // 3.2-3.4: squeeze, then the log of f(k) / f(m) by Stirling.
    v = Math.log(v);
    const rho = (km / npq) * (((km / 3 + 0.625) * km + 1 / 6) / npq + 0.5);
    const t = (-km * km) / (2 * npq);
    if (v < t - rho) return k;
    if (v > t + rho) continue;
    const nm = n - m + 1;
    const h = (m + 0.5) * Math.log((m + 1) / (r * nm)) + fc(m) + fc(n - m);
    const nk = n - k + 1;
    if (v <= h + (n + 1) * Math.log(nm / nk) + (k + 0.5) * Math.log((nk * r) / (k + 1)) - fc(k) - fc(n - k)) return k;
  }
}

/**
 * One Multinomial(n, counts / total) draw into `out` (out[k] for category k) by conditional
 * binomials: out[k] ~ Binomial(n - sum_{j<k} out[j], counts[k] / (total - sum_{j<k} counts[j])),
 * in index order; the last category with a count takes what is left.
 */
export function multinomialDraw(n: number, counts: ArrayLike<number>, total: number, uniform: Uniform, out: Int32Array | Float64Array): void {
  let left = n;
  let rest = total;
  const K = counts.length;
  for (let k = 0; k < K; k++) {
    const c = counts[k]!;
    if (left === 0 || c <= 0) {
      out[k] = 0;
      rest -= c > 0 ? c : 0;
      continue;
    }
    const x = c >= rest ? left : binomialDraw(left, c / rest, uniform);
    out[k] = x;
    left -= x;
    rest -= c;
  }
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../../src/core/contrast/prng';
import { binomialDraw, multinomialDraw, uniformOf } from '../../../src/core/agreement/multinomial';
import { agreementReport, drawsPatterns, fleissKappa, fleissRaters, logGamma, multinomialResampleCounts, percentAgreement, resampleCounts, type Estimate, type Pattern, type VoteTable } from '../../../src/core/agreement';

/**
 * The bootstrap's multinomial draws (docs/agreement.md, "Bootstrap"): the binomial sampler against
 * the binomial distribution (exact pmf by chi-square, mean and variance), and the multinomial
 * bootstrap against the item-resampling bootstrap on the same table at large B.
 */

/** Binomial(n, p) pmf, from log-gamma (n small here: logGamma sums logs exactly enough). */
function pmf(n: number, p: number): number[] {
  return Array.from({ length: n + 1 }, (_, k) => Math.exp(logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p)));
}

/** Pearson chi-square of observed counts against the pmf, tail bins merged until each expects >= 5. */
function chiSquare(observed: number[], probs: number[], N: number): { chi2: number; df: number } {
  const bins: [number, number][] = [];
  let o = 0;
  let e = 0;
  for (let k = 0; k < probs.length; k++) {
    o += observed[k] ?? 0;
    e += probs[k]! * N;
    if (e >= 5) {
      bins.push([o, e]);
      o = 0;
      e = 0;
    }
  }
  if (bins.length && (o || e)) {
    const last = bins[bins.length - 1]!;
    last[0] += o;
    last[1] += e;
  }
  let chi2 = 0;
  for (const [ob, ex] of bins) chi2 += (ob - ex) ** 2 / ex;
  return { chi2, df: bins.length - 1 };
}

for (const [n, p, regime] of [
  [20, 0.3, 'inversion'],
  [25, 0.8, 'inversion of 1 - p'],
  [60, 0.4, 'BTRD'],
  [400, 0.55, 'BTRD of 1 - p'],
  [3, 0.5, 'inversion, tiny n'],
] as const) {
  test(`binomial draws follow the Binomial(${n}, ${p}) pmf (${regime}): chi-square`, () => {
    const u = uniformOf(mulberry32(12345 + n));
    const N = 200_000;
    const observed = new Array<number>(n + 1).fill(0);
    for (let i = 0; i < N; i++) {
      const x = binomialDraw(n, p, u);
      assert.ok(Number.isInteger(x) && x >= 0 && x <= n, `draw ${x}`);
      observed[x]!++;
    }
    const { chi2, df } = chiSquare(observed, pmf(n, p), N);
    // df + 5 sd of the chi-square distribution: about a 1e-5 false alarm, seeded (deterministic).
    assert.ok(chi2 < df + 5 * Math.sqrt(2 * df), `chi2 ${chi2.toFixed(1)} on ${df} df`);
  });
}

test('binomial draws at n = 10^6: mean n·p and variance n·p·(1-p)', () => {
  for (const p of [3e-6, 2e-5, 0.2, 0.5, 0.99999]) {
    const n = 1_000_000;
    const u = uniformOf(mulberry32(7));
    const N = 20_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < N; i++) {
      const x = binomialDraw(n, p, u);
      s += x;
      s2 += x * x;
    }
    const mean = s / N;
    const variance = (s2 - N * mean * mean) / (N - 1);
    const v = n * p * (1 - p);
    assert.ok(Math.abs(mean - n * p) < 5 * Math.sqrt(v / N), `p ${p}: mean ${mean} vs ${n * p}`);
    assert.ok(Math.abs(variance / v - 1) < 5 * Math.sqrt(2 / N) + 0.02, `p ${p}: variance ${variance} vs ${v}`);
  }
  const u = uniformOf(mulberry32(1));
  assert.equal(binomialDraw(0, 0.3, u), 0);
  assert.equal(binomialDraw(10, 0, u), 0);
  assert.equal(binomialDraw(10, 1, u), 10);
});

test('multinomial draws: counts sum to n, each count Binomial(n, share) in mean and variance', () => {
  const shares = [500, 3, 120, 0, 40, 337];
  const total = 1000;
  const n = 1000;
  const u = uniformOf(mulberry32(99));
  const N = 20_000;
  const out = new Int32Array(shares.length);
  const s = new Float64Array(shares.length);
  const s2 = new Float64Array(shares.length);
  for (let i = 0; i < N; i++) {
    multinomialDraw(n, shares, total, u, out);
    assert.equal(out.reduce((a, b) => a + b, 0), n);
    out.forEach((x, k) => {
      s[k]! += x;
      s2[k]! += x * x;
    });
  }
  shares.forEach((c, k) => {
    const p = c / total;
    const mean = s[k]! / N;
    const variance = (s2[k]! - N * mean * mean) / (N - 1);
    const v = n * p * (1 - p);
    if (v === 0) assert.equal(variance, 0);
    else {
      assert.ok(Math.abs(mean - n * p) < 5 * Math.sqrt(v / N), `pattern ${k}: mean ${mean} vs ${n * p}`);
      assert.ok(Math.abs(variance / v - 1) < 0.1, `pattern ${k}: variance ${variance} vs ${v}`);
    }
  });
});

/** Three annotators, 2400 items over 18 patterns (some with a missing rating), moderate agreement. */
function table(): VoteTable {
  const spec: [number[], number[], number][] = [
    [[0, 1, 2], [0, 0, 0], 520],
    [[0, 1, 2], [4, 4, 4], 410],
    [[0, 1, 2], [0, 1, 0], 180],
    [[0, 1, 2], [3, 4, 3], 160],
    [[0, 1, 2], [0, 4, 0], 120],
    [[0, 1, 2], [4, 0, 4], 95],
    [[0, 1, 2], [2, 2, 2], 60],
    [[0, 1, 2], [2, 0, 0], 70],
    [[0, 1, 2], [3, 2, 4], 55],
    [[0, 1, 2], [5, 0, 6], 40],
    [[0, 1, 2], [1, 3, 2], 30],
    [[0, 1], [0, 0], 220],
    [[0, 1], [4, 0], 90],
    [[1, 2], [3, 3], 150],
    [[1, 2], [2, 4], 60],
    [[0, 2], [1, 1], 100],
    [[0, 2], [6, 0], 35],
    [[0, 1, 2], [6, 6, 5], 5],
  ];
  const patterns: Pattern[] = spec.map(([raters, codes]) => ({ raters, codes }));
  const n = spec.reduce((s, x) => s + x[2], 0);
  const itemPattern = new Int32Array(n);
  // Items interleaved (pattern order is not item order).
  const left = spec.map((x) => x[2]);
  for (let i = 0, k = 0; i < n; k = (k + 1) % spec.length) {
    if (left[k]! > 0) {
      left[k]!--;
      itemPattern[i++] = k;
    }
  }
  return { annotators: ['a', 'b', 'c'], patterns, itemPattern, itemLine: Int32Array.from(itemPattern, (_, i) => i), perAnnotator: [], recordsWithVotes: n };
}

function meanSd(values: number[]): [number, number] {
  const m = values.reduce((s, x) => s + x, 0) / values.length;
  return [m, Math.sqrt(values.reduce((s, x) => s + (x - m) ** 2, 0) / (values.length - 1))];
}

test('multinomial bootstrap equals the item-resampling bootstrap in distribution (B = 4000, seeded)', () => {
  const t = table();
  const n = t.itemPattern.length;
  const K = t.patterns.length;
  assert.ok(drawsPatterns(n, K));
  assert.ok(!drawsPatterns(K * 16 - 1, K));
  const B = 4000;
  const full = new Float64Array(K);
  for (const k of t.itemPattern) full[k]!++;
  const multi = multinomialResampleCounts(full, 3, B);
  const items = resampleCounts(t.itemPattern, K, 4, 0, B);
  const m = fleissRaters(t);
  const stats = (counts: Int32Array, f: (w: Float64Array) => number | null): number[] => {
    const out: number[] = [];
    const w = new Float64Array(K);
    for (let r = 0; r < B; r++) {
      for (let k = 0; k < K; k++) w[k] = counts[r * K + k]!;
      out.push(f(w)!);
    }
    return out;
  };
  for (const [name, f] of [
    ['percent agreement', (w: Float64Array) => percentAgreement(t, w)],
    ['fleiss', (w: Float64Array) => fleissKappa(t, w, m).kappa],
  ] as const) {
    const [m1, s1] = meanSd(stats(multi, f));
    const [m2, s2] = meanSd(stats(items, f));
    // Means: 5 standard errors of the difference; spreads: within 10% (sd of an sd estimate ~1.1% at B = 4000).
    assert.ok(Math.abs(m1 - m2) < 5 * Math.sqrt((s1 * s1 + s2 * s2) / B), `${name}: mean ${m1} vs ${m2} (sd ${s2})`);
    assert.ok(Math.abs(s1 / s2 - 1) < 0.1, `${name}: sd ${s1} vs ${s2}`);
  }
  // The reports' intervals: within 0.4 bootstrap sd (a 2.5% percentile at B = 4000 has an error of about 0.06 sd).
  const a = agreementReport(t, { resamples: B, seed: 3 });
  const b = agreementReport(t, { resamples: B, seed: 4 }, items);
  const pairs: [string, Estimate, Estimate][] = [
    ['percentAgreement', a.percentAgreement, b.percentAgreement],
    ['fleiss', a.fleiss.kappa, b.fleiss.kappa],
    ['alphaNominal', a.alphaNominal, b.alphaNominal],
    ['alphaOrdinal', a.alphaOrdinal, b.alphaOrdinal],
    ...a.cohen.map((c, i): [string, Estimate, Estimate] => [`cohen ${c.a}/${c.b}`, c.kappa, b.cohen[i]!.kappa]),
  ];
  for (const [name, x, y] of pairs) {
    assert.equal(x.value, y.value, name);
    const sd = (y.ci![1] - y.ci![0]) / 3.92;
    assert.ok(Math.abs(x.ci![0] - y.ci![0]) < 0.4 * sd && Math.abs(x.ci![1] - y.ci![1]) < 0.4 * sd, `${name}: [${x.ci}] vs [${y.ci}]`);
  }
  // agreementReport draws exactly multinomialResampleCounts' counts.
  assert.deepEqual(agreementReport(t, { resamples: 300, seed: 8 }), agreementReport(t, { resamples: 300, seed: 8 }, multinomialResampleCounts(full, 8, 300)));
});

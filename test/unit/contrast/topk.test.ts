import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { topK, TopKIndex, nearestNeighbourCosines, planEpoch, softmaxRows, cosineMatrix, histogram, mulberry32 } from '../../../src/core/contrast';

function randomUnitVectors(n: number, dim: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  const v = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      const x = rng() / 2 ** 32 - 0.5;
      v[i * dim + d] = x;
      norm += x * x;
    }
    for (let d = 0; d < dim; d++) v[i * dim + d] = (v[i * dim + d] as number) / Math.sqrt(norm);
  }
  return v;
}

test('topK equals a brute-force sort (dims not a multiple of 4, exclusion, k > n)', () => {
  const dim = 7;
  const v = randomUnitVectors(300, dim, 5);
  const q = v.subarray(3 * dim, 4 * dim);
  const brute = Array.from({ length: 300 }, (_, i) => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += (v[i * dim + d] as number) * (q[d] as number);
    return { index: i, cosine: s };
  }).filter((x) => x.index !== 3).sort((a, b) => b.cosine - a.cosine || a.index - b.index);
  const got = topK(v, dim, q, 10, { exclude: (i) => i === 3 });
  assert.deepEqual(got.map((g) => g.index), brute.slice(0, 10).map((b) => b.index));
  got.forEach((g, r) => assert.ok(Math.abs(g.cosine - (brute[r] as { cosine: number }).cosine) < 1e-9));
  assert.equal(topK(v.subarray(0, 2 * dim), dim, q, 10).length, 2);
  assert.throws(() => topK(v, dim, [1, 2], 3), /query has 2 dims/);
});

test('nearest-neighbour cosine of a duplicated row is 1', () => {
  const dim = 5;
  const v = randomUnitVectors(20, dim, 9);
  v.copyWithin(7 * dim, 2 * dim, 3 * dim);
  const nn = nearestNeighbourCosines(v, dim, [2, 7, 11]);
  assert.ok(Math.abs((nn[0] as number) - 1) < 1e-6 && Math.abs((nn[1] as number) - 1) < 1e-6);
  assert.ok((nn[2] as number) < 1);
  assert.deepEqual(histogram([-1, 0, 0.99, 1, 5], 4), [1, 0, 1, 3]);
});

test('sampler property: every epoch plan partitions a subset of records, batches have size G (or all, when short)', () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 120 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 4 }),
    fc.integer({ min: 0, max: 2 ** 32 + 10 }), fc.boolean(),
    (n, b, p, seed, similar) => {
      const g = b * p;
      const plan = planEpoch(n, { seed, epoch: 1, batchSize: b, numProcesses: p, ...(similar ? { similarity: { vectors: randomUnitVectors(n, 3, seed % 1000), dim: 3 } } : {}) });
      const seen = plan.batches.flat();
      assert.equal(new Set(seen).size, seen.length);
      if (n < g) assert.deepEqual(plan.batches.map((x) => x.length), n ? [n] : []);
      else {
        assert.ok(plan.batches.every((x) => x.length === g));
        assert.equal(plan.batches.length, Math.floor(n / g));
      }
      plan.ranks.forEach((ranks, k) => assert.deepEqual(ranks.flat(), plan.batches[k]));
    },
  ), { numRuns: 200 });
});

test('bad input: temperature and batch size are checked', () => {
  assert.throws(() => softmaxRows(cosineMatrix([[1, 0]]), 0), /temperature must be > 0/);
  assert.throws(() => planEpoch(5, { seed: 1, epoch: 0, batchSize: 0, numProcesses: 1 }), /batchSize must be an integer >= 1/);
  assert.throws(() => planEpoch(5, { seed: -1, epoch: 0, batchSize: 2, numProcesses: 1 }), /seed/);
  // a zero vector (e.g. an embedding never filled) gives cosine 0, not NaN
  const w = softmaxRows(cosineMatrix([[0, 0], [1, 0]]), 0.5);
  assert.ok(Array.from(w.data).every(Number.isFinite));
});

test('TopKIndex (WebAssembly SIMD) ranks like the scalar topK; falls back for dims not a multiple of 8', () => {
  const dim = 384;
  const v = randomUnitVectors(3000, dim, 11);
  const index = TopKIndex.create(v, dim);
  assert.equal(index.accelerated, true, 'Node 20 has WebAssembly SIMD');
  for (const row of [0, 17, 2999]) {
    const q = v.subarray(row * dim, (row + 1) * dim);
    const fast = index.query(q, 20, { exclude: (i) => i === row });
    const slow = topK(v, dim, q, 20, { exclude: (i) => i === row });
    assert.deepEqual(fast.map((h) => h.index), slow.map((h) => h.index));
    fast.forEach((h, r) => assert.ok(Math.abs(h.cosine - slow[r]!.cosine) < 1e-5, `f32 accumulation within 1e-5: ${h.cosine} vs ${slow[r]!.cosine}`));
  }
  assert.equal(index.query(v.subarray(0, dim), 5000).length, 3000);
  const odd = TopKIndex.create(randomUnitVectors(50, 6, 3), 6);
  assert.equal(odd.accelerated, false);
  assert.equal(odd.query([1, 0, 0, 0, 0, 0], 3).length, 3);
  assert.throws(() => index.query([1, 2, 3], 1), /query has 3 dims/);
});

/**
 * Top-k nearest prompts by cosine over a cache of L2-normalised vectors (N x D, row-major
 * Float32Array): a dot product per row and a small sorted buffer of the best k. About
 * N * D multiply-adds; 100,000 x 384 takes tens of milliseconds in V8 (bench/embeddings.ts).
 */

export interface Neighbour {
  index: number;
  cosine: number;
}

export interface TopKOptions {
  /** Rows to leave out (e.g. the query itself and its duplicates by key). */
  exclude?: (index: number) => boolean;
}

/** The k rows of `vectors` with the highest dot product with `query`, best first (ties: lower index). */
export function topK(vectors: Float32Array, dim: number, query: ArrayLike<number>, k: number, options: TopKOptions = {}): Neighbour[] {
  if (query.length !== dim) throw new RangeError(`query has ${query.length} dims, vectors have ${dim}`);
  const n = Math.floor(vectors.length / dim);
  k = Math.max(0, Math.min(k, n));
  const bestIdx = new Int32Array(k);
  const bestCos = new Float64Array(k).fill(-Infinity);
  let filled = 0;
  const q = Float32Array.from(query);
  const exclude = options.exclude;
  const d4 = dim - (dim % 4);
  for (let i = 0, off = 0; i < n; i++, off += dim) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let d = 0;
    for (; d < d4; d += 4) {
      s0 += (vectors[off + d] as number) * (q[d] as number);
      s1 += (vectors[off + d + 1] as number) * (q[d + 1] as number);
      s2 += (vectors[off + d + 2] as number) * (q[d + 2] as number);
      s3 += (vectors[off + d + 3] as number) * (q[d + 3] as number);
    }
    for (; d < dim; d++) s0 += (vectors[off + d] as number) * (q[d] as number);
    const s = s0 + s1 + s2 + s3;
    if (filled === k && !(s > (bestCos[k - 1] as number))) continue;
    if (exclude && exclude(i)) continue;
    // insertion into the sorted buffer (k is small)
    let p = filled < k ? filled++ : k - 1;
    while (p > 0 && (bestCos[p - 1] as number) < s) {
      bestCos[p] = bestCos[p - 1] as number;
      bestIdx[p] = bestIdx[p - 1] as number;
      p--;
    }
    bestCos[p] = s;
    bestIdx[p] = i;
  }
  return Array.from({ length: filled }, (_, r) => ({ index: bestIdx[r] as number, cosine: bestCos[r] as number }));
}

/**
 * Each row's highest cosine to any other row (its nearest neighbour), for rows `sample`
 * (all rows by default). O(|sample| * N * D): callers sample for large N.
 */
export function nearestNeighbourCosines(vectors: Float32Array, dim: number, sample?: readonly number[]): Float64Array {
  const n = Math.floor(vectors.length / dim);
  const rows = sample ?? Array.from({ length: n }, (_, i) => i);
  const out = new Float64Array(rows.length);
  rows.forEach((row, r) => {
    const hit = topK(vectors, dim, vectors.subarray(row * dim, (row + 1) * dim), 1, { exclude: (i) => i === row });
    out[r] = hit.length ? (hit[0] as Neighbour).cosine : NaN;
  });
  return out;
}

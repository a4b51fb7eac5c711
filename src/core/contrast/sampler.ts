import { mulberry32, range, shuffle } from './prng';

/**
 * Minibatch order exactly as the trainer forms it (docs/contracts.md §5): the epoch permutation,
 * global batches of G = batch_size * num_processes, the drop rule, per-rank slices and the
 * optional similarity-aware batching. Indices are positions in the usable-record list.
 */

export interface SamplerOptions {
  seed: number;
  epoch: number;
  batchSize: number;
  numProcesses: number;
  /** Cached L2-normalised vectors, row i = usable record i; required for similarity batching. */
  similarity?: { vectors: Float32Array; dim: number };
}

export interface EpochPlan {
  /** The epoch permutation of [0..n-1]. */
  order: number[];
  /** Global batches after the drop rule, in training order. */
  batches: number[][];
  /** For each global batch, rank r's slice [r*B, (r+1)*B). */
  ranks: number[][][];
  /** Fewer records than one global batch: a single batch of all of them (the trainer warns). */
  shortEpoch: boolean;
  /** Similarity batching only: batches as built, before the drop rule and the batch shuffle. */
  built?: number[][];
  /** Similarity batching only: the shuffled order of the kept batches. */
  batchOrder?: number[];
}

/** 0x9E3779B9: the offset of the batch-order stream in similarity batching. */
const BATCH_ORDER_SEED_OFFSET = 0x9e3779b9;

export function epochOrder(n: number, seed: number, epoch: number): number[] {
  return shuffle(range(n), mulberry32(seed + epoch));
}

function checkOptions(n: number, o: SamplerOptions): number {
  for (const [name, v, min] of [['batchSize', o.batchSize, 1], ['numProcesses', o.numProcesses, 1], ['epoch', o.epoch, 0], ['seed', o.seed, 0]] as const) {
    if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
  }
  if (o.similarity && o.similarity.vectors.length !== n * o.similarity.dim) {
    throw new RangeError(`similarity vectors hold ${o.similarity.vectors.length / o.similarity.dim} rows for ${n} records`);
  }
  return o.batchSize * o.numProcesses;
}

function rankSlices(batch: number[], batchSize: number, numProcesses: number): number[][] {
  return range(numProcesses).map((r) => batch.slice(r * batchSize, (r + 1) * batchSize));
}

/** The plan of one epoch over n usable records. */
export function planEpoch(n: number, options: SamplerOptions): EpochPlan {
  const g = checkOptions(n, options);
  const order = epochOrder(n, options.seed, options.epoch);
  const shortEpoch = n < g;
  let batches: number[][];
  let built: number[][] | undefined;
  let batchOrder: number[] | undefined;
  if (options.similarity) {
    built = buildSimilarityBatches(order, g, options.similarity.vectors, options.similarity.dim);
    const kept = shortEpoch ? built : built.filter((b) => b.length === g);
    batchOrder = shuffle(range(kept.length), mulberry32(options.seed + options.epoch + BATCH_ORDER_SEED_OFFSET));
    batches = batchOrder.map((k) => kept[k] as number[]);
  } else if (shortEpoch) {
    batches = n ? [order] : [];
  } else {
    batches = range(Math.floor(n / g)).map((k) => order.slice(k * g, (k + 1) * g));
  }
  const plan: EpochPlan = { order, batches, ranks: batches.map((b) => rankSlices(b, options.batchSize, options.numProcesses)), shortEpoch };
  if (built) {
    plan.built = built;
    plan.batchOrder = batchOrder;
  }
  return plan;
}

/**
 * Greedy similarity batching: the anchor is the first remaining item of the permutation; among
 * the next 16*G remaining items, the G-1 with the highest cosine (float64 dot of the fp32
 * vectors, in dimension order; ties to the earlier) follow it in descending cosine.
 * Remaining items are a linked list over the permutation, so each batch costs O(16*G*D).
 */
export function buildSimilarityBatches(order: readonly number[], g: number, vectors: Float32Array, dim: number): number[][] {
  const n = order.length;
  const next = new Int32Array(n + 1); // linked list over positions in `order`; n = end
  const prev = new Int32Array(n + 1);
  for (let p = 0; p < n; p++) {
    next[p] = p + 1;
    prev[p + 1] = p;
  }
  let head = n ? 0 : n;
  const remove = (p: number): void => {
    const a = prev[p] as number;
    const b = next[p] as number;
    if (p === head) head = b;
    else next[a] = b;
    prev[b] = a;
  };
  const window = 16 * g;
  const candPos: number[] = [];
  const candCos: number[] = [];
  const built: number[][] = [];
  while (head < n) {
    const anchorPos = head;
    const anchor = order[anchorPos] as number;
    candPos.length = 0;
    candCos.length = 0;
    const aOff = anchor * dim;
    for (let p = next[anchorPos] as number; p < n && candPos.length < window; p = next[p] as number) {
      const bOff = (order[p] as number) * dim;
      let s = 0;
      for (let d = 0; d < dim; d++) s += (vectors[aOff + d] as number) * (vectors[bOff + d] as number);
      candPos.push(p);
      candCos.push(s);
    }
    const ranked = range(candPos.length).sort((x, y) => (candCos[y] as number) - (candCos[x] as number) || x - y);
    const pickedPos = ranked.slice(0, g - 1).map((k) => candPos[k] as number);
    remove(anchorPos);
    for (const p of pickedPos) remove(p);
    built.push([anchor, ...pickedPos.map((p) => order[p] as number)]);
  }
  return built;
}

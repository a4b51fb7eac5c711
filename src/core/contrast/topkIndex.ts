import { type Neighbour, type TopKOptions, topK } from './topk';

/**
 * Top-k over a fixed set of vectors, many queries: the vectors are copied once into WebAssembly
 * memory and each query's dot products run as a 4-lane SIMD loop (f32 accumulation), then the k
 * best are picked in JS. Several times faster than the scalar loop of topk.ts on 100,000 x 384
 * (bench/embeddings.ts). Falls back to topk.ts where WebAssembly SIMD is missing or dim % 8 != 0.
 * Pure and browser-safe.
 */

// A hand-assembled module: (import "env" "memory") and one function
//   scan(vec, q, n, dim, out): for i < n: out[i] = sum over d of vec[i*dim + d] * q[d]
// in f32x4 lanes, 8 floats per step into two accumulators (dim % 8 == 0).
const ZERO = new Array<number>(16).fill(0);
const LOCALS = [0x02, 0x03, 0x7f, 0x02, 0x7b]; // i32 x3 (i = 5, d = 6, p = 7), v128 x2 (acc0 = 8, acc1 = 9)
const Q_PLUS_4D = [0x20, 0x01, 0x20, 0x06, 0x41, 0x02, 0x74, 0x6a]; // q + 4 * d
const CODE = [
  0x20, 0x00, 0x21, 0x07, // p = vec
  0x41, 0x00, 0x21, 0x05, // i = 0
  0x02, 0x40, 0x03, 0x40, // block loop
  0x20, 0x05, 0x20, 0x02, 0x4f, 0x0d, 0x01, // if i >= n break
  0xfd, 0x0c, ...ZERO, 0x21, 0x08, // acc0 = 0
  0xfd, 0x0c, ...ZERO, 0x21, 0x09, // acc1 = 0
  0x41, 0x00, 0x21, 0x06, // d = 0
  0x02, 0x40, 0x03, 0x40, // block loop
  0x20, 0x06, 0x20, 0x03, 0x4f, 0x0d, 0x01, // if d >= dim break
  0x20, 0x08, 0x20, 0x07, 0xfd, 0x00, 0x02, 0x00, ...Q_PLUS_4D, 0xfd, 0x00, 0x02, 0x00, // acc0, p[0..3], q[d..d+3]
  0xfd, 0xe6, 0x01, 0xfd, 0xe4, 0x01, 0x21, 0x08, // acc0 += mul
  0x20, 0x09, 0x20, 0x07, 0xfd, 0x00, 0x02, 0x10, ...Q_PLUS_4D, 0xfd, 0x00, 0x02, 0x10, // acc1, p[4..7], q[d+4..d+7]
  0xfd, 0xe6, 0x01, 0xfd, 0xe4, 0x01, 0x21, 0x09, // acc1 += mul
  0x20, 0x07, 0x41, 0x20, 0x6a, 0x21, 0x07, // p += 32
  0x20, 0x06, 0x41, 0x08, 0x6a, 0x21, 0x06, // d += 8
  0x0c, 0x00, 0x0b, 0x0b, // continue; end end
  0x20, 0x08, 0x20, 0x09, 0xfd, 0xe4, 0x01, 0x21, 0x08, // acc0 += acc1
  0x20, 0x04, 0x20, 0x05, 0x41, 0x02, 0x74, 0x6a, // &out[i]
  0x20, 0x08, 0xfd, 0x1f, 0x00, // lane 0
  0x20, 0x08, 0xfd, 0x1f, 0x01, 0x92, // + lane 1
  0x20, 0x08, 0xfd, 0x1f, 0x02, 0x92, // + lane 2
  0x20, 0x08, 0xfd, 0x1f, 0x03, 0x92, // + lane 3
  0x38, 0x02, 0x00, // f32.store
  0x20, 0x05, 0x41, 0x01, 0x6a, 0x21, 0x05, // i += 1
  0x0c, 0x00, 0x0b, 0x0b, // continue; end end
  0x0b, // end of function
];

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const name = (s: string) => [...leb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

function moduleBytes(): Uint8Array {
  const body = [...LOCALS, ...CODE];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x05, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00]), // type: (i32 x5) -> ()
    ...section(2, [0x01, ...name('env'), ...name('memory'), 0x02, 0x00, 0x01]), // import memory, min 1 page
    ...section(3, [0x01, 0x00]), // one function of type 0
    ...section(7, [0x01, ...name('scan'), 0x00, 0x00]), // export it
    ...section(10, [0x01, ...leb(body.length), ...body]),
  ]);
}

/** The slice of the WebAssembly API used here (the project's TypeScript libs do not declare it). */
interface WasmMemory { readonly buffer: ArrayBuffer }
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
const WASM = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null | undefined;
function wasmModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = WASM ? new WASM.Module(moduleBytes()) : null;
    } catch {
      compiled = null; // no SIMD support: scalar fallback
    }
  }
  return compiled;
}

const PAGE = 65536;

export class TopKIndex {
  private constructor(
    private readonly vectors: Float32Array,
    readonly dim: number,
    private readonly wasm?: { scan: (vec: number, q: number, n: number, dim: number, out: number) => void; memory: WasmMemory; qOffset: number; outOffset: number },
  ) {}

  get rows(): number {
    return Math.floor(this.vectors.length / this.dim);
  }

  /** True when queries run in WebAssembly SIMD. */
  get accelerated(): boolean {
    return this.wasm !== undefined;
  }

  static create(vectors: Float32Array, dim: number, options: { scalar?: boolean } = {}): TopKIndex {
    const mod = options.scalar || dim % 8 !== 0 ? null : wasmModule();
    if (!mod || !WASM) return new TopKIndex(vectors, dim);
    const n = Math.floor(vectors.length / dim);
    const vecBytes = n * dim * 4;
    const qOffset = vecBytes;
    const outOffset = qOffset + dim * 4;
    const memory = new WASM.Memory({ initial: Math.max(1, Math.ceil((outOffset + n * 4) / PAGE)) });
    new Float32Array(memory.buffer, 0, n * dim).set(vectors.subarray(0, n * dim));
    const instance = new WASM.Instance(mod, { env: { memory } });
    const scan = instance.exports.scan as (vec: number, q: number, n: number, dim: number, out: number) => void;
    return new TopKIndex(vectors, dim, { scan, memory, qOffset, outOffset });
  }

  /** The k rows with the highest dot product with `query`, best first (ties: lower index). */
  query(query: ArrayLike<number>, k: number, options: TopKOptions = {}): Neighbour[] {
    if (!this.wasm) return topK(this.vectors, this.dim, query, k, options);
    if (query.length !== this.dim) throw new RangeError(`query has ${query.length} dims, vectors have ${this.dim}`);
    const { scan, memory, qOffset, outOffset } = this.wasm;
    const n = this.rows;
    new Float32Array(memory.buffer, qOffset, this.dim).set(query);
    scan(0, qOffset, n, this.dim, outOffset);
    const scores = new Float32Array(memory.buffer, outOffset, n);
    k = Math.max(0, Math.min(k, n));
    const bestIdx = new Int32Array(k);
    const bestCos = new Float64Array(k).fill(-Infinity);
    let filled = 0;
    const exclude = options.exclude;
    for (let i = 0; i < n; i++) {
      const s = scores[i] as number;
      if (filled === k && !(s > (bestCos[k - 1] as number))) continue;
      if (exclude && exclude(i)) continue;
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
}

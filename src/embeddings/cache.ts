import path from 'node:path';
import { SafetensorsError, SafetensorsReader, type Tensor, writeSafetensorsFile, writeSafetensorsFileAsync } from './safetensors';

/**
 * The embedding cache (docs/contracts.md §2): one safetensors file per model and precision with
 * `keys` (U8 [N, 32], SHA-256 of each prompt text) and `embeddings` (F32 [N, D], L2-normalised).
 * Rows are unique by key; order has no meaning. Writes are atomic (temp + rename), so a
 * cancelled or crashed embed leaves the previous valid file.
 */

export const KEY_BYTES = 32;
export const CACHE_FORMAT = 'rpo-embeddings';
export const CACHE_VERSION = '1';

export type Precision = 'fp32' | 'q8';

export interface CacheIdentity {
  model: string;
  precision: Precision;
  maxTokens: number;
}

/** Every character outside [A-Za-z0-9._-] becomes `_`. */
export function modelSlug(model: string): string {
  return model.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** `<workspace>/.rpo/embeddings/<model-slug>.<precision>.safetensors` (or under `dir`). */
export function cacheFileName(dir: string, model: string, precision: Precision): string {
  return path.join(dir, `${modelSlug(model)}.${precision}.safetensors`);
}

export function workspaceCacheDir(workspaceRoot: string): string {
  return path.join(workspaceRoot, '.rpo', 'embeddings');
}

export class EmbeddingCache {
  /**
   * Key -> row: open addressing over the raw key bytes (row + 1 per slot, 0 = empty, linear
   * probing from the key's first 4 bytes, which SHA-256 spreads evenly). Building it for 100,000
   * rows takes a few ms, against ~70 ms for a Map of hex strings, and lookups need no string.
   */
  private slots = new Int32Array(0);
  private keys: Uint8Array;
  private vectors: Float32Array;
  private count = 0;
  /** Rows added since the last save. */
  private dirty = 0;
  private vectorsLoaded = true;

  constructor(readonly identity: CacheIdentity, public dim: number, capacity = 0) {
    this.keys = new Uint8Array(capacity * KEY_BYTES);
    this.vectors = new Float32Array(capacity * dim);
  }

  get size(): number {
    return this.count;
  }

  get unsaved(): number {
    return this.dirty;
  }

  has(key: Uint8Array): boolean {
    return this.row(key) >= 0;
  }

  /** Row of a key, or -1. */
  row(key: Uint8Array): number {
    if (key.length !== KEY_BYTES) throw new RangeError(`cache key must be ${KEY_BYTES} bytes`);
    return this.rowAt(key, 0);
  }

  /** Row of the key stored at `bytes[offset .. offset + 32)`, or -1 (no copy, no string). */
  rowAt(bytes: Uint8Array, offset: number): number {
    if (!this.slots.length) return -1;
    const v = this.slots[this.slotOf(bytes, offset)] as number;
    return v ? v - 1 : -1;
  }

  rowByHex(hexKey: string): number {
    return this.row(Buffer.from(hexKey, 'hex'));
  }

  /** The slot holding this key, or the empty slot where it would go. */
  private slotOf(q: Uint8Array, off: number): number {
    const slots = this.slots;
    const keys = this.keys;
    const mask = slots.length - 1;
    let s = ((q[off] as number) | ((q[off + 1] as number) << 8) | ((q[off + 2] as number) << 16) | ((q[off + 3] as number) << 24)) & mask;
    for (;;) {
      const v = slots[s] as number;
      if (v === 0) return s;
      const base = (v - 1) * KEY_BYTES;
      let same = true;
      for (let b = 0; b < KEY_BYTES; b++) {
        if (keys[base + b] !== q[off + b]) {
          same = false;
          break;
        }
      }
      if (same) return s;
      s = (s + 1) & mask;
    }
  }

  /** Re-index rows [0, count) in a table with room for `rows` keys at most half full. */
  private rehash(rows: number): void {
    let cap = 16;
    while (cap < rows * 2) cap *= 2;
    this.slots = new Int32Array(cap);
    for (let r = 0; r < this.count; r++) this.slots[this.slotOf(this.keys, r * KEY_BYTES)] = r + 1;
  }

  vector(row: number): Float32Array {
    this.requireVectors('read a vector');
    return this.vectors.subarray(row * this.dim, (row + 1) * this.dim);
  }

  /** Adds (or replaces) the vector of a key. */
  put(key: Uint8Array, vector: ArrayLike<number>): void {
    if (key.length !== KEY_BYTES) throw new RangeError(`cache key must be ${KEY_BYTES} bytes`);
    this.requireVectors('add a vector');
    if (this.count === 0 && vector.length !== this.dim) {
      // an empty cache takes the model's dimension from its first vector
      this.dim = vector.length;
      this.vectors = new Float32Array((this.keys.length / KEY_BYTES) * this.dim);
    }
    if (vector.length !== this.dim) throw new RangeError(`vector has ${vector.length} dims, the cache holds ${this.dim}`);
    if ((this.count + 1) * 2 > this.slots.length) this.rehash(Math.max(this.count + 1, Math.ceil(this.count * 1.5)));
    const s = this.slotOf(key, 0);
    let r = (this.slots[s] as number) - 1;
    if (r < 0) {
      r = this.count++;
      this.grow(this.count);
      this.keys.set(key, r * KEY_BYTES);
      this.slots[s] = r + 1;
    }
    this.vectors.set(vector, r * this.dim);
    this.dirty++;
  }

  private grow(rows: number): void {
    if (rows * KEY_BYTES <= this.keys.length) return;
    const cap = Math.max(rows, Math.ceil((this.keys.length / KEY_BYTES) * 1.5), 64);
    const k = new Uint8Array(cap * KEY_BYTES);
    k.set(this.keys);
    this.keys = k;
    const v = new Float32Array(cap * this.dim);
    v.set(this.vectors);
    this.vectors = v;
  }

  /** Room for `rows` rows in all, so that adding them copies nothing (each growth copies every vector). */
  reserve(rows: number): void {
    this.requireVectors('add vectors');
    this.grow(rows);
    if (rows * 2 > this.slots.length) this.rehash(rows);
  }

  save(file: string): void {
    this.requireVectors('save');
    const { tensors, metadata } = this.snapshot();
    writeSafetensorsFile(file, tensors, metadata);
    this.dirty = 0;
  }

  /**
   * `save` off the event loop (the extension host's embeds use it). Writes the rows present
   * now; rows put meanwhile stay unsaved (counted in `unsaved`) for the next save. Replacing
   * the vector of a key already present while this runs could tear that row: embedPrompts only
   * adds new keys.
   */
  async saveAsync(file: string): Promise<void> {
    this.requireVectors('save');
    const { tensors, metadata } = this.snapshot();
    const saved = this.dirty;
    await writeSafetensorsFileAsync(file, tensors, metadata);
    this.dirty = Math.max(0, this.dirty - saved);
  }

  /** Views of rows [0, size) (no copy: growth replaces the arrays, it never writes into them). */
  private snapshot(): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
    const n = this.count;
    return {
      tensors: {
        embeddings: { dtype: 'F32', shape: [n, this.dim], data: new Uint8Array(this.vectors.buffer, this.vectors.byteOffset, n * this.dim * 4) },
        keys: { dtype: 'U8', shape: [n, KEY_BYTES], data: this.keys.subarray(0, n * KEY_BYTES) },
      },
      metadata: {
        format: CACHE_FORMAT,
        version: CACHE_VERSION,
        model: this.identity.model,
        precision: this.identity.precision,
        dim: String(this.dim),
        max_tokens: String(this.identity.maxTokens),
        pooling: 'mean',
        normalized: 'true',
      },
    };
  }

  /** False for a cache loaded without its vectors (`load` with `vectors` answering false). */
  get hasVectors(): boolean {
    return this.vectorsLoaded;
  }

  private requireVectors(what: string): void {
    if (!this.vectorsLoaded) throw new Error(`embedding cache loaded without its vectors: cannot ${what}`);
  }

  /**
   * Reads a cache file. Missing file: an empty cache (dim 0 until the first vector). A file that
   * does not parse, or was made by another model, precision or token limit: an empty cache and
   * a warning (the caller logs it); the next save replaces the file.
   *
   * `vectors` decides, once the keys are indexed, whether the vectors are read too (default:
   * always). Answering false leaves a keys-only cache (`hasVectors` false: row lookups work,
   * `vector`, `put` and `save` throw), which is how an unchanged dataset is checked without
   * reading hundreds of MB: the keys are 32 bytes a row, the vectors 4 * dim.
   */
  static async load(
    file: string,
    identity: CacheIdentity,
    options: { vectors?: (cache: EmbeddingCache) => boolean | Promise<boolean> } = {},
  ): Promise<{ cache: EmbeddingCache; warning?: string }> {
    let reader: SafetensorsReader;
    try {
      reader = await SafetensorsReader.open(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { cache: new EmbeddingCache(identity, 0) };
      if (err instanceof SafetensorsError) return { cache: new EmbeddingCache(identity, 0), warning: `embedding cache is corrupt, rebuilding it: ${err.message}` };
      throw err;
    }
    try {
      const m = reader.header.metadata;
      if (m.format !== CACHE_FORMAT) throw new SafetensorsError(`${file}: not an RPO embedding cache (format ${m.format ?? 'missing'})`);
      if (m.version !== CACHE_VERSION) throw new SafetensorsError(`${file}: cache version ${m.version}, expected ${CACHE_VERSION}`);
      const stale = (['model', 'precision'] as const).filter((k) => m[k] !== identity[k]);
      if (m.max_tokens !== String(identity.maxTokens)) stale.push('max_tokens' as 'model');
      if (stale.length) {
        return {
          cache: new EmbeddingCache(identity, 0),
          warning: `${file} was made with another ${stale.join(', ')} (${stale.map((k) => m[k]).join(', ')}); rebuilding it`,
        };
      }
      const keys = reader.header.tensors.keys;
      const emb = reader.header.tensors.embeddings;
      if (!keys || !emb) throw new SafetensorsError(`${file}: missing tensor ${keys ? 'embeddings' : 'keys'}`);
      if (keys.dtype !== 'U8' || keys.shape.length !== 2 || keys.shape[1] !== KEY_BYTES) throw new SafetensorsError(`${file}: keys must be U8 [N, 32]`);
      if (emb.dtype !== 'F32' || emb.shape.length !== 2 || emb.shape[0] !== keys.shape[0]) throw new SafetensorsError(`${file}: embeddings must be F32 [N, D] with N = ${keys.shape[0]}`);
      const n = keys.shape[0] as number;
      const dim = emb.shape[1] as number;
      if (m.dim !== String(dim)) throw new SafetensorsError(`${file}: metadata dim ${m.dim} but embeddings have ${dim} columns`);
      const cache = new EmbeddingCache(identity, dim, 0);
      cache.keys = await reader.read('keys');
      let cap = 16;
      while (cap < n * 2) cap *= 2;
      cache.slots = new Int32Array(cap);
      for (let r = 0; r < n; r++) {
        if (r % 65536 === 65535) await new Promise<void>((resolve) => setImmediate(resolve)); // keep the host responsive
        const slot = cache.slotOf(cache.keys, r * KEY_BYTES);
        if (cache.slots[slot]) throw new SafetensorsError(`${file}: key of row ${r} repeats row ${(cache.slots[slot] as number) - 1}`);
        cache.slots[slot] = r + 1;
      }
      cache.count = n;
      if (options.vectors && !(await options.vectors(cache))) {
        cache.vectorsLoaded = false;
        return { cache };
      }
      // A Buffer of its own (offset 0): viewed as floats without a copy; put() copies on growth.
      const bytes = await reader.read('embeddings');
      cache.vectors = new Float32Array(bytes.buffer, bytes.byteOffset, n * dim);
      return { cache };
    } catch (err) {
      if (!(err instanceof SafetensorsError)) throw err;
      return { cache: new EmbeddingCache(identity, 0), warning: `embedding cache is corrupt, rebuilding it: ${err.message}` };
    } finally {
      await reader.close();
    }
  }
}

export function hex(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');
}

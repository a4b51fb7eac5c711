import type { Logger } from '../core/log';
import { textKeyInto } from '../core/contrast/nodePromptKey';
import { type CacheIdentity, EmbeddingCache } from './cache';
import { CancelledError, type Embedder } from './embedder';

/**
 * Embeds the prompt texts of a dataset through the cache: only keys the cache lacks are sent to
 * the model (longest first, in batches, two in flight), the cache is saved atomically every
 * `flushMs` and at the end, and a cancelled run saves what it has. Returns one vector per text,
 * in the given order.
 */

/** Prompts given by their keys, their texts read only when embedded (`scanDatasetPromptKeys`). */
export interface KeyedPrompts {
  /** Row i (bytes [32 i, 32 i + 32)) = SHA-256 of prompt i's text. */
  digests: Uint8Array;
  /** Indices of empty or whitespace-only prompts. */
  empty: readonly number[];
  text(i: number): string;
}

export interface EmbedPromptsOptions {
  texts: readonly string[] | KeyedPrompts;
  cacheFile: string;
  identity: CacheIdentity;
  /** Started only when some prompt is missing from the cache. */
  startEmbedder: (signal?: AbortSignal) => Promise<Embedder>;
  batchSize?: number;
  flushMs?: number;
  signal?: AbortSignal;
  log?: Logger;
  onProgress?: (done: number, total: number) => void;
  /**
   * Return one vector per text (default true). `rpo embed` only fills the cache: without the
   * vectors, an unchanged dataset reads the cache's keys alone, never its vectors.
   */
  vectors?: boolean;
}

export interface EmbedPromptsResult {
  /** texts.length x dim, row i = text i (zeros for rows not embedded when cancelled); empty with `vectors: false`. */
  vectors: Float32Array;
  dim: number;
  /** Distinct prompts already in the cache. */
  cached: number;
  /** Distinct prompts embedded now. */
  embedded: number;
  /** Indices of texts cut at the token limit (among those embedded now). */
  truncated: number[];
  /** Indices of empty (or whitespace-only) prompts. */
  empty: number[];
  cancelled: boolean;
  cacheWarning?: string;
  /** Seconds spent in the model (0 when everything was cached). */
  embedSeconds: number;
  tokens: number;
  /** The token limit in effect when something was embedded (the model may have fewer positions). */
  maxTokens: number;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/**
 * Long loops on the host's event loop yield once they have run SLICE_MS, so the extension host
 * never stalls (checked every 256 iterations: `if ((i & 255) === 255 && slice.due()) await
 * slice.yield()`).
 */
const SLICE_MS = 8;
class TimeSlice {
  private since = performance.now();
  due(): boolean {
    return performance.now() - this.since >= SLICE_MS;
  }
  async yield(): Promise<void> {
    await tick();
    this.since = performance.now();
  }
}

export async function embedPrompts(o: EmbedPromptsOptions): Promise<EmbedPromptsResult> {
  const batchSize = o.batchSize ?? 32;
  const wantVectors = o.vectors !== false;
  const slice = new TimeSlice();
  let digests: Uint8Array;
  let empty: number[];
  let text: (i: number) => string;
  if (isKeyed(o.texts)) {
    const k = o.texts;
    digests = k.digests;
    empty = [...k.empty];
    text = (i) => k.text(i);
  } else {
    const texts = o.texts;
    digests = new Uint8Array(texts.length * 32);
    empty = [];
    for (let i = 0; i < texts.length; i++) {
      const t = texts[i] as string;
      textKeyInto(t, digests, i * 32);
      if (!t.trim()) empty.push(i);
      if ((i & 255) === 255 && slice.due()) await slice.yield();
    }
    text = (i) => texts[i] as string;
  }
  const n = digests.length / 32;
  const hexOf = (i: number) => Buffer.from(digests.buffer, digests.byteOffset + i * 32, 32).toString('hex');
  // distinct keys the cache lacks (hex) -> first text index
  const missing = new Map<string, number>();
  let distinct = 0;
  const { cache, warning } = await EmbeddingCache.load(o.cacheFile, o.identity, {
    // The vectors are read only when they are returned or the cache will be rewritten.
    vectors: async (c) => {
      const seenRow = new Uint8Array(c.size); // a cached key counts once however often it repeats
      for (let i = 0; i < n; i++) {
        if ((i & 255) === 255 && slice.due()) await slice.yield();
        const r = c.rowAt(digests, i * 32);
        if (r >= 0) {
          if (!seenRow[r]) { seenRow[r] = 1; distinct++; }
        } else {
          const k = hexOf(i);
          if (!missing.has(k)) {
            missing.set(k, i);
            distinct++;
          }
        }
      }
      return wantVectors || missing.size > 0;
    },
  });
  if (warning) o.log?.warn(warning);
  if (warning || !cache.size) {
    // a missing, corrupt or stale cache is empty: every distinct key is missing
    missing.clear();
    for (let i = 0; i < n; i++) {
      const k = hexOf(i);
      if (!missing.has(k)) missing.set(k, i);
      if ((i & 255) === 255 && slice.due()) await slice.yield();
    }
    distinct = missing.size;
  }
  const result: EmbedPromptsResult = {
    vectors: new Float32Array(0), dim: cache.dim, cached: distinct - missing.size, embedded: 0, truncated: [], empty,
    cancelled: false, embedSeconds: 0, tokens: 0, maxTokens: o.identity.maxTokens, ...(warning ? { cacheWarning: warning } : {}),
  };
  if (missing.size) await embedMissing(o, cache, [...missing.values()], digests, text, batchSize, result);
  else if (warning) await cache.saveAsync(o.cacheFile); // replace a corrupt or stale file even when nothing is new
  result.dim = cache.dim;
  if (wantVectors) {
    result.vectors = new Float32Array(n * cache.dim);
    for (let i = 0; i < n; i++) {
      const r = cache.rowAt(digests, i * 32);
      if (r >= 0) result.vectors.set(cache.vector(r), i * cache.dim);
      if ((i & 255) === 255 && slice.due()) await slice.yield();
    }
  }
  return result;
}

async function embedMissing(
  o: EmbedPromptsOptions, cache: EmbeddingCache, todo: number[], digests: Uint8Array, text: (i: number) => string,
  batchSize: number, result: EmbedPromptsResult,
): Promise<void> {
  const slice = new TimeSlice();
  const texts = new Map<number, string>();
  for (let k = 0; k < todo.length; k++) {
    texts.set(todo[k] as number, text(todo[k] as number));
    if ((k & 255) === 255 && slice.due()) await slice.yield();
  }
  const textOf = (i: number) => texts.get(i) as string;
  // Longest first, like sentence-transformers: batches of similar length waste little padding.
  todo.sort((a, b) => textOf(b).length - textOf(a).length || a - b);
  cache.reserve(cache.size + todo.length); // no growth (a copy of every vector) while embedding
  const batches: number[][] = [];
  for (let k = 0; k < todo.length; k += batchSize) batches.push(todo.slice(k, k + batchSize));
  const flushMs = o.flushMs ?? 30_000;
  let lastFlush = Date.now();
  // Saves run in the thread pool while batches go on; one at a time.
  let saving: Promise<void> | undefined;
  let saveError: unknown;
  let embedder: Embedder | undefined;
  const t0 = performance.now();
  const onAbort = () => void embedder?.dispose();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (o.signal?.aborted) throw new CancelledError();
    embedder = await o.startEmbedder(o.signal);
    if (o.signal?.aborted) throw new CancelledError();
    const e = embedder;
    result.maxTokens = e.maxTokens;
    o.onProgress?.(0, todo.length);
    const send = (b: number[]) => {
      const p = e.embed(b.map(textOf));
      p.catch(() => undefined); // a batch dropped by cancellation must not be an unhandled rejection
      return p;
    };
    let inFlight = batches.length ? [send(batches[0] as number[])] : [];
    for (let k = 0; k < batches.length; k++) {
      if (k + 1 < batches.length) inFlight.push(send(batches[k + 1] as number[]));
      const r = await (inFlight[0] as Promise<Awaited<ReturnType<Embedder['embed']>>>);
      inFlight = inFlight.slice(1);
      const batch = batches[k] as number[];
      for (let j = 0; j < batch.length; j++) {
        const at = (batch[j] as number) * 32;
        cache.put(digests.subarray(at, at + 32), r.vectors.subarray(j * r.dim, (j + 1) * r.dim));
      }
      for (const j of r.truncated) result.truncated.push(batch[j] as number);
      result.embedded += batch.length;
      result.tokens += r.tokens;
      o.onProgress?.(result.embedded, todo.length);
      if (Date.now() - lastFlush > flushMs && !saving) {
        saving = cache.saveAsync(o.cacheFile).then(() => { saving = undefined; }, (err: unknown) => { saveError = err; saving = undefined; });
        lastFlush = Date.now();
      }
    }
  } catch (err) {
    if (!(err instanceof CancelledError) && !o.signal?.aborted) throw err;
    result.cancelled = true;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    result.embedSeconds = (performance.now() - t0) / 1000;
    await embedder?.dispose();
    await saving;
    if (cache.unsaved) await cache.saveAsync(o.cacheFile);
    // the final save holds every row; an earlier flush that failed is only worth a warning
    if (saveError) o.log?.warn(`saving the embedding cache during the embed failed: ${(saveError as Error).message}`);
  }
  // every text with a truncated key (duplicates share it)
  if (result.truncated.length) {
    const hexOf = (i: number) => Buffer.from(digests.buffer, digests.byteOffset + i * 32, 32).toString('hex');
    const cut = new Set(result.truncated.map(hexOf));
    const all: number[] = [];
    for (let i = 0; i < digests.length / 32; i++) if (cut.has(hexOf(i))) all.push(i);
    result.truncated = all;
  }
}

function isKeyed(t: EmbedPromptsOptions['texts']): t is KeyedPrompts {
  return !Array.isArray(t);
}

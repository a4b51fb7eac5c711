import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Precision } from './cache';
import { HubUnreachableError, hubEndpoint, hubFilesCached, isNetworkFailure, probeHub } from './hub';
import { type ModelSource, checkModelFolder } from './modelSource';
import type { FromWorker, ToWorker } from './workerProtocol';

/**
 * Host side of the embedding worker. One worker thread serves the process for its lifetime:
 * onnxruntime-node's native addon can be loaded by one thread per process only ("Module did not
 * self-register" in a second worker), so the worker is never terminated; it is unref'd while
 * idle so it never keeps a CLI process alive, and a model nobody used for IDLE_UNLOAD_MS is
 * unloaded to give its memory back. Cancelling (dispose) rejects the embedder's pending batches
 * at once; the batch the worker is running finishes in the background and is dropped.
 */

export interface EmbedderOptions {
  model: ModelSource;
  precision: Precision;
  maxTokens: number;
  /** onnxruntime intra-op threads (default: its own choice, all cores). */
  threads?: number;
  /** Let onnxruntime's threads spin between ops (default false: they would take the host's core). */
  spinning?: boolean;
  workerPath?: string;
  onDownload?: (file: string, loaded: number, total: number) => void;
  /** Where a local model folder can be given instead, named in the "Hub unreachable" error. */
  localModelHint?: string;
}

export interface BatchResult {
  vectors: Float32Array;
  dim: number;
  /** Indices (within the batch) of texts cut at maxTokens. */
  truncated: number[];
  tokens: number;
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
  }
}

const IDLE_UNLOAD_MS = 120_000;

export function defaultWorkerPath(): string {
  const candidates = [
    path.join(__dirname, 'workers', 'embed.js'), // bundled: dist/extension.js, dist/cli.js
    path.join(__dirname, '..', '..', 'dist', 'workers', 'embed.js'), // tests from src/ (run the build first)
  ];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new Error(`embedding worker not found (looked for ${candidates.join(', ')}); run npm run build`);
  return found;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Request = DistributiveOmit<Extract<ToWorker, { type: 'load' | 'embed' }>, 'id'>;
type Pending = { resolve: (m: FromWorker) => void; reject: (e: Error) => void; onDownload?: EmbedderOptions['onDownload'] };

/** The process-wide worker and its request router. */
class WorkerHost {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: Error | undefined;
  private readonly users = new Map<string, number>();
  private readonly unloadTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err) => this.die(err));
    worker.on('exit', (code) => this.die(new Error(`embedding worker exited with code ${code}`)));
  }

  request(message: Request, onDownload?: EmbedderOptions['onDownload']): { id: number; done: Promise<FromWorker> } {
    const id = this.nextId++;
    const done = new Promise<FromWorker>((resolve, reject) => {
      if (this.dead) return reject(this.dead);
      this.pending.set(id, { resolve, reject, ...(onDownload ? { onDownload } : {}) });
      this.worker.ref();
      this.worker.postMessage({ ...message, id } as ToWorker);
    });
    return { id, done };
  }

  /** Rejects a request now (its result, if any, is dropped when it arrives). */
  drop(id: number, err: Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.settle(id);
    p.reject(err);
  }

  acquire(key: string): void {
    clearTimeout(this.unloadTimers.get(key));
    this.unloadTimers.delete(key);
    this.users.set(key, (this.users.get(key) ?? 0) + 1);
  }

  release(key: string): void {
    const n = (this.users.get(key) ?? 1) - 1;
    this.users.set(key, n);
    if (n > 0 || this.dead) return;
    const timer = setTimeout(() => {
      this.unloadTimers.delete(key);
      this.worker.postMessage({ type: 'unload', key } satisfies ToWorker);
    }, IDLE_UNLOAD_MS);
    timer.unref();
    this.unloadTimers.set(key, timer);
  }

  private settle(id: number): void {
    this.pending.delete(id);
    if (!this.pending.size) this.worker.unref();
  }

  private onMessage(m: FromWorker): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'download') {
      p.onDownload?.(m.file, m.loaded, m.total);
      return;
    }
    this.settle(m.id);
    if (m.type === 'error') p.reject(new Error(m.message));
    else p.resolve(m);
  }

  private die(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    if (shared === this) shared = undefined;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

let shared: WorkerHost | undefined;

function host(workerPath?: string): WorkerHost {
  if (!shared) shared = new WorkerHost(new Worker(workerPath ?? defaultWorkerPath()));
  return shared;
}

export class Embedder {
  private readonly inFlight = new Set<number>();
  private disposed = false;

  private constructor(
    private readonly host: WorkerHost,
    private readonly key: string,
    readonly dim: number,
    /** The token limit in effect: the requested one, or fewer if the model has fewer positions. */
    readonly maxTokens: number,
    /** Time to load (or find already loaded) the model, ms. */
    readonly loadMs: number,
  ) {}

  static async start(options: EmbedderOptions, signal?: AbortSignal): Promise<Embedder> {
    const { model } = options;
    if (model.kind === 'folder') checkModelFolder(model.dir, options.precision);
    if (signal?.aborted) throw new CancelledError();
    const endpoint = hubEndpoint();
    const unreachable = (reason: string) => model.kind === 'hub'
      ? new HubUnreachableError(model.name, model.id, endpoint, reason, options.precision, model.cacheDir, options.localModelHint ?? 'the setting `rpo.embeddings.model` (VS Code) or `--model` (rpo CLI)')
      : undefined;
    // Not downloaded yet: ask the Hub once, with a short timeout, before Transformers.js fetches
    // (whose failure is a bare "fetch failed", or a connect timeout per file where packets are dropped).
    if (model.kind === 'hub' && !hubFilesCached(model.cacheDir, model.id, options.precision)) {
      let reason: string | undefined;
      try {
        reason = await probeHub(model.id, { endpoint, ...(signal ? { signal } : {}) });
      } catch {
        throw new CancelledError(); // probeHub throws only when `signal` aborted it
      }
      if (reason) throw unreachable(reason);
    }
    if (signal?.aborted) throw new CancelledError();
    const h = host(options.workerPath);
    const source = model.kind === 'folder' ? model.dir : model.id;
    const key = JSON.stringify([source, options.precision, options.maxTokens, options.threads ?? 0, !!options.spinning]);
    h.acquire(key);
    const { id, done } = h.request({ type: 'load', key, model, precision: options.precision, maxTokens: options.maxTokens, ...(model.kind === 'hub' ? { endpoint } : {}), ...(options.threads ? { threads: options.threads } : {}), ...(options.spinning ? { spinning: true } : {}) }, options.onDownload);
    const onAbort = () => h.drop(id, new CancelledError());
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const m = await done;
      if (m.type !== 'loaded') throw new Error(`unexpected worker reply ${m.type}`);
      return new Embedder(h, key, m.dim, m.maxTokens, m.ms);
    } catch (err) {
      h.release(key);
      if (err instanceof CancelledError) throw err;
      // The Hub answered the check but a download failed on the way (connection lost).
      if (isNetworkFailure((err as Error).message)) throw unreachable((err as Error).message) ?? err;
      throw new Error(`loading the embedding model failed: ${(err as Error).message}`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async embed(texts: string[]): Promise<BatchResult> {
    if (this.disposed) throw new CancelledError();
    const { id, done } = this.host.request({ type: 'embed', key: this.key, texts });
    this.inFlight.add(id);
    try {
      const m = await done;
      if (m.type !== 'embedded') throw new Error(`unexpected worker reply ${m.type}`);
      return { vectors: m.vectors, dim: m.dim, truncated: m.truncated, tokens: m.tokens };
    } catch (err) {
      if (err instanceof CancelledError) throw err;
      throw new Error(`embedding failed: ${(err as Error).message}`);
    } finally {
      this.inFlight.delete(id);
    }
  }

  /** Cancels pending batches and lets the model go (unloaded after a while if unused). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const id of [...this.inFlight]) this.host.drop(id, new CancelledError());
    this.host.release(this.key);
  }
}

import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './workerProtocol';

/**
 * The embedding worker: Transformers.js on onnxruntime-node, off the extension host's event
 * loop (inference is synchronous and blocks 0.4-0.6 s per batch). Mean pooling over the
 * attention mask, then L2 normalisation, like sentence-transformers. One per process: see
 * workerProtocol.ts.
 */

if (!parentPort) throw new Error('embed.worker must run in a worker thread');
const port = parentPort;
const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

// The package is ESM-only for TypeScript's CommonJS resolution; esbuild bundles the dynamic import.
// eslint-disable-next-line @typescript-eslint/consistent-type-imports -- a static type import cannot carry resolution-mode
type Transformers = typeof import('@huggingface/transformers', { with: { 'resolution-mode': 'import' } });
type PreTrainedTokenizer = InstanceType<Transformers['PreTrainedTokenizer']>;
type PreTrainedModel = InstanceType<Transformers['PreTrainedModel']>;
type Tensor = InstanceType<Transformers['Tensor']>;

interface Loaded {
  tokenizer: PreTrainedTokenizer;
  model: PreTrainedModel;
  maxTokens: number;
}
const models = new Map<string, Promise<Loaded>>();

async function load(m: Extract<ToWorker, { type: 'load' }>): Promise<Loaded> {
  const { AutoModel, AutoTokenizer, env } = await import('@huggingface/transformers');
  let id: string;
  // env is global: set it right before each from_pretrained (loads in this worker are serial).
  if (m.model.kind === 'folder') {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = path.dirname(m.model.dir) + path.sep;
    env.useFSCache = false;
    id = path.basename(m.model.dir);
  } else {
    env.allowRemoteModels = true;
    env.allowLocalModels = false;
    if (m.endpoint) env.remoteHost = m.endpoint + '/';
    env.cacheDir = m.model.cacheDir;
    env.useFSCache = true;
    id = m.model.id;
  }
  const progress_callback = (p: { status: string; file?: string; loaded?: number; total?: number }) => {
    if (p.status === 'progress' && p.file) send({ type: 'download', id: m.id, file: p.file, loaded: p.loaded ?? 0, total: p.total ?? 0 });
  };
  const tokenizer = await AutoTokenizer.from_pretrained(id, { progress_callback });
  const model = await AutoModel.from_pretrained(id, {
    dtype: m.precision,
    device: 'cpu',
    progress_callback,
    session_options: {
      ...(m.threads ? { intraOpNumThreads: m.threads } : {}),
      // onnxruntime's pool threads spin between ops by default: on a small machine they take the
      // cores from the extension host's thread (stalls of 40-160 ms measured on 2 busy cores; 20-40
      // ms without spinning) and from each other. Off unless asked for.
      ...(m.spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } }),
    },
  });
  // Never ask for more positions than the model has (the tiny test BERT has 128).
  const positions = (model.config as { max_position_embeddings?: number }).max_position_embeddings;
  return { tokenizer, model, maxTokens: positions && positions < m.maxTokens ? positions : m.maxTokens };
}

async function embed(loaded: Loaded, texts: string[]): Promise<{ vectors: Float32Array; dim: number; truncated: number[]; tokens: number }> {
  const { tokenizer, model, maxTokens } = loaded;
  const inputs = tokenizer(texts, { padding: true, truncation: true, max_length: maxTokens });
  const ids = (inputs.input_ids as Tensor).data as BigInt64Array;
  const maskData = (inputs.attention_mask as Tensor).data as BigInt64Array;
  const width = (inputs.input_ids as Tensor).dims[1] as number;
  const special = new Set(tokenizer.all_special_ids.map((x) => BigInt(x)));
  const truncated: number[] = [];
  for (let i = 0; i < texts.length; i++) {
    let count = 0;
    for (let t = 0; t < width; t++) if (maskData[i * width + t]) count++;
    if (count < maxTokens) continue;
    // A full-length row may have been cut: count its tokens without truncation to be sure.
    const full = tokenizer.encode(texts[i] as string);
    if (full.length <= maxTokens) continue;
    truncated.push(i);
    // Transformers.js cuts after adding special tokens, dropping the closing [SEP]; Python
    // tokenizers (and so sentence-transformers) cut the text and keep it. Put it back.
    const last = BigInt(full[full.length - 1] as number);
    if (special.has(last)) ids[i * width + maxTokens - 1] = last;
  }
  const out = (await model(inputs)) as { last_hidden_state?: Tensor; token_embeddings?: Tensor };
  const hidden = out.last_hidden_state ?? out.token_embeddings;
  if (!hidden) throw new Error(`the model has no last_hidden_state output (outputs: ${Object.keys(out).join(', ')})`);
  const [b, s, h] = hidden.dims as [number, number, number];
  const data = hidden.data as Float32Array;
  const vectors = new Float32Array(b * h);
  let tokens = 0;
  const acc = new Float64Array(h);
  for (let i = 0; i < b; i++) {
    acc.fill(0);
    let count = 0;
    for (let t = 0; t < s; t++) {
      if (!maskData[i * s + t]) continue;
      count++;
      const off = (i * s + t) * h;
      for (let d = 0; d < h; d++) acc[d] = (acc[d] as number) + (data[off + d] as number);
    }
    tokens += count;
    let norm = 0;
    for (let d = 0; d < h; d++) {
      const v = (acc[d] as number) / Math.max(count, 1);
      acc[d] = v;
      norm += v * v;
    }
    norm = Math.max(Math.sqrt(norm), 1e-12);
    for (let d = 0; d < h; d++) vectors[i * h + d] = (acc[d] as number) / norm;
  }
  return { vectors, dim: h, truncated, tokens };
}

/** The error's message, with the cause of a network failure ("fetch failed" alone says nothing). */
const message = (err: unknown) => {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: { message?: string; code?: string } }).cause;
  const why = cause?.message || cause?.code;
  return why && !err.message.includes(why) ? `${err.message} (${why})` : err.message;
};

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'load': {
      const t0 = performance.now();
      let p = models.get(m.key);
      if (!p) {
        p = load(m);
        models.set(m.key, p);
        p.catch(() => models.delete(m.key));
      }
      p.then(
        (loaded) => embed(loaded, ['dimension probe']).then((r) => send({ type: 'loaded', id: m.id, dim: r.dim, maxTokens: loaded.maxTokens, ms: performance.now() - t0 })),
      ).catch((err) => send({ type: 'error', id: m.id, message: message(err) }));
      break;
    }
    case 'embed': {
      const p = models.get(m.key);
      if (!p) {
        send({ type: 'error', id: m.id, message: `model ${m.key} is not loaded` });
        break;
      }
      p.then((loaded) => embed(loaded, m.texts))
        .then((r) => send({ type: 'embedded', id: m.id, ...r }, [r.vectors.buffer as ArrayBuffer]))
        .catch((err) => send({ type: 'error', id: m.id, message: message(err) }));
      break;
    }
    case 'unload': {
      const p = models.get(m.key);
      models.delete(m.key);
      p?.then((loaded) => loaded.model.dispose()).catch(() => undefined);
      break;
    }
  }
});

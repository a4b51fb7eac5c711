import type { Precision } from './cache';
import type { ModelSource } from './modelSource';

/**
 * Messages between the host (Embedder) and the embedding worker (embed.worker.ts). One worker
 * serves the whole process (onnxruntime-node's addon loads in one thread per process only), so
 * several models may be loaded at once, each under its `model` key.
 */
export type ToWorker =
  | { type: 'load'; id: number; key: string; model: ModelSource; precision: Precision; maxTokens: number; endpoint?: string; threads?: number; spinning?: boolean }
  | { type: 'embed'; id: number; key: string; texts: string[] }
  | { type: 'unload'; key: string };

export type FromWorker =
  | { type: 'loaded'; id: number; dim: number; maxTokens: number; ms: number }
  | { type: 'download'; id: number; file: string; loaded: number; total: number }
  | { type: 'embedded'; id: number; dim: number; vectors: Float32Array; truncated: number[]; tokens: number }
  | { type: 'error'; id: number; message: string };

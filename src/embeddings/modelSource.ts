import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ModelRef, modelLocation } from '../core/run/config';
import type { Precision } from './cache';

/**
 * Where the embedding model comes from: a Hugging Face Hub id (downloaded once into a cache
 * folder) or a local folder in the Transformers.js layout (air-gapped machines).
 */
export type ModelSource =
  | { kind: 'folder'; dir: string; name: string }
  | { kind: 'hub'; id: string; name: string; cacheDir: string };

/** The default model, named as the trainer names it (the cache file name derives from it). */
export const DEFAULT_MODEL = 'sentence-transformers/all-MiniLM-L6-v2';
/**
 * Hub repositories to download instead, with the same weights in the Transformers.js layout
 * (sentence-transformers' own repo has no onnx/model_quantized.onnx). The cache keeps the
 * alias's name, so the trainer finds the file under the id it knows.
 */
export const HUB_DOWNLOAD_ALIASES: Readonly<Record<string, string>> = {
  'sentence-transformers/all-MiniLM-L6-v2': 'Xenova/all-MiniLM-L6-v2',
};
export const DEFAULT_MAX_TOKENS = 256;
/** q8, like the trainer's default (the cache file name includes the precision); bench/embeddings.ts: q8 ~1.5x sentence-transformers' speed, cosines within ~0.01 (mean). */
export const DEFAULT_PRECISION: Precision = 'q8';

export const MODEL_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;

export function onnxFile(precision: Precision): string {
  return precision === 'q8' ? 'onnx/model_quantized.onnx' : 'onnx/model.onnx';
}

export class ModelError extends Error {}

/**
 * Where a model spec points, by the run config's rule (docs/contracts.md §6, `modelLocation`):
 * an absolute path, one starting with `.`, `/` or `~`, or an existing file or folder relative to
 * `baseDir` is a local folder; anything else of the form `owner/name` is a Hub id.
 */
export function resolveModel(spec: string, hubCacheDir: string, baseDir = process.cwd()): ModelSource {
  const s = spec.trim();
  if (!s) throw new ModelError('no embedding model given');
  return modelSourceOf(modelLocation(s, baseDir), hubCacheDir);
}

/** The source of a model whose location is already known (a run config's `embeddings.model`, resolved). */
export function modelSourceOf(ref: ModelRef, hubCacheDir: string): ModelSource {
  if (ref.kind === 'folder') return { kind: 'folder', dir: ref.path, name: declaredModelId(ref.path) ?? path.basename(ref.path) };
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(ref.id)) throw new ModelError(`'${ref.id}' is neither a model folder nor a Hugging Face model id (owner/name)`);
  return { kind: 'hub', id: HUB_DOWNLOAD_ALIASES[ref.id] ?? ref.id, name: ref.id, cacheDir: hubCacheDir };
}

/**
 * A local folder may say which Hub model it holds: `rpo-model.json` = {"model_id": "owner/name"}
 * (scripts/export-minilm.py writes one). The cache is then named after that id, so a run config
 * naming the id (the trainer's default) finds the vectors an air-gapped folder produced.
 */
export const MODEL_ID_FILE = 'rpo-model.json';

function declaredModelId(dir: string): string | undefined {
  try {
    const id = (JSON.parse(fs.readFileSync(path.join(dir, MODEL_ID_FILE), 'utf8')) as { model_id?: unknown }).model_id;
    return typeof id === 'string' && /^[\w.-]+(\/[\w.-]+)?$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Throws a ModelError naming the first missing file of a local model folder. */
export function checkModelFolder(dir: string, precision: Precision): void {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ModelError(`model folder ${dir} does not exist`);
  for (const f of [...MODEL_FILES, onnxFile(precision)]) {
    if (!fs.existsSync(path.join(dir, f))) {
      const hint = f.startsWith('onnx/') ? ` (precision ${precision}; ${precision === 'q8' ? 'use --precision fp32 for onnx/model.onnx' : 'use --precision q8 for onnx/model_quantized.onnx'})` : '';
      throw new ModelError(`model folder ${dir} is missing ${f}${hint}`);
    }
  }
}

/** The default models folder of scripts/export-minilm.py: ${RPO_CACHE_DIR:-~/.cache/rpo-studio}/models. */
export function defaultModelsDir(): string {
  return path.join(process.env.RPO_CACHE_DIR || path.join(os.homedir(), '.cache', 'rpo-studio'), 'models');
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
 * A spec that is an absolute path, starts with `.` or `~`, or names an existing folder is a
 * local folder; anything else of the form `owner/name` is a Hub id.
 */
export function resolveModel(spec: string, hubCacheDir: string, baseDir = process.cwd()): ModelSource {
  const s = spec.trim();
  if (!s) throw new ModelError('no embedding model given');
  const expanded = s.startsWith('~') ? path.join(os.homedir(), s.slice(1)) : s;
  const local = path.isAbsolute(expanded) || s.startsWith('.') || s.startsWith('~') || fs.existsSync(path.resolve(baseDir, expanded));
  if (local) {
    const dir = path.resolve(baseDir, expanded);
    return { kind: 'folder', dir, name: declaredModelId(dir) ?? path.basename(dir) };
  }
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(s)) throw new ModelError(`'${spec}' is neither a model folder nor a Hugging Face model id (owner/name)`);
  return { kind: 'hub', id: HUB_DOWNLOAD_ALIASES[s] ?? s, name: s, cacheDir: hubCacheDir };
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

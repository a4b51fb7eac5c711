// The sample workspace as `npm start` opens it, and the settings it opens VS Code with: what
// scripts/setup.sh made (the trainer's venv, the MiniLM ONNX export, the offline sample's models)
// wired into the user settings of that VS Code (never the workspace's). Used by
// scripts/run-sample.mjs and by the UI test test/ui/sample-offline.ui.mjs.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const jsonc = require('jsonc-parser');

export const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
export const sampleWorkspace = path.join(repoRoot, 'sample-workspace');

/** The set-up's cache folder as the committed run configs name it (`~/...`). */
const DEFAULT_CACHE_SPEC = '~/.cache/rpo-studio';

/** scripts/setup.sh's cache folder: ${RPO_CACHE_DIR:-~/.cache/rpo-studio}. */
export function cacheDir(env = process.env) {
  return path.resolve(env.RPO_CACHE_DIR || path.join(os.homedir(), '.cache', 'rpo-studio'));
}

/**
 * What the set-up made, each an absolute path or undefined when it is missing:
 *   python       the trainer's venv Python (written by setup.sh to .rpo-test/python)
 *   minilm       the all-MiniLM-L6-v2 ONNX export (scripts/export-minilm.py), for the embedder
 *   tinyModel    the offline sample's tiny random Llama
 *   minilmTorch  all-MiniLM-L6-v2 in the sentence-transformers layout, for the trainer
 */
export function setupOutputs({ root = repoRoot, cache = cacheDir() } = {}) {
  const exists = (p, file) => (p && fs.existsSync(path.join(p, file)) ? p : undefined);
  let python;
  try {
    python = fs.readFileSync(path.join(root, '.rpo-test', 'python'), 'utf8').trim() || undefined;
  } catch { /* no venv (RPO_SKIP_PYTHON or no python3) */ }
  const models = path.join(cache, 'models');
  return {
    python: python && fs.existsSync(python) ? python : undefined,
    minilm: exists(path.join(models, 'all-MiniLM-L6-v2'), 'onnx/model_quantized.onnx'),
    tinyModel: exists(path.join(models, 'tiny-random-llama'), 'config.json'),
    minilmTorch: exists(path.join(models, 'all-MiniLM-L6-v2-sentence-transformers'), 'rpo-model.json'),
  };
}

/**
 * The settings `npm start` writes: rpo.python.path = the venv's Python, rpo.embeddings.model =
 * the local MiniLM export (the same model as the default Hub id, so no download is needed and the
 * cache keeps the default's name). Only what the set-up made.
 */
export function studioSettings(outputs = setupOutputs()) {
  return {
    ...(outputs.python ? { 'rpo.python.path': outputs.python } : {}),
    ...(outputs.minilm ? { 'rpo.embeddings.model': outputs.minilm } : {}),
  };
}

/**
 * Merges `values` into a VS Code settings file (JSON with comments): other keys and comments are
 * kept, the file is written to a temporary file and renamed over the old one. Creates it (and its
 * folder) when missing. Returns the keys whose value changed.
 */
export function mergeSettingsFile(file, values) {
  let text = '{}\n';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
  if (!text.trim()) text = '{}\n';
  const errors = [];
  const current = jsonc.parse(text, errors, { allowTrailingComma: true });
  if (errors.length || (current !== undefined && (typeof current !== 'object' || Array.isArray(current)))) {
    const at = errors[0] ? ` at offset ${errors[0].offset} (${jsonc.printParseErrorCode(errors[0].error)})` : '';
    throw new Error(`${file}: not a JSON object${at}; fix it, or set ${Object.keys(values).join(', ')} yourself`);
  }
  const changed = [];
  for (const [key, value] of Object.entries(values)) {
    if (current?.[key] === value) continue;
    text = jsonc.applyEdits(text, jsonc.modify(text, [key], value, { formattingOptions: { insertSpaces: true, tabSize: 2, eol: '\n' } }));
    changed.push(key);
  }
  if (!changed.length && fs.existsSync(file)) return changed;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text.endsWith('\n') ? text : text + '\n');
  fs.renameSync(tmp, file);
  return changed;
}

/**
 * Copies the files of sample-workspace/ that `ws` lacks (a file there is never overwritten:
 * your labels and runs stay). In each run config copied now, a model folder under the set-up's
 * default cache (`~/.cache/rpo-studio/...`) is rewritten to `cache` when RPO_CACHE_DIR put it
 * elsewhere. Returns the copied files, relative to `ws`.
 */
export function prepareSampleWorkspace(ws, { cache = cacheDir(), from = sampleWorkspace } = {}) {
  const copied = [];
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(from, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.name === '.rpo') continue; // runs and caches of someone who opened sample-workspace/ itself
      if (e.isDirectory()) walk(r);
      else if (e.isFile() && !fs.existsSync(path.join(ws, r))) {
        fs.mkdirSync(path.dirname(path.join(ws, r)), { recursive: true });
        fs.copyFileSync(path.join(from, r), path.join(ws, r), fs.constants.COPYFILE_EXCL);
        copied.push(r);
      }
    }
  };
  walk('.');
  const defaultCache = path.join(os.homedir(), '.cache', 'rpo-studio');
  if (path.resolve(cache) !== defaultCache) {
    for (const r of copied.filter((f) => f.endsWith('.rpo.json'))) localizeRunConfig(path.join(ws, r), cache);
  }
  return copied;
}

/** Rewrites `~/.cache/rpo-studio/...` model paths of a run config to the absolute folder under `cache`. */
export function localizeRunConfig(file, cache) {
  let text = fs.readFileSync(file, 'utf8');
  const config = jsonc.parse(text);
  for (const keyPath of [['model'], ['tokenizer'], ['embeddings', 'model']]) {
    const value = keyPath.reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), config);
    if (typeof value !== 'string' || !value.startsWith(DEFAULT_CACHE_SPEC + '/')) continue;
    const local = path.join(cache, value.slice(DEFAULT_CACHE_SPEC.length + 1));
    text = jsonc.applyEdits(text, jsonc.modify(text, keyPath, local, { formattingOptions: { insertSpaces: true, tabSize: 2, eol: '\n' } }));
  }
  fs.writeFileSync(file, text);
}

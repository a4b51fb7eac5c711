import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { type ModelRef, resolvedPaths, validateRunConfig } from '../../../src/core/run/config';
import { cacheFileName } from '../../../src/embeddings/cache';
import { modelSourceOf } from '../../../src/embeddings/modelSource';
import golden from '../../golden/config-paths.json';

/**
 * Path resolution against test/golden/config-paths.json (docs/contracts.md §6), on a real folder
 * layout: the trainer's test (trainer/tests/test_config_paths.py) reads the same file, so the
 * extension and the trainer pick the same files, models and embedding cache for one config.
 */

type Expected = (typeof golden.cases)[number]['expected'];

test('config paths: the extension resolves every golden case as the contract says', { skip: process.platform === 'win32' && 'golden paths are POSIX' }, () => {
  const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-config-paths-')));
  try {
    for (const dir of golden.layout.folders) fs.mkdirSync(path.join(tmp, dir), { recursive: true });
    for (const [file, text] of Object.entries(golden.layout.files)) {
      fs.mkdirSync(path.dirname(path.join(tmp, file)), { recursive: true });
      fs.writeFileSync(path.join(tmp, file), text);
    }
    const configDir = path.join(tmp, golden.layout.config_dir);
    const home = os.homedir();
    /** A resolved path in the golden file's notation: relative to the layout root, ~/ under home, else absolute. */
    const notation = (p: string) => {
      if (p === tmp || p.startsWith(tmp + path.sep)) return path.relative(tmp, p).split(path.sep).join('/');
      if (p.startsWith(home + path.sep)) return `~/${path.relative(home, p).split(path.sep).join('/')}`;
      return p;
    };
    const model = (m: ModelRef) => (m.kind === 'folder' ? { folder: notation(m.path) } : { hub: m.id });
    for (const c of golden.cases) {
      const config = validateRunConfig(c.config, c.name);
      const paths = resolvedPaths(config, configDir);
      const source = modelSourceOf(paths.embeddingsModel, '/unused-hub-cache');
      const got: Expected = {
        dataset: notation(paths.dataset),
        eval_dataset: paths.evalDataset ? notation(paths.evalDataset) : null,
        output_dir: notation(paths.outputDir),
        accelerate_config: paths.accelerateConfig ? notation(paths.accelerateConfig) : null,
        model: model(paths.model),
        tokenizer: paths.tokenizer ? model(paths.tokenizer) : null,
        embeddings_model: model(paths.embeddingsModel),
        embeddings_cache_dir: notation(paths.embeddingsCacheDir),
        embeddings_cache_file: notation(cacheFileName(paths.embeddingsCacheDir, source.name, config.embeddings.precision)),
      } as Expected;
      assert.deepEqual(got, c.expected, c.name);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

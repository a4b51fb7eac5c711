import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readDatasetPrompts } from '../../../src/embeddings/datasetPrompts';
import { embedPrompts } from '../../../src/embeddings/embedPrompts';
import { Embedder } from '../../../src/embeddings/embedder';
import { resolveModel } from '../../../src/embeddings/modelSource';
import { textKey } from '../../../src/core/contrast/nodePromptKey';

/**
 * test/golden/tiny-bert-embeddings.json: the vectors of test/fixtures/embeddings/prompts.pref.jsonl
 * under the tiny-bert fixture (fp32). trainer/tests/test_embedding_cache.py runs `rpo embed` on
 * the same file and checks, with Python's safetensors, that the cache holds these vectors.
 * Regenerate with RPO_UPDATE_GOLDEN=1 (only when the fixture model or pooling changes).
 */
const root = path.resolve(__dirname, '../../..');
const goldenFile = path.join(root, 'test/golden/tiny-bert-embeddings.json');

test('tiny-bert embeddings of the fixture prompts match test/golden/tiny-bert-embeddings.json', async () => {
  const data = await readDatasetPrompts(path.join(root, 'test/fixtures/embeddings/prompts.pref.jsonl'));
  assert.equal(data.prompts.length, 7);
  assert.deepEqual(data.invalid.map((i) => i.line), [7]);
  const cacheFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-golden-')), 'c.safetensors');
  const texts = data.prompts.map((p) => p.text);
  const r = await embedPrompts({
    texts, cacheFile, identity: { model: 'tiny-bert', precision: 'fp32', maxTokens: 256 },
    startEmbedder: (s) => Embedder.start({ model: resolveModel(path.join(root, 'test/fixtures/models/tiny-bert'), '/none'), precision: 'fp32', maxTokens: 256 }, s),
  });
  assert.equal(r.embedded, 6, 'the duplicate prompt is embedded once');
  assert.deepEqual(r.truncated.map((i) => data.prompts[i]!.line), [3]);
  assert.deepEqual(r.empty.map((i) => data.prompts[i]!.line), [2]);
  const rows = texts.map((t, i) => ({ text: t, sha256: textKey(t).toString('hex'), vector: Array.from(r.vectors.subarray(i * r.dim, (i + 1) * r.dim)) }));
  if (process.env.RPO_UPDATE_GOLDEN) {
    fs.writeFileSync(goldenFile, JSON.stringify({ model: 'tiny-bert', precision: 'fp32', dim: r.dim, prompts: rows }, null, 1) + '\n');
  }
  const golden = JSON.parse(fs.readFileSync(goldenFile, 'utf8'));
  assert.equal(golden.prompts.length, rows.length);
  rows.forEach((row, i) => {
    const g = golden.prompts[i];
    assert.equal(row.sha256, g.sha256);
    row.vector.forEach((x, d) => assert.ok(Math.abs(x - g.vector[d]) < 1e-5, `prompt ${i} dim ${d}: ${x} vs ${g.vector[d]}`));
  });
});

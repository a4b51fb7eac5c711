import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { EmbeddingCache } from '../../../src/embeddings/cache';
import { parseSafetensors } from '../../../src/embeddings/safetensors';
import { embedPrompts } from '../../../src/embeddings/embedPrompts';
import { Embedder } from '../../../src/embeddings/embedder';
import { ModelError, checkModelFolder, resolveModel } from '../../../src/embeddings/modelSource';

/** Plumbing on the tiny BERT fixture (random weights: no semantics). Needs dist/workers/embed.js. */
const root = path.resolve(__dirname, '../../..');
const tiny = path.join(root, 'test/fixtures/models/tiny-bert');
const identity = { model: 'tiny-bert', precision: 'fp32' as const, maxTokens: 256 };
const start = (signal?: AbortSignal) => Embedder.start({ model: resolveModel(tiny, '/nonexistent'), precision: 'fp32', maxTokens: 256, threads: 1 }, signal);

before(() => {
  if (!fs.existsSync(path.join(root, 'dist/workers/embed.js'))) execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
});

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-embed-'));
const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

test('embeds through the cache: normalised vectors, duplicates once, second run embeds nothing, a changed prompt only', async () => {
  const dir = tmp();
  const cacheFile = path.join(dir, 'tiny.fp32.safetensors');
  const texts = ['How do I bake bread?', 'What is RPO?', 'How do I bake bread?', ''];
  const r1 = await embedPrompts({ texts, cacheFile, identity, startEmbedder: start });
  assert.equal(r1.dim, 32);
  assert.equal(r1.embedded, 3);
  assert.deepEqual(r1.empty, [3]);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(norm(r1.vectors.subarray(i * 32, (i + 1) * 32)) - 1) < 1e-5);
  assert.deepEqual(r1.vectors.subarray(0, 32), r1.vectors.subarray(64, 96));
  let started = 0;
  const r2 = await embedPrompts({ texts, cacheFile, identity, startEmbedder: (s) => { started++; return start(s); } });
  assert.equal(started, 0, 'an unchanged dataset does not even load the model');
  assert.equal(r2.embedded, 0);
  assert.equal(r2.cached, 3);
  assert.deepEqual(r2.vectors, r1.vectors);
  const r3 = await embedPrompts({ texts: [...texts.slice(0, 3), 'What is DPO?'], cacheFile, identity, startEmbedder: start });
  assert.equal(r3.embedded, 1);
  assert.equal((await EmbeddingCache.load(cacheFile, identity)).cache.size, 4);
});

test('a prompt over the token limit is cut and reported; batch order does not change vectors', async () => {
  const e = await start();
  try {
    // the tiny model has 128 positions: the limit in effect is 128
    assert.equal(e.maxTokens, 128);
    const long = 'bread '.repeat(400);
    const a = await e.embed(['short one', long]);
    assert.deepEqual(a.truncated, [1]);
    const b = await e.embed([long]);
    for (let d = 0; d < 32; d++) assert.ok(Math.abs((a.vectors[32 + d] as number) - (b.vectors[d] as number)) < 1e-5);
  } finally {
    await e.dispose();
  }
});

test('cancelling leaves a valid cache with the finished batches; the next run completes it', async () => {
  const dir = tmp();
  const cacheFile = path.join(dir, 'tiny.fp32.safetensors');
  const texts = Array.from({ length: 400 }, (_, i) => `prompt number ${i} about ${'topic '.repeat(i % 50)}`);
  const abort = new AbortController();
  const r = await embedPrompts({
    texts, cacheFile, identity, startEmbedder: start, batchSize: 16, signal: abort.signal,
    onProgress: (done) => { if (done >= 32) abort.abort(); },
  });
  assert.equal(r.cancelled, true);
  const partial = await EmbeddingCache.load(cacheFile, identity);
  assert.equal(partial.warning, undefined);
  assert.ok(partial.cache.size >= 32 && partial.cache.size < 400, `partial cache has ${partial.cache.size} rows`);
  const done = await embedPrompts({ texts, cacheFile, identity, startEmbedder: start, batchSize: 64 });
  assert.equal(done.embedded, 400 - partial.cache.size);
  assert.equal((await EmbeddingCache.load(cacheFile, identity)).cache.size, 400);
});

test('saves during the embed run in the background, one at a time; the file is valid after each and complete at the end', async () => {
  const dir = tmp();
  const cacheFile = path.join(dir, 'tiny.fp32.safetensors');
  const texts = Array.from({ length: 1000 }, (_, i) => `flushed prompt ${i} ${'x '.repeat(i % 40)}`);
  const sizes: number[] = [];
  const r = await embedPrompts({
    texts, cacheFile, identity, startEmbedder: start, batchSize: 8, flushMs: -1, // a flush after every batch, unless one is running
    onProgress: () => {
      if (!fs.existsSync(cacheFile)) return;
      const st = parseSafetensors(fs.readFileSync(cacheFile)); // never a half-written file (temp + rename)
      sizes.push(st.tensors.keys!.shape[0]!);
    },
  });
  assert.equal(r.embedded, 1000);
  assert.ok(sizes.length >= 1, 'the cache was written while batches went on');
  const back = await EmbeddingCache.load(cacheFile, identity);
  assert.equal(back.warning, undefined);
  assert.equal(back.cache.size, 1000);
  assert.deepEqual(fs.readdirSync(dir), ['tiny.fp32.safetensors'], 'no temporary file left behind');
  const again = await embedPrompts({ texts, cacheFile, identity, startEmbedder: () => { throw new Error('nothing to embed'); } });
  assert.deepEqual(again.vectors, r.vectors);
});

test('a corrupt cache is rebuilt with a warning', async () => {
  const dir = tmp();
  const cacheFile = path.join(dir, 'tiny.fp32.safetensors');
  fs.writeFileSync(cacheFile, 'not a safetensors file at all');
  const warnings: string[] = [];
  const log = { trace() {}, debug() {}, info() {}, error() {}, warn: (m: string) => { warnings.push(m); } };
  const r = await embedPrompts({ texts: ['a', 'b'], cacheFile, identity, startEmbedder: start, log });
  assert.equal(r.embedded, 2);
  assert.match(warnings.join('\n'), /corrupt, rebuilding/);
  assert.equal((await EmbeddingCache.load(cacheFile, identity)).cache.size, 2);
});

test('a model folder missing a file: the message names it', () => {
  const dir = tmp();
  fs.cpSync(tiny, dir, { recursive: true });
  assert.doesNotThrow(() => checkModelFolder(dir, 'fp32'));
  fs.rmSync(path.join(dir, 'tokenizer_config.json'));
  assert.throws(() => checkModelFolder(dir, 'fp32'), (e: Error) => e instanceof ModelError && e.message.includes('missing tokenizer_config.json'));
  assert.throws(() => checkModelFolder(path.join(root, 'test/fixtures/models/tiny-bert-q8'), 'fp32'), /missing onnx\/model\.onnx \(precision fp32; use --precision q8/);
  assert.deepEqual(resolveModel('sentence-transformers/all-MiniLM-L6-v2', '/c'), { kind: 'hub', id: 'Xenova/all-MiniLM-L6-v2', name: 'sentence-transformers/all-MiniLM-L6-v2', cacheDir: '/c' });
  assert.throws(() => resolveModel('not a model id!', '/c'), /neither a model folder nor/);
  // a folder that declares the Hub model it holds names the cache after it (the trainer's id)
  assert.equal(resolveModel(dir, '/c').name, path.basename(dir));
  fs.writeFileSync(path.join(dir, 'rpo-model.json'), JSON.stringify({ model_id: 'sentence-transformers/all-MiniLM-L6-v2' }));
  assert.deepEqual(resolveModel(dir, '/c'), { kind: 'folder', dir, name: 'sentence-transformers/all-MiniLM-L6-v2' });
});

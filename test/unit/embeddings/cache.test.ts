import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddingCache, cacheFileName, modelSlug } from '../../../src/embeddings/cache';
import { parseSafetensors, serializeSafetensors, SafetensorsError } from '../../../src/embeddings/safetensors';
import { textKey } from '../../../src/core/contrast/nodePromptKey';

const identity = { model: 'org/some model', precision: 'q8' as const, maxTokens: 256 };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-cache-'));

test('cache file name follows the contract slug', () => {
  assert.equal(modelSlug('sentence-transformers/all-MiniLM-L6-v2'), 'sentence-transformers_all-MiniLM-L6-v2');
  assert.equal(path.basename(cacheFileName('/w/.rpo/embeddings', 'a b/c+d', 'fp32')), 'a_b_c_d.fp32.safetensors');
});

test('safetensors: header padded to 8 bytes, offsets contiguous, round trip', () => {
  const data = new Float32Array([1, 2.5, -3, 4]);
  const buf = Buffer.concat(serializeSafetensors({
    embeddings: { dtype: 'F32', shape: [2, 2], data: new Uint8Array(data.buffer) },
    keys: { dtype: 'U8', shape: [2, 3], data: new Uint8Array([1, 2, 3, 4, 5, 6]) },
  }, { format: 'x' }));
  const headerLen = Number(buf.readBigUInt64LE(0));
  assert.equal((8 + headerLen) % 8, 0);
  const st = parseSafetensors(buf);
  assert.deepEqual(st.metadata, { format: 'x' });
  assert.deepEqual(Array.from(new Float32Array(new Uint8Array(st.tensors.embeddings!.data).buffer)), [1, 2.5, -3, 4]);
  assert.deepEqual(Array.from(st.tensors.keys!.data), [1, 2, 3, 4, 5, 6]);
  assert.throws(() => parseSafetensors(buf.subarray(0, buf.length - 1), 'f.safetensors'), (e: Error) => e instanceof SafetensorsError && /f.safetensors: tensor \w+: data_offsets/.test(e.message));
  assert.throws(() => parseSafetensors(Buffer.from('garbage!garbage'), 'g'), /g: header length/);
});

test('cache: put, save, load gives the same vectors; rows unique by key', async () => {
  const dir = tmp();
  const file = path.join(dir, 'c.safetensors');
  const cache = new EmbeddingCache(identity, 0);
  cache.put(textKey('a'), [0.6, 0.8, 0]);
  cache.put(textKey('b'), [0, 0, 1]);
  cache.put(textKey('a'), [0.8, 0.6, 0]); // replaces
  assert.equal(cache.size, 2);
  cache.save(file);
  const { cache: back, warning } = await EmbeddingCache.load(file, identity);
  assert.equal(warning, undefined);
  assert.equal(back.size, 2);
  assert.equal(back.dim, 3);
  assert.deepEqual(Array.from(back.vector(back.row(textKey('a')))).map((x) => +x.toFixed(6)), [0.8, 0.6, 0]);
  assert.equal(fs.readdirSync(dir).length, 1, 'no temp file left behind');
});

test('cache: a corrupt file, a wrong model or precision: empty cache with a warning naming the file', async () => {
  const dir = tmp();
  const file = path.join(dir, 'c.safetensors');
  fs.writeFileSync(file, Buffer.from([8, 0, 0, 0, 0, 0, 0, 0, 123, 34, 120, 34]));
  let r = await EmbeddingCache.load(file, identity);
  assert.equal(r.cache.size, 0);
  assert.match(r.warning ?? '', /embedding cache is corrupt, rebuilding it: .*c\.safetensors/);
  const cache = new EmbeddingCache(identity, 0);
  cache.put(textKey('a'), [1, 0]);
  cache.save(file);
  r = await EmbeddingCache.load(file, { ...identity, precision: 'fp32' });
  assert.equal(r.cache.size, 0);
  assert.match(r.warning ?? '', /another precision \(q8\); rebuilding/);
  // truncated data section
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(file, bytes.subarray(0, bytes.length - 5));
  assert.match((await EmbeddingCache.load(file, identity)).warning ?? '', /corrupt/);
  // missing file: silently empty
  assert.deepEqual((await EmbeddingCache.load(path.join(dir, 'none'), identity)).warning, undefined);
});

test('cache: loading the keys alone (vectors answered false) indexes every row, reads no vector, refuses to save', async () => {
  const dir = tmp();
  const file = path.join(dir, 'c.safetensors');
  const cache = new EmbeddingCache(identity, 0);
  for (let i = 0; i < 100; i++) cache.put(textKey(`p${i}`), [i, 1, 2]);
  cache.save(file);
  let asked = 0;
  const { cache: keysOnly, warning } = await EmbeddingCache.load(file, identity, { vectors: (c) => { asked++; assert.equal(c.row(textKey('p42')), 42); return false; } });
  assert.equal(warning, undefined);
  assert.equal(asked, 1);
  assert.equal(keysOnly.size, 100);
  assert.equal(keysOnly.hasVectors, false);
  assert.equal(keysOnly.row(textKey('p99')), 99);
  assert.equal(keysOnly.row(textKey('nope')), -1);
  assert.throws(() => keysOnly.vector(0), /without its vectors/);
  assert.throws(() => keysOnly.save(file), /without its vectors/);
  assert.throws(() => keysOnly.put(textKey('x'), [1, 2, 3]), /without its vectors/);
  // answering true reads them, from the same file handle
  const { cache: full } = await EmbeddingCache.load(file, identity, { vectors: () => true });
  assert.equal(full.hasVectors, true);
  assert.deepEqual(Array.from(full.vector(full.row(textKey('p7')))), [7, 1, 2]);
  // a keys tensor cut short is caught before any vector is read
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(file, bytes.subarray(0, bytes.length - 100 * 3 * 4 - 1));
  const r = await EmbeddingCache.load(file, identity, { vectors: () => false });
  assert.match(r.warning ?? '', /corrupt.*c\.safetensors/);
  assert.equal(r.cache.size, 0);
});

test('cache: key lookup by raw bytes survives colliding keys, growth, replacement and a reload; a repeated key in a file is corrupt', async () => {
  const dir = tmp();
  const file = path.join(dir, 'c.safetensors');
  const cache = new EmbeddingCache(identity, 0);
  // 300 keys sharing their first 4 bytes (the table's hash) plus 3000 ordinary ones
  const key = (i: number, same: boolean) => {
    const k = Buffer.from(textKey(`k${i}`));
    if (same) k.writeUInt32LE(0xdeadbeef, 0);
    return k;
  };
  for (let i = 0; i < 300; i++) cache.put(key(i, true), [i, 0]);
  for (let i = 0; i < 3000; i++) cache.put(key(i, false), [0, i]);
  cache.put(key(7, true), [-7, 0]); // replaces
  assert.equal(cache.size, 3300);
  const check = (c: EmbeddingCache) => {
    for (let i = 0; i < 300; i++) assert.deepEqual(Array.from(c.vector(c.row(key(i, true)))), [i === 7 ? -7 : i, 0]);
    for (let i = 0; i < 3000; i++) assert.deepEqual(Array.from(c.vector(c.row(key(i, false)))), [0, i]);
    assert.equal(c.row(key(300, true)), -1);
    const packed = Buffer.concat([Buffer.alloc(5), key(42, false)]);
    assert.equal(c.rowAt(packed, 5), c.row(key(42, false)));
    assert.equal(c.rowByHex(key(42, false).toString('hex')), c.row(key(42, false)));
  };
  check(cache);
  cache.save(file);
  check((await EmbeddingCache.load(file, identity)).cache);
  // a file whose keys tensor repeats a row
  const st = parseSafetensors(fs.readFileSync(file));
  const keys = Buffer.from(st.tensors.keys!.data);
  keys.copy(keys, 5 * 32, 2 * 32, 3 * 32);
  fs.writeFileSync(file, Buffer.concat(serializeSafetensors({ embeddings: st.tensors.embeddings!, keys: { dtype: 'U8', shape: [3300, 32], data: keys } }, st.metadata)));
  const r = await EmbeddingCache.load(file, identity);
  assert.match(r.warning ?? '', /key of row 5 repeats row 2/);
  assert.equal(r.cache.size, 0);
});

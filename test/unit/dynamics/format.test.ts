// parseDynamics (docs/contracts.md §8) on files written in-test: the typed views, no copy when
// aligned, and an error naming the file and the tensor or key for each way a file can be wrong.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DynamicsError, KEY_BYTES, encodeDynamics, parseDynamics } from '../../../src/core/dynamics';

const n = 5;
const key = new Uint8Array(n * KEY_BYTES).map((_, i) => (i * 7) & 255);
const good = () => ({
  key, line: [1, 2, 4, 5, 6], side: [0, 1, 0, 1, 1], split: [0, 0, 0, 1, 1], visits: [3, 3, 0, 2, 2],
  aum: [0.25, -1.5, NaN, 0.1, -0.2], confidence: [0.6, 0.2, NaN, 0.5, 0.4], evalSteps: [10, 20], evalMargin: [1, 2, 3, 4],
  metadata: { run: 'r-1', beta: '0.1', step: '20', epoch: '1.5', complete: 'false' },
});

test('round trip: rows, training / eval split, metadata, eval margins; views share the file bytes', () => {
  const bytes = encodeDynamics(good());
  const d = parseDynamics(bytes, 'x/dynamics.safetensors');
  assert.equal(d.rows, 5);
  assert.equal(d.trainRows, 3);
  assert.deepEqual([...d.line], [1, 2, 4, 5, 6]);
  assert.deepEqual([...d.side], [0, 1, 0, 1, 1]);
  assert.deepEqual([...d.visits], [3, 3, 0, 2, 2]);
  assert.equal(d.aum[1], -1.5);
  assert.ok(Number.isNaN(d.aum[2]!));
  assert.ok(Number.isNaN(d.diagWeight[0]!), 'diag_weight NaN for a non-RPO method');
  assert.deepEqual(d.evalSteps, [10, 20]);
  assert.deepEqual([...d.evalMargin], [1, 2, 3, 4]);
  assert.deepEqual(d.key, key);
  assert.deepEqual({ ...d.meta, raw: undefined }, { run: 'r-1', method: 'dpo', beta: 0.1, step: 20, epoch: 1.5, dataset: 'data.pref.jsonl', datasetSha256: '0'.repeat(64), labelsSha256: '0'.repeat(64), complete: false, raw: undefined });
  assert.equal(d.aum.buffer, bytes.buffer, 'aum is a view of the file bytes');
  assert.equal(d.key.buffer, bytes.buffer);
});

test('a misaligned buffer (the bytes at an odd offset) is read correctly through a copy', () => {
  const bytes = encodeDynamics(good());
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  const d = parseDynamics(shifted.subarray(1));
  assert.deepEqual([...d.line], [1, 2, 4, 5, 6]);
  assert.equal(d.aum[1], -1.5);
  assert.deepEqual(d.evalSteps, [10, 20]);
});

test('errors name the file and the tensor or metadata key', () => {
  const where = 'runs/a/dynamics.safetensors';
  const cases: [string, Uint8Array, RegExp][] = [
    ['not safetensors', new TextEncoder().encode('{"hello": 1}\n'), /runs\/a\/dynamics\.safetensors: header length \d+ exceeds the file/],
    ['truncated', encodeDynamics(good()).subarray(0, 200), /runs\/a\/dynamics\.safetensors: (header length|tensor \w+: data_offsets)/],
    ['another format', encodeDynamics({ ...good(), metadata: { format: 'rpo-embeddings' } }), /not an RPO training dynamics file \(__metadata__\.format is "rpo-embeddings"/],
    ['newer version', encodeDynamics({ ...good(), metadata: { version: '2' } }), /dynamics version 2 was written by a newer trainer; this RPO Studio reads version 1/],
    ['missing metadata', encodeDynamics({ ...good(), metadata: { labels_sha256: undefined as unknown as string } }), /__metadata__\.labels_sha256 is missing/],
    ['bad number', encodeDynamics({ ...good(), metadata: { beta: 'high' } }), /__metadata__\.beta "high" is not a number/],
    ['bad complete', encodeDynamics({ ...good(), metadata: { complete: 'yes' } }), /__metadata__\.complete "yes" must be "true" or "false"/],
    ['side 2', encodeDynamics({ ...good(), side: [0, 2, 0, 1, 1] }), /tensor side: row 1 is 2, expected 0 or 1/],
    ['eval row first', encodeDynamics({ ...good(), split: [0, 1, 0, 1, 1], evalMargin: [1, 2, 3, 4, 5, 6] }), /tensor split: training row 2 comes after eval row 1/],
  ];
  for (const [name, bytes, re] of cases) {
    assert.throws(() => parseDynamics(bytes, where), (e: Error) => e instanceof DynamicsError && re.test(e.message) && e.message.includes(where), name);
  }
});

test('a wrong dtype, a wrong shape or a missing tensor is named', () => {
  const where = 'd.safetensors';
  const bytes = encodeDynamics(good());
  const len = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len))) as Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>;
  const rewrite = (edit: (h: typeof header) => void) => {
    const h = structuredClone(header);
    edit(h);
    let json = JSON.stringify(h);
    json += ' '.repeat((8 - (json.length % 8)) % 8);
    const head = new TextEncoder().encode(json);
    const out = new Uint8Array(8 + head.length + bytes.length - 8 - len);
    new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
    out.set(head, 8);
    out.set(bytes.subarray(8 + len), 8 + head.length);
    return out;
  };
  assert.throws(() => parseDynamics(rewrite((h) => { h.line!.dtype = 'F32'; }), where), /d\.safetensors: tensor line has dtype F32, expected I32/);
  assert.throws(() => parseDynamics(rewrite((h) => { h.side!.dtype = 'I8'; }), where), /d\.safetensors: tensor side has dtype I8, expected U8/);
  assert.throws(() => parseDynamics(rewrite((h) => { h.aum!.shape = [1, 5]; }), where), /d\.safetensors: tensor aum has shape \[1, 5\], expected \[5\]/);
  assert.throws(() => parseDynamics(rewrite((h) => { h.eval_margin!.shape = [4, 1]; }), where), /d\.safetensors: tensor eval_margin has F32 \[4, 1\], expected F32 \[2, 2\] \(evals x eval rows\)/);
  assert.throws(() => parseDynamics(rewrite((h) => { delete h.variability; }), where), /d\.safetensors: tensor variability is missing/);
  assert.throws(() => parseDynamics(rewrite((h) => { h.aum!.dtype = 'I32'; }), where), /d\.safetensors: tensor aum has dtype I32, expected F32/);
  assert.throws(() => parseDynamics(rewrite((h) => { h.aum!.dtype = 'Q4'; }), where), /d\.safetensors: tensor aum: unsupported dtype Q4/);
});

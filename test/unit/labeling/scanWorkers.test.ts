import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { buildSync } from 'esbuild';
import { LabelingModel } from '../../../src/labeling/model';
import { FILTERS } from '../../../src/protocol/labeling';

/**
 * The scan split over several worker threads (contiguous ranges of the same shared bytes) gives
 * the same codes, counts, filter lists and invalid lines as one scan on this thread, and an edit
 * made before the workers reach its line is counted once. The real worker, bundled here.
 */
const dir = mkdtempSync(join(tmpdir(), 'rpo-scan-workers-'));
const workerPath = join(dir, 'labelingScan.js');
buildSync({ entryPoints: [resolve(__dirname, '../../../src/labeling/labelingScan.worker.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: workerPath, logLevel: 'error' });

test('three scan workers give what one scan gives; early edits counted once', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 45_000; i++) {
    if (i % 997 === 0) lines.push(`{"prompt": "broken ${i}"`);
    else if (i % 7 === 0) lines.push(JSON.stringify({ prompt: `p${i}`, chosen: 'a', rejected: 'b', rpo_label: { annotator: `a${i % 3}`, time: '2025-01-01T00:00:00Z', status: i % 2 ? 'skip' : null, strength: null, note: null, shown: null } }));
    else lines.push(JSON.stringify({ prompt: `p${i}`, responses: [`x${i}`, `y${i}`] }));
  }
  const file = join(dir, 'many.pref.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  const settings = { annotator: 'early', seed: 's' };
  const parallel = await LabelingModel.open(file, { workerPath, scanWorkers: 3 });
  parallel.label(44_001, 'chooseLeft', settings, '2026-01-01T00:00:00.000Z'); // in the third range, before it is scanned
  const single = await LabelingModel.open(file);
  single.label(44_001, 'chooseLeft', settings, '2026-01-01T00:00:00.000Z');
  await Promise.all([parallel.whenScanned(), single.whenScanned()]);
  assert.deepEqual(parallel.counts, single.counts);
  assert.equal(parallel.counts.complete, true);
  assert.equal(parallel.counts.byAnnotator.early, 1);
  assert.deepEqual(parallel.codes, single.codes);
  for (const f of FILTERS) assert.deepEqual(await parallel.matching(f, ''), await single.matching(f, ''), f);
  assert.deepEqual([...parallel.invalid.keys()].sort((a, b) => a - b), [...single.invalid.keys()].sort((a, b) => a - b));
  assert.equal(parallel.invalid.size, 46);
  assert.deepEqual(await parallel.matching('all', 'broken 44'), await single.matching('all', 'broken 44'));
  parallel.dispose();
  single.dispose();
});

test('LabelingModel.open with scanGate: the worker scan waits for the gate; counts stay unscanned until then', async () => {
  const file = join(dir, 'gate.pref.jsonl');
  writeFileSync(file, Array.from({ length: 3000 }, (_, i) => (i === 7 ? '{"prompt": broken' : JSON.stringify({ prompt: `q ${i}`, responses: ['a', 'b'] }))).join('\n') + '\n');
  let open!: () => void;
  const gate = new Promise<void>((done) => (open = done));
  const m = await LabelingModel.open(file, { workerPath, scanGate: gate });
  try {
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(m.counts.scanned, 0, 'no scan before the gate opens');
    open();
    await m.whenScanned();
    assert.equal(m.counts.scanned, m.lineCount);
    assert.equal(m.counts.invalid, 1);
  } finally {
    m.dispose();
  }
});

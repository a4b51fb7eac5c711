import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseText } from '../../../src/core/dataset';
import { promptText, DEFAULT_SETTINGS, planEpoch } from '../../../src/core/contrast';
import type { DatasetPrompts } from '../../../src/embeddings/datasetPrompts';
import { PreviewSession, previewSettingsOf } from '../../../src/preview/session';
import { contrastSettingsOf, validateRunConfig } from '../../../src/core/run/config';
import { MAX_BATCH, MAX_PROCESSES, TAU_RANGE, parseViewMessage } from '../../../src/protocol/preview';

/** The preview's data model on hand-made vectors (no model): what the webview is sent. */
function dataset(records: object[], vec: (prompt: string) => number[]): { data: DatasetPrompts; vectors: Float32Array; dim: number } {
  const data: DatasetPrompts = { lines: [], prompts: [], invalid: [] };
  records.forEach((r, line) => {
    const rec = parseText(JSON.stringify(r));
    data.lines.push([line, rec]);
    if (rec.kind !== 'invalid' && rec.kind !== 'blank') data.prompts.push({ line, text: promptText(rec.prompt) });
  });
  const dim = vec('x').length;
  const vectors = new Float32Array(data.prompts.length * dim);
  data.prompts.forEach((p, i) => {
    const v = vec(p.text);
    const n = Math.hypot(...v);
    v.forEach((x, d) => { vectors[i * dim + d] = x / n; });
  });
  return { data, vectors, dim };
}

const topics: Record<string, number[]> = { bread: [1, 0.1, 0], bike: [0, 1, 0.1], piano: [0.1, 0, 1] };
const vec = (text: string) => {
  const t = Object.keys(topics).find((k) => text.includes(k));
  const base = t ? topics[t]! : [0.5, 0.5, 0.5];
  const jitter = text.length % 7 / 50;
  return [base[0]! + jitter, base[1]!, base[2]! + jitter / 2];
};
const records = [
  ...['bread', 'bike', 'piano'].flatMap((t) => Array.from({ length: 4 }, (_, i) => ({ prompt: `how do I ${t} ${'?'.repeat(i + 1)}`, chosen: 'a', rejected: 'b' }))),
  { prompt: 'how do I bread ?', chosen: 'dup prompt', rejected: 'b' },
  { prompt: 'thumbs', completion: 'c', label: false },
];

test('neighbours: same-topic prompts first, the record\'s own prompt (and duplicates) excluded', () => {
  const { data, vectors, dim } = dataset(records, vec);
  const s = new PreviewSession(data, vectors, dim, { ...DEFAULT_SETTINGS });
  const nb = s.neighbours(0, 3)!;
  assert.equal(nb.line, 0);
  assert.deepEqual(nb.items.map((n) => n.line).sort(), [1, 2, 3]); // the other bread prompts, not line 12 (same text as line 0)
  assert.ok(nb.items.every((n) => n.cosine < 1 && n.cosine > 0.9));
  assert.ok(nb.meanCosine < nb.items[0]!.cosine);
  assert.equal(s.neighbours(99, 3), null);
});

test('batch: rank 0 slice of the trainer\'s plan; settings re-plan; global contrast spans G', () => {
  const { data, vectors, dim } = dataset(records, vec);
  const s = new PreviewSession(data, vectors, dim, { ...DEFAULT_SETTINGS, batchSize: 2, numProcesses: 2, seed: 5 });
  assert.equal(s.usable, 13);
  const plan = planEpoch(13, { seed: 5, epoch: 0, batchSize: 2, numProcesses: 2 });
  const b = s.batch(1);
  assert.deepEqual(b.rowLines, plan.ranks[1]![0]);
  assert.equal(b.cosine.length, 4);
  s.update({ globalContrast: true });
  assert.deepEqual(s.batch(1).rowLines, plan.batches[1]);
  s.update({ similarityBatching: true });
  const sim = s.batch(0);
  assert.equal(sim.rowLines.length, 4);
  s.update({ batchSize: 50 });
  assert.equal(s.batchCount(), 1);
  assert.match(s.warnings().join(' '), /Only 13 training records, fewer than the global batch of 100/);
});

test('unpaired: chosen x rejected of the batch; a batch without rejected items warns', () => {
  const { data, vectors, dim } = dataset(records, vec);
  const s = new PreviewSession(data, vectors, dim, { ...DEFAULT_SETTINGS, mode: 'unpaired', batchSize: 28 });
  assert.equal(s.usable, 27); // 13 paired x 2 + 1 unpaired
  const b = s.batch(0);
  assert.equal(b.rowLines.length, 13);
  assert.equal(b.colLines.length, 14);
  const onlyChosen = dataset([{ prompt: 'p bread', completion: 'c', label: true }, { prompt: 'q bike', completion: 'd', label: true }], vec);
  const s2 = new PreviewSession(onlyChosen.data, onlyChosen.vectors, onlyChosen.dim, { ...DEFAULT_SETTINGS, mode: 'unpaired', batchSize: 2 });
  const b2 = s2.batch(0);
  assert.equal(b2.colLines.length, 0);
  assert.match(s2.warnings(b2).join(' '), /no rejected item: it contributes no loss/);
});

test('webview messages are validated', () => {
  assert.deepEqual(parseViewMessage({ type: 'settings', settings: { batchSize: 8, similarityBatching: true } }), { type: 'settings', settings: { batchSize: 8, similarityBatching: true } });
  assert.match(parseViewMessage({ type: 'settings', settings: { batchSize: 0 } }) as string, /batchSize must be an integer from 1 to 256/);
  assert.match(parseViewMessage({ type: 'settings', settings: { evil: 1 } }) as string, /unknown field evil/);
  assert.match(parseViewMessage({ type: 'reveal', line: -1 }) as string, /bad line/);
  assert.match(parseViewMessage({ type: 'nope' }) as string, /unknown message type/);
  assert.equal(parseViewMessage(null), 'not an object');
});

test('a run config\'s huge batch_size / num_processes / tau are clamped to the preview\'s controls, and the preview says so', () => {
  // A workspace file, untrusted input: unclamped, 1e9 x 1e6 would allocate an array per process and a G x G matrix.
  const config = validateRunConfig({ model: 'm', dataset: 'd', batch_size: 1_000_000_000, num_processes: 1_000_000, tau: 50, global_contrast: true }, 'big.rpo.json');
  const { settings, notes } = previewSettingsOf(config);
  assert.equal(settings.batchSize, MAX_BATCH);
  assert.equal(settings.numProcesses, MAX_PROCESSES);
  assert.equal(settings.tau, TAU_RANGE.max);
  assert.equal(settings.globalContrast, true);
  assert.equal(notes.length, 3);
  assert.match(notes[0]!, /batch_size \(1000000000\) is outside what the preview shows \(1 to 256\): previewing batch_size 256\. Training uses 1000000000\./);
  assert.match(notes[1]!, /num_processes \(1000000\)/);
  assert.match(notes[2]!, /tau \(50\)/);
  const { data, vectors, dim } = dataset(records, vec);
  const s = new PreviewSession(data, vectors, dim, settings, notes);
  assert.equal(s.view().batchSize, MAX_BATCH);
  assert.deepEqual(s.warnings().slice(0, 3), notes, 'the notes are shown with the warnings');
  assert.equal(s.batch(0).rowLines.length, s.usable, 'one batch of every record (fewer than the global batch)');

  const ok = validateRunConfig({ model: 'm', dataset: 'd', batch_size: 8, num_processes: 2, tau: 0.25 }, 'ok.rpo.json');
  assert.deepEqual(previewSettingsOf(ok), { settings: contrastSettingsOf(ok), notes: [] }, 'values within range are kept as they are');
});

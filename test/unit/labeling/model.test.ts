import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LabelingModel } from '../../../src/labeling/model';
import { parseViewMessage } from '../../../src/protocol/labeling';

const settings = { annotator: 'ann', seed: 'seed-1' };

function fixture(lines: string[], ending = '\n'): string {
  const dir = mkdtempSync(join(tmpdir(), 'rpo-labeling-'));
  const file = join(dir, 'x.pref.jsonl');
  writeFileSync(file, lines.join(ending) + ending);
  return file;
}

const cand = (p: string) => JSON.stringify({ prompt: p, responses: [`${p} answer A`, `${p} answer B`] });
const paired = (p: string) => JSON.stringify({ prompt: p, chosen: 'good', rejected: 'bad' });

test('scan classifies lines: counts, filters, invalid lines with reasons', async () => {
  const file = fixture([cand('q1'), paired('q2'), '{"prompt": 1', '', JSON.stringify({ prompt: 'q5', completion: 'c' }), '[1,2]']);
  const m = await LabelingModel.open(file);
  await m.whenScanned();
  const c = m.counts;
  assert.equal(c.lines, 6);
  assert.equal(c.complete, true);
  assert.equal(c.records, 3);
  assert.equal(c.invalid, 2);
  assert.equal(c.unlabeled, 3); // candidates + unreviewed paired + completion
  assert.deepEqual([...(await m.matching('invalid', ''))!], [2, 5]);
  assert.match(m.invalid.get(2)!.reason, /JSON/);
  assert.match(m.invalid.get(5)!.reason, /object/);
  const rows = await m.rows('all', '', 0, 10);
  assert.equal(rows.matching, 6);
  assert.deepEqual(rows.rows.map((r) => r.status), ['unlabeled', 'unreviewed', 'invalid', 'blank', 'unlabeled', 'invalid']);
  m.dispose();
});

test('label, undo, redo update the line, counts and filters; save writes only the labeled line', async () => {
  const lines = [cand('q1'), cand('q2'), '{bad json', cand('q4')];
  const file = fixture(lines, '\r\n');
  const m = await LabelingModel.open(file);
  await m.whenScanned();
  const edit = m.label(1, 'chooseLeft', settings, '2026-01-01T00:00:00.000Z');
  assert.equal(m.counts.labeled, 1);
  assert.equal(m.counts.unlabeled, 2);
  assert.deepEqual([...(await m.matching('labeled', ''))!], [1]);
  assert.equal(m.counts.byAnnotator.ann, 1);
  const detail = m.detail(1, settings.seed);
  assert.equal(detail.status, 'labeled');
  assert.equal(detail.label?.annotator, 'ann');
  assert.equal(detail.label?.strength, 'clearly');
  m.undo(edit);
  assert.equal(m.counts.labeled, 0);
  assert.deepEqual([...(await m.matching('labeled', ''))!], []);
  m.redo(edit);
  assert.equal(m.counts.labeled, 1);
  await m.save();
  const after = readFileSync(file, 'utf8').split('\r\n');
  assert.equal(after.length, 5);
  assert.equal(after[0], lines[0]);
  assert.equal(after[2], lines[2]);
  assert.equal(after[3], lines[3]);
  assert.notEqual(after[1], lines[1]);
  const rec = JSON.parse(after[1]!);
  assert.equal(rec.rpo_label.annotator, 'ann');
  assert.ok(['q2 answer A', 'q2 answer B'].includes(rec.chosen));
  // The left response (as displayed) became chosen.
  assert.equal(rec.chosen, rec.rpo_label.shown[0] === 'responses.0' ? 'q2 answer A' : 'q2 answer B');
  m.dispose();
});

test('next unlabeled skips decided lines and wraps; navigation follows the filter', async () => {
  const file = fixture([cand('a'), cand('b'), cand('c'), cand('d')]);
  const m = await LabelingModel.open(file);
  await m.whenScanned();
  m.label(1, 'tie', settings);
  assert.equal(m.nextUnlabeled(0), 2);
  assert.equal(m.nextUnlabeled(3), 0);
  assert.equal(await m.navigate('next', 'unlabeled', '', 0), 2);
  assert.equal(await m.navigate('previous', 'all', '', 0), 0);
  assert.equal(await m.navigate('last', 'tieSkip', '', 0), 1);
  m.dispose();
});

test('search finds lines case-insensitively, including edited lines', async () => {
  const file = fixture([cand('Apple pie'), cand('banana'), cand('APPLE juice')]);
  const m = await LabelingModel.open(file);
  await m.whenScanned();
  assert.deepEqual([...(await m.matching('all', 'apple'))!], [0, 2]);
  m.note(1, 'tastes like apple', settings);
  assert.deepEqual([...(await m.matching('all', 'apple'))!], [0, 1, 2]);
  assert.deepEqual([...(await m.matching('labeled', 'apple'))!], []);
  m.dispose();
});

test('edits before the scan reaches a line are counted once', async () => {
  const many = Array.from({ length: 45_000 }, (_, i) => cand(`p${i}`));
  const file = fixture(many);
  const m = await LabelingModel.open(file);
  m.label(44_000, 'chooseRight', settings);
  await m.whenScanned();
  assert.equal(m.counts.labeled, 1);
  assert.equal(m.counts.unlabeled, 44_999);
  m.dispose();
});

test('webview messages are validated', () => {
  assert.deepEqual(parseViewMessage({ type: 'label', index: 3, action: 'tie' }), { type: 'label', index: 3, action: 'tie' });
  assert.equal(typeof parseViewMessage({ type: 'label', index: -1, action: 'tie' }), 'string');
  assert.equal(typeof parseViewMessage({ type: 'label', index: 1, action: 'rm -rf' }), 'string');
  assert.equal(typeof parseViewMessage({ type: 'rows', requestId: 1, filter: 'all', query: '', start: 0, count: 100000 }), 'string');
  assert.equal(typeof parseViewMessage({ type: 'nope' }), 'string');
  assert.equal(typeof parseViewMessage(null), 'string');
  assert.deepEqual(parseViewMessage({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseViewMessage({ type: 'ready', embedded: 'a-b' }), { type: 'ready', embedded: 'a-b' });
  assert.equal(typeof parseViewMessage({ type: 'ready', embedded: 7 }), 'string');
  assert.equal(typeof parseViewMessage({ type: 'ready', embedded: 'x'.repeat(101) }), 'string');
  assert.equal(typeof parseViewMessage({ type: 'note', index: 1, note: 'x'.repeat(20_000) }), 'string');
});

test('a second annotator disagreeing makes the record disputed: the Disputed filter lists it, the count follows undo', async () => {
  const file = fixture([paired('q1'), paired('q2')]);
  const m = await LabelingModel.open(file);
  await m.whenScanned();
  m.label(0, 'chooseLeft', { annotator: 'ann', seed: 'seed-1' }, '2026-01-01T00:00:00.000Z');
  const shown = m.detail(0, 'seed-1');
  assert.equal(shown.status, 'labeled');
  // bo picks the other side (the right one as displayed now)
  const edit = m.label(0, 'chooseRight', { annotator: 'bo', seed: 'seed-1' }, '2026-01-01T00:00:05.000Z');
  assert.equal(m.counts.disputed, 1);
  assert.equal(m.counts.labeled, 0);
  assert.deepEqual([...(await m.matching('disputed', ''))!], [0]);
  assert.equal((await m.rows('disputed', '', 0, 10)).rows[0]!.status, 'disputed');
  m.undo(edit);
  assert.equal(m.counts.disputed, 0);
  assert.deepEqual([...(await m.matching('disputed', ''))!], []);
  m.dispose();
});

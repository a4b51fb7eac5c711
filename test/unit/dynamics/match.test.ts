// Matching a run's dynamics rows to the file as it is now (docs/contracts.md §8), on dynamics
// files written in-test (encodeDynamics, laid out like the trainer's safetensors writer) for a
// real file's usable list, then edited: lines added, removed, moved, relabeled, set aside,
// duplicated. Every match is checked against the content on the matched line: never a wrong match.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type UsableMode, usableItems } from '../../../src/core/contrast/usable';
import { type ParsedLine, parseText } from '../../../src/core/dataset/formats';
import {
  type Dynamics, DynamicsIndex, KEY_BYTES, NO_SIDE, ROW_LABEL_CHANGED, ROW_MOVED, ROW_NOT_FOUND, ROW_UNLABELED,
  encodeDynamics, keyHex, keyedRecords, labelsChangedCount, labelsSha256, matchDynamics, pairKeyAndSide, parseDynamics, rankSuspects, rowOfLine,
} from '../../../src/core/dynamics';

const rec = (i: number, flip = false, extra = '') => {
  const [c, r] = flip ? [`bad ${i}`, `good answer ${i}`] : [`good answer ${i}`, `bad ${i}`];
  return `{"prompt":"question ${i % 7}?","chosen":${JSON.stringify(c)},"rejected":${JSON.stringify(r)}${extra}}`;
};
const parsed = (texts: string[]): [number, ParsedLine][] => texts.map((t, i) => [i, parseText(t)]);

/** A run over `texts` as the trainer would record it: usable list, last `evalCount` rows eval, aum = -(row index) so row order = suspect order reversed. */
function runOver(texts: string[], mode: UsableMode = 'paired', evalCount = 0, aum?: (i: number) => number): Dynamics {
  const items = usableItems(parsed(texts), mode);
  const n = items.length;
  const key = new Uint8Array(n * KEY_BYTES);
  const side: number[] = [];
  items.forEach((it, i) => {
    const k = pairKeyAndSide(it);
    key.set(k.key, i * KEY_BYTES);
    side.push(k.side!);
  });
  return parseDynamics(encodeDynamics({
    key, side, line: items.map((it) => it.line + 1), split: items.map((_, i) => (i >= n - evalCount ? 1 : 0)),
    visits: items.map((_, i) => (i === 3 ? 0 : 2)), aum: items.map((_, i) => (aum ? aum(i) : i % 2 ? -i : i)),
    evalSteps: evalCount ? [5, 10] : [], evalMargin: new Float32Array(evalCount * 2).fill(0.5),
    metadata: { labels_sha256: labelsSha256(items), method: mode === 'paired' ? 'dpo' : 'rpo-unpaired' },
  }), 'run/dynamics.safetensors');
}

function matchTo(d: Dynamics, texts: string[], mode: UsableMode = 'paired') {
  const lines = parsed(texts);
  const m = matchDynamics(d, keyedRecords(lines, mode));
  // Never a wrong match: the record on the matched line has the row's key.
  for (let r = 0; r < d.rows; r++) {
    const line = m.rowLine[r]!;
    if (line === -1) {
      assert.equal(m.rowFlags[r], ROW_NOT_FOUND);
      continue;
    }
    const keys = [...keyedRecords([lines[line]!], mode)].map((k) => keyHex(k.key));
    assert.ok(keys.includes(keyHex(d.key, r * KEY_BYTES)), `row ${r} matched to line ${line}, whose record has another key`);
  }
  return m;
}

const base = Array.from({ length: 12 }, (_, i) => rec(i));

test('the same file: every row found on its own line, nothing moved or changed, labels hash equal', () => {
  const d = runOver(base, 'paired', 2);
  const m = matchTo(d, base);
  assert.equal(m.counts.matched, 12);
  assert.equal(m.counts.train.matched, 10);
  assert.deepEqual([m.counts.moved, m.counts.labelChanged, m.counts.notFound, m.counts.unlabeled, m.counts.fileUnmatched], [0, 0, 0, 0, 0]);
  assert.deepEqual([...m.rowLine], [...Array(12).keys()]);
  assert.ok(m.rowFlags.every((f) => f === 0));
  assert.equal(m.labelsSha256, d.meta.labelsSha256);
  assert.deepEqual([...rowOfLine(m, 12)], [...Array(12).keys()]);
});

test('lines added at the top and in the middle: rows found on their new lines, marked moved, no label changed', () => {
  const d = runOver(base);
  const edited = ['{"prompt":"new","chosen":"x","rejected":"y"}', '', ...base.slice(0, 5), rec(100), ...base.slice(5)];
  const m = matchTo(d, edited);
  assert.equal(m.counts.matched, 12);
  assert.equal(m.counts.moved, 12);
  assert.equal(m.counts.labelChanged, 0);
  assert.equal(m.counts.fileUnmatched, 2, 'the two new records have no row');
  assert.equal(m.rowLine[0], 2);
  assert.equal(m.rowLine[5], 8);
  assert.ok(m.rowFlags.every((f) => f === ROW_MOVED));
  assert.notEqual(m.labelsSha256, d.meta.labelsSha256);
});

test('a line removed: its row is not found; the rows after it moved up', () => {
  const d = runOver(base);
  const m = matchTo(d, [...base.slice(0, 4), ...base.slice(5)]);
  assert.equal(m.rowFlags[4], ROW_NOT_FOUND);
  assert.equal(m.rowLine[4], -1);
  assert.equal(m.counts.notFound, 1);
  assert.equal(m.rowLine[5], 4);
  assert.equal(m.rowFlags[5], ROW_MOVED);
  assert.equal(m.rowFlags[3], 0);
});

test('a record moved to the end and another relabeled (chosen and rejected swapped): found, moved, label changed', () => {
  const d = runOver(base);
  const edited = [...base];
  edited[6] = rec(6, true);
  const moved = edited.splice(2, 1)[0]!;
  edited.push(moved);
  const m = matchTo(d, edited);
  assert.equal(m.rowLine[2], 11);
  assert.equal(m.rowFlags[2], ROW_MOVED);
  assert.equal(m.rowFlags[6], ROW_MOVED | ROW_LABEL_CHANGED);
  assert.equal(m.rowLine[6], 5);
  assert.equal(labelsChangedCount(m), 1);
  assert.equal(m.counts.notFound, 0);
});

test('a record set to tie, one edited (its text changed), one with an unparseable line: unlabeled, not found, not found', () => {
  const d = runOver(base);
  const edited = [...base];
  edited[1] = rec(1, false, ',"rpo_label":{"status":"tie","annotator":"me","time":"2026-01-01T00:00:00Z"}');
  edited[2] = rec(2).replace('good answer 2', 'good answer 2, edited');
  edited[3] = '{"prompt": oops';
  const m = matchTo(d, edited);
  assert.equal(m.rowFlags[1], ROW_UNLABELED);
  assert.equal(m.rowLine[1], 1);
  assert.equal(m.rowFlags[2], ROW_NOT_FOUND);
  assert.equal(m.rowFlags[3], ROW_NOT_FOUND);
  assert.equal(m.counts.unlabeled, 1);
  assert.equal(m.counts.labelChanged, 0);
});

test('duplicates: two identical records, one relabeled, the copies swapped in place: each row keeps the copy on its own line', () => {
  const texts = [rec(1), rec(2), rec(1), rec(3)];
  const d = runOver(texts);
  assert.equal(keyHex(d.key, 0), keyHex(d.key, 2 * KEY_BYTES));
  const edited = [rec(1, true), rec(2), rec(1), rec(3)];
  const m = matchTo(d, edited);
  assert.equal(m.rowLine[0], 0);
  assert.equal(m.rowFlags[0], ROW_LABEL_CHANGED);
  assert.equal(m.rowLine[2], 2);
  assert.equal(m.rowFlags[2], 0);
  // One copy removed: the remaining copy is matched once, the other row not found.
  const m2 = matchTo(d, [rec(2), rec(1), rec(3)]);
  assert.equal(m2.counts.matched, 3);
  assert.equal(m2.counts.notFound, 1);
  assert.equal(new Set([...m2.rowLine].filter((l) => l >= 0)).size, 3, 'no line matched twice');
});

test('another file altogether (hash mismatch): nothing matches, every row not found', () => {
  const d = runOver(base);
  const other = Array.from({ length: 12 }, (_, i) => rec(i + 50));
  const m = matchTo(d, other);
  assert.equal(m.counts.matched, 0);
  assert.equal(m.counts.notFound, 12);
  assert.equal(m.counts.fileUnmatched, 12);
  assert.notEqual(m.labelsSha256, d.meta.labelsSha256);
});

test('rpo-unpaired: two rows per paired record (chosen item, rejected item), a flip changes both labels', () => {
  const texts = [rec(1), '{"prompt":"u","completion":"c","label":true}', rec(2)];
  const d = runOver(texts, 'unpaired');
  assert.equal(d.rows, 5);
  const m = matchTo(d, texts, 'unpaired');
  assert.equal(m.counts.matched, 5);
  assert.equal(m.labelsSha256, d.meta.labelsSha256);
  const m2 = matchTo(d, [rec(1, true), '{"prompt":"u","completion":"c","label":false}', rec(2)], 'unpaired');
  assert.equal(m2.counts.labelChanged, 3);
  assert.deepEqual([...m2.rowLine], [0, 0, 1, 2, 2]);
  // Line 0's first item is now 'bad 1' (label true): the run's row 1 (its rejected item).
  assert.deepEqual([...rowOfLine(m2, 3)], [1, 2, 3]);
});

test('rankSuspects: training rows visited with aum < 0, ascending aum, ties by line; top K; all', () => {
  const aums = [0.5, -1, -3, -2, -1, 0, NaN, -0.5, 2, -1];
  const texts = Array.from({ length: 10 }, (_, i) => rec(i));
  const d = runOver(texts, 'paired', 1, (i) => aums[i]!);
  // row 3 has visits 0 (never ranked), row 6 NaN, row 9 is an eval row.
  assert.deepEqual([...rankSuspects(d)], [2, 1, 4, 7]);
  assert.deepEqual([...rankSuspects(d, { top: 2 })], [2, 1]);
  assert.deepEqual([...rankSuspects(d, { all: true })], [2, 1, 4, 7, 5, 0, 8]);
});

test('DynamicsIndex: rowsOf / find by key, -1 for an unknown key', () => {
  const texts = [rec(1), rec(2), rec(1)];
  const d = runOver(texts);
  const idx = new DynamicsIndex(d);
  const k = pairKeyAndSide({ prompt: 'question 1?', chosen: 'good answer 1', rejected: 'bad 1' }).key;
  assert.deepEqual(idx.rowsOf(k), [0, 2]);
  assert.equal(idx.find(k), 0);
  assert.equal(idx.find(new Uint8Array(32)), -1);
  assert.equal(NO_SIDE, 255);
});

test('identical records on several lines: a line added above and one copy moved to the end: the copies that stayed keep their rows', () => {
  const texts = [rec(1), rec(2), rec(3), rec(1), rec(4), rec(5), rec(1)];
  const d = runOver(texts);
  const edited = ['{"prompt":"new","chosen":"x","rejected":"y"}', ...texts.slice(1), rec(1)];
  const m = matchTo(d, edited);
  assert.deepEqual([...m.rowLine], [7, 1, 2, 3, 4, 5, 6]);
  assert.equal(m.rowFlags[0], ROW_MOVED, 'the first copy moved to the end');
  assert.equal(m.rowFlags[3], 0);
  assert.equal(m.rowFlags[6], 0);
  assert.equal(m.counts.moved, 1);
  // A copy added between the others is the one left over.
  const m2 = matchTo(d, [rec(1), rec(2), rec(1), rec(3), rec(1), rec(4), rec(5), rec(1)]);
  assert.equal(m2.counts.fileUnmatched, 1);
  assert.equal(m2.rowLine[0], 0);
  assert.equal(m2.rowLine[3], 4);
  assert.equal(m2.rowLine[6], 7);
  assert.deepEqual([...m2.recordRow], [0, 1, -1, 2, 3, 4, 5, 6]);
});

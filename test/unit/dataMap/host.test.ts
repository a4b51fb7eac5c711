// The host's side of the data map on real bytes: a dynamics file encoded in-test and parsed back,
// a real dataset file on disk read line by line (LineOffsets), the protocol's map messages.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { selectBox } from '../../../src/core/dataMap';
import { firstLine, hoverText, mapPayload, mapRows, recordsOf } from '../../../src/core/dataMap/host';
import { KEY_BYTES, encodeDynamics, pairedKeyAndSide, parseDynamics } from '../../../src/core/dynamics';
import { LineOffsets } from '../../../src/node/lineOffsets';
import { parseDashboardMessage } from '../../../src/protocol/dashboard';

const records = [
  { prompt: 'What is 2+2?\nAnswer briefly.', chosen: '4', rejected: '5' },
  { prompt: '\n  Name a colour.  ', chosen: 'red', rejected: 'seven' },
  { prompt: [{ role: 'user', content: 'Hi there\nfriend' }], chosen: [{ role: 'assistant', content: 'Hello' }], rejected: [{ role: 'assistant', content: 'Go away' }] },
  { prompt: 'Unvisited?', chosen: 'a', rejected: 'b' },
];

function fixture() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-map-'));
  const file = path.join(dir, 'data.pref.jsonl');
  // Line 1 a blank, so the records sit on lines 2..5; CRLF endings on some lines.
  fs.writeFileSync(file, ['', ...records.map((r) => JSON.stringify(r))].join('\n').replace(/\n(\{"prompt":"\\n)/, '\r\n$1') + '\n');
  const key = new Uint8Array((records.length + 1) * KEY_BYTES);
  records.forEach((r, i) => key.set(pairedKeyAndSide(r.prompt, r.chosen, r.rejected).key, i * KEY_BYTES));
  key.set(pairedKeyAndSide(records[0]!.prompt, records[0]!.chosen, records[0]!.rejected).key, records.length * KEY_BYTES);
  const d = parseDynamics(
    encodeDynamics({
      key,
      line: [2, 3, 4, 5, 2],
      side: [0, 1, 0, 0, 0],
      split: [0, 0, 0, 0, 1],
      visits: [3, 2, 4, 0, 1],
      aum: [0.5, -1, 0.25, NaN, 0.1],
      confidence: [0.7, 0.2, 0.6, NaN, 0.5],
      variability: [0.05, 0.1, 0.3, NaN, 0],
      correctness: [1, 0, 0.75, NaN, 1],
      metadata: { dataset: file, step: '12', complete: 'true' },
    }),
  );
  return { dir, file, d };
}

test('points are the visited training rows; the payload holds only their float32 columns', () => {
  const { d } = fixture();
  const m = mapRows(d);
  assert.deepEqual([...m.rows], [0, 1, 2], 'row 3 never visited, row 4 is an eval row');
  assert.equal(m.unvisited, 1);
  const p = mapPayload(d, m);
  assert.equal(p.count, 3);
  assert.deepEqual([...new Float32Array(p.confidence)], [0.699999988079071, 0.20000000298023224, 0.6000000238418579]);
  assert.deepEqual([...new Float32Array(p.aum)], [0.5, -1, 0.25]);
  assert.equal(p.variability.byteLength, 12, 'its own buffer, not a view of the file');
  assert.equal(p.step, 12);
  assert.equal(p.complete, true);
});

test('hover reads only the point’s line and shows the first line of its prompt; a changed line says so', async () => {
  const { d, file } = fixture();
  const m = mapRows(d);
  const offsets = await LineOffsets.scan(file);
  assert.equal(offsets.lineCount, 5);
  const show = async (point: number) => hoverText(d, m.rows[point]!, await offsets.line(d.line[m.rows[point]!]!), 'paired');
  assert.deepEqual(await show(0), { text: 'What is 2+2?', note: null });
  assert.deepEqual(await show(1), { text: 'Name a colour.', note: null }, 'blank first line skipped, CRLF line read');
  assert.deepEqual(await show(2), { text: 'user: Hi there', note: null }, 'a message list: "role: content"');
  // A relabel (chosen and rejected swapped) keeps the pair key: the prompt still shows.
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines[1] = JSON.stringify({ ...records[0], chosen: '5', rejected: '4' });
  // An edit of the text: another pair.
  lines[2] = JSON.stringify({ ...records[1], chosen: 'blue' });
  fs.writeFileSync(file, lines.join('\n'));
  assert.equal(await offsets.current(), false, 'the file changed since the scan');
  const again = await LineOffsets.scan(file);
  assert.deepEqual(hoverText(d, 0, await again.line(2), 'paired'), { text: 'What is 2+2?', note: null });
  assert.deepEqual(hoverText(d, 1, await again.line(3), 'paired'), { text: null, note: 'line 3 holds another record now: the file changed since the run (click to find the pair by its content)' });
  assert.deepEqual(hoverText(d, 1, await again.line(99), 'paired'), { text: null, note: 'line 3 is gone: the file is shorter than when the run read it (click to find the pair by its content)' });
});

test('a box selects points through the row map; their dynamics rows go to the editor', () => {
  const { d } = fixture();
  const m = mapRows(d);
  const picked = selectBox(d.variability, d.confidence, { x0: 0, x1: 0.2, y0: 0, y1: 1 }, m.rows);
  assert.deepEqual([...picked], [0, 1]);
  assert.deepEqual(recordsOf(d, m, picked), { rows: [0, 1], lines: [2, 3] });
  // Point 2 is row 2 (not row 3, the unvisited one); a row map that skips: point i -> rows[i].
  assert.deepEqual(recordsOf(d, m, [2]), { rows: [2], lines: [4] });
  assert.deepEqual(recordsOf(d, { rows: Int32Array.of(0, 2), unvisited: 1 }, [1]), { rows: [2], lines: [4] });
});

test('LineOffsets: lines without endings, a BOM, a last line without newline, past the end', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-lines-'));
  const file = path.join(dir, 'x.jsonl');
  fs.writeFileSync(file, '\ufeffone\r\ntwo\n\nfour');
  const o = await LineOffsets.scan(file);
  assert.equal(o.lineCount, 4);
  assert.deepEqual([await o.line(1), await o.line(2), await o.line(3), await o.line(4), await o.line(5), await o.line(0)], ['one', 'two', '', 'four', undefined, undefined]);
  fs.writeFileSync(file, '');
  assert.equal((await LineOffsets.scan(file)).lineCount, 0);
});

test('firstLine trims, skips blank lines and shortens long ones', () => {
  assert.equal(firstLine('\n\n  hello \nworld'), 'hello');
  assert.equal(firstLine('x'.repeat(300), 10), `${'x'.repeat(9)}…`);
  assert.equal(firstLine(''), '');
});

test('map messages from the webview are validated', () => {
  assert.deepEqual(parseDashboardMessage({ type: 'mapHover', point: 3 }), { type: 'mapHover', point: 3 });
  assert.deepEqual(parseDashboardMessage({ type: 'mapOpen', points: [1, 2] }), { type: 'mapOpen', points: [1, 2] });
  assert.deepEqual(parseDashboardMessage({ type: 'mapOpenBox', box: { x0: 0, x1: 0.1, y0: 0.2, y1: 0.3 } }), { type: 'mapOpenBox', box: { x0: 0, x1: 0.1, y0: 0.2, y1: 0.3 } });
  for (const bad of [
    { type: 'mapHover', point: -1 },
    { type: 'mapHover', point: 1.5 },
    { type: 'mapHover' },
    { type: 'mapOpen', points: [] },
    { type: 'mapOpen', points: ['1'] },
    { type: 'mapOpen', points: new Array(1001).fill(0) },
    { type: 'mapOpenBox', box: { x0: 0, x1: 1, y0: 0 } },
    { type: 'mapOpenBox', box: { x0: 0, x1: Infinity, y0: 0, y1: 1 } },
    { type: 'mapOpenBox', box: { x0: 0, x1: 1, y0: 0, y1: 1 }, extra: 1 },
  ]) assert.equal(parseDashboardMessage(bad), undefined, JSON.stringify(bad).slice(0, 80));
});

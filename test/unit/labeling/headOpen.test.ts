import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LabelError } from '../../../src/core/dataset/labeling';
import { LineDocument } from '../../../src/core/dataset/lineDocument';
import { LabelingModel } from '../../../src/labeling/model';

/**
 * Huge files open in two steps: a read-only model of the first whole lines for the first screen,
 * while the whole file is read. The head must never write: a save would cut the file.
 */
function fixture(): { file: string; lines: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'rpo-head-'));
  const file = join(dir, 'big.pref.jsonl');
  const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ prompt: `question ${i}`, responses: [`a ${i}`, `b ${i}`] }));
  lines[3] = '{"prompt": broken';
  writeFileSync(file, lines.join('\n') + '\n');
  return { file, lines };
}

test('LineDocument.head: the whole lines within maxBytes, read-only; undefined for a file that fits', async () => {
  const { file, lines } = fixture();
  const bytes = readFileSync(file);
  const head = (await LineDocument.head(file, 10_000))!;
  const expected = bytes.subarray(0, 10_000).lastIndexOf(0x0a) + 1;
  assert.equal(head.lineIndex.byteLength, expected);
  assert.equal(head.lineCount, bytes.subarray(0, expected).toString('utf8').split('\n').length - 1);
  assert.equal(head.lineText(7), lines[7]);
  assert.deepEqual(head.partial, { totalBytes: bytes.length });
  assert.throws(() => head.applyEdits([{ line: 0, text: '{}' }]), /still being read/);
  await assert.rejects(head.save(), /cannot save it while the file is still being read/);
  await assert.rejects(head.revert(), /still being read/);
  assert.throws(() => head.backup(), /still being read/);
  assert.deepEqual(readFileSync(file), bytes, 'the file is untouched');
  assert.equal(await LineDocument.head(file, bytes.length), undefined);
});

test('LabelingModel.openHead: rows and counts of the first lines, never complete, labels refused', async () => {
  const { file } = fixture();
  const m = (await LabelingModel.openHead(file, 20_000))!;
  await m.whenScanned();
  const c = m.counts;
  assert.equal(c.complete, false, 'the head is never the whole file');
  assert.ok(c.reading && c.reading.read === m.doc.lineIndex.byteLength && c.reading.total > c.reading.read);
  assert.equal(c.lines, m.lineCount);
  assert.equal(c.invalid, 1);
  const rows = await m.rows('all', '', 0, 5);
  assert.equal(rows.rows[0]!.preview, 'question 0');
  assert.equal(rows.rows[3]!.status, 'invalid');
  assert.throws(() => m.label(0, 'chooseLeft', { annotator: 'a', seed: 's' }), (e) => e instanceof LabelError && /still being read/.test(e.message));
  assert.throws(() => m.note(0, 'x', { annotator: 'a', seed: 's' }), LabelError);
  await m.reload(); // a no-op: the whole model replaces this one
  assert.equal(m.lineCount, c.lines);
  m.dispose();
});

test('LineDocument.head with minLines: reads from firstReadBytes, doubling, until that many whole lines (or maxBytes)', async () => {
  const { file, lines } = fixture(); // lines of about 60 bytes
  const bytes = readFileSync(file);
  const head = (await LineDocument.head(file, 200_000, { minLines: 100, firstReadBytes: 1024 }))!;
  // 1 KiB, 2 KiB, 4 KiB (75 lines), 8 KiB: the first read that holds 100 whole lines.
  assert.equal(head.lineIndex.byteLength, bytes.subarray(0, 8192).lastIndexOf(0x0a) + 1);
  assert.ok(head.lineCount >= 100 && head.lineCount < 200, `${head.lineCount} lines`);
  assert.equal(head.lineText(99), lines[99]);
  assert.ok(head.partial);
  // More lines wanted than maxBytes holds: stops at maxBytes.
  const capped = (await LineDocument.head(file, 5000, { minLines: 1000, firstReadBytes: 1024 }))!;
  assert.equal(capped.lineIndex.byteLength, bytes.subarray(0, 5000).lastIndexOf(0x0a) + 1);
  // A line longer than the first read: read on until a whole line is in.
  const dir = mkdtempSync(join(tmpdir(), 'rpo-head-'));
  const long = join(dir, 'long.pref.jsonl');
  writeFileSync(long, 'x'.repeat(3000) + '\n' + 'y'.repeat(100_000) + '\n');
  const one = (await LineDocument.head(long, 50_000, { minLines: 1, firstReadBytes: 1024 }))!;
  assert.equal(one.lineCount, 1);
  assert.equal(one.lineText(0), 'x'.repeat(3000));
});

test('LabelingModel.openHead with minLines: a small head, scanned in slices after it is returned', async () => {
  const { file } = fixture();
  const m = (await LabelingModel.openHead(file, 100_000, 200))!;
  assert.ok(m.lineCount >= 200 && m.lineCount < 5000, `${m.lineCount} lines`);
  assert.equal(m.counts.scanned, 0, 'nothing parsed before the first screen is built');
  const rows = await m.rows('all', '', 0, 50);
  assert.equal(rows.rows.length, 50);
  assert.equal(rows.rows[3]!.status, 'invalid', 'rows parse their own lines');
  await m.whenScanned();
  assert.equal(m.counts.scanned, m.lineCount);
  assert.equal(m.counts.invalid, 1);
  m.dispose();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, statSync, chmodSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineIndex } from '../../../src/core/dataset/lineIndex';
import { DocumentChangedError, LineDocument } from '../../../src/core/dataset/lineDocument';
import { applyLabel } from '../../../src/core/dataset/labeling';
import { scanLines } from '../../../src/core/dataset/stats';

const dir = mkdtempSync(join(tmpdir(), 'rpo-linedoc-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(content: string | Buffer): string {
  const p = join(dir, `f${n++}.pref.jsonl`);
  writeFileSync(p, content);
  return p;
}

test('line index: BOM, CRLF, LF, blank lines, no final newline', () => {
  const idx = LineIndex.fromBuffer(Buffer.from('\ufeff{"a":1}\r\n\n{"b":2}\n  \r\n{"c":3}'));
  assert.equal(idx.bomLength, 3);
  assert.equal(idx.lineCount, 5);
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => idx.text(i)), ['{"a":1}', '', '{"b":2}', '  ', '{"c":3}']);
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => idx.eol(i)), ['\r\n', '\n', '\n', '\r\n', '']);
  assert.equal(LineIndex.fromBuffer(Buffer.alloc(0)).lineCount, 0);
  assert.equal(LineIndex.fromBuffer(Buffer.from('\n')).lineCount, 1);
  assert.equal(LineIndex.fromBuffer(Buffer.from('a\n')).lineCount, 1);
  assert.equal(LineIndex.fromBuffer(Buffer.from('a\nb')).lineCount, 2);
  assert.equal(LineIndex.fromBuffer(Buffer.from('\ufeff')).lineCount, 0);
  const cr = LineIndex.fromBuffer(Buffer.from('\r\n\r'));
  assert.deepEqual([cr.lineCount, cr.eol(0), cr.text(1)], [2, '\r\n', '\r']);
});

test('line index over small chunks: lines and endings that straddle chunk boundaries', async () => {
  const content = '\ufeff{"prompt":"é🙂"}\r\n\r\nxyz\nlonger line here\r\n\n';
  const p = file(content);
  const whole = LineIndex.fromBuffer(Buffer.from(content));
  for (const chunkSize of [1, 2, 3, 5, 7, 64]) {
    const idx = await LineIndex.read(p, { chunkSize });
    assert.equal(idx.lineCount, whole.lineCount);
    for (let i = 0; i < idx.lineCount; i++) {
      assert.equal(idx.text(i), whole.text(i), `chunk ${chunkSize} line ${i}`);
      assert.equal(idx.eol(i), whole.eol(i), `chunk ${chunkSize} eol ${i}`);
    }
    const shared = LineIndex.fromShared(idx.toShared());
    assert.equal(shared.text(1), whole.text(1));
  }
  const sharedIdx = await LineIndex.read(p, { shared: true });
  assert.ok(sharedIdx.toShared().chunks[0]!.buffer instanceof SharedArrayBuffer);
});

test('edits, undo, redo, dirty state, save keeps every other byte', async () => {
  const original = '\ufeff{"prompt": "p1", "chosen": "a", "rejected": "b"}\r\n{broken\r\n\n{"prompt": "p2", "responses": ["x", "y"]}';
  const p = file(original);
  const doc = await LineDocument.open(p);
  assert.equal(doc.lineCount, 4);
  assert.equal(doc.isDirty, false);
  const ctx = { annotator: 'ada', time: '2026-11-26T18:00:00.000Z' };
  const line0 = applyLabel(doc.lineText(0), { type: 'confirm' }, ctx);
  const e1 = doc.applyEdits([{ line: 0, text: line0 }], 'Confirm');
  assert.equal(doc.isDirty, true);
  const line3 = applyLabel(doc.lineText(3), { type: 'choose', side: 'left' }, { ...ctx, shown: ['responses.1', 'responses.0'] });
  const e2 = doc.applyEdits([{ line: 3, text: line3 }]);
  assert.deepEqual(doc.dirtyLineNumbers(), [0, 3]);
  doc.undo(e2);
  doc.undo(e1);
  assert.equal(doc.isDirty, false, 'undo back to the saved state is clean');
  doc.redo(e1);
  doc.redo(e2);
  await doc.save();
  assert.equal(doc.isDirty, false);
  const expected = `\ufeff${line0}\r\n{broken\r\n\n${line3}`;
  assert.equal(readFileSync(p, 'utf8'), expected);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp file left');
  // undo after save: dirty again, and saving writes the original back byte for byte
  doc.undo(e2);
  doc.undo(e1);
  assert.equal(doc.isDirty, true);
  assert.deepEqual(doc.dirtyLineNumbers(), [0, 3]);
  await doc.save();
  assert.deepEqual(readFileSync(p), Buffer.from(original));
  doc.redo(e1);
  assert.deepEqual(doc.dirtyLineNumbers(), [0]);
});

test('replacements must not contain line breaks; out-of-range lines throw', async () => {
  const doc = await LineDocument.open(file('a\nb\n'));
  assert.throws(() => doc.applyEdits([{ line: 0, text: 'x\ny' }]), /line break/);
  assert.throws(() => doc.applyEdits([{ line: 2, text: 'x' }]), RangeError);
  assert.equal(doc.isDirty, false);
});

test('save keeps the file mode and can save as another file', async () => {
  const p = file('{"a":1}\n');
  chmodSync(p, 0o640);
  const doc = await LineDocument.open(p);
  doc.applyEdits([{ line: 0, text: '{"a":2}' }]);
  const other = join(dir, 'copy.jsonl');
  await doc.save(other);
  assert.equal(readFileSync(other, 'utf8'), '{"a":2}\n');
  assert.equal(doc.isDirty, true, 'save-as elsewhere leaves this document dirty');
  await doc.save();
  assert.equal(statSync(p).mode & 0o777, 0o640);
});

test('backup and restore replay edits; a changed file refuses with a clear error', async () => {
  const p = file('{"a":1}\n{"b":2}\n');
  const doc = await LineDocument.open(p);
  doc.applyEdits([{ line: 1, text: '{"b":3}' }]);
  doc.applyEdits([{ line: 0, text: Buffer.from([0x7b, 0xff, 0x7d]) }]);
  const backup = JSON.stringify(doc.backup());
  assert.ok(backup.length < 300, `backup is small (${backup.length} bytes)`);
  const restored = await LineDocument.restore(p, backup);
  assert.equal(restored.isDirty, true);
  assert.deepEqual(restored.toBuffer(), doc.toBuffer());
  // after a save, the backup is relative to the saved file
  await doc.save();
  doc.applyEdits([{ line: 1, text: '{"b":4}' }]);
  const b2 = doc.backup();
  assert.equal(b2.edits.length, 1);
  assert.equal((await LineDocument.restore(p, b2)).lineText(1), '{"b":4}');
  // the file changes underneath: restore refuses
  writeFileSync(p, '{"a":1}\n{"b":2}\n{"c":9}\n');
  await assert.rejects(LineDocument.restore(p, b2), (err: Error) => err instanceof DocumentChangedError && /changed on disk/.test(err.message) && /1 unsaved line edit/.test(err.message));
  assert.equal(await doc.changedOnDisk(), true);
  // same size, different mtime also counts as changed
  const q = file('xx\n');
  const d2 = await LineDocument.open(q);
  d2.applyEdits([{ line: 0, text: 'yy' }]);
  const b3 = d2.backup();
  utimesSync(q, new Date(), new Date(Date.now() + 5000));
  await assert.rejects(LineDocument.restore(q, b3), DocumentChangedError);
});

test('revert reloads from disk and drops edits', async () => {
  const p = file('{"a":1}\n');
  const doc = await LineDocument.open(p);
  doc.applyEdits([{ line: 0, text: '{"a":2}' }]);
  writeFileSync(p, '{"a":5}\n{"z":0}\n');
  await doc.revert();
  assert.equal(doc.isDirty, false);
  assert.equal(doc.lineCount, 2);
  assert.equal(doc.lineText(0), '{"a":5}');
  assert.equal(await doc.changedOnDisk(), false);
});

test('scanLines reads the document\'s current content', async () => {
  const doc = await LineDocument.open(file('{"prompt":"p","responses":["a","b"]}\n'));
  assert.equal(scanLines(doc).stats.byState['needs-label'], 1);
  doc.applyEdits([{ line: 0, text: applyLabel(doc.lineText(0), { type: 'status', status: 'skip' }, { annotator: 'a', time: 't' }) }]);
  assert.equal(scanLines(doc).stats.byState.skip, 1);
});

test('one edit replacing the same line twice undoes to the first state', async () => {
  const doc = await LineDocument.open(file('a\nb\n'));
  const e = doc.applyEdits([{ line: 0, text: 'x' }, { line: 1, text: 'y' }, { line: 0, text: 'z' }]);
  assert.equal(doc.toBuffer().toString(), 'z\ny\n');
  doc.undo(e);
  assert.equal(doc.toBuffer().toString(), 'a\nb\n');
  assert.equal(doc.isDirty, false);
  doc.redo(e);
  assert.equal(doc.toBuffer().toString(), 'z\ny\n');
});

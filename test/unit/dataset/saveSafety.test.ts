import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineDocument, SaveRefusedError, type SaveRefusal } from '../../../src/core/dataset/lineDocument';
import { sameFile } from '../../../src/core/dataset/diskFile';

/**
 * Saving never loses the user's data: through symbolic links (the link's target gets the save),
 * not over hard links, read-only files or a change made on disk since the file was loaded or
 * last saved, unless the caller says so (SaveOptions).
 */

const dir = mkdtempSync(join(tmpdir(), 'rpo-savesafety-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(content: string, name = `f${n++}.pref.jsonl`): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const refused = (kind: SaveRefusal['kind']) => (err: unknown) => err instanceof SaveRefusedError && err.refusal.kind === kind;
const leftovers = () => readdirSync(dir, { recursive: true }).filter((f) => String(f).includes('.rpo-save.tmp'));

test('a symbolic link is saved through: its target gets the labels, the link stays a link', async () => {
  const real = file('{"a":1}\n{"b":2}\n');
  const link = join(dir, `link${n++}.pref.jsonl`);
  symlinkSync(real, link);
  const doc = await LineDocument.open(link);
  doc.applyEdits([{ line: 1, text: '{"b":3}' }]);
  await doc.save();
  assert.ok(lstatSync(link).isSymbolicLink(), 'the link is still a link');
  assert.equal(readFileSync(real, 'utf8'), '{"a":1}\n{"b":3}\n');
  assert.equal(doc.isDirty, false);
  // a second save (the state recorded after the first is the target's)
  doc.applyEdits([{ line: 0, text: '{"a":2}' }]);
  await doc.save();
  assert.equal(readFileSync(real, 'utf8'), '{"a":2}\n{"b":3}\n');
  assert.deepEqual(leftovers(), []);
});

test('a file reached through a symbolically linked folder is saved in the real folder', async () => {
  const realDir = join(dir, `real${n++}`);
  mkdirSync(realDir);
  writeFileSync(join(realDir, 'x.pref.jsonl'), 'one\n');
  const linkDir = join(dir, `linkdir${n++}`);
  symlinkSync(realDir, linkDir);
  symlinkSync(join(realDir, 'x.pref.jsonl'), join(realDir, 'y.pref.jsonl')); // and a link inside it
  const doc = await LineDocument.open(join(linkDir, 'y.pref.jsonl'));
  doc.applyEdits([{ line: 0, text: 'two' }]);
  await doc.save();
  assert.ok(lstatSync(join(realDir, 'y.pref.jsonl')).isSymbolicLink());
  assert.equal(readFileSync(join(realDir, 'x.pref.jsonl'), 'utf8'), 'two\n');
});

test('a file with other hard links is refused (links not split) unless written in place', async () => {
  const a = file('{"a":1}\n');
  const b = join(dir, `hard${n++}.pref.jsonl`);
  linkSync(a, b);
  const doc = await LineDocument.open(a);
  doc.applyEdits([{ line: 0, text: '{"a":2}' }]);
  await assert.rejects(doc.save(), (err: unknown) => refused('hard-links')(err) && /1 other hard link/.test((err as Error).message));
  assert.equal(readFileSync(a, 'utf8'), '{"a":1}\n', 'nothing written');
  assert.equal(doc.isDirty, true, 'the edits are kept');
  assert.deepEqual(leftovers(), []);
  await doc.save(undefined, { inPlace: true });
  assert.equal(readFileSync(b, 'utf8'), '{"a":2}\n', 'the other name sees the save');
  assert.ok(await sameFile(a, b), 'still one file');
  assert.equal(statSync(a).nlink, 2);
  assert.equal(doc.isDirty, false);
  // a shorter content in place: the file is truncated to it, and our own write is not a conflict
  doc.applyEdits([{ line: 0, text: '{}' }]);
  await doc.save(undefined, { inPlace: true });
  assert.equal(readFileSync(b, 'utf8'), '{}\n');
  assert.equal(await doc.changedOnDisk(), false);
  assert.deepEqual(leftovers(), []);
});

test('a read-only file is refused and left as it was', async () => {
  const p = file('{"a":1}\n');
  chmodSync(p, 0o444);
  const doc = await LineDocument.open(p);
  doc.applyEdits([{ line: 0, text: '{"a":2}' }]);
  await assert.rejects(doc.save(), (err: unknown) => refused('read-only')(err) && /read-only.*Save As/.test((err as Error).message));
  await assert.rejects(doc.save(undefined, { overwriteChanged: true, inPlace: true }), refused('read-only'));
  assert.equal(readFileSync(p, 'utf8'), '{"a":1}\n');
  assert.equal(statSync(p).mode & 0o777, 0o444);
  assert.equal(doc.isDirty, true);
  chmodSync(p, 0o644);
  await doc.save();
  assert.equal(readFileSync(p, 'utf8'), '{"a":2}\n');
});

test('a change on disk since the file was loaded is not overwritten without being asked', async () => {
  const p = file('{"a":1}\n{"b":2}\n');
  const doc = await LineDocument.open(p);
  doc.applyEdits([{ line: 0, text: '{"a":9}' }]);
  writeFileSync(p, '{"a":1}\n{"b":2}\n{"c":3}\n');
  await assert.rejects(doc.save(), (err: unknown) => refused('changed-on-disk')(err) && /changed on disk.*size 16 -> 24 bytes/.test((err as Error).message));
  assert.equal(readFileSync(p, 'utf8'), '{"a":1}\n{"b":2}\n{"c":3}\n', 'the external change is still there');
  assert.equal(doc.isDirty, true);
  assert.deepEqual(leftovers(), []);
  await doc.save(undefined, { overwriteChanged: true });
  assert.equal(readFileSync(p, 'utf8'), '{"a":9}\n{"b":2}\n');
  assert.equal(doc.isDirty, false);
});

// A file system with whole-second mtimes (FAT, SMB, some NFS set-ups): mtimes set to a whole second.
const T = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);

test('a change within the mtime granularity (same size, same mtime, same inode) is seen', async () => {
  const p = file('{"a":1}\n{"b":2}\n');
  utimesSync(p, T, T);
  const doc = await LineDocument.open(p);
  doc.applyEdits([{ line: 0, text: '{"a":4}' }]);
  const before = statSync(p, { bigint: true });
  writeFileSync(p, '{"a":3}\n{"b":7}\n');
  utimesSync(p, T, T);
  const after = statSync(p, { bigint: true });
  assert.deepEqual([after.size, after.mtimeNs, after.ino], [before.size, before.mtimeNs, before.ino], 'size, mtime and inode as loaded');
  assert.equal(await doc.changedOnDisk(), true);
  await assert.rejects(doc.save(), (err: unknown) => refused('changed-on-disk')(err) && /its content changed/.test((err as Error).message));
  assert.equal(readFileSync(p, 'utf8'), '{"a":3}\n{"b":7}\n');
});

test('a change right after our save is seen (the state recorded is the one written)', async () => {
  const p = file('{"a":1}\n');
  const doc = await LineDocument.open(p);
  doc.applyEdits([{ line: 0, text: '{"a":2}' }]);
  await doc.save();
  assert.equal(await doc.changedOnDisk(), false);
  writeFileSync(p, '{"a":7}\n');
  doc.applyEdits([{ line: 0, text: '{"a":3}' }]);
  await assert.rejects(doc.save(), refused('changed-on-disk'));
  assert.equal(readFileSync(p, 'utf8'), '{"a":7}\n');
});

test('a file replaced by another (rename into place) with the same size and mtime is seen', async () => {
  const p = file('{"a":1}\n');
  utimesSync(p, T, T);
  const doc = await LineDocument.open(p);
  doc.applyEdits([{ line: 0, text: '{"a":2}' }]);
  const other = file('{"a":1}\n');
  utimesSync(other, T, T);
  unlinkSync(p);
  linkSync(other, p);
  unlinkSync(other);
  await assert.rejects(doc.save(), (err: unknown) => refused('changed-on-disk')(err) && /replaced by another file/.test((err as Error).message));
});

test('a change the user chose to keep their edits over is overwritten; a later one is refused again', async () => {
  const p = file('{"a":1}\n');
  const doc = await LineDocument.open(p);
  doc.applyEdits([{ line: 0, text: '{"a":2}' }]);
  writeFileSync(p, '{"a":1,"x":1}\n');
  await doc.acceptDiskChange();
  await doc.save();
  assert.equal(readFileSync(p, 'utf8'), '{"a":2}\n');
  doc.applyEdits([{ line: 0, text: '{"a":3}' }]);
  writeFileSync(p, '{"a":1,"x":2}\n');
  await assert.rejects(doc.save(), refused('changed-on-disk'));
});

test('a file deleted since it was loaded is written again', async () => {
  const p = file('{"a":1}\n');
  const doc = await LineDocument.open(p);
  doc.applyEdits([{ line: 0, text: '{"a":2}' }]);
  unlinkSync(p);
  await doc.save();
  assert.equal(readFileSync(p, 'utf8'), '{"a":2}\n');
});

test('a folder without write permission: a clear error, nothing written', async (t) => {
  if (process.platform === 'win32') return t.skip('POSIX permissions');
  const sub = join(dir, `ro${n++}`);
  mkdirSync(sub);
  const p = join(sub, 'x.pref.jsonl');
  writeFileSync(p, 'one\n');
  const doc = await LineDocument.open(p);
  doc.applyEdits([{ line: 0, text: 'two' }]);
  chmodSync(sub, 0o555);
  try {
    if (process.getuid?.() === 0) {
      // root writes anyway: the save goes through
      await doc.save();
      assert.equal(readFileSync(p, 'utf8'), 'two\n');
    } else {
      await assert.rejects(doc.save(), /not saved: cannot create a file in .*make the folder writable/);
      assert.equal(readFileSync(p, 'utf8'), 'one\n');
    }
  } finally {
    chmodSync(sub, 0o755);
  }
});

test('the recorded mtime equals a number stat\'s mtimeMs (hot-exit backups made before keep restoring)', async () => {
  const p = file('{"a":1}\n');
  const doc = await LineDocument.open(p);
  assert.equal(doc.backup().mtimeMs, statSync(p).mtimeMs);
  doc.applyEdits([{ line: 0, text: '{"a":2}' }]);
  await doc.save();
  assert.equal(doc.backup().mtimeMs, statSync(p).mtimeMs);
});

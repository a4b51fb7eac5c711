import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { test } from 'node:test';
import { writeFileAtomic, writeFileAtomicSync } from '../../../src/node/atomicFile';

test('writeFileAtomic replaces the file by a rename and leaves no temporary file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-atomic-'));
  const file = path.join(dir, 'x.rpo.json');
  await writeFileAtomic(file, '{"a":1}');
  const inode = fs.statSync(file).ino;
  // A reader holding the old file keeps reading the old content (the new one is another inode).
  const fd = fs.openSync(file, 'r');
  await writeFileAtomic(file, '{"a":2}');
  assert.equal(fs.readFileSync(fd, 'utf8'), '{"a":1}');
  fs.closeSync(fd);
  assert.notEqual(fs.statSync(file).ino, inode);
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { a: 2 });
  writeFileAtomicSync(file, '{"a":3}');
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { a: 3 });
  assert.deepEqual(fs.readdirSync(dir), ['x.rpo.json']);
});

test('a failed atomic write throws and removes its temporary file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-atomic-'));
  const taken = path.join(dir, 'taken');
  fs.mkdirSync(taken);
  fs.writeFileSync(path.join(taken, 'inside'), 'x');
  await assert.rejects(writeFileAtomic(taken, '{}'));
  assert.throws(() => writeFileAtomicSync(taken, '{}'));
  assert.deepEqual(fs.readdirSync(dir), ['taken']);
});

test('concurrent atomic writers never expose a partial file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-atomic-'));
  const file = path.join(dir, 'launch.json');
  const big = (n: number) => JSON.stringify({ n, pad: 'x'.repeat(1 << 20) });
  await writeFileAtomic(file, big(0));
  let reads = 0;
  const writers = Array.from({ length: 8 }, (_, i) => writeFileAtomic(file, big(i + 1)));
  const reader = (async () => {
    for (let k = 0; k < 50; k++) {
      JSON.parse(await fs.promises.readFile(file, 'utf8'));
      reads++;
    }
  })();
  await Promise.all([...writers, reader]);
  assert.equal(reads, 50);
  assert.deepEqual(fs.readdirSync(dir), ['launch.json']);
});

test('byte chunks are written in order; the data is flushed to disk before the rename (sync and async)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-atomic-'));
  const file = path.join(dir, 'cache.safetensors');
  const calls: string[] = [];
  const spied = ['fsyncSync', 'renameSync'] as const;
  // The fs module object itself (an `import * as` namespace is read-only): atomicFile.ts reads through it.
  const mutableFs = createRequire(__filename)('node:fs') as Record<string, (...args: unknown[]) => unknown> & { promises: typeof fs.promises };
  const saved = spied.map((name) => mutableFs[name]);
  spied.forEach((name, i) => {
    mutableFs[name] = (...args: unknown[]) => {
      calls.push(name);
      return saved[i](...args);
    };
  });
  const handle = await fs.promises.open(path.join(dir, 'probe'), 'w');
  const handleProto = Object.getPrototypeOf(handle) as { sync(): Promise<void> };
  await handle.close();
  fs.rmSync(path.join(dir, 'probe'));
  const savedSync = handleProto.sync;
  const savedRename = mutableFs.promises.rename;
  handleProto.sync = function (this: unknown) {
    calls.push('handle.sync');
    return savedSync.call(this);
  };
  mutableFs.promises.rename = (...args: Parameters<typeof fs.promises.rename>) => {
    calls.push('promises.rename');
    return savedRename(...args);
  };
  try {
    writeFileAtomicSync(file, [Buffer.from('ab'), Buffer.from(''), Buffer.from('cd')]);
    assert.equal(fs.readFileSync(file, 'utf8'), 'abcd');
    await writeFileAtomic(file, [Buffer.from('ef'), Buffer.from('gh')]);
    assert.equal(fs.readFileSync(file, 'utf8'), 'efgh');
  } finally {
    spied.forEach((name, i) => (mutableFs[name] = saved[i]));
    handleProto.sync = savedSync;
    mutableFs.promises.rename = savedRename;
  }
  assert.deepEqual(calls, ['fsyncSync', 'renameSync', 'handle.sync', 'promises.rename']);
  assert.deepEqual(fs.readdirSync(dir), ['cache.safetensors']);
});

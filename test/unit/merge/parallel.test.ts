// The merge block by block (src/node/mergeFile.ts: files read block by block, in worker threads,
// the built src/node/merge.worker.ts, or in this thread) against mergeInto (files read whole): the same
// file, byte for byte (BOM, CRLF, no final newline), the same counts, the same conflicts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as esbuild from 'esbuild';
import { applyLabel } from '../../../src/core/dataset/labeling';
import { LineIndex } from '../../../src/core/dataset/lineIndex';
import { mergeFilesInto, mergeInto } from '../../../src/cli/merge';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'rpo-merge-parallel-'));
const workerPath = path.join(dir, 'merge.js');

const ctx = (annotator: string, s: number) => ({ annotator, time: `2026-12-01T10:00:${String(s).padStart(2, '0')}.000Z`, shown: ['chosen', 'rejected'] as ['chosen', 'rejected'] });

/** 40,000 lines (5 blocks): unlabeled base; ours and theirs label every 3rd / 5th line, some the same line. */
function makeFiles(eol: string, bom: boolean, finalEol: boolean, conflictAt: number[]) {
  const base: string[] = [];
  const ours: string[] = [];
  const theirs: string[] = [];
  for (let i = 0; i < 40000; i++) {
    const b = JSON.stringify({ id: i, prompt: `Q${i}`, chosen: `good ${i}`, rejected: `bad ${i}` });
    base.push(b);
    ours.push(i % 3 === 0 ? applyLabel(b, { type: 'choose', side: i % 2 ? 'left' : 'right' }, ctx('ada', 1)) : b);
    theirs.push(i % 5 === 0 ? applyLabel(b, { type: 'choose', side: 'left' }, ctx('bo', 2)) : b);
  }
  for (const i of conflictAt) {
    ours[i] = ours[i]!.replace(`"Q${i}"`, `"Q${i} ours"`);
    theirs[i] = theirs[i]!.replace(`"Q${i}"`, `"Q${i} theirs"`);
  }
  const join = (ls: string[]) => (bom ? '\ufeff' : '') + ls.join(eol) + (finalEol ? eol : '');
  return { base: join(base), ours: join(ours), theirs: join(theirs) };
}

test('a parallel merge writes the same bytes as the one-thread merge, and reports the same conflicts', async () => {
  await esbuild.build({ entryPoints: [path.join(repoRoot, 'src/node/merge.worker.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: workerPath, logLevel: 'warning' });
  for (const [eol, bom, finalEol] of [['\n', false, true], ['\r\n', true, false]] as const) {
    const f = makeFiles(eol, bom, finalEol, []);
    const write = (name: string, text: string) => {
      const p = path.join(dir, name);
      writeFileSync(p, text);
      return p;
    };
    const files = { base: write('base', f.base), ours: write('ours', f.ours), theirs: write('theirs', f.theirs) };
    const names = { base: 'BASE', ours: 'OURS', theirs: 'THEIRS' };
    const [b, o, t] = [await LineIndex.read(files.base), await LineIndex.read(files.ours), await LineIndex.read(files.theirs)];
    const one = mergeInto(path.join(dir, 'one.jsonl'), b, o, t, {});
    const par = await mergeFilesInto(path.join(dir, 'par.jsonl'), files, names, { workerPath, threads: 2 });
    const none = await mergeFilesInto(path.join(dir, 'none.jsonl'), files, names, { workerPath: path.join(dir, 'missing.js'), threads: 2 });
    const blocks = await mergeFilesInto(path.join(dir, 'blocks.jsonl'), files, names, { workerPath, threads: 0 });
    assert.deepEqual([blocks.united, blocks.disputed, blocks.conflicts], [one.united, one.disputed, []]);
    assert.deepEqual([par.united, par.disputed, par.conflicts], [one.united, one.disputed, []]);
    assert.ok(one.united > 2000, `${one.united} lines merged into votes`);
    const want = readFileSync(path.join(dir, 'one.jsonl'));
    assert.ok(readFileSync(path.join(dir, 'par.jsonl')).equals(want), `same bytes (eol ${JSON.stringify(eol)}, bom ${bom}, final newline ${finalEol})`);
    assert.ok(readFileSync(path.join(dir, 'none.jsonl')).equals(want), 'without the worker: one thread, the same bytes');
    assert.ok(readFileSync(path.join(dir, 'blocks.jsonl')).equals(want), 'blocks merged in this thread: the same bytes');
    assert.equal(none.united, one.united);
  }
  // conflicts in several blocks: the same first 20 by line, nothing written
  const c = makeFiles('\n', false, true, [39000, 5, 20000, ...Array.from({ length: 25 }, (_, k) => 8000 + k * 7)]);
  writeFileSync(path.join(dir, 'cb'), c.base);
  writeFileSync(path.join(dir, 'co'), c.ours);
  writeFileSync(path.join(dir, 'ct'), c.theirs);
  const [b, o, t] = [await LineIndex.read(path.join(dir, 'cb')), await LineIndex.read(path.join(dir, 'co')), await LineIndex.read(path.join(dir, 'ct'))];
  const one = mergeInto(path.join(dir, 'c-one.jsonl'), b, o, t, {});
  const par = await mergeFilesInto(path.join(dir, 'c-par.jsonl'), { base: path.join(dir, 'cb'), ours: path.join(dir, 'co'), theirs: path.join(dir, 'ct') }, { base: 'BASE', ours: 'OURS', theirs: 'THEIRS' }, { workerPath, threads: 3 });
  const inThread = await mergeFilesInto(path.join(dir, 'c-blocks.jsonl'), { base: path.join(dir, 'cb'), ours: path.join(dir, 'co'), theirs: path.join(dir, 'ct') }, { base: 'BASE', ours: 'OURS', theirs: 'THEIRS' }, { workerPath, threads: 0 });
  assert.equal(one.conflicts.length, 20);
  assert.deepEqual(par.conflicts, one.conflicts);
  assert.deepEqual(inThread.conflicts, one.conflicts);
  assert.equal(existsSync(path.join(dir, 'c-par.jsonl')), false, 'nothing written on conflicts');
  assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.merge.tmp')), [], 'no temporary file left');
});

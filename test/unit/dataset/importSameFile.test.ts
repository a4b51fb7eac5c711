import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { importHhFile, SameFileError } from '../../../src/core/dataset/hh';

/**
 * `rpo import-hh IN OUT` and the VS Code import (both through importHhFile) never replace their
 * input: OUT naming IN through a symbolically linked folder, a symbolic link or a hard link is
 * refused. An OUT that is a symbolic link to another file gets the records in that file.
 */

const ROOT = resolve(__dirname, '../../..');
const FIXTURE = join(ROOT, 'test/fixtures/dataset/hh-sample.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'rpo-import-same-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A folder holding a copy of the fixture as a.jsonl, and `same`, a symbolic link to that folder. */
function setUp(): { folder: string; input: string; original: Buffer } {
  const folder = join(dir, `case${n++}`);
  mkdirSync(folder);
  const input = join(folder, 'a.jsonl');
  copyFileSync(FIXTURE, input);
  symlinkSync(folder, join(folder, 'same'));
  return { folder, input, original: readFileSync(input) };
}

function rpo(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('rpo import-hh a.jsonl same/a.jsonl (a linked folder) is a usage error and leaves a.jsonl alone', () => {
  const { folder, input, original } = setUp();
  const r = rpo('import-hh', input, join(folder, 'same', 'a.jsonl'));
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /IN and OUT must be different files: .*same\/a\.jsonl is the input file/);
  assert.deepEqual(readFileSync(input), original);
  assert.deepEqual(readdirSync(folder).sort(), ['a.jsonl', 'same']);
});

test('importHhFile refuses the input as output through a folder link, a file link or a hard link', async () => {
  const { folder, input, original } = setUp();
  symlinkSync(input, join(folder, 'link.jsonl'));
  linkSync(input, join(folder, 'hard.jsonl'));
  for (const output of [join(folder, 'same', 'a.jsonl'), join(folder, 'link.jsonl'), join(folder, 'hard.jsonl'), join(folder, '.', 'a.jsonl')]) {
    await assert.rejects(importHhFile(input, output), (err: unknown) => err instanceof SameFileError && err.output === output, output);
    assert.deepEqual(readFileSync(input), original, output);
  }
  assert.deepEqual(readdirSync(folder).sort(), ['a.jsonl', 'hard.jsonl', 'link.jsonl', 'same']);
});

test('an output that is a symbolic link to another file: that file gets the records, the link stays', async () => {
  const { folder, input } = setUp();
  const real = join(folder, 'real.pref.jsonl');
  writeFileSync(real, 'old\n');
  const link = join(folder, 'out.pref.jsonl');
  symlinkSync(real, link);
  const report = await importHhFile(input, link);
  assert.equal(report.written, 5);
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(readFileSync(real, 'utf8').trimEnd().split('\n').length, 5);
});

// `rpo suspects` as a real process over run folders written in-test (no trainer needed): an
// unfinished rpo-unpaired run without config.json (method and dataset from the file's metadata),
// pairs never visited, a newer format version.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { usableItems } from '../../../src/core/contrast/usable';
import { type ParsedLine, parseText } from '../../../src/core/dataset/formats';
import { KEY_BYTES, encodeDynamics, labelsSha256, pairKeyAndSide } from '../../../src/core/dynamics';
import { rpoCli } from '../../support/cli';

const rpo = rpoCli();

function runFolder(lines: string[], aum: number[], visits: number[], metadata: Record<string, string> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-suspects-files-'));
  const data = path.join(dir, 'data.pref.jsonl');
  fs.writeFileSync(data, lines.join('\n') + '\n');
  const items = usableItems(lines.map((l, i) => [i, parseText(l)] as [number, ParsedLine]), 'unpaired');
  const key = new Uint8Array(items.length * KEY_BYTES);
  items.forEach((it, i) => key.set(pairKeyAndSide(it).key, i * KEY_BYTES));
  const run = path.join(dir, 'run');
  fs.mkdirSync(run);
  fs.writeFileSync(path.join(run, 'dynamics.safetensors'), encodeDynamics({
    key, line: items.map((it) => it.line + 1), side: items.map((it) => (it.label ? 1 : 0)), split: items.map(() => 0),
    visits, aum, confidence: aum.map((a) => 1 / (1 + Math.exp(-a))),
    metadata: { method: 'rpo-unpaired', dataset: data, labels_sha256: labelsSha256(items), complete: 'false', step: '7', run: 'unpaired-run', ...metadata },
  }));
  return { dir, data, run, items };
}

test('an unfinished rpo-unpaired run without config.json: items with their labels, never-visited items counted, not ranked', () => {
  const lines = [
    '{"prompt":"p1","chosen":"good one","rejected":"bad one"}',
    '{"prompt":"p2","completion":"a thumbs-up answer","label":true}',
    '{"prompt":"p3","completion":"a thumbs-down answer","label":false}',
  ];
  const { run } = runFolder(lines, [0.5, -2, -1, NaN], [3, 3, 2, 0]);
  const r = rpo('suspects', run);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^run unpaired-run \(rpo-unpaired, beta 0\.1, step 7, not finished: statistics so far\): 4 training items, 2 suspects \(AUM < 0\), 1 never in a batch/);
  assert.match(r.stdout, /data\.pref\.jsonl: the file the run read, unchanged|data\.pref\.jsonl: edited since the run, same records and labels/);
  assert.match(r.stdout, /#\s+LINE\s+ITEM \(LABEL\)/);
  assert.match(r.stdout, /1\s+\S*data\.pref\.jsonl:1\s+"bad one" \(false\)\s+-2\.000/);
  assert.match(r.stdout, /2\s+\S*data\.pref\.jsonl:2\s+"a thumbs-up answer" \(true\)\s+-1\.000/);
  const j = JSON.parse(rpo('suspects', run, '--json', '--all').stdout) as { complete: boolean; unvisited: number; rows: { row: number; trained_chosen: string; side: number }[] };
  assert.equal(j.complete, false);
  assert.equal(j.unvisited, 1);
  assert.deepEqual(j.rows.map((x) => x.row), [1, 2, 0], 'the never-visited item (row 3) is not ranked');
  assert.deepEqual(j.rows.map((x) => [x.trained_chosen, x.side]), [['bad one', 0], ['a thumbs-up answer', 1], ['good one', 1]]);
  // The thumbs flipped since the run: the item's label changed.
  fs.writeFileSync(path.join(path.dirname(run), 'data.pref.jsonl'), [lines[0], lines[1]!.replace('true', 'false'), lines[2]].join('\n') + '\n');
  const after = rpo('suspects', run);
  assert.match(after.stdout, /edited since the run: 4 of 4 training items found \(0 moved, 1 label changed since the run, 0 no longer in the file\)/);
  assert.match(after.stdout, /"a thumbs-up answer" \(true\)\s+-1\.000\s+\S+\s+2\s+label changed since the run/);
});

test('a dynamics file from a newer trainer: exit 1, the file and both versions named', () => {
  const { run } = runFolder(['{"prompt":"p","completion":"c","label":true}'], [1], [1], { version: '2' });
  const r = rpo('suspects', run);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /run\/dynamics\.safetensors: dynamics version 2 was written by a newer trainer; this RPO Studio reads version 1/);
});

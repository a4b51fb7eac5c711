import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LineDocument } from '../../../src/core/dataset/lineDocument';
import { applyLabel, displayOrder } from '../../../src/core/dataset/labeling';
import { parseLine } from '../../../src/core/dataset/formats';

/** The real `rpo` entry point in a child process (through tsx, as the sources are TypeScript). */
const ROOT = resolve(__dirname, '../../..');
const FIXTURE = join(ROOT, 'test/fixtures/dataset/hh-sample.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'rpo-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function rpo(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('rpo validate: counts, each invalid line with number and reason, exit 1', () => {
  const p = join(dir, 'mixed.jsonl');
  const label = { annotator: 'ada', time: 't', status: null, strength: null, note: null, shown: null };
  writeFileSync(p, [
    JSON.stringify({ prompt: 'p', chosen: 'a', rejected: 'b', rpo_label: label }),
    JSON.stringify({ prompt: 'p', chosen: 'a', rejected: 'b', rpo_label: { ...label, annotator: 'bo', status: 'tie' } }),
    JSON.stringify({ prompt: 'p', responses: ['a', 'b'] }),
    '',
    '{"prompt": "p", "chosen": 1, "rejected": "b"}',
    '{"prompt": ',
  ].join('\r\n') + '\r\n');
  const text = rpo('validate', p);
  assert.equal(text.code, 1, text.stderr);
  assert.match(text.stdout, /6 lines, 3 records, 2 invalid, 1 blank/);
  assert.match(text.stdout, /formats: paired 2, candidates 1/);
  assert.match(text.stdout, /labeled 1, unlabeled 1, unreviewed 0, tie 1/);
  assert.match(text.stdout, /annotators: ada 1, bo 1/);
  assert.match(text.stdout, /mixed\.jsonl:5: field "chosen" must be a string or a list of messages, found a number/);
  assert.match(text.stdout, /mixed\.jsonl:6:12: not valid JSON/);

  const json = rpo('validate', p, '--json');
  assert.equal(json.code, 1);
  const out = JSON.parse(json.stdout);
  assert.deepEqual(out.formats, ['paired', 'candidates']);
  assert.deepEqual(out.invalid.map((x: { line: number; field: string | null }) => [x.line, x.field]), [[5, 'chosen'], [6, null]]);
  assert.equal(out.stats.byState.tie, 1);
});

test('rpo validate: a clean file exits 0; usage errors exit 2', () => {
  const p = join(dir, 'clean.jsonl');
  writeFileSync(p, '{"prompt":"p","completion":"c","label":true}\n');
  assert.equal(rpo('validate', p).code, 0);
  const missing = rpo('validate', join(dir, 'nope.jsonl'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read .*nope\.jsonl: ENOENT/);
  assert.equal(rpo('validate').code, 2);
});

test('rpo import-hh converts, reports identical and bad records, exit 1 when some failed', () => {
  const out = join(dir, 'hh.pref.jsonl');
  const r = rpo('import-hh', FIXTURE, out);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /5 of 6 records converted/);
  assert.match(r.stdout, /1 records have chosen equal to rejected .*lines 3/);
  assert.match(r.stdout, /hh-sample\.jsonl:7: field "chosen" does not start with/);
  assert.equal(readFileSync(out, 'utf8').trimEnd().split('\n').length, 5);
  assert.equal(rpo('validate', out).code, 0);
});

test('git sees only the labeled lines: label 20 records, git diff shows 20 changed lines', async () => {
  // The real HH-shaped file: Python-style separators, long lines.
  const src = join(dir, 'src.pref.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < 100; i++) lines.push(JSON.stringify({ prompt: `question ${i}`, chosen: `good ${i} `.repeat(50), rejected: `bad ${i} `.repeat(50), id: i }).replace(/","/g, '", "'));
  writeFileSync(src, lines.join('\n') + '\n');
  const work = join(dir, 'work.pref.jsonl');
  copyFileSync(src, work);
  const doc = await LineDocument.open(work);
  for (let k = 0; k < 20; k++) {
    const line = k * 5;
    const rec = parseLine(doc.lineBytes(line));
    const next = applyLabel(doc.lineText(line), { type: 'choose', side: k % 2 ? 'left' : 'right' }, { annotator: 'ada', time: new Date(0).toISOString(), shown: displayOrder(rec, line, 1) });
    doc.applyEdits([{ line, text: next }], 'Label');
  }
  await doc.save();
  const diff = spawnSync('git', ['diff', '--no-index', '--numstat', src, work], { encoding: 'utf8' });
  assert.match(diff.stdout, /^20\t20\t/, diff.stdout + diff.stderr);
});

// `rpo suspects` and `rpo validate --suspects` as real processes over a REAL run: the trainer
// (tiny model, CPU, DPO) writes dynamics.safetensors; then the file is edited (lines added,
// removed, moved, relabeled), removed, replaced. Skipped without the trainer's Python.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { usableItems } from '../../../src/core/contrast/usable';
import { type ParsedLine, parseText } from '../../../src/core/dataset/formats';
import { KEY_BYTES, keyHex, labelsSha256, pairKeyAndSide, parseDynamics } from '../../../src/core/dynamics';
import { readRunDynamics } from '../../../src/node/dynamics';
import { testPython } from '../../support/python.cjs';
import { rpoCli } from '../../support/cli';

const repo = path.resolve(__dirname, '..', '..', '..');
const trainerRoot = path.join(repo, 'trainer');
const rpo = rpoCli();
const python = testPython(repo);
const skip = python ? false : 'no Python with the trainer requirements (set RPO_TEST_PYTHON)';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-suspects-'));
const dataFile = path.join(tmp, 'data.pref.jsonl');
let lines: string[] = [];
let runDir = '';

/** Swaps chosen and rejected of a record line. */
const flip = (line: string) => {
  const o = JSON.parse(line) as Record<string, unknown>;
  return JSON.stringify({ ...o, chosen: o.rejected, rejected: o.chosen });
};

before(() => {
  if (!python) return;
  execFileSync(python, ['-m', 'rpo_trainer.testing.tiny_model', path.join(tmp, 'model')], { env: { ...process.env, PYTHONPATH: trainerRoot }, stdio: 'pipe' });
  const fixtures = path.join(repo, 'test', 'fixtures', 'training');
  lines = fs.readFileSync(path.join(fixtures, 'tiny.pref.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
  // Three labels flipped, as mistakes a labeler could make.
  for (const i of [1, 5, 11]) lines[i] = flip(lines[i]!);
  fs.writeFileSync(dataFile, lines.join('\n') + '\n');
  const config = JSON.parse(fs.readFileSync(path.join(fixtures, 'tiny-dpo.rpo.json'), 'utf8')) as Record<string, unknown>;
  delete config.$schema;
  Object.assign(config, { model: 'model', dataset: 'data.pref.jsonl', max_steps: 24, eval_split: 0.25, eval_steps: 12, output_dir: 'runs' });
  const configPath = path.join(tmp, 'run.rpo.json');
  fs.writeFileSync(configPath, JSON.stringify(config));
  execFileSync(python, ['-m', 'rpo_trainer', 'train', '--config', configPath], { cwd: trainerRoot, env: { ...process.env, PYTHONPATH: trainerRoot, PYTHONSAFEPATH: '1' }, stdio: 'pipe' });
  const runs = fs.readdirSync(path.join(tmp, 'runs')).filter((d) => !d.startsWith('.'));
  assert.equal(runs.length, 1, `one run folder: ${runs.join(', ')}`);
  runDir = path.join(tmp, 'runs', runs[0]!);
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface JsonRow { rank: number; row: number; line: number | null; run_line: number; moved: boolean; label_changed: boolean; not_in_file: boolean; unlabeled: boolean; side: number; trained_chosen: string | null; aum: number | null; visits: number }
interface JsonOut { run: string; train_rows: number; suspects: number; unvisited: number; file: { same_bytes: boolean | null; same_labels: boolean | null; train_matched: number | null }; notes: string[]; rows: JsonRow[] }
const json = (...args: string[]): JsonOut => {
  const r = rpo('suspects', runDir, '--json', ...args);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as JsonOut;
};

test('the trainer\'s dynamics file: keys, sides and labels hash agree with the TypeScript pair keys of the same file', { skip }, () => {
  const run = readRunDynamics(runDir);
  const d = run.dynamics;
  assert.equal(d.meta.method, 'dpo');
  assert.equal(d.meta.complete, true);
  assert.equal(d.rows, 32);
  assert.equal(d.trainRows, 24);
  assert.equal(run.dataset, dataFile);
  const parsed = lines.map((l, i) => [i, parseText(l)] as [number, ParsedLine]);
  const usable = usableItems(parsed, 'paired');
  assert.equal(d.meta.labelsSha256, labelsSha256(usable), 'labels_sha256 of the trainer = of the TS usable list');
  const runJson = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as { labels_sha256: string };
  assert.equal(runJson.labels_sha256, d.meta.labelsSha256);
  for (let r = 0; r < d.rows; r++) {
    const k = pairKeyAndSide(usable[r]!);
    assert.equal(d.line[r], usable[r]!.line + 1, `row ${r}: line`);
    assert.equal(keyHex(d.key, r * KEY_BYTES), keyHex(k.key), `row ${r}: key`);
    assert.equal(d.side[r], k.side, `row ${r}: side`);
  }
  let visits = 0;
  for (let r = 0; r < d.trainRows; r++) visits += d.visits[r]!;
  assert.equal(visits, 24 * 2, '24 steps of batch 2');
  assert.ok(d.evalSteps.length >= 1);
  assert.equal(d.evalMargin.length, d.evalSteps.length * 8);
  for (let r = d.trainRows; r < d.rows; r++) assert.equal(d.visits[r], d.evalSteps.length, 'eval rows: one visit per eval');
  // The checkpoint's copy parses too.
  const final = path.join(runDir, 'final', 'dynamics.safetensors');
  if (fs.existsSync(final)) assert.equal(parseDynamics(fs.readFileSync(final), final).rows, 32);
});

test('rpo suspects on the unchanged file: ranked by ascending AUM, suspects = AUM < 0, lines the run read', { skip }, () => {
  const all = json('--all', '--top', '0');
  assert.equal(all.train_rows, 24);
  assert.equal(all.file.same_bytes, true);
  assert.equal(all.file.same_labels, true);
  assert.equal(all.rows.length, 24 - all.unvisited);
  for (let i = 1; i < all.rows.length; i++) assert.ok(all.rows[i - 1]!.aum! <= all.rows[i]!.aum!, 'ascending AUM');
  for (const r of all.rows) {
    assert.equal(r.line, r.run_line);
    assert.ok(!r.moved && !r.label_changed && !r.not_in_file);
    assert.ok(r.visits > 0);
    const o = JSON.parse(lines[r.line! - 1]!) as { chosen: string };
    assert.equal(r.trained_chosen, o.chosen, 'the response trained as chosen is the file\'s chosen');
  }
  const suspects = json();
  assert.equal(suspects.rows.length, Math.min(20, suspects.suspects));
  assert.equal(suspects.rows.length, all.rows.filter((r) => r.aum! < 0).length);
  const txt = rpo('suspects', runDir);
  assert.equal(txt.status, 0, txt.stderr);
  assert.match(txt.stdout, /^run tiny-dpo-\S+ \(dpo, beta 0\.1, step 24\): 24 training pairs, \d+ suspects? \(AUM < 0\)/);
  assert.match(txt.stdout, /data\.pref\.jsonl: the file the run read, unchanged/);
  const top2 = json('--all', '--top', '2');
  assert.deepEqual(top2.rows.map((r) => r.row), all.rows.slice(0, 2).map((r) => r.row));
});

test('an edited file: a record added on top, one relabeled, one removed, one moved to the end: each found on its new line with its mark', { skip }, () => {
  // Each line of the edited file with the run line it came from (0: new); duplicates in the
  // fixture (identical records on two lines) keep their own lines.
  const removed = 9;
  const relabeled = 5;
  const moved = 3;
  const edited: { text: string; runLine: number }[] = [{ text: '{"prompt":"new question","chosen":"new a","rejected":"new b"}', runLine: 0 }, ...lines.map((text, i) => ({ text, runLine: i + 1 }))];
  edited[relabeled] = { text: flip(edited[relabeled]!.text), runLine: relabeled };
  const now = edited.filter((e) => e.runLine !== moved && e.runLine !== removed);
  now.push(edited[moved]!);
  const without = now.map((e) => e.text);
  const file = path.join(tmp, 'edited.pref.jsonl');
  fs.writeFileSync(file, without.join('\n') + '\n');
  const expectedLine = (runLine: number): number | null => (runLine === removed ? null : now.findIndex((e) => e.runLine === runLine) + 1);
  const out = json('--all', '--top', '0', '--file', file);
  assert.equal(out.file.same_bytes, false);
  assert.equal(out.file.same_labels, false);
  assert.equal(out.file.train_matched, 23);
  assert.equal(out.rows.length, 24 - out.unvisited);
  for (const r of out.rows) {
    assert.equal(r.line, expectedLine(r.run_line), `run line ${r.run_line}`);
    assert.equal(r.not_in_file, r.run_line === removed);
    assert.equal(r.label_changed, r.run_line === relabeled, `run line ${r.run_line}: label changed`);
    assert.equal(r.moved, r.line !== null && r.line !== r.run_line, `run line ${r.run_line}: moved`);
    if (r.run_line === relabeled) {
      const o = JSON.parse(without[r.line! - 1]!) as { rejected: string };
      assert.equal(r.trained_chosen, o.rejected, 'relabeled: the run trained on what is now the rejected response');
    }
  }
  const txt = rpo('suspects', runDir, '--all', '--top', '0', '--file', file);
  assert.equal(txt.status, 0, txt.stderr);
  let moves = 0;
  for (let runLine = 1; runLine <= 24; runLine++) if (runLine !== removed && expectedLine(runLine) !== runLine) moves++;
  assert.ok(moves > 10 && moves < 23, 'some lines moved, some did not (an insert and a removal before them cancel out)');
  assert.match(txt.stdout, new RegExp(`edited since the run: 23 of 24 training pairs found \\(${moves} moved, 1 label changed since the run, 1 no longer in the file\\)`));
  assert.match(txt.stdout, /edited\.pref\.jsonl:5 .* label changed since the run$/m, 'run line 5 is on line 5 again (one line added above, one moved away)');
  assert.match(txt.stdout, /no longer in the file \(run: line 9\)/);
  assert.match(txt.stdout, new RegExp(`edited\\.pref\\.jsonl:${without.length} .*moved \\(run: line 3\\)`));
});

test('another file, the dataset missing, a run without dynamics, a corrupt dynamics file: clear messages', { skip }, () => {
  const other = path.join(tmp, 'other.pref.jsonl');
  fs.writeFileSync(other, lines.map((l) => l.replace(/"prompt": ?"/, '"prompt": "Other: ')).join('\n') + '\n');
  const o = rpo('suspects', runDir, '--file', other);
  assert.equal(o.status, 0, o.stderr);
  assert.match(o.stdout, /other\.pref\.jsonl does not match the run: none of its 24 training pairs is in this file \(it is not the file the run read: .*data\.pref\.jsonl\)/);

  const hidden = dataFile + '.away';
  fs.renameSync(dataFile, hidden);
  try {
    const m = rpo('suspects', runDir, '--all');
    assert.equal(m.status, 0, m.stderr);
    assert.match(m.stdout, /data\.pref\.jsonl is missing: lines are those the run read \(pass --file FILE to match another file\)/);
    const j = json('--all');
    assert.ok(j.rows.every((r) => r.line === null && !r.not_in_file));
  } finally {
    fs.renameSync(hidden, dataFile);
  }

  const older = fs.mkdtempSync(path.join(tmp, 'older-run-'));
  fs.copyFileSync(path.join(runDir, 'config.json'), path.join(older, 'config.json'));
  const n = rpo('suspects', older);
  assert.equal(n.status, 1);
  assert.match(n.stderr, /older-run-\w+ has no dynamics\.safetensors: a run from an older trainer, or one stopped before its first checkpoint/);
  assert.doesNotMatch(n.stderr, /\n\s+at /);

  const corrupt = fs.mkdtempSync(path.join(tmp, 'corrupt-run-'));
  const bytes = fs.readFileSync(path.join(runDir, 'dynamics.safetensors'));
  fs.writeFileSync(path.join(corrupt, 'dynamics.safetensors'), bytes.subarray(0, bytes.length - 10));
  const c = rpo('suspects', corrupt);
  assert.equal(c.status, 1);
  assert.match(c.stderr, /corrupt-run-\w+\/dynamics\.safetensors: tensor \w+: data_offsets/);

  const none = rpo('suspects', path.join(tmp, 'no-such-run'));
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no-such-run: no such run folder/);
  assert.equal(rpo('suspects', runDir, '--top', 'x').status, 2);
});

test('the run\'s own dataset relabeled in place: edited since the run, the relabeled pair marked; rpo validate --suspects notes it', { skip }, () => {
  const original = fs.readFileSync(dataFile);
  try {
    const now = [...lines];
    now[0] = flip(now[0]!); // run line 1, a training row
    fs.writeFileSync(dataFile, now.join('\n') + '\n');
    const out = json('--all', '--top', '0');
    assert.match(out.notes[0]!, /edited since the run: 24 of 24 training pairs found \(0 moved, 1 label changed since the run, 0 no longer in the file\)/);
    const row1 = out.rows.find((r) => r.run_line === 1);
    if (row1) assert.equal(row1.label_changed, true);
    const v = rpo('validate', dataFile, '--suspects', runDir);
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /32 lines, 32 records, 0 invalid/);
    assert.match(v.stdout, /\nsuspects of run tiny-dpo-\S+ \(dpo, beta 0\.1, step 24\): 24 training pairs/);
    assert.match(v.stdout, /1 label changed since the run/);
    const vj = JSON.parse(rpo('validate', dataFile, '--json', '--suspects', runDir).stdout) as { suspects: JsonOut };
    assert.equal(vj.suspects.train_rows, 24);
    assert.equal(vj.suspects.file.same_labels, false);
  } finally {
    fs.writeFileSync(dataFile, original);
  }
});

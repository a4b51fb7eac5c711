// Merging labeled files into votes: the pure core, `rpo merge`, and `rpo merge-driver` run by a
// real `git merge` in a temporary repository.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { applyLabel, type LabelContext } from '../../../src/core/dataset/labeling';
import { parseText } from '../../../src/core/dataset/formats';
import { LineIndex } from '../../../src/core/dataset/lineIndex';
import { mergeFiles } from '../../../src/core/merge';
import { mergeInto } from '../../../src/cli/merge';
import type { Vote } from '../../../src/core/dataset/votes';
import { cliMain, rpoCli, tsxLoader } from '../../support/cli';

const rpo = rpoCli();

const rec = (i: number) => JSON.stringify({ id: i, prompt: `Q${i}`, chosen: `good ${i}`, rejected: `bad ${i}` });
const base = Array.from({ length: 6 }, (_, i) => rec(i));
const who = (annotator: string, n: number): LabelContext => ({ annotator, time: `2026-12-01T10:00:0${n}.000Z`, shown: ['chosen', 'rejected'] });
/** `annotator` prefers the original chosen (`good`) or rejected (`bad`) of line i. */
function label(lines: string[], i: number, annotator: string, pick: 'good' | 'bad', n = 1): void {
  const o = JSON.parse(lines[i]!) as { chosen: string };
  const side = o.chosen.startsWith(pick) ? 'left' : 'right';
  lines[i] = applyLabel(lines[i]!, { type: 'choose', side }, who(annotator, n));
}
const src = (lines: string[]) => LineIndex.fromBuffer(Buffer.from(lines.join('\n') + '\n'));
const text = (r: { lines: Uint8Array[] }) => r.lines.map((l) => Buffer.from(l).toString('utf8'));
const votes = (line: string) => ((JSON.parse(line) as { rpo_votes?: Vote[] }).rpo_votes ?? []).map((v) => `${v.annotator}:${v.choice ?? v.status}`);
const status = (line: string) => (JSON.parse(line) as { rpo_label?: { status: string | null } }).rpo_label?.status;

test('aligned three-way merge: one-sided labels taken, both-sided labels united into votes, disagreement disputed', () => {
  const a = base.slice();
  const b = base.slice();
  label(a, 1, 'ada', 'good'); label(a, 2, 'ada', 'good'); label(a, 3, 'ada', 'bad');
  label(b, 2, 'bo', 'good', 2); label(b, 3, 'bo', 'good', 2); label(b, 4, 'bo', 'bad', 2);
  const r = mergeFiles(src(base), src(a), src(b));
  assert.deepEqual(r.conflicts, []);
  assert.equal(r.aligned, true);
  const out = text(r);
  assert.equal(out.length, 6);
  assert.equal(out[0], base[0]);
  assert.equal(out[1], a[1], 'labeled on one side only: taken as is');
  assert.equal(out[4], b[4]);
  assert.deepEqual(votes(out[2]!), ['ada:chosen', 'bo:chosen']);
  assert.equal(status(out[2]!), null);
  assert.deepEqual(votes(out[3]!), ['ada:rejected', 'bo:chosen']);
  assert.equal(status(out[3]!), 'disputed');
  assert.equal(JSON.parse(out[3]!).chosen, 'good 3', 'a disputed record keeps the original data');
  assert.deepEqual([r.united, r.disputed], [2, 1]);
  // the merge is symmetric in its votes
  const rev = text(mergeFiles(src(base), src(b), src(a)));
  assert.deepEqual(votes(rev[3]!), votes(out[3]!));
});

test('rpo_blind merges as a label key: one branch marks a record blind, the other labels it: no conflict, the mark kept (written last)', () => {
  const b0 = base.slice();
  label(b0, 0, 'ada', 'good', 1);
  label(b0, 1, 'ada', 'good', 1);
  const marked = b0.slice();
  marked[0] = marked[0]!.replace(/\}$/, ',"rpo_blind":true}');
  marked[1] = marked[1]!.replace(/\}$/, ',"rpo_blind":true}');
  const labeled = b0.slice();
  label(labeled, 0, 'bo', 'good', 2);
  label(labeled, 1, 'bo', 'bad', 2);
  for (const [o, t] of [[marked, labeled], [labeled, marked]] as const) {
    for (const fastPath of [true, false]) {
      const r = mergeFiles(src(b0), src(o), src(t), { fastPath });
      assert.deepEqual(r.conflicts, [], `fastPath ${fastPath}`);
      const out = text(r);
      assert.deepEqual(votes(out[0]!), ['ada:chosen', 'bo:chosen']);
      assert.equal((JSON.parse(out[0]!) as { rpo_blind?: boolean }).rpo_blind, true);
      assert.ok(out[0]!.endsWith(',"rpo_blind":true}'), out[0]);
      assert.equal(status(out[1]!), 'disputed');
      assert.equal((JSON.parse(out[1]!) as { rpo_blind?: boolean }).rpo_blind, true);
    }
  }
  // a malformed mark is still an invalid line: a conflict, not a merge
  const bad = b0.slice();
  bad[0] = bad[0]!.replace(/\}$/, ',"rpo_blind":"yes"}');
  const r = mergeFiles(src(b0), src(bad), src(labeled));
  assert.match(r.conflicts[0]?.reason ?? '', /rpo_blind/);
});

test('three-way votes: a vote removed on one side stays removed; the later of two changed votes wins', () => {
  const b0 = base.slice();
  label(b0, 0, 'ada', 'good', 1); label(b0, 0, 'bo', 'good', 2);
  const ours = b0.slice();
  ours[0] = applyLabel(ours[0]!, { type: 'clear' }, who('bo', 3)); // bo withdraws
  const theirs = b0.slice();
  label(theirs, 0, 'cy', 'bad', 4);
  const out = text(mergeFiles(src(b0), src(ours), src(theirs)));
  assert.deepEqual(votes(out[0]!), ['ada:chosen', 'cy:rejected']);
  assert.equal(status(out[0]!), 'disputed');
  // ada changed her mind on both sides: the later wins
  const o2 = b0.slice(); label(o2, 0, 'ada', 'bad', 5);
  const t2 = b0.slice(); label(t2, 0, 'ada', 'bad', 6); label(t2, 0, 'ada', 'good', 7);
  const m = text(mergeFiles(src(b0), src(o2), src(t2)));
  const ada = (JSON.parse(m[0]!) as { rpo_votes: Vote[] }).rpo_votes.find((v) => v.annotator === 'ada')!;
  assert.equal(ada.time, '2026-12-01T10:00:07.000Z');
});

test('a base line whose label keys are spelled with \\u escapes still counts as labeled (the no-parse check for unlabeled base lines)', () => {
  const b0 = base.slice();
  label(b0, 0, 'ada', 'good', 1); label(b0, 0, 'bo', 'good', 2);
  const ours = b0.slice();
  ours[0] = applyLabel(ours[0]!, { type: 'clear' }, who('bo', 3)); // bo withdraws
  const theirs = b0.slice();
  label(theirs, 0, 'cy', 'bad', 4);
  const escaped = b0.slice();
  escaped[0] = escaped[0]!.replace('"rpo_votes"', '"rpo\\u005fvotes"').replace('"rpo_label"', '"rpo\\u005flabel"');
  assert.ok(!escaped[0].includes('rpo_votes') && escaped[0].includes('rpo\\u005fvotes'));
  const out = text(mergeFiles(src(escaped), src(ours), src(theirs)));
  assert.deepEqual(votes(out[0]!), ['ada:chosen', 'cy:rejected']); // bo's withdrawal seen against the base
});

test('data changed on both sides is a conflict naming the line and field; nothing is returned', () => {
  const a = base.slice();
  const b = base.slice();
  a[2] = a[2]!.replace('Q2', 'Q2 edited');
  b[2] = b[2]!.replace('Q2', 'Q2 other');
  label(b, 3, 'bo', 'good');
  const r = mergeFiles(src(base), src(a), src(b));
  assert.equal(r.lines.length, 0);
  assert.equal(r.conflicts.length, 1);
  assert.equal(r.conflicts[0]!.line, 3);
  assert.match(r.conflicts[0]!.reason, /data changed on both sides.*"prompt"/);
});

test('different line counts: records matched by content; labels of a moved record still merge', () => {
  const a = base.slice();
  const b = base.slice();
  label(a, 4, 'ada', 'good');
  b.splice(1, 0, rec(100)); // theirs inserted a record
  label(b, 5, 'bo', 'bad'); // = base line 4
  const r = mergeFiles(src(base), src(a), src(b));
  assert.deepEqual(r.conflicts, []);
  assert.equal(r.aligned, false);
  const out = text(r);
  assert.equal(out.length, 7);
  assert.deepEqual(votes(out[4]!), ['ada:chosen', 'bo:rejected']);
  assert.ok(out.includes(rec(100)), 'their new record is kept');
  // without a base (rpo merge A B) the same lines unite
  const two = text(mergeFiles(null, src(a), src(b)));
  assert.deepEqual(votes(two[4]!), ['ada:chosen', 'bo:rejected']);
});

test('candidates chosen differently on two branches: votes in response terms, disputed keeps the candidates', () => {
  const cand = JSON.stringify({ prompt: 'P', responses: ['r0', 'r1'] });
  const a = [applyLabel(cand, { type: 'choose', side: 'left' }, { annotator: 'ada', time: 'T1', shown: ['responses.0', 'responses.1'] })];
  const b = [applyLabel(cand, { type: 'choose', side: 'left' }, { annotator: 'bo', time: 'T2', shown: ['responses.1', 'responses.0'] })];
  const out = text(mergeFiles(src([cand]), src(a), src(b)));
  assert.equal(status(out[0]!), 'disputed');
  assert.deepEqual(votes(out[0]!), ['ada:responses.0', 'bo:responses.1']);
  assert.equal(parseText(out[0]!).kind, 'candidates');
});

function git(cwd: string, ...args: string[]) {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' } });
  return r;
}

test('git merge with rpo merge-driver: two branches label the same file, no conflict markers, votes united', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rpo-merge-git-'));
  const ok = (...args: string[]) => {
    const r = git(dir, ...args);
    assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  ok('init', '-q', '-b', 'main');
  writeFileSync(path.join(dir, '.gitattributes'), '*.pref.jsonl merge=rpo-labels\n');
  ok('config', 'merge.rpo-labels.driver', `"${process.execPath}" --import ${tsxLoader} "${cliMain}" merge-driver %O %A %B`);
  const file = path.join(dir, 'data.pref.jsonl');
  writeFileSync(file, base.join('\n') + '\n');
  ok('add', '.'); ok('commit', '-q', '-m', 'data');
  ok('checkout', '-q', '-b', 'ada');
  const a = base.slice(); label(a, 1, 'ada', 'good'); label(a, 3, 'ada', 'bad');
  writeFileSync(file, a.join('\n') + '\n'); ok('commit', '-q', '-am', 'ada');
  ok('checkout', '-q', '-b', 'bo', 'main');
  const b = base.slice(); label(b, 1, 'bo', 'good', 2); label(b, 3, 'bo', 'good', 2); label(b, 5, 'bo', 'bad', 2);
  writeFileSync(file, b.join('\n') + '\n'); ok('commit', '-q', '-am', 'bo');
  const m = git(dir, 'merge', '--no-edit', 'ada');
  assert.equal(m.status, 0, m.stdout + m.stderr);
  const merged = readFileSync(file, 'utf8');
  assert.doesNotMatch(merged, /^(<<<<<<<|=======|>>>>>>>)/m);
  const lines = merged.split('\n');
  assert.equal(lines.length, 7);
  assert.deepEqual(votes(lines[1]!), ['ada:chosen', 'bo:chosen']);
  assert.deepEqual(votes(lines[3]!), ['ada:rejected', 'bo:chosen']);
  assert.equal(status(lines[3]!), 'disputed');
  assert.equal(lines[5], b[5]);

  // data edited on both branches: git's conflict, with the line named
  ok('checkout', '-q', '-b', 'x', 'main');
  writeFileSync(file, base.map((l, i) => (i === 2 ? l.replace('Q2', 'Q2 x') : l)).join('\n') + '\n'); ok('commit', '-q', '-am', 'x');
  ok('checkout', '-q', '-b', 'y', 'main');
  writeFileSync(file, base.map((l, i) => (i === 2 ? l.replace('Q2', 'Q2 y') : l)).join('\n') + '\n'); ok('commit', '-q', '-am', 'y');
  const c = git(dir, 'merge', '--no-edit', 'x');
  assert.notEqual(c.status, 0);
  assert.match(c.stdout + c.stderr, /:3: the data changed on both sides/);
  assert.match(readFileSync(file, 'utf8'), /^<<<<<<< ours$/m, "git's conflict markers");
});

test('rpo merge: inputs untouched, OUT written whole; conflicts write nothing; OUT may not be an input', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rpo-merge-cli-'));
  const a = base.slice(); label(a, 2, 'ada', 'good');
  const b = base.slice(); label(b, 2, 'bo', 'bad');
  const fa = path.join(dir, 'a.pref.jsonl');
  const fb = path.join(dir, 'b.pref.jsonl');
  writeFileSync(fa, a.join('\n') + '\n');
  writeFileSync(fb, b.join('\n') + '\n');
  const hash = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
  const [ha, hb] = [hash(fa), hash(fb)];
  const out = path.join(dir, 'out.pref.jsonl');
  const r = rpo('merge', fa, fb, '-o', out);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual([hash(fa), hash(fb)], [ha, hb]);
  const lines = readFileSync(out, 'utf8').split('\n');
  assert.equal(status(lines[2]!), 'disputed');
  assert.match(r.stdout, /1 records merged into votes \(1 disputed\)/);
  const c = b.slice(); c[4] = c[4]!.replace('Q4', 'Q4 changed');
  const d = a.slice(); d[4] = d[4]!.replace('Q4', 'Q4 else');
  writeFileSync(fa, d.join('\n') + '\n');
  writeFileSync(fb, c.join('\n') + '\n');
  const out2 = path.join(dir, 'out2.pref.jsonl');
  const bad = rpo('merge', fa, fb, '-o', out2);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /a\.pref\.jsonl:5: the data changed on both sides/);
  assert.equal(existsSync(out2), false);
  assert.equal(rpo('merge', fa, fb, '-o', fa).status, 2);
});

test('mergeInto streams to a temporary file: our BOM and CRLF endings kept; on conflict the target and folder are untouched', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rpo-merge-into-'));
  const a = base.slice(); label(a, 1, 'ada', 'good');
  const b = base.slice(); label(b, 1, 'bo', 'bad');
  const target = path.join(dir, 'ours.pref.jsonl');
  writeFileSync(target, '\ufeff' + a.join('\r\n')); // BOM, CRLF, no final newline
  const res = mergeInto(target, src(base), await LineIndex.read(target), src(b), {});
  assert.deepEqual(res.conflicts, []);
  const out = readFileSync(target);
  assert.deepEqual([...out.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const lines = out.subarray(3).toString('utf8').split('\r\n');
  assert.equal(lines.length, 6);
  assert.equal(status(lines[1]!), 'disputed');
  assert.equal(lines[5], base[5], 'no final line ending, as ours');
  assert.deepEqual(readdirSync(dir), ['ours.pref.jsonl']);
  const before = readFileSync(target);
  const c = base.slice(); c[3] = c[3]!.replace('Q3', 'Q3 c');
  const d = base.slice(); d[3] = d[3]!.replace('Q3', 'Q3 d');
  writeFileSync(target, d.join('\n') + '\n');
  const again = readFileSync(target);
  const r2 = mergeInto(target, src(base), await LineIndex.read(target), src(c), {});
  assert.equal(r2.conflicts.length, 1);
  assert.deepEqual(readFileSync(target), again, 'the target is untouched');
  assert.deepEqual(readdirSync(dir), ['ours.pref.jsonl'], 'no temporary file left');
  void before;
});

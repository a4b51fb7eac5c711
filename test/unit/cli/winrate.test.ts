// `rpo winrate` as a real process over a candidates file + sidecar (written from the spec by
// test/builders/candidates.mjs) labeled with the editor's own applyLabel, against a hand count.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { applyLabel, displayOrder } from '../../../src/core/dataset/labeling';
import { parseText } from '../../../src/core/dataset/formats';
// @ts-expect-error plain ESM builder shared with the UI tests
import { writeCandidates } from '../../builders/candidates.mjs';
import { rpoCli } from '../../support/cli';

const rpo = rpoCli();

// Model A answers at length; B tersely. The hand judgement per prompt, in model terms:
const PLAN: ('A' | 'B' | 'tie' | 'both_bad' | 'skip' | null)[] = ['A', 'A', 'B', 'A', 'tie', 'A', 'both_bad', 'B', 'skip', 'A', null, 'A'];
// Hand count: judged = 6 A + 2 B + 1 tie + 1 both_bad = 10; win rate = (6 + 2/2) / 10 = 0.7.

function labeledFile(dir: string): { file: string; leftPicks: number; picks: number } {
  const file = path.join(dir, 'final-vs-reference.eval.pref.jsonl');
  const answers = PLAN.map((_, i) => ({ prompt: `Question ${i}?`, a: `A long answer number ${i}, with details${' and more'.repeat(i % 4)}.`, b: `B ${i}.${' A longer reply from B this time.'.repeat(i % 3)}` }));
  const entries = writeCandidates(file, answers, { seed: 3 }) as { sources: string[] }[];
  const lines = readFileSync(file, 'utf8').slice(0, -1).split('\n');
  let picks = 0;
  let leftPicks = 0;
  PLAN.forEach((plan, i) => {
    if (plan === null) return;
    const ctx = { annotator: 'ada', time: '2026-12-01T10:00:00.000Z', shown: displayOrder(parseText(lines[i]!), i, 'seed')! };
    if (plan === 'A' || plan === 'B') {
      const idx = entries[i]!.sources.indexOf(plan); // the response the model wrote
      const side = ctx.shown[0] === `responses.${idx}` ? 'left' : 'right';
      picks++;
      if (side === 'left') leftPicks++;
      lines[i] = applyLabel(lines[i]!, { type: 'choose', side }, ctx);
    } else lines[i] = applyLabel(lines[i]!, { type: 'status', status: plan }, ctx);
  });
  writeFileSync(file, lines.join('\n') + '\n');
  return { file, leftPicks, picks };
}

test('rpo winrate: a labeled candidates file against the hand count', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rpo-winrate-'));
  const { file, leftPicks, picks } = labeledFile(dir);
  const r = rpo('winrate', file, '--json', '--resamples', '200', '--seed', '1');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { complete: boolean; report: Record<string, unknown> & { position: { picks: number; left: number }; lengthControlled: { value: number | null; reason: string | null }; bootstrap: { ci: number[] } } };
  const rep = out.report;
  assert.equal(out.complete, true);
  assert.deepEqual([rep.records, rep.wins, rep.losses, rep.ties, rep.bothBad, rep.skipped, rep.pending, rep.judged], [12, 6, 2, 2, 1, 1, 1, 10]);
  assert.equal(rep.winRate, 0.7);
  assert.deepEqual([rep.position.picks, rep.position.left], [picks, leftPicks]);
  assert.ok(rep.bootstrap.ci[0]! < 0.7 && rep.bootstrap.ci[1]! > 0.7);
  assert.equal(rep.lengthControlled.reason, null);
  const txt = rpo('winrate', file, '--resamples', '0');
  assert.equal(txt.status, 0, txt.stderr);
  assert.match(txt.stdout, /12 records, 10 judged: A 6, B 2, ties 2 \(1 both bad\)/);
  assert.match(txt.stdout, /win rate of A over B {3}70\.0%/);
  assert.match(txt.stdout, /A = A \(run a, final\), B = B \(reference model \/models\/tiny\)/);
  rmSync(dir, { recursive: true });
});

test('rpo winrate refuses (exit 1) without its sidecar or when they do not match', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rpo-winrate-'));
  const { file } = labeledFile(dir);
  const sidecar = file + '.sources.jsonl';
  const good = readFileSync(sidecar, 'utf8');
  const refuse = (pattern: RegExp) => {
    const r = rpo('winrate', file);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, pattern);
    assert.equal(r.stdout, '');
  };
  // a record edited as text: its key no longer matches
  const lines = readFileSync(file, 'utf8');
  writeFileSync(file, lines.replace('Question 4?', 'Question 4, edited?'));
  refuse(/line 5: no entry in .*sources\.jsonl has this record's pair key/);
  refuse(/line 6: no record in .* has pair key/); // the sidecar's entry of that record (line 1 is the header)
  // an invalid line is named, not skipped
  writeFileSync(file, lines.replace('{"prompt": "Question 7?"', '{"prompt": "Question 7?" oops'));
  refuse(/line 8: invalid \(not valid JSON/);
  // a torn last line without its newline (a generation appending) is ignored
  writeFileSync(file, lines + '{"prompt": "Question 12?", "resp');
  assert.equal(rpo('winrate', file, '--resamples', '0').status, 0);
  writeFileSync(file, lines);
  // one entry too many / too few
  const sl = good.slice(0, -1).split('\n');
  writeFileSync(sidecar, sl.slice(0, -1).join('\n') + '\n');
  refuse(/12 records in the file, 11 entries in the sidecar/);
  writeFileSync(sidecar, [...sl, sl[1]].join('\n') + '\n');
  refuse(/12 records in the file, 13 entries in the sidecar/);
  // a malformed field is named
  writeFileSync(sidecar, good.replace('"sources": ["A", "B"]', '"sources": ["A", "A"]').replace('"sources": ["B", "A"]', '"sources": ["A", "A"]'));
  refuse(/sources\.jsonl: line \d+: field "sources" must list the two models/);
  writeFileSync(sidecar, good.replace('rpo-candidates-sources', 'other'));
  refuse(/line 1: field "format" must be "rpo-candidates-sources"/);
  // no sidecar at all
  rmSync(sidecar);
  refuse(/no sidecar .*sources\.jsonl next to it/);
  // the file itself is never touched
  assert.equal(readFileSync(file, 'utf8'), lines);
  rmSync(dir, { recursive: true });
});

import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { blindOrder, blindSeed, pickBlind } from '../../../src/core/dataset/blind';
import { parseText } from '../../../src/core/dataset/formats';
import { LabelingModel } from '../../../src/labeling/model';
import { parseShare } from '../../../src/labeling/shareInput';

// Blind re-annotation: the seeded pick, the `rpo_blind` mark on disk, the "Blind" filter, and the
// blind detail (no votes, no label, no chosen/rejected; an order re-randomised per annotator).

const T = '2026-11-01T00:00:00.000Z';
const label = (annotator: string) => ({ annotator, time: T, status: null, strength: 'clearly', note: 'first note', shown: ['chosen', 'rejected'] });
const vote = (annotator: string, choice: string) => ({ annotator, time: T, choice, strength: null, status: null, note: null, shown: ['chosen', 'rejected'], adjudicator: false });

/** 40 labeled pairs (every 4th with two agreeing votes), then 10 unlabeled candidates. */
function lines(): string[] {
  const out: string[] = [];
  for (let i = 0; i < 40; i++) {
    const rec: Record<string, unknown> = { prompt: `q${i}`, chosen: `good ${i}`, rejected: `bad ${i}`, rpo_label: label('ada') };
    if (i % 4 === 0) rec.rpo_votes = [vote('ada', 'chosen'), vote('bo', 'chosen')];
    out.push(JSON.stringify(rec));
  }
  for (let i = 0; i < 10; i++) out.push(JSON.stringify({ prompt: `c${i}`, responses: ['x', 'y'] }));
  return out;
}

test('pickBlind: the share of the candidates, the same for the same seed, different for another', () => {
  const candidates = Array.from({ length: 1000 }, (_, i) => i * 3);
  const a = pickBlind(candidates, 0.1, 'seed-a');
  assert.equal(a.length, 100);
  assert.equal(new Set(a).size, 100, 'no line twice');
  assert.ok(a.every((l) => candidates.includes(l)), 'only candidates');
  assert.deepEqual(a, [...a].sort((x, y) => x - y), 'ascending');
  assert.deepEqual(pickBlind(candidates, 0.1, 'seed-a'), a, 'seeded');
  const b = pickBlind(candidates, 0.1, 'seed-b');
  assert.notDeepEqual(b, a, 'another seed picks other lines');
  // Not the first lines: spread over the whole file.
  assert.ok(a[a.length - 1]! > 1500 && a[0]! < 1500, `spread: ${a[0]} .. ${a[a.length - 1]}`);
  assert.equal(pickBlind(candidates, 0.125, 's').length, 125);
  assert.equal(pickBlind(candidates, 0, 's').length, 0);
  assert.equal(pickBlind(candidates, 1, 's').length, 1000);
  assert.throws(() => pickBlind(candidates, 1.5, 's'), /between 0 and 1/);
});

test('parseShare: a percent, with or without %, 0..100', () => {
  assert.equal(parseShare('10'), 0.1);
  assert.equal(parseShare(' 12.5% '), 0.125);
  assert.equal(parseShare('101'), null);
  assert.equal(parseShare('-1'), null);
  assert.equal(parseShare('ten'), null);
});

test('markBlind marks a seeded 10% of the labeled records; the Blind filter and the blind detail hide the earlier votes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rpo-blind-'));
  const file = join(dir, 'x.pref.jsonl');
  const before = lines();
  writeFileSync(file, before.join('\n') + '\n');
  const m = await LabelingModel.open(file);
  await m.whenScanned();
  const { marked, candidates } = m.markBlind(0.1, 'team-seed');
  assert.deepEqual({ marked, candidates }, { marked: 4, candidates: 40 }, 'unlabeled candidates are not re-annotated');
  assert.equal(m.counts.blind, 4);
  const blindLines = [...(await m.matching('blind', ''))!];
  assert.equal(blindLines.length, 4);
  assert.deepEqual(blindLines, pickBlind(Array.from({ length: 40 }, (_, i) => i), 0.1, 'team-seed'), 'the seeded pick');
  await m.save();
  const after = readFileSync(file, 'utf8').slice(0, -1).split('\n');
  assert.equal(after.length, before.length, 'no line added or lost');
  for (let i = 0; i < before.length; i++) {
    if (!blindLines.includes(i)) assert.equal(after[i], before[i], `line ${i + 1} untouched`);
    else assert.equal(after[i], before[i]!.slice(0, -1) + ',"rpo_blind":true}', `line ${i + 1} marked, the rest kept`);
  }
  // Marking again picks among the records not marked yet.
  assert.equal(m.markBlind(0.5, 'team-seed').candidates, 36);

  // The blind view of a marked record that has votes.
  const withVotes = blindLines.find((l) => l % 4 === 0) ?? (() => { throw new Error(`no voted line in ${blindLines}`); })();
  const normal = m.detail(withVotes, 'display-seed');
  assert.equal(normal.votes?.length, 2, 'the normal detail shows the votes');
  assert.match(JSON.stringify(normal), /\(chosen\)/);
  for (const annotator of ['cy', 'dee']) {
    const seed = blindSeed('display-seed', annotator);
    const d = m.detail(withVotes, seed, true);
    assert.equal(d.votes, undefined, 'no votes');
    assert.equal(d.label, undefined, 'no label (annotator, note, preferred side)');
    assert.deepEqual([d.left?.title, d.right?.title], ['Response A', 'Response B']);
    assert.doesNotMatch(JSON.stringify(d), /chosen|rejected|ada|first note/i, 'nothing tells what the first annotator picked');
    assert.ok(!d.actions.includes('confirm') && !d.actions.includes('flip') && !d.actions.includes('adjudicateLeft'), 'no action that names the current pair');
    const order = blindOrder(parseText(before[withVotes]!), withVotes, seed)!;
    assert.equal(d.left?.turns[0]?.content, order[0] === 'chosen' ? `good ${withVotes}` : `bad ${withVotes}`, 'the left response is the blind order\'s');
  }
  // Re-randomised per annotator: over the 40 records, two annotators' orders differ somewhere, and
  // differ from the recorded order (chosen left) for some records.
  const orders = (a: string) => Array.from({ length: 40 }, (_, i) => blindOrder(parseText(before[i]!), i, blindSeed('display-seed', a))![0]);
  assert.notDeepEqual(orders('cy'), orders('dee'));
  assert.ok(orders('cy').includes('rejected') && orders('cy').includes('chosen'));

  // A blind label is a vote for the side shown: "left" picks the blind order's left field.
  const target = blindLines[0]!;
  const seed = blindSeed('display-seed', 'cy');
  const left = blindOrder(m.parse(target), target, seed)![0];
  m.label(target, 'chooseLeft', { annotator: 'cy', seed, blind: true }, T);
  const o = JSON.parse(m.doc.lineText(target)) as { rpo_votes: { annotator: string; choice: string }[]; rpo_blind: boolean };
  assert.equal(o.rpo_blind, true, 'the mark stays');
  assert.equal(o.rpo_votes.find((v) => v.annotator === 'cy')?.choice, left === 'chosen' ? 'chosen' : 'rejected');
  m.dispose();
});

test('a malformed rpo_blind makes the line invalid, naming the field', () => {
  const r = parseText(JSON.stringify({ prompt: 'p', chosen: 'a', rejected: 'b', rpo_blind: 'yes' }));
  assert.equal(r.kind, 'invalid');
  assert.match(r.kind === 'invalid' ? r.reason : '', /field "rpo_blind" must be true/);
});

import { test } from 'node:test';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { applyLabel, LabelError, type LabelContext } from '../../../src/core/dataset/labeling';
import { labelState, parseText } from '../../../src/core/dataset/formats';
import { usableItems } from '../../../src/core/contrast/usable';
import { resolveVotes, makeVote, voteShares, type Vote } from '../../../src/core/dataset/votes';

/** Several annotators on one record: votes in `rpo_votes`, `rpo_label` the resolution (docs/formats.md, "Votes"). */

const T = (n: number) => `2026-12-01T10:00:0${n}.000Z`;
const who = (annotator: string, n: number, extra: Partial<LabelContext> = {}): LabelContext => ({ annotator, time: T(n), ...extra });
const obj = (line: string) => JSON.parse(line) as Record<string, unknown>;
const votesOf = (line: string) => (obj(line).rpo_votes as Vote[]).map((v) => `${v.annotator}:${v.status ?? v.choice}`);
const label = (line: string) => obj(line).rpo_label as Record<string, unknown>;
const paired = '{"prompt": "Q", "chosen": "A", "rejected": "B"}';

/** Annotator `name` picks the response with text `text` on `line` (shown chosen left). */
function choose(line: string, name: string, n: number, text: string, extra: Partial<LabelContext> = {}): string {
  const o = obj(line);
  const side = o.chosen === text ? 'left' : 'right';
  return applyLabel(line, { type: 'choose', side }, who(name, n, { shown: ['chosen', 'rejected'], ...extra }));
}

test('one annotator writes rpo_label only, as before (no rpo_votes)', () => {
  const a = choose(paired, 'ada', 1, 'B');
  assert.equal(obj(a).rpo_votes, undefined);
  assert.equal(obj(a).chosen, 'B');
  // the same annotator changing their mind overwrites
  const a2 = choose(a, 'ada', 2, 'A');
  assert.equal(obj(a2).rpo_votes, undefined);
  assert.equal(obj(a2).chosen, 'A');
});

test('a second annotator adds a vote; a 1-1 split is disputed, keeps the data, does not train', () => {
  const a = choose(paired, 'ada', 1, 'B', { }); // ada prefers B: chosen/rejected swap
  const b = choose(a, 'bo', 2, 'A');
  const o = obj(b);
  assert.deepEqual(Object.keys(o), ['prompt', 'chosen', 'rejected', 'rpo_label', 'rpo_votes']);
  assert.equal(o.chosen, 'B', 'a dispute leaves chosen/rejected as they were');
  assert.equal(label(b).status, 'disputed');
  assert.deepEqual(votesOf(b), ['ada:chosen', 'bo:rejected']);
  const rec = parseText(b);
  assert.equal(labelState(rec), 'disputed');
  assert.deepEqual(usableItems([[0, rec]], 'paired'), []);
  assert.deepEqual(usableItems([[0, rec]], 'unpaired'), []);
  // every vote has the same eight keys in the same order
  for (const v of o.rpo_votes as object[]) assert.deepEqual(Object.keys(v), ['annotator', 'time', 'choice', 'strength', 'status', 'note', 'shown', 'adjudicator']);
});

test('a third vote resolves by majority: chosen/rejected follow it and every vote is renamed with the swap', () => {
  const a = choose(paired, 'ada', 1, 'A');
  const b = choose(a, 'bo', 2, 'B');
  const c = choose(b, 'cy', 3, 'B', {});
  const o = obj(c);
  assert.deepEqual([o.chosen, o.rejected], ['B', 'A']);
  assert.equal(label(c).status, null);
  assert.equal(label(c).annotator, 'cy', 'the resolved label names the latest winning vote');
  assert.equal(label(c).flipped, true);
  assert.deepEqual(votesOf(c), ['ada:rejected', 'bo:chosen', 'cy:chosen']);
  assert.equal(labelState(parseText(c)), 'labeled');
  assert.equal(usableItems([[0, parseText(c)]], 'paired')[0]!.chosen, 'B');
  // unanimous: the same votes are disputed
  const u = choose(b, 'cy', 3, 'B', { policy: 'unanimous' });
  assert.equal(label(u).status, 'disputed');
});

test('an annotator re-voting replaces their own vote; ties and statuses count as judgements, skips abstain', () => {
  const a = choose(paired, 'ada', 1, 'A');
  const b = applyLabel(a, { type: 'status', status: 'tie' }, who('bo', 2));
  assert.deepEqual(votesOf(b), ['ada:chosen', 'bo:tie']);
  assert.equal(label(b).status, 'disputed');
  const b2 = choose(b, 'bo', 3, 'A');
  assert.deepEqual(votesOf(b2), ['ada:chosen', 'bo:chosen']);
  assert.equal(label(b2).status, null);
  assert.equal(obj(b2).chosen, 'A');
  const s = applyLabel(b2, { type: 'status', status: 'skip' }, who('cy', 4));
  assert.deepEqual(votesOf(s), ['ada:chosen', 'bo:chosen', 'cy:skip']);
  assert.equal(label(s).status, null, 'a skip abstains');
});

test('the adjudicator wins under the adjudicated policy; without one, adjudicated is unanimous', () => {
  const a = choose(paired, 'ada', 1, 'A');
  const b = choose(a, 'bo', 2, 'B', { policy: 'adjudicated' });
  assert.equal(label(b).status, 'disputed');
  const d = choose(b, 'judge', 3, 'B', { policy: 'adjudicated', adjudicator: true });
  assert.equal(label(d).status, null);
  assert.equal(obj(d).chosen, 'B');
  assert.equal(label(d).annotator, 'judge');
  assert.deepEqual((obj(d).rpo_votes as Vote[]).map((v) => v.adjudicator), [false, false, true]);
});

test('candidates: votes name responses, then chosen/rejected once a side wins', () => {
  const cand = '{"prompt": "P", "responses": ["r0", "r1"]}';
  const a = applyLabel(cand, { type: 'choose', side: 'left' }, who('ada', 1, { shown: ['responses.1', 'responses.0'] })); // ada picks r1
  assert.equal(obj(a).chosen, 'r1');
  const b = applyLabel(a, { type: 'choose', side: 'right' }, who('bo', 2, { shown: ['chosen', 'rejected'] })); // bo picks r0 (rejected now)
  assert.equal(label(b).status, 'disputed');
  assert.deepEqual(votesOf(b), ['ada:chosen', 'bo:rejected']);
  const c = applyLabel(b, { type: 'choose', side: 'left' }, who('cy', 3, { shown: ['rejected', 'chosen'] })); // cy picks r0
  assert.deepEqual([obj(c).chosen, obj(c).rejected], ['r0', 'r1']);
  assert.deepEqual(label(c).from_responses, [0, 1]);
  assert.deepEqual(votesOf(c), ['ada:rejected', 'bo:chosen', 'cy:chosen']);
  // clearing every vote restores the candidates exactly
  let x = applyLabel(c, { type: 'clear' }, who('cy', 4));
  x = applyLabel(x, { type: 'clear' }, who('bo', 5));
  assert.equal(obj(x).chosen, 'r1', 'ada alone remains');
  x = applyLabel(x, { type: 'clear' }, who('ada', 6));
  assert.equal(x, cand);
});

test('note and strength act on the annotator\'s own vote; clear without a vote is refused', () => {
  const a = choose(paired, 'ada', 1, 'A');
  const b = choose(a, 'bo', 2, 'A');
  const n = applyLabel(b, { type: 'note', note: 'close call' }, who('bo', 3));
  assert.deepEqual((obj(n).rpo_votes as Vote[]).map((v) => v.note), [null, 'close call']);
  assert.equal(label(n).note, 'close call', 'the resolved label carries the latest winning vote\'s note');
  const s = applyLabel(n, { type: 'strength', strength: 'clearly' }, who('ada', 4));
  assert.deepEqual((obj(s).rpo_votes as Vote[]).map((v) => v.strength), ['clearly', null]);
  assert.throws(() => applyLabel(s, { type: 'clear' }, who('zed', 5)), LabelError);
  assert.throws(() => applyLabel(s, { type: 'note', note: 'x' }, who('zed', 5)), LabelError);
});

test('thumbs votes on unpaired records', () => {
  const c = '{"prompt": "P", "completion": "C"}';
  const a = applyLabel(c, { type: 'thumbs', up: true }, who('ada', 1));
  const b = applyLabel(a, { type: 'thumbs', up: false }, who('bo', 2));
  assert.deepEqual(votesOf(b), ['ada:up', 'bo:down']);
  assert.equal(label(b).status, 'disputed');
  const c3 = applyLabel(b, { type: 'thumbs', up: false }, who('cy', 3));
  assert.equal(obj(c3).label, false);
  assert.equal(label(c3).original_label, null);
});

test('malformed votes make the line invalid, naming the field', () => {
  const good = makeVote({ annotator: 'ada', time: T(1), choice: 'chosen' });
  const line = (votes: unknown) => JSON.stringify({ prompt: 'Q', chosen: 'A', rejected: 'B', rpo_votes: votes });
  const cases: [unknown, string][] = [
    [{}, 'rpo_votes'],
    [[good, 3], 'rpo_votes[1]'],
    [[{ ...good, choice: 'responses.0' }], 'rpo_votes[0].choice'],
    [[{ ...good, choice: null }], 'rpo_votes[0].choice'],
    [[{ ...good, status: 'tie' }], 'rpo_votes[0].choice'],
    [[{ ...good, strength: 'very' }], 'rpo_votes[0].strength'],
    [[{ ...good, adjudicator: 'yes' }], 'rpo_votes[0].adjudicator'],
    [[{ ...good, annotator: '' }], 'rpo_votes[0].annotator'],
    [[{ ...good, extra: 1 }], 'rpo_votes[0].extra'],
  ];
  for (const [votes, field] of cases) {
    const r = parseText(line(votes));
    assert.equal(r.kind, 'invalid', field);
    if (r.kind === 'invalid') {
      assert.equal(r.code, 'label-field');
      assert.equal(r.field, field, r.reason);
    }
  }
  assert.equal(parseText(line([good])).kind, 'paired');
  assert.throws(() => applyLabel(line([{ ...good, time: 5 }]), { type: 'confirm' }, who('x', 1)), /rpo_votes\[0\]\.time/);
});

test('resolveVotes: policies, ties in the count, skips', () => {
  const v = (annotator: string, choice: 'chosen' | 'rejected' | null, status: 'tie' | 'skip' | null = null, adjudicator = false) => makeVote({ annotator, time: T(0), choice, status, adjudicator });
  assert.deepEqual(resolveVotes([], 'majority'), { judgement: null, vote: null });
  assert.equal(resolveVotes([v('a', 'chosen'), v('b', 'rejected'), v('c', 'chosen')], 'majority').judgement, 'chosen');
  assert.equal(resolveVotes([v('a', 'chosen'), v('b', 'rejected'), v('c', null, 'tie')], 'majority').judgement, 'disputed');
  assert.equal(resolveVotes([v('a', 'chosen'), v('b', 'rejected'), v('c', null, 'tie'), v('d', null, 'tie')], 'majority').judgement, 'tie');
  assert.equal(resolveVotes([v('a', null, 'skip'), v('b', null, 'skip')], 'unanimous').judgement, 'skip');
  assert.equal(resolveVotes([v('a', 'chosen'), v('b', null, 'skip')], 'unanimous').judgement, 'chosen');
  assert.equal(resolveVotes([v('a', 'chosen'), v('b', 'rejected', null, true)], 'adjudicated').judgement, 'rejected');
  assert.equal(resolveVotes([v('a', 'chosen'), v('b', 'rejected', null, true)], 'majority').judgement, 'disputed');
});

test('an automatic judge (annotator model:...) never outvotes or disputes a person; alone, its votes decide', () => {
  const v = (annotator: string, choice: 'chosen' | 'rejected' | null, status: 'tie' | 'skip' | null = null, adjudicator = false) => makeVote({ annotator, time: T(0), choice, status, adjudicator });
  for (const policy of ['majority', 'unanimous', 'adjudicated'] as const) {
    assert.equal(resolveVotes([v('model:rm', 'rejected'), v('ada', 'chosen')], policy).judgement, 'chosen', policy);
    assert.equal(resolveVotes([v('model:rm', 'rejected'), v('model:rm2', 'rejected'), v('ada', 'chosen')], policy).judgement, 'chosen', policy);
    assert.equal(resolveVotes([v('model:rm', 'rejected')], policy).judgement, 'rejected', policy);
    assert.equal(resolveVotes([v('ada', null, 'skip'), v('model:rm', 'chosen')], policy).judgement, 'skip', `${policy}: a person's skip is the people's say`);
  }
  assert.equal(resolveVotes([v('model:rm', 'chosen'), v('ada', 'chosen'), v('bo', 'rejected')], 'majority').judgement, 'disputed', 'people tied: the judge does not break it');
  assert.equal(resolveVotes([v('ada', 'chosen'), v('model:rm', 'rejected')], 'majority').vote!.annotator, 'ada');
  assert.equal(resolveVotes([v('ada', 'chosen'), v('modelista', 'rejected')], 'majority').judgement, 'disputed', 'only the model: prefix marks a judge');
  assert.deepEqual(voteShares([v('model:rm', 'rejected'), v('ada', 'chosen')], 'chosen', 'rejected'), { agreement: 1, dissent: 0 });
  assert.deepEqual(voteShares([v('model:rm', 'rejected')], 'chosen', 'rejected'), { agreement: 0, dissent: 1 });
});

test('a person labeling a record the judge pre-filled decides it, whichever side the judge took', () => {
  const judged = JSON.stringify({
    prompt: 'P', responses: ['r0', 'r1'],
    rpo_votes: [{ annotator: 'model:tiny-rm', time: T(0), choice: 'responses.1', strength: null, status: null, note: 'scores -0.4 / 1.2', shown: null, adjudicator: false }],
  });
  const labeled = applyLabel(judged, { type: 'choose', side: 'left' }, who('ada', 1, { shown: ['responses.0', 'responses.1'] }));
  const o = obj(labeled);
  assert.equal(o.chosen, 'r0');
  assert.equal(label(labeled).status, null, 'not disputed');
  assert.equal(label(labeled).annotator, 'ada');
  assert.deepEqual(votesOf(labeled), ['model:tiny-rm:rejected', 'ada:chosen'], 'the judge\'s vote is kept, renamed with the fields');
  assert.equal(labelState(parseText(labeled)), 'labeled');
});

test('any sequence of judgements by several annotators keeps the line valid, one vote each, the label their resolution; clearing every vote restores the line', () => {
  const names = ['ada', 'bo', 'model:rm'];
  const intent = fc.oneof(
    fc.record({ type: fc.constant('choose' as const), side: fc.constantFrom('left' as const, 'right' as const), strength: fc.constantFrom(undefined, 'slightly' as const, 'clearly' as const) }),
    fc.record({ type: fc.constant('status' as const), status: fc.constantFrom('tie' as const, 'skip' as const, 'both_bad' as const) }),
    fc.constant({ type: 'confirm' as const }),
    fc.constant({ type: 'flip' as const }),
  );
  const starts = ['{"prompt": "Q", "chosen": "A", "rejected": "B", "id": 1}', '{"prompt": "P", "responses": ["r0", "r1"]}'];
  fc.assert(
    fc.property(fc.constantFrom(...starts), fc.array(fc.tuple(fc.constantFrom(...names), intent, fc.boolean()), { minLength: 1, maxLength: 8 }), (start, steps) => {
      let line = start;
      let t = 0;
      for (const [name, it, swapShown] of steps) {
        const rec = parseText(line);
        assert.notEqual(rec.kind, 'invalid', line);
        const shown: [string, string] = rec.kind === 'candidates' ? ['responses.0', 'responses.1'] : ['chosen', 'rejected'];
        try {
          line = applyLabel(line, it, { annotator: name, time: `2026-12-01T10:00:${String(t++).padStart(2, '0')}.000Z`, shown: swapShown ? [shown[1], shown[0]] : shown });
        } catch (err) {
          assert.ok(err instanceof LabelError, String(err)); // e.g. confirm/flip on candidates
          continue;
        }
        const r = parseText(line);
        assert.notEqual(r.kind, 'invalid', `${line}: ${r.kind === 'invalid' ? r.reason : ''}`);
        const o = obj(line);
        const vs = (o.rpo_votes as Vote[] | undefined) ?? [];
        assert.equal(new Set(vs.map((v) => v.annotator)).size, vs.length, 'one vote per annotator');
        if (vs.length) {
          const res = resolveVotes(vs, 'majority');
          const l = label(line);
          assert.ok(!['rejected', 'responses.0', 'responses.1'].includes(res.judgement!), `a winning side is the chosen one: ${line}`);
          if (res.judgement === 'disputed') assert.equal(l.status, 'disputed');
          else if (res.judgement === 'chosen') assert.equal(l.status, null);
          else assert.equal(l.status ?? res.judgement, res.judgement, line);
        }
      }
      // every annotator withdraws: the original line comes back
      for (const name of names) {
        try {
          line = applyLabel(line, { type: 'clear' }, { annotator: name, time: 'T' });
        } catch (err) {
          assert.ok(err instanceof LabelError);
        }
      }
      const rest = obj(line);
      if (!('rpo_votes' in rest) && 'rpo_label' in rest) line = applyLabel(line, { type: 'clear' }, { annotator: String((rest.rpo_label as { annotator: string }).annotator), time: 'T' });
      assert.equal(line, start);
    }),
    { numRuns: 300, seed: 14 },
  );
});

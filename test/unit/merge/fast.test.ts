// The merge's byte-level fast path (src/core/merge/fast.ts) against the general path it stands in
// for (mergeFiles with fastPath: false, which parses records into objects): on generated records
// labeled apart on two sides by the real labeling edits, every line the fast path accepts merges
// to the same bytes, and it accepts most of them (else the test would pass vacuously).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { applyLabel, LabelError, serialize, type LabelIntent } from '../../../src/core/dataset/labeling';
import { LineIndex } from '../../../src/core/dataset/lineIndex';
import { mergeFiles } from '../../../src/core/merge';
import { fastMergeRecord } from '../../../src/core/merge/fast';
import type { ResolutionPolicy } from '../../../src/core/dataset/votes';

const src = (line: string) => LineIndex.fromBuffer(Buffer.from(line + '\n'));
const one = (line: string) => Buffer.from(line);

const text = fc.oneof(
  fc.constantFrom('', 'plain text', 'with "quotes" and \\ backslash', 'line\nbreak\ttab', 'Grüße, 日本語 😀', 'a\u0001control', 'x'),
  fc.string({ maxLength: 12 }),
);
const extra = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: -5, max: 100000 }),
  fc.constantFrom(1.5, 0.1, 1e21, true, false, null, [], {}, ['a', 1], { role: 'user', content: 'hi' }, { b: [1, { c: null }] }),
  text,
);
const intent: fc.Arbitrary<LabelIntent> = fc.oneof(
  fc.record({ type: fc.constant('choose' as const), side: fc.constantFrom('left' as const, 'right' as const), strength: fc.constantFrom(undefined, 'slightly' as const, 'clearly' as const) }),
  fc.record({ type: fc.constant('status' as const), status: fc.constantFrom('tie' as const, 'skip' as const, 'both_bad' as const, 'excluded' as const) }),
  fc.constant({ type: 'confirm' as const }),
  fc.constant({ type: 'flip' as const }),
  fc.constant({ type: 'clear' as const }),
  fc.record({ type: fc.constant('note' as const), note: fc.constantFrom('ok', 'tricky "one"', 'zweifelhaft ü', '') }),
  fc.record({ type: fc.constant('strength' as const), strength: fc.constantFrom(null, 'slightly' as const, 'clearly' as const) }),
);
const step = fc.tuple(fc.constantFrom('ada', 'bo', 'cy', 'Zoë "z"'), intent, fc.boolean(), fc.boolean());
type Step = [string, LabelIntent, boolean, boolean];

let clock = 0;
function labelSteps(line: string, steps: Step[], policy: ResolutionPolicy): string {
  for (const [annotator, it, adjudicator, swapShown] of steps) {
    try {
      line = applyLabel(line, it, { annotator, time: new Date(Date.UTC(2026, 11, 1) + (clock++ % 7) * 1000).toISOString(), shown: swapShown ? ['rejected', 'chosen'] : ['chosen', 'rejected'], adjudicator, policy });
    } catch (err) {
      if (!(err instanceof LabelError)) throw err;
    }
  }
  return line;
}

test('fast path: the same bytes as the general path on every line it accepts (generated records, real labeling edits)', () => {
  let accepted = 0;
  let cases = 0;
  fc.assert(
    fc.property(
      fc.record({ prompt: fc.oneof(text, fc.constant(undefined)), chosen: text, rejected: text, extra, extraKey: fc.constantFrom('id', 'meta', 'score', 'rpo_blind', '10'), first: fc.boolean() }),
      fc.boolean(),
      fc.array(step, { maxLength: 4 }),
      fc.array(step, { maxLength: 5 }),
      fc.array(step, { maxLength: 5 }),
      fc.constantFrom<ResolutionPolicy>('majority', 'unanimous', 'adjudicated'),
      fc.constantFrom('none', 'base', 'unicode-escape', 'whitespace', 'blind-ours', 'blind-theirs', 'blind-both'),
      (r, spaced, common, ours, theirs, policy, twist) => {
        const obj: Record<string, unknown> = {};
        if (r.first && r.extra !== undefined) obj[r.extraKey] = r.extraKey === 'rpo_blind' ? true : r.extra;
        if (r.prompt !== undefined) obj.prompt = r.prompt;
        obj.chosen = r.chosen;
        obj.rejected = r.rejected;
        if (!r.first && r.extra !== undefined) obj[r.extraKey] = r.extra;
        let base = serialize(obj, { spaced, asciiOnly: false });
        if (twist === 'unicode-escape') base = base.replace('"chosen"', '"ch\\u006fsen"');
        if (twist === 'whitespace') base = base.replace(/^\{/, '{ ');
        base = labelSteps(base, common, policy);
        const mark = (line: string) => line.replace(/\}$/, spaced ? ', "rpo_blind": true}' : ',"rpo_blind":true}');
        let o = labelSteps(base, ours, policy);
        let t = labelSteps(base, theirs, policy);
        if (twist === 'blind-ours' || twist === 'blind-both') o = mark(o);
        if (twist === 'blind-theirs' || twist === 'blind-both') t = mark(t);
        const ref = mergeFiles(src(base), src(o), src(t), { policy, fastPath: false });
        const all = mergeFiles(src(base), src(o), src(t), { policy });
        assert.deepEqual(all.conflicts, ref.conflicts);
        assert.deepEqual(all.lines.map((l) => Buffer.from(l).toString()), ref.lines.map((l) => Buffer.from(l).toString()));
        assert.deepEqual([all.united, all.disputed], [ref.united, ref.disputed]);
        if (o === t || o === base || t === base) return;
        cases++;
        for (const b of twist === 'base' ? [null] : [one(base)]) {
          const f = fastMergeRecord(b, one(o), one(t), policy, () => true);
          const want = b === null ? mergeFiles(null, src(o), src(t), { policy, fastPath: false }) : ref;
          if (!f) continue;
          accepted++;
          assert.deepEqual(want.conflicts, [], `the fast path merged what the general path calls a conflict: ${JSON.stringify(want.conflicts)}`);
          assert.equal(Buffer.from(f.bytes).toString(), Buffer.from(want.lines[0]!).toString());
          assert.equal(f.disputed, want.disputed === 1);
        }
      },
    ),
    { numRuns: 1500, seed: 14 },
  );
  console.log(`fast path: ${accepted} of ${cases} both-sided lines`);
  assert.ok(cases > 500, `${cases} both-sided cases`);
  assert.ok(accepted > cases * 0.3, `the fast path took ${accepted} of ${cases} lines changed on both sides`);
});

test('fast path: lines outside it (a \\u escape, extra whitespace, an invalid line, changed data) are left to the general path', () => {
  const b = '{"prompt":"p","chosen":"a","rejected":"b"}';
  const o = applyLabel(b, { type: 'choose', side: 'left' }, { annotator: 'ada', time: '2026-12-01T10:00:00.000Z', shown: ['chosen', 'rejected'] });
  const t = applyLabel(b, { type: 'choose', side: 'right' }, { annotator: 'bo', time: '2026-12-01T10:00:01.000Z', shown: ['chosen', 'rejected'] });
  const fast = (x: string, y: string) => fastMergeRecord(one(b), one(x), one(y), 'majority', () => true);
  assert.ok(fast(o, t), 'a plain pair takes the fast path');
  assert.equal(fast(o.replace('"p"', '"\\u0070"'), t), null);
  assert.equal(fast(o.replace('"prompt":', '"prompt": '), t), null);
  assert.equal(fast(o.replace('"a"', '"a\tb"'), t), null, 'a raw tab in a string is not valid JSON');
  assert.equal(fast(o, t.replace('"p"', '"q"')), null, 'data changed on both sides: a conflict, worded by the general path');
  assert.equal(fast(o.replace('"prompt"', '"1"'), t.replace('"prompt"', '"1"')), null, 'integer-like keys are reordered by JSON.parse');
  const r = mergeFiles(src(b), src(o), src(t.replace('"p"', '"q"')));
  assert.match(r.conflicts[0]!.reason, /field "prompt" differs/);
});

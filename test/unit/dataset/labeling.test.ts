import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyLabel, detectStyle, displayOrder, LabelError, serialize, spaceSeparators, type LabelContext, type LabelIntent } from '../../../src/core/dataset/labeling';
import { labelState, parseText } from '../../../src/core/dataset/formats';

const ctx: LabelContext = { annotator: 'ada', time: '2026-11-26T18:00:00.000Z' };
const at = (shown: [string, string]): LabelContext => ({ ...ctx, shown });
const obj = (line: string) => JSON.parse(line) as Record<string, unknown>;
const apply = (line: string, intent: LabelIntent, c: LabelContext = ctx) => applyLabel(line, intent, c);

const paired = '{"id": 7, "prompt": "Q", "chosen": "A", "rejected": "B", "meta": {"src": "x", "n": [1, 2]}}';

test('choose keeps the chosen side when it was chosen; unknown fields and key order stay', () => {
  const out = apply(paired, { type: 'choose', side: 'left' }, at(['chosen', 'rejected']));
  const o = obj(out);
  assert.deepEqual(Object.keys(o), ['id', 'prompt', 'chosen', 'rejected', 'meta', 'rpo_label']);
  assert.deepEqual([o.chosen, o.rejected, o.meta], ['A', 'B', { src: 'x', n: [1, 2] }]);
  assert.deepEqual(o.rpo_label, { annotator: 'ada', time: ctx.time, status: null, strength: null, note: null, shown: ['chosen', 'rejected'], flipped: false });
  assert.equal(labelState(parseText(out)), 'labeled');
  // the line keeps Python's ", " / ": " style
  assert.ok(out.startsWith('{"id": 7, "prompt": "Q", "chosen": "A", "rejected": "B", "meta": {"src": "x", "n": [1, 2]}, "rpo_label": {'));
});

test('choosing the side showing the rejected response swaps; shown follows the text', () => {
  const out = apply(paired, { type: 'choose', side: 'left', strength: 'clearly' }, at(['rejected', 'chosen']));
  const o = obj(out);
  assert.deepEqual([o.chosen, o.rejected], ['B', 'A']);
  const l = o.rpo_label as Record<string, unknown>;
  assert.deepEqual([l.shown, l.flipped, l.strength], [['chosen', 'rejected'], true, 'clearly']);
  // "B" was on the left and still is
  assert.deepEqual(displayOrder(parseText(out), 0, 'any-seed'), ['chosen', 'rejected']);
  // choosing again the other way swaps back and flipped returns to false
  const back = obj(apply(out, { type: 'choose', side: 'right' }, at(['chosen', 'rejected'])));
  assert.deepEqual([back.chosen, back.rejected, (back.rpo_label as { flipped: boolean }).flipped], ['A', 'B', false]);
  // clear restores the original line exactly
  assert.equal(apply(out, { type: 'clear' }), paired);
});

test('confirm, flip, exclude on existing chosen/rejected records', () => {
  const confirmed = obj(apply(paired, { type: 'confirm' }));
  assert.equal((confirmed.rpo_label as { status: null }).status, null);
  assert.equal(confirmed.chosen, 'A');
  const flipped = apply(paired, { type: 'flip' });
  assert.deepEqual([obj(flipped).chosen, obj(flipped).rejected], ['B', 'A']);
  assert.equal(apply(flipped, { type: 'clear' }), paired);
  const excluded = apply(paired, { type: 'status', status: 'excluded' });
  assert.equal(labelState(parseText(excluded)), 'excluded');
  assert.equal(obj(excluded).chosen, 'A');
  assert.equal(apply(excluded, { type: 'clear' }), paired);
});

test('tie / skip / both_bad keep data fields, reset strength, keep the note', () => {
  let line = apply(paired, { type: 'choose', side: 'right', strength: 'slightly' }, at(['chosen', 'rejected']));
  line = apply(line, { type: 'note', note: 'hard one' });
  for (const status of ['tie', 'skip', 'both_bad'] as const) {
    const out = obj(apply(line, { type: 'status', status }));
    const l = out.rpo_label as Record<string, unknown>;
    assert.deepEqual([l.status, l.strength, l.note], [status, null, 'hard one']);
  }
  assert.throws(() => apply(apply(line, { type: 'status', status: 'tie' }), { type: 'strength', strength: 'clearly' }), LabelError);
});

test('candidates: choose writes chosen/rejected in place of responses; clear restores them', () => {
  const line = '{"prompt":"p","responses":["A","B"],"z":null}';
  const out = apply(line, { type: 'choose', side: 'left' }, at(['responses.1', 'responses.0']));
  assert.equal(out, '{"prompt":"p","chosen":"B","rejected":"A","z":null,"rpo_label":{"annotator":"ada","time":"2026-11-26T18:00:00.000Z","status":null,"strength":null,"note":null,"shown":["chosen","rejected"],"from_responses":[1,0]}}');
  assert.equal(parseText(out).kind, 'paired');
  assert.equal(apply(out, { type: 'clear' }), line);
  // re-choosing the other side after labeling swaps and keeps from_responses in step
  const swapped = apply(out, { type: 'choose', side: 'right' }, at(['chosen', 'rejected']));
  assert.deepEqual(obj(swapped).rpo_label && (obj(swapped).rpo_label as { from_responses: number[] }).from_responses, [0, 1]);
  assert.equal(apply(swapped, { type: 'clear' }), line);
  // a tie on candidates keeps responses
  const tie = apply(line, { type: 'status', status: 'tie' }, at(['responses.0', 'responses.1']));
  assert.deepEqual(obj(tie).responses, ['A', 'B']);
  assert.equal(labelState(parseText(tie)), 'tie');
  assert.equal(apply(tie, { type: 'clear' }), line);
});

test('completion: thumbs up/down write label after completion; clear removes it', () => {
  const line = '{"prompt": "p", "completion": "c", "src": 1}';
  const up = apply(line, { type: 'thumbs', up: true });
  assert.deepEqual(Object.keys(obj(up)), ['prompt', 'completion', 'label', 'src', 'rpo_label']);
  assert.equal(obj(up).label, true);
  const down = apply(up, { type: 'thumbs', up: false });
  assert.equal(obj(down).label, false);
  assert.equal((obj(down).rpo_label as { original_label: null }).original_label, null);
  assert.equal(apply(down, { type: 'clear' }), line);
  // unpaired with a label: flip, then clear restores the original label
  const unpaired = '{"prompt": "p", "completion": "c", "label": true}';
  const flipped = apply(unpaired, { type: 'flip' });
  assert.equal(obj(flipped).label, false);
  assert.equal(apply(flipped, { type: 'clear' }), unpaired);
});

test('intents that do not apply throw LabelError with a reason', () => {
  assert.throws(() => apply(paired, { type: 'thumbs', up: true }), /thumbs up\/down apply to unpaired/);
  assert.throws(() => apply('{"prompt":"p","completion":"c"}', { type: 'choose', side: 'left' }), /use thumbs/);
  assert.throws(() => apply('{"prompt":"p","completion":"c"}', { type: 'strength', strength: 'clearly' }), LabelError);
  assert.throws(() => apply('{"prompt":"p","responses":["a","b"]}', { type: 'flip' }), LabelError);
  assert.throws(() => apply('{oops', { type: 'clear' }), /not a valid record/);
  assert.throws(() => apply('', { type: 'clear' }), /blank/);
});

test('a note alone confirms a paired record but leaves candidates unlabeled', () => {
  assert.equal(labelState(parseText(apply(paired, { type: 'note', note: 'n' }))), 'labeled');
  assert.equal(labelState(parseText(apply('{"prompt":"p","responses":["a","b"]}', { type: 'note', note: 'n' }))), 'needs-label');
});

test('conversational records keep message lists', () => {
  const line = JSON.stringify({ prompt: [{ role: 'user', content: 'q' }], chosen: [{ role: 'assistant', content: 'a' }], rejected: [{ role: 'assistant', content: 'b' }] });
  const out = obj(apply(line, { type: 'choose', side: 'right' }, at(['chosen', 'rejected'])));
  assert.deepEqual(out.chosen, [{ role: 'assistant', content: 'b' }]);
});

test('style detection: spacing and ensure_ascii escapes are kept on edited lines', () => {
  const ascii = '{"prompt": "caf\\u00e9", "chosen": "\\ud83d\\ude00", "rejected": "b"}';
  assert.deepEqual(detectStyle(ascii), { spaced: true, asciiOnly: true });
  const out = apply(ascii, { type: 'confirm' });
  assert.ok(out.startsWith('{"prompt": "caf\\u00e9", "chosen": "\\ud83d\\ude00", "rejected": "b", "rpo_label"'), out);
  assert.deepEqual(detectStyle('{"a":"é"}'), { spaced: false, asciiOnly: false });
  assert.equal(serialize({ a: [1, { b: null }] }, { spaced: true, asciiOnly: false }), '{"a": [1, {"b": null}]}');
});

test('display order: stable per seed and line, roughly balanced, differs across seeds', () => {
  const rec = parseText(paired);
  let left = 0;
  const n = 2000;
  for (let i = 0; i < n; i++) {
    const o = displayOrder(rec, i, 42)!;
    assert.deepEqual(o, displayOrder(rec, i, 42));
    if (o[0] === 'chosen') left++;
  }
  assert.ok(left > n * 0.45 && left < n * 0.55, `chosen on the left ${left}/${n}`);
  let differ = 0;
  for (let i = 0; i < 200; i++) if (displayOrder(rec, i, 1)![0] !== displayOrder(rec, i, 2)![0]) differ++;
  assert.ok(differ > 60 && differ < 140, `orders differing across seeds: ${differ}/200`);
  assert.equal(displayOrder(parseText('{"prompt":"p","completion":"c"}'), 0, 1), null);
  assert.deepEqual(displayOrder(parseText('{"prompt":"p","responses":["a","b"]}'), 5, 'x')!.slice().sort(), ['responses.0', 'responses.1']);
});

test('spaceSeparators matches a recursive ", " / ": " serialiser on any JSON value', () => {
  const spaced = (v: unknown): string => {
    if (Array.isArray(v)) return '[' + v.map(spaced).join(', ') + ']';
    if (v !== null && typeof v === 'object') return '{' + Object.entries(v).map(([k, x]) => JSON.stringify(k) + ': ' + spaced(x)).join(', ') + '}';
    return JSON.stringify(v);
  };
  fc.assert(fc.property(fc.jsonValue(), (v) => assert.equal(spaceSeparators(JSON.stringify(v)), spaced(v))), { numRuns: 500 });
  assert.equal(spaceSeparators('{"a\\\\":"b\\",:","c":[1,2]}'), '{"a\\\\": "b\\",:", "c": [1, 2]}');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, labelState, parseLine, parseText, splitImplicitPrompt, type ParsedLine } from '../../../src/core/dataset/formats';
import { addToStats, emptyStats, fileVerdict, kindOfCode, lineCode, stateOfCode } from '../../../src/core/dataset/stats';

const msgs = (...pairs: [string, string][]) => pairs.map(([role, content]) => ({ role, content }));
const label = { annotator: 'ada', time: '2026-01-01T00:00:00.000Z', status: null, strength: null, note: null, shown: null };

function parse(v: unknown): ParsedLine {
  return parseText(typeof v === 'string' ? v : JSON.stringify(v));
}
function invalidOf(v: unknown) {
  const r = parse(v);
  assert.equal(r.kind, 'invalid', `expected invalid, got ${r.kind}`);
  return r as Extract<ParsedLine, { kind: 'invalid' }>;
}

test('paired standard with explicit prompt', () => {
  const r = parse({ prompt: 'Q', chosen: 'A', rejected: 'B', extra: [1] });
  assert.equal(r.kind, 'paired');
  if (r.kind !== 'paired') return;
  assert.deepEqual([r.style, r.prompt, r.chosen, r.rejected, r.implicitPrompt, r.provenance], ['standard', 'Q', 'A', 'B', false, null]);
  assert.deepEqual(r.object.extra, [1]);
  assert.equal(labelState(r), 'unreviewed');
});

test('paired standard with implicit prompt splits the common prefix like TRL', () => {
  const r = parse({ chosen: 'The sky is blue.', rejected: 'The sky is green.' });
  assert.ok(r.kind === 'paired');
  assert.deepEqual([r.prompt, r.chosen, r.rejected, r.implicitPrompt], ['The sky is', ' blue.', ' green.', true]);
  assert.equal(r.hhTranscript, false);
});

test('paired conversational: implicit prompt is the longest common message prefix', () => {
  const chosen = msgs(['user', 'hi'], ['assistant', 'hello'], ['user', 'colour?'], ['assistant', 'blue']);
  const rejected = msgs(['user', 'hi'], ['assistant', 'hello'], ['user', 'colour?'], ['assistant', 'no']);
  const r = parse({ chosen, rejected });
  assert.ok(r.kind === 'paired');
  assert.equal(r.style, 'conversational');
  assert.deepEqual(r.prompt, chosen.slice(0, 3));
  assert.deepEqual(r.chosen, [chosen[3]]);
  assert.deepEqual(r.rejected, [rejected[3]]);
});

test('paired conversational with explicit prompt', () => {
  const r = parse({ prompt: msgs(['user', 'q']), chosen: msgs(['assistant', 'a']), rejected: msgs(['assistant', 'b']) });
  assert.ok(r.kind === 'paired');
  assert.deepEqual([r.style, r.implicitPrompt], ['conversational', false]);
});

test('raw HH transcripts are paired with hhTranscript set', () => {
  const r = parse({ chosen: '\n\nHuman: hi\n\nAssistant: yes', rejected: '\n\nHuman: hi\n\nAssistant: no' });
  assert.ok(r.kind === 'paired');
  assert.equal(r.hhTranscript, true);
});

test('unpaired, completion awaiting thumbs, candidates', () => {
  const u = parse({ prompt: 'p', completion: 'c', label: false });
  assert.ok(u.kind === 'unpaired');
  assert.equal(u.label, false);
  assert.equal(labelState(u), 'unreviewed');
  const c = parse({ prompt: 'p', completion: 'c' });
  assert.equal(c.kind, 'completion');
  assert.equal(labelState(c), 'needs-label');
  assert.equal(parse({ prompt: 'p', completion: 'c', label: null }).kind, 'completion');
  const k = parse({ prompt: msgs(['user', 'p']), responses: [msgs(['assistant', 'a']), msgs(['assistant', 'b'])] });
  assert.ok(k.kind === 'candidates');
  assert.equal(k.style, 'conversational');
  assert.equal(labelState(k), 'needs-label');
});

test('provenance is read and drives the label state', () => {
  const labeled = parse({ prompt: 'p', chosen: 'a', rejected: 'b', rpo_label: label });
  assert.equal(labelState(labeled), 'labeled');
  const tie = parse({ prompt: 'p', responses: ['a', 'b'], rpo_label: { ...label, status: 'tie' } });
  assert.equal(labelState(tie), 'tie');
  for (const s of ['skip', 'both_bad', 'excluded'] as const) assert.equal(labelState(parse({ prompt: 'p', chosen: 'a', rejected: 'b', rpo_label: { ...label, status: s } })), s);
});

test('invalid lines say why, with the field', () => {
  const cases: [unknown, string, string | null, RegExp][] = [
    ['{"prompt": "p", "chosen": "a",', 'json', null, /not valid JSON/],
    ['[1, 2]', 'not-object', null, /found a list/],
    ['42', 'not-object', null, /found a number/],
    [{ foo: 1, bar: 2 }, 'shape', null, /found keys "foo", "bar"/],
    [{ prompt: 'p', chosen: 'a' }, 'missing-field', 'rejected', /"rejected" is missing/],
    [{ prompt: 'p', chosen: 'a', rejected: 7 }, 'field-type', 'rejected', /must be a string or a list of messages, found a number/],
    [{ prompt: 'p', chosen: msgs(['assistant', 'a']), rejected: 'b' }, 'field-type', 'chosen', /one record uses one style/],
    [{ chosen: [{ role: 'user', content: 3 }], rejected: [] }, 'field-type', 'chosen[0].content', /found a number/],
    [{ chosen: ['x'], rejected: [] }, 'field-type', 'chosen[0]', /must be a message/],
    [{ prompt: 'p', completion: 'c', label: 'yes' }, 'field-type', 'label', /true or false/],
    [{ completion: 'c' }, 'missing-field', 'prompt', /needs "prompt"/],
    [{ prompt: 'p', responses: ['a'] }, 'field-type', 'responses', /exactly 2/],
    [{ prompt: 'p', responses: ['a', 1] }, 'field-type', 'responses[1]', /found a number/],
    [{ prompt: 'p', responses: 'a' }, 'field-type', 'responses', /found a string/],
    [{ prompt: 'p', chosen: 'a', rejected: 'b', rpo_label: 'x' }, 'label-field', 'rpo_label', /must be an object/],
    [{ prompt: 'p', chosen: 'a', rejected: 'b', rpo_label: { ...label, status: 'maybe' } }, 'label-field', 'rpo_label.status', /"maybe"/],
    [{ prompt: 'p', chosen: 'a', rejected: 'b', rpo_label: { ...label, annotator: 1 } }, 'label-field', 'rpo_label.annotator', /string/],
  ];
  for (const [input, code, field, reason] of cases) {
    const r = invalidOf(input);
    assert.equal(r.code, code, JSON.stringify(input));
    assert.equal(r.field, field, JSON.stringify(input));
    assert.match(r.reason, reason);
  }
  assert.equal(invalidOf('{"a": }').column, 7);
  assert.match(invalidOf('{"a": }').reason, /at column 7$/);
  assert.equal(invalidOf('{"a": 1,').column, 9);
  assert.equal(invalidOf('{"a": tru}').column, 10);
});

test('bytes: blank lines, BOM inside, invalid UTF-8 with its position', () => {
  assert.equal(parseLine(Buffer.from('')).kind, 'blank');
  assert.equal(parseLine(Buffer.from(' \t ')).kind, 'blank');
  const bom = parseLine(Buffer.from('\ufeff{"prompt":"p","chosen":"a","rejected":"b"}'));
  assert.ok(bom.kind === 'invalid' && bom.code === 'bom');
  const bad = parseLine(Buffer.concat([Buffer.from('{"prompt":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]));
  assert.ok(bad.kind === 'invalid' && bad.code === 'utf8');
  assert.equal(bad.column, 15);
  assert.match(bad.reason, /byte 15/);
  // overlong encoding and lone surrogate are invalid too
  assert.equal(parseLine(Buffer.from([0x7b, 0xc0, 0xaf, 0x7d])).kind, 'invalid');
  assert.equal(parseLine(Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])).kind, 'invalid');
  const ok = parseLine(Buffer.from('{"prompt":"café 🙂","chosen":"a","rejected":"b"}'));
  assert.equal(ok.kind, 'paired');
});

test('UTF-16 files and huge keys get short, clear reasons', () => {
  const utf16 = parseLine(Buffer.from('\ufeff{"a":1}', 'utf16le'));
  assert.ok(utf16.kind === 'invalid' && /UTF-16/.test(utf16.reason));
  const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`${'k'.repeat(i === 0 ? 5000 : 1)}${i}`, i]));
  const r = invalidOf(many);
  assert.ok(r.reason.length < 400, `reason is ${r.reason.length} characters`);
  assert.match(r.reason, /… \(12 keys\)$/);
});

test('a 1 MB line parses', () => {
  const big = 'x'.repeat(1024 * 1024);
  const r = parseLine(Buffer.from(JSON.stringify({ prompt: 'p', chosen: big, rejected: 'b' })));
  assert.ok(r.kind === 'paired' && r.chosen === big);
});

test('line codes round-trip kind and state', () => {
  for (const v of [{ prompt: 'p', chosen: 'a', rejected: 'b', rpo_label: { ...label, status: 'skip' } }, { prompt: 'p', completion: 'c' }, '{', '']) {
    const r = parse(v);
    const code = lineCode(r);
    assert.equal(kindOfCode(code), r.kind);
    assert.equal(stateOfCode(code), labelState(r));
  }
});

test('file verdict: preference data, not preference data, not JSON, empty', () => {
  const stats = (lines: unknown[]) => lines.reduce((s: ReturnType<typeof emptyStats>, l) => addToStats(s, parse(l)), emptyStats());
  assert.equal(fileVerdict(stats([{ prompt: 'p', chosen: 'a', rejected: 'b' }, '{'])).kind, 'preference');
  const notPref = fileVerdict(stats([{ text: 'a' }, { text: 'b' }, { text: 'c' }]));
  assert.equal(notPref.kind, 'not-preference');
  assert.match((notPref as { reason: string }).reason, /0 of 3 lines are preference records/);
  const notJson = fileVerdict(stats(['hello world', 'plain text', '{"x":1}']));
  assert.match((notJson as { reason: string }).reason, /not a JSON Lines file/);
  assert.equal(fileVerdict(stats(['', ' '])).kind, 'empty');
});

test('splitImplicitPrompt on identical strings keeps everything in the prompt', () => {
  assert.deepEqual(splitImplicitPrompt('same', 'same'), { prompt: 'same', chosen: '', rejected: '' });
});

test('classify keeps the object it was given', () => {
  const obj = { prompt: 'p', chosen: 'a', rejected: 'b' };
  const r = classify(obj);
  assert.equal(r.object, obj);
});

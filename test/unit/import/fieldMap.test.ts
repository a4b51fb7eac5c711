import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Column, type ValueType, JsonFloat, mergeTypes, parquetSchemaOf, parseJsonNumber, recordJsonText, toJsonText, typeOfJson } from '../../../src/core/dataset/columns';
import { compileMapping, formatMap, mappingShape, parseMapSpec, proposeMapping } from '../../../src/core/dataset/fieldMap';

const S: ValueType = { kind: 'string' };
const MSGS: ValueType = { kind: 'list', item: { kind: 'struct', fields: [{ name: 'content', type: S }, { name: 'role', type: S }] } };
const cols = (spec: Record<string, ValueType>): Column[] => Object.entries(spec).map(([name, type]) => ({ name, type }));

test('proposals: TRL names as they are, common variants recognised', () => {
  assert.deepEqual(proposeMapping(cols({ prompt: S, chosen: S, rejected: S })).map, { prompt: 'prompt', chosen: 'chosen', rejected: 'rejected' });
  assert.deepEqual(proposeMapping(cols({ chosen: MSGS, rejected: MSGS })).map, { chosen: 'chosen', rejected: 'rejected' });
  const uf = proposeMapping(cols({ prompt: S, prompt_id: S, chosen: MSGS, rejected: MSGS, messages: MSGS, score_chosen: { kind: 'float' }, score_rejected: { kind: 'float' } }));
  assert.equal(uf.recognised, 'UltraFeedback (binarized)');
  assert.deepEqual(uf.map, { chosen: 'chosen', rejected: 'rejected' });
  const shp = proposeMapping(cols({ history: S, human_ref_A: S, human_ref_B: S, labels: { kind: 'int' } }));
  assert.deepEqual(shp, { map: { prompt: 'history', response_a: 'human_ref_A', response_b: 'human_ref_B', a_preferred: 'labels' }, recognised: 'SHP', notes: [] });
  assert.deepEqual(proposeMapping(cols({ question: S, response_j: S, response_k: S })).map, { prompt: 'question', chosen: 'response_j', rejected: 'response_k' });
  assert.deepEqual(proposeMapping(cols({ prompt: S, 'response-1': S, 'response-2': S })).map, { prompt: 'prompt', response_a: 'response-1', response_b: 'response-2' });
  assert.deepEqual(proposeMapping(cols({ prompt: S, completion: S, label: { kind: 'bool' } })).map, { prompt: 'prompt', completion: 'completion', label: 'label' });
  // A numeric "chosen" is not a text column: nothing proposed.
  const none = proposeMapping(cols({ prompt: S, chosen: { kind: 'int' }, rejected: S }));
  assert.deepEqual([none.map, none.recognised], [{}, null]);
  assert.ok(none.notes.includes('column "chosen" is not mapped: kept as "source_chosen"'));
});

test('--map specs: edit over a base, unmap with an empty column, errors name the part', () => {
  assert.deepEqual(parseMapSpec('chosen=response_k, rejected=response_j,prompt=', { prompt: 'q', chosen: 'a', rejected: 'b' }), { chosen: 'response_k', rejected: 'response_j' });
  assert.throws(() => parseMapSpec('chosen'), /--map: "chosen" is not TARGET=COLUMN/);
  assert.throws(() => parseMapSpec('winner=a'), /--map: unknown target "winner"/);
  assert.equal(formatMap({ rejected: 'b', prompt: 'q', chosen: 'a' }), 'prompt=q,chosen=a,rejected=b');
  assert.deepEqual(mappingShape({ chosen: 'a' }), { error: 'a paired mapping needs both chosen and rejected; rejected is not mapped' });
  assert.deepEqual(mappingShape({ response_a: 'a', response_b: 'b' }), { error: 'a pairwise mapping needs a prompt column' });
  assert.deepEqual(mappingShape({}), { error: 'nothing is mapped: map chosen and rejected, completion (and label), or response_a and response_b' });
});

test('compiled mapping: extras kept (reserved names as source_*), problems name the column', () => {
  const m = compileMapping({ prompt: 'q', chosen: 'a', rejected: 'b' }, cols({ q: S, a: MSGS, b: MSGS, prompt: S, id: { kind: 'int' } }), { where: 'x.parquet' });
  assert.deepEqual(m.kept, [{ column: 'prompt', key: 'source_prompt' }, { column: 'id', key: 'id' }]);
  const msgs = [{ content: 'hi', role: 'user' }];
  assert.throws(() => compileMapping({ chosen: 'nope', rejected: 'b' }, cols({ b: S }), { where: 'x.parquet' }), /the mapping chosen=nope names a column that is not in x\.parquet \(columns: b\)/);
  // A string prompt with message-list responses: the record's styles disagree; named with the column.
  const r = m.apply({ q: 'text', a: msgs, b: msgs, prompt: 'p', id: 1n });
  assert.ok('problem' in r);
  assert.equal(r.problem.column, 'a');
  assert.match(r.problem.reason, /field "chosen" \(from column "a"\) is a message list but "prompt" is a string/);
  const ok = m.apply({ q: [{ content: 'q', role: 'user' }], a: msgs, b: msgs, prompt: 'p', id: 2n ** 60n + 1n });
  assert.ok('object' in ok);
  assert.equal(recordJsonText(ok.object, m.types), '{"prompt":[{"content":"q","role":"user"}],"chosen":[{"content":"hi","role":"user"}],"rejected":[{"content":"hi","role":"user"}],"source_prompt":"p","id":1152921504606846977}');
  const pair = compileMapping({ prompt: 'h', response_a: 'x', response_b: 'y', a_preferred: 'l' }, cols({ h: S, x: S, y: S, l: { kind: 'int' } }));
  const bad = pair.apply({ h: 'p', x: 'a', y: 'b', l: 2n });
  assert.ok('problem' in bad && /column "l" \(a_preferred\) must be 1\/true \(A preferred\) or 0\/false \(B preferred\), found 2/.test(bad.problem.reason));
});

test('JSON text by column type: floats keep a decimal point, int64 all digits, non-finite floats null', () => {
  assert.equal(toJsonText(8, { kind: 'float' }), '8.0');
  assert.equal(toJsonText(1e21, { kind: 'float' }), '1e+21');
  assert.equal(toJsonText(-0.5, { kind: 'float' }), '-0.5');
  assert.equal(toJsonText(NaN, { kind: 'float' }), 'null');
  assert.equal(toJsonText(2n ** 63n - 1n, { kind: 'int' }), '9223372036854775807');
  assert.equal(toJsonText([1, 2.5, null], { kind: 'list', item: { kind: 'float' } }), '[1.0,2.5,null]');
  assert.equal(toJsonText({ b: 2, a: 'x' }, { kind: 'struct', fields: [{ name: 'a', type: S }, { name: 'b', type: { kind: 'float' } }] }), '{"a":"x","b":2.0}');
});

test('export types from JSON: int vs float by the text, merges, Parquet schema with three-level lists', () => {
  assert.ok(parseJsonNumber('7.0') instanceof JsonFloat);
  assert.equal(parseJsonNumber('7'), 7);
  assert.equal(parseJsonNumber('12345678901234567890'), 12345678901234567890n);
  assert.deepEqual(mergeTypes(typeOfJson(1, 'x'), typeOfJson(new JsonFloat(2), 'x'), 'x'), { kind: 'float' });
  assert.deepEqual(mergeTypes(typeOfJson([], 'x'), typeOfJson(['a'], 'x'), 'x'), { kind: 'list', item: S });
  assert.deepEqual(mergeTypes(typeOfJson({ a: 1 }, 'x'), typeOfJson({ b: 'z', a: null }, 'x'), 'x'), { kind: 'struct', fields: [{ name: 'a', type: { kind: 'int' } }, { name: 'b', type: S }] });
  assert.throws(() => mergeTypes(typeOfJson('a', 'x'), typeOfJson(1, 'x'), 'x'), /field "x" holds int here but string in earlier records/);
  assert.deepEqual(parquetSchemaOf([{ name: 'chosen', type: MSGS }]).map((e) => [e.name, e.type ?? e.converted_type ?? '', e.repetition_type ?? '', e.num_children ?? 0]), [
    ['root', '', '', 1],
    ['chosen', 'LIST', 'OPTIONAL', 1],
    ['list', '', 'REPEATED', 1],
    ['element', '', 'OPTIONAL', 2],
    ['content', 'BYTE_ARRAY', 'OPTIONAL', 0],
    ['role', 'BYTE_ARRAY', 'OPTIONAL', 0],
  ]);
});

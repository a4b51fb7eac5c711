// Pair keys and labels hashes (docs/contracts.md §8) against test/golden/pair-keys.json, written
// from the contract by scripts/golden/make_pair_keys.py (hashlib only, not the trainer's code).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promptText } from '../../../src/core/contrast/promptText';
import { usableItems } from '../../../src/core/contrast/usable';
import { type ParsedLine, parseText } from '../../../src/core/dataset/formats';
import { NO_SIDE, keyHex, keyedRecords, labelsSha256, pairKey, pairKeyAndSide } from '../../../src/core/dynamics';

interface GoldenCase { name: string; record: Record<string, unknown>; prompt_text: string; key: string; side: 0 | 1 | null; items: { key: string; side: 0 | 1 }[] }
interface GoldenLabels { name: string; method: string; cases: string[]; sha256: string }
const golden = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'golden', 'pair-keys.json'), 'utf8')) as { version: number; cases: GoldenCase[]; labels: GoldenLabels[] };

const parse = (record: Record<string, unknown>): ParsedLine => parseText(JSON.stringify(record));

test('golden: the key and side of every case (paired, flipped, candidates, messages, implicit prompts, non-BMP order, unpaired)', () => {
  assert.equal(golden.version, 1);
  assert.ok(golden.cases.length >= 20);
  for (const c of golden.cases) {
    const rec = parse(c.record);
    assert.ok(rec.kind !== 'invalid' && rec.kind !== 'blank', `${c.name}: parses`);
    assert.equal(promptText(rec.prompt), c.prompt_text, `${c.name}: prompt text`);
    const k = pairKeyAndSide(rec);
    assert.equal(keyHex(k.key), c.key, `${c.name}: key`);
    assert.equal(k.side, c.side, `${c.name}: side`);
    assert.equal(keyHex(pairKey(rec)), c.key, `${c.name}: pairKey`);
    // rpo-unpaired items of the record (a paired record gives its chosen, then its rejected).
    const items = usableItems([[0, rec]], 'unpaired');
    if (rec.kind === 'paired' || rec.kind === 'unpaired') {
      assert.deepEqual(items.map((i) => ({ key: keyHex(pairKey(i)), side: pairKeyAndSide(i).side })), c.items, `${c.name}: items`);
    } else assert.deepEqual(c.items, [], `${c.name}: no items`);
  }
});

test('golden: labels_sha256 of usable lists, paired and rpo-unpaired', () => {
  const byName = new Map(golden.cases.map((c) => [c.name, c]));
  assert.ok(golden.labels.length >= 3);
  for (const l of golden.labels) {
    const lines = l.cases.map((name, i) => [i, parse(byName.get(name)!.record)] as [number, ParsedLine]);
    const mode = l.method === 'rpo-unpaired' ? 'unpaired' : 'paired';
    assert.equal(labelsSha256(usableItems(lines, mode)), l.sha256, l.name);
  }
});

test('keyedRecords: usable records with their side, the others (tie, candidates) by key without a side', () => {
  const lines: [number, ParsedLine][] = [
    [0, parseText('{"prompt":"p","chosen":"b","rejected":"a"}')],
    [1, parseText('')],
    [2, parseText('{"prompt":"p","responses":["a","b"]}')],
    [3, parseText('{"prompt":"q","chosen":"x","rejected":"y","rpo_label":{"status":"tie","annotator":"me","time":"2026-01-01T00:00:00Z"}}')],
    [4, parseText('not json')],
  ];
  assert.equal(lines[3]![1].kind, 'paired', 'the tie record parses');
  const keyed = [...keyedRecords(lines, 'paired')];
  assert.deepEqual(keyed.map((k) => [k.line, k.side]), [[0, 1], [2, NO_SIDE], [3, NO_SIDE]]);
  assert.equal(keyHex(keyed[0]!.key), keyHex(keyed[1]!.key), 'the candidates record has the key of the labeled pair');
  const items = [...keyedRecords(lines, 'unpaired')];
  assert.deepEqual(items.map((k) => [k.line, k.side]), [[0, 1], [0, 0], [2, NO_SIDE], [2, NO_SIDE], [3, NO_SIDE], [3, NO_SIDE]]);
});

test('keyedRecords follows the run\'s usable rules: a votes policy that swaps the label, min_agreement that leaves a record out', () => {
  const vote = (annotator: string, choice: string) => ({ annotator, time: '2026-12-01T10:00:00.000Z', choice, strength: null, status: null, note: null, shown: null, adjudicator: false });
  // The file's label says chosen; two of three votes say rejected.
  const text = JSON.stringify({ prompt: 'p', chosen: 'b', rejected: 'a', rpo_votes: [vote('x', 'rejected'), vote('y', 'rejected'), vote('z', 'chosen')] });
  const lines: [number, ParsedLine][] = [[0, parseText(text)]];
  assert.equal(lines[0]![1].kind, 'paired');
  const [asFiled] = [...keyedRecords(lines, 'paired')];
  const [byMajority] = [...keyedRecords(lines, 'paired', { votes: 'majority' })];
  assert.equal(asFiled!.side, 1, 'chosen "b" sorts second');
  assert.equal(byMajority!.side, 0, 'the majority swaps chosen and rejected');
  assert.equal(keyHex(asFiled!.key), keyHex(byMajority!.key), 'the same pair either way');
  const [leftOut] = [...keyedRecords(lines, 'paired', { minAgreement: 0.9 })];
  assert.equal(leftOut!.side, NO_SIDE, 'agreement 1/3 < 0.9: not usable now, still found by key');
});

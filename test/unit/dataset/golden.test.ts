import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { applyLabel, type LabelContext } from '../../../src/core/dataset/labeling';
import { labelState, parseText } from '../../../src/core/dataset/formats';

/**
 * A labeled file written by the TypeScript labeling core, read by the Python side
 * (trainer/tests/test_labeled_golden.py: the trainer's loader, pandas and Hugging Face datasets).
 * `test/golden/labeled.expected.json` holds what both sides must agree on: which lines train
 * (docs/contracts.md section 4) and why the others are left out.
 * Regenerate with UPDATE_GOLDEN=1 after a deliberate format change.
 */
const GOLDEN = resolve(__dirname, '../../golden/labeled.pref.jsonl');
const EXPECTED = resolve(__dirname, '../../golden/labeled.expected.json');

function build(): string[] {
  const ctx: LabelContext = { annotator: 'ada', time: '2026-11-26T18:00:00.000Z' };
  const at = (shown: [string, string]) => ({ ...ctx, shown });
  const std = (i: number) => JSON.stringify({ prompt: `Question ${i}?`, chosen: `Good answer ${i}.`, rejected: `Bad answer ${i}.`, id: i });
  const conv = (i: number) => JSON.stringify({
    prompt: [{ role: 'user', content: `Conversation ${i}` }],
    chosen: [{ role: 'assistant', content: `Kind reply ${i} — café` }],
    rejected: [{ role: 'assistant', content: `Rude reply ${i}` }],
  });
  const lines = [
    std(0), // unreviewed: trains
    applyLabel(std(1), { type: 'choose', side: 'left', strength: 'clearly' }, at(['rejected', 'chosen'])), // flipped
    applyLabel(std(2), { type: 'status', status: 'tie' }, ctx),
    applyLabel(std(3), { type: 'status', status: 'skip' }, ctx),
    applyLabel(std(4), { type: 'status', status: 'both_bad' }, ctx),
    applyLabel(std(5), { type: 'status', status: 'excluded' }, ctx),
    applyLabel(applyLabel(std(6), { type: 'confirm' }, ctx), { type: 'note', note: 'checked twice' }, ctx),
    applyLabel(conv(7), { type: 'choose', side: 'right' }, at(['chosen', 'rejected'])),
    applyLabel(JSON.stringify({ prompt: 'Pick one: 8', responses: ['first 8', 'second 8'] }), { type: 'choose', side: 'left' }, at(['responses.1', 'responses.0'])),
    JSON.stringify({ prompt: 'Pick one: 9', responses: ['first 9', 'second 9'] }), // awaiting a label
    applyLabel(JSON.stringify({ prompt: 'Rate 10', completion: 'answer 10' }), { type: 'thumbs', up: true }, ctx),
    applyLabel(JSON.stringify({ prompt: 'Rate 11', completion: 'answer 11' }), { type: 'thumbs', up: false }, ctx),
    JSON.stringify({ prompt: 'Rate 12', completion: 'answer 12' }), // awaiting thumbs
    JSON.stringify({ prompt: 'Rate 13', completion: 'answer 13', label: true }),
    std(14).replace(/","/g, '", "'),
    // several annotators (rpo_votes): ada and bo disagree -> disputed, left out
    applyLabel(applyLabel(std(15), { type: 'choose', side: 'left' }, { ...at(['rejected', 'chosen']) }), { type: 'choose', side: 'left' }, { ...at(['rejected', 'chosen']), annotator: 'bo' }),
    // 2 of 3 prefer the file's rejected: chosen/rejected swap, trains
    applyLabel(applyLabel(applyLabel(std(16), { type: 'choose', side: 'left' }, at(['chosen', 'rejected'])), { type: 'choose', side: 'right' }, { ...at(['chosen', 'rejected']), annotator: 'bo' }), { type: 'choose', side: 'left', strength: 'slightly' }, { ...at(['rejected', 'chosen']), annotator: 'cy' }),
  ];
  return lines;
}

function expected(lines: string[]) {
  const usablePaired: number[] = [];
  const usableUnpaired: number[] = [];
  const leftOut: Record<string, number> = {};
  lines.forEach((line, i) => {
    const rec = parseText(line);
    const state = labelState(rec);
    if (rec.kind === 'paired' && (state === 'labeled' || state === 'unreviewed')) usablePaired.push(i + 1);
    else if (rec.kind === 'unpaired' && (state === 'labeled' || state === 'unreviewed')) usableUnpaired.push(i + 1);
    else leftOut[state === 'needs-label' ? 'unlabeled' : state] = (leftOut[state === 'needs-label' ? 'unlabeled' : state] ?? 0) + 1;
  });
  const chosenOf: Record<string, unknown> = {};
  for (const n of usablePaired) chosenOf[n] = JSON.parse(lines[n - 1]!).chosen;
  return { usable_paired_lines: usablePaired, usable_unpaired_lines: usableUnpaired, left_out: leftOut, chosen_by_line: chosenOf };
}

test('golden labeled file is what the labeling core writes today', () => {
  const lines = build();
  const text = lines.join('\n') + '\n';
  const exp = JSON.stringify(expected(lines), null, 2) + '\n';
  if (process.env.UPDATE_GOLDEN || !existsSync(GOLDEN)) {
    writeFileSync(GOLDEN, text);
    writeFileSync(EXPECTED, exp);
  }
  assert.equal(readFileSync(GOLDEN, 'utf8'), text, 'test/golden/labeled.pref.jsonl is stale: rerun with UPDATE_GOLDEN=1 and update the Python side if needed');
  assert.equal(readFileSync(EXPECTED, 'utf8'), exp);
  const e = expected(lines);
  assert.deepEqual(e.usable_paired_lines, [1, 2, 7, 8, 9, 15, 17]);
  assert.equal(e.left_out.disputed, 1);
  assert.equal(e.chosen_by_line[17], 'Bad answer 16.');
  assert.deepEqual(e.usable_unpaired_lines, [11, 12, 14]);
  assert.deepEqual(e.chosen_by_line[2], 'Bad answer 1.');
  assert.deepEqual(e.chosen_by_line[9], 'second 8');
});

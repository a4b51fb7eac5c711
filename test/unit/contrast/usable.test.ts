import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseText } from '../../../src/core/dataset/formats';
import { usableItems, type UsableMode } from '../../../src/core/contrast/usable';
import { voteShares, makeVote } from '../../../src/core/dataset/votes';

/** The usable list with votes (docs/contracts.md §4) against the shared golden, also read by trainer/tests/test_data.py. */

const dir = path.join(__dirname, '../../golden');
const golden = JSON.parse(fs.readFileSync(path.join(dir, 'usable-votes.expected.json'), 'utf8'));
const raw = fs.readFileSync(path.join(dir, golden.file), 'utf8').split('\n').filter((l) => l.trim());
const lines = raw.map((l, i) => [i, parseText(l)] as [number, ReturnType<typeof parseText>]);

for (const c of golden.cases) {
  test(`golden usable list: ${c.name}`, () => {
    const got = usableItems(lines, c.mode as UsableMode, { minAgreement: c.min_agreement, labelSmoothing: c.label_smoothing, votes: c.votes });
    assert.deepEqual(got.map((u) => [u.line + 1, u.label ?? null]), c.usable.map((u: { line: number; label: boolean | null }) => [u.line, u.label]));
    got.forEach((u, k) => {
      assert.ok(Math.abs(u.agreement - c.usable[k].agreement) <= golden.tolerance, `line ${u.line + 1} agreement ${u.agreement}`);
      assert.ok(Math.abs(u.eps - c.usable[k].eps) <= golden.tolerance, `line ${u.line + 1} eps ${u.eps}`);
      const o = JSON.parse(raw[u.line]!);
      if (o.chosen !== undefined) {
        const trainedChosen = c.mode === 'paired' ? u.chosen : u.label ? u.completion : null;
        if (trainedChosen !== null) assert.equal(trainedChosen, c.usable[k].swapped ? o.rejected : o.chosen, `line ${u.line + 1}: chosen`);
      }
    });
  });
}

test('voteShares: skips abstain, status votes count in neither share, no counting vote is full agreement', () => {
  const v = (choice: 'chosen' | 'rejected' | null, status: 'tie' | 'skip' | null = null) => makeVote({ annotator: `a${Math.random()}`, time: 't', choice, status });
  assert.deepEqual(voteShares([v('chosen'), v('rejected'), v(null, 'tie'), v(null, 'skip')], 'chosen', 'rejected'), { agreement: 1 / 3, dissent: 1 / 3 });
  assert.deepEqual(voteShares([v(null, 'skip')], 'chosen', 'rejected'), { agreement: 1, dissent: 0 });
  assert.deepEqual(voteShares([], 'chosen', 'rejected'), { agreement: 1, dissent: 0 });
});

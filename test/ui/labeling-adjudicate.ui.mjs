// Adjudication by keyboard: a disputed record (two annotators' votes disagree, one of them named
// with markup) shows every vote in terms of what is on screen (left / right), the name as text;
// "a" then "2" writes an adjudicator vote for the right response, the record resolves; undo
// brings the dispute back, redo resolves it again; after saving, the file ON DISK holds the
// resolved pair and the three votes, and the other line is unchanged.
import fs from 'node:fs';
import path from 'node:path';
import { workspaceSettings } from '../harness/workspace.mjs';

const FILE = 'ui-adjudicate.pref.jsonl';
const MARKUP_NAME = '<b>bo</b>';
const T = '2026-11-01T00:00:00.000Z';

const vote = (annotator, choice, extra = {}) => ({ annotator, time: T, choice, strength: null, status: null, note: null, shown: ['chosen', 'rejected'], adjudicator: false, ...extra });

function lines() {
  return [
    // Shown as the label pinned it: chosen (alpha) on the left, rejected (beta) on the right.
    JSON.stringify({
      prompt: 'Which is better?', chosen: 'alpha answer', rejected: 'beta answer',
      rpo_label: { annotator: 'ada', time: T, status: 'disputed', strength: null, note: null, shown: ['chosen', 'rejected'] },
      rpo_votes: [vote('ada', 'chosen', { note: 'alpha is right' }), vote(MARKUP_NAME, 'rejected', { strength: 'slightly' })],
    }),
    JSON.stringify({ prompt: 'Another question?', responses: ['one', 'two'] }),
  ];
}

export const options = {
  timeoutMs: 150_000,
  setup: async (ws) => {
    fs.writeFileSync(path.join(ws, FILE), lines().join('\n') + '\n');
    workspaceSettings(ws, { 'files.autoSave': 'off', 'rpo.labeling.annotator': 'judge', 'rpo.labeling.advanceAfterLabel': false });
  },
};

export default async function (h) {
  const { page, assert } = h;
  const before = lines();
  await h.openFile(FILE);
  const wv = h.webview();
  const header = wv.locator('#detail-header');
  await wv.locator('#progress-text').filter({ hasText: /\/ 2 labeled/ }).waitFor({ timeout: 30_000 });
  await wv.locator('#list').click({ position: { x: 5, y: 5 } }); // line 1; keys go to VS Code
  await header.filter({ hasText: /^Line 1 · .*disputed/ }).waitFor({ timeout: 15_000 });

  // Every vote, in screen terms; the markup name is text.
  const rows = wv.locator('#votes tr.vote');
  await rows.nth(1).waitFor({ timeout: 10_000 });
  assert.equal(await rows.count(), 2, 'two votes shown');
  const texts = await rows.allInnerTexts();
  h.log('votes:', JSON.stringify(texts));
  assert.match(texts[0], /^ada\s+left \(A\)\s+.*alpha is right/);
  assert.match(texts[1], /^<b>bo<\/b>\s+right \(B\)\s+slightly/);
  assert.equal(await wv.locator('#votes b').count(), 0, 'an annotator name is never markup');
  await h.screenshot('disputed-votes');

  // a, 2: the adjudicator picks the right response (beta).
  await page.keyboard.press('a');
  await page.keyboard.press('2');
  await header.filter({ hasText: /^Line 1 · paired · labeled .*by judge/ }).waitFor({ timeout: 15_000 });
  await rows.nth(2).waitFor({ timeout: 10_000 });
  assert.match(await rows.nth(2).innerText(), /^judge \(adjudicator\)\s+right \(B\)/);

  // Undo: the dispute is back; redo: resolved again.
  await page.keyboard.press('Control+Z');
  await header.filter({ hasText: /^Line 1 · .*disputed/ }).waitFor({ timeout: 15_000 });
  assert.equal(await rows.count(), 2, 'undo removed the adjudicator vote');
  await page.keyboard.press('Control+Shift+Z');
  await header.filter({ hasText: /^Line 1 · paired · labeled .*by judge/ }).waitFor({ timeout: 15_000 });
  await h.screenshot('adjudicated');

  await page.keyboard.press('Control+S');
  const text = await h.waitForFile(FILE, (t) => t.includes('"annotator":"judge"'), 20_000);
  const after = text.slice(0, -1).split('\n');
  assert.equal(after.length, 2, 'no line added or lost');
  assert.equal(after[1], before[1], 'the other line is byte for byte the same');
  const o = JSON.parse(after[0]);
  assert.equal(o.chosen, 'beta answer', 'the adjudicated side is chosen');
  assert.equal(o.rejected, 'alpha answer');
  assert.equal(o.rpo_label.status, null);
  assert.equal(o.rpo_label.annotator, 'judge');
  assert.deepEqual(o.rpo_votes.map((v) => [v.annotator, v.choice, v.adjudicator]), [
    ['ada', 'rejected', false], // ada's alpha is now the rejected field
    [MARKUP_NAME, 'chosen', false],
    ['judge', 'chosen', true],
  ]);
}

// Blind re-annotation end to end: "RPO: Label: Mark Records for Blind Re-annotation…" with 50
// percent and a seed marks 10 of 20 labeled records; the editor switches to the Blind filter,
// whose detail shows Response A / B without the earlier votes, label or chosen/rejected, and whose
// toolbar shows no per-annotator or label counts (a vote would move them); a second annotator's key is recorded as their vote; after saving, the file on disk has the marks
// and the vote, and no line was added or lost.
import fs from 'node:fs';
import path from 'node:path';
import { workspaceSettings } from '../harness/workspace.mjs';

const FILE = 'ui-blind.pref.jsonl';
const T = '2026-11-01T00:00:00.000Z';
const vote = (annotator) => ({ annotator, time: T, choice: 'chosen', strength: null, status: null, note: null, shown: ['chosen', 'rejected'], adjudicator: false });

function lines() {
  return Array.from({ length: 20 }, (_, i) => JSON.stringify({
    prompt: `Question ${i}?`, chosen: `good ${i}`, rejected: `bad ${i}`,
    rpo_label: { annotator: 'ada', time: T, status: null, strength: 'clearly', note: 'ada-note', shown: ['chosen', 'rejected'] },
    // Every record carries two agreeing votes: a view that showed them would show 'ada'.
    rpo_votes: [vote('ada'), vote('bo')],
  }));
}

export const options = {
  timeoutMs: 150_000,
  setup: async (ws) => {
    fs.writeFileSync(path.join(ws, FILE), lines().join('\n') + '\n');
    workspaceSettings(ws, { 'files.autoSave': 'off', 'rpo.labeling.annotator': 'second', 'rpo.labeling.advanceAfterLabel': true });
  },
};

export default async function (h) {
  const { page, assert } = h;
  await h.openFile(FILE);
  const wv = h.webview();
  await wv.locator('#progress-text').filter({ hasText: '20 / 20 labeled' }).waitFor({ timeout: 30_000 });
  await wv.locator('#detail-header').filter({ hasText: /^Line 1 · / }).waitFor({ timeout: 15_000 });
  assert.equal(await wv.locator('#votes tr.vote').count(), 2, 'outside the Blind filter the votes show');

  await h.runCommand('RPO: Label: Mark Records for Blind Re-annotation…');
  const input = page.locator('.quick-input-widget input.input');
  await page.locator('.quick-input-widget', { hasText: 'Percent of the labeled records' }).waitFor({ timeout: 15_000 });
  await input.fill('50');
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget', { hasText: 'Seed of the random pick' }).waitFor({ timeout: 15_000 });
  await input.fill('team');
  await page.keyboard.press('Enter');

  // The view is on the Blind filter: 10 rows, none telling its status.
  const blindRadio = wv.locator('vscode-radio[data-filter="blind"]');
  await h.waitUntil(() => blindRadio.evaluate((r) => r.checked && /Blind 10/.test(r.getAttribute('label') ?? r.textContent ?? '')).catch(() => false), { timeoutMs: 15_000, what: 'the Blind filter, checked, with 10 records' });
  await wv.locator('.row:not(.loading)').nth(9).waitFor({ timeout: 15_000 });
  assert.equal(await wv.locator('.row:not(.loading)').count(), 10);
  await wv.locator('.row:not(.loading)').first().click();
  const header = wv.locator('#detail-header');
  await header.filter({ hasText: 'blind re-annotation' }).waitFor({ timeout: 15_000 });
  const detailText = await wv.locator('#detail').innerText();
  assert.doesNotMatch(detailText, /ada|\bbo\b|chosen|rejected/, `the blind detail tells nothing of the earlier labels:\n${detailText}`);
  assert.equal(await wv.locator('#votes').isHidden(), true, 'no votes table');
  assert.deepEqual((await wv.locator('#left h3, #right h3').allInnerTexts()).map((t) => t.replace(/^\d\s*/, '').trim()), ['Response A', 'Response B']);
  const firstLine = Number((/^Line (\d+)/.exec(await header.innerText()) ?? [])[1]);
  const leftText = (await wv.locator('#left .body').innerText()).trim();
  await h.screenshot('blind-detail');

  // No count a vote can move: who labeled how many, labeled, tie/skip, disputed (their change after
  // a vote would tell whether it agreed with the earlier ones).
  const toolbarSays = async () => `${await wv.locator('#annotators').innerText()} | ${await wv.locator('#progress-text').innerText()} | ${(await wv.locator('vscode-radio').evaluateAll((rs) => rs.map((r) => r.getAttribute('label')))).join(', ')}`;
  const hidden = (t) => !/ada|\bbo\b/.test(t) && !/(Labeled|Disputed|Tie \/ skip|Unlabeled) \d/.test(t);
  assert.ok(hidden(await toolbarSays()), `the Blind filter's toolbar tells no label counts: ${await toolbarSays()}`);
  await page.keyboard.press('1'); // the second annotator picks the left response
  await header.filter({ hasText: new RegExp(`^Line (?!${firstLine} )`) }).waitFor({ timeout: 15_000 }); // moved on to the next marked record
  assert.ok(hidden(await toolbarSays()), `nor after a vote: ${await toolbarSays()}`);
  await page.keyboard.press('Control+S');
  const text = await h.waitForFile(FILE, (t) => t.includes('"annotator":"second"'), 20_000);
  const after = text.slice(0, -1).split('\n').map((l) => JSON.parse(l));
  assert.equal(after.length, 20, 'no line added or lost');
  assert.equal(after.filter((o) => o.rpo_blind === true).length, 10, '10 of 20 marked');
  const o = after[firstLine - 1];
  assert.equal(o.rpo_blind, true);
  const mine = o.rpo_votes.find((v) => v.annotator === 'second');
  assert.ok(mine, 'the second annotator\'s vote');
  // The vote names the field that was on the left in the blind view.
  assert.equal(mine.choice, leftText === o.chosen ? 'chosen' : 'rejected');
}

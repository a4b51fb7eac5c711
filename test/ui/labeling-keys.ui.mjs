// Label keys at full speed: 40 keys (1, 2, t, j mixed) pressed with no delay between them in the
// RPO Preference Editor must apply in the order they were pressed, each to the record that was
// selected when it arrived (a label advances to the next unlabeled record, j to the next record).
// The file pins each record's display order (rpo_label.shown), so which response a 1 or a 2
// picks is known; after saving, every record's chosen side and status ON DISK is checked.
import fs from 'node:fs';
import path from 'node:path';
import { workspaceSettings } from '../harness/workspace.mjs';

const FILE = 'ui-keys.pref.jsonl';
const RECORDS = 50;
// Runs of 1/2 alternating (the reported race), ties, and navigation between labels.
const KEYS = '1212121212jt12t1j2211tj12121j2t1212jj21t';

/** Record k shows response 1 on the left when k % 3 === 1, else response 0. */
const shownOf = (k) => (k % 3 === 1 ? ['responses.1', 'responses.0'] : ['responses.0', 'responses.1']);

function lines() {
  return Array.from({ length: RECORDS }, (_, k) => JSON.stringify({
    prompt: `Question ${k}?`,
    responses: [`answer ${k}.0`, `answer ${k}.1`],
    rpo_label: { annotator: '', time: '', status: null, strength: null, note: null, shown: shownOf(k) },
  }));
}

/** What each record must hold after KEYS: the key that applied to it, or undefined (untouched). */
function expected() {
  const out = new Array(RECORDS).fill(undefined);
  let at = 0; // every record after the selection is unlabeled: a label and j both move to at + 1
  for (const key of KEYS) {
    if (key !== 'j') out[at] = key;
    at++;
  }
  return { out, selectedAfter: at };
}

export const options = {
  timeoutMs: 150_000,
  setup: async (ws) => {
    fs.writeFileSync(path.join(ws, FILE), lines().join('\n') + '\n');
    workspaceSettings(ws, { 'files.autoSave': 'off', 'rpo.labeling.annotator': 'ui-keys', 'rpo.labeling.advanceAfterLabel': true });
  },
};

export default async function (h) {
  const { page, assert } = h;
  const before = lines();
  const { out: want, selectedAfter } = expected();
  const labels = want.filter(Boolean).length;

  await h.openFile(FILE);
  const wv = h.webview();
  const progress = wv.locator('#progress-text');
  const header = wv.locator('#detail-header');
  await progress.filter({ hasText: `0 / ${RECORDS} labeled` }).waitFor({ timeout: 30_000 });
  await wv.locator('#list').click({ position: { x: 5, y: 5 } }); // selects line 1, keys go to VS Code
  await header.filter({ hasText: /^Line 1 · / }).waitFor({ timeout: 15_000 });

  for (const key of KEYS) await page.keyboard.press(key);

  // Every key applied: the labels counted, the selection where the last key left it. (Waited on
  // with a timeout only: a run that lost or misplaced keys is reported record by record below.)
  await progress.filter({ hasText: `${labels} / ${RECORDS} labeled` }).waitFor({ timeout: 20_000 }).catch(() => h.log('the label count did not reach', labels));
  await header.filter({ hasText: new RegExp(`^Line ${selectedAfter + 1} · `) }).waitFor({ timeout: 10_000 }).catch(() => h.log('the selection did not reach line', selectedAfter + 1));
  await h.screenshot('after-keys');
  await page.keyboard.press('Control+S');
  const text = await h.waitForFile(FILE, (t) => t.split('"annotator":"ui-keys"').length - 1 >= labels, 20_000).catch(() => h.readFile(FILE));

  const after = text.slice(0, -1).split('\n');
  assert.equal(after.length, RECORDS, 'no line added or lost');
  const wrong = [];
  for (let k = 0; k < RECORDS; k++) {
    const key = want[k];
    const line = `line ${k + 1} (expected ${key ? `'${key}'` : 'no label'})`;
    if (!key) {
      if (after[k] !== before[k]) wrong.push(`${line}: changed to ${after[k]}`);
      continue;
    }
    const o = JSON.parse(after[k]);
    const l = o.rpo_label ?? {};
    if (key === 't') {
      if (l.status !== 'tie' || o.chosen !== undefined) wrong.push(`${line}: status ${l.status}, chosen ${o.chosen}`);
      continue;
    }
    // The side pressed, in the display order the record pinned: 1 = left, 2 = right.
    const shown = shownOf(k);
    const picked = Number(shown[key === '1' ? 0 : 1].split('.')[1]);
    const chosen = `answer ${k}.${picked}`;
    const rejected = `answer ${k}.${1 - picked}`;
    if (o.chosen !== chosen || o.rejected !== rejected || l.status !== null || l.annotator !== 'ui-keys') {
      wrong.push(`${line}: chosen ${JSON.stringify(o.chosen)} (want ${JSON.stringify(chosen)}), status ${l.status}`);
    }
  }
  assert.deepEqual(wrong, [], `${wrong.length} of ${RECORDS} records differ from the keys pressed:\n${wrong.join('\n')}`);
}

// A JSONL file that is not preference data (training metrics), opened in the RPO Preference
// Editor through "Reopen Editor With...": the editor explains why (its counts: 0 of 20 lines are
// preference records, with the shapes it expects) and offers "Reopen as Text"; clicking it shows
// the file in VS Code's text editor in place of the preference editor. Screenshot in test-results/.
import fs from 'node:fs';
import path from 'node:path';

const FILE = 'train-metrics.jsonl';

export const options = {
  timeoutMs: 150_000,
  setup: async (ws) => {
    const lines = Array.from({ length: 20 }, (_, i) => JSON.stringify({ step: i * 10, loss: Number((2 / (i + 1)).toFixed(4)) }));
    fs.writeFileSync(path.join(ws, FILE), lines.join('\n') + '\n');
  },
};

export default async function (h) {
  const { page } = h;
  const wv = await h.openWith(FILE, 'RPO Preference Editor');
  const notice = wv.locator('#notice[role="alert"]');
  await notice.filter({ hasText: 'This file does not look like preference data' }).waitFor({ timeout: 30_000 });
  const text = await notice.innerText();
  h.log('notice:', text.replace(/\s+/g, ' '));
  h.assert.match(text, /0 of 20 lines are preference records/);
  h.assert.match(text, /expected lines like \{"prompt", "chosen", "rejected"\}/);
  await h.screenshot('not-preference');

  await notice.getByText('Reopen as Text').click();
  // The text editor now shows the file (Monaco renders it; the webview is gone from the tab).
  await page.locator('.editor-instance .monaco-editor .view-lines').filter({ hasText: /"step":0,"loss":2/ }).first().waitFor({ timeout: 20_000 });
  // In place of the preference editor: one tab for the file, no webview left.
  await page.locator('.tabs-container .tab.active').filter({ hasText: FILE }).waitFor({ timeout: 10_000 });
  await h.waitUntil(async () => (await page.locator('.tabs-container .tab').filter({ hasText: FILE }).count()) === 1, { timeoutMs: 10_000, what: 'the preference editor tab to close' });
  h.assert.equal(await page.locator('iframe.webview.ready >> visible=true').count(), 0, 'no webview left visible');
  await h.screenshot('reopened-as-text');
}

// Labeling editor in the browser: open a .pref.jsonl in the RPO Preference Editor, label records
// by keyboard (VS Code keybindings from inside the webview), watch the progress move, save, and
// check the file on disk (only the labeled lines changed). A record whose response holds
// <img onerror> and <script> shows them as text and runs nothing. Screenshot in test-results/.
import fs from 'node:fs';
import path from 'node:path';
import { workspaceSettings } from '../harness/workspace.mjs';

const FILE = 'ui-labeling.pref.jsonl';
const XSS_RESPONSE = 'Here: <img src=x onerror="window.top.postMessage(\'xss\',\'*\');document.title=\'XSS-RAN\'"> and <script>document.title="XSS-RAN"</script> **bold** [link](javascript:alert(1))';

function lines() {
  const out = [];
  out.push(JSON.stringify({ prompt: 'Show me HTML', responses: [XSS_RESPONSE, 'A plain answer with `code` and\n\n```python\nprint("hi")\n```'] }));
  for (let i = 1; i < 8; i++) out.push(JSON.stringify({ prompt: `Question number ${i}?`, responses: [`Left-ish answer ${i}`, `Other answer ${i}`] }));
  out.push('{"prompt": "broken json"');
  return out;
}

export const options = {
  timeoutMs: 180_000,
  setup: async (ws) => {
    fs.writeFileSync(path.join(ws, FILE), lines().join('\n') + '\n');
    workspaceSettings(ws, { 'files.autoSave': 'off', 'rpo.labeling.annotator': 'ui-test' });
  },
};

export default async function (h) {
  const { page, assert } = h;
  const consoleMessages = [];
  page.on('console', (m) => consoleMessages.push(m.text()));
  const before = lines();

  // *.pref.jsonl opens in the RPO Preference Editor by default.
  await h.openFile(FILE);
  const wv = h.webview();
  const progress = wv.locator('#progress-text');
  await progress.filter({ hasText: '0 / 8 labeled' }).waitFor({ timeout: 30_000 });
  await wv.locator('.row').first().waitFor();
  h.log('editor open, rows:', await wv.locator('.row').count());
  // The first screen came with the webview's HTML (no round trip to the host): every line's row
  // and the first record, whose <script> and <img> text stayed text inside the embedded JSON.
  assert.equal(await wv.locator('body').getAttribute('data-first-screen'), 'embedded');
  assert.equal(await wv.locator('script[src], link[rel="stylesheet"]').count(), 0, 'script and styles inline in the HTML (no fetch before the first paint)');
  assert.equal(await wv.locator('.row:not(.loading)').count(), 9, 'all 9 lines listed');
  assert.match(await wv.locator('.row').nth(8).innerText(), /invalid/);
  await wv.locator('#detail-header').filter({ hasText: /^Line 1 · / }).waitFor({ timeout: 5_000 });
  // The view told the host when its first rows were painted (a big file's scan waits for that).
  await h.waitUntil(() => /first rows painted \d+ ms after the view was ready/.test(h.extensionLog()), { timeoutMs: 10_000, what: "the host's 'first rows painted' log line for the embedded first screen" });

  // XSS: record 1 is selected first; its markup must show as text.
  const left = wv.locator('#left, #right');
  await left.filter({ hasText: '<img src=x onerror=' }).first().waitFor({ timeout: 10_000 });
  assert.equal(await wv.locator('#detail img').count(), 0, 'no <img> element rendered from dataset text');
  assert.equal(await wv.locator('#detail script').count(), 0, 'no <script> element rendered from dataset text');
  assert.equal(await wv.locator('#detail a[href]').count(), 0, 'links are not navigable');
  assert.ok(await wv.locator('#detail strong', { hasText: 'bold' }).count() >= 1, 'Markdown is rendered');
  await wv.locator('#detail pre code', { hasText: 'print("hi")' }).first().waitFor();
  await h.screenshot('xss-record');

  // Keyboard labeling: focus the list inside the webview, then keys go through VS Code keybindings.
  await wv.locator('#list').click({ position: { x: 5, y: 5 } });
  const header = wv.locator('#detail-header');
  const detail = wv.locator('#detail');
  await page.keyboard.press('1'); // line 1: left better -> next unlabeled
  await progress.filter({ hasText: '1 / 8 labeled' }).waitFor({ timeout: 15_000 });
  // The view had built line 2 ahead (the host's prefetch of the next unlabeled record) and showed
  // that: the same record and content as the host's selection, both responses, keys on the boxes.
  await header.filter({ hasText: /^Line 2 · / }).waitFor({ timeout: 15_000 });
  assert.equal(await detail.getAttribute('data-render'), 'prefetched', 'line 2 was shown from the prefetch');
  assert.equal((await wv.locator('#prompt').innerText()).trim().endsWith('Question number 1?'), true, 'the prompt of line 2');
  const boxes = (await left.allInnerTexts()).join('\n');
  assert.ok(boxes.includes('Left-ish answer 1') && boxes.includes('Other answer 1'), `both responses of line 2, got ${boxes}`);
  assert.equal(await wv.locator('#left kbd, #right kbd').count(), 2);
  await page.keyboard.press('2'); // line 2
  await progress.filter({ hasText: '2 / 8 labeled' }).waitFor({ timeout: 15_000 });
  await header.filter({ hasText: /^Line 3 · / }).waitFor({ timeout: 15_000 });
  // A prefetch that no longer matches (built without word diff; W turned it on since) is not
  // used: the host's selection is rendered, with the diff.
  await page.keyboard.press('w');
  await wv.locator('#detail pre.diff').first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('t'); // line 3: tie
  await progress.filter({ hasText: '3 / 8 labeled (1 tie/skip' }).waitFor({ timeout: 15_000 });
  await header.filter({ hasText: /^Line 4 · / }).waitFor({ timeout: 15_000 });
  assert.equal(await detail.getAttribute('data-render'), 'rendered', 'a stale prefetch is not shown');
  assert.equal(await wv.locator('#detail pre.diff').count(), 2, 'line 4 rendered with the word diff');
  assert.ok((await wv.locator('#detail pre.diff').allInnerTexts()).join('\n').includes('answer 3'), 'the diff is of line 4');
  await page.keyboard.press('w');
  await wv.locator('#detail pre.diff').first().waitFor({ state: 'detached', timeout: 15_000 });
  await page.keyboard.press('j'); // skip over line 4 without labeling
  await page.keyboard.press('Shift+1'); // line 5: left slightly better
  await progress.filter({ hasText: '4 / 8 labeled' }).waitFor({ timeout: 15_000 });
  const fill = await wv.locator('#progress').getAttribute('aria-valuenow');
  assert.equal(fill, '4');

  // Typing in the note field must not label: "1" goes into the note.
  await page.keyboard.press('k'); // previous record: line 5, the one just labeled
  await header.filter({ hasText: /^Line 5 · .*labeled/ }).waitFor({ timeout: 15_000 });
  await page.keyboard.press('m'); // rpo.label.note: the host asks the view to focus the note
  const note = wv.locator('#note input').first();
  // Wait on the real focus state: the note's inner input is the active element of its shadow
  // root and the webview's document has keyboard focus (keys typed before that went elsewhere).
  await h.waitUntil(
    () => note.evaluate((input) => input.getRootNode().activeElement === input && input.ownerDocument.hasFocus()).catch(() => false),
    { timeoutMs: 15_000, what: 'the note input to have keyboard focus' },
  );
  await page.keyboard.type('note 1 2 t');
  assert.equal(await note.inputValue(), 'note 1 2 t', 'every typed key went into the note');
  await page.keyboard.press('Enter');
  await wv.locator('#detail-header').filter({ hasText: /Line \d+/ }).waitFor();
  await progress.filter({ hasText: '4 / 8 labeled' }).waitFor({ timeout: 5_000 });

  // Help overlay.
  await wv.locator('#list').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Shift+Slash');
  await wv.locator('#help:not([hidden])').waitFor({ timeout: 10_000 });
  await h.screenshot('help');
  await page.keyboard.press('Escape');

  await h.screenshot('labeled');
  await page.keyboard.press('Control+S');
  const text = await h.waitForFile(FILE, (t) => t.includes('"annotator":"ui-test"') && t.includes('note 1 2 t'), 20_000);
  const after = text.slice(0, -1).split('\n');
  assert.equal(after.length, before.length);
  const changed = after.map((l, i) => (l !== before[i] ? i : -1)).filter((i) => i >= 0);
  h.log('changed lines (0-based):', changed.join(','));
  assert.equal(changed.length, 4, `exactly the 4 labeled lines changed, got ${changed}`);
  assert.equal(after[8], before[8], 'the invalid line is kept byte for byte');
  assert.ok(!changed.includes(3), 'the skipped-over record (line 4) is unchanged');

  // Hidden, then shown again: the webview reloads with the same HTML, whose first screen is old
  // by now. The view must show the present, asked from the host: 4 labeled, the same record.
  await header.filter({ hasText: /^Line 1 · / }).waitFor({ timeout: 15_000 }); // the click above selected it
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  const line = '3';
  await header.filter({ hasText: /^Line 3 · / }).waitFor({ timeout: 15_000 });
  await h.openFile('sample.rpo.json');
  await h.openFile(FILE);
  const shown = h.webview();
  await shown.locator('body[data-first-screen="asked"]').waitFor({ timeout: 15_000 });
  await shown.locator('#progress-text').filter({ hasText: '4 / 8 labeled' }).waitFor({ timeout: 15_000 });
  await shown.locator('#detail-header').filter({ hasText: new RegExp(`^Line ${line} · `) }).waitFor({ timeout: 15_000 });
  await shown.locator('.row.selected .line', { hasText: new RegExp(`^${line}$`) }).waitFor({ timeout: 15_000 });
  assert.equal(await shown.locator('.row.status-labeled').count(), 3, 'the rows show the 3 labels');
  assert.equal(await shown.locator('.row.status-tie').count(), 1, 'and the tie');

  // A filter survives hiding too: the reloaded view takes the host's filter (radio and rows).
  await shown.locator('vscode-radio[data-filter="labeled"]').click();
  const filteredRows = shown.locator('.row:not(.loading) .line');
  await h.waitUntil(async () => { const n = await filteredRows.count(); return n > 0 && n < 9; }, { timeoutMs: 15_000, what: 'the Labeled filter to narrow the list' });
  const labeledLines = await filteredRows.allInnerTexts();
  h.log('Labeled filter lines:', labeledLines.join(','));
  await h.openFile('sample.rpo.json');
  await h.openFile(FILE);
  const again = h.webview();
  await again.locator('body[data-first-screen="asked"]').waitFor({ timeout: 15_000 });
  await again.locator('#progress-text').filter({ hasText: '4 / 8 labeled' }).waitFor({ timeout: 15_000 });
  const againRows = again.locator('.row:not(.loading) .line');
  await h.waitUntil(async () => JSON.stringify(await againRows.allInnerTexts()) === JSON.stringify(labeledLines), { timeoutMs: 15_000, what: `the reloaded view to list the Labeled filter's lines ${labeledLines}` });
  assert.equal(await again.locator('vscode-radio[data-filter="labeled"]').evaluate((r) => r.checked), true, 'the Labeled radio is checked');

  // Nothing from the dataset ran.
  assert.ok(!consoleMessages.some((m) => /xss/i.test(m)), 'no script from dataset text ran');
  assert.notEqual(await page.title(), 'XSS-RAN');
}

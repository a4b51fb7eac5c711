/* global document */
// Contrast preview in the browser: open HH records in the RPO Preference Editor, run "RPO: Show
// Contrast Preview" (embeds the prompts with the tiny-bert fixture model), check the heatmap
// renders, reacts to the temperature slider (keyboard) and to the batch size, shows a tooltip on
// hover, and that clicking a neighbour selects that record in the editor (the preview follows).
// Prints the webview's measured update time for M = 64. Screenshots in test-results/preview/.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { workspaceSettings } from '../harness/workspace.mjs';

const FILE = 'preview.pref.jsonl';
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const options = {
  timeoutMs: 240_000,
  setup: async (ws) => {
    const hh = fs.readFileSync(path.join(repo, 'test/fixtures/embeddings/hh-150.jsonl'), 'utf8').split('\n').slice(0, 100);
    fs.writeFileSync(path.join(ws, FILE), hh.join('\n') + '\n');
    workspaceSettings(ws, { 'files.autoSave': 'off', 'rpo.embeddings.model': path.join(repo, 'test/fixtures/models/tiny-bert'), 'rpo.embeddings.precision': 'fp32' });
  },
};

export default async function (h) {
  const { assert } = h;
  await h.openFile(FILE);
  await h.webview().locator('body').waitFor({ timeout: 30_000 });
  await h.runCommand('RPO: Show Contrast Preview');
  const f = await h.frameWith('#heatmap', { what: 'the preview webview' });
  await f.waitForSelector('#status[data-status="ready"]', { timeout: 90_000 });
  await f.waitForSelector('#heatmap[data-rows="4"]');
  assert.equal(await f.getAttribute('#heatmap', 'data-cols'), '4');
  const beta0 = Number(await f.getAttribute('#numbers', 'data-effective-beta'));
  const max0 = Number(await f.getAttribute('#heatmap', 'data-max-weight'));
  assert.ok(beta0 > 0 && beta0 < 0.1, `effective beta ${beta0}`);
  assert.ok((await f.locator('#neighbours li').count()) > 0, 'neighbours of the selected record are listed');
  assert.match(await f.textContent('#nb-prompt'), /^Line 1:/);
  await h.screenshot('preview-batch4');

  // The temperature slider by keyboard: lower tau sharpens the weights (larger diagonal weight).
  await f.focus('#tau');
  const updates0 = Number(await f.getAttribute('#preview', 'data-updates'));
  for (let k = 0; k < 6; k++) await h.page.keyboard.press('ArrowLeft');
  await f.waitForFunction((n) => Number(document.querySelector('#preview').dataset.updates) >= n, updates0 + 6);
  const tau = Number(await f.inputValue('#tau'));
  assert.ok(Math.abs(tau - 0.2) < 1e-9, `tau after 6 steps left: ${tau}`);
  const beta1 = Number(await f.getAttribute('#numbers', 'data-effective-beta'));
  const max1 = Number(await f.getAttribute('#heatmap', 'data-max-weight'));
  assert.ok(beta1 > beta0, `effective beta grows as tau falls: ${beta0} -> ${beta1}`);
  assert.ok(max1 > max0, `max weight grows as tau falls: ${max0} -> ${max1}`);

  // Batch size 64: the host re-forms the batch with the trainer's sampler.
  await f.fill('#batch-size', '64');
  await f.press('#batch-size', 'Enter');
  await f.waitForSelector('#heatmap[data-rows="64"]', { timeout: 30_000 });
  await f.focus('#tau');
  const times = [];
  for (let k = 0; k < 10; k++) {
    const n = Number(await f.getAttribute('#preview', 'data-updates'));
    await h.page.keyboard.press(k % 2 ? 'ArrowLeft' : 'ArrowRight');
    await f.waitForFunction((m) => Number(document.querySelector('#preview').dataset.updates) > m, n);
    times.push(Number(await f.getAttribute('#preview', 'data-update-ms')));
  }
  times.sort((a, b) => a - b);
  h.log(`preview update for M = 64 (softmax + canvas + numbers), ms: median ${times[5]}, max ${times[9]}`);

  // Hover a cell: the tooltip shows both prompts, cosine and weight.
  const box = await (await f.$('#heatmap')).boundingBox();
  await h.page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.6);
  await f.waitForSelector('#tooltip:not([hidden])');
  assert.match(await f.textContent('#tooltip'), /cos -?\d\.\d{4}\s+w \d\.\d{4}.*Row prompt.*Column prompt/s);
  await h.screenshot('preview-batch64-hover');

  // Click the first neighbour: the editor selects it and the preview follows.
  const target = await f.locator('#neighbours .neighbour .line').first().textContent();
  await f.locator('#neighbours .neighbour').first().click();
  const line = Number(target.replace('line ', ''));
  await f.waitForFunction((l) => document.querySelector('#nb-prompt').textContent.startsWith(`Line ${l}:`), line, { timeout: 15_000 });
  await h.screenshot('preview-followed-neighbour');
}

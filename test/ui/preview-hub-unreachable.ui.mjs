// The contrast preview with the default embedding model (a Hugging Face Hub id) on a machine
// without the Hub (this one: real, no stand-in): the panel and a notification say what to do
// (model id, downloads once, the setting for a local folder), never "fetch failed" alone; the
// notification's "Choose Folder…" opens a folder dialog, a folder without the model is refused
// with the file it lacks, the local MiniLM export is taken into the user settings and the preview
// then shows the weights. Screenshots in test-results/preview-hub-unreachable/.
import fs from 'node:fs';
import path from 'node:path';
import { setupOutputs } from '../../scripts/sample.mjs';

let minilm;

export const options = {
  timeoutMs: 300_000,
  setup: async () => {
    minilm = setupOutputs().minilm;
    if (!minilm) throw new Error('no all-MiniLM-L6-v2 export in the set-up cache: run bash scripts/setup.sh');
  },
};

/** Types `dir` into code-server's folder dialog (a quick input), waits until it lists `child` (it is in the folder), accepts it. */
async function chooseFolder(h, dir, child) {
  await h.fillFileDialog(dir + '/', { lists: child });
  await h.page.locator('.quick-input-widget .monaco-button', { hasText: 'Use This Model Folder' }).first().click();
}

export default async function (h) {
  const { page, assert } = h;
  try {
    await fetch('https://huggingface.co', { method: 'HEAD', signal: globalThis.AbortSignal.timeout(5000) });
    h.log('huggingface.co is reachable from here: nothing to test');
    return;
  } catch { /* no Hub, as expected */ }

  await h.openWith('hh-harmless.pref.jsonl');
  const t0 = Date.now();
  await h.runCommand('RPO: Show Contrast Preview');
  const f = await h.frameWith('#heatmap', { what: 'the preview webview' });
  await f.waitForSelector('#status[data-status="error"]', { timeout: 60_000 });
  h.log(`the preview said the Hub is unreachable ${Date.now() - t0} ms after the command`);
  const text = (await f.textContent('#status')) ?? '';
  assert.match(text, /Cannot reach the Hugging Face Hub \(https:\/\/huggingface\.co: .+\)/);
  assert.match(text, /sentence-transformers\/all-MiniLM-L6-v2/);
  assert.match(text, /downloads once/);
  assert.match(text, /`rpo\.embeddings\.model`/);
  assert.doesNotMatch(text, /^\s*(loading the embedding model failed: )?fetch failed\s*$/);
  const toast = await h.notification('Cannot reach the Hugging Face Hub');
  await h.screenshot('hub-unreachable');

  // A folder without the model is refused with what it lacks; the export is taken.
  await toast.locator('.monaco-button', { hasText: 'Choose Folder…' }).click();
  await chooseFolder(h, h.workspace, '.vscode'); // (the dialog lists folders only)
  const again = await h.notification('is missing config.json');
  await again.locator('.monaco-button', { hasText: 'Choose Folder…' }).click();
  await chooseFolder(h, minilm, 'onnx');
  await f.waitForSelector('#status[data-status="ready"]', { timeout: 120_000 });
  await f.waitForSelector('#heatmap[data-rows="4"]');
  // VS Code writes it to the user settings; where the extension host is remote (code-server), to
  // that machine's settings.
  const settings = ['User', 'Machine'].map((scope) => path.join(h.runDir, 'user-data', scope, 'settings.json')).filter((p) => fs.existsSync(p)).map((p) => fs.readFileSync(p, 'utf8')).join('\n');
  assert.match(settings, new RegExp(`"rpo\\.embeddings\\.model": "${minilm.replace(/[/\\.]/g, '.')}"`), `user and machine settings: ${settings}`);
  assert.ok(fs.existsSync(path.join(h.workspace, '.rpo', 'embeddings', 'sentence-transformers_all-MiniLM-L6-v2.q8.safetensors')));
  await page.locator('.notifications-toasts .notification-toast', { hasText: 'Cannot reach' }).waitFor({ state: 'hidden', timeout: 5000 }).catch(() => {});
  await h.screenshot('after-choose-folder');
}

// Foundation UI test: the sample workspace opens with RPO Studio loaded, "RPO: Show Log" runs from
// the command palette and shows RPO Studio's output channel; the harness's file and webview helpers
// work (Quick Open, Reopen Editor With, a custom editor's webview: VS Code's own image preview).
import fs from 'node:fs';
import path from 'node:path';

const png = fs.readFileSync(new URL('../../media/icon.png', import.meta.url));

export const options = {
  setup: async (ws) => fs.writeFileSync(path.join(ws, 'harness-probe.png'), png),
};

export default async function (h) {
  const { page, assert } = h;
  await h.runCommand('RPO: Show Log');
  const output = page.locator('.part.panel .monaco-editor .view-lines');
  await output.filter({ hasText: /RPO\s+Studio\s.*activated/ }).waitFor({ timeout: 20_000 });
  await h.screenshot('show-log');
  assert.match(h.extensionLog(), /activated \(\d+\/\d+ features\)/);

  // Quick Open a workspace file into the text editor.
  await h.openFile('sample.rpo.json');
  await page.locator('.editor-instance .monaco-editor .view-lines', { hasText: 'SmolLM2-135M-Instruct' }).waitFor();

  // A custom editor + webview through the helpers (the image preview is a built-in custom editor).
  const wv = await h.openWith('harness-probe.png', 'Image Preview');
  await wv.locator('img').first().waitFor({ timeout: 20_000 });
  await h.screenshot('image-preview');
}

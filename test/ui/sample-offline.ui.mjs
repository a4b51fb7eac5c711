// The sample workspace as `npm start` opens it, offline (this machine has no Hugging Face Hub):
// the settings npm start writes (scripts/sample.mjs: the venv's Python, the local MiniLM export),
// no editor open. "RPO: Show Contrast Preview" offers the workspace's preference files (no empty
// panel); picking hh-harmless.pref.jsonl opens it and the preview shows its weights, embedded with
// the local MiniLM. "RPO: Start Training Run…" on offline-demo.rpo.json trains the tiny model on
// the CPU to completion: the dashboard says Completed, the runs view lists the run, the run folder
// holds the final adapter. The Start Training pick shows offline-demo's description. Screenshots in
// test-results/sample-offline/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cacheDir, localizeRunConfig, mergeSettingsFile, setupOutputs, studioSettings } from '../../scripts/sample.mjs';

export const options = {
  timeoutMs: 900_000, // the run takes about a minute on an idle machine; far longer on a busy one
  setup: async (ws) => {
    const outputs = setupOutputs();
    const missing = Object.entries(outputs).filter(([, v]) => !v).map(([k]) => k);
    if (missing.length) throw new Error(`set-up has not made ${missing.join(', ')}: run bash scripts/setup.sh`);
    // What npm start writes (scripts/run-sample.mjs, code-server branch).
    const userData = path.join(ws, '..', 'user-data');
    // (with the harness's own user settings, which it writes only where the file does not exist)
    mergeSettingsFile(path.join(userData, 'User', 'settings.json'), { 'workbench.startupEditor': 'none', 'workbench.welcomePage.walkthroughs.openOnInstall': false, ...studioSettings(outputs) });
    mergeSettingsFile(path.join(userData, 'Machine', 'settings.json'), { 'rpo.python.path': outputs.python });
    if (cacheDir() !== path.join(os.homedir(), '.cache', 'rpo-studio')) localizeRunConfig(path.join(ws, 'offline-demo.rpo.json'), cacheDir());
  },
};

export default async function (h) {
  const { page, assert } = h;
  await h.screenshot('01-opened');

  // The preview with no preference editor: a pick of the workspace's files, not an empty panel.
  await h.runCommand('RPO: Show Contrast Preview');
  await page.locator('.quick-input-widget', { hasText: 'RPO Contrast Preview' }).waitFor({ timeout: 15_000 });
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'candidates.pref.jsonl' }).first().waitFor();
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Choose a preference file' }).first().waitFor();
  await h.screenshot('02-preview-pick');
  await h.pickQuickItem('hh-harmless.pref.jsonl');
  await page.locator('.tabs-container .tab', { hasText: 'hh-harmless.pref.jsonl' }).first().waitFor({ timeout: 30_000 });
  const f = await h.frameWith('#heatmap', { what: 'the preview webview' });
  await f.waitForSelector('#status[data-status="ready"]', { timeout: 120_000 });
  await f.waitForSelector('#heatmap[data-rows="4"]');
  const beta = Number(await f.getAttribute('#numbers', 'data-effective-beta'));
  assert.ok(beta > 0 && beta < 0.1, `effective beta ${beta}`);
  assert.ok((await f.locator('#neighbours li').count()) > 0, 'neighbours listed');
  // Embedded with the local export (named after the Hub id it holds), not downloaded.
  assert.ok(fs.existsSync(path.join(h.workspace, '.rpo', 'embeddings', 'sentence-transformers_all-MiniLM-L6-v2.q8.safetensors')), 'the q8 cache of the local MiniLM');
  await h.screenshot('03-preview-hh-harmless');

  // The offline run config, from the palette.
  await h.runCommand('RPO: Start Training Run…');
  // The pick shows the config's description: a demonstration that learns nothing useful.
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'learns nothing useful' }).first().waitFor({ timeout: 20_000 });
  await h.screenshot('04-start-pick');
  await h.pickQuickItem('offline-demo.rpo.json', { timeoutMs: 20_000 });
  const wv = await h.frameWith('#compare', { what: 'the run dashboard' });
  await wv.locator('.badge', { hasText: /Starting|Running|Completed/ }).first().waitFor({ timeout: 60_000 });
  await h.screenshot('05-dashboard-running');
  await wv.locator('.badge', { hasText: 'Completed' }).waitFor({ timeout: 600_000 });
  const step = (await wv.locator('dd[data-fact="Step"]').textContent()) ?? '';
  assert.match(step, /^13 \/ 13/, '54 training records (60 less the 10% held out), batch 4: 13 steps');
  assert.ok(await wv.locator('.checkpoints li', { hasText: 'final model' }).count(), 'final model listed');
  await h.screenshot('06-dashboard-completed');
  const runs = path.join(h.workspace, '.rpo', 'runs');
  const run = fs.readdirSync(runs).find((d) => d.startsWith('offline-demo-'));
  assert.ok(run, `no offline-demo run folder in ${fs.readdirSync(runs).join(', ')}`);
  for (const file of ['adapter_model.safetensors', 'adapter_config.json', 'tokenizer.json']) {
    assert.ok(fs.existsSync(path.join(runs, run, 'final', file)), `final/${file} in the run folder`);
  }
  // The trainer embedded the prompts itself, offline (fp32, sentence-transformers, local MiniLM).
  assert.ok(fs.existsSync(path.join(h.workspace, '.rpo', 'embeddings', 'sentence-transformers_all-MiniLM-L6-v2.fp32.safetensors')), 'the trainer added its fp32 embeddings to the cache');

  // The runs view lists it as completed.
  await page.locator('.activitybar [aria-label^="RPO Studio"]').first().click();
  const row = page.locator('.pane-body .monaco-list-row', { hasText: 'offline-demo' }).first();
  await row.waitFor({ timeout: 20_000 });
  assert.match((await row.getAttribute('aria-label')) ?? (await row.textContent()) ?? '', /complet/i);
  await h.screenshot('07-runs-view');
}

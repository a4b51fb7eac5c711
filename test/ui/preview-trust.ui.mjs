/* global document */
// Workspace trust and the contrast preview: embedding runs a model, so in Restricted Mode the
// preview runs none. With no cache it says why (and no cache file appears); with a cache that
// covers the file (written by `rpo embed` before VS Code opens) it shows the batch from the cache.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { userSettings, workspaceSettings } from '../harness/workspace.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tiny = path.join(repo, 'test/fixtures/models/tiny-bert');

export const options = {
  timeoutMs: 240_000,
  workspaceTrust: true,
  waitForActivation: false,
  setup: async (ws) => {
    const hh = fs.readFileSync(path.join(repo, 'test/fixtures/embeddings/hh-150.jsonl'), 'utf8').split('\n');
    fs.writeFileSync(path.join(ws, 'cached.pref.jsonl'), hh.slice(0, 20).join('\n') + '\n');
    fs.writeFileSync(path.join(ws, 'uncached.pref.jsonl'), hh.slice(20, 40).join('\n') + '\n');
    // The cache for cached.pref.jsonl, made outside VS Code (by the user, on the command line).
    execFileSync(process.execPath, [path.join(repo, 'dist/cli.js'), 'embed', 'cached.pref.jsonl', '--model', tiny, '--precision', 'fp32'], { cwd: ws, stdio: 'ignore' });
    workspaceSettings(ws, { 'rpo.embeddings.precision': 'fp32' });
    // rpo.embeddings.model is a restricted setting: in Restricted Mode a workspace cannot choose
    // the model, so the fixture model is a USER setting here (user settings still apply).
    userSettings(ws, { 'rpo.embeddings.model': tiny });
  },
};

export default async function (h) {
  const { assert } = h;
  await h.declineWorkspaceTrust();
  await h.openFile('uncached.pref.jsonl');
  await h.webview().locator('body').waitFor({ timeout: 30_000 });
  await h.runCommand('RPO: Show Contrast Preview');
  const f = await h.frameWith('#heatmap', { what: 'the preview webview' });
  await f.waitForSelector('#status[data-status="untrusted"]', { timeout: 60_000 });
  assert.match(await f.textContent('#status'), /20 of 20 prompts have no embedding in \.rpo\/embeddings\/tiny-bert\.fp32\.safetensors.* trust this workspace/);
  assert.ok(!fs.existsSync(path.join(h.workspace, '.rpo/embeddings/tiny-bert.fp32.safetensors.tmp')));
  const before = fs.statSync(path.join(h.workspace, '.rpo/embeddings/tiny-bert.fp32.safetensors')).mtimeMs;
  await h.screenshot('untrusted-uncached');

  await h.openFile('cached.pref.jsonl');
  await f.waitForSelector('#status[data-status="ready"]', { timeout: 60_000 });
  await f.waitForSelector('#heatmap[data-rows="4"]');
  assert.equal(fs.statSync(path.join(h.workspace, '.rpo/embeddings/tiny-bert.fp32.safetensors')).mtimeMs, before, 'the cache was not rewritten');
  assert.ok(await f.evaluate(() => document.querySelectorAll('#neighbours li').length > 0));
  await h.screenshot('untrusted-cached');
}

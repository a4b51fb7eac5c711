// Window reload during a run: the trainer keeps running (detached, output to files); after the
// reload the extension re-attaches, the status bar shows its progress again and VS Code restores
// the dashboard panel, which follows the run to "Completed" with its whole history.
import fs from 'node:fs';
import path from 'node:path';
import { makeTinyModel, useTestPython } from '../harness/workspace.mjs';

const repo = path.resolve(new URL('../..', import.meta.url).pathname);

export const options = {
  timeoutMs: 300_000,
  setup: async (ws) => {
    const model = makeTinyModel(ws, useTestPython(ws));
    fs.copyFileSync(path.join(repo, 'test', 'fixtures', 'training', 'tiny.pref.jsonl'), path.join(ws, 'tiny.pref.jsonl'));
    const config = JSON.parse(fs.readFileSync(path.join(repo, 'test', 'fixtures', 'training', 'tiny-dpo.rpo.json'), 'utf8'));
    delete config.$schema;
    Object.assign(config, { name: 'reload', model, max_steps: 60 });
    fs.writeFileSync(path.join(ws, 'reload.rpo.json'), JSON.stringify(config, null, 2));
  },
};

export default async function (h) {
  const { page, assert } = h;
  await h.runCommand('RPO: Start Training Run…');
  await h.pickQuickItem('reload.rpo.json', { timeoutMs: 30_000 });
  const points = async () => Number((await h.webview().locator('body').getAttribute('data-points', { timeout: 5000 }).catch(() => '0')) ?? '0');
  await page.locator('iframe.webview.ready >> visible=true').first().waitFor({ timeout: 60_000 });
  await h.waitUntil(async () => (await points()) >= 3, { timeoutMs: 120_000, what: '3 points before the reload' });
  const launch = fs.readdirSync(path.join(h.workspace, '.rpo', 'runs', '.launches'))[0];
  const { pid } = JSON.parse(fs.readFileSync(path.join(h.workspace, '.rpo', 'runs', '.launches', launch, 'launch.json'), 'utf8'));

  await h.runCommand('Developer: Reload Window');
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  // The trainer survived the reload.
  process.kill(pid, 0);
  await page.locator('.statusbar-item', { hasText: /RPO \d+\/60/ }).first().waitFor({ timeout: 60_000 });
  await page.locator('iframe.webview.ready >> visible=true').first().waitFor({ timeout: 60_000 });
  await h.waitUntil(async () => (await points()) > 3, { timeoutMs: 60_000, what: 'the restored dashboard to show points' });
  await h.screenshot('after-reload');
  await h.webview().locator('.badge', { hasText: 'Completed' }).waitFor({ timeout: 180_000 });
  assert.equal(await points(), 60, 'the restored dashboard holds every step, before and after the reload');
  assert.match(h.extensionLog(), /re-attached to the running trainer/);
  await h.screenshot('completed-after-reload');
}

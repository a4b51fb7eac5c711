// Dashboard UI test: a real CPU run of the trainer (tiny model) started from the command palette
// through "RPO: Start Training Run…" with a run config from the workspace; the dashboard webview's
// charts grow while it trains and the final status shows "Completed". Screenshots of both.
import fs from 'node:fs';
import path from 'node:path';
import { makeTinyModel, useTestPython } from '../harness/workspace.mjs';

const repo = path.resolve(new URL('../..', import.meta.url).pathname);

export const options = {
  timeoutMs: 300_000,
  setup: async (ws) => {
    const model = makeTinyModel(ws, useTestPython(ws));
    const dir = path.join(ws, 'training-ui');
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(repo, 'test', 'fixtures', 'training', 'tiny.pref.jsonl'), path.join(dir, 'tiny.pref.jsonl'));
    const config = JSON.parse(fs.readFileSync(path.join(repo, 'test', 'fixtures', 'training', 'tiny-dpo.rpo.json'), 'utf8'));
    delete config.$schema;
    Object.assign(config, { name: 'ui-dpo', model, max_steps: 30, output_dir: '../.rpo/runs' });
    fs.writeFileSync(path.join(dir, 'ui-dpo.rpo.json'), JSON.stringify(config, null, 2));
  },
};

export default async function (h) {
  const { page, assert } = h;
  await h.runCommand('RPO: Start Training Run…');
  await h.pickQuickItem('ui-dpo.rpo.json', { timeoutMs: 30_000 });

  const wv = h.webview();
  await page.locator('iframe.webview.ready >> visible=true').first().waitFor({ timeout: 60_000 });
  const body = wv.locator('body');
  await wv.locator('.u-title', { hasText: 'Loss' }).waitFor({ timeout: 30_000 });
  assert.equal(await wv.locator('.uplot').count(), 8, 'eight charts');

  // Points arrive while it trains: the charts grow.
  const points = async () => Number((await body.getAttribute('data-points')) ?? '0');
  await h.waitUntil(async () => (await points()) >= 3, { timeoutMs: 120_000, what: '3 points on the charts' });
  const early = await points();
  await wv.locator('.badge', { hasText: /Running|Completed/ }).waitFor({ timeout: 30_000 });
  await h.screenshot('dashboard-running');
  await h.waitUntil(async () => (await points()) > early, { timeoutMs: 60_000, what: 'more points' });

  // Final status.
  await wv.locator('.badge', { hasText: 'Completed' }).waitFor({ timeout: 180_000 });
  assert.equal(await points(), 30, 'one point per logged step');
  const step = await wv.locator('dd[data-fact="Step"]').textContent();
  assert.match(step ?? '', /^30 \/ 30/);
  assert.ok(await wv.locator('.checkpoints li', { hasText: 'final model' }).count(), 'final model listed');
  assert.equal(await wv.locator('#stop').isVisible(), false, 'Stop is hidden once the run ended');
  // The legend shows the last loss value (uPlot draws from the series data).
  assert.ok(await wv.locator('canvas').count() >= 8);
  await h.screenshot('dashboard-completed');

  // The runs view lists the run with its status.
  await page.locator('.activitybar [aria-label^="RPO Studio"]').first().click();
  await page.locator('.pane-body .monaco-list-row', { hasText: 'ui-dpo' }).first().waitFor({ timeout: 20_000 });
  await h.screenshot('runs-view');
}

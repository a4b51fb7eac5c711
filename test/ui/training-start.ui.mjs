// "RPO: Start Training Run…" through its quick picks on the open preference file: model (typed
// folder path), method, settings, start. The config is saved under .rpo/configs/, the real trainer
// runs on CPU to completion, and the dashboard overlays another run ("Compare with Run…").
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeTinyModel, useTestPython } from '../harness/workspace.mjs';

const repo = path.resolve(new URL('../..', import.meta.url).pathname);
let model = '';

export const options = {
  timeoutMs: 300_000,
  setup: async (ws) => {
    model = makeTinyModel(ws, useTestPython(ws));
    fs.copyFileSync(path.join(repo, 'test', 'fixtures', 'training', 'tiny.pref.jsonl'), path.join(ws, 'tiny.pref.jsonl'));
    // A finished run to compare with.
    const other = path.join(ws, '.rpo', 'runs', 'recorded-rpo-20260101-000000');
    fs.mkdirSync(other, { recursive: true });
    fs.copyFileSync(path.join(repo, 'test', 'fixtures', 'events', 'rpo-tiny.events.jsonl'), path.join(other, 'events.jsonl'));
    // A launch record left by a trainer that ended while no window followed it (its pid cannot
    // exist, its files are an hour old): activation retires it into its run folder.
    const stale = path.join(ws, '.rpo', 'runs', '.launches', 'stale-launch');
    fs.mkdirSync(stale, { recursive: true });
    fs.writeFileSync(path.join(stale, 'stderr.log'), 'stderr of the stale launch\n');
    fs.writeFileSync(path.join(stale, 'stdout.jsonl'), '');
    fs.writeFileSync(path.join(stale, 'launch.json'), JSON.stringify({ id: 'stale-launch', pid: 4194311, hostname: os.hostname(), startedAt: '2026-01-01T00:00:00.000Z', argv: [], runDir: other }));
    const hourAgo = new Date(Date.now() - 3_600_000);
    for (const f of ['stderr.log', 'stdout.jsonl', 'launch.json', '.']) fs.utimesSync(path.join(stale, f), hourAgo, hourAgo);
  },
};

export default async function (h) {
  const { page, assert } = h;
  const launches = path.join(h.workspace, '.rpo', 'runs', '.launches');
  assert.ok(!fs.existsSync(path.join(launches, 'stale-launch')), 'the stale launch record was not pruned at activation');
  assert.match(fs.readFileSync(path.join(h.workspace, '.rpo', 'runs', 'recorded-rpo-20260101-000000', 'stderr.log'), 'utf8'), /stderr of the stale launch/);
  await h.openWith('tiny.pref.jsonl');
  await h.runCommand('RPO: Start Training Run…');
  await h.pickQuickItem('tiny.pref.jsonl', { timeoutMs: 20_000 });

  // 1/3 model: type the local folder (a typed value becomes the first item).
  const input = page.locator('.quick-input-widget input.input');
  await page.locator('.quick-input-widget', { hasText: 'base model' }).waitFor({ timeout: 10_000 });
  await input.fill(model);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Hub id or path' }).first().waitFor();
  await page.keyboard.press('Enter');

  // 2/3 method: the description says which RPO this is.
  await page.locator('.quick-input-widget', { hasText: 'method' }).waitFor({ timeout: 10_000 });
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Yin et al' }).first().waitFor();
  await h.screenshot('method-pick');
  await h.pickQuickItem('dpo');

  // 3/3 settings: change epochs to 2, then start.
  await page.locator('.quick-input-widget', { hasText: 'settings' }).waitFor({ timeout: 10_000 });
  await h.pickQuickItem('epochs: 1');
  await input.fill('2');
  await page.keyboard.press('Enter');
  await h.pickQuickItem('Start training', { timeoutMs: 10_000 });

  const configs = path.join(h.workspace, '.rpo', 'configs');
  // The extension writes the config atomically (temporary file + rename); still, wait until it
  // parses rather than until its name shows, so the test never reads a file being written.
  const config = await h.waitUntil(() => {
    const file = fs.existsSync(configs) && fs.readdirSync(configs).find((f) => f.endsWith('.rpo.json'));
    if (!file) return undefined;
    try {
      return JSON.parse(fs.readFileSync(path.join(configs, file), 'utf8'));
    } catch {
      return undefined;
    }
  }, { timeoutMs: 10_000, what: 'the saved run config to parse' });
  assert.deepEqual(fs.readdirSync(configs).filter((f) => f.endsWith('.tmp')), [], 'a temporary file was left next to the config');
  assert.equal(config.method, 'dpo');
  assert.equal(config.epochs, 2);
  assert.equal(path.resolve(configs, config.dataset), path.join(h.workspace, 'tiny.pref.jsonl'));

  const wv = h.webview();
  await page.locator('iframe.webview.ready >> visible=true').first().waitFor({ timeout: 60_000 });
  await wv.locator('.badge', { hasText: 'Completed' }).waitFor({ timeout: 240_000 });
  const step = (await wv.locator('dd[data-fact="Step"]').textContent()) ?? '';
  assert.match(step, /^16 \/ 16/, '32 records, batch 4, 2 epochs = 16 steps');
  // The finished run's launch folder is retired: its stderr is in the run folder.
  await h.waitUntil(() => !fs.existsSync(launches) || fs.readdirSync(launches).length === 0, { timeoutMs: 10_000, what: 'the launch folder to be removed after the run ended' });
  const runDir = fs.readdirSync(path.join(h.workspace, '.rpo', 'runs')).find((d) => d.startsWith('dpo-tiny'));
  assert.ok(runDir && fs.existsSync(path.join(h.workspace, '.rpo', 'runs', runDir, 'stderr.log')), `no stderr.log in the run folder ${runDir}`);

  await wv.locator('#compare').click();
  await h.pickQuickItem('recorded-rpo-20260101-000000', { timeoutMs: 15_000 });
  await wv.locator('.u-legend', { hasText: 'recorded-rpo' }).first().waitFor({ timeout: 15_000 });
  assert.ok(await wv.locator('#clear-compare').isVisible(), 'Clear Comparison shows with an overlay');
  await h.screenshot('dashboard-overlay');
}

// The first run as a new user has it, end to end, and how long each step takes: clone this
// repository into a fresh folder, `npm start` there (set-up, build, code-server), then drive
// Chromium like a user would: trust the workspace, RPO: Show Contrast Preview -> pick
// hh-harmless.pref.jsonl -> its weights; RPO: Start Training Run… -> offline-demo.rpo.json -> the
// run completes. Screenshots in test-results/first-run/. Needs what `npm start` needs (the npm
// registry and PyPI for the set-up; no Hugging Face Hub).
// Usage: node scripts/check-first-run.mjs [--dir /tmp/fresh-clone] [--cache DIR]
//   --dir    where to clone (deleted first; default /tmp/rpo-first-run)
//   --cache  the set-up's cache folder (RPO_CACHE_DIR; default: a new empty folder next to the
//            clone, so the venv and the models are made from scratch; give ~/.cache/rpo-studio to
//            reuse what is there)
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, launchBrowser, registerCleanup, repoRoot, resultsDir, waitUntil } from '../test/harness/lib.mjs';

const { values } = parseArgs({ options: { dir: { type: 'string', default: '/tmp/rpo-first-run' }, cache: { type: 'string' } } });
const dir = path.resolve(values.dir);
const cache = path.resolve(values.cache ?? `${dir}-cache`);
const shots = path.join(resultsDir, 'first-run');
fs.rmSync(shots, { recursive: true, force: true });
fs.mkdirSync(shots, { recursive: true });
const t0 = Date.now();
const times = [];
const mark = (what) => { const s = (Date.now() - t0) / 1000; times.push([what, s]); console.log(`[${s.toFixed(1)} s] ${what}`); };

fs.rmSync(dir, { recursive: true, force: true });
execFileSync('git', ['clone', '--quiet', repoRoot, dir], { stdio: 'inherit' });
mark(`cloned ${repoRoot} (HEAD ${execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}) into ${dir}`);

const port = await freePort();
const logFile = path.join(dir, '..', `${path.basename(dir)}-npm-start.log`);
const log = fs.openSync(logFile, 'w');
const child = spawn('npm', ['start'], {
  cwd: dir, detached: true, stdio: ['ignore', log, log],
  env: { ...process.env, RPO_USE_CODE_SERVER: '1', RPO_PORT: String(port), RPO_CACHE_DIR: cache },
});
registerCleanup(() => { try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ } });
console.log(`npm start (log: ${logFile}, cache: ${cache})`);
const url = await waitUntil(() => {
  if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}; see ${logFile}`);
  return /^\s+(http:\/\/\S+\?folder=\S+)$/m.exec(fs.readFileSync(logFile, 'utf8'))?.[1];
}, { timeoutMs: 45 * 60_000, intervalMs: 1000, what: `npm start to print the URL (${logFile})` });
mark('npm start printed the URL');
console.log(fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => /^(setup:|Settings written| {2}rpo\.|Copied)/.test(l)).join('\n'));

const ctx = await launchBrowser(path.join(dir, '..', `${path.basename(dir)}-browser`));
const page = ctx.pages()[0] ?? (await ctx.newPage());
await page.goto(url);
await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
// npm start keeps workspace trust on: trust the sample as a user would.
const trust = page.getByRole('button', { name: /Yes, I trust the authors/ });
await trust.waitFor({ timeout: 60_000 }).then(() => trust.click()).catch(() => console.log('(no trust prompt)'));
await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'hh-harmless.pref.jsonl' }).waitFor({ timeout: 120_000 });
mark('workbench open, workspace trusted');
await page.screenshot({ path: path.join(shots, '1-opened.png') });

const input = page.locator('.quick-input-widget input.input');
async function palette(command) {
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ timeout: 5000 });
      await input.fill(`>${command}`);
      const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: command }).first();
      await row.waitFor({ timeout: 10_000 });
      await row.click();
      return;
    } catch (e) {
      if (attempt > 5) throw e;
      await page.keyboard.press('Escape');
    }
  }
}
async function pick(label) {
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ timeout: 30_000 });
  await row.click();
}
async function frameWith(selector, timeoutMs = 120_000) {
  return waitUntil(async () => {
    for (const f of page.frames()) if (await f.$(selector).catch(() => null)) return f;
    return undefined;
  }, { timeoutMs, what: `a webview with ${selector}` });
}

const tPreview = Date.now();
await palette('RPO: Show Contrast Preview');
await pick('hh-harmless.pref.jsonl');
const preview = await frameWith('#heatmap');
await preview.waitForSelector('#status[data-status="ready"]', { timeout: 300_000 });
await preview.waitForSelector('#heatmap[data-rows="4"]');
mark(`preview shows the weights of hh-harmless.pref.jsonl (${((Date.now() - tPreview) / 1000).toFixed(1)} s after the command, embedding 60 prompts with the local MiniLM)`);
await page.screenshot({ path: path.join(shots, '2-preview-hh-harmless.png') });

const tRun = Date.now();
await palette('RPO: Start Training Run…');
await pick('offline-demo.rpo.json');
const dashboard = await frameWith('#compare');
await dashboard.locator('.badge', { hasText: /Starting|Running|Completed/ }).first().waitFor({ timeout: 120_000 });
await page.screenshot({ path: path.join(shots, '3-run-started.png') });
await dashboard.locator('.badge', { hasText: /Completed|Failed|Stopped/ }).first().waitFor({ timeout: 30 * 60_000 });
const badge = (await dashboard.locator('.badge').first().textContent())?.trim();
const step = (await dashboard.locator('dd[data-fact="Step"]').textContent())?.trim();
const elapsed = (await dashboard.locator('dd[data-fact="Elapsed"]').textContent().catch(() => ''))?.trim();
mark(`offline-demo run ${badge}: step ${step}, dashboard elapsed ${elapsed} (${((Date.now() - tRun) / 1000).toFixed(1)} s after the command)`);
await page.screenshot({ path: path.join(shots, '4-run-completed.png') });
await page.locator('.activitybar [aria-label^="RPO Studio"]').first().click();
await page.locator('.pane-body .monaco-list-row', { hasText: 'offline-demo' }).first().waitFor({ timeout: 20_000 });
await page.screenshot({ path: path.join(shots, '5-runs-view.png') });

await ctx.close();
console.log(`\nscreenshots: ${path.relative(repoRoot, shots)}/`);
for (const [what, s] of times) console.log(`${s.toFixed(1).padStart(7)} s  ${what}`);
process.exit(badge === 'Completed' ? 0 : 1);

/* global document, window, performance, requestAnimationFrame, MutationObserver */
// Labeling editor end to end, in the real product: code-server (VS Code 1.100) + Chromium, the
// extension as built from the working tree, a .pref.jsonl of HH repeated to N records in the
// workspace. Prints figures against the issue's targets; asserts nothing.
//   node --import tsx bench/labeling-editor-ui.mjs [--records 100000] [--labels 60] [--think-ms 0]
// - first screen: Quick Open's Enter on the file -> the first list rows visible in the webview
//   (also the host's own "opened ... in X ms" from our log; files over 64 MB show their first
//   lines while the whole file is read);
// - counts: -> the progress bar no longer says "scanning";
// - label latency, what the issue means: the key "1" pressed in the webview (keydown, capture)
//   -> VS Code keybinding -> rpo.label.chooseLeft -> edit applied -> host messages -> the view
//   re-rendered the detail of the next record and painted a frame (rAF + task), timed inside the
//   webview's frame with performance.now(); N labels in a row, p50 / p95 / max;
// - save after the labels (the host's "saved ... in X ms");
// - extension host RSS before opening and after the scan (our log), as a ratio to the file size.
// Baselines: the issue's targets; bench/labeling-editor.ts gives the host-only figures.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { importHhFile } from '../src/core/dataset/hh.ts';
import { runUiModule } from '../test/harness/ui.mjs';
import { workspaceSettings } from '../test/harness/workspace.mjs';

const { values } = parseArgs({ options: { records: { type: 'string', default: '100000' }, labels: { type: 'string', default: '60' }, 'think-ms': { type: 'string', default: '0' } }, strict: false });
const N = Number(values.records);
const LABELS = Number(values.labels);
/** Pause between one label's paint and the next key (0: back to back; a person reads the record first). */
const THINK_MS = Number(values['think-ms']);
const FILE = `bench-${N}.pref.jsonl`;
const hh = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'datasets', 'hh-rlhf-harmless-test', 'test.jsonl');
const targets = N >= 1_000_000 ? { first: 2000, counts: 20_000 } : { first: 1000, counts: 3000 };

export const options = {
  timeoutMs: 540_000,
  setup: async (ws) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-bench-ui-'));
    const converted = path.join(tmp, 'hh.pref.jsonl');
    await importHhFile(hh, converted);
    const lines = fs.readFileSync(converted, 'utf8').split('\n').filter(Boolean);
    const fd = fs.openSync(path.join(ws, FILE), 'w');
    let buf = [];
    for (let i = 0; i < N; i++) {
      buf.push(lines[i % lines.length]);
      if (buf.length === 10_000) { fs.writeSync(fd, buf.join('\n') + '\n'); buf = []; }
    }
    if (buf.length) fs.writeSync(fd, buf.join('\n') + '\n');
    fs.closeSync(fd);
    fs.rmSync(tmp, { recursive: true, force: true });
    workspaceSettings(ws, { 'files.autoSave': 'off' });
  },
};

/**
 * When the webview first painted a list row, to the frame: Playwright's locator.waitFor polls at
 * up to 500 ms intervals, too coarse for a first screen. Every frame that appears gets a
 * requestAnimationFrame watcher; the first that sees a row stamps Date.now() after that frame's
 * paint (rAF + task), on the same wall clock as the bench's t0. Nothing is added to the product.
 * A watcher installed after the rows came stamps its own start (late, never early).
 */
function watchFirstRows(page) {
  let found;
  const install = (frame) => {
    if (frame === page.mainFrame()) return;
    // Through a locator: frame.evaluate never answers in the webview's content frame (its
    // document is written in place, not navigated); a locator's evaluate does.
    frame.locator('html').evaluate(() => new Promise((resolve) => {
      const w = window;
      if (w.__rpoFirstRows) return void w.__rpoFirstRows.then(resolve);
      w.__rpoFirstRows = new Promise((done) => {
        const check = () => {
          if (w.__rpoStopWatch) return;
          if (document.querySelector('.row:not(.loading)')) setTimeout(() => done(Date.now()), 0);
          else requestAnimationFrame(check);
        };
        check();
      });
      w.__rpoFirstRows.then(resolve);
    })).then((at) => { found ??= at; }, (e) => { if (process.env.RPO_BENCH_DEBUG) console.log(`watch ${frame.url().slice(0, 80)}: ${String(e).slice(0, 200)}`); });
  };
  const onFrame = (frame) => install(frame);
  page.on('frameattached', onFrame);
  page.on('framenavigated', onFrame);
  for (const f of page.frames()) install(f);
  return {
    async result(graceMs) {
      const until = Date.now() + graceMs;
      while (found === undefined && Date.now() < until) {
        for (const f of page.frames()) install(f);
        await new Promise((r) => setTimeout(r, 50));
      }
      page.off('frameattached', onFrame);
      page.off('framenavigated', onFrame);
      // Stop the watchers of frames that never show a row: a requestAnimationFrame loop left
      // running makes every frame render and slowed the label timings after it (p50 +10 ms).
      await Promise.all(page.frames().filter((f) => f !== page.mainFrame()).map((f) =>
        f.locator('html').evaluate(() => { window.__rpoStopWatch = true; }, undefined, { timeout: 2000 }).catch(() => undefined)));
      return found;
    },
  };
}

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

export default async function bench(h) {
  const { page } = h;
  const size = fs.statSync(path.join(h.workspace, FILE)).size;
  const mb = (n) => (n / 1024 / 1024).toFixed(0);
  const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`\n${N.toLocaleString()} records, ${mb(size)} MB; load before opening: ${load()}`);

  // Quick Open by hand so the clock starts at Enter.
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible' });
  await input.fill(FILE);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: FILE }).first().waitFor();
  const watch = watchFirstRows(page);
  const t0 = Date.now();
  await page.keyboard.press('Enter');
  const wv = h.webview();
  await wv.locator('.row:not(.loading)').first().waitFor({ timeout: 120_000 });
  const seenMs = Date.now() - t0;
  const paintedAt = await watch.result(2000);
  // Both are never earlier than the paint: the watcher's is to the frame unless it was installed
  // after the rows came (then the locator's may be earlier); the locator polls at up to 500 ms.
  const firstScreen = paintedAt !== undefined ? Math.min(paintedAt - t0, seenMs) : seenMs;
  // At once: a later step that fails (a label timing out under load) does not lose it.
  console.log(`  first screen: ${firstScreen} ms (${paintedAt !== undefined ? 'in-page watcher' : 'locator'}; the locator saw it at ${seenMs} ms)`);
  const progress = wv.locator('#progress-text');
  await progress.filter({ hasText: /labeled/ }).filter({ hasNotText: /scanning|reading/ }).waitFor({ timeout: 300_000 });
  const countsMs = Date.now() - t0;
  const log = await h.waitUntil(() => { const t = h.extensionLog(); return /\] scanned /.test(t) && t; }, { timeoutMs: 30_000, what: 'the scan log line' });
  const opened = /opened [^\n]*?: (\d+) lines in (\d+) ms[^\n]*?RSS (\d+) MB -> (\d+) MB/.exec(log);
  const head = /opened [^\n]*?: its first (\d+) lines \(([\d.]+) MB of (\d+) MB\) in (\d+) ms/.exec(log);
  const scanned = /scanned .*? in (\d+) ms from open \(worker (\d+) ms\); extension host RSS (\d+) MB \((\d+) MB before opening\)/.exec(log);

  // Label latency inside the webview frame.
  await wv.locator('#detail-header').evaluate((header) => {
    const w = window;
    w.__lat = [];
    w.__arrive = [];
    w.__js = [];
    let t = null;
    let key = null;
    document.addEventListener('keydown', (e) => { if (e.key === '1') t = key = performance.now(); }, true);
    // When the host's 'selected' message reached the view: the event's timeStamp (its creation,
    // before any listener rendered it) splits transport (keybinding, command, host, messages)
    // from the view's rendering.
    window.addEventListener('message', (e) => {
      if (key !== null && e.data?.type === 'selected') { w.__arrive.push(e.timeStamp - key); key = null; }
    }, true);
    new MutationObserver(() => {
      if (t === null) return;
      const start = t;
      t = null;
      w.__js.push(performance.now() - start); // the view's message handler has run (its JS)
      requestAnimationFrame(() => setTimeout(() => {
        w.__lat.push(performance.now() - start);
        w.__prefetched = (w.__prefetched ?? 0) + (document.getElementById('detail')?.dataset.render === 'prefetched' ? 1 : 0);
      }, 0));
    }).observe(header, { childList: true, characterData: true, subtree: true });
  });
  await wv.locator('#list').click({ position: { x: 5, y: 5 } });
  const lat = [];
  for (let k = 0; k < LABELS; k++) {
    const before = lat.length;
    await page.keyboard.press('1');
    const got = await h.waitUntil(async () => {
      const xs = await wv.locator('#detail-header').evaluate(() => window.__lat);
      return xs.length > before && xs;
    }, { timeoutMs: 20_000, intervalMs: 5, what: `label ${k + 1} to reach the view` });
    lat.splice(0, lat.length, ...got);
    if (THINK_MS > 0) await new Promise((r) => setTimeout(r, THINK_MS));
  }
  await progress.filter({ hasText: new RegExp(`^${LABELS} / `) }).waitFor({ timeout: 20_000 });
  const arrive = (await wv.locator('#detail-header').evaluate(() => window.__arrive)).slice(5);
  const js = (await wv.locator('#detail-header').evaluate(() => window.__js)).slice(5);
  const prefetched = await wv.locator('#detail-header').evaluate(() => window.__prefetched ?? 0);
  const firstRows = /first rows painted (\d+) ms after the view was ready, (\d+) ms after the editor was created/.exec(h.extensionLog());

  await page.keyboard.press('Control+S');
  const saved = await h.waitUntil(() => /saved .*? in (\d+) ms/.exec(h.extensionLog()), { timeoutMs: 120_000, what: 'the save log line' });

  const steady = lat.slice(5); // the first labels warm up the JIT and the view
  console.log(`  first screen (Enter in Quick Open -> first rows painted): ${firstScreen} ms   target <= ${targets.first} ms   ratio ${(firstScreen / targets.first).toFixed(2)}   (${paintedAt !== undefined ? `painted frame seen inside the webview; the locator saw it at ${seenMs} ms` : `the in-page watcher missed it: the locator's ${seenMs} ms`}; host: ${head ? `first ${head[1]} lines read in ${head[4]} ms, whole file read in ${opened?.[2]} ms` : `document open ${opened?.[2]} ms`}; webview created -> first rows painted ${firstRows?.[2]} ms, of which ready -> painted ${firstRows?.[1]} ms)`);
  console.log(`  counts + filters ready (-> progress without "reading"/"scanning"): ${countsMs} ms   target <= ${targets.counts} ms   ratio ${(countsMs / targets.counts).toFixed(2)}   (host: ${scanned?.[1]} ms from open, worker ${scanned?.[2]} ms)`);
  console.log(`  label keypress -> edit applied -> view painted (${steady.length} labels after 5 warm-up, ${THINK_MS ? `${THINK_MS} ms between a paint and the next key` : 'back to back'}): p50 ${pct(steady, 0.5).toFixed(1)} ms, p95 ${pct(steady, 0.95).toFixed(1)} ms, max ${Math.max(...steady).toFixed(1)} ms   target p95 <= 50 ms   ratio ${(pct(steady, 0.95) / 50).toFixed(2)}`);
  console.log(`    of which keydown -> the host's 'selected' message in the view: p50 ${pct(arrive, 0.5).toFixed(1)} ms, p95 ${pct(arrive, 0.95).toFixed(1)} ms ; -> the view's handler done (JS render): p50 ${pct(js, 0.5).toFixed(1)} ms; the rest is layout, paint and the next frame; ${prefetched} of ${LABELS} records shown from the view's prefetch`);
  console.log(`  save after ${LABELS} labels: ${saved[1]} ms`);
  if (scanned) {
    const growth = (Number(scanned[3]) - Number(scanned[4])) * 1024 * 1024;
    console.log(`  extension host RSS: ${scanned[4]} MB before opening, ${scanned[3]} MB after the scan: growth ${(growth / size).toFixed(2)} x file size, total ${(Number(scanned[3]) * 1024 * 1024 / size).toFixed(2)} x   target <= 2x`);
  }
  console.log(`  load after: ${load()}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  // Not awaited at the top level: the harness imports this module again for its default export.
  runUiModule(fileURLToPath(import.meta.url), `bench-labeling-${N}`).catch((e) => {
    console.error(e?.stack ?? e);
    process.exitCode = 1;
  });
}

/* global document, window, MessageEvent, MouseEvent, KeyboardEvent, requestAnimationFrame, performance */
// Benchmark: the dashboard's data map in the real webview bundle (dist/webview/dashboard.js) in
// Chromium (playwright-core, Debian's /usr/bin/chromium), with N synthetic training pairs
// (default 1,000,000: a mix of an easy cluster, a hard cluster and an ambiguous band, seeded).
// - first draw: from the `dataMap` message (float32 columns as ArrayBuffers, as the host sends
//   them) to the canvas drawn, measured in the page (message -> next frame after the draw);
//   target <= 1000 ms;
// - hover: one mousemove over the map (hit test + tooltip), the handler's own time and the time
//   to the next frame; target <= 16 ms; positions spread over the map, dense and empty parts;
// - a zoomed-in view (points drawn one by one) and a keyboard cursor move;
// - the page's JS heap and array-buffer memory after the map is shown (CDP Runtime.getHeapUsage).
// Baseline: the same with 10,000 points (the map draws them one by one): ratios printed.
// Usage: npm run build && node bench/data-map.mjs [points=1000000] [hovers=60]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const N = Number(process.argv[2] ?? 1_000_000);
const HOVERS = Number(process.argv[3] ?? 60);
const bundle = path.join(root, 'dist', 'webview', 'dashboard.js');
if (!fs.existsSync(bundle)) {
  console.error('dist/webview/dashboard.js is missing: run `npm run build` first');
  process.exit(2);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-bench-map-'));
fs.writeFileSync(path.join(tmp, 'index.html'), `<!DOCTYPE html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="file://${path.join(root, 'dist', 'webview', 'dashboard.css')}">
<style>body{--vscode-foreground:#ccc;--vscode-charts-blue:#3794ff;--vscode-charts-red:#f14c4c;--vscode-charts-green:#89d185;--vscode-charts-yellow:#cca700;--vscode-charts-orange:#d18616;--vscode-charts-purple:#b180d7;--vscode-editorWidget-border:#454545;background:#1e1e1e;width:1200px}</style>
<script>window.acquireVsCodeApi = () => ({ postMessage(m) { (window.__posted ??= []).push(m); }, setState() {} });</script>
</head><body><script src="file://${bundle}"></script></body></html>`);

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--allow-file-access-from-files'] });
const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
try {
  async function run(n) {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    await page.goto(`file://${path.join(tmp, 'index.html')}`);
    await page.waitForFunction(() => document.querySelectorAll('.uplot').length === 8);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const before = await cdp.send('Runtime.getHeapUsage');
    // Build the columns in the page (as the host's ArrayBuffers arrive) and time message -> drawn frame.
    const firstDraw = await page.evaluate(async (count) => {
      let s = 12345;
      const rnd = () => {
        s = (s + 0x6d2b79f5) >>> 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      const v = new Float32Array(count);
      const c = new Float32Array(count);
      const k = new Float32Array(count);
      const a = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        const u = rnd();
        if (u < 0.6) { c[i] = 0.7 + 0.3 * rnd(); v[i] = 0.02 + 0.15 * rnd() * rnd(); k[i] = 0.8 + 0.2 * rnd(); }
        else if (u < 0.85) { c[i] = 0.3 + 0.45 * rnd(); v[i] = 0.2 + 0.25 * rnd(); k[i] = rnd(); }
        else { c[i] = 0.3 * rnd(); v[i] = 0.02 + 0.15 * rnd(); k[i] = 0.2 * rnd(); }
        a[i] = (c[i] - 0.5) * 6;
      }
      const stats = window.__rpoDataMapStats;
      const message = { type: 'dataMap', note: null, map: { count, variability: v.buffer, confidence: c.buffer, correctness: k.buffer, aum: a.buffer, step: 100, complete: true, unvisited: 0 } };
      const t0 = performance.now();
      window.dispatchEvent(new MessageEvent('message', { data: message }));
      while (stats.draws === 0) await new Promise((r) => requestAnimationFrame(r));
      await new Promise((r) => requestAnimationFrame(r));
      return { total: performance.now() - t0, draw: stats.lastDrawMs, mode: stats.mode };
    }, n);
    await cdp.send('HeapProfiler.collectGarbage');
    const after = await cdp.send('Runtime.getHeapUsage');
    const box = await page.locator('.data-map-canvas').boundingBox();
    if (!box) throw new Error('no data map canvas');
    await page.locator('.data-map-canvas').scrollIntoViewIfNeeded();
    const box2 = await page.locator('.data-map-canvas').boundingBox();
    await page.locator('.data-map-canvas').screenshot({ path: path.join(tmp, `map-${n}.png`) });
    // Hover: mousemove events over the map (hit test + tooltip): the handler's time, and the time
    // from the event to the next frame (style, layout and paint of the tooltip included).
    const hovers = await page.evaluate(async (count) => {
      const canvas = document.querySelector('.data-map-canvas');
      const r = canvas.getBoundingClientRect();
      const handler = [];
      const toFrame = [];
      for (let i = 0; i < count; i++) {
        const clientX = r.left + 5 + (((i * 37) % 100) / 100) * (r.width - 10);
        const clientY = r.top + 5 + (((i * 61) % 100) / 100) * (r.height - 10);
        const t0 = performance.now();
        canvas.dispatchEvent(new MouseEvent('mousemove', { clientX, clientY, bubbles: true }));
        handler.push(window.__rpoDataMapStats.lastHoverMs);
        await new Promise((res) => requestAnimationFrame(res));
        toFrame.push(performance.now() - t0);
      }
      return { handler, toFrame };
    }, HOVERS);
    const { handler, toFrame } = hovers;
    // A real mouse move (Playwright input) onto a dense part, for the tooltip screenshot.
    await page.mouse.move(box2.x + box2.width * 0.3, box2.y + box2.height * 0.2);
    await page.waitForTimeout(100);
    await page.locator('.data-map-plot').screenshot({ path: path.join(tmp, `map-${n}-hover.png`) });
    // Keyboard: focus, arrows (each a nearest-target search over the bins or points).
    const keys = await page.evaluate(async () => {
      const canvas = document.querySelector('.data-map-canvas');
      canvas.focus();
      const times = [];
      for (const key of ['ArrowRight', 'ArrowUp', 'ArrowLeft', 'ArrowDown', 'ArrowRight', 'ArrowRight']) {
        const t0 = performance.now();
        canvas.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
        times.push(performance.now() - t0);
      }
      return times;
    });
    // Zoom in on a corner by wheel until points are drawn one by one; time that redraw.
    const zoom = [];
    let mode = firstDraw.mode;
    for (let i = 0; i < 40 && mode === 'bins'; i++) {
      await page.mouse.move(box2.x + box2.width * 0.2, box2.y + box2.height * 0.3);
      await page.mouse.wheel(0, -100);
      const s = await page.evaluate(async () => {
        await new Promise((r) => requestAnimationFrame(r));
        return { ms: window.__rpoDataMapStats.lastDrawMs, mode: window.__rpoDataMapStats.mode };
      });
      zoom.push(s.ms);
      mode = s.mode;
    }
    const summary = await page.locator('#data-map-summary').textContent();
    await page.locator('.data-map-canvas').screenshot({ path: path.join(tmp, `map-${n}-zoomed.png`) });
    await page.close();
    const med = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
    const max = (xs) => Math.max(...xs);
    const mb = (b) => (b / 2 ** 20).toFixed(1);
    return { n, firstDraw, handlerMed: med(handler), handlerMax: max(handler), frameMed: med(toFrame), frameMax: max(toFrame), keyMax: max(keys), zoomSteps: zoom.length, zoomMax: zoom.length ? max(zoom) : 0, zoomMode: mode, summary, heap: `${mb(after.usedSize)} MB JS heap (was ${mb(before.usedSize)}), array buffers ${after.backingStorageSize !== undefined ? `${mb(after.backingStorageSize)} MB` : 'n/a'}` };
  }

  console.log(`data-map: ${N.toLocaleString('en-US')} synthetic pairs vs a 10,000-pair baseline, ${HOVERS} hovers each, Chromium ${browser.version()}, load average ${load}`);
  const results = [await run(10_000), await run(N)];
  for (const r of results) {
    console.log(`  ${r.n.toLocaleString('en-US').padStart(9)} pairs: first draw ${r.firstDraw.total.toFixed(1)} ms (draw ${r.firstDraw.draw.toFixed(1)} ms, ${r.firstDraw.mode}); hover handler median ${r.handlerMed.toFixed(3)} ms, max ${r.handlerMax.toFixed(3)} ms; event -> next frame median ${r.frameMed.toFixed(1)} ms, max ${r.frameMax.toFixed(1)} ms; arrow key max ${r.keyMax.toFixed(2)} ms; ${r.zoomSteps} wheel zooms (max redraw ${r.zoomMax.toFixed(1)} ms) -> ${r.zoomMode}`);
    console.log(`             memory: ${r.heap}`);
    console.log(`             summary: ${r.summary}`);
  }
  const [base, big] = results;
  console.log(`  ratio to baseline: first draw ${(big.firstDraw.total / base.firstDraw.total).toFixed(2)}x, hover handler ${(big.handlerMed / Math.max(base.handlerMed, 1e-3)).toFixed(2)}x`);
  console.log(`  targets: first draw <= 1000 ms ${big.firstDraw.total <= 1000 ? 'met' : 'NOT met'}; hover <= 16 ms (handler max ${big.handlerMax <= 16 ? 'met' : 'NOT met'})`);
  console.log(`  screenshots: ${tmp}/map-*.png`);
} finally {
  await browser.close();
}

/* global document, window, MessageEvent, requestAnimationFrame */
// Benchmark: the cost of one dashboard update in the real webview bundle (dist/webview/dashboard.js)
// in Chromium (playwright-core, Debian's /usr/bin/chromium): the charts hold P points per series
// (default 10,000) and a `delta` message with one new step arrives; we time applying it and redrawing
// all 8 uPlot charts (the view's own measurement, taken after uPlot's draw microtask).
// Target: <= 16 ms (one frame at 60 Hz). Baseline: the same update with 100 points per series.
// Also: with a 10,000-point overlay run (RPO vs DPO), and the initial reset of P points.
// Usage: npm run build && node bench/training-dashboard.mjs [points=10000] [updates=40]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const P = Number(process.argv[2] ?? 10_000);
const UPDATES = Number(process.argv[3] ?? 40);
const bundle = path.join(root, 'dist', 'webview', 'dashboard.js');
if (!fs.existsSync(bundle)) {
  console.error('dist/webview/dashboard.js is missing: run `npm run build` first');
  process.exit(2);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-bench-dash-'));
// The webview gets VS Code's theme variables; a few are enough for the charts.
fs.writeFileSync(path.join(tmp, 'index.html'), `<!DOCTYPE html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="file://${path.join(root, 'dist', 'webview', 'dashboard.css')}">
<style>body{--vscode-foreground:#ccc;--vscode-charts-blue:#3794ff;--vscode-charts-red:#f14c4c;--vscode-charts-green:#89d185;--vscode-charts-yellow:#cca700;--vscode-charts-orange:#d18616;--vscode-charts-purple:#b180d7;background:#1e1e1e;width:1400px}</style>
<script>window.acquireVsCodeApi = () => ({ postMessage() {}, setState() {} });</script>
</head><body><script src="file://${bundle}"></script></body></html>`);

const STEP_KEYS = ['loss', 'rewards/chosen', 'rewards/rejected', 'rewards/margins', 'rewards/accuracies', 'learning_rate', 'grad_norm', 'tokens_per_second', 'samples_per_second', 'contrast/effective_beta', 'memory_gib'];
const EVAL_KEYS = ['loss', 'rewards/margins', 'rewards/accuracies'];
function series(from, to, seed = 0) {
  const x = [];
  const y = Object.fromEntries(STEP_KEYS.map((k) => [k, []]));
  for (let i = from; i < to; i++) {
    x.push(i + 1);
    for (const [j, k] of STEP_KEYS.entries()) y[k].push(Math.sin(i / 50 + j + seed) + Math.exp(-i / 3000) + ((i * 7919) % 13) / 100);
  }
  const evals = { x: [], y: Object.fromEntries(EVAL_KEYS.map((k) => [k, []])) };
  for (let i = from; i < to; i++) if ((i + 1) % 500 === 0) { evals.x.push(i + 1); for (const k of EVAL_KEYS) evals.y[k].push(Math.exp(-i / 3000)); }
  return { steps: { x, y }, evals };
}
function summary(step) {
  return { name: 'bench', status: 'running', runDir: '/r', method: 'rpo', model: 'm', dataset: 'd', trainRecords: 1, devices: 'H100', precision: 'bf16', lora: true, step, totalSteps: 2 * P, epoch: 0.5, elapsedSeconds: step, etaSeconds: 100, tokensPerSecond: 1e4, samplesPerSecond: 10, memoryAllocatedBytes: 8e9, memoryPeakBytes: 9e9, loss: 0.5, accuracy: 0.7, margin: 1, effectiveBeta: 0.04, checkpoints: [], finalModel: null, error: null, failure: null, canStop: true, canResume: false, malformedLines: 0 };
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--allow-file-access-from-files'] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`file://${path.join(tmp, 'index.html')}`);
  await page.waitForFunction(() => document.querySelectorAll('.uplot').length === 8);

  /** Posts messages and resolves with the view's frame time once it has been applied and drawn. */
  const post = (messages) => page.evaluate(async (msgs) => {
    const stats = window.__rpoDashboardStats;
    const before = stats.frames;
    for (const m of msgs) window.dispatchEvent(new MessageEvent('message', { data: m }));
    while (stats.frames === before) await new Promise((r) => requestAnimationFrame(r));
    await new Promise((r) => setTimeout(r, 0));
    return stats.lastFrameMs;
  }, messages);

  async function measure(points, label, overlayPoints = 0) {
    const resetMs = await post([{ type: 'reset', summary: summary(points), series: series(0, points) }]);
    if (overlayPoints) await post([{ type: 'overlay', overlay: { name: 'dpo-run', method: 'dpo', series: series(0, overlayPoints, 1) } }]);
    else await post([{ type: 'overlay', overlay: null }]);
    const times = [];
    for (let i = 0; i < UPDATES; i++) {
      const n = points + i;
      times.push(await post([{ type: 'delta', summary: summary(n + 1), series: series(n, n + 1) }]));
    }
    times.sort((a, b) => a - b);
    const med = times[Math.floor(times.length / 2)];
    const p95 = times[Math.min(times.length - 1, Math.floor(times.length * 0.95))];
    console.log(`  ${label.padEnd(44)} update median ${med.toFixed(2).padStart(6)} ms, p95 ${p95.toFixed(2).padStart(6)} ms, max ${times.at(-1).toFixed(2).padStart(6)} ms (reset ${resetMs.toFixed(1)} ms)`);
    return med;
  }

  console.log(`training-dashboard: one delta (1 new step) redrawing 8 uPlot charts, ${UPDATES} updates each, Chromium ${browser.version()}`);
  const base = await measure(100, 'baseline: 100 points per series');
  const main = await measure(P, `${P.toLocaleString('en-US')} points per series`);
  const withOverlay = await measure(P, `${P.toLocaleString('en-US')} points + ${P.toLocaleString('en-US')}-point overlay run`, P);
  console.log(`  ratio to baseline: ${(main / base).toFixed(1)}x (overlay ${(withOverlay / base).toFixed(1)}x); target <= 16 ms: ${main <= 16 ? 'met' : 'NOT met'} (overlay: ${withOverlay <= 16 ? 'met' : 'NOT met'})`);
} finally {
  await browser.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}

/* global structuredClone, performance */
// Benchmark: event ingestion in the extension host (the path every trainer stdout line takes):
// parse (guarded JSON.parse) + validate against events.schema.json (ajv) + reduce into the run
// state, plus the dashboard delta the host sends every 100 ms. Target: >= 10,000 events/s.
// Baseline: JSON.parse alone over the same lines (the floor any parser pays).
// Usage: node bench/training-ingest.mjs [events=50000]
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const N = Number(process.argv[2] ?? 50_000);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-bench-ingest-'));
const entry = path.join(tmp, 'entry.ts');
fs.writeFileSync(entry, `
export { parseEventLine } from ${JSON.stringify(path.join(root, 'src/core/run/events'))};
export { applyEvent, initialRunState } from ${JSON.stringify(path.join(root, 'src/core/run/state'))};
export { DashboardFeed } from ${JSON.stringify(path.join(root, 'src/core/run/dashboardFeed'))};
`);
await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', outfile: path.join(tmp, 'bundle.cjs'), logLevel: 'error' });
const { parseEventLine, applyEvent, initialRunState, DashboardFeed } = createRequire(import.meta.url)(path.join(tmp, 'bundle.cjs'));

// Lines shaped like the real trainer's (a recorded step event as the template when available).
const fixtureDir = path.join(root, 'test', 'fixtures', 'events');
let template;
for (const f of fs.existsSync(fixtureDir) ? fs.readdirSync(fixtureDir) : []) {
  const line = fs.readFileSync(path.join(fixtureDir, f), 'utf8').split('\n').find((l) => l.includes('"type": "step"') || l.includes('"type":"step"'));
  if (line) { template = JSON.parse(line); break; }
}
template ??= {
  schema: 1, type: 'step', time: '2026-01-01T00:00:00.000Z', step: 1, total_steps: N, epoch: 0.01,
  metrics: { loss: 0.69, 'rewards/chosen': 0.01, 'rewards/rejected': -0.01, 'rewards/margins': 0.02, 'rewards/accuracies': 0.5, 'logps/chosen': -50.1, 'logps/rejected': -55.2, 'contrast/diagonal_weight': 0.41, 'contrast/effective_beta': 0.041 },
  learning_rate: 5e-6, grad_norm: 1.2, tokens_per_second: 12000, samples_per_second: 16, elapsed_seconds: 1, eta_seconds: 100,
  memory: { allocated_bytes: 8e9, reserved_bytes: 9e9, peak_bytes: 9.5e9 },
};
const start = { schema: 1, type: 'start', time: '2026-01-01T00:00:00.000Z', run_dir: '/r', config: { method: 'rpo' }, model: { name_or_path: 'm', parameters: 1, trainable_parameters: 1, lora: true }, dataset: { path: 'd', sha256: 'a'.repeat(64), lines: 1, usable: 1, train: 1, eval: 0, left_out: {} }, devices: [], num_processes: 1, total_steps: N, step: 0, epoch: 0, resumed: null };
const lines = [JSON.stringify(start)];
for (let i = 1; i <= N; i++) {
  const e = structuredClone(template);
  e.step = i; e.total_steps = N; e.epoch = i / 1000; e.elapsed_seconds = i * 0.5; e.metrics.loss = 0.69 * Math.exp(-i / 5000) + (i % 7) * 1e-3;
  e.time = new Date(Date.parse('2026-01-01T00:00:00Z') + i * 500).toISOString();
  lines.push(JSON.stringify(e));
}

function timeIt(fn, reps = 3) {
  const times = [];
  for (let r = 0; r < reps; r++) { const t0 = performance.now(); fn(); times.push(performance.now() - t0); }
  times.sort((a, b) => a - b);
  return times[Math.floor(reps / 2)];
}

const baseMs = timeIt(() => { for (const l of lines) JSON.parse(l); });
let malformed = 0;
const fullMs = timeIt(() => {
  const state = initialRunState();
  const feed = new DashboardFeed(state);
  for (let i = 0; i < lines.length; i++) {
    const p = parseEventLine(lines[i]);
    if (p.kind === 'event') applyEvent(state, p.event); else malformed++;
    // The host flushes a delta every 100 ms; at 10k events/s that is one per 1,000 events.
    if (i % 1000 === 0) feed.next({ name: 'bench', live: true });
  }
});
const eps = (lines.length / fullMs) * 1000;
console.log(`training-ingest: ${lines.length} step events (${(lines.reduce((s, l) => s + l.length + 1, 0) / 2 ** 20).toFixed(1)} MiB), node ${process.version}`);
console.log(`  baseline JSON.parse only:           ${baseMs.toFixed(0)} ms  (${Math.round((lines.length / baseMs) * 1000).toLocaleString('en-US')} lines/s)`);
console.log(`  parse + validate + reduce + deltas: ${fullMs.toFixed(0)} ms  (${Math.round(eps).toLocaleString('en-US')} events/s)`);
console.log(`  ratio to baseline: ${(fullMs / baseMs).toFixed(2)}x the time of JSON.parse alone; target >= 10,000 events/s: ${eps >= 10_000 ? 'met' : 'NOT met'} (${(eps / 10_000).toFixed(1)}x)`);
if (malformed) console.log(`  WARNING: ${malformed} lines were rejected`);
fs.rmSync(tmp, { recursive: true, force: true });

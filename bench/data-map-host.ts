// Benchmark: the extension host's side of the data map at N pairs (default 1,000,000), with the
// same modules the dashboard panel runs (src/training/dataMap.ts minus the vscode calls): read and
// parse <run>/dynamics.safetensors (readRunDynamics), the point -> row map, the four float32
// columns posted to the webview, the dataset's line offsets (scanned on the first hover) and
// hovers (one positioned read + pair key check each), a box over the whole map (selectBox).
// Prints time and memory (process.memoryUsage: RSS, V8 heap, ArrayBuffers, after a GC) per stage, and
// the same for a 10,000-pair baseline in this process. Target: <= 100 MB held for 1M pairs.
// Usage: node --expose-gc --import tsx bench/data-map-host.ts [pairs=1000000]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { selectBox } from '../src/core/dataMap';
import { hoverText, mapPayload, mapRows } from '../src/core/dataMap/host';
import { KEY_BYTES, encodeDynamics, pairedKeyAndSide } from '../src/core/dynamics';
import { readRunDynamics } from '../src/node/dynamics';
import { LineOffsets } from '../src/node/lineOffsets';

const N = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;

async function makeRun(n: number): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-bench-maphost-'));
  const dataset = path.join(dir, 'data.pref.jsonl');
  const out = fs.createWriteStream(dataset);
  const key = new Uint8Array(n * KEY_BYTES);
  const conf = new Float32Array(n);
  const vari = new Float32Array(n);
  const corr = new Float32Array(n);
  const aum = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const rec = { prompt: `Question ${i}: what is ${i % 97} + ${i % 89}?\nAnswer in one line.`, chosen: String((i % 97) + (i % 89)), rejected: String((i % 97) * (i % 89)) };
    key.set(pairedKeyAndSide(rec.prompt, rec.chosen, rec.rejected).key, i * KEY_BYTES);
    if (!out.write(`${JSON.stringify(rec)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
    const u = (Math.imul(i, 2654435761) >>> 0) / 2 ** 32;
    conf[i] = u;
    vari[i] = (u * 7919) % 0.5;
    corr[i] = u > 0.5 ? 1 : 0;
    aum[i] = (u - 0.5) * 4;
  }
  await new Promise<void>((r) => out.end(() => r()));
  const side = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const rec = { chosen: String((i % 97) + (i % 89)), rejected: String((i % 97) * (i % 89)) };
    side[i] = Buffer.compare(Buffer.from(rec.chosen), Buffer.from(rec.rejected)) > 0 ? 1 : 0;
  }
  const bytes = encodeDynamics({
    key, line: Int32Array.from({ length: n }, (_, i) => i + 1), side, split: new Uint8Array(n), visits: new Int32Array(n).fill(3),
    aum, confidence: conf, variability: vari, correctness: corr, metadata: { dataset, method: 'dpo' },
  });
  fs.writeFileSync(path.join(dir, 'dynamics.safetensors'), bytes);
  return dir;
}

async function measure(n: number): Promise<{ heldBytes: number; peakBytes: number; totalMs: number }> {
  const dir = await makeRun(n);
  // Let the writer's arrays go (ArrayBuffer backing stores are freed on a later GC than their objects).
  for (let k = 0; k < 4; k++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  const base = process.memoryUsage();
  let peak = 0;
  const line = (stage: string, ms: number) => {
    const before = process.memoryUsage();
    peak = Math.max(peak, before.arrayBuffers + before.heapUsed - base.arrayBuffers - base.heapUsed);
    gc();
    const m = process.memoryUsage();
    console.log(`    ${stage.padEnd(44)} ${ms.toFixed(1).padStart(8)} ms   RSS +${mb(m.rss - base.rss).padStart(9)}  heap +${mb(m.heapUsed - base.heapUsed).padStart(8)}  array buffers +${mb(m.arrayBuffers - base.arrayBuffers).padStart(9)}`);
    return m;
  };
  console.log(`  ${n.toLocaleString('en-US')} pairs:`);
  let t = performance.now();
  const run = readRunDynamics(dir);
  line('read + parse dynamics.safetensors', performance.now() - t);
  t = performance.now();
  const rows = mapRows(run.dynamics);
  let payload: ReturnType<typeof mapPayload> | undefined = mapPayload(run.dynamics, rows);
  line(`point -> row map + payload (${mb(payload.count * 16)} posted)`, performance.now() - t);
  payload = undefined;
  const afterPost = line('payload released (posted)', 0);
  t = performance.now();
  const offsets = await LineOffsets.scan(run.dataset);
  const scanMs = performance.now() - t;
  line('dataset line offsets (first hover)', scanMs);
  const hoverMs: number[] = [];
  let shown = 0;
  for (let k = 0; k < 50; k++) {
    const row = rows.rows[Math.floor(((k * 7919) % 1000) / 1000 * rows.rows.length)]!;
    const t0 = performance.now();
    const h = hoverText(run.dynamics, row, await offsets.line(run.dynamics.line[row]!), run.mode, run.usable);
    hoverMs.push(performance.now() - t0);
    if (h.text?.startsWith('Question ')) shown++;
  }
  if (shown !== 50) throw new Error(`only ${shown} of 50 hovers found their prompt`);
  hoverMs.sort((a, b) => a - b);
  const held = line(`50 hovers (median ${hoverMs[25]!.toFixed(2)} ms, max ${hoverMs[49]!.toFixed(2)} ms)`, hoverMs.reduce((a, b) => a + b, 0));
  t = performance.now();
  const all = selectBox(run.dynamics.variability, run.dynamics.confidence, { x0: 0, x1: 0.5, y0: 0, y1: 1 }, rows.rows);
  line(`box over the whole map (${all.length.toLocaleString('en-US')} points)`, performance.now() - t);
  void afterPost;
  fs.rmSync(dir, { recursive: true, force: true });
  // Keep what the panel keeps alive until here.
  void run.dynamics.key.length;
  return { heldBytes: held.arrayBuffers + held.heapUsed - base.arrayBuffers - base.heapUsed, peakBytes: peak, totalMs: scanMs };
}

const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`data-map-host: the host's data map at ${N.toLocaleString('en-US')} pairs vs a 10,000-pair baseline (load average ${load})${(globalThis as { gc?: unknown }).gc ? '' : ' (run with --expose-gc for steadier figures)'}`);
async function main(): Promise<void> {
const base = await measure(10_000);
const big = await measure(N);
console.log(`  held after hovers (V8 heap + ArrayBuffers above the start, after a GC): ${mb(big.heldBytes)} (baseline ${mb(base.heldBytes)}); highest seen between stages (before a GC): ${mb(big.peakBytes)}; target <= 100 MB: ${Math.max(big.heldBytes, big.peakBytes) <= 100 * 2 ** 20 ? 'met' : 'NOT met'}; line scan ${(big.totalMs / Math.max(base.totalMs, 0.01)).toFixed(0)}x the baseline's`);
}

void main();

/**
 * The agreement panel's computation (src/node/agreementJob.ts) against calling fileAgreement in
 * the extension host's own thread (its worker threads parse and resample; the merge of the
 * partials and the measures over the resamples then run in the calling thread): wall time, and the
 * longest stall of the calling thread's event loop (a 5 ms ticker's largest gap), what a user of
 * VS Code feels as a frozen window.
 *
 *   node --import tsx bench/agreement-view.ts [--records 200000] [--rounds 2] [--resamples 1000]
 *
 * Prints one line per run and the ratios of the panel's job to the baseline (same process, same
 * file, alternating order), with the load average.
 */
import { buildSync } from 'esbuild';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileAgreement } from '../src/node/agreementFile';
import { agreementJobInWorker } from '../src/node/agreementJob';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg('records', 200_000);
const ROUNDS = arg('rounds', 2);
const dir = mkdtempSync(path.join(tmpdir(), 'rpo-bench-agreement-view-'));
const root = path.resolve(__dirname, '..');
for (const [entry, out] of [['src/node/agreementJob.worker.ts', 'agreementJob.js'], ['src/node/agreement.worker.ts', 'agreement.js']] as const) {
  buildSync({ entryPoints: [path.join(root, entry)], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: path.join(dir, out), logLevel: 'warning' });
}
const file = path.join(dir, 'votes.pref.jsonl');
{
  let x = 7;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296);
  const fd = openSync(file, 'w');
  const T0 = Date.parse('2026-12-01T00:00:00.000Z');
  let batch: string[] = [];
  for (let i = 0; i < N; i++) {
    const shown = rnd() < 0.5 ? ['chosen', 'rejected'] : ['rejected', 'chosen'];
    const votes = ['ada', 'bo', 'cy'].map((annotator, k) => {
      const u = rnd();
      const status = u < 0.1 ? 'tie' : null;
      return { annotator, time: new Date(T0 + i * 20_000 + k * 3000).toISOString(), choice: status ? null : u < 0.75 ? 'chosen' : 'rejected', strength: status ? null : rnd() < 0.5 ? 'slightly' : 'clearly', status, note: null, shown, adjudicator: false };
    });
    batch.push(JSON.stringify({ prompt: `Question ${i}: an ordinary prompt of realistic length, more or less.`, chosen: `Answer A ${i}. A response of a few sentences.`, rejected: `Answer B ${i}. Another response of a few sentences.`, rpo_label: { annotator: 'ada', time: votes[0]!.time, status: null, strength: null, note: null, shown, flipped: false }, rpo_votes: votes }));
    if (batch.length === 10_000) {
      writeSync(fd, batch.join('\n') + '\n');
      batch = [];
    }
  }
  if (batch.length) writeSync(fd, batch.join('\n') + '\n');
  closeSync(fd);
}

async function measure(label: string, run: () => Promise<unknown>): Promise<{ wall: number; stall: number }> {
  let last = performance.now();
  let stall = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
  }, 5);
  const t0 = performance.now();
  await run();
  const wall = performance.now() - t0;
  stall = Math.max(stall, performance.now() - last);
  clearInterval(tick);
  console.log(`${label.padEnd(34)} wall ${wall.toFixed(0).padStart(6)} ms   longest event-loop stall ${stall.toFixed(0).padStart(6)} ms`);
  return { wall, stall };
}

(async () => {
  const resamples = arg('resamples', 1000);
  console.log(`${N} records x 3 votes, ${(statSync(file).size / 1e6).toFixed(0)} MB, ${resamples} resamples; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const agreementWorker = path.join(dir, 'agreement.js');
  const base: { wall: number; stall: number }[] = [];
  const job: { wall: number; stall: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const a = () => measure('baseline: fileAgreement in-thread', () => fileAgreement(file, { workerPath: agreementWorker, resamples }));
    const b = () => measure('panel: agreementJobInWorker', () => agreementJobInWorker(path.join(dir, 'agreementJob.js'), { path: file, agreementWorker }));
    if (r % 2 === 0) {
      base.push(await a());
      job.push(await b());
    } else {
      job.push(await b());
      base.push(await a());
    }
  }
  const med = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
  const w = med(job.map((j) => j.wall)) / med(base.map((j) => j.wall));
  const s = med(job.map((j) => j.stall)) / med(base.map((j) => j.stall));
  console.log(`panel / baseline (medians): wall ${w.toFixed(2)}, longest stall ${s.toFixed(3)}; load after ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  rmSync(dir, { recursive: true, force: true });
})();

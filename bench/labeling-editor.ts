// Labeling editor host-side benchmark (no VS Code): the model the custom editor runs on, over
// the real HH test file and HH repeated to N records. Prints figures and ratios against the
// issue's targets; asserts nothing.
//   node scripts/build.mjs && node --import tsx bench/labeling-editor.ts [--records 100000] [--keep]
// Baselines: the targets (first screen, counts, label p95, save) and plain JSON.parse of
// the same lines for the scan throughput.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { importHhFile } from '../src/core/dataset/hh';
import { LabelingModel } from '../src/labeling/model';

const { values } = parseArgs({ options: { records: { type: 'string', default: '100000' }, keep: { type: 'boolean', default: false } } });
const root = path.resolve(__dirname, '..');
const workerPath = path.join(root, 'dist', 'workers', 'labelingScan.js');
if (!fs.existsSync(workerPath)) throw new Error('build first: node scripts/build.mjs');
const hh = path.resolve(root, '..', 'shared', 'datasets', 'hh-rlhf-harmless-test', 'test.jsonl');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-bench-labeling-'));
const settings = { annotator: 'bench', seed: 'rpo' };
const mb = (n: number) => (n / 1024 / 1024).toFixed(0);

async function run(file: string, label: string, target: { first: number; counts: number }) {
  const size = fs.statSync(file).size;
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const m = await LabelingModel.open(file, { workerPath });
  await m.rows('all', '', 0, 60);
  m.detail(0, settings.seed);
  const first = performance.now() - t0;
  await m.whenScanned();
  const counts = performance.now() - t0;
  const filterT = performance.now();
  const unl = await m.rows('unlabeled', '', 0, 60);
  const filterMs = performance.now() - filterT;
  const searchT = performance.now();
  const found = await m.rows('all', 'pick locks', 0, 60);
  const searchMs = performance.now() - searchT;
  // Label keypress -> edit applied -> next unlabeled found -> detail + rows window for the view.
  const lat: number[] = [];
  let line = 0;
  for (let k = 0; k < 200; k++) {
    const s = performance.now();
    m.label(line, k % 2 ? 'chooseLeft' : 'chooseRight', settings);
    line = m.nextUnlabeled(line);
    m.detail(line, settings.seed);
    await m.position('all', '', line);
    await m.rows('unlabeled', '', 0, 60);
    lat.push(performance.now() - s);
  }
  lat.sort((a, b) => a - b);
  const p95 = lat[Math.floor(lat.length * 0.95)]!;
  const rss = process.memoryUsage().rss;
  const saveT = performance.now();
  await m.save();
  const saveMs = performance.now() - saveT;
  const c = m.counts;
  console.log(`\n${label}: ${c.lines.toLocaleString()} lines, ${mb(size)} MB`);
  console.log(`  first screen (open+index, 60 rows, detail): ${first.toFixed(0)} ms   target <= ${target.first} ms   ratio ${(first / target.first).toFixed(2)}`);
  console.log(`  counts + filters ready (worker scan):        ${counts.toFixed(0)} ms   target <= ${target.counts} ms   ratio ${(counts / target.counts).toFixed(2)}   (worker ${m.scanMs.toFixed(0)} ms, ${(size / 1024 / 1024 / (m.scanMs / 1000)).toFixed(0)} MB/s)`);
  console.log(`  filter "unlabeled" first window:             ${filterMs.toFixed(1)} ms (${unl.matching.toLocaleString()} rows)`);
  console.log(`  search "pick locks" (worker, whole file):    ${searchMs.toFixed(0)} ms (${found.matching} lines)`);
  console.log(`  label -> model + next + rows window: p50 ${lat[100]!.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms   target p95 <= 50 ms (host side only, no webview)`);
  console.log(`  save after 200 labels:                       ${saveMs.toFixed(0)} ms   (target for 140 MB after one label <= 1500 ms)`);
  console.log(`  process RSS growth: ${mb(rss - rss0)} MB = ${((rss - rss0) / size).toFixed(2)} x file size (target <= 2x)`);
  m.dispose();
}

async function main() {
const converted = path.join(tmp, 'hh.pref.jsonl');
const tImp = performance.now();
const report = await importHhFile(hh, converted);
console.log(`HH import: ${report.written}/${report.records} records in ${(performance.now() - tImp).toFixed(0)} ms, ${report.identical.length} identical pairs`);
// JSON.parse baseline for throughput: the same bytes.
{
  const text = fs.readFileSync(converted, 'utf8');
  const t = performance.now();
  for (const l of text.split('\n')) if (l) JSON.parse(l);
  const ms = performance.now() - t;
  console.log(`baseline JSON.parse of the HH file: ${ms.toFixed(0)} ms (${(Buffer.byteLength(text) / 1024 / 1024 / (ms / 1000)).toFixed(0)} MB/s)`);
}
await run(converted, 'HH test (2,312 pairs)', { first: 300, counts: 300 });

const n = Number(values.records);
const big = path.join(tmp, `hh-${n}.pref.jsonl`);
{
  const lines = fs.readFileSync(converted, 'utf8').split('\n').filter(Boolean);
  const fd = fs.openSync(big, 'w');
  let buf: string[] = [];
  for (let i = 0; i < n; i++) {
    buf.push(lines[i % lines.length]!);
    if (buf.length === 10_000) { fs.writeSync(fd, buf.join('\n') + '\n'); buf = []; }
  }
  if (buf.length) fs.writeSync(fd, buf.join('\n') + '\n');
  fs.closeSync(fd);
}
await run(big, `HH repeated to ${n.toLocaleString()}`, n >= 1_000_000 ? { first: 2000, counts: 20_000 } : { first: 1000, counts: 3000 });
if (!values.keep) fs.rmSync(tmp, { recursive: true, force: true });
else console.log(`files kept in ${tmp}`);
}

void main();

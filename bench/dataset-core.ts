/**
 * Benchmark of the dataset core (src/core/dataset) on HH-repeated files.
 *
 *   node --import tsx bench/dataset-core.ts [--sizes 100000,1000000] [--cache DIR]
 *
 * Builds files of N records by repeating the Anthropic HH harmless test file
 * (../shared/datasets/hh-rlhf-harmless-test/test.jsonl; a synthetic HH-shaped record when it is
 * absent), cached in /tmp/rpo-bench-cache (generated once). Each size runs in a fresh child
 * process so memory figures are its own. Prints measured figures; asserts nothing.
 * Baseline for throughput: plain JSON.parse (and JSON.stringify) of the same lines.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, createWriteStream, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { LineIndex } from '../src/core/dataset/lineIndex';
import { LineDocument } from '../src/core/dataset/lineDocument';
import { parseLine } from '../src/core/dataset/formats';
import { applyLabel, displayOrder, serializeLike } from '../src/core/dataset/labeling';
import { scanLines } from '../src/core/dataset/stats';

const HH = resolve(__dirname, '../../shared/datasets/hh-rlhf-harmless-test/test.jsonl');
const MB = 1024 * 1024;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function sourceLines(): string[] {
  if (existsSync(HH)) return readFileSync(HH, 'utf8').split('\n').filter((l) => l.length > 0);
  const turn = 'A synthetic conversation turn of ordinary length, standing in for real HH text. '.repeat(4);
  return [JSON.stringify({ chosen: `\n\nHuman: ${turn}\n\nAssistant: ${turn} good`, rejected: `\n\nHuman: ${turn}\n\nAssistant: ${turn} bad` }).replace(/","/g, '", "')];
}

async function ensureFile(cache: string, records: number): Promise<string> {
  const path = join(cache, `hh-${records}.jsonl`);
  if (existsSync(path)) return path;
  mkdirSync(cache, { recursive: true });
  const lines = sourceLines();
  const tmp = `${path}.partial`;
  const out = createWriteStream(tmp);
  let batch: string[] = [];
  for (let i = 0; i < records; i++) {
    batch.push(lines[i % lines.length]!, '\n');
    if (batch.length >= 2000) {
      if (!out.write(batch.join(''))) await once(out, 'drain');
      batch = [];
    }
  }
  out.end(batch.join(''));
  await once(out, 'finish');
  renameSync(tmp, path);
  return path;
}

const ms = (t0: number) => performance.now() - t0;
const mem = () => {
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, external: m.arrayBuffers };
};

/** Everything measured on one file, in this (child) process. */
async function child(path: string): Promise<void> {
  const size = statSync(path).size;
  const before = mem();
  const out: Record<string, unknown> = { file: path, bytes: size };

  let t0 = performance.now();
  const doc = await LineDocument.open(path);
  out.openMs = ms(t0); // read + index
  out.lines = doc.lineCount;
  const idx = doc.lineIndex;
  t0 = performance.now();
  LineIndex.fromChunks(idx.chunks, idx.chunkSize);
  out.indexOnlyMs = ms(t0); // newline scan over bytes already in memory
  out.memAfterOpen = mem();

  t0 = performance.now();
  const scan = scanLines(idx);
  out.scanMs = ms(t0); // parse + classify + count every line, one thread
  out.records = scan.stats.records;
  out.invalid = scan.stats.invalid;
  out.memAfterScan = mem();
  out.memBefore = before;

  // Throughput on the first ~100 MiB of lines: baseline JSON.parse vs the core.
  const sample: Buffer[] = [];
  let sampleBytes = 0;
  for (let i = 0; i < idx.lineCount && sampleBytes < 100 * MB; i++) {
    const b = idx.content(i);
    sample.push(b);
    sampleBytes += b.length;
  }
  const texts = sample.map((b) => b.toString('utf8'));
  // Best of 3 runs: the machine is shared, the best run is the least disturbed one.
  const rate = (f: () => void) => {
    let best = Infinity;
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      f();
      best = Math.min(best, performance.now() - t);
    }
    return sampleBytes / MB / (best / 1000);
  };
  let sink = 0;
  out.throughput = {
    sampleMB: sampleBytes / MB,
    jsonParse: rate(() => { for (const t of texts) sink += JSON.parse(t) ? 1 : 0; }),
    jsonParseFromBytes: rate(() => { for (const b of sample) sink += JSON.parse(b.toString('utf8')) ? 1 : 0; }),
    jsonParseStringify: rate(() => { for (const t of texts) sink += JSON.stringify(JSON.parse(t)).length; }),
    coreParseFromBytes: rate(() => { for (const b of sample) sink += parseLine(b).kind.length; }),
    coreParseSerialize: rate(() => {
      for (const b of sample) {
        const r = parseLine(b);
        if (r.kind !== 'invalid' && r.kind !== 'blank') sink += serializeLike(r.object, '{"a": 1}').length;
      }
    }),
  };
  void sink;

  // Label "keypress": parse the line, apply the intent, replace the line (no view).
  const times: number[] = [];
  const ctx = { annotator: 'bench', time: new Date().toISOString() };
  for (let k = 0; k < 1000; k++) {
    const line = Math.floor((k * 7919) % doc.lineCount);
    const t = performance.now();
    const rec = parseLine(doc.lineBytes(line));
    const next = applyLabel(doc.lineText(line), { type: 'choose', side: k % 2 ? 'left' : 'right' }, { ...ctx, shown: displayOrder(rec, line, 1) });
    doc.applyEdits([{ line, text: next }], 'Label');
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  out.labelMs = { p50: times[500], p95: times[950], max: times[999] };

  process.stdout.write(JSON.stringify(out) + '\n');
}

/** Save after one label, on a copy (the cached file stays pristine). */
async function saveChild(path: string): Promise<void> {
  const copy = `${path}.save-bench`;
  // Baseline: what the disk needs to copy the file and flush it (save rewrites every byte).
  const c0 = performance.now();
  copyFileSync(path, copy);
  const fd = openSync(copy, 'r+');
  fsyncSync(fd);
  closeSync(fd);
  const copyMs = ms(c0);
  try {
    const doc = await LineDocument.open(copy);
    const line = Math.floor(doc.lineCount / 2);
    const rec = parseLine(doc.lineBytes(line));
    doc.applyEdits([{ line, text: applyLabel(doc.lineText(line), { type: 'choose', side: 'left' }, { annotator: 'bench', time: new Date().toISOString(), shown: displayOrder(rec, line, 1) }) }]);
    const backupT0 = performance.now();
    const backup = JSON.stringify(doc.backup());
    const backupMs = ms(backupT0);
    const t0 = performance.now();
    await doc.save();
    const saveMs = ms(t0);
    const t1 = performance.now();
    await LineDocument.restore(copy, doc.backup());
    const restoreMs = ms(t1);
    process.stdout.write(JSON.stringify({ saveMs, copyMs, backupBytes: backup.length, backupMs, reopenAndRestoreMs: restoreMs, memAfterSave: mem() }) + '\n');
  } finally {
    rmSync(copy, { force: true });
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3]!);
  if (process.argv[2] === '--save-child') return saveChild(process.argv[3]!);
  const cache = arg('--cache', '/tmp/rpo-bench-cache');
  const sizes = arg('--sizes', '100000,1000000').split(',').map(Number);
  const f = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const mib = (x: number) => `${f(x / MB)} MiB`;
  console.log(`dataset core benchmark: node ${process.version}, source ${existsSync(HH) ? HH : 'synthetic HH-shaped record'}`);
  for (const n of sizes) {
    const t0 = performance.now();
    const path = await ensureFile(cache, n);
    const gen = ms(t0);
    const size = statSync(path).size;
    const run = (mode: string) => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--max-old-space-size=8192', __filename, mode, path], { encoding: 'utf8', maxBuffer: 16 * MB });
      if (r.status !== 0) throw new Error(`${mode} ${path} failed: ${r.stderr}`);
      return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    };
    const m = run('--child');
    const s = run('--save-child');
    const t = m.throughput;
    console.log(`\n${f(n)} records, ${mib(size)} (${path}${gen > 1000 ? `, generated in ${f(gen / 1000, 1)} s` : ', cached'})`);
    console.log(`  open (read + index ${f(m.lines)} lines): ${f(m.openMs)} ms   newline index alone: ${f(m.indexOnlyMs)} ms`);
    console.log(`  parse + count every line (1 thread):   ${f(m.scanMs)} ms  (${f(size / MB / (m.scanMs / 1000))} MiB/s, ${f(m.records)} records, ${f(m.invalid)} invalid)`);
    console.log(`  memory after open:  RSS ${mib(m.memAfterOpen.rss)}, JS heap ${mib(m.memAfterOpen.heap)}, buffers ${mib(m.memAfterOpen.external)}  (RSS / file ${f(m.memAfterOpen.rss / size, 2)}x; process baseline RSS ${mib(m.memBefore.rss)})`);
    console.log(`  memory after scan:  RSS ${mib(m.memAfterScan.rss)}, JS heap ${mib(m.memAfterScan.heap)}  (RSS / file ${f(m.memAfterScan.rss / size, 2)}x)`);
    console.log(`  label edit (parse line, apply intent, replace line), 1000 labels: p50 ${f(m.labelMs.p50, 3)} ms, p95 ${f(m.labelMs.p95, 3)} ms, max ${f(m.labelMs.max, 2)} ms`);
    console.log(`  save after one label: ${f(s.saveMs)} ms (baseline cp + fsync of the file: ${f(s.copyMs)} ms)   backup ${f(s.backupBytes)} bytes in ${f(s.backupMs, 2)} ms   reopen + restore backup ${f(s.reopenAndRestoreMs)} ms`);
    console.log(`  throughput on ${f(t.sampleMB)} MiB of lines, best of 3 (baseline: plain JSON.parse of the same line strings):`);
    console.log(`    JSON.parse                         ${f(t.jsonParse)} MiB/s  (1.00x)`);
    console.log(`    UTF-8 decode + JSON.parse          ${f(t.jsonParseFromBytes)} MiB/s  (${f(t.jsonParseFromBytes / t.jsonParse, 2)}x)`);
    console.log(`    JSON.parse + JSON.stringify        ${f(t.jsonParseStringify)} MiB/s  (${f(t.jsonParseStringify / t.jsonParse, 2)}x)`);
    console.log(`    core parseLine from bytes          ${f(t.coreParseFromBytes)} MiB/s  (${f(t.coreParseFromBytes / t.jsonParse, 2)}x)  utf-8 check + decode + JSON.parse + classify; vs decode + JSON.parse ${f(t.coreParseFromBytes / t.jsonParseFromBytes, 2)}x`);
    console.log(`    core parse + serialise (spaced)    ${f(t.coreParseSerialize)} MiB/s  (${f(t.coreParseSerialize / t.jsonParse, 2)}x; vs parse+stringify ${f(t.coreParseSerialize / t.jsonParseStringify, 2)}x)`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

/**
 * Benchmark of reading a run's training dynamics back against the labels (issue 13,
 * docs/contracts.md §8): a 1,000,000-pair dynamics file parsed, indexed and matched to the keyed
 * records of an edited file; the heap it keeps; and the whole path from JSON lines (parse, pair
 * keys, match) as `rpo suspects` runs it.
 *
 *   node --expose-gc --import tsx bench/dynamics-match.ts [--pairs 1000000] [--lines 200000]
 *
 * Rows: N random keys (SHA-256 outputs are uniform), lines 1..N. The file now: 1% of the records
 * removed, 1% added, 10% moved to the end, 1% relabeled (so every kind of match happens).
 * Named baseline `mapBaseline`: the obvious matcher, a Map from each row's key as 64 hex
 * characters to its row, probed with each record's hex key (one row per key; no duplicates).
 * Both run in this process, alternating, best of 3 by CPU time (wall time printed too: this machine
 * is shared); the bench checks that both find the same row
 * for every record. Memory: bytes retained after a forced GC (heap + ArrayBuffers) by
 * dynamics + index + match, vs by the Map. Target (issue 13): a 1,000,000-pair map within 100 MB
 * in the host. Prints figures; asserts nothing but agreement between the two.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseText } from '../src/core/dataset/formats';
import { DynamicsIndex, KEY_BYTES, type KeyedRecord, encodeDynamics, keyedRecords, matchDynamics, pairKeyAndSide, parseDynamics } from '../src/core/dynamics';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg('--pairs', 1_000_000);
const LINES = arg('--lines', 200_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with node --expose-gc for the memory figures');
}
const mem = () => {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const MB = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
const ms = (t: number) => `${t.toFixed(0)} ms`;
/** Wall and CPU milliseconds of fn (CPU: this process, user + system; less sensitive to a loaded machine). */
function timed<T>(fn: () => T): { ms: number; cpu: number; out: T } {
  const c = process.cpuUsage();
  const t = performance.now();
  const out = fn();
  const d = process.cpuUsage(c);
  return { ms: performance.now() - t, cpu: (d.user + d.system) / 1000, out };
}
function best<T>(fn: () => T, runs = 3): { ms: number; cpu: number; out: T } {
  let b: { ms: number; cpu: number; out: T } | null = null;
  for (let i = 0; i < runs; i++) {
    const r = timed(fn);
    if (!b || r.cpu < b.cpu) b = r;
  }
  return b!;
}

console.log(`dynamics-match: ${N.toLocaleString('en-US')} pairs; node ${process.version}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${os.cpus().length} CPUs`);

// ---- the run's file
const keys = randomBytes(N * KEY_BYTES);
const side = new Uint8Array(N).map((_, i) => i & 1);
const line = Int32Array.from({ length: N }, (_, i) => i + 1);
const aum = Float32Array.from({ length: N }, (_, i) => Math.sin(i));
const t0 = performance.now();
const bytes = encodeDynamics({ key: keys, line, side, split: new Uint8Array(N), visits: new Int32Array(N).fill(3), aum });
console.log(`file: ${MB(bytes.length)} (encoded in ${ms(performance.now() - t0)})`);

// ---- the file now: records in order, with edits
const records: KeyedRecord[] = [];
let lineNow = 0;
const moved: number[] = [];
const ownKeys = new Uint8Array(keys); // the file's keys are its own bytes, as hashing the file gives
for (let r = 0; r < N; r++) {
  const u = (r * 2654435761) % 1000;
  if (u < 10) continue; // removed
  if (u < 20) records.push({ line: lineNow++, key: randomBytes(32), side: 0 }); // one added before the next
  if (u >= 20 && u < 120) {
    moved.push(r);
    continue;
  }
  records.push({ line: lineNow++, key: ownKeys.subarray(r * KEY_BYTES, (r + 1) * KEY_BYTES), side: u >= 120 && u < 130 ? 1 - side[r]! : side[r]! });
}
for (const r of moved) records.push({ line: lineNow++, key: ownKeys.subarray(r * KEY_BYTES, (r + 1) * KEY_BYTES), side: side[r]! });
console.log(`file now: ${records.length.toLocaleString('en-US')} keyed records (1% removed, 1% added, 10% moved to the end, 1% relabeled)`);

// ---- memory: what the host keeps
const before = mem();
const dyn = parseDynamics(bytes, 'bench/dynamics.safetensors');
const afterParse = mem();
const index = new DynamicsIndex(dyn);
const afterIndex = mem();
const match = matchDynamics(dyn, records, index);
const afterMatch = mem();
console.log(`retained: the file's bytes ${MB(bytes.length)} (parsed into views: +${MB(afterParse - before)}), index ${MB(afterIndex - afterParse)}, match result ${MB(afterMatch - afterIndex)}; total ${MB(bytes.length + afterMatch - before)} (target 100 MB)`);
console.log(`match: ${match.counts.matched.toLocaleString('en-US')} matched, ${match.counts.notFound.toLocaleString('en-US')} not found, ${match.counts.moved.toLocaleString('en-US')} moved, ${match.counts.labelChanged.toLocaleString('en-US')} labels changed, ${match.counts.fileUnmatched.toLocaleString('en-US')} records without a row`);

// ---- baseline: Map<hex, row>
function mapBaseline(): Int32Array {
  const map = new Map<string, number>();
  for (let r = 0; r < N; r++) map.set(Buffer.from(keys.buffer, keys.byteOffset + r * KEY_BYTES, KEY_BYTES).toString('hex'), r);
  const out = new Int32Array(records.length).fill(-1);
  for (let i = 0; i < records.length; i++) {
    const k = records[i]!.key;
    out[i] = map.get(Buffer.from(k.buffer, k.byteOffset, KEY_BYTES).toString('hex')) ?? -1;
  }
  return out;
}
const beforeMap = mem();
const mapForMemory = new Map<string, number>();
for (let r = 0; r < N; r++) mapForMemory.set(Buffer.from(keys.buffer, keys.byteOffset + r * KEY_BYTES, KEY_BYTES).toString('hex'), r);
const mapBytes = mem() - beforeMap;
mapForMemory.clear();

const ours: { ms: number; cpu: number }[] = [];
const base: { ms: number; cpu: number }[] = [];
let check: Int32Array | null = null;
let mine: Int32Array | null = null;
for (let round = 0; round < 3; round++) {
  const a = timed(() => {
    const d = parseDynamics(bytes);
    return matchDynamics(d, records, new DynamicsIndex(d));
  });
  ours.push(a);
  mine = a.out.recordRow;
  const b = timed(mapBaseline);
  base.push(b);
  check = b.out;
}
let same = true;
for (let i = 0; i < records.length; i++) if (check![i] !== mine![i]) same = false;
if (!same) throw new Error('the baseline and matchDynamics disagree');
const o = ours.reduce((x, y) => (y.cpu < x.cpu ? y : x));
const b = base.reduce((x, y) => (y.cpu < x.cpu ? y : x));
console.log(`parse + index + match: ${ms(o.ms)} wall, ${ms(o.cpu)} CPU (best of 3 by CPU); mapBaseline (Map<hex, row>, build + probe): ${ms(b.ms)} wall, ${ms(b.cpu)} CPU; CPU ratio ${(o.cpu / b.cpu).toFixed(2)}; same row for every record`);
console.log(`memory of the lookup structure: index ${MB(afterIndex - afterParse)} vs Map ${MB(mapBytes)} (ratio ${((afterIndex - afterParse) / mapBytes).toFixed(2)})`);

// ---- from JSON lines: parse, key, match (what rpo suspects does per line), on LINES records
const texts: string[] = [];
const smallKeys = new Uint8Array(LINES * KEY_BYTES);
for (let i = 0; i < LINES; i++) {
  const rec = { prompt: `Question ${i}: what is ${i} + ${i}? Please answer briefly and explain.`, chosen: `It is ${2 * i}, because ${i} + ${i} = ${2 * i}.`, rejected: `It is ${2 * i + 1}.` };
  texts.push(JSON.stringify(rec));
  smallKeys.set(pairKeyAndSide(rec).key, i * KEY_BYTES);
}
const smallDyn = parseDynamics(encodeDynamics({ key: smallKeys, line: Int32Array.from({ length: LINES }, (_, i) => i + 1), side: new Uint8Array(LINES), split: new Uint8Array(LINES), visits: new Int32Array(LINES).fill(1), aum: new Float32Array(LINES) }));
const lines = function* () {
  for (let i = 0; i < LINES; i++) yield [i, parseText(texts[i]!)] as const;
};
const parseOnly = best(() => {
  let n = 0;
  for (const [, rec] of lines()) if (rec.kind === 'paired') n++;
  return n;
});
const full = best(() => matchDynamics(smallDyn, keyedRecords(lines(), 'paired')));
console.log(`from JSON lines, ${LINES.toLocaleString('en-US')} records: parse + pair keys + match ${ms(full.cpu)} CPU vs parse alone (named baseline) ${ms(parseOnly.cpu)} CPU (ratio ${(full.cpu / parseOnly.cpu).toFixed(2)}); ${full.out.counts.matched.toLocaleString('en-US')} matched; ${(1000 * full.cpu / LINES).toFixed(2)} us CPU a record`);
console.log(`load average at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

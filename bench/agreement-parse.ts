/**
 * Would parsing less of each line pay for `rpo agreement`? CPU time a line, one process, rounds in
 * turns, over the first N lines of the bench's votes file (bench/agreement.ts makes it):
 *   - parseLine (what agreement runs: UTF-8 check, JSON.parse, record checks) — the baseline;
 *   - the upper bound of a "parse less" reader: decode, find `"rpo_votes":` (lastIndexOf, no
 *     check that it is a top-level key, no validation of the rest of the line) and JSON.parse only
 *     the array after it — everything a correct version would still have to do on top is left out;
 *   - the same plus JSON.parse of the `rpo_label` object (single-annotator records need it).
 *   node --import tsx bench/agreement-parse.ts [--lines 100000] [--file F] [--rounds 4]
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseLine } from '../src/core/dataset/formats';

const arg = (k: string, d: string) => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1]! : d);
const N = Number(arg('--lines', '100000'));
const file = arg('--file', '/tmp/rpo-bench-agreement/votes-1000000.pref.jsonl');
const rounds = Number(arg('--rounds', '4'));
const fdNo = openSync(file, 'r');
const head = Buffer.allocUnsafe(1200 * N + 1_000_000); // the first lines only (about 1.1 KB each)
const fd = head.subarray(0, readSync(fdNo, head, 0, head.length, 0));
closeSync(fdNo);
const lines: Buffer[] = [];
for (let s = 0; lines.length < N; ) {
  const e = fd.indexOf(0x0a, s);
  if (e < 0) break;
  lines.push(fd.subarray(s, e));
  s = e + 1;
}
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
let sink = 0;
const ways: Record<string, () => void> = {
  parseLine: () => {
    for (const l of lines) sink += parseLine(l).kind.length;
  },
  'votes array only (upper bound)': () => {
    for (const l of lines) {
      const t = l.toString('utf8');
      const at = t.lastIndexOf('"rpo_votes":');
      if (at < 0) continue;
      sink += (JSON.parse(t.slice(at + 12, t.length - 1)) as unknown[]).length;
    }
  },
  'votes + rpo_label (upper bound)': () => {
    for (const l of lines) {
      const t = l.toString('utf8');
      const at = t.lastIndexOf('"rpo_votes":');
      if (at < 0) continue;
      sink += (JSON.parse(t.slice(at + 12, t.length - 1)) as unknown[]).length;
      const lab = t.indexOf('"rpo_label":');
      if (lab >= 0) sink += Object.keys(JSON.parse(t.slice(lab + 12, at - 1)) as object).length;
    }
  },
};
const best: Record<string, number> = {};
const l0 = loadavg()[0]!.toFixed(1);
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of Object.entries(ways)) {
    const c = cpu();
    f();
    best[name] = Math.min(best[name] ?? Infinity, cpu() - c);
  }
}
const base = best.parseLine!;
for (const [name, ms] of Object.entries(best)) console.log(`${name}: ${((ms * 1000) / lines.length).toFixed(2)} µs a line (CPU, best of ${rounds}); ratio to parseLine ${(ms / base).toFixed(2)}`);
console.log(`${lines.length} lines of ${file}; load average ${l0} -> ${loadavg()[0]!.toFixed(1)}; (${sink})`);

/**
 * Benchmark of `rpo winrate` (issue 15) on a large judged candidates file.
 *
 *   node --import tsx bench/winrate.ts [--records 100000] [--resamples 1000]
 *
 * Builds (once, in /tmp/rpo-bench-winrate) N labeled records of about 400 bytes each with their
 * sidecar, then in this one process, alternating, best of 3:
 *   - winrateOfFile (read both files, parse, pair keys, match, statistics with the bootstrap);
 *   - named baseline `parse`: LineIndex.read + parseLine of every line (what `rpo validate` does),
 *     the floor any reader of the file pays.
 * Prints the times and the ratio; asserts nothing but that the win rate was computed.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { LineIndex } from '../src/core/dataset/lineIndex';
import { parseLine } from '../src/core/dataset/formats';
import { winrateOfFile } from '../src/node/winrate';

const { values } = parseArgs({ options: { records: { type: 'string', default: '100000' }, resamples: { type: 'string', default: '1000' } } });
const n = Number(values.records);
const resamples = Number(values.resamples);
const dir = '/tmp/rpo-bench-winrate';
const file = join(dir, `judged-${n}.pref.jsonl`);

function enc(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const l = Buffer.alloc(8);
  l.writeBigUInt64LE(BigInt(b.length));
  return Buffer.concat([l, b]);
}

if (!existsSync(file + '.sources.jsonl')) {
  mkdirSync(dir, { recursive: true });
  const words = 'the model answer is long and short with many words of text here'.split(' ');
  let seed = 1;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const sentence = (k: number) => Array.from({ length: k }, () => words[Math.floor(rnd() * words.length)]).join(' ');
  const lines: string[] = [];
  const side: string[] = [JSON.stringify({ format: 'rpo-candidates-sources', version: 1, models: { A: { kind: 'run', run_dir: '/runs/a' }, B: { kind: 'reference', model: '/m' } }, prompts: { count: n }, settings: {} })];
  for (let i = 0; i < n; i++) {
    const prompt = `Question ${i}: ${sentence(10)}?`;
    const r = [sentence(10 + Math.floor(rnd() * 30)), sentence(10 + Math.floor(rnd() * 30))];
    const sources = rnd() < 0.5 ? ['A', 'B'] : ['B', 'A'];
    const [x, y] = [Buffer.from(r[0]!), Buffer.from(r[1]!)].sort(Buffer.compare);
    const key = createHash('sha256').update(Buffer.concat([enc(prompt), enc(x!.toString()), enc(y!.toString())])).digest('hex');
    const c = rnd() < 0.6 ? 0 : 1;
    const label = { annotator: 'ada', time: '2026-12-01T00:00:00.000Z', status: rnd() < 0.1 ? 'tie' : null, strength: null, note: null, shown: ['chosen', 'rejected'], from_responses: [c, 1 - c] };
    lines.push(label.status ? JSON.stringify({ prompt, responses: r, rpo_label: { ...label, shown: ['responses.0', 'responses.1'], from_responses: undefined } }) : JSON.stringify({ prompt, chosen: r[c], rejected: r[1 - c], rpo_label: label }));
    side.push(JSON.stringify({ line: i + 1, key, sources }));
  }
  writeFileSync(file, lines.join('\n') + '\n');
  writeFileSync(file + '.sources.jsonl', side.join('\n') + '\n');
}

async function parseOnly(): Promise<number> {
  const index = await LineIndex.read(file);
  let k = 0;
  for (let i = 0; i < index.lineCount; i++) if (parseLine(index.content(i)).kind !== 'invalid') k++;
  return k;
}

async function main(): Promise<void> {
  const times = { winrate: Infinity, parse: Infinity };
  let rate: number | null = null;
  for (let round = 0; round < 3; round++) {
    let t = performance.now();
    await parseOnly();
    times.parse = Math.min(times.parse, performance.now() - t);
    t = performance.now();
    rate = (await winrateOfFile(file, { resamples, seed: 0 })).report.winRate;
    times.winrate = Math.min(times.winrate, performance.now() - t);
  }
  if (rate === null) throw new Error('no win rate');
  console.log(`${n} records, ${resamples} bootstrap resamples, load average ${loadavg()[0]!.toFixed(1)}`);
  console.log(`winrateOfFile ${(times.winrate / 1000).toFixed(2)} s; baseline parse ${(times.parse / 1000).toFixed(2)} s; ratio ${(times.winrate / times.parse).toFixed(2)} (win rate ${rate.toFixed(4)})`);
}

void main();

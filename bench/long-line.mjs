/* global performance */
// Benchmark: one very long line from the trainer (a progress bar redrawn with `\r` and no
// newline) through the line splitter every stdout/stderr capture goes through, in 64 KiB chunks
// as EventFileFollower reads them. Current: LineSplitter (src/core/run/events.ts: searches only
// the new chunk, skips a line over MAX_LINE_LENGTH). Baseline: a copy of the splitter before
// (`rest + chunk` split again on every chunk), in the same process on the same chunks.
// The baseline is quadratic (minutes at 100 MB): by default it runs for sizes up to 32 MB only.
// Usage: node bench/long-line.mjs [sizes in MB=32,100] [--baseline=none|32|all]
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
const sizesMb = (args.find((a) => !a.startsWith('--')) ?? '32,100').split(',').map(Number);
const baselineArg = args.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length) ?? '32';
const baselineUpTo = baselineArg === 'all' ? Infinity : baselineArg === 'none' ? 0 : Number(baselineArg);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-bench-long-line-'));
const entry = path.join(tmp, 'entry.ts');
fs.writeFileSync(entry, `export { LineSplitter, MAX_LINE_LENGTH } from ${JSON.stringify(path.join(root, 'src/core/run/events'))};\n`);
await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', outfile: path.join(tmp, 'bundle.cjs'), logLevel: 'error' });
const { LineSplitter, MAX_LINE_LENGTH } = createRequire(import.meta.url)(path.join(tmp, 'bundle.cjs'));
fs.rmSync(tmp, { recursive: true, force: true });

/** The splitter before (baseline), verbatim but for the sink. */
class BaselineSplitter {
  rest = '';
  push(chunk) {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  }
}

const CHUNK = 64 * 1024;
function chunksOf(mb) {
  const frame = ' 42%|████▏     | 420/1000 [00:42<00:58, 10.00it/s]\r';
  const unit = frame.repeat(Math.ceil(CHUNK / frame.length)).slice(0, CHUNK);
  const n = Math.round((mb * 1024 * 1024) / CHUNK);
  return { chunks: Array.from({ length: n }, () => unit), chars: n * CHUNK };
}

function time(fn) {
  const t0 = performance.now();
  const result = fn();
  return { ms: performance.now() - t0, result };
}

console.log(`long-line: one line of N MB in 64 KiB chunks, then a newline and one event line; limit ${MAX_LINE_LENGTH.toLocaleString('en-US')} characters; node ${process.version}, load ${os.loadavg()[0].toFixed(2)}`);
for (const mb of sizesMb) {
  const { chunks, chars } = chunksOf(mb);
  const current = time(() => {
    const seen = { lines: 0, tooLong: 0 };
    const s = new LineSplitter({ line: () => seen.lines++, tooLong: (n) => (seen.tooLong = n) });
    for (const c of chunks) s.push(c);
    s.push('\n{"type":"log"}\n');
    return seen;
  });
  if (current.result.tooLong !== chars || current.result.lines !== 1) throw new Error(`current splitter: unexpected result ${JSON.stringify(current.result)}`);
  let line = `${String(mb).padStart(4)} MB  current ${current.ms.toFixed(1).padStart(8)} ms (line skipped, ${chars.toLocaleString('en-US')} characters reported)`;
  if (mb <= baselineUpTo) {
    const base = time(() => {
      const s = new BaselineSplitter();
      let lines = 0;
      for (const c of chunks) lines += s.push(c).length;
      lines += s.push('\n{"type":"log"}\n').length;
      return lines;
    });
    if (base.result !== 2) throw new Error(`baseline splitter: ${base.result} lines`);
    line += `  baseline ${base.ms.toFixed(1).padStart(9)} ms  ratio baseline/current ${(base.ms / current.ms).toFixed(0)}x`;
  } else {
    line += '  baseline not run (--baseline=all runs it)';
  }
  console.log(line);
}

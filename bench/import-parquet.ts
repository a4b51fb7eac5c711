/**
 * Import of a large Parquet file: `rpo import` (hyparquet, a row group at a time) against the
 * baseline `datasets.load_dataset("parquet", ...).to_json(...)` on the same file, in one run.
 *
 *   node --import tsx bench/import-parquet.ts [--rows 1000000] [--cache DIR] [--skip-baseline]
 *
 * The file (stack-exchange-paired layout: qid int64, question, response_j, response_k strings of
 * ~250-400 words, score double; snappy, row groups of 10,000 rows as `datasets` and the Hub's
 * converter write text data) is generated once with pyarrow into the cache folder
 * (/tmp/rpo-bench-cache by default; not the repository). Each side runs as its own process
 * under /usr/bin/time: wall time, rows/s and peak resident memory (max RSS) are printed, and the
 * ratios ours / baseline.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { testPython } from '../test/support/python.cjs';
import { importTables } from '../src/node/importTables';

const ROOT = resolve(__dirname, '..');
const { values, positionals } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    cache: { type: 'string', default: '/tmp/rpo-bench-cache' },
    'skip-baseline': { type: 'boolean', default: false },
    child: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});

function main(): void {
  const rows = Number(values.rows);
  const cache = values.cache!;
  const python = testPython(ROOT);
  if (!python) throw new Error('no Python with pyarrow and datasets: run bash scripts/setup.sh');
  mkdirSync(cache, { recursive: true });
  const file = join(cache, `stack-${rows}.parquet`);
  if (!existsSync(file)) {
    process.stdout.write(`generating ${file} (${rows.toLocaleString('en-US')} rows, once)...\n`);
    const g = spawnSync(python, ['-c', GENERATE, String(rows), file], { stdio: 'inherit' });
    if (g.status !== 0) throw new Error('generation failed');
  }
  const mib = statSync(file).size / 2 ** 20;
  process.stdout.write(`file: ${file}, ${mib.toFixed(0)} MiB, ${rows.toLocaleString('en-US')} rows, row groups of 10,000\n`);

  const ours = join(cache, `stack-${rows}.rpo.pref.jsonl`);
  rmSync(ours, { force: true });
  const a = timed(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/import-parquet.ts'), '--child', file, ours]);
  const aIn = inProcess(a.stdout);
  const outMiB = statSync(ours).size / 2 ** 20;
  process.stdout.write(`rpo import (importTables):         ${aIn.toFixed(1)} s in process, ${Math.round(rows / aIn).toLocaleString('en-US')} rows/s; process ${a.seconds.toFixed(1)} s wall, peak RSS ${a.maxRssMiB.toFixed(0)} MiB (output ${outMiB.toFixed(0)} MiB)\n`);
  rmSync(ours, { force: true });

  if (!values['skip-baseline']) {
    const out = join(cache, `stack-${rows}.datasets.jsonl`);
    const hfCache = join(cache, `hf-cache-${process.pid}`);
    rmSync(out, { force: true });
    const b = timed(python, ['-c', BASELINE, file, out, hfCache], { ...process.env, HF_DATASETS_OFFLINE: '1', HF_HUB_OFFLINE: '1', HF_DATASETS_DISABLE_PROGRESS_BARS: '1' });
    const bIn = inProcess(b.stdout);
    process.stdout.write(`datasets load_dataset().to_json(): ${bIn.toFixed(1)} s in process, ${Math.round(rows / bIn).toLocaleString('en-US')} rows/s; process ${b.seconds.toFixed(1)} s wall, peak RSS ${b.maxRssMiB.toFixed(0)} MiB (in process: load incl. its Arrow cache write + to_json)\n`);
    process.stdout.write(`ratio rpo / datasets: time in process ${(aIn / bIn).toFixed(2)}x, wall ${(a.seconds / b.seconds).toFixed(2)}x, peak RSS ${(a.maxRssMiB / b.maxRssMiB).toFixed(2)}x\n`);
    rmSync(out, { force: true });
    rmSync(hfCache, { recursive: true, force: true });
  }
}

const GENERATE = `
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
rows, path = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(17)
# 20,000 made-up words: text that snappy compresses about as little as real answers do.
letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
vocab = np.array(["".join(letters[rng.integers(0, 26, rng.integers(2, 10))]) for _ in range(20000)])
def texts(n, lo, hi):
    out = []
    for k in range(n):
        words = vocab[rng.integers(0, len(vocab), rng.integers(lo, hi))]
        out.append(" ".join(words))
    return out
schema = pa.schema([("qid", pa.int64()), ("question", pa.string()), ("response_j", pa.string()), ("response_k", pa.string()), ("score", pa.float64())])
with pq.ParquetWriter(path + ".tmp", schema, compression="snappy") as w:
    for start in range(0, rows, 10000):
        n = min(10000, rows - start)
        w.write_table(pa.table({"qid": np.arange(start, start + n, dtype=np.int64), "question": texts(n, 20, 70),
            "response_j": texts(n, 35, 90), "response_k": texts(n, 35, 90), "score": rng.random(n) * 10}, schema=schema), row_group_size=10000)
import os; os.replace(path + ".tmp", path)
`;

const BASELINE = `
import sys, time, resource, datasets
src, out, cache = sys.argv[1], sys.argv[2], sys.argv[3]
t = time.time()
ds = datasets.load_dataset("parquet", data_files=src, split="train", cache_dir=cache)
ds.to_json(out)
print(f"rows {len(ds)} seconds {time.time() - t:.2f}")
`;

function inProcess(stdout: string): number {
  const m = /seconds ([\d.]+)/.exec(stdout);
  if (!m) throw new Error(`no timing in: ${stdout}`);
  return Number(m[1]);
}

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { seconds: number; maxRssMiB: number; stdout: string } {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', cmd, ...args], { cwd: ROOT, encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  const m = /TIME ([\d.]+) (\d+)\s*$/.exec(r.stderr);
  if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  if (!m) throw new Error(`no timing from /usr/bin/time:\n${r.stderr.slice(-2000)}`);
  return { seconds: Number(m[1]), maxRssMiB: Number(m[2]) / 1024, stdout: r.stdout };
}

if (values.child) {
  // The measured import, in its own process: `--child FILE OUT`.
  void (async () => {
    const t = performance.now();
    const report = await importTables([positionals[0]!], positionals[1]!);
    process.stdout.write(`rows ${report.written} seconds ${((performance.now() - t) / 1000).toFixed(2)}\n`);
  })();
} else {
  main();
}

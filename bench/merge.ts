/**
 * Benchmark of the git merge driver (issue 14: 1,000,000 records with 3 votes each, at most 15 s
 * and at most 2x the file size in memory).
 *
 *   node --import tsx bench/merge.ts [--records 1000000] [--cache DIR] [--cli dist/cli.js] [--no-baseline]
 *
 * Files (in --cache, default /tmp/rpo-bench-agreement, shared with bench/agreement.ts and generated
 * the same way when missing): base (N unlabeled paired records of about 450 bytes), ours (ada's
 * rpo_label on every record), theirs (bo's and cy's votes on every record): every line changed on
 * both sides, the merge's worst case; each line merges into 3 votes.
 *
 * Runs, each in a fresh process with its wall time, CPU time and peak memory (maxRSS):
 * - `cli`: the built CLI, `node dist/cli.js merge-driver BASE OURS THEIRS` (what git runs; build
 *   it first with `npm run build`), on a copy of OURS: worker threads (one per core, at most 4)
 *   reading the files block by block (src/node/mergeFile.ts); `cli-1` the same with `--threads 1`
 *   (the blocks merged in the main thread), and the ratio of the two;
 * - `fast` and `baseline`: this file bundled with esbuild (as dist is built) calling mergeInto in
 *   one thread on the files read whole, with the byte-level fast path (src/core/merge/fast.ts) on,
 *   and off: the general path that parses every record changed on both sides into objects (the
 *   previous implementation);
 * and the SHA-256 of each merged file, which must be equal. Prints figures and ratios; asserts
 * nothing but the equal output.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LineIndex } from '../src/core/dataset/lineIndex';
import { mergeInto } from '../src/cli/merge';
import { ensureVoteFile } from './vote-files';

const MB = 1024 * 1024;
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

// ------------------------------------------------------------------ the child (bundled)
async function child(fastPath: boolean, [base, ours, theirs]: string[]): Promise<void> {
  const t0 = performance.now();
  const [b, o, t] = [await LineIndex.read(base!), await LineIndex.read(ours!), await LineIndex.read(theirs!)];
  const res = mergeInto(ours!, b, o, t, { fastPath });
  process.stdout.write(JSON.stringify({ ms: performance.now() - t0, united: res.united, conflicts: res.conflicts.length }) + '\n');
}

/** Preloaded into each measured process: its own peak memory and CPU time, written at exit. */
const PRELOAD = `const fs = require('fs');
process.on('exit', () => { const u = process.resourceUsage(); fs.writeFileSync(process.env.RPO_BENCH_USAGE, JSON.stringify({ maxRssMB: u.maxRSS / 1024, cpuS: (u.userCPUTime + u.systemCPUTime) / 1e6 })); });`;

interface Run { wallS: number; cpuS: number; maxRssMB: number; hash: string; stderr: string }

async function measure(dir: string, args: string[], ours: string, work: string): Promise<Run> {
  copyFileSync(ours, work);
  const usage = join(dir, 'usage.json');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--max-old-space-size=8192', '-r', join(dir, 'preload.cjs'), ...args], { encoding: 'utf8', env: { ...process.env, RPO_BENCH_USAGE: usage }, maxBuffer: 16 * MB });
  const wallS = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const u = JSON.parse(readFileSync(usage, 'utf8')) as { maxRssMB: number; cpuS: number };
  return { wallS, ...u, hash: await sha256(work), stderr: (r.stderr + r.stdout).trim() };
}

async function main(): Promise<void> {
  if (process.argv.includes('--child')) {
    const i = process.argv.indexOf('--child');
    await child(process.argv[i + 1] === 'fast', process.argv.slice(i + 2, i + 5));
    return;
  }
  const n = Number(arg('--records', '1000000'));
  const cache = arg('--cache', '/tmp/rpo-bench-agreement');
  const cli = resolve(arg('--cli', join(__dirname, '..', 'dist', 'cli.js')));
  if (!existsSync(cli)) throw new Error(`${cli} is missing: npm run build first`);
  const [base, ours, theirs] = [ensureVoteFile(cache, n, 'base'), ensureVoteFile(cache, n, 'ours'), ensureVoteFile(cache, n, 'theirs')];
  const dir = mkdtempSync(join(tmpdir(), 'rpo-bench-merge-'));
  try {
    writeFileSync(join(dir, 'preload.cjs'), PRELOAD);
    const esbuild = await import('esbuild');
    await esbuild.build({ entryPoints: [__filename], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: join(dir, 'bench.js'), external: ['esbuild'], logLevel: 'warning', define: { RPO_TEST_HOOKS_BUILT: 'true' } });
    const work = join(dir, 'ours.pref.jsonl');
    const size = statSync(ours).size;
    const f = (s: number) => `${s.toFixed(2)} s`;
    const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
    console.log(`${n.toLocaleString('en-US')} records, every line labeled on both sides; BASE ${(statSync(base).size / MB).toFixed(0)} MB, OURS ${(size / MB).toFixed(0)} MB, THEIRS ${(statSync(theirs).size / MB).toFixed(0)} MB; load average ${load()} (2 cores: ${process.env.RPO_BENCH_NOTE ?? 'shared'})`);
    const report = (name: string, r: Run, merged: number) =>
      console.log(`  ${name.padEnd(9)} ${f(r.wallS)} wall, ${f(r.cpuS)} CPU, peak ${r.maxRssMB.toFixed(0)} MB = ${((r.maxRssMB * MB) / merged).toFixed(2)}x the merged file (${(merged / MB).toFixed(0)} MB), ${((r.maxRssMB * MB) / size).toFixed(2)}x OURS; sha256 ${r.hash.slice(0, 16)}; load ${load()}`);
    const runCli = await measure(dir, [cli, 'merge-driver', base, work, theirs], ours, work);
    const merged = statSync(work).size;
    report('cli', runCli, merged);
    console.log(`    ${runCli.stderr}`);
    // the same CLI merging the blocks in its main thread: what the default workers buy on this machine
    const cli1 = await measure(dir, [cli, 'merge-driver', base, work, theirs, '--threads', '1'], ours, work);
    report('cli-1', cli1, merged);
    console.log(`  ratio cli (workers) / cli-1 (one thread): wall ${(runCli.wallS / cli1.wallS).toFixed(2)}, CPU ${(runCli.cpuS / cli1.cpuS).toFixed(2)}`);
    if (cli1.hash !== runCli.hash) throw new Error(`--threads 1 writes other bytes (${cli1.hash} vs ${runCli.hash})`);
    const fast = await measure(dir, [join(dir, 'bench.js'), '--child', 'fast', base, work, theirs], ours, work);
    report('fast', fast, merged);
    if (!process.argv.includes('--no-baseline')) {
      const slow = await measure(dir, [join(dir, 'bench.js'), '--child', 'baseline', base, work, theirs], ours, work);
      report('baseline', slow, merged);
      console.log(`  ratio fast / baseline: wall ${(fast.wallS / slow.wallS).toFixed(2)}, CPU ${(fast.cpuS / slow.cpuS).toFixed(2)}; cli / baseline wall ${(runCli.wallS / slow.wallS).toFixed(2)}`);
      if (slow.hash !== fast.hash) throw new Error(`the fast path's output differs from the baseline's (${fast.hash} vs ${slow.hash})`);
    }
    if (runCli.hash !== fast.hash) throw new Error(`the CLI's output differs (${runCli.hash} vs ${fast.hash})`);
    console.log(`  [target: cli <= 15 s and peak <= 2x the file size]`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});

/**
 * Benchmark of several-annotator files (issue 14): agreement and the git merge driver.
 *
 *   node --import tsx bench/agreement.ts [--records 1000000] [--resamples 1000] [--cache DIR]
 *
 * Files (generated once into /tmp/rpo-bench-agreement, or --cache): N paired records of about
 * 300 bytes of text each,
 *   votes.pref.jsonl   3 votes per record (rpo_votes), about 1 in 4 disagreeing;
 *   base.pref.jsonl    the same records unlabeled;
 *   ours.pref.jsonl    ada's label on every record (rpo_label only);
 *   theirs.pref.jsonl  bo's and cy's votes on every record (every line changed on both sides:
 *                      the merge's worst case, each line merges into 3 votes).
 * Each measurement runs in a fresh child process, so its peak memory (maxRSS) is its own; the
 * children run this file bundled by esbuild (no tsx wrappers), as users run dist/cli.js.
 * Agreement (needs `node scripts/build.mjs` first: dist/cli.js and dist/workers/agreement.js):
 *   - `rpo agreement FILE --json` as users run it (dist/cli.js, worker threads), wall time;
 *   - the same in one thread (`--threads 0`);
 *   - named baseline `before`: the implementation before the performance work (LineIndex.read,
 *     parseLine of every line, collectVotes and agreementReport of bench/baselines/agreement-before.ts,
 *     a copy of src/core/agreement/index.ts at e62b72b~1), in the same run, with its phases;
 *   - reading + parsing every line (what rpo validate does).
 * The reports of the CLI and of the baseline must be equal but for the bootstrap intervals, which
 * must agree within Monte-Carlo error (it throws otherwise: sameReport). `--skip-merge`
 * leaves the merge driver out. `merge-driver` vs reading the three files and writing OURS back through the same
 * streaming writer (OURS merged with itself: every line equal). Targets (issue 14): agreement <= 5 s; merge driver <= 15 s and peak memory <= 2x
 * the file size. Prints measured figures; asserts nothing.
 *
 *   node --import tsx bench/agreement.ts --bootstrap-only [--records N] [--resamples B]
 *
 * The bootstrap alone, in this one process: agreementReport on a vote table of N items shaped as
 * votes.pref.jsonl's (two patterns, 1 in 4 disagreeing) vs the named baseline `baselineDraws`
 * (the draw loop inlined in agreementReport before it moved to drawCounts: a Float64Array of counts
 * indexed through the Int32Array item map, Math.floor of u * n / 2^32), alternating, best of 3;
 * both must give the same counts.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineIndex } from '../src/core/dataset/lineIndex';
import { parseLine, type ParsedLine } from '../src/core/dataset/formats';
import { agreementReport, interval, krippendorffAlpha, type VoteTable } from '../src/core/agreement';
import { mergeInto } from '../src/cli/merge';
import { agreementReport as agreementReportBefore, collectVotes as collectVotesBefore } from './baselines/agreement-before';
import { loadavg } from 'node:os';
import { ensureVoteFile } from './vote-files';

const MB = 1024 * 1024;
function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function* lines(index: LineIndex): Generator<[number, ParsedLine]> {
  for (let i = 0; i < index.lineCount; i++) yield [i, parseLine(index.content(i))];
}

async function child(mode: string, files: string[], resamples: number): Promise<void> {
  const t0 = performance.now();
  const out: Record<string, number | string> = { mode };
  if (mode === 'parse') {
    const index = await LineIndex.read(files[0]!);
    let n = 0;
    for (const [, r] of lines(index)) if (r.kind !== 'invalid') n++;
    out.records = n;
  } else if (mode === 'before') {
    const index = await LineIndex.read(files[0]!);
    const tRead = performance.now();
    const table = collectVotesBefore(lines(index));
    const tCollect = performance.now();
    const rep = agreementReportBefore(table, { resamples });
    out.report = JSON.stringify(rep);
    const tRep = performance.now();
    out.readMs = tRead - t0;
    out.parseCollectMs = tCollect - tRead;
    out.measuresAndBootstrapMs = tRep - tCollect;
    out.items = rep.items;
    out.patterns = table.patterns.length;
    out.alpha = rep.alphaNominal.value ?? 'null';
  } else if (mode === 'copy') {
    const [b, o, t] = [await LineIndex.read(files[0]!), await LineIndex.read(files[1]!), await LineIndex.read(files[2]!)];
    mergeInto(files[1]!, o, o, o, {}); // every line equal: OURS written back through the same writer
    out.lines = b.lineCount + t.lineCount;
  } else if (mode === 'merge') {
    const [b, o, t] = [await LineIndex.read(files[0]!), await LineIndex.read(files[1]!), await LineIndex.read(files[2]!)];
    const tRead = performance.now();
    const res = mergeInto(files[1]!, b, o, t, {}); // what rpo merge-driver does: merge streamed to a temp file, renamed
    out.readMs = tRead - t0;
    out.mergeAndWriteMs = performance.now() - tRead;
    out.united = res.united;
    out.conflicts = res.conflicts.length;
  }
  out.totalMs = performance.now() - t0;
  const cpu = process.cpuUsage();
  out.cpuMs = (cpu.user + cpu.system) / 1000;
  out.maxRssMB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify(out) + '\n');
}

let childScript = __filename;
let childArgs = ['--import', 'tsx'];
function run(mode: string, files: string[], resamples: number): Record<string, number> & { report?: string } {
  const r = spawnSync(process.execPath, [...childArgs, '--max-old-space-size=8192', childScript, '--child', mode, '--resamples', String(resamples), ...files], { encoding: 'utf8', maxBuffer: 64 * MB });
  if (r.status !== 0) throw new Error(`${mode} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
}

/** Baseline: the previous inline draw loop (same generator, same draws); returns the counts of every resample. */
function baselineDraws(items: Int32Array, K: number, B: number, seed: number): Float64Array {
  const n = items.length;
  const all = new Float64Array(B * K);
  let state = seed % 4294967296;
  const w = new Float64Array(K);
  for (let r = 0; r < B; r++) {
    w.fill(0);
    for (let i = 0; i < n; i++) {
      state = (state + 0x6d2b79f5) >>> 0;
      let x = Math.imul(state ^ (state >>> 15), state | 1);
      x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
      w[items[Math.floor((((x ^ (x >>> 14)) >>> 0) * n) / 4294967296)]!]!++;
    }
    all.set(w, r * K);
  }
  return all;
}

function krippendorffOf(t: VoteTable, w: Float64Array): number | null {
  return krippendorffAlpha(t, w, 'nominal');
}

function bootstrapOnly(n: number, B: number): void {
  const items = new Int32Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) items[i] = ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296) < 0.25 ? 1 : 0;
  const t: VoteTable = {
    annotators: ['ada', 'bo', 'cy'],
    patterns: [{ raters: [0, 1, 2], codes: [0, 5, 2] }, { raters: [0, 1, 2], codes: [0, 5, 3] }],
    itemPattern: items,
    itemLine: new Int32Array(n),
    perAnnotator: [],
    recordsWithVotes: n,
  };
  let best = Infinity;
  let bestBase = Infinity;
  let rep = agreementReport(t, { resamples: 0 });
  for (let round = 0; round < 3; round++) {
    let t0 = performance.now();
    const base = baselineDraws(items, 2, B, 0);
    bestBase = Math.min(bestBase, performance.now() - t0);
    t0 = performance.now();
    rep = agreementReport(t, { resamples: B });
    best = Math.min(best, performance.now() - t0);
    if (round === 0) {
      // the same draws: the baseline's counts give the same alpha interval
      const alphas: number[] = [];
      for (let r = 0; r < B; r++) {
        const a = krippendorffOf(t, base.subarray(r * 2, r * 2 + 2));
        if (a !== null) alphas.push(a);
      }
      const ci = interval(alphas);
      // multinomial pattern counts vs the baseline's item draws: the same distribution, other draws
      sameReport({ ci: rep.alphaNominal.ci }, { ci });
    }
  }
  const f = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`bootstrap, ${n.toLocaleString('en-US')} items x ${B} resamples (best of 3, one process): agreementReport ${f(best)} (${(best / B).toFixed(2)} ms a resample, measures and the O(n) setup included) vs baseline draw loop alone ${f(bestBase)} (${((bestBase * 1e6) / (n * B)).toFixed(1)} ns a draw); ratio ${(best / bestBase).toFixed(2)}; nominal-alpha interval ${JSON.stringify(rep.alphaNominal.ci)} (multinomial draws; within 0.6 sd of the baseline's)`);
}

/**
 * The reports must be equal except the bootstrap intervals, which now come from other draws of the
 * same distribution (multinomial pattern counts vs item draws): each endpoint within 0.6 bootstrap
 * sd (sd taken as the interval's width / 3.92; a 2.5% percentile at B = 1000 has a Monte-Carlo
 * error of about 0.12 sd). Returns the largest gap in sd.
 */
function sameReport(a: unknown, b: unknown): number {
  const cis: [[number, number] | null, [number, number] | null][] = [];
  const strip = (x: unknown, into: ([number, number] | null)[]): unknown =>
    JSON.parse(JSON.stringify(x), (k, v: unknown) => {
      if (k === 'ci') {
        into.push(v as [number, number] | null);
        return undefined;
      }
      return v;
    });
  const ca: ([number, number] | null)[] = [];
  const cb: ([number, number] | null)[] = [];
  if (JSON.stringify(strip(a, ca)) !== JSON.stringify(strip(b, cb))) throw new Error('rpo agreement and the baseline disagree (values)');
  ca.forEach((x, i) => cis.push([x, cb[i] ?? null]));
  let worst = 0;
  for (const [x, y] of cis) {
    if ((x === null) !== (y === null)) throw new Error('rpo agreement and the baseline disagree: an interval missing');
    if (!x || !y) continue;
    const sd = Math.max((y[1] - y[0]) / 3.92, 1e-12);
    const gap = Math.max(Math.abs(x[0] - y[0]), Math.abs(x[1] - y[1])) / sd;
    worst = Math.max(worst, gap);
    if (gap > 0.6) throw new Error(`rpo agreement and the baseline intervals differ by ${gap.toFixed(2)} sd: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
  }
  return worst;
}

async function main(): Promise<void> {
  const resamples = Number(arg('--resamples', '1000'));
  if (process.argv.includes('--bootstrap-only')) {
    bootstrapOnly(Number(arg('--records', '1000000')), resamples);
    return;
  }
  if (process.argv.includes('--child')) {
    const i = process.argv.indexOf('--child');
    const files = process.argv.slice(i + 2).filter((a, k, all) => a !== '--resamples' && all[k - 1] !== '--resamples');
    await child(process.argv[i + 1]!, files, resamples);
    return;
  }
  const n = Number(arg('--records', '1000000'));
  const cache = arg('--cache', '/tmp/rpo-bench-agreement');
  const t0 = performance.now();
  const [votes, base, ours, theirs] = [ensureVoteFile(cache, n, 'votes'), ensureVoteFile(cache, n, 'base'), ensureVoteFile(cache, n, 'ours'), ensureVoteFile(cache, n, 'theirs')];
  const f = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`files ready in ${f(performance.now() - t0)}: ${n.toLocaleString('en-US')} records; votes ${(statSync(votes).size / MB).toFixed(0)} MB, ours ${(statSync(ours).size / MB).toFixed(0)} MB, theirs ${(statSync(theirs).size / MB).toFixed(0)} MB`);

  const root = join(__dirname, '..');
  const cli = join(root, 'dist', 'cli.js');
  if (!existsSync(cli) || !existsSync(join(root, 'dist', 'workers', 'agreement.js'))) throw new Error('build first: node scripts/build.mjs');
  childScript = join(cache, 'bench-agreement.cjs');
  const { buildSync } = await import('esbuild'); // main process only (the bundled children do not load it)
  buildSync({ entryPoints: [__filename], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: childScript, logLevel: 'warning', external: ['esbuild'] });
  childArgs = [];
  const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
  const cliRun = (threads: string[]) => {
    const l0 = load();
    const t = performance.now();
    // GNU time for the child's CPU time (user + system, all threads) and peak memory
    const r = spawnSync('/usr/bin/time', ['-f', 'RPO-TIME %U %S %M', process.execPath, cli, 'agreement', votes, '--json', '--resamples', String(resamples), ...threads], { encoding: 'utf8', maxBuffer: 64 * MB });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`rpo agreement failed: ${r.stderr}`);
    const [user, sys, rssKB] = /RPO-TIME (\S+) (\S+) (\S+)/.exec(r.stderr)!.slice(1).map(Number) as [number, number, number];
    return { ms, cpuMs: (user + sys) * 1000, rssMB: rssKB / 1024, report: JSON.parse(r.stdout) as Record<string, unknown>, load: `${l0} -> ${load()}` };
  };
  const cliMt = cliRun([]);
  const l1 = load();
  const before = run('before', [votes], resamples);
  const l2 = load();
  const cli1 = cliRun(['--threads', '0']);
  const { file: _f, invalidLines: _i, ...cliReport } = cliMt.report;
  const ciGap = sameReport(cliReport, JSON.parse(before.report!) as Record<string, unknown>);
  if (JSON.stringify(cli1.report) !== JSON.stringify(cliMt.report)) throw new Error('rpo agreement --threads 0 and with threads disagree');
  console.log(`rpo agreement (dist/cli.js, worker threads, ${resamples} bootstrap resamples): ${f(cliMt.ms)} wall [target <= 5 s], CPU ${f(cliMt.cpuMs)}, peak ${cliMt.rssMB.toFixed(0)} MB; load average ${cliMt.load}`);
  console.log(`  rpo agreement --threads 0 (one thread): ${f(cli1.ms)} wall, CPU ${f(cli1.cpuMs)}, peak ${cli1.rssMB.toFixed(0)} MB; load average ${cli1.load}`);
  console.log(`  baseline before (the previous implementation, bundled, one process): ${f(before.totalMs!)} wall, CPU ${f(before.cpuMs!)} = read ${f(before.readMs!)} + parse and collect ${f(before.parseCollectMs!)} + measures and bootstrap ${f(before.measuresAndBootstrapMs!)}; ${before.items} items, ${before.patterns} patterns; peak ${before.maxRssMB!.toFixed(0)} MB; load average ${l1} -> ${l2}`);
  console.log(`  ratio rpo agreement / before, wall: ${(cliMt.ms / before.totalMs!).toFixed(3)} (worker threads), ${(cli1.ms / before.totalMs!).toFixed(3)} (one thread); CPU: ${(cliMt.cpuMs / before.cpuMs!).toFixed(3)}, ${(cli1.cpuMs / before.cpuMs!).toFixed(3)}; same report but the intervals, which differ by at most ${ciGap.toFixed(2)} bootstrap sd (multinomial vs item draws)`);
  const parse = run('parse', [votes], resamples);
  console.log(`  read + parse every line (LineIndex + parseLine): ${f(parse.totalMs!)}; ratio rpo agreement / that ${(cliMt.ms / parse.totalMs!).toFixed(2)}; load average ${load()}`);
  if (process.argv.includes('--skip-merge')) return;

  const work = join(cache, 'work-ours.pref.jsonl');
  copyFileSync(ours, work);
  const copy = run('copy', [base, work, theirs], resamples);
  copyFileSync(ours, work);
  const merge = run('merge', [base, work, theirs], resamples);
  const size = statSync(ours).size + 0;
  const merged = statSync(work).size;
  rmSync(work, { force: true });
  console.log(`merge driver (every line labeled on both sides, ${merge.united} records united, ${merge.conflicts} conflicts): ${f(merge.totalMs!)} total = read 3 files ${f(merge.readMs!)} + merge and write ${f(merge.mergeAndWriteMs!)} [target <= 15 s]`);
  console.log(`  peak memory ${merge.maxRssMB!.toFixed(0)} MB = ${((merge.maxRssMB! * MB) / merged).toFixed(2)}x the merged file (${(merged / MB).toFixed(0)} MB), ${((merge.maxRssMB! * MB) / size).toFixed(2)}x OURS [target <= 2x]`);
  console.log(`  baseline read 3 files + write OURS back (a merge of OURS with itself): ${f(copy.totalMs!)}, peak ${copy.maxRssMB!.toFixed(0)} MB; ratio merge / baseline ${(merge.totalMs! / copy.totalMs!).toFixed(2)}`);
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});

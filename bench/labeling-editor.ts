// Labeling editor host-side benchmark (no VS Code): the model the custom editor runs on, over
// the real HH test file and HH repeated to N records. Prints figures and ratios against the
// issue's targets; asserts nothing.
//   node scripts/build.mjs && node --import tsx bench/labeling-editor.ts [--records 100000] [--keep]
//   ... bench/labeling-editor.ts --suspects [--records 1000000] [--rounds 2]: only a run's view of the file
//   (keys, the Suspect filter, labels changed since the run) vs the Disputed filter, on unique
//   HH records (a dynamics file for all of them, 5% disputed: half of them rows of the run, so labels changed since it).
//   ... bench/labeling-editor.ts --votes [--records 1000000]: opening a file whose records carry
//   3 votes each (rpo_votes) against the same records without labels (bench/agreement.ts's
//   votes-N and base-N files in /tmp/rpo-bench-agreement: run that first), in turns, medians.
// Baselines: the targets (first screen, counts, label p95, save) and plain JSON.parse of
// the same lines for the scan throughput.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { importHhFile } from '../src/core/dataset/hh';
import type { LineEdit } from '../src/core/dataset/lineDocument';
import { addToStats, emptyStats, lineCode, scanLines, stateOfCode, type LineSource } from '../src/core/dataset/stats';
import { parseLine } from '../src/core/dataset/formats';
import type { Filter } from '../src/protocol/labeling';
import { HEAD_BYTES, HEAD_LINES, HEAD_OPEN_BYTES, LabelingModel } from '../src/labeling/model';
import { encodeDynamics, pairedKeyAndSide, parseDynamics } from '../src/core/dynamics';

const { values } = parseArgs({ options: { records: { type: 'string', default: '100000' }, keep: { type: 'boolean', default: false }, suspects: { type: 'boolean', default: false }, rounds: { type: 'string', default: '2' }, 'match-only': { type: 'boolean', default: false }, votes: { type: 'boolean', default: false } } });
const root = path.resolve(__dirname, '..');
const workerPath = path.join(root, 'dist', 'workers', 'labelingScan.js');
if (!fs.existsSync(workerPath)) throw new Error('build first: node scripts/build.mjs');
const hh = path.resolve(root, '..', 'shared', 'datasets', 'hh-rlhf-harmless-test', 'test.jsonl');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-bench-labeling-'));
const settings = { annotator: 'bench', seed: 'rpo' };
const mb = (n: number) => (n / 1024 / 1024).toFixed(0);
function pct(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length * 0.5)]!, p95: s[Math.floor(s.length * 0.95)]!, max: s[s.length - 1]! };
}

async function run(file: string, label: string, target: { first: number; counts: number }) {
  const size = fs.statSync(file).size;
  // What the editor shows first for a file over HEAD_OPEN_BYTES (src/labeling/document.ts): a
  // read-only model of its first lines (HEAD_LINES, at most HEAD_BYTES) while the whole file is read.
  let headFirst: number | undefined;
  if (size > HEAD_OPEN_BYTES) {
    const h0 = performance.now();
    const head = (await LabelingModel.openHead(file, HEAD_BYTES, HEAD_LINES))!;
    await head.rows('all', '', 0, 60);
    head.detail(0, settings.seed);
    headFirst = performance.now() - h0;
    head.dispose();
  }
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
  // Label keypress -> edit applied -> view updated, host side: what the provider does per label
  // command (src/labeling/provider.ts): apply the edit (model codes, counts, filter sets,
  // search), next unlabeled, the detail and list position of the new selection, the counts
  // message, and the rows window the view re-requests after the edit invalidated it. Measured in
  // three views: no filter; "unlabeled"; "unlabeled" within an active search.
  const views: { name: string; filter: Filter; query: string }[] = [
    { name: 'all', filter: 'all', query: '' },
    { name: 'unlabeled', filter: 'unlabeled', query: '' },
    { name: 'unlabeled + search', filter: 'unlabeled', query: 'the' },
  ];
  const latencies: string[] = [];
  let line = 0;
  let worstP95 = 0;
  const edits: LineEdit[] = [];
  for (const v of views) {
    await m.rows(v.filter, v.query, 0, 60); // the view exists before the labels
    const lat: number[] = [];
    for (let k = 0; k < 150; k++) {
      const s = performance.now();
      edits.push(m.label(line, k % 2 ? 'chooseLeft' : 'chooseRight', settings));
      line = m.nextUnlabeled(line);
      m.detail(line, settings.seed);
      const pos = await m.position(v.filter, v.query, line);
      void m.counts;
      await m.rows(v.filter, v.query, Math.max(pos - 20, 0), 60);
      lat.push(performance.now() - s);
    }
    const undoLat: number[] = [];
    for (let k = 0; k < 20; k++) {
      const s = performance.now();
      m.undo(edits.pop()!);
      await m.rows(v.filter, v.query, 0, 60);
      undoLat.push(performance.now() - s);
    }
    const p = pct(lat);
    worstP95 = Math.max(worstP95, p.p95);
    latencies.push(`    ${v.name.padEnd(20)} label p50 ${p.p50.toFixed(2)} ms, p95 ${p.p95.toFixed(2)} ms, max ${p.max.toFixed(2)} ms; undo p50 ${pct(undoLat).p50.toFixed(2)} ms`);
  }
  // Baseline: what each label cost before the filter sets were incremental: rebuilding the
  // "unlabeled" list from the codes (one pass over every line), median of 5.
  const rebuild: number[] = [];
  for (let k = 0; k < 5; k++) {
    const s = performance.now();
    const codes = m.codes;
    const out = new Uint32Array(codes.length);
    let n = 0;
    for (let i = 0; i < codes.length; i++) {
      const st = stateOfCode(codes[i]!);
      if (codes[i] !== 255 && (st === 'needs-label' || st === 'unreviewed')) out[n++] = i;
    }
    out.slice(0, n);
    rebuild.push(performance.now() - s);
  }
  const rebuildMs = pct(rebuild).p50;
  const rss = process.memoryUsage().rss;
  const saveT = performance.now();
  await m.save();
  const saveMs = performance.now() - saveT;
  const c = m.counts;
  console.log(`\n${label}: ${c.lines.toLocaleString()} lines, ${mb(size)} MB`);
  if (headFirst !== undefined) console.log(`  first screen, two-step open (first ${HEAD_LINES}+ lines, 60 rows, detail): ${headFirst.toFixed(0)} ms   target <= ${target.first} ms   ratio ${(headFirst / target.first).toFixed(2)}   (baseline: whole-file open below)`);
  console.log(`  ${headFirst !== undefined ? 'whole file ready' : 'first screen'} (open+index, 60 rows, detail): ${first.toFixed(0)} ms   target <= ${target.first} ms   ratio ${(first / target.first).toFixed(2)}`);
  console.log(`  counts + filters ready (worker scan):        ${counts.toFixed(0)} ms   target <= ${target.counts} ms   ratio ${(counts / target.counts).toFixed(2)}   (scan wall ${m.scanMs.toFixed(0)} ms, ${(size / 1024 / 1024 / (m.scanMs / 1000)).toFixed(0)} MB/s)`);
  console.log(`  filter "unlabeled" first window:             ${filterMs.toFixed(1)} ms (${unl.matching.toLocaleString()} rows)`);
  console.log(`  search "pick locks" (worker, whole file):    ${searchMs.toFixed(0)} ms (${found.matching} lines)`);
  console.log(`  label -> edit applied -> view data (host side only, no webview; 150 labels per view): worst p95 ${worstP95.toFixed(2)} ms   target p95 <= 50 ms   ratio ${(worstP95 / 50).toFixed(2)}`);
  for (const l of latencies) console.log(l);
  console.log(`    baseline: one full rebuild of the "unlabeled" list (the old per-label cost) ${rebuildMs.toFixed(2)} ms; worst label p95 / rebuild = ${(worstP95 / rebuildMs).toFixed(2)}`);
  console.log(`  save after ${edits.length} labels:                       ${saveMs.toFixed(0)} ms   (target for 140 MB after one label <= 1500 ms)`);
  console.log(`  process RSS growth: ${mb(rss - rss0)} MB = ${((rss - rss0) / size).toFixed(2)} x file size (target <= 2x)`);
  m.dispose();
  // Scan workers A/B in this process (rounds alternate so machine load hits both alike):
  // baseline one worker, against two (the default from 250k lines on 2 cores).
  const ab: Record<string, number[]> = { one: [], two: [] };
  for (let round = 0; round < 3; round++) {
    for (const [name, scanWorkers] of (round % 2 ? [['two', 2], ['one', 1]] : [['one', 1], ['two', 2]]) as [string, number | undefined][]) {
      const t = performance.now();
      const x = await LabelingModel.open(file, { workerPath, scanWorkers });
      await x.whenScanned();
      ab[name]!.push(performance.now() - t);
      x.dispose();
    }
  }
  const med = (xs: number[]) => pct(xs).p50;
  console.log(`  open + scan, 3 rounds: one worker (baseline) median ${med(ab.one!).toFixed(0)} ms, two workers median ${med(ab.two!).toFixed(0)} ms, ratio ${(med(ab.two!) / med(ab.one!)).toFixed(2)} on ${os.availableParallelism()} cores; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

/**
 * A run's view of a file of n unique records (HH records, the prompt numbered), 5% of them
 * disputed (two annotators disagree): a dynamics file with a row for every other record (90%
 * training rows with a seeded AUM, 12% of them negative: the suspects; 10% eval rows). Measures
 * matching (keys in the scan workers) against the scan, then the Suspect filter against the
 * Disputed filter: first window, windows at random positions, a selection's position, and a
 * label's host-side cost in each view (the counts, incl. labels changed since the run).
 */
async function suspects(converted: string, n: number) {
  type Msg = { role: string; content: string };
  const base = fs.readFileSync(converted, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { prompt: Msg[]; chosen: Msg[]; rejected: Msg[] });
  /** The record's prompt made unique: its last message numbered. */
  const numbered = (p: Msg[], i: number): Msg[] => [...p.slice(0, -1), { ...p[p.length - 1]!, content: `${p[p.length - 1]!.content} [${i}]` }];
  // A disputed record as the editor writes it: two annotators, opposite sides.
  const tpl = path.join(tmp, 'tpl.pref.jsonl');
  fs.writeFileSync(tpl, JSON.stringify(base[0]) + '\n');
  const tm = await LabelingModel.open(tpl);
  await tm.whenScanned();
  tm.label(0, 'chooseLeft', { annotator: 'ann', seed: 's' }, '2026-01-01T00:00:00.000Z');
  tm.label(0, 'chooseRight', { annotator: 'bo', seed: 's' }, '2026-01-01T00:00:05.000Z');
  if (tm.counts.disputed !== 1) throw new Error('template is not disputed');
  const disputed = JSON.parse(tm.doc.lineText(0)) as Record<string, unknown>;
  tm.dispose();
  const file = path.join(tmp, `unique-${n}.pref.jsonl`);
  const rows = Math.floor(n / 2);
  const key = new Uint8Array(rows * 32);
  const line = new Int32Array(rows);
  const side = new Uint8Array(rows);
  const split = new Uint8Array(rows);
  const visits = new Int32Array(rows).fill(4);
  const aum = new Float32Array(rows);
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const tGen = performance.now();
  const fd = fs.openSync(file, 'w');
  let buf: string[] = [];
  let r = 0;
  for (let i = 0; i < n; i++) {
    const b = base[i % base.length]!;
    const rec: Record<string, unknown> = i % 20 === 6 ? { ...disputed, prompt: numbered(b.prompt, i), chosen: b.chosen, rejected: b.rejected } : { prompt: numbered(b.prompt, i), chosen: b.chosen, rejected: b.rejected };
    buf.push(JSON.stringify(rec));
    if (i % 2 === 0 && r < rows) {
      const k = pairedKeyAndSide(rec.prompt as Msg[], b.chosen, b.rejected);
      key.set(k.key, r * 32);
      line[r] = i + 1;
      side[r] = k.side;
      r++;
    }
    if (buf.length === 10_000) { fs.writeSync(fd, buf.join('\n') + '\n'); buf = []; }
  }
  if (buf.length) fs.writeSync(fd, buf.join('\n') + '\n');
  fs.closeSync(fd);
  const trainRows = Math.floor(rows * 0.9);
  for (let k = 0; k < rows; k++) {
    split[k] = k < trainRows ? 0 : 1;
    aum[k] = rnd() < 0.12 ? -rnd() : rnd();
  }
  const dyn = parseDynamics(encodeDynamics({
    key, line, side, split, visits, aum, confidence: aum.map((a) => 1 / (1 + Math.exp(-a))), variability: aum.map(() => 0.05), correctness: aum.map((a) => (a > 0 ? 1 : 0)), lastMargin: aum,
    metadata: { run: 'bench', method: 'rpo', beta: '0.1', step: '100', epoch: '1', dataset: file, dataset_sha256: '', labels_sha256: '', complete: 'true' },
  }));
  const size = fs.statSync(file).size;
  console.log(`\nSuspect filter: ${n.toLocaleString()} unique records (${mb(size)} MB), a run with ${rows.toLocaleString()} rows; generated in ${((performance.now() - tGen) / 1000).toFixed(1)} s`);
  // The editor keys the lines in the scan when it knows the run's options (the newest run on the
  // file, or a run shown before a reload): the run is then matched from those keys.
  const keyOptions = { mode: 'paired', usable: {} } as const;
  const runId = { name: 'bench', runDir: tmp, notes: [] };
  const rss0 = process.memoryUsage().rss;
  const m = await LabelingModel.open(file, { workerPath, scanKeys: keyOptions });
  await m.whenScanned();
  const scanKeyedMs = m.scanMs;
  const tMatch = performance.now();
  await m.attachRun(dyn, runId, keyOptions);
  const matchMs = performance.now() - tMatch;
  const rss1 = process.memoryUsage().rss;
  const c = m.counts;
  const rc = c.run!;
  if (!m.runKeyedInScan) throw new Error('the run was not matched from the scan\'s keys');
  console.log(`  matched ${rc.matched.toLocaleString()} of ${rc.rows.toLocaleString()} rows by key, ${rc.suspects.toLocaleString()} suspects, ${rc.changed.toLocaleString()} labels changed (the disputed ones): ${matchMs.toFixed(0)} ms after a scan that keyed the lines (${scanKeyedMs.toFixed(0)} ms); RSS of the open model with its run +${mb(rss1 - rss0)} MB`);
  if (rc.matched !== rows) throw new Error(`matched ${rc.matched}, expected ${rows}`);
  // In turns (machine load hits all alike), medians, fresh models:
  //   scan     the scan of a file with no run (baseline), then the keys pass a run shown on it takes (pass: a second parse of every line);
  //   keyed    the scan that keys the lines too, then matching the run from those keys (attach).
  // Wall time and the process's CPU time (user + system, all threads: the scan workers, and this
  // thread, idle while they scan): CPU time is far less disturbed by the other processes of a loaded machine.
  type Phase = 'scan' | 'pass' | 'keyed' | 'attach';
  const ab: Record<Phase, number[]> = { scan: [], pass: [], keyed: [], attach: [] };
  const cpu: Record<Phase, number[]> = { scan: [], pass: [], keyed: [], attach: [] };
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const rounds = Number(values.rounds);
  const loads: string[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const what of round % 2 ? (['keyed', 'scan'] as const) : (['scan', 'keyed'] as const)) {
      const x = await LabelingModel.open(file, { workerPath, ...(what === 'keyed' ? { scanKeys: keyOptions } : {}) });
      const c0 = cpuMs();
      await x.whenScanned();
      const c1 = cpuMs();
      ab[what].push(x.scanMs);
      cpu[what].push(c1 - c0);
      const t = performance.now();
      await x.attachRun(dyn, runId, keyOptions);
      ab[what === 'scan' ? 'pass' : 'attach'].push(performance.now() - t);
      cpu[what === 'scan' ? 'pass' : 'attach'].push(cpuMs() - c1);
      console.log(`    round ${round + 1} ${what === 'scan' ? 'no keys in the scan' : 'keys in the scan'}: scan ${x.scanMs.toFixed(0)} ms (CPU ${(c1 - c0).toFixed(0)} ms), matching ${(performance.now() - t).toFixed(0)} ms (CPU ${(cpuMs() - c1).toFixed(0)} ms); load ${os.loadavg()[0]!.toFixed(1)}`);
      if (x.counts.run!.matched !== rows || x.runKeyedInScan !== (what === 'keyed')) throw new Error(`${what}: matched ${x.counts.run!.matched}`);
      x.dispose();
    }
    loads.push(os.loadavg()[0]!.toFixed(1));
  }
  const medAB = (xs: number[]) => pct(xs).p50;
  const [sc, ps, ky, at] = [medAB(ab.scan), medAB(ab.pass), medAB(ab.keyed), medAB(ab.attach)];
  console.log(`  in turns, ${rounds} rounds, medians: scan of the file with no run (baseline) ${sc.toFixed(0)} ms`);
  console.log(`    before (keys in a second pass): matching ${ps.toFixed(0)} ms, ratio to the scan ${(ps / sc).toFixed(2)}`);
  console.log(`    now (keys in the scan): scan with keys ${ky.toFixed(0)} ms (ratio ${(ky / sc).toFixed(2)}: the keys cost ${(ky - sc).toFixed(0)} ms in the scan), matching after it ${at.toFixed(0)} ms (ratio ${(at / sc).toFixed(3)}); scan + matching ${(ky + at).toFixed(0)} vs ${(sc + ps).toFixed(0)} ms before (${((ky + at) / (sc + ps)).toFixed(2)})`);
  const [csc, cps, cky, cat] = [medAB(cpu.scan), medAB(cpu.pass), medAB(cpu.keyed), medAB(cpu.attach)];
  console.log(`    CPU time (process, all threads): scan ${csc.toFixed(0)} ms; before: matching ${cps.toFixed(0)} ms (ratio ${(cps / csc).toFixed(2)}); now: scan with keys ${cky.toFixed(0)} ms (ratio ${(cky / csc).toFixed(2)}), matching after it ${cat.toFixed(0)} ms (ratio ${(cat / csc).toFixed(3)}); keys + matching now ${(cky - csc + cat).toFixed(0)} ms vs ${cps.toFixed(0)} ms before (ratio to the scan ${((cky - csc + cat) / csc).toFixed(2)} vs ${(cps / csc).toFixed(2)})`);
  console.log(`    load (1 min) after each round ${loads.join(', ')} on ${os.availableParallelism()} cores`);
  // A file without a run: the scan loop with its new per-line hook unset vs the loop as it was
  // (scanLinesBaseline, a copy), on this thread, same lines, in turns, best of 3.
  {
    const n0 = Math.min(m.lineCount, 50_000);
    const idx = m.doc.lineIndex;
    const best: Record<'before' | 'now', number> = { before: Infinity, now: Infinity };
    for (let round = 0; round < 5; round++) {
      for (const what of round % 2 ? (['now', 'before'] as const) : (['before', 'now'] as const)) {
        const t = performance.now();
        if (what === 'now') scanLines(idx, 0, n0);
        else scanLinesBaseline(idx, 0, n0);
        best[what] = Math.min(best[what], performance.now() - t);
      }
    }
    if (values['match-only']) {
      m.dispose();
    }
    console.log(`  a file with no run, the scan loop over ${n0.toLocaleString()} lines on this thread (best of 5, in turns): ${best.now.toFixed(0)} ms vs ${best.before.toFixed(0)} ms for the loop without the key hook (ratio ${(best.now / best.before).toFixed(2)}); load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  }
  if (values['match-only']) return;
  // Windows: first, then 200 at random positions (scrolling), median and p95, per filter.
  const filters: Filter[] = ['disputed', 'suspect'];
  const fig: Record<string, { first: number; win: ReturnType<typeof pct>; pos: ReturnType<typeof pct>; label: ReturnType<typeof pct> }> = {};
  for (let round = 0; round < 2; round++) {
    for (const f of round ? [...filters].reverse() : filters) {
      const t = performance.now();
      const first = await m.rows(f, '', 0, 60);
      const firstMs = performance.now() - t;
      const total = first.matching;
      const win: number[] = [];
      const pos: number[] = [];
      for (let k = 0; k < 200; k++) {
        const p = Math.floor(rnd() * Math.max(total - 60, 1));
        const s = performance.now();
        const w = await m.rows(f, '', p, 60);
        win.push(performance.now() - s);
        const target = w.rows[30]?.index ?? w.rows[0]!.index;
        const s2 = performance.now();
        await m.position(f, '', target);
        pos.push(performance.now() - s2);
      }
      // A label in this view, as the provider does it: edit, counts, the selection's position, the window.
      const lat: number[] = [];
      const edits: LineEdit[] = [];
      for (let k = 0; k < 100; k++) {
        // (a label may take a record out of the Disputed list: pick among the records listed now)
        const len = (await m.rows(f, '', 0, 0)).matching;
        const at = (await m.rows(f, '', Math.floor(rnd() * len), 1)).rows[0]!.index;
        const s = performance.now();
        edits.push(m.label(at, k % 2 ? 'flip' : 'chooseLeft', settings));
        void m.counts;
        m.detail(at, settings.seed);
        const p = await m.position(f, '', at);
        await m.rows(f, '', Math.max(p - 20, 0), 60);
        lat.push(performance.now() - s);
      }
      for (const e of edits.reverse()) m.undo(e);
      if (round === 1) fig[f] = { first: firstMs, win: pct(win), pos: pct(pos), label: pct(lat) };
    }
  }
  const d = fig.disputed!;
  const s = fig.suspect!;
  const row = (name: string, x: typeof d, count: number) => `    ${name.padEnd(22)} ${count.toLocaleString().padStart(9)} rows: first window ${x.first.toFixed(2)} ms; window p50 ${x.win.p50.toFixed(3)} / p95 ${x.win.p95.toFixed(3)} ms; position p50 ${x.pos.p50.toFixed(3)} ms; label p50 ${x.label.p50.toFixed(2)} / p95 ${x.label.p95.toFixed(2)} ms`;
  console.log(row('Disputed (baseline)', d, m.counts.disputed));
  console.log(row('Suspect', s, m.counts.run!.suspects));
  console.log(`    ratios Suspect / Disputed: window p50 ${(s.win.p50 / d.win.p50).toFixed(2)}, p95 ${(s.win.p95 / d.win.p95).toFixed(2)}; position p50 ${(s.pos.p50 / d.pos.p50).toFixed(2)}; label p95 ${(s.label.p95 / d.label.p95).toFixed(2)}`);
  console.log(`    load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores`);
  m.dispose();
}

/**
 * Issue 14: opening a file of N records with 3 votes each stays within the figures of the same
 * records without votes (the plain file, baseline). The editor's model opens each file: the first
 * screen of the two-step open (head model, 60 rows, detail), the whole file ready (read + index, 60
 * rows, detail) and counts ready (worker scan); 3 rounds in turns, medians; RSS growth after the
 * first open of each.
 */
async function votesOpen(n: number) {
  const dir = '/tmp/rpo-bench-agreement';
  const files = { plain: path.join(dir, `base-${n}.pref.jsonl`), votes: path.join(dir, `votes-${n}.pref.jsonl`) };
  for (const f of Object.values(files)) if (!fs.existsSync(f)) throw new Error(`${f} missing: run node --import tsx bench/agreement.ts --records ${n} --skip-merge first`);
  type Fig = { head: number[]; whole: number[]; counts: number[]; rss: number[] };
  const fig: Record<'plain' | 'votes', Fig> = { plain: { head: [], whole: [], counts: [], rss: [] }, votes: { head: [], whole: [], counts: [], rss: [] } };
  const load0 = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  for (let round = 0; round < 3; round++) {
    for (const name of round % 2 ? (['votes', 'plain'] as const) : (['plain', 'votes'] as const)) {
      const h0 = performance.now();
      const head = (await LabelingModel.openHead(files[name], HEAD_BYTES, HEAD_LINES))!;
      await head.rows('all', '', 0, 60);
      head.detail(0, settings.seed);
      fig[name].head.push(performance.now() - h0);
      head.dispose();
      const rss0 = process.memoryUsage().rss;
      const t0 = performance.now();
      const m = await LabelingModel.open(files[name], { workerPath });
      await m.rows('all', '', 0, 60);
      m.detail(0, settings.seed);
      fig[name].whole.push(performance.now() - t0);
      await m.whenScanned();
      fig[name].counts.push(performance.now() - t0);
      fig[name].rss.push(process.memoryUsage().rss - rss0);
      if (m.counts.lines !== n) throw new Error(`${name}: ${m.counts.lines} lines, expected ${n}`);
      m.dispose();
    }
  }
  const med = (xs: number[]) => pct(xs).p50;
  const size = (f: string) => `${mb(fs.statSync(f).size)} MB`;
  console.log(`\nopen ${n.toLocaleString()} records with 3 votes each (${size(files.votes)}) vs the same records without labels (${size(files.plain)}, baseline); 3 rounds in turns, medians:`);
  for (const [what, label] of [['head', 'first screen, two-step open (head)'], ['whole', 'whole file ready (read + index, 60 rows, detail)'], ['counts', 'counts + filters ready (worker scan)']] as const) {
    console.log(`  ${label.padEnd(50)} plain ${med(fig.plain[what]).toFixed(0)} ms, votes ${med(fig.votes[what]).toFixed(0)} ms, ratio ${(med(fig.votes[what]) / med(fig.plain[what])).toFixed(2)}`);
  }
  console.log(`  RSS growth after the first open: plain ${mb(fig.plain.rss[0]!)} MB, votes ${mb(fig.votes.rss[0]!)} MB; load ${load0} -> ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores`);
}

/** scanLines as it was before its per-line hook (the named baseline of the no-run scan). */
function scanLinesBaseline(source: LineSource, from: number, to: number, options: { maxInvalid?: number } = {}) {
  const read = source.lineBytes ? source.lineBytes.bind(source) : source.content!.bind(source);
  const codes = new Uint8Array(Math.max(0, to - from));
  const stats = emptyStats();
  const invalid: { line: number; record: unknown }[] = [];
  const maxInvalid = options.maxInvalid ?? Infinity;
  for (let i = from; i < to; i++) {
    const rec = parseLine(read(i));
    codes[i - from] = lineCode(rec);
    addToStats(stats, rec);
    if (rec.kind === 'invalid' && invalid.length < maxInvalid) invalid.push({ line: i, record: rec });
  }
  return { from, to, codes, stats, invalid };
}

async function main() {
if (values.votes) {
  fs.rmSync(tmp, { recursive: true, force: true });
  await votesOpen(Number(values.records === '100000' ? '1000000' : values.records)); // 1M unless --records says
  return;
}
const converted = path.join(tmp, 'hh.pref.jsonl');
const tImp = performance.now();
const report = await importHhFile(hh, converted);
console.log(`HH import: ${report.written}/${report.records} records in ${(performance.now() - tImp).toFixed(0)} ms, ${report.identical.length} identical pairs`);
if (values.suspects) {
  await suspects(converted, Number(values.records));
  fs.rmSync(tmp, { recursive: true, force: true });
  return;
}
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

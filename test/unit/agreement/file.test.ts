import { test } from 'node:test';
import { buildSync } from 'esbuild';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LineIndex } from '../../../src/core/dataset/lineIndex';
import { parseLine, type ParsedLine } from '../../../src/core/dataset/formats';
import { agreementReport, collectVotes, isoTime, mergePartials, resampleCounts } from '../../../src/core/agreement';
import { mulberry32 } from '../../../src/core/contrast/prng';
import { collectRange, fileAgreement, splitFile } from '../../../src/node/agreementFile';

/**
 * `rpo agreement` over a file (src/node/agreementFile.ts) gives what parseLine + collectVotes +
 * agreementReport give over LineIndex's lines, however the file is cut into ranges and the
 * resamples into blocks, in this thread and in worker threads.
 */
const golden = JSON.parse(readFileSync(path.resolve(__dirname, '../../golden/agreement.json'), 'utf8')) as { tables: { lines: string[]; seed: number }[] };

function reference(file: string, resamples: number, seed: number) {
  return LineIndex.read(file).then((index) => {
    let invalid = 0;
    let firstInvalid: { line: number; field: string | null; reason: string } | null = null;
    const lines: [number, ParsedLine][] = [];
    for (let i = 0; i < index.lineCount; i++) {
      const r = parseLine(index.content(i));
      if (r.kind === 'invalid') {
        invalid++;
        firstInvalid ??= { line: i + 1, field: r.field, reason: r.reason };
      }
      lines.push([i, r]);
    }
    const table = collectVotes(lines);
    return { table, report: agreementReport(table, { resamples, seed }), lines: index.lineCount, invalid, firstInvalid };
  });
}

function writeFiles(): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'rpo-agreement-file-'));
  const files: string[] = [];
  golden.tables.forEach((t, k) => {
    // a BOM, CRLF endings, blank lines, an invalid line, a '\r' inside a line, no final ending
    const lines = [...t.lines];
    lines.splice(3, 0, '', '{"broken": ', '   ');
    const body = lines.map((l, i) => l + (i % 3 === 0 ? '\r\n' : '\n')).join('') + t.lines[0];
    const file = path.join(dir, `t${k}.pref.jsonl`);
    writeFileSync(file, (k === 0 ? '\ufeff' : '') + body);
    files.push(file);
  });
  const bomOnly = path.join(dir, 'bom.pref.jsonl');
  writeFileSync(bomOnly, '\ufeff');
  files.push(bomOnly);
  const endsInNewline = path.join(dir, 'nl.pref.jsonl');
  writeFileSync(endsInNewline, golden.tables[0]!.lines.join('\n') + '\n\n');
  files.push(endsInNewline);
  return files;
}

test('ranges cut at line starts and merged in order give the whole file\'s table', async () => {
  for (const file of writeFiles()) {
    const ref = await reference(file, 0, 0);
    for (let parts = 1; parts <= 7; parts++) {
      const cuts = splitFile(file, parts);
      let offset = 0;
      let invalid = 0;
      const results = cuts.slice(1).map((to, i) => {
        const r = collectRange(file, cuts[i]!, to);
        const part = { partial: r.partial, lineOffset: offset };
        offset += r.lines;
        invalid += r.invalid;
        return part;
      });
      const table = mergePartials(results);
      const where = `${path.basename(file)}, ${parts} parts`;
      assert.equal(offset, ref.lines, `${where}: lines`);
      assert.equal(invalid, ref.invalid, `${where}: invalid lines`);
      assert.deepEqual(table, ref.table, where);
    }
  }
});

test('fileAgreement equals the reference in this thread and in worker threads', async () => {
  const files = writeFiles();
  // the worker bundled as scripts/build.mjs bundles it (dist/workers/agreement.js)
  const workerPath = path.join(path.dirname(files[0]!), 'agreement.js');
  buildSync({ entryPoints: [path.resolve(__dirname, '../../../src/node/agreement.worker.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: workerPath, logLevel: 'warning' });
  for (const file of files.slice(0, 3)) {
    const t = golden.tables[files.indexOf(file)]!;
    const ref = await reference(file, 200, t.seed);
    const one = await fileAgreement(file, { resamples: 200, seed: t.seed, threads: 0 });
    assert.equal(one.workers, 0);
    assert.deepEqual([one.lines, one.invalidLines, one.firstInvalid], [ref.lines, ref.invalid, ref.firstInvalid]);
    assert.deepEqual(one.report, ref.report);
    const three = await fileAgreement(file, { resamples: 200, seed: t.seed, threads: 3, workerPath });
    assert.equal(three.workers, 3);
    assert.deepEqual([three.lines, three.invalidLines, three.firstInvalid], [ref.lines, ref.invalid, ref.firstInvalid]);
    assert.deepEqual(three.report, ref.report);
  }
  // the first invalid line in a later range: numbered in the whole file
  const late = path.join(path.dirname(files[0]!), 'late.pref.jsonl');
  writeFileSync(late, [...golden.tables[0]!.lines, ...golden.tables[1]!.lines, '{"broken": ', '[]'].join('\n') + '\n');
  const ref = await reference(late, 0, 0);
  const three = await fileAgreement(late, { resamples: 0, threads: 3, workerPath });
  assert.ok(ref.firstInvalid && ref.firstInvalid.line > ref.lines / 2, 'the invalid line is in the last range');
  assert.deepEqual([three.invalidLines, three.firstInvalid], [ref.invalid, ref.firstInvalid]);
});

test('resampleCounts: the draws of mulberry32 from the seed, in any split of the resamples', () => {
  let x = 99;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296);
  for (const K of [1, 2, 5, 300]) {
    const n = 1003;
    const items = Int32Array.from({ length: n }, () => Math.floor(rnd() * K));
    const B = 7;
    const seed = 4294967296 * 3 + 12345; // reduced mod 2^32, as mulberry32 does
    const next = mulberry32(seed);
    const expected = new Int32Array(B * K);
    for (let r = 0; r < B; r++) for (let i = 0; i < n; i++) expected[r * K + items[Math.floor((next() * n) / 4294967296)]!]!++;
    assert.deepEqual(resampleCounts(items, K, seed, 0, B), expected, `K=${K}`);
    const split = new Int32Array(B * K);
    split.set(resampleCounts(items, K, seed, 0, 3), 0);
    split.set(resampleCounts(items, K, seed, 3, 4), 3 * K);
    split.set(resampleCounts(items, K, seed, 4, B), 4 * K);
    assert.deepEqual(split, expected, `K=${K}, split`);
  }
});

test('isoTime equals Date.parse', () => {
  let x = 5;
  const rnd = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % n);
  const pad = (v: number, w: number) => String(v).padStart(w, '0');
  const samples = ['2026-12-01T09:00:09.000Z', '2026-12-01T09:00:09Z', '2026-12-01T09:00:09.000+01:00', 'yesterday', '', '1969-12-31T23:59:59.999Z', '0099-01-01T00:00:00.000Z', '2024-02-29T00:00:00.000Z', '2023-02-29T00:00:00.000Z', '2026-13-01T00:00:00.000Z', '2026-12-01T24:00:00.000Z', '2026-12-01T09:60:00.000Z', '2026-12-01T09:00:60.000Z', '2026-12-00T09:00:00.000Z', '2026-12-01 09:00:00.000Z', '2026-12-01T09:00:0x.000Z'];
  for (let i = 0; i < 3000; i++) samples.push(`${pad(1900 + rnd(300), 4)}-${pad(rnd(14), 2)}-${pad(rnd(33), 2)}T${pad(rnd(26), 2)}:${pad(rnd(62), 2)}:${pad(rnd(62), 2)}.${pad(rnd(1000), 3)}Z`);
  for (const s of samples) assert.ok(Object.is(isoTime(s), Date.parse(s)), `${s}: ${isoTime(s)} vs ${Date.parse(s)}`);
});

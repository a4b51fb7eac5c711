import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSync } from 'esbuild';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileAgreement } from '../../../src/node/agreementFile';
import { agreementJob, agreementJobInWorker } from '../../../src/node/agreementJob';
import { parseViewMessage, type AgreementReportPayload } from '../../../src/protocol/agreement';
import { contrastRatio, fmt, fmtEstimate, fmtP, interpretation, kappaColour, landisKoch, pairMatrix, textOn, type HeatPalette } from '../../../webview/agreement/model';

/** The agreement panel's view model (webview/agreement/model.ts), its protocol and its host job (src/node/agreementJob.ts). */

const palette: HeatPalette = { negative: [200, 0, 0], zero: [30, 30, 30], positive: [0, 200, 100], light: [230, 230, 230], dark: [30, 30, 30] };

test('Landis & Koch bands, upper bounds inclusive', () => {
  const cases: [number | null, string | null][] = [[-0.01, 'poor'], [0, 'slight'], [0.2, 'slight'], [0.2001, 'fair'], [0.4, 'fair'], [0.6, 'moderate'], [0.8, 'substantial'], [0.81, 'almost perfect'], [1, 'almost perfect'], [null, null], [Number.NaN, null]];
  for (const [k, band] of cases) assert.equal(landisKoch(k), band, String(k));
});

test('heatmap colours: zero at 0, the ends at -1 and 1, linear between, clamped, none for undefined', () => {
  assert.deepEqual(kappaColour(0, palette), [30, 30, 30]);
  assert.deepEqual(kappaColour(1, palette), [0, 200, 100]);
  assert.deepEqual(kappaColour(-1, palette), [200, 0, 0]);
  assert.deepEqual(kappaColour(0.5, palette), [15, 115, 65]);
  assert.deepEqual(kappaColour(-0.5, palette), [115, 15, 15]);
  assert.deepEqual(kappaColour(3, palette), [0, 200, 100]);
  assert.equal(kappaColour(null, palette), null);
  assert.equal(kappaColour(Number.NaN, palette), null);
});

test('cell text takes the colour with more contrast on the cell', () => {
  assert.equal(Math.round(contrastRatio([0, 0, 0], [255, 255, 255])), 21);
  assert.deepEqual(textOn([30, 30, 30], palette), palette.light);
  assert.deepEqual(textOn([240, 240, 200], palette), palette.dark);
  // every cell of the scale is readable with the chosen text colour (WCAG large text: 3:1)
  for (let k = -1; k <= 1; k += 0.05) {
    const bg = kappaColour(k, palette)!;
    assert.ok(contrastRatio(bg, textOn(bg, palette)) >= 3, `kappa ${k}: ${contrastRatio(bg, textOn(bg, palette))}`);
  }
});

test('formats as rpo agreement prints them', () => {
  assert.equal(fmt(null), 'n/a');
  assert.equal(fmt(0.12345), '0.123');
  assert.equal(fmtEstimate({ value: 0.5, ci: [0.25, 0.75] }), '0.500 [0.250, 0.750]');
  assert.equal(fmtEstimate({ value: 0.5, ci: null }), '0.500');
  assert.equal(fmtP(0.0004), '4.0e-4');
  assert.equal(fmtP(0.04), '0.040');
  assert.equal(fmtP(null), 'n/a');
});

function report(names: string[], pairs: [string, string, number | null][]): AgreementReportPayload {
  const e = (value: number | null) => ({ value, ci: value === null ? null : ([value - 0.1, value + 0.1] as [number, number]) });
  return {
    items: 10, annotators: names.length, recordsWithVotes: 10,
    percentAgreement: e(0.7), fleiss: { raters: 3, items: 10, kappa: e(0.45) }, alphaNominal: e(0.46), alphaOrdinal: e(0.5),
    cohen: pairs.map(([a, b, k]) => ({ a, b, items: 5, kappa: e(k) })),
    bootstrap: { resamples: 100, seed: 0 },
    perAnnotator: names.map((annotator) => ({ annotator, votes: 10, agreeWithResolved: 8, resolvedCompared: 10, picks: 9, leftPicks: 5, leftShare: 5 / 9, leftPValue: 1, ties: 1, skips: 0, medianSeconds: 12 })),
  };
}

test('pair matrix: one cell per pair of annotators, lower triangle, in the report\'s annotator order; a pair without shared items is empty', () => {
  const odd = '<img src=x onerror=alert(1)>';
  const r = report(['ada', 'bo', odd, 'dee'], [['ada', 'bo', 0.5], [odd, 'ada', 0.2], ['bo', odd, -0.1], ['ada', 'dee', 1]]);
  const { names, rows } = pairMatrix(r);
  assert.deepEqual(names, ['ada', 'bo', odd, 'dee']);
  assert.deepEqual(rows.map((row) => row.length), [1, 2, 3]);
  assert.deepEqual(rows[0]![0], { a: 'bo', b: 'ada', items: 5, kappa: r.cohen[0]!.kappa });
  assert.equal(rows[1]![0]!.kappa.value, 0.2); // (odd, ada): found whichever way the report orders the pair
  assert.equal(rows[1]![1]!.kappa.value, -0.1);
  assert.equal(rows[2]![0]!.kappa.value, 1);
  assert.equal(rows[2]![1], null); // dee and bo share nothing
  assert.equal(rows[2]![2], null);
  const cells = rows.flat().filter((c) => c !== null).length;
  assert.equal(cells, r.cohen.length);
  // an annotator in no pair is not a row or column
  assert.deepEqual(pairMatrix(report(['ada', 'bo', 'solo'], [['ada', 'bo', 0.3]])).names, ['ada', 'bo']);
});

test('interpretation names the scale and the band', () => {
  const r = report(['ada', 'bo'], [['ada', 'bo', 0.5]]);
  assert.match(interpretation(r), /Fleiss' kappa 0\.450 is moderate agreement on the Landis & Koch \(1977\) scale/);
  assert.match(interpretation(r), /spans fair to moderate/); // [0.35, 0.55]
  assert.match(interpretation({ ...r, items: 0 }), /no agreement to measure/i);
});

test('view messages: ready and refresh only, nothing else', () => {
  assert.deepEqual(parseViewMessage({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseViewMessage({ type: 'refresh' }), { type: 'refresh' });
  for (const bad of [null, [], 'refresh', { type: 'refresh', file: '/etc/passwd' }, { type: 'open' }, {}]) assert.equal(typeof parseViewMessage(bad), 'string', JSON.stringify(bad));
});

const vote = (annotator: string, choice: string | null, status: string | null = null) => ({ annotator, time: '2026-12-01T09:00:00.000Z', choice, strength: null, status, note: null, shown: ['chosen', 'rejected'], adjudicator: false });
const line = (i: number, votes: object[]) => JSON.stringify({ prompt: `Q${i}?`, chosen: `a${i}`, rejected: `b${i}`, rpo_label: { annotator: 'ada', time: '2026-12-01T09:00:00.000Z', status: null, strength: null, note: null, shown: ['chosen', 'rejected'], flipped: false }, rpo_votes: votes });

test('first invalid line: 1-based, with its field, after a BOM and CRLF endings; none when all lines are valid', async () => {
  const firstInvalidLine = async (file: string) => (await fileAgreement(file, { threads: 0 })).firstInvalid;
  const dir = mkdtempSync(path.join(tmpdir(), 'rpo-agreement-view-'));
  const good = [0, 1, 2].map((i) => line(i, [vote('ada', 'chosen'), vote('bo', 'rejected')]));
  const bad = line(9, [vote('ada', 'chosen'), vote('bo', 'left')]);
  const f1 = path.join(dir, 'a.pref.jsonl');
  writeFileSync(f1, '\ufeff' + [good[0], good[1], '', bad, good[2]].join('\r\n'));
  assert.deepEqual(await firstInvalidLine(f1), { line: 4, field: 'rpo_votes[1].choice', reason: 'field "rpo_votes[1].choice" must be one of chosen, rejected or null, found "left"' });
  const f2 = path.join(dir, 'b.pref.jsonl');
  writeFileSync(f2, [...good, '{"prompt": '].join('\n')); // the last line, without an ending
  assert.equal((await firstInvalidLine(f2))?.line, 4);
  const f3 = path.join(dir, 'c.pref.jsonl');
  writeFileSync(f3, good.join('\n') + '\n');
  assert.equal(await firstInvalidLine(f3), null);
});

test('the panel\'s job in a worker gives fileAgreement\'s report; cancelling rejects with AbortError', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rpo-agreement-job-'));
  const root = path.resolve(__dirname, '../../..');
  const build = (entry: string, out: string) => buildSync({ entryPoints: [path.join(root, entry)], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: path.join(dir, out), logLevel: 'warning' });
  build('src/node/agreementJob.worker.ts', 'agreementJob.js');
  build('src/node/agreement.worker.ts', 'agreement.js');
  const names = ['ada', 'bo', '<b>cy</b>'];
  const lines: string[] = [];
  for (let i = 0; i < 60; i++) lines.push(line(i, names.map((n, k) => vote(n, (i * (k + 2)) % 5 === 0 ? 'rejected' : i % 7 === k ? null : 'chosen', (i * (k + 2)) % 5 !== 0 && i % 7 === k ? 'tie' : null))));
  lines.splice(10, 0, line(99, [vote('ada', 'chosen'), vote('bo', 'sideways')]));
  const file = path.join(dir, 'votes.pref.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  const req = { path: file, agreementWorker: path.join(dir, 'agreement.js') };
  const got = await agreementJobInWorker(path.join(dir, 'agreementJob.js'), req);
  const ref = await fileAgreement(file, { threads: 0 });
  assert.deepEqual(got.report, ref.report);
  assert.equal(got.invalidLines, 1);
  assert.deepEqual(got.firstInvalid, { line: 11, field: 'rpo_votes[1].choice', reason: 'field "rpo_votes[1].choice" must be one of chosen, rejected or null, found "sideways"' });
  assert.equal(got.report.annotators, 3);
  assert.ok(got.report.items > 0);
  assert.deepEqual((await agreementJob(req)).report, ref.report);
  const abort = new AbortController();
  const running = agreementJobInWorker(path.join(dir, 'agreementJob.js'), req, abort.signal);
  abort.abort();
  await assert.rejects(running, (e: Error) => e.name === 'AbortError');
});

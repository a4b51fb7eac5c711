import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseText, type ParsedLine } from '../../../src/core/dataset/formats';
import { agreementReport, binomTestHalf, collectVotes, interval } from '../../../src/core/agreement';

/**
 * test/golden/agreement.json: generated vote tables (missing votes, flipped records, candidates,
 * skips) scored by scikit-learn, statsmodels, the krippendorff package and scipy, bootstrap
 * intervals replayed with the same seeded resampling (scripts/golden/make_agreement.py).
 */
interface Est { value: number | null; ci: [number, number] | null }
const golden = JSON.parse(readFileSync(resolve(__dirname, '../../golden/agreement.json'), 'utf8')) as {
  tolerance: number;
  tables: { name: string; seed: number; resamples: number; lines: string[]; expected: Record<string, unknown> & { cohen: { a: string; b: string; items: number; kappa: Est }[]; perAnnotator: Record<string, unknown>[] } }[];
};
const tol = golden.tolerance;

function close(actual: unknown, expected: unknown, where: string): void {
  if (expected === null || typeof expected !== 'number') {
    assert.deepEqual(actual, expected, where);
    return;
  }
  assert.equal(typeof actual, 'number', `${where}: expected ${expected}, got ${String(actual)}`);
  assert.ok(Math.abs((actual as number) - expected) <= tol, `${where}: ${actual as number} vs ${expected}`);
}
function closeEst(actual: Est, expected: Est, where: string): void {
  close(actual.value, expected.value, `${where}.value`);
  if (expected.ci === null) assert.equal(actual.ci, null, `${where}.ci`);
  else {
    assert.ok(actual.ci, `${where}.ci missing`);
    close(actual.ci[0], expected.ci[0], `${where}.ci[0]`);
    close(actual.ci[1], expected.ci[1], `${where}.ci[1]`);
  }
}

for (const table of golden.tables) {
  test(`agreement equals the reference packages: ${table.name}`, () => {
    const parsed: [number, ParsedLine][] = table.lines.map((l, i) => [i, parseText(l)]);
    for (const [i, r] of parsed) assert.notEqual(r.kind, 'invalid', `line ${i + 1}: ${r.kind === 'invalid' ? r.reason : ''}`);
    const rep = agreementReport(collectVotes(parsed), { resamples: table.resamples, seed: table.seed });
    const e = table.expected as Record<string, never> & typeof table.expected;
    assert.equal(rep.items, e.items);
    closeEst(rep.percentAgreement, e.percentAgreement as Est, 'percentAgreement');
    const f = e.fleiss as { raters: number; items: number; kappa: Est };
    assert.deepEqual([rep.fleiss.raters, rep.fleiss.items], [f.raters, f.items]);
    closeEst(rep.fleiss.kappa, f.kappa, 'fleiss');
    closeEst(rep.alphaNominal, e.alphaNominal as Est, 'alphaNominal');
    closeEst(rep.alphaOrdinal, e.alphaOrdinal as Est, 'alphaOrdinal');
    assert.deepEqual(rep.cohen.map((c) => [c.a, c.b, c.items]), e.cohen.map((c) => [c.a, c.b, c.items]));
    rep.cohen.forEach((c, i) => closeEst(c.kappa, e.cohen[i]!.kappa, `cohen ${c.a}/${c.b}`));
    assert.equal(rep.perAnnotator.length, e.perAnnotator.length);
    rep.perAnnotator.forEach((a, i) => {
      for (const [k, v] of Object.entries(e.perAnnotator[i]!)) close((a as unknown as Record<string, unknown>)[k], v, `${a.annotator}.${k}`);
    });
  });
}

test('binomial test against 1/2 matches scipy on edge cases', () => {
  assert.equal(binomTestHalf(5, 10), 1);
  assert.equal(binomTestHalf(0, 0), 1);
  close(binomTestHalf(0, 10), 2 / 1024, 'k=0');
  close(binomTestHalf(10, 10), 2 / 1024, 'k=n');
  close(binomTestHalf(2, 10), (2 * (1 + 10 + 45)) / 1024, 'k=2');
  close(binomTestHalf(4, 9), 1, 'n odd, middle');
});

test('percentile interval: numpy linear interpolation', () => {
  assert.deepEqual(interval([]), null);
  assert.deepEqual(interval([3]), [3, 3]);
  const v = Array.from({ length: 11 }, (_, i) => 10 - i);
  const ci = interval(v)!;
  close(ci[0], 0.25, 'lo');
  close(ci[1], 9.75, 'hi');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseText, type ParsedLine } from '../../../src/core/dataset/formats';
import { collectJudgements, lengthControlled, parseSources, winrateReport, wilson } from '../../../src/core/winrate';
import { pairKeyHexOf as pairKeyHex } from '../../../src/node/winrate';

/**
 * test/golden/winrate.json: judged candidates files with their sidecars, the figures computed by
 * statsmodels (Wilson, GLM with freq_weights), scikit-learn (cross-check), scipy (binomtest) and
 * the seeded bootstrap replayed with numpy (scripts/golden/make_winrate.py). Equal to 1e-6.
 */
const golden = JSON.parse(readFileSync(resolve(__dirname, '../../golden/winrate.json'), 'utf8')) as {
  tolerance: number;
  cases: { name: string; seed: number; resamples: number; lines: string[]; sidecar: string[]; expected: Record<string, unknown> & { perAnnotator: Record<string, unknown>[] } }[];
};
const tol = golden.tolerance;

function close(actual: unknown, expected: unknown, where: string): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${where}: expected a list, got ${JSON.stringify(actual)}`);
    assert.equal(actual.length, expected.length, `${where}.length`);
    expected.forEach((e, i) => close((actual as unknown[])[i], e, `${where}[${i}]`));
  } else if (expected !== null && typeof expected === 'object') {
    for (const [k, e] of Object.entries(expected)) close((actual as Record<string, unknown>)?.[k], e, `${where}.${k}`);
  } else if (typeof expected === 'number') {
    assert.equal(typeof actual, 'number', `${where}: expected ${expected}, got ${String(actual)}`);
    assert.ok(Math.abs((actual as number) - expected) <= tol, `${where}: ${actual as number} vs ${expected}`);
  } else assert.deepEqual(actual, expected, where);
}

for (const c of golden.cases) {
  test(`win rate equals the reference packages: ${c.name}`, () => {
    const sources = parseSources(c.sidecar.join('\n') + '\n', 'x.sources.jsonl');
    const lines: [number, ParsedLine][] = c.lines.map((l, i) => [i, parseText(l)]);
    const report = winrateReport(collectJudgements(lines, sources, pairKeyHex, 'x.pref.jsonl', 'x.sources.jsonl'), sources, { resamples: c.resamples, seed: c.seed });
    const { perAnnotator, ...rest } = c.expected;
    close(report, rest, c.name);
    assert.deepEqual(report.perAnnotator.map((a) => a.annotator).sort(), perAnnotator.map((a) => a.annotator as string).sort(), 'annotators');
    for (const e of perAnnotator) close(report.perAnnotator.find((a) => a.annotator === e.annotator), e, `${c.name}.${e.annotator as string}`);
  });
}

test('wilson: n = 0 has no interval; all wins reaches 1', () => {
  assert.equal(wilson(0, 0), null);
  assert.ok(Math.abs(wilson(10, 10)![1] - 1) < 1e-12);
});

test('length-controlled win rate: null with a reason when it cannot be estimated', () => {
  assert.equal(lengthControlled([], []).reason, 'no judgements');
  assert.equal(lengthControlled([1, 1, 1], [1, 2, 3]).reason, 'one outcome only');
  assert.equal(lengthControlled([1, 0, 0.5], [4, 4, 4]).reason, 'length difference does not vary');
  // every longer answer won: the slope runs off (complete separation)
  assert.equal(lengthControlled([1, 1, 0, 0], [5, 3, -2, -6]).reason, 'no convergence');
  // ties keep both outcomes in the likelihood: estimable
  assert.equal(lengthControlled([1, 0.5, 0, 0.5, 1], [5, 3, -2, -6, 0]).reason, null);
});

// `rpo agreement` as a real process over a file written from the golden vote table.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { rpoCli } from '../../support/cli';

const rpo = rpoCli();
const golden = JSON.parse(readFileSync(path.resolve(__dirname, '../../golden/agreement.json'), 'utf8')) as { tables: { lines: string[]; seed: number; resamples: number; expected: { items: number; fleiss: { kappa: { value: number; ci: number[] } }; cohen: { a: string; kappa: { value: number } }[] } }[] };

test('rpo agreement --json prints the measures of the file; text names every annotator pair', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rpo-agreement-'));
  const file = path.join(dir, 'votes.pref.jsonl');
  const t = golden.tables[0]!;
  writeFileSync(file, t.lines.join('\n') + '\n{"broken": \n');
  const r = rpo('agreement', file, '--json', '--seed', String(t.seed), '--resamples', String(t.resamples));
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { items: number; invalidLines: number; fleiss: { kappa: { value: number; ci: number[] } }; cohen: { kappa: { value: number } }[] };
  assert.equal(out.items, t.expected.items);
  assert.equal(out.invalidLines, 1);
  assert.ok(Math.abs(out.fleiss.kappa.value - t.expected.fleiss.kappa.value) < 1e-9);
  assert.ok(Math.abs(out.fleiss.kappa.ci[0]! - t.expected.fleiss.kappa.ci[0]!) < 1e-9);
  assert.ok(Math.abs(out.cohen[0]!.kappa.value - t.expected.cohen[0]!.kappa.value) < 1e-9);
  const txt = rpo('agreement', file, '--resamples', '0');
  assert.equal(txt.status, 0, txt.stderr);
  assert.match(txt.stdout, /54 items with two or more votes, 3 annotators/);
  assert.match(txt.stdout, /Cohen's kappa "ada" \/ "bo": 0\.370 \(37 items\)/);
  assert.match(txt.stdout, /1 invalid lines left out/);
  const bad = rpo('agreement', file, '--seed', '-1');
  assert.equal(bad.status, 2);
});

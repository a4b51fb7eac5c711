import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { planEpoch } from '../../../src/core/contrast';

/** `rpo embed` and `rpo weights` as a user runs them (the built CLI, the tiny-bert fixture model). */
const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');
const tiny = path.join(root, 'test/fixtures/models/tiny-bert');
before(() => {
  if (!fs.existsSync(cli) || !fs.existsSync(path.join(root, 'dist/workers/embed.js'))) execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
});

function rpo(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function workspace(lines: unknown[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-cli-'));
  fs.writeFileSync(path.join(dir, 'data.pref.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return dir;
}

const paired = (i: number, prompt = `Question ${i}: how do I ${['bake bread', 'fix a bike', 'learn piano'][i % 3]}?`) => ({ prompt, chosen: `good ${i}`, rejected: `bad ${i}` });

test('rpo embed: writes the cache, reports empty and over-long prompts by line, then finds everything cached', () => {
  const dir = workspace([paired(0), paired(1, ''), paired(2, 'long words '.repeat(300)), paired(3)]);
  const first = rpo(['embed', 'data.pref.jsonl', '--model', tiny, '--precision', 'fp32'], dir);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /4 prompts embedded, 0 already cached/);
  assert.match(first.stdout, /1 prompts longer than 128 tokens were cut to 128 \(lines 3\)/);
  assert.match(first.stdout, /1 empty prompts \(lines 2\)/);
  assert.ok(fs.existsSync(path.join(dir, '.rpo/embeddings/tiny-bert.fp32.safetensors')));
  const cacheFile = path.join(dir, '.rpo/embeddings/tiny-bert.fp32.safetensors');
  const before = fs.statSync(cacheFile);
  const again = JSON.parse(rpo(['embed', 'data.pref.jsonl', '--model', tiny, '--precision', 'fp32', '--json'], dir).stdout);
  assert.equal(again.embedded, 0);
  assert.equal(again.cached, 4);
  assert.deepEqual(again.empty_lines, [2]);
  const after = fs.statSync(cacheFile);
  assert.deepEqual([after.ino, after.mtimeMs], [before.ino, before.mtimeMs], 'an unchanged dataset does not rewrite the cache');
  // one changed and one new prompt (non-ASCII, the scan's latin1 path): only those are embedded
  fs.appendFileSync(path.join(dir, 'data.pref.jsonl'), JSON.stringify(paired(4, 'Ça va, «RPO»? 日本語')) + '\n');
  const more = JSON.parse(rpo(['embed', 'data.pref.jsonl', '--model', tiny, '--precision', 'fp32', '--json'], dir).stdout);
  assert.deepEqual([more.embedded, more.cached, more.prompts], [1, 4, 5]);
});

test('rpo embed: user errors name the problem', () => {
  const dir = workspace([paired(0)]);
  const noFile = rpo(['embed', 'nope.jsonl', '--model', tiny], dir);
  assert.equal(noFile.status, 2);
  assert.match(noFile.stderr, /cannot read nope\.jsonl: ENOENT/);
  fs.cpSync(tiny, path.join(dir, 'broken-model'), { recursive: true });
  fs.rmSync(path.join(dir, 'broken-model/tokenizer.json'));
  const broken = rpo(['embed', 'data.pref.jsonl', '--model', './broken-model', '--precision', 'fp32'], dir);
  assert.equal(broken.status, 1);
  assert.match(broken.stderr, /broken-model is missing tokenizer\.json/);
  assert.match(rpo(['embed', 'data.pref.jsonl', '--precision', 'int4'], dir).stderr, /--precision must be q8 or fp32/);
  // a corrupt cache is rebuilt with a warning
  fs.mkdirSync(path.join(dir, '.rpo/embeddings'), { recursive: true });
  fs.writeFileSync(path.join(dir, '.rpo/embeddings/tiny-bert.fp32.safetensors'), 'garbage');
  const rebuilt = rpo(['embed', 'data.pref.jsonl', '--model', tiny, '--precision', 'fp32'], dir);
  assert.equal(rebuilt.status, 0, rebuilt.stderr);
  assert.match(rebuilt.stderr, /warn embedding cache is corrupt, rebuilding it/);
  assert.match(rebuilt.stdout, /1 prompts embedded/);
});

test('rpo weights --json: the batch the trainer forms, rows sum to 1, effective beta = beta * w_ii', () => {
  const dir = workspace(Array.from({ length: 10 }, (_, i) => paired(i)));
  const r = rpo(['weights', 'data.pref.jsonl', '--model', tiny, '--precision', 'fp32', '--tau', '0.5', '--batch-size', '4', '--seed', '7', '--json'], dir);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.batches, 2); // 10 records, batch 4: the last 2 are dropped
  assert.equal(out.weights.length, 4);
  for (const row of out.weights) assert.ok(Math.abs(row.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-9);
  out.effective_beta.forEach((b: number, i: number) => assert.ok(Math.abs(b - 0.1 * out.weights[i][i]) < 1e-12));
  assert.ok(Math.abs(out.off_diagonal_mass - (1 - out.weights.reduce((s: number, row: number[], i: number) => s + row[i]!, 0) / 4)) < 1e-12);
  assert.equal(out.neighbour_histogram.total, 10);
  // the same rows as the golden-tested sampler: epoch 0 of seed 7 over 10 records
  const plan = planEpoch(10, { seed: 7, epoch: 0, batchSize: 4, numProcesses: 1 });
  assert.deepEqual(out.row_lines, plan.batches[0]!.map((i) => i + 1));
});

test('rpo weights: a dataset smaller than the batch size is one short batch, with a warning; text output', () => {
  const dir = workspace([paired(0), paired(1), paired(2), { ...paired(3), rpo_label: { annotator: 'a', time: '2026-01-01T00:00:00.000Z', status: 'skip', strength: null, note: null, shown: null, flipped: false } }]);
  const r = rpo(['weights', 'data.pref.jsonl', '--model', tiny, '--precision', 'fp32', '--batch-size', '8'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /3 usable paired records, 3 for training/);
  assert.match(r.stdout, /warning: only 3 training records, fewer than the global batch 8: the trainer makes one batch of all of them/);
  assert.match(r.stdout, /effective beta of same-prompt pairs/);
  assert.match(r.stdout, /weight mass off the diagonal: \d+\.\d%/);
});

test('rpo weights --unpaired: chosen x rejected; --config reads a run config', () => {
  const dir = workspace([{ prompt: 'a?', completion: 'x', label: true }, { prompt: 'b?', completion: 'y', label: false }, paired(0)]);
  fs.writeFileSync(path.join(dir, 'run.rpo.json'), JSON.stringify({ model: 'x', dataset: 'data.pref.jsonl', method: 'rpo-unpaired', tau: 0.25, batch_size: 4, seed: 3, embeddings: { model: tiny, precision: 'fp32' } }));
  const r = rpo(['weights', '--config', 'run.rpo.json', '--json'], dir);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.settings.mode, 'unpaired');
  assert.equal(out.settings.tau, 0.25);
  assert.equal(out.usable, 4); // 2 unpaired + the paired record's chosen and rejected
  assert.equal(out.row_lines.length, 2);
  assert.equal(out.col_lines.length, 2);
  assert.equal(out.effective_beta.length, 0);
  const bad = rpo(['weights', 'data.pref.jsonl', '--tau', '0', '--model', tiny], dir);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--tau must be a number > 0/);
});

test('rpo weights --config: paths as the trainer resolves them (docs/contracts.md §6): a model folder named without ./ next to the config, the dataset and cache relative to the config', () => {
  const dir = workspace([paired(0), paired(1), paired(2)]);
  fs.mkdirSync(path.join(dir, 'configs'));
  fs.cpSync(tiny, path.join(dir, 'configs', 'tiny-bert'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'configs', 'run.rpo.json'), JSON.stringify({ model: 'x', dataset: '../data.pref.jsonl', embeddings: { model: 'tiny-bert', precision: 'fp32' } }));
  // Run from the workspace, not the config's folder: nothing may resolve against the working directory.
  const r = rpo(['weights', '--config', path.join('configs', 'run.rpo.json'), '--json'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).usable, 3);
  assert.ok(fs.existsSync(path.join(dir, 'configs', '.rpo', 'embeddings', 'tiny-bert.fp32.safetensors')), 'the cache the trainer reads for this config');

  fs.writeFileSync(path.join(dir, 'configs', 'bad.rpo.json'), '{\n  "model": "x",\n  "dataset": "../data.pref.jsonl",\n  "batch_size": 0\n}\n');
  const bad = rpo(['weights', '--config', path.join('configs', 'bad.rpo.json')], dir);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /configs\/bad\.rpo\.json:4: batch_size: must be >= 1, got 0/);
});

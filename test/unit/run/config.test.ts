import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DEFAULT_SETTINGS } from '../../../src/core/contrast/preview';
import {
  METHODS, METHOD_NAMES, RunConfigError, contrastSettingsOf, isRunMethod, launchPlanOf, parseRunConfig, readRunConfig, usesEmbeddings, validateRunConfig,
} from '../../../src/core/run/config';
import schema from '../../../trainer/rpo_trainer/schemas/run-config.schema.json';

const root = path.resolve(__dirname, '..', '..', '..');

function problem(text: string): RunConfigError {
  try {
    parseRunConfig(text, 'run.rpo.json');
  } catch (err) {
    assert.ok(err instanceof RunConfigError, `expected a RunConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail(`accepted: ${text}`);
}

test('generated types: src/core/run/runConfig.generated.ts is what the schema gives (run scripts/gen-run-config-types.mjs after a schema change)', () => {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'gen-run-config-types.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr || r.stdout);
});

test('defaults: every key the schema defaults is filled in, nested ones too; the input is not changed', () => {
  const input = { model: 'm', dataset: 'd.jsonl', embeddings: { precision: 'fp32' } };
  const c = validateRunConfig(input, 'x');
  assert.deepEqual(input, { model: 'm', dataset: 'd.jsonl', embeddings: { precision: 'fp32' } });
  assert.equal(c.method, 'rpo');
  assert.equal(c.batch_size, 4);
  assert.equal(c.max_steps, null);
  assert.equal(c.output_dir, '.rpo/runs');
  assert.deepEqual(c.embeddings, { model: 'sentence-transformers/all-MiniLM-L6-v2', precision: 'fp32', cache_dir: '.rpo/embeddings', compute_missing: true });
  assert.equal(c.lora.r, 16);
  for (const [key, spec] of Object.entries(schema.properties)) {
    if ('default' in spec) assert.deepEqual((c as Record<string, unknown>)[key], spec.default, key);
  }
});

test('errors name the file, the line and the key', () => {
  const cases: [string, RegExp][] = [
    ['{\n  "model": "m",\n  "dataset": "d",\n  "learning_rat": 1e-5\n}', /^run\.rpo\.json:4: learning_rat: unknown key \(allowed: .*learning_rate/],
    ['{\n  "model": "m",\n  "dataset": "d",\n  "lora": {\n    "rank": 8\n  }\n}', /^run\.rpo\.json:5: lora\.rank: unknown key/],
    ['{"model": "m", "dataset": "d",\n "embeddings": {"precision": "fp16"}}', /^run\.rpo\.json:2: embeddings\.precision: must be one of "q8", "fp32", got "fp16"$/],
    ['{"model": "m", "dataset": "d",\n\n "batch_size": 2.5}', /^run\.rpo\.json:3: batch_size: must be integer, got 2\.5$/],
    ['{"model": "m", "dataset": "d", "beta": 0}', /^run\.rpo\.json:1: beta: must be > 0, got 0$/],
    ['{"model": "m", "dataset": "d", "method": "orpo"}', /method: must be one of "rpo", .*got "orpo"/],
    ['{\n"dataset": "d"}', /^run\.rpo\.json:1: missing required key "model"$/],
    ['{"model": "m", "dataset": "d",\n "max_length": 64, "max_prompt_length": 64}', /^run\.rpo\.json:2: max_prompt_length: must be less than max_length \(64\)/],
    ['{"model": "m", "dataset": "d", "eval_dataset": "e",\n "eval_split": 0.1}', /^run\.rpo\.json:2: eval_split: eval_dataset and eval_split are both set/],
    ['{"model": "m", "dataset": "d", "lora": {"target_modules": []}}', /lora\.target_modules: must be string, or must NOT have fewer than 1 items/],
    ['{\n  "model": "m",\n  "dataset": \n}', /^run\.rpo\.json:4: not valid JSON \(ValueExpected/],
    ['[]', /^run\.rpo\.json:1: the run config must be a JSON object$/],
    ['{"model": "m", "dataset": "d", "beta": -1,\n "seed": -1}', /^run\.rpo\.json:1: beta: .* \(and 1 more problem\)$/],
  ];
  for (const [text, want] of cases) assert.match(problem(text).message, want, text);
});

test('readRunConfig: a missing file is named', () => {
  const missing = path.join(os.tmpdir(), 'no-such-dir-rpo', 'x.rpo.json');
  assert.throws(() => readRunConfig(missing), (e: Error) => e.message === `${missing}: no such file`);
});

test('the sample run configs and the test fixtures are valid', () => {
  for (const dir of [path.join(root, 'sample-workspace'), path.join(root, 'test', 'fixtures', 'training')]) {
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.rpo.json'))) readRunConfig(path.join(dir, f));
  }
});

test('method table: the same names as the schema enum; paired/unpaired and embeddings as the trainer uses them', () => {
  assert.deepEqual(METHOD_NAMES, schema.properties.method.enum);
  assert.deepEqual(METHOD_NAMES.filter((m) => METHODS[m].data === 'unpaired'), ['rpo-unpaired']);
  assert.deepEqual(METHOD_NAMES.filter((m) => METHODS[m].embeddings), ['rpo', 'rpo-unpaired']);
  assert.equal(isRunMethod('dpo'), true);
  assert.equal(isRunMethod('toString'), false);
  assert.equal(usesEmbeddings({ method: 'dpo', similarity_batching: false }), false);
  assert.equal(usesEmbeddings({ method: 'dpo', similarity_batching: true }), true, 'similarity batching reads embeddings whatever the loss');
  assert.equal(usesEmbeddings({ method: 'rpo', similarity_batching: false }), true);
});

test('contrastSettingsOf: what the trainer forms; the schema defaults give the preview defaults', () => {
  assert.deepEqual(contrastSettingsOf(validateRunConfig({ model: 'm', dataset: 'd' }, 'x')), DEFAULT_SETTINGS);
  const s = contrastSettingsOf(validateRunConfig({
    model: 'm', dataset: 'd', method: 'rpo-unpaired', tau: 0.25, beta: 0.3, batch_size: 8, num_processes: 2, global_contrast: true,
    similarity_batching: true, seed: 7, eval_split: 0.2, min_agreement: 0.6, votes: 'majority',
  }, 'x'));
  assert.deepEqual(s, { mode: 'unpaired', tau: 0.25, beta: 0.3, batchSize: 8, numProcesses: 2, globalContrast: true, similarityBatching: true, seed: 7, epoch: 0, evalSplit: 0.2, minAgreement: 0.6, votes: 'majority' });
  assert.equal(contrastSettingsOf(validateRunConfig({ model: 'm', dataset: 'd', eval_dataset: 'e' }, 'x')).evalSplit, 0);
});

test('launchPlanOf: processes, accelerate config and output folder resolved against the config folder', () => {
  const dir = path.join(os.tmpdir(), 'ws', 'configs');
  assert.deepEqual(launchPlanOf(validateRunConfig({ model: 'm', dataset: 'd' }, 'x'), dir), { name: 'rpo-run', numProcesses: 1, outputDir: path.join(dir, '.rpo', 'runs') });
  assert.deepEqual(
    launchPlanOf(validateRunConfig({ model: 'm', dataset: 'd', name: 'n', num_processes: 4, accelerate_config: '../acc.yaml', output_dir: '/abs/runs' }, 'x'), dir),
    { name: 'n', numProcesses: 4, accelerateConfig: path.join(os.tmpdir(), 'ws', 'acc.yaml'), outputDir: '/abs/runs' },
  );
});

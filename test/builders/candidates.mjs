// A candidates file and its sidecar as docs/formats.md "Candidates from a run" specifies them,
// written from the spec (node:crypto only, no project code), for tests that need one before or
// without running `rpo generate` on a model.
//
//   writeCandidates(file, answers, {seed, models, promptsFile})
//   answers: [{prompt, a, b}]: model A's and model B's answer to each prompt (strings or messages)
//   returns [{line (1-based), key, sources}]: which model wrote responses[0] / responses[1]
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const text = (t) => (typeof t === 'string' ? t : t.map((m) => `${m.role}: ${m.content}`).join('\n\n'));
const enc = (s) => {
  const b = Buffer.from(s, 'utf8');
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(b.length));
  return Buffer.concat([n, b]);
};

/** Pair key (docs/contracts.md §8) over a prompt and two responses, lowercase hex. */
export function pairKey(prompt, r0, r1) {
  const x = Buffer.from(text(r0), 'utf8');
  const y = Buffer.from(text(r1), 'utf8');
  const [a, b] = Buffer.compare(x, y) <= 0 ? [x, y] : [y, x];
  return createHash('sha256').update(Buffer.concat([enc(text(prompt)), enc(a.toString('utf8')), enc(b.toString('utf8'))])).digest('hex');
}

/** Record i has model B's response first when the low bit of SHA-256("<seed>:<i>")[0] is 1. */
export function bFirst(seed, i) {
  return (createHash('sha256').update(`${seed}:${i}`, 'utf8').digest()[0] & 1) === 1;
}

// Python json.dumps style (", " and ": " separators), as rpo generate writes.
const pyJson = (v) => JSON.stringify(v).replace(/("(?:[^"\\]|\\.)*")|([,:])/g, (m, s, p) => s ?? (p === ',' ? ', ' : ': '));

export function writeCandidates(file, answers, { seed = 0, models, promptsFile = '/data/eval.pref.jsonl' } = {}) {
  const header = {
    format: 'rpo-candidates-sources',
    version: 1,
    models: models ?? {
      A: { kind: 'run', run_dir: '/runs/a', checkpoint: null, model: '/runs/a/final', base_model: null, lora: false },
      B: { kind: 'reference', run_dir: null, checkpoint: null, model: '/models/tiny', base_model: null, lora: false },
    },
    prompts: { file: promptsFile, sha256: '0'.repeat(64), split: 'eval', count: answers.length, skipped: 0 },
    settings: { max_new_tokens: 16, temperature: 0.7, top_p: 0.9, greedy: false, seed, batch_size: 4 },
  };
  const records = [];
  const sidecar = [pyJson(header)];
  const entries = answers.map(({ prompt, a, b }, i) => {
    const swap = bFirst(seed, i);
    const responses = swap ? [b, a] : [a, b];
    const sources = swap ? ['B', 'A'] : ['A', 'B'];
    const key = pairKey(prompt, responses[0], responses[1]);
    records.push(pyJson({ prompt, responses }));
    sidecar.push(pyJson({ line: i + 1, key, sources }));
    return { line: i + 1, key, sources };
  });
  writeFileSync(file, records.join('\n') + '\n');
  writeFileSync(file + '.sources.jsonl', sidecar.join('\n') + '\n');
  return entries;
}

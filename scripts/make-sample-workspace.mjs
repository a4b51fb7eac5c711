// Regenerates the data files of sample-workspace/ from the Anthropic HH harmless test split in
// ../shared/datasets (run once; the output is committed). Deterministic.
//   hh-harmless.pref.jsonl  60 labeled pairs, TRL conversational: {prompt:[msgs], chosen:[msg], rejected:[msg]}
//   candidates.pref.jsonl   20 prompts awaiting a label: {prompt:[msgs], responses:[msg[], msg[]]}
// Usage: node scripts/make-sample-workspace.mjs [path/to/hh/test.jsonl]
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const src = process.argv[2] ?? path.resolve(root, '..', 'shared', 'datasets', 'hh-rlhf-harmless-test', 'test.jsonl');
const out = path.join(root, 'sample-workspace');

/** "\n\nHuman: a\n\nAssistant: b" -> [{role:'user',content:'a'},{role:'assistant',content:'b'}] */
function turns(transcript) {
  const parts = transcript.split(/\n\n(Human|Assistant): ?/).slice(1);
  const msgs = [];
  for (let i = 0; i < parts.length; i += 2) msgs.push({ role: parts[i] === 'Human' ? 'user' : 'assistant', content: parts[i + 1].trim() });
  return msgs;
}

const records = fs.readFileSync(src, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const usable = [];
for (const r of records) {
  const c = turns(r.chosen), j = turns(r.rejected);
  if (c.length !== j.length || c.length < 2 || c.length > 4) continue;
  const prompt = c.slice(0, -1);
  if (JSON.stringify(prompt) !== JSON.stringify(j.slice(0, -1))) continue;
  const a = c.at(-1), b = j.at(-1);
  if (a.role !== 'assistant' || !a.content || !b.content || a.content === b.content) continue;
  if (JSON.stringify(r).length > 1400) continue;
  usable.push({ prompt, chosen: [a], rejected: [b] });
}
// Spread the picks over the file (not just its first lines).
const step = Math.floor(usable.length / 80);
const picked = Array.from({ length: 80 }, (_, i) => usable[i * step]);
const pairs = picked.slice(0, 60);
const candidates = picked.slice(60).map((r, i) => ({
  prompt: r.prompt,
  // alternate the order so "first is better" is not a pattern
  responses: i % 2 ? [r.rejected, r.chosen] : [r.chosen, r.rejected],
}));
fs.writeFileSync(path.join(out, 'hh-harmless.pref.jsonl'), pairs.map((r) => JSON.stringify(r)).join('\n') + '\n');
fs.writeFileSync(path.join(out, 'candidates.pref.jsonl'), candidates.map((r) => JSON.stringify(r)).join('\n') + '\n');
console.log(`${usable.length} usable of ${records.length}; wrote ${pairs.length} pairs and ${candidates.length} candidates to ${path.relative(root, out)}/`);

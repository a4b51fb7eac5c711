import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseLine, type ParsedLine } from '../../../src/core/dataset/formats';
import { parseForAgreement } from '../../../src/core/agreement/scan';

/**
 * parseForAgreement must answer as parseLine for everything agreement reads: kind, validity
 * (invalid lines are counted), rpo_label and rpo_votes. Lines from the golden vote tables, hand
 * written edge cases, and thousands of random byte mutations of them.
 */
const golden = JSON.parse(readFileSync(resolve(__dirname, '../../golden/agreement.json'), 'utf8')) as { tables: { lines: string[] }[] };

function view(r: ParsedLine): unknown {
  if (r.kind === 'invalid') return { kind: r.kind, code: r.code, reason: r.reason, field: r.field, column: r.column };
  if (r.kind === 'blank') return r;
  const o = r.object;
  return {
    kind: r.kind,
    style: r.style,
    provenance: r.provenance,
    votes: o.rpo_votes,
    blind: o.rpo_blind,
    responses: r.kind === 'candidates' ? r.responses.length : undefined,
    label: r.kind === 'unpaired' ? r.label : undefined,
  };
}

function same(line: string | Buffer, where: string): void {
  const bytes = typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
  // the line inside a larger buffer, as a worker reads it
  const buf = Buffer.concat([Buffer.from('xx\n'), bytes, Buffer.from('\nyy')]);
  const expected = view(parseLine(bytes));
  assert.deepEqual(view(parseForAgreement(buf, 3, 3 + bytes.length)), expected, where);
  // what a worker passes when the whole piece of the file it read is valid UTF-8
  if (isUtf8(bytes)) assert.deepEqual(view(parseForAgreement(buf, 3, 3 + bytes.length, true)), expected, `${where} (utf8 known)`);
}

const vote = (a: string, extra = '') => `{"annotator":"${a}","time":"2026-12-01T09:00:00.000Z","choice":"chosen","strength":"clearly","status":null,"note":null,"shown":["rejected","chosen"],"adjudicator":false${extra}}`;
const label = '{"annotator":"bo","time":"2026-12-01T09:00:05.000Z","status":null,"strength":null,"note":null,"shown":["rejected","chosen"],"flipped":false}';
const base = `{"prompt":"Q","chosen":"A","rejected":"B","rpo_label":${label},"rpo_votes":[${vote('ada')},${vote('bo')}]}`;

const cases: string[] = [
  base,
  base.replace(/,"/g, ', "').replace(/":/g, '": '), // Python's json.dumps separators
  ` \t${base} \r`,
  `{"prompt":"Q \\"quoted\\" \\n \\u00e9 \\ud83d\\ude00","chosen":"A\\\\","rejected":"B\\/","rpo_votes":[${vote('ada')}]}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","rpo_votes":[${vote('ad\\u0061')}]}`, // escape in a vote: fallback
  `{"prompt":"Q","chosen":"A","rejected":"B","rpo_votes":[${vote('Zoë 李')}]}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","rpo_votes":[${vote('ada', ',"extra":1')}]}`, // invalid vote key
  `{"prompt":"Q","chosen":"A","rejected":"B","rpo_votes":[${vote('ada').replace('"clearly"', '"very"')}]}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","rpo_votes":[${vote('ada').replace('"chosen","strength"', '"responses.0","strength"')}]}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","rpo_votes":"no"}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","rpo_label":{"annotator":"a","time":"t","status":null,"strength":null,"note":null,"shown":null,"from_responses":[1,0]}}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","rpo_label":{"annotator":"a","time":"t","status":null,"strength":null,"note":null,"shown":null,"from_responses":[1.0,0]}}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","rpo_label":{"annotator":"a","time":"t","status":"disputed","strength":null,"note":"x","shown":null,"flipped":true}}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","rpo_label":{"annotator":"a","time":"t","status":"maybe"}}`,
  `{"prompt":"Q","responses":["a","b"],"rpo_votes":[${vote('ada').replace('"chosen","strength"', '"responses.1","strength"')}]}`,
  `{"prompt":"Q","responses":["a"]}`,
  `{"prompt":"Q","responses":[]}`,
  `{"prompt":"Q","responses":["a",2]}`,
  `{"prompt":[{"role":"user","content":"hi"}],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}],"rpo_votes":[${vote('ada')},${vote('bo')}]}`,
  `{"prompt":[{"role":"user","content":"hi"}],"chosen":"a","rejected":"b"}`,
  `{"chosen":"Human: x Assistant: a","rejected":"Human: x Assistant: b","rpo_votes":[${vote('ada')}]}`,
  `{"prompt":"Q","completion":"c","label":true,"rpo_votes":[${vote('ada').replace('"chosen","strength"', '"up","strength"')}]}`,
  `{"prompt":"Q","completion":"c","label":1}`,
  `{"prompt":"Q","completion":"c"}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","rpo_blind":true,"rpo_votes":[${vote('ada')}]}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","rpo_blind":false}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","meta":{"a":[1,2.5e-3,-0,true,false,null,{"b":"\\t"}]},"n":-12.75E+2}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","chosen":"C","rpo_votes":[${vote('x')}],"rpo_votes":[${vote('ada')},${vote('bo')}]}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","__proto__":{"x":1}}`,
  `{"__proto__":1,"prompt":"Q","chosen":"A","rejected":"B"}`,
  `{"pr\\u006fmpt":"Q","chosen":"A","rejected":"B"}`,
  `{"prompt":"Q","chosen":"A","rejected":"B"} x`,
  `{"prompt":"Q","chosen":"A","rejected":"B",}`,
  `{"prompt":"Q","chosen":"A","rejected":"B"`,
  `{"prompt":"Q\tx","chosen":"A","rejected":"B"}`,
  `{"prompt":"Q\\x","chosen":"A","rejected":"B"}`,
  `{"prompt":"Q\\u12G4","chosen":"A","rejected":"B"}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","n":01}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","n":1.}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","n":tru}`,
  `{"prompt":"Q","chosen":1,"rejected":"B"}`,
  `{"prompt":"Q","chosen":"A"}`,
  `{"other":1}`,
  '{}',
  '[]',
  '"x"',
  '',
  '   ',
  '\ufeff{"prompt":"Q","chosen":"A","rejected":"B"}',
  `{"prompt":"Q","chosen":"A","rejected":"B","rpo_votes":[${vote('ada', ',"note":"a\\nb"')}]}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","rpo_votes":[{"annotator":"ada","time":"t","choice":"chosen","strength":null,"status":"tie","note":null,"shown":null,"adjudicator":false}]}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","rpo_votes":[{"annotator":"ada","time":"t","choice":null,"strength":null,"status":"skip","note":null,"shown":["chosen"],"adjudicator":false}]}`,
  `{"prompt":"Q","chosen":"A","rejected":"B","rpo_votes":[{"annotator":"","time":"t","choice":null,"strength":null,"status":"skip","note":null,"shown":null,"adjudicator":0}]}`,
];
for (const t of golden.tables) cases.push(...t.lines);

test('parseForAgreement answers as parseLine on edge cases and the golden vote tables', () => {
  cases.forEach((c, i) => same(c, `case ${i}: ${c.slice(0, 120)}`));
  same(Buffer.from([0x7b, 0x22, 0x70, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 'invalid UTF-8');
  same(Buffer.concat([Buffer.from('{"prompt":"'), Buffer.from([0xc3, 0xa9, 0xe2, 0x82, 0xac]), Buffer.from('","chosen":"A","rejected":"B"}')]), 'UTF-8 text');
});

test('parseForAgreement answers as parseLine on random byte mutations', () => {
  let x = 7;
  const rnd = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % n);
  const alphabet = Buffer.from('"\\{}[],:0123456789-+.eEtrufalsn \t\x01\x7fu');
  const seeds = cases.filter((c) => c.length > 2).map((c) => Buffer.from(c, 'utf8'));
  let n = 0;
  for (let round = 0; round < 4000; round++) {
    const src = seeds[rnd(seeds.length)]!;
    const bytes = Array.from(src);
    const edits = 1 + rnd(3);
    for (let e = 0; e < edits; e++) {
      const at = rnd(bytes.length + 1);
      const op = rnd(3);
      if (op === 0) bytes.splice(at, 1);
      else if (op === 1) bytes.splice(at, 0, alphabet[rnd(alphabet.length)]!);
      else bytes[Math.min(at, bytes.length - 1)] = alphabet[rnd(alphabet.length)]!;
    }
    same(Buffer.from(bytes), `mutation ${round}: ${Buffer.from(bytes).toString('latin1').slice(0, 200)}`);
    n++;
  }
  assert.equal(n, 4000);
});

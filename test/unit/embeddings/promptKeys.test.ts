import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { textKeyHex } from '../../../src/core/contrast/nodePromptKey';
import { readDatasetPrompts, scanDatasetPromptKeys } from '../../../src/embeddings/datasetPrompts';

/**
 * `scanDatasetPromptKeys` (what `rpo embed` uses: latin1 decoding, texts re-read on demand) must
 * give exactly what `readDatasetPrompts` + the contract key give, line for line.
 */
async function assertSameAsExact(file: string): Promise<number> {
  const exact = await readDatasetPrompts(file);
  const fast = await scanDatasetPromptKeys(file);
  assert.deepEqual(fast.lines, exact.prompts.map((p) => p.line), 'same prompt lines');
  assert.deepEqual(Buffer.from(fast.digests).toString('hex'), exact.prompts.map((p) => textKeyHex(p.text)).join(''), 'same keys');
  assert.deepEqual(fast.empty, exact.prompts.flatMap((p, i) => (p.text.trim() ? [] : [i])), 'same empty prompts');
  assert.deepEqual(fast.invalid, exact.invalid, 'same invalid lines and reasons');
  exact.prompts.forEach((p, i) => assert.equal(fast.text(i), p.text, `text of prompt ${i}`));
  return exact.prompts.length;
}

test('prompt keys: tricky lines give the exact keys, texts, empty and invalid lines', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-keys-'));
  const file = path.join(dir, 'tricky.pref.jsonl');
  const J = (o: unknown) => JSON.stringify(o);
  const lines = [
    J({ prompt: 'plain ASCII', chosen: 'a', rejected: 'b' }),
    J({ prompt: 'I’m “quoted” — café, 日本語, emoji 🎉, NBSP\u00a0here', chosen: 'a', rejected: 'b' }),
    '{"prompt": "escaped \\u2019 and \\u00e9 and \\ud83c\\udf89", "chosen": "a", "rejected": "b"}',
    '{"prompt": "a backslash then u: \\\\u and é", "chosen": "a", "rejected": "b"}',
    // implicit prompts whose texts differ inside a multi-byte character (’ = E2 80 99, ” = E2 80 9D)
    J({ chosen: '\n\nHuman: hi\n\nAssistant: I’m fine', rejected: '\n\nHuman: hi\n\nAssistant: I”m not' }),
    J({ chosen: '\n\nHuman: é?\n\nAssistant: ça va', rejected: '\n\nHuman: é?\n\nAssistant: ça ne va pas' }),
    J({ chosen: 'same é prefix ü', rejected: 'same é prefix ö' }), // ü = C3 BC, ö = C3 B6: split inside
    J({ prompt: [{ role: 'user', content: 'héllo' }, { role: 'assistant', content: '¿qué?' }], chosen: [{ role: 'assistant', content: 'sí' }], rejected: [{ role: 'assistant', content: 'no' }] }),
    J({ chosen: [{ role: 'user', content: 'ça' }, { role: 'assistant', content: 'oui' }], rejected: [{ role: 'user', content: 'ça' }, { role: 'assistant', content: 'non' }] }),
    J({ prompt: 'unpaired ö', completion: 'x', label: true }),
    J({ prompt: 'completion ø', completion: 'x' }),
    J({ prompt: 'candidates å', responses: ['x', 'y'] }),
    J({ prompt: 'labeled ü', chosen: 'a', rejected: 'b', rpo_label: { status: 'skip', annotator: 'Zoë', time: '2024-01-01T00:00:00Z', note: 'très bien' } }),
    J({ prompt: '', chosen: 'a', rejected: 'b' }),
    J({ prompt: ' \t\n ', chosen: 'a', rejected: 'b' }),
    J({ prompt: '\u3000\u00a0\u2003', chosen: 'a', rejected: 'b' }), // UTF-8 whitespace only: empty
    J({ prompt: '\u00a0x', chosen: 'a', rejected: 'b' }),
    J({ prompt: 'é', chosen: 'a', rejected: 'b' }),
    '',
    '   ',
    '{"prompt": "unterminated é',
    '["not", "an object", "é"]',
    J({ prompt: 'wrong type', chosen: 5, rejected: 'b' }),
    J({ prompt: 'é', chosen: 'a' }),
    J({ prompt: 'duplicate key é', chosen: 'a', rejected: 'b' }).replace('{', '{"prompt": "first é",'),
  ];
  const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(J({ prompt: 'BOM on a later line é', chosen: 'a', rejected: 'b' }))]);
  const badUtf8 = Buffer.concat([Buffer.from('{"prompt": "bad '), Buffer.from([0xc3, 0x28]), Buffer.from('", "chosen": "a", "rejected": "b"}')]);
  const crlf = Buffer.from(J({ prompt: 'CRLF é', chosen: 'a', rejected: 'b' }) + '\r\n');
  fs.writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.join('\n') + '\n'), bom, Buffer.from('\n'), badUtf8, Buffer.from('\n'), crlf]));
  const n = await assertSameAsExact(file);
  assert.equal(n, 20);
  const fast = await scanDatasetPromptKeys(file);
  assert.equal(fast.invalid.length, 6, 'unterminated, a list, wrong type, missing rejected, BOM, bad UTF-8');
});

test('prompt keys: the real HH harmless test file gives the exact keys', { skip: !fs.existsSync('/work/shared/datasets/hh-rlhf-harmless-test/test.jsonl') }, async () => {
  assert.equal(await assertSameAsExact('/work/shared/datasets/hh-rlhf-harmless-test/test.jsonl'), 2312);
});

test('prompt keys: ASCII lines with \\u escapes (Python json.dumps) give the exact keys', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-keys-'));
  const file = path.join(dir, 'ascii.pref.jsonl');
  const lines = [
    { prompt: 'I’m “quoted” — café 🎉', chosen: 'a', rejected: 'b' },
    { chosen: '\n\nHuman: hi\n\nAssistant: I’m fine', rejected: '\n\nHuman: hi\n\nAssistant: I”m not' },
    { prompt: '\u3000\u00a0', chosen: 'a', rejected: 'b' },
    { prompt: [{ role: 'user', content: 'héllo' }], completion: [{ role: 'assistant', content: 'sí' }], label: false },
  ].map((o) => JSON.stringify(o).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  fs.writeFileSync(file, lines.join('\n') + '\n');
  assert.ok(fs.readFileSync(file).every((b) => b < 0x80), 'the file is ASCII');
  assert.equal(await assertSameAsExact(file), 4);
  assert.deepEqual((await scanDatasetPromptKeys(file)).empty, [2]);
});

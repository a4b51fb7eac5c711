import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { convertHh, importHhFile, parseTranscript } from '../../../src/core/dataset/hh';
import { parseText } from '../../../src/core/dataset/formats';
import { LineIndex } from '../../../src/core/dataset/lineIndex';
import { scanLines } from '../../../src/core/dataset/stats';

const FIXTURE = resolve(__dirname, '../../fixtures/dataset/hh-sample.jsonl');
const SHARED_HH = resolve(__dirname, '../../../../shared/datasets/hh-rlhf-harmless-test/test.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'rpo-hh-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a transcript splits only at \\n\\nHuman: / \\n\\nAssistant: markers', () => {
  assert.deepEqual(parseTranscript('\n\nHuman: a\n\nAssistant: Human: b\n\nHuman: c\n\nAssistant:'), [
    { role: 'user', content: 'a' },
    { role: 'assistant', content: 'Human: b' },
    { role: 'user', content: 'c' },
    { role: 'assistant', content: '' },
  ]);
  assert.throws(() => parseTranscript('Human: a'), /does not start with/);
});

test('the prompt is the shared conversation up to the last user turn', () => {
  const c = convertHh('\n\nHuman: q\n\nAssistant: x\n\nHuman: q2\n\nAssistant: good', '\n\nHuman: q\n\nAssistant: x\n\nHuman: q2\n\nAssistant: bad');
  assert.deepEqual(c.prompt.map((m) => m.content), ['q', 'x', 'q2']);
  assert.deepEqual(c.chosen, [{ role: 'assistant', content: 'good' }]);
  assert.deepEqual(c.rejected, [{ role: 'assistant', content: 'bad' }]);
  // diverging after an assistant turn: back off to the last shared user turn
  const early = convertHh('\n\nHuman: q\n\nAssistant: a\n\nHuman: more\n\nAssistant: b', '\n\nHuman: q\n\nAssistant: a');
  assert.deepEqual(early.prompt.map((m) => m.content), ['q']);
  assert.equal(early.chosen.length, 3);
  assert.equal(early.rejected.length, 1);
  const same = convertHh('\n\nHuman: q\n\nAssistant: a', '\n\nHuman: q\n\nAssistant: a');
  assert.equal(same.identical, true);
  assert.deepEqual(same.chosen, same.rejected);
});

test('import of the in-repo fixture: converts, reports identical pairs and bad records', async () => {
  const out = join(dir, 'fixture.pref.jsonl');
  const report = await importHhFile(FIXTURE, out);
  assert.equal(report.records, 6);
  assert.equal(report.written, 5);
  assert.deepEqual(report.identical, [3]);
  assert.equal(report.problems.length, 1);
  assert.equal(report.problems[0]!.line, 7);
  assert.match(report.problems[0]!.reason, /field "chosen" does not start with/);
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, 5);
  const first = parseText(lines[0]!);
  assert.ok(first.kind === 'paired' && first.style === 'conversational' && !first.implicitPrompt);
  assert.deepEqual(first.prompt, [{ role: 'user', content: 'How do I boil an egg?' }]);
  // unknown fields are kept after prompt/chosen/rejected
  assert.deepEqual(Object.keys(JSON.parse(lines[4]!)), ['prompt', 'chosen', 'rejected', 'source']);
  // "Assistant: Human: ..." stays content
  assert.deepEqual(JSON.parse(lines[1]!).rejected, [{ role: 'assistant', content: 'Human: I asked you.' }]);
});

test('all 2,312 records of the real HH harmless test file convert', { skip: existsSync(SHARED_HH) ? false : `not found: ${SHARED_HH} (the shared datasets folder is absent)` }, async () => {
  const out = join(dir, 'hh.pref.jsonl');
  const report = await importHhFile(SHARED_HH, out);
  assert.equal(report.records, 2312);
  assert.equal(report.written, 2312);
  assert.deepEqual(report.problems, []);
  const { stats } = scanLines(LineIndex.fromBuffer(readFileSync(out)));
  assert.equal(stats.byKind.paired, 2312);
  assert.equal(stats.byStyle.conversational, 2312);
  assert.equal(stats.invalid, 0);
  for (const line of readFileSync(out, 'utf8').trimEnd().split('\n')) {
    const r = parseText(line);
    assert.ok(r.kind === 'paired' && Array.isArray(r.prompt));
    assert.equal((r.prompt as { role: string }[]).at(-1)!.role, 'user');
    assert.ok(r.chosen.length > 0 && r.rejected.length > 0);
  }
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { type LineSink, LineSplitter, MAX_LINE_LENGTH, parseEventLine } from '../../../src/core/run/events';
import { reduceEvents } from '../../../src/core/run/state';
import { parseEventsText } from '../../../src/node/run/store';
import { endEvent, errorEvent, startEvent, stepEvent } from '../../builders/events';

const fixtures = path.join(__dirname, '..', '..', 'fixtures', 'events');

test('valid events of every builder parse as typed events', () => {
  for (const e of [startEvent(), stepEvent(3), endEvent('completed', 100), errorEvent('boom')]) {
    const parsed = parseEventLine(JSON.stringify(e));
    assert.equal(parsed.kind, 'event', JSON.stringify(parsed));
    if (parsed.kind === 'event') assert.equal(parsed.event.type, e.type);
  }
});

test('a line that is not JSON is malformed with the JSON error', () => {
  const parsed = parseEventLine('{"schema": 1, "type": "step", ');
  assert.equal(parsed.kind, 'malformed');
  if (parsed.kind === 'malformed') assert.match(parsed.error, /not JSON/);
});

test('a JSON array or number is malformed', () => {
  assert.equal(parseEventLine('[1,2]').kind, 'malformed');
  assert.equal(parseEventLine('42').kind, 'malformed');
});

test('a step event missing a required field names the field', () => {
  const e = stepEvent(1) as unknown as Record<string, unknown>;
  delete e.learning_rate;
  const parsed = parseEventLine(JSON.stringify(e));
  assert.equal(parsed.kind, 'malformed');
  if (parsed.kind === 'malformed') {
    assert.match(parsed.error, /'step' event/);
    assert.match(parsed.error, /learning_rate/);
  }
});

test('a wrongly typed metric is malformed and says where', () => {
  const e = stepEvent(1);
  (e.metrics as Record<string, unknown>).loss = 'NaN';
  const parsed = parseEventLine(JSON.stringify(e));
  assert.equal(parsed.kind, 'malformed');
  if (parsed.kind === 'malformed') assert.match(parsed.error, /metrics\.loss/);
});

test('a bad timestamp is malformed', () => {
  const parsed = parseEventLine(JSON.stringify({ ...stepEvent(1), time: 'yesterday' }));
  assert.equal(parsed.kind, 'malformed');
  if (parsed.kind === 'malformed') assert.match(parsed.error, /time/);
});

test('unknown type of schema 1 is malformed; unknown type of a newer schema is ignored', () => {
  assert.equal(parseEventLine(JSON.stringify({ schema: 1, type: 'weather', time: '2026-01-01T00:00:00Z' })).kind, 'malformed');
  assert.equal(parseEventLine(JSON.stringify({ schema: 2, type: 'weather', time: '2026-01-01T00:00:00Z' })).kind, 'ignored');
});

test('a known event of a newer schema with extra keys is read', () => {
  const parsed = parseEventLine(JSON.stringify({ ...stepEvent(2), schema: 2, new_field: { a: 1 } }));
  assert.equal(parsed.kind, 'event');
});

test('blank lines are ignored, not malformed', () => {
  assert.equal(parseEventLine('   ').kind, 'ignored');
});

test('an events file with garbage lines keeps the good events and numbers the bad lines', () => {
  const text = [JSON.stringify(startEvent()), 'Traceback (most recent call last):', JSON.stringify(stepEvent(1)), '{"schema":1}', JSON.stringify(stepEvent(2)), ''].join('\n');
  const { events, malformed } = parseEventsText(text);
  assert.deepEqual(events.map((e) => e.type), ['start', 'step', 'step']);
  assert.deepEqual(malformed.map((m) => m.line), [2, 4]);
});

test('a torn last line (file still being written) is not reported as malformed', () => {
  const text = JSON.stringify(startEvent()) + '\n' + JSON.stringify(stepEvent(1)).slice(0, 40);
  const { events, malformed } = parseEventsText(text);
  assert.equal(events.length, 1);
  assert.equal(malformed.length, 0);
});

function collect(): { sink: LineSink; got: string[] } {
  const got: string[] = [];
  return { got, sink: { line: (t) => got.push(t), tooLong: (n, head) => got.push(`too long: ${n} ${head.slice(0, 5)}`) } };
}

test('LineSplitter joins lines across chunks and strips CR', () => {
  const { sink, got } = collect();
  const s = new LineSplitter(sink);
  s.push('{"a":');
  assert.deepEqual(got, []);
  s.push('1}\r\n{"b"');
  assert.deepEqual(got, ['{"a":1}']);
  s.push(':2}\n\n');
  assert.deepEqual(got, ['{"a":1}', '{"b":2}', '']);
  s.push('tail');
  s.flush();
  assert.deepEqual(got, ['{"a":1}', '{"b":2}', '', 'tail']);
});

test('LineSplitter skips a line over the limit, whole or in pieces, and keeps the lines around it', () => {
  const { sink, got } = collect();
  const s = new LineSplitter(sink, 10);
  s.push('short\n0123456789\r\n0123456789A\n');
  // 25 characters in pieces, the limit passed in the middle of the second chunk
  s.push('abcdefgh');
  s.push('ijklmnopq');
  s.push('rstuvwxy\nnext\nlast');
  s.flush();
  assert.deepEqual(got, ['short', '0123456789', 'too long: 11 01234', 'too long: 25 abcde', 'next', 'last']);
});

test('LineSplitter: a 3 MiB line (a progress bar without newlines) in 64 KiB chunks is reported once, with its length', () => {
  const { sink, got } = collect();
  const s = new LineSplitter(sink);
  const chunk = 'x'.repeat(64 * 1024 - 1) + '\r';
  s.push('{"before":1}\n');
  for (let i = 0; i < 48; i++) s.push(chunk);
  s.push('\n{"after":2}\n');
  assert.deepEqual(got, ['{"before":1}', `too long: ${48 * 64 * 1024} xxxxx`, '{"after":2}']);
  assert.ok(MAX_LINE_LENGTH >= 1 << 20 && MAX_LINE_LENGTH < 48 * 64 * 1024);
});

/**
 * Characters examined by string searches during `fn` (indexOf, split, ...): a splitter that
 * re-searches what it holds on every chunk examines O(n^2 / chunk) characters for a long line.
 */
function scannedChars(fn: () => void): number {
  const names = ['indexOf', 'lastIndexOf', 'includes', 'split', 'search', 'match'] as const;
  const proto = String.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const saved = names.map((n) => proto[n]);
  let scanned = 0;
  names.forEach((n, i) => {
    proto[n] = function (this: string, ...args: unknown[]) {
      scanned += this.length;
      return saved[i].apply(this, args);
    };
  });
  try {
    fn();
  } finally {
    names.forEach((n, i) => (proto[n] = saved[i]));
  }
  return scanned;
}

test('LineSplitter searches each chunk once: a 1 MiB line in 4 KiB chunks examines about 1 MiB, not the held line again per chunk', () => {
  const { sink, got } = collect();
  const s = new LineSplitter(sink, 8 << 20);
  const chunk = 'y'.repeat(4096);
  const total = 256 * chunk.length;
  const scanned = scannedChars(() => {
    for (let i = 0; i < 256; i++) s.push(chunk);
    s.push('\n');
  });
  assert.equal(got.length, 1);
  assert.equal(got[0].length, total);
  assert.ok(scanned <= 2 * total, `examined ${scanned} characters for a stream of ${total}`);
});

// Recorded streams of the real trainer (CPU, tiny model): every line must be a valid event.
const recorded = fs.existsSync(fixtures) ? fs.readdirSync(fixtures).filter((f) => f.endsWith('.jsonl')) : [];
for (const name of recorded) {
  test(`recorded trainer stream ${name}: every line is a valid event`, () => {
    const { events, malformed } = parseEventsText(fs.readFileSync(path.join(fixtures, name), 'utf8'));
    assert.deepEqual(malformed, []);
    assert.ok(events.length > 0);
    assert.equal(events.at(-1)!.type, 'end', 'a finished stream ends with an end event');
    // The reduced state matches what the stream says happened.
    const state = reduceEvents(events);
    const expected = name.includes('failed') ? 'failed' : name.includes('stopped') ? 'stopped' : 'completed';
    assert.equal(state.status, expected);
    if (expected === 'failed') {
      assert.ok(state.error?.message, 'the trainer error is kept');
      assert.ok(state.failure?.reason);
    } else {
      assert.ok(state.start, 'a run that trained has a start event');
      assert.equal(state.steps.x.length, events.filter((e) => e.type === 'step').length);
      assert.ok(state.steps.y.loss.every((v) => v === null || Number.isFinite(v)));
      assert.ok(state.checkpoints.length > 0);
    }
  });
}

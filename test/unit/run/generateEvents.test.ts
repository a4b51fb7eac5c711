// generate's events (trainer/rpo_trainer/schemas/events.schema.json, generate_*): parsed by
// parseGenerateEventLine with the schema's checks, and skipped by the training readers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEventLine, parseGenerateEventLine } from '../../../src/core/run/events';
import { parseDashboardMessage } from '../../../src/protocol/dashboard';

const time = '2026-12-02T09:00:00.000Z';
const progress = { schema: 1, type: 'generate_progress', time, done: 8, total: 32, tokens: 512, tokens_per_second: 120.5, elapsed_seconds: 4.2, eta_seconds: 12.6 };

test('a generate_progress line parses; the training reader ignores it', () => {
  const parsed = parseGenerateEventLine(JSON.stringify(progress));
  assert.equal(parsed.kind, 'event');
  assert.equal(parsed.kind === 'event' && parsed.event.type === 'generate_progress' && parsed.event.done, 8);
  assert.equal(parseEventLine(JSON.stringify(progress)).kind, 'ignored');
});

test('a generate event missing a field is malformed, naming the field', () => {
  const { done: _, ...noDone } = progress;
  const parsed = parseGenerateEventLine(JSON.stringify(noDone));
  assert.equal(parsed.kind, 'malformed');
  assert.match(parsed.kind === 'malformed' ? parsed.error : '', /'generate_progress' event: .*done/);
  const end = parseGenerateEventLine(JSON.stringify({ schema: 1, type: 'generate_end', time, status: 'paused', done: 1, total: 2, elapsed_seconds: 1 }));
  assert.equal(end.kind, 'malformed');
});

test('error and log lines of generate parse; training events are not generate events', () => {
  const error = { schema: 1, type: 'error', time, message: 'out of memory', error_type: 'out_of_memory', traceback: null, hint: 'Lower --batch-size' };
  assert.equal(parseGenerateEventLine(JSON.stringify(error)).kind, 'event');
  assert.equal(parseGenerateEventLine(JSON.stringify({ schema: 1, type: 'step', time })).kind, 'ignored');
  assert.equal(parseGenerateEventLine('not json').kind, 'malformed');
});

test("the dashboard's Sample… button message is accepted, with nothing else in it", () => {
  assert.deepEqual(parseDashboardMessage({ type: 'sample' }), { type: 'sample' });
  assert.equal(parseDashboardMessage({ type: 'sample', runDir: '/etc' }), undefined);
});

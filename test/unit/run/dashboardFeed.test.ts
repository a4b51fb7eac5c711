import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DashboardFeed, toDashboardSummary } from '../../../src/core/run/dashboardFeed';
import { applyEvent, reduceEvents } from '../../../src/core/run/state';
import { parseDashboardMessage } from '../../../src/protocol/dashboard';
import { checkpointEvent, endEvent, errorEvent, startEvent, stepEvent } from '../../builders/events';

test('the first message is a reset with everything, then deltas carry only new points', () => {
  const state = reduceEvents([startEvent(), stepEvent(1), stepEvent(2)]);
  const feed = new DashboardFeed(state);
  const first = feed.next({ name: 'r', live: true });
  assert.equal(first.type, 'reset');
  if (first.type !== 'reset') return;
  assert.deepEqual(first.series.steps.x, [1, 2]);
  applyEvent(state, stepEvent(3));
  const second = feed.next({ name: 'r', live: true });
  assert.equal(second.type, 'delta');
  if (second.type === 'delta') {
    assert.deepEqual(second.series.steps.x, [3]);
    assert.equal(second.series.steps.y.loss.length, 1);
  }
  const idle = feed.next({ name: 'r', live: true });
  assert.equal(idle.type === 'delta' && idle.series.steps.x.length, 0);
});

test('a resume that rewinds the series sends a reset; a reloaded webview gets a reset', () => {
  const state = reduceEvents([startEvent(), stepEvent(1), stepEvent(2), stepEvent(3), endEvent('stopped', 3)]);
  const feed = new DashboardFeed(state);
  feed.next({ name: 'r', live: false });
  applyEvent(state, startEvent({ step: 2, resumed: '/x/checkpoint-2' }));
  const m = feed.next({ name: 'r', live: true });
  assert.equal(m.type, 'reset');
  assert.deepEqual(m.type === 'reset' && m.series.steps.x, [1, 2]);
  feed.invalidate();
  assert.equal(feed.next({ name: 'r', live: true }).type, 'reset');
});

test('summary: stop only for live runs, resume for stopped runs, the error panel data', () => {
  const running = reduceEvents([startEvent(), stepEvent(1)]);
  assert.equal(toDashboardSummary(running, { name: 'r', live: true }).canStop, true);
  assert.equal(toDashboardSummary(running, { name: 'r', live: false }).canStop, false);
  const stopped = reduceEvents([startEvent(), stepEvent(1), checkpointEvent(1, 'stop'), endEvent('stopped', 1)]);
  const s = toDashboardSummary(stopped, { name: 'r', live: false });
  assert.equal(s.canResume, true);
  assert.equal(s.checkpoints.length, 1);
  const failed = reduceEvents([startEvent(), errorEvent('CUDA out of memory', { hint: 'lower batch_size', error_type: 'out_of_memory' })]);
  const f = toDashboardSummary(failed, { name: 'r', live: false });
  assert.deepEqual([f.status, f.error?.errorType, f.error?.hint], ['failed', 'out_of_memory', 'lower batch_size']);
  assert.equal(f.canResume, false);
});

test('webview messages are validated: only known types, no extra fields', () => {
  assert.deepEqual(parseDashboardMessage({ type: 'stop' }), { type: 'stop' });
  assert.equal(parseDashboardMessage({ type: 'stop', pid: 1 }), undefined);
  assert.equal(parseDashboardMessage({ type: 'exec' }), undefined);
  assert.equal(parseDashboardMessage('stop'), undefined);
  assert.equal(parseDashboardMessage(null), undefined);
  assert.equal(parseDashboardMessage([{ type: 'stop' }]), undefined);
});

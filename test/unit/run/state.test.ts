import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateEta, formatDuration, initialRunState, markProcessGone, reduceEvents } from '../../../src/core/run/state';
import { checkpointEvent, endEvent, errorEvent, evalEvent, logEvent, startEvent, stepEvent } from '../../builders/events';

test('a run starts, logs steps and completes', () => {
  const s = reduceEvents([startEvent(), stepEvent(1), stepEvent(2), evalEvent(2), checkpointEvent(2, 'final'), endEvent('completed', 2, { total_steps: 2 })]);
  assert.equal(s.status, 'completed');
  assert.equal(s.step, 2);
  assert.deepEqual(s.steps.x, [1, 2]);
  assert.equal(s.steps.y.loss.length, 2);
  assert.equal(s.steps.y['rewards/margins'][1], 0.04);
  assert.deepEqual(s.evals.x, [2]);
  assert.equal(s.checkpoints.length, 1);
  assert.equal(s.etaSeconds, 0);
});

test('before the start event the run is starting; a step makes it running', () => {
  const s = initialRunState();
  assert.equal(s.status, 'starting');
  reduceEvents([stepEvent(1)], s);
  assert.equal(s.status, 'running');
});

test('null metrics stay null in the series (no fake zeros)', () => {
  const s = reduceEvents([startEvent(), stepEvent(1, { grad_norm: null, metrics: { ...stepEvent(1).metrics, 'rewards/accuracies': null } })]);
  assert.equal(s.steps.y.grad_norm[0], null);
  assert.equal(s.steps.y['rewards/accuracies'][0], null);
});

test('GPU memory is charted in GiB, null on CPU', () => {
  const s = reduceEvents([startEvent(), stepEvent(1), stepEvent(2, { memory: { allocated_bytes: 2 * 2 ** 30, peak_bytes: 3 * 2 ** 30 } })]);
  assert.deepEqual(s.steps.y.memory_gib, [null, 2]);
});

test('an error event fails the run with message; a later end keeps the trainer error', () => {
  const s = reduceEvents([startEvent(), stepEvent(1), errorEvent('CUDA out of memory', { error_type: 'out_of_memory', hint: 'lower batch_size' }), endEvent('failed', 1)]);
  assert.equal(s.status, 'failed');
  assert.equal(s.failure?.reason, 'CUDA out of memory');
  assert.equal(s.error?.hint, 'lower batch_size');
});

test('stop then resume: series continue, elapsed adds up, steps after the checkpoint are replaced', () => {
  const s = reduceEvents([startEvent(), stepEvent(1), stepEvent(2), stepEvent(3), checkpointEvent(2, 'stop'), endEvent('stopped', 2, { elapsed_seconds: 10 })]);
  assert.equal(s.status, 'stopped');
  assert.equal(s.elapsedSeconds, 10);
  const generation = s.seriesGeneration;
  reduceEvents([startEvent({ step: 2, resumed: '/tmp/runs/x/checkpoint-2' }), stepEvent(3, { elapsed_seconds: 4 })], s);
  assert.equal(s.status, 'running');
  assert.deepEqual(s.steps.x, [1, 2, 3]);
  assert.ok(s.seriesGeneration > generation, 'consumers must be told points were removed');
  assert.equal(s.elapsedSeconds, 14);
  assert.equal(s.end, null);
});

test('logs are capped', () => {
  const s = reduceEvents([startEvent(), ...Array.from({ length: 250 }, (_, i) => logEvent(`m${i}`))]);
  assert.equal(s.logs.length, 200);
  assert.equal(s.logs[199].message, 'm249');
});

test('ETA from the pace when the trainer gives none', () => {
  assert.equal(estimateEta({ step: 10, totalSteps: 30, elapsedSeconds: 20, start: null }), 40);
  assert.equal(estimateEta({ step: 0, totalSteps: 30, elapsedSeconds: 0, start: null }), null);
  const s = reduceEvents([startEvent(), stepEvent(10, { eta_seconds: null, elapsed_seconds: 20 })]);
  assert.equal(s.etaSeconds, 180);
});

test('a process that disappears fails a running run but not a completed one', () => {
  const running = reduceEvents([startEvent(), stepEvent(1)]);
  markProcessGone(running, 'killed', 'Killed\n');
  assert.equal(running.status, 'failed');
  assert.equal(running.failure?.stderrTail, 'Killed\n');
  const done = reduceEvents([startEvent(), endEvent('completed', 100)]);
  markProcessGone(done, 'exit');
  assert.equal(done.status, 'completed');
});

test('durations read like a clock', () => {
  assert.equal(formatDuration(5), '5s');
  assert.equal(formatDuration(125), '2m 05s');
  assert.equal(formatDuration(3720), '1h 02m');
  assert.equal(formatDuration(null), '–');
});

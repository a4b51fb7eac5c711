import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DashboardFeed } from '../../../src/core/run/dashboardFeed';
import { EVENTS_FILE, loadRun, summarizeRun } from '../../../src/node/run/store';
import { checkpointEvent, endEvent, evalEvent, lines, logEvent, metrics, startEvent, stepEvent } from '../../builders/events';

/**
 * A run that crashed at step 8 and was resumed from its checkpoint at step 4: events.jsonl holds
 * steps 5-8 twice (the first launch's, then the resumed launch's). Every reader takes the steps
 * after the latest `start` (docs/contracts.md): the dashboard's state and feed, `rpo runs`
 * (summaries, small and large files) and `rpo tail`.
 */
const ROOT = path.resolve(__dirname, '../../..');
const TSX = pathToFileURL(require.resolve('tsx')).href;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-resume-readers-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Loss of a step in launch 1 (1.x) and in the resumed launch 2 (2.x): a reader mixing them shows. */
const loss = (launch: number, step: number) => launch + step / 100;

function twoLaunches(runDir: string, padding = 0): string {
  const events: object[] = [startEvent({ run_dir: runDir, total_steps: 10, time: '2026-01-01T00:00:00.000Z' })];
  for (let s = 1; s <= 8; s++) {
    events.push(stepEvent(s, { total_steps: 10, metrics: metrics(s, { loss: loss(1, s) }) }));
    if (s === 4) events.push(evalEvent(4, { metrics: metrics(4, { loss: 1.5 }) }), checkpointEvent(4, 'periodic'));
    if (s === 6) events.push(checkpointEvent(6, 'periodic'));
    if (s === 8) events.push(evalEvent(8, { metrics: metrics(8, { loss: 1.9 }) }));
  }
  for (let i = 0; i < padding; i++) events.push(logEvent(`padding ${i} ${'.'.repeat(200)}`, 'debug'));
  // killed here (no end); resumed from the checkpoint at step 4 (the one at step 6 was incomplete)
  events.push(startEvent({ run_dir: runDir, total_steps: 10, step: 4, resumed: `${runDir}/checkpoints/step-4`, time: '2026-01-01T01:00:00.000Z' }));
  for (let s = 5; s <= 10; s++) {
    events.push(stepEvent(s, { total_steps: 10, elapsed_seconds: (s - 4) * 0.5, metrics: metrics(s, { loss: loss(2, s) }) }));
    if (s === 8) events.push(evalEvent(8, { metrics: metrics(8, { loss: 2.9 }) }));
  }
  events.push(checkpointEvent(10, 'final'), endEvent('completed', 10, { total_steps: 10, elapsed_seconds: 3, run_dir: runDir }));
  fs.mkdirSync(runDir, { recursive: true });
  fs.writeFileSync(path.join(runDir, EVENTS_FILE), lines(...events));
  return runDir;
}

const small = twoLaunches(path.join(dir, '.rpo', 'runs', 'small-20260101-000000'));
const large = twoLaunches(path.join(dir, '.rpo', 'runs', 'large-20260101-000000'), 4000);

test('the run state (dashboard, reopened runs): steps 1-4 of the first launch, then the resumed launch; no step twice', () => {
  const { state } = loadRun(small);
  assert.deepEqual(state.steps.x, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(state.steps.y.loss, [1, 2, 3, 4].map((s) => loss(1, s)).concat([5, 6, 7, 8, 9, 10].map((s) => loss(2, s))));
  assert.deepEqual(state.evals.x, [4, 8]);
  assert.deepEqual(state.evals.y.loss, [1.5, 2.9]);
  assert.deepEqual(state.checkpoints.map((c) => [c.step, c.reason]), [[4, 'periodic'], [10, 'final']], 'the checkpoint the resume passed over is not listed');
  assert.equal(state.status, 'completed');
  assert.equal(state.start?.step, 4, 'the latest start');
  assert.equal(state.startedAt, '2026-01-01T00:00:00.000Z', 'started with the first launch');
  assert.equal(state.elapsedSeconds, 4 + 3, 'training time of both launches');
});

test('the dashboard feed sends the series after the latest start, each step once', () => {
  const feed = new DashboardFeed(loadRun(small).state);
  const first = feed.next({ name: 'small', live: false });
  assert.equal(first.type, 'reset');
  assert.ok(first.type === 'reset');
  assert.deepEqual(first.series.steps.x, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(first.series.steps.y.loss[7], loss(2, 8));
  assert.equal(first.summary.loss, loss(2, 10));
  assert.deepEqual(first.summary.checkpoints.map((c) => c.step), [4, 10]);
});

test('rpo runs summaries (a small file read whole, a large one from head and tail): the resumed launch\'s last step and loss', () => {
  assert.ok(fs.statSync(path.join(large, EVENTS_FILE)).size > 2 * 256 * 1024, 'the large file is summarised from head and tail');
  for (const runDir of [small, large]) {
    const s = summarizeRun(runDir)!;
    assert.equal(s.status, 'completed', runDir);
    assert.equal(s.step, 10);
    assert.equal(s.loss, loss(2, 10));
    assert.equal(s.startedAt, '2026-01-01T00:00:00.000Z');
  }
});

test('rpo tail prints each step of the resumed launch after the resume and ends completed', () => {
  const r = spawnSync(process.execPath, ['--import', TSX, path.join(ROOT, 'src/cli/main.ts'), 'tail', small], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  const resumed = out.indexOf('resumed ');
  assert.ok(resumed > 0, out);
  assert.match(out.slice(resumed), /completed at step 10\/10/);
  assert.doesNotMatch(out, /malformed/);
});

import type { SeriesPayload } from '../../src/protocol/dashboard';
import type { EvalSeriesKey, StepSeriesKey } from '../../src/protocol/series';
import { emptyRun, type RunData } from './state';

/** Growing a run's columns from the host's series payloads. */

function pushAll<T>(target: T[], more: readonly T[]): void {
  for (let i = 0; i < more.length; i++) target.push(more[i]);
}

/** Index of the first x >= step (binary search; x ascending). */
export function lowerBound(x: number[], step: number): number {
  let lo = 0;
  let hi = x.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x[mid] < step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function appendSeries(run: RunData, payload: SeriesPayload): void {
  const { steps, evals } = payload;
  pushAll(run.steps.x, steps.x);
  for (const k of Object.keys(steps.y) as StepSeriesKey[]) pushAll((run.steps.y[k] ??= []), steps.y[k]);
  const n = run.steps.x.length;
  for (const k of Object.keys(run.evalOnSteps)) while (run.evalOnSteps[k].length < n) run.evalOnSteps[k].push(null);
  pushAll(run.evals.x, evals.x);
  for (const k of Object.keys(evals.y) as EvalSeriesKey[]) {
    pushAll((run.evals.y[k] ??= []), evals.y[k]);
    const onSteps = (run.evalOnSteps[k] ??= new Array<number | null>(n).fill(null));
    for (let i = 0; i < evals.x.length; i++) {
      // An eval point is drawn at the first logged step at or after it.
      const at = Math.min(lowerBound(run.steps.x, evals.x[i]), n - 1);
      if (at >= 0) onSteps[at] = evals.y[k][i];
    }
  }
}

export function runFrom(payload: SeriesPayload): RunData {
  const run = emptyRun();
  appendSeries(run, payload);
  return run;
}

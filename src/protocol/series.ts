/**
 * The time series a run's dashboard charts, shared by the host (which fills them from events)
 * and the dashboard webview (which draws them). Pure data, no imports: webviews bundle it.
 */

/** Series filled from `step` events, one value per logged optimizer step. */
export const STEP_SERIES = [
  'loss',
  'rewards/chosen',
  'rewards/rejected',
  'rewards/margins',
  'rewards/accuracies',
  'learning_rate',
  'grad_norm',
  'tokens_per_second',
  'samples_per_second',
  'contrast/effective_beta',
  'memory_gib',
] as const;
export type StepSeriesKey = (typeof STEP_SERIES)[number];

/** Series filled from `eval` events. */
export const EVAL_SERIES = ['loss', 'rewards/margins', 'rewards/accuracies'] as const;
export type EvalSeriesKey = (typeof EVAL_SERIES)[number];

/** Columnar: x holds the optimizer step of each point, y one array per series (null = no value). */
export interface Columns<K extends string> {
  x: number[];
  y: Record<K, (number | null)[]>;
}

export function emptyColumns<K extends string>(keys: readonly K[]): Columns<K> {
  return { x: [], y: Object.fromEntries(keys.map((k) => [k, []])) as unknown as Record<K, (number | null)[]> };
}

/** A copy of the points from index `from` on (what a dashboard has not seen yet). */
export function sliceColumns<K extends string>(c: Columns<K>, from: number): Columns<K> {
  const y = {} as Record<K, (number | null)[]>;
  for (const k of Object.keys(c.y) as K[]) y[k] = c.y[k].slice(from);
  return { x: c.x.slice(from), y };
}

/** Appends `more` to `c` in place. */
export function appendColumns<K extends string>(c: Columns<K>, more: Columns<K>): void {
  for (const v of more.x) c.x.push(v);
  for (const k of Object.keys(more.y) as K[]) {
    const target = (c.y[k] ??= []);
    for (const v of more.y[k]) target.push(v);
  }
}

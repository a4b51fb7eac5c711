import type { DashboardSummary, ViewMessage } from '../../src/protocol/dashboard';
import type { Columns, EvalSeriesKey, StepSeriesKey } from '../../src/protocol/series';
import { vscodeApi } from '../common/vscodeApi';

export const vscode = vscodeApi<ViewMessage>();

/** One run's chart data as the view holds it. */
export interface RunData {
  steps: Columns<StepSeriesKey>;
  evals: Columns<EvalSeriesKey>;
  /** Eval values placed on the step axis (same length as steps.x), per eval key. */
  evalOnSteps: Record<string, (number | null)[]>;
}

export function emptyRun(): RunData {
  return { steps: { x: [], y: {} as Columns<StepSeriesKey>['y'] }, evals: { x: [], y: {} as Columns<EvalSeriesKey>['y'] }, evalOnSteps: {} };
}

/** What the dashboard shows: the run, the run it is compared with, the host's summary. */
export const dashboard = {
  main: emptyRun(),
  overlay: null as (RunData & { name: string }) | null,
  summary: undefined as DashboardSummary | undefined,
  summaryReceivedAt: 0,
  /** Bumped when the main run is replaced or the overlay changes: joined chart tables are rebuilt. */
  dataVersion: 0,
};

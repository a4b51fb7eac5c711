import type { Counts, Filter, RecordDetail, ViewMessage } from '../../src/protocol/labeling';
import { vscodeApi } from '../common/vscodeApi';

export const vscode = vscodeApi<ViewMessage>();

export function send(m: ViewMessage): void {
  vscode.postMessage(m);
}

/** What the host last said the view shows. The host owns all of it; the view renders it. */
export interface ViewState {
  filter: Filter;
  query: string;
  /** Lines in the current filter and search. */
  matching: number;
  /** False while the list is still being scanned or searched. */
  listComplete: boolean;
  counts: Counts | undefined;
  selected: RecordDetail | null;
  /** The selected record's position in the current filter (-1: filtered out). */
  selectedPosition: number;
  wordDiff: boolean;
}

export const view: ViewState = {
  filter: 'all',
  query: '',
  matching: 0,
  listComplete: true,
  counts: undefined,
  selected: null,
  selectedPosition: -1,
  wordDiff: false,
};

import './main.css';
import { INITIAL_STATE_ELEMENT_ID, type InitialState } from '../../src/protocol/labeling';
import { applyInit, firstRowsPainted, handle } from './hostMessages';
import { focusListIfViewFocused } from './keys';
import { recordList } from './list';
import { send, vscode } from './state';

/**
 * The labeling editor's view. It never holds the dataset: it asks the host for windows of rows
 * (list.ts: virtualised, only the visible rows are in the DOM) and shows the one selected record
 * (detail.ts). The host owns the document, the selection and every label (hostMessages.ts).
 */

/**
 * The first screen the host put into the HTML, unless this view already showed it: a view shown
 * again after being hidden is reloaded with the same HTML, by then old (the webview's persisted
 * state remembers which one was shown). Then the view starts empty and the host sends the present.
 */
function readInitialState(): InitialState | undefined {
  const text = document.getElementById(INITIAL_STATE_ELEMENT_ID)?.textContent;
  if (!text) return undefined;
  let state: InitialState;
  try {
    state = JSON.parse(text) as InitialState;
  } catch {
    return undefined;
  }
  const persisted = (vscode.getState() ?? {}) as { shown?: string };
  if (persisted.shown === state.id) return undefined;
  vscode.setState({ ...persisted, shown: state.id });
  return state;
}

/** Paints the initial state: init, its window of rows, the selected record; nothing asked of the host. */
function applyInitialState(s: InitialState): void {
  applyInit(s.init);
  recordList.seed(s.rows);
  handle(s.selected); // renders the rows too (any not embedded are asked for)
  focusListIfViewFocused();
  firstRowsPainted();
}

const initialState = readInitialState();
if (initialState) applyInitialState(initialState);
// Where the first screen came from (the UI test checks it): the HTML, or the host after 'ready'.
document.body.dataset.firstScreen = initialState ? 'embedded' : 'asked';
send({ type: 'ready', embedded: initialState?.id });

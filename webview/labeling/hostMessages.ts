import type { HostMessage } from '../../src/protocol/labeling';
import { assertNever } from '../common/assertNever';
import { el } from '../common/dom';
import { detailView } from './detail';
import { focusField, focusListIfViewFocused } from './keys';
import { diffToggle, filterRadios, notice, note, noteRow, search, setChecked, setFieldValue, status } from './layout';
import { recordList } from './list';
import { send, view } from './state';
import { renderCounts, toggleHelp } from './toolbar';

/** Messages from the host, applied to the view's state and rendered. */

let firstRowsSent = false;
/** Tells the host, once, when the frame with the first rows has been painted (a big file's scan waits for it). */
export function firstRowsPainted(): void {
  if (firstRowsSent) return;
  firstRowsSent = true;
  requestAnimationFrame(() => send({ type: 'firstRows' }));
}

/**
 * After the view renders a new selection, the messages that follow it (counts, rows, prefetch)
 * wait until that frame is painted: what the user waits for is painted first.
 * They are then handled in the order they came.
 */
let selectionFramePending = false;
const deferred: HostMessage[] = [];
function deferUntilPainted(): void {
  if (selectionFramePending) return;
  selectionFramePending = true;
  requestAnimationFrame(() => setTimeout(() => {
    selectionFramePending = false;
    while (deferred.length && !selectionFramePending) handle(deferred.shift()!);
  }, 0));
}

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  // An invalidation is handled at once (the old rows stay on screen, unchanged elements are kept):
  // its request for fresh rows then leaves with this frame and the host answers it meanwhile.
  if (selectionFramePending && event.data?.type !== 'invalidate') deferred.push(event.data);
  else handle(event.data);
});

export function handle(m: HostMessage): void {
  switch (m.type) {
    case 'init':
      applyInit(m);
      recordList.invalidate();
      focusListIfViewFocused();
      break;
    case 'counts':
      view.counts = m.counts;
      renderCounts();
      break;
    case 'rows':
      if (recordList.accept(m)) firstRowsPainted();
      break;
    case 'selected':
      view.selected = m.detail;
      view.selectedPosition = m.position;
      // Reads of the list's geometry first, then the detail's DOM writes: nothing forces a
      // synchronous layout of the new record; it is laid out once, in the frame.
      if (view.selectedPosition >= 0) recordList.scrollToPosition(view.selectedPosition);
      recordList.render();
      detailView.render();
      deferUntilPainted();
      break;
    case 'prefetch':
      detailView.prefetch(m.detail);
      break;
    case 'invalidate':
      recordList.invalidate(true);
      break;
    case 'notPreference': {
      notice.hidden = false;
      const reopen = document.createElement('vscode-button');
      reopen.textContent = 'Reopen as Text';
      reopen.addEventListener('click', () => send({ type: 'reopenAsText' }));
      notice.replaceChildren(el('h2', {}, 'This file does not look like preference data'), el('p', {}, m.reason), reopen);
      break;
    }
    case 'focusNote':
      if (!noteRow.hidden) focusField(note);
      break;
    case 'focusSearch':
      focusField(search);
      break;
    case 'toggleHelp':
      toggleHelp();
      break;
    case 'toggleDiff':
      view.wordDiff = !view.wordDiff;
      setChecked(diffToggle, view.wordDiff);
      detailView.render();
      break;
    case 'error':
      status.textContent = m.message;
      break;
    default:
      assertNever(m);
  }
}

export function applyInit(m: Extract<HostMessage, { type: 'init' }>): void {
  document.title = m.fileName;
  view.counts = m.counts;
  view.wordDiff = m.settings.wordDiff;
  setChecked(diffToggle, view.wordDiff);
  // The host's filter and search (a view reloaded after being hidden starts from its defaults).
  if (m.filter !== view.filter || m.query !== view.query) {
    view.filter = m.filter;
    view.query = m.query;
    for (const [f, radio] of filterRadios) setChecked(radio, f === view.filter);
    setFieldValue(search, view.query);
  }
  view.matching = m.counts.lines;
  renderCounts();
  recordList.updateSpacer();
}

import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import { FILTERS, KEY_HELP, type Filter } from '../../src/protocol/labeling';
import { el } from '../common/dom';

/** The view's elements, built once: toolbar, the record list, the selected record, help, notices. */

export const FILTER_LABELS: Record<Filter, string> = {
  all: 'All', unlabeled: 'Unlabeled', labeled: 'Labeled', tieSkip: 'Tie / skip', disputed: 'Disputed', blind: 'Blind', invalid: 'Invalid',
  suspect: 'Suspect', picked: 'Picked',
};

/** Filters shown only while they have something to list (a run picked, records picked by another view). */
export const OPTIONAL_FILTERS: readonly Filter[] = ['suspect', 'picked'];

export const STATUS_LABELS: Record<string, string> = {
  unlabeled: 'unlabeled', unreviewed: 'unreviewed', labeled: 'labeled', tie: 'tie', skip: 'skip', bothBad: 'both bad',
  excluded: 'excluded', disputed: 'disputed', invalid: 'invalid', blank: 'blank',
};

const app = el('div', { id: 'app' });
const toolbar = el('header', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Filters and search' });
export const filters = document.createElement('vscode-radio-group');
filters.setAttribute('aria-label', 'Filter records');
filters.id = 'filters';
export const filterRadios = new Map<Filter, HTMLElement>();
for (const f of FILTERS) {
  const radio = document.createElement('vscode-radio');
  radio.setAttribute('name', 'filter');
  radio.setAttribute('value', f);
  radio.setAttribute('label', FILTER_LABELS[f]);
  radio.dataset.filter = f;
  if (f === 'all') radio.setAttribute('checked', '');
  if (f === 'suspect') radio.title = "The picked run's suspect labels: records the model prefers the other way (mean margin < 0), most suspect first";
  if (f === 'picked') radio.title = 'Records another view asked to show (the run dashboard\'s data map), in its order';
  if (OPTIONAL_FILTERS.includes(f)) radio.hidden = true;
  filterRadios.set(f, radio);
  filters.appendChild(radio);
}
export const search = document.createElement('vscode-textfield');
search.id = 'search';
search.setAttribute('placeholder', 'Search lines');
search.setAttribute('aria-label', 'Search lines (host-side, whole file)');
export const diffToggle = document.createElement('vscode-checkbox');
diffToggle.id = 'diff-toggle';
diffToggle.setAttribute('label', 'Word diff (W)');
export const progress = el('div', { id: 'progress', role: 'progressbar', 'aria-label': 'Labeling progress', 'aria-valuemin': '0', 'aria-valuemax': '0', 'aria-valuenow': '0' });
export const progressFill = el('div', { class: 'fill' });
progress.appendChild(progressFill);
export const progressText = el('span', { id: 'progress-text', 'aria-live': 'polite' });
export const annotators = el('span', { id: 'annotators' });
export const helpButton = document.createElement('vscode-button');
helpButton.setAttribute('secondary', '');
helpButton.textContent = 'Keys (?)';
/** The picked run's view of the file: its name, suspects, labels changed since, and its notes. */
export const runBar = el('div', { id: 'run-bar', role: 'status', 'aria-live': 'polite' });
export const runText = el('span', { id: 'run-text' });
export const runNotes = el('ul', { id: 'run-notes' });
export const runButton = document.createElement('vscode-button');
runButton.id = 'run-pick';
runButton.setAttribute('secondary', '');
runButton.textContent = 'Run…';
runButton.title = "Show a run's view of the records: suspect labels, margins, labels changed since the run";
runBar.append(runButton, runText, runNotes);
toolbar.append(filters, search, diffToggle, progress, progressText, annotators, helpButton, runBar);

const split = el('main', { class: 'split' });
export const list = el('section', { id: 'list', role: 'listbox', 'aria-label': 'Records', tabindex: '0' });
export const listViewport = el('div', { class: 'list-viewport' });
export const listSpacer = el('div', { class: 'list-spacer' });
export const listEmpty = el('div', { class: 'list-empty', hidden: '' });
list.append(listViewport, listSpacer, listEmpty);

export const detail = el('section', { id: 'detail', 'aria-label': 'Selected record', tabindex: '-1' });
export const detailHeader = el('div', { id: 'detail-header' });
export const promptBox = el('div', { id: 'prompt', 'aria-label': 'Prompt' });
export const responses = el('div', { id: 'responses' });
export const leftBox = el('article', { id: 'left', class: 'response', 'aria-label': 'Left response' });
export const rightBox = el('article', { id: 'right', class: 'response', 'aria-label': 'Right response' });
responses.append(leftBox, rightBox);
/** Every vote of a record several people labeled (adjudication). */
export const votesBox = el('section', { id: 'votes', 'aria-label': 'Votes', hidden: '' });
/** The picked run's figures for the record (margin, confidence...) and "label changed since run". */
export const dynamicsBox = el('section', { id: 'dynamics', 'aria-label': "The run's view of this record", hidden: '' });
export const actions = el('div', { id: 'actions', role: 'group', 'aria-label': 'Label actions' });
export const noteRow = el('div', { id: 'note-row' });
export const note = document.createElement('vscode-textfield');
note.id = 'note';
note.setAttribute('placeholder', 'Note (M to write, Enter to save)');
note.setAttribute('aria-label', 'Note for this record');
noteRow.append(note);
export const invalidBox = el('div', { id: 'invalid', hidden: '' });
detail.append(detailHeader, dynamicsBox, invalidBox, promptBox, responses, votesBox, actions, noteRow);
split.append(list, detail);

export const help = el('div', { id: 'help', role: 'dialog', 'aria-modal': 'true', 'aria-label': 'Keyboard shortcuts', hidden: '' });
const helpTable = el('table');
for (const { keys, what } of KEY_HELP) {
  const tr = el('tr');
  tr.append(el('th', { scope: 'row' }, keys), el('td', {}, what));
  helpTable.appendChild(tr);
}
help.append(el('h2', {}, 'Keyboard shortcuts'), helpTable, el('p', {}, 'Keys are VS Code keybindings ("RPO: …" commands): change them in Keyboard Shortcuts. Escape closes this help.'));

export const notice = el('div', { id: 'notice', role: 'alert', hidden: '' });
export const status = el('div', { id: 'status', role: 'status', 'aria-live': 'polite' });

app.append(toolbar, split, status);
document.body.append(app, help, notice);

/** The value of a vscode-textfield. */
export function fieldValue(field: HTMLElement): string {
  return (field as unknown as { value: string }).value;
}

export function setFieldValue(field: HTMLElement, value: string): void {
  (field as unknown as { value: string }).value = value;
}

/** The checked state of a vscode-checkbox or vscode-radio. */
export function isChecked(box: HTMLElement): boolean {
  return (box as unknown as { checked: boolean }).checked;
}

export function setChecked(box: HTMLElement, checked: boolean): void {
  (box as unknown as { checked: boolean }).checked = checked;
}

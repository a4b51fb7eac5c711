import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import { diffWords } from 'diff';
import './main.css';
import { renderMarkdown } from './markdown';
import {
  FILTERS, INITIAL_STATE_ELEMENT_ID, KEY_HELP,
  type Counts, type Filter, type HostMessage, type InitialState, type LabelAction, type RecordDetail, type ResponseView,
  type RowSummary, type Turn, type ViewMessage,
} from '../../src/protocol/labeling';

/**
 * The labeling editor's view. It never holds the dataset: it asks the host for windows of rows
 * (virtualised list: only the visible rows are in the DOM) and shows the one selected record.
 * Keys are VS Code keybindings (the webview forwards keydown to the workbench); this view only
 * keeps keys typed into its own text fields from reaching them.
 */

interface VsCodeApi {
  postMessage(message: ViewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();
const post = (m: ViewMessage) => vscode.postMessage(m);

const ROW_HEIGHT = 24;
/** Browsers cap element heights (~16-33M px): above this the scrollbar is scaled. */
const MAX_SCROLL_PX = 8_000_000;
const OVERSCAN = 20;

const FILTER_LABELS: Record<Filter, string> = {
  all: 'All', unlabeled: 'Unlabeled', labeled: 'Labeled', tieSkip: 'Tie / skip', invalid: 'Invalid',
};
const ACTION_LABELS: Record<LabelAction, [string, string]> = {
  chooseLeft: ['Left better', '1'],
  chooseRight: ['Right better', '2'],
  chooseLeftSlightly: ['Left slightly', '⇧1'],
  chooseRightSlightly: ['Right slightly', '⇧2'],
  tie: ['Tie', 'T'],
  skip: ['Skip', 'S'],
  bothBad: ['Both bad', 'X'],
  clear: ['Clear', '⌫'],
  thumbsUp: ['Thumbs up', 'U'],
  thumbsDown: ['Thumbs down', 'D'],
  confirm: ['Confirm', 'C'],
  flip: ['Flip', 'F'],
  exclude: ['Exclude', 'E'],
};
const STATUS_LABELS: Record<string, string> = {
  unlabeled: 'unlabeled', unreviewed: 'unreviewed', labeled: 'labeled', tie: 'tie', skip: 'skip', bothBad: 'both bad',
  excluded: 'excluded', invalid: 'invalid', blank: 'blank',
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// ------------------------------------------------------------------ layout

const app = el('div', { id: 'app' });
const toolbar = el('header', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Filters and search' });
const filters = document.createElement('vscode-radio-group');
filters.setAttribute('aria-label', 'Filter records');
filters.id = 'filters';
const filterRadios = new Map<Filter, HTMLElement>();
for (const f of FILTERS) {
  const radio = document.createElement('vscode-radio');
  radio.setAttribute('name', 'filter');
  radio.setAttribute('value', f);
  radio.setAttribute('label', FILTER_LABELS[f]);
  radio.dataset.filter = f;
  if (f === 'all') radio.setAttribute('checked', '');
  filterRadios.set(f, radio);
  filters.appendChild(radio);
}
const search = document.createElement('vscode-textfield');
search.id = 'search';
search.setAttribute('placeholder', 'Search lines');
search.setAttribute('aria-label', 'Search lines (host-side, whole file)');
const diffToggle = document.createElement('vscode-checkbox');
diffToggle.id = 'diff-toggle';
diffToggle.setAttribute('label', 'Word diff (W)');
const progress = el('div', { id: 'progress', role: 'progressbar', 'aria-label': 'Labeling progress', 'aria-valuemin': '0', 'aria-valuemax': '0', 'aria-valuenow': '0' });
const progressFill = el('div', { class: 'fill' });
progress.appendChild(progressFill);
const progressText = el('span', { id: 'progress-text', 'aria-live': 'polite' });
const annotators = el('span', { id: 'annotators' });
const helpButton = document.createElement('vscode-button');
helpButton.setAttribute('secondary', '');
helpButton.textContent = 'Keys (?)';
toolbar.append(filters, search, diffToggle, progress, progressText, annotators, helpButton);

const split = el('main', { class: 'split' });
const list = el('section', { id: 'list', role: 'listbox', 'aria-label': 'Records', tabindex: '0' });
const listViewport = el('div', { class: 'list-viewport' });
const listSpacer = el('div', { class: 'list-spacer' });
const listEmpty = el('div', { class: 'list-empty', hidden: '' });
list.append(listViewport, listSpacer, listEmpty);

const detail = el('section', { id: 'detail', 'aria-label': 'Selected record', tabindex: '-1' });
const detailHeader = el('div', { id: 'detail-header' });
const promptBox = el('div', { id: 'prompt', 'aria-label': 'Prompt' });
const responses = el('div', { id: 'responses' });
const leftBox = el('article', { id: 'left', class: 'response', 'aria-label': 'Left response' });
const rightBox = el('article', { id: 'right', class: 'response', 'aria-label': 'Right response' });
responses.append(leftBox, rightBox);
const actions = el('div', { id: 'actions', role: 'group', 'aria-label': 'Label actions' });
const noteRow = el('div', { id: 'note-row' });
const note = document.createElement('vscode-textfield');
note.id = 'note';
note.setAttribute('placeholder', 'Note (M to write, Enter to save)');
note.setAttribute('aria-label', 'Note for this record');
noteRow.append(note);
const invalidBox = el('div', { id: 'invalid', hidden: '' });
detail.append(detailHeader, invalidBox, promptBox, responses, actions, noteRow);
split.append(list, detail);

const help = el('div', { id: 'help', role: 'dialog', 'aria-modal': 'true', 'aria-label': 'Keyboard shortcuts', hidden: '' });
const helpTable = el('table');
for (const { keys, what } of KEY_HELP) {
  const tr = el('tr');
  tr.append(el('th', { scope: 'row' }, keys), el('td', {}, what));
  helpTable.appendChild(tr);
}
help.append(el('h2', {}, 'Keyboard shortcuts'), helpTable, el('p', {}, 'Keys are VS Code keybindings ("RPO: …" commands): change them in Keyboard Shortcuts. Escape closes this help.'));

const notice = el('div', { id: 'notice', role: 'alert', hidden: '' });
const status = el('div', { id: 'status', role: 'status', 'aria-live': 'polite' });

app.append(toolbar, split, status);
document.body.append(app, help, notice);

// ------------------------------------------------------------------ state

let filter: Filter = 'all';
let query = '';
let matching = 0;
let listComplete = true;
let counts: Counts | undefined;
let selected: RecordDetail | null = null;
let selectedPosition = -1;
/** The record whose note the note field shows. */
let noteFor = -1;
/** The actions the buttons were built for. */
let actionsKey = '';
let wordDiff = false;
let requestSeq = 0;
let pendingRequest = -1;
/** Rows by position in the current filter; cleared on every filter change or invalidation. */
let rows = new Map<number, RowSummary>();
/** Rows from before the last edit, shown until fresh ones arrive. */
let staleRows = new Map<number, RowSummary>();
/** Bumped by every invalidation: an answer to a request sent before it is stale. */
let epoch = 0;
let pendingEpoch = -1;
let firstVisible = 0;

function send(m: ViewMessage): void {
  post(m);
}

// ------------------------------------------------------------------ the virtual list

function visibleCount(): number {
  return Math.ceil(list.clientHeight / ROW_HEIGHT) + 1;
}

function scrollGeometry() {
  const viewportH = list.clientHeight;
  const totalPx = matching * ROW_HEIGHT;
  const scrollPx = Math.min(totalPx, MAX_SCROLL_PX);
  return { viewportH, totalPx, scrollPx };
}

function updateSpacer(): void {
  const { viewportH, scrollPx } = scrollGeometry();
  listSpacer.style.height = `${Math.max(scrollPx - viewportH, 0)}px`;
}

/** The unscaled pixel offset of the list's top edge. */
function positionPx(): number {
  const { viewportH, totalPx, scrollPx } = scrollGeometry();
  if (scrollPx <= viewportH) return 0;
  return (list.scrollTop * (totalPx - viewportH)) / (scrollPx - viewportH);
}

function scrollToPosition(pos: number): void {
  const { viewportH, totalPx, scrollPx } = scrollGeometry();
  if (scrollPx <= viewportH) return;
  const current = positionPx();
  const top = pos * ROW_HEIGHT;
  let target = current;
  if (top < current) target = top;
  else if (top + ROW_HEIGHT > current + viewportH) target = top + ROW_HEIGHT - viewportH;
  else return;
  list.scrollTop = (target * (scrollPx - viewportH)) / (totalPx - viewportH);
}

type RowElement = HTMLDivElement & { rowKey?: string };

function renderRows(): void {
  const px = positionPx();
  firstVisible = Math.floor(px / ROW_HEIGHT);
  const offset = px - firstVisible * ROW_HEIGHT;
  const n = Math.min(visibleCount(), Math.max(matching - firstVisible, 0));
  let missing = false;
  // Rows are updated in place: an element whose row, status and selection are unchanged is only
  // moved (a label or a selection change touches a few rows, not the whole window).
  const have = listViewport.children;
  for (let k = 0; k < n; k++) {
    const pos = firstVisible + k;
    const row = rows.get(pos) ?? staleRows.get(pos);
    if (!rows.has(pos)) missing = true;
    const isSelected = !!row && selected?.index === row.index;
    const key = row ? `${row.index}\u0000${row.status}\u0000${isSelected}\u0000${row.preview}` : '';
    let div = have[k] as RowElement | undefined;
    if (!div) {
      div = el('div', { class: 'row', role: 'option' }) as RowElement;
      listViewport.appendChild(div);
    }
    const transform = `translateY(${k * ROW_HEIGHT - offset}px)`;
    if (div.style.transform !== transform) div.style.transform = transform;
    div.dataset.position = String(pos);
    if (div.rowKey === key && key !== '') continue;
    div.rowKey = key;
    if (!row) {
      missing = true;
      div.className = 'row loading';
      div.removeAttribute('id');
      delete div.dataset.index;
      div.removeAttribute('title');
      div.setAttribute('aria-selected', 'false');
      div.textContent = '…';
    } else {
      div.id = `row-${row.index}`;
      div.dataset.index = String(row.index);
      div.setAttribute('aria-selected', String(isSelected));
      div.className = `row status-${row.status}${isSelected ? ' selected' : ''}`;
      const line = el('span', { class: 'line' }, String(row.index + 1));
      const badge = el('span', { class: 'badge' }, STATUS_LABELS[row.status] ?? row.status);
      const preview = el('span', { class: 'preview' }, row.preview);
      div.replaceChildren(line, badge, preview);
      div.title = `Line ${row.index + 1}: ${STATUS_LABELS[row.status] ?? row.status}`;
    }
  }
  while (have.length > n) have[have.length - 1]!.remove();
  if (selected) list.setAttribute('aria-activedescendant', `row-${selected.index}`);
  listEmpty.hidden = matching > 0;
  listEmpty.textContent = listComplete ? (query ? 'No line matches the search.' : 'No records in this filter.') : 'Scanning…';
  if (missing) requestVisible();
}

let requestScheduled = false;
function requestVisible(): void {
  if (requestScheduled) return;
  requestScheduled = true;
  requestAnimationFrame(() => {
    requestScheduled = false;
    const start = Math.max(firstVisible - OVERSCAN, 0);
    const count = visibleCount() + 2 * OVERSCAN;
    if (pendingRequest >= 0) return; // one in flight; its answer re-renders and re-checks
    pendingRequest = ++requestSeq;
    pendingEpoch = epoch;
    send({ type: 'rows', requestId: pendingRequest, filter, query, start, count: Math.min(count, 500) });
  });
}

/**
 * Drops the loaded rows and asks for the visible window again. `keepStale` (after an edit, same
 * filter): the old rows stay on screen until the fresh ones arrive, no placeholder flash.
 */
function invalidateList(keepStale = false): void {
  // Rapid edits: the rows of the previous invalidation may not have come back yet.
  staleRows = keepStale ? (rows.size ? rows : staleRows) : new Map();
  rows = new Map();
  epoch++;
  renderRows();
  requestVisible();
}

list.addEventListener('scroll', () => renderRows(), { passive: true });
new ResizeObserver(() => { updateSpacer(); renderRows(); }).observe(list);
list.addEventListener('click', (e) => {
  const target = (e.target as HTMLElement).closest<HTMLElement>('.row');
  const index = target?.dataset.index;
  if (index !== undefined) send({ type: 'select', index: Number(index) });
});
list.addEventListener('keydown', (e) => {
  // Arrow keys and paging are navigation commands (VS Code keybindings); stop the browser's own
  // scrolling of the list. preventDefault does not stop the key reaching the workbench.
  if (['ArrowUp', 'ArrowDown', 'PageUp', 'PageDown', 'Home', 'End', ' '].includes(e.key)) e.preventDefault();
});

// ------------------------------------------------------------------ detail

function turnsText(turns: Turn[]): string {
  return turns.map((t) => (turns.length > 1 ? `${t.role}: ${t.content}` : t.content)).join('\n\n');
}

function renderTurns(turns: Turn[], target: HTMLElement): void {
  target.replaceChildren();
  for (const t of turns) {
    const box = el('div', { class: `turn role-${/^[\w-]{1,20}$/.test(t.role) ? t.role : 'other'}` });
    box.append(el('div', { class: 'role' }, t.role));
    const body = el('div', { class: 'md' });
    renderMarkdown(t.content, body);
    box.append(body);
    target.append(box);
  }
}

function renderDiff(left: ResponseView, right: ResponseView, leftBodyBox: Element | null, rightBodyBox: Element | null): void {
  const a = turnsText(left.turns);
  const b = turnsText(right.turns);
  const parts = diffWords(a, b, { maxEditLength: 20_000 });
  const leftBody = el('pre', { class: 'diff' });
  const rightBody = el('pre', { class: 'diff' });
  if (!parts) {
    leftBody.textContent = a;
    rightBody.textContent = b;
  } else {
    for (const p of parts) {
      if (p.added) rightBody.append(el('ins', {}, p.value));
      else if (p.removed) leftBody.append(el('del', {}, p.value));
      else {
        leftBody.append(document.createTextNode(p.value));
        rightBody.append(document.createTextNode(p.value));
      }
    }
  }
  leftBodyBox?.replaceChildren(leftBody);
  rightBodyBox?.replaceChildren(rightBody);
}

/** A response's heading and body, built detached from the document. */
function buildResponse(response: ResponseView, key: string, preferred: boolean): HTMLElement[] {
  const h = el('h3');
  h.append(el('kbd', {}, key), document.createTextNode(` ${response.title}`));
  if (preferred) h.append(el('span', { class: 'pref-mark' }, ' ✓ preferred'));
  const body = el('div', { class: 'body' });
  renderTurns(response.turns, body);
  return [h, body];
}

/**
 * The DOM of a record's prompt and responses, built before it is shown: the host sends the record
 * a label would advance to ('prefetch'), the view builds it while idle, and when the host's
 * 'selected' names exactly that record (same JSON, same word-diff setting) it is swapped in
 * instead of rendered. The host's 'selected' stays the truth: anything else renders from scratch.
 */
interface Built {
  json: string;
  wordDiff: boolean;
  prompt: HTMLElement;
  left?: HTMLElement[];
  right?: HTMLElement[];
}
let prebuilt: Built | undefined;

function preferredSides(d: RecordDetail): [boolean, boolean] {
  return [d.label?.preferred === 'left' || d.label?.thumb === true, d.label?.preferred === 'right'];
}

function buildRecord(d: RecordDetail, json: string): Built {
  const prompt = el('div');
  renderTurns(d.prompt, prompt);
  const keys = d.kind === 'unpaired' ? ['', ''] : ['1', '2'];
  const [lp, rp] = preferredSides(d);
  const left = d.left && buildResponse(d.left, keys[0]!, lp);
  const right = d.right && buildResponse(d.right, keys[1]!, rp);
  if (wordDiff && d.left && d.right && left && right) renderDiff(d.left, d.right, left[1]!, right[1]!);
  return { json, wordDiff, prompt, left, right };
}

function showResponse(box: HTMLElement, nodes: HTMLElement[] | undefined, preferred: boolean): void {
  box.hidden = !nodes;
  box.classList.toggle('preferred', preferred && !!nodes);
  box.replaceChildren(...(nodes ?? []));
}

let prebuildTimer: ReturnType<typeof setTimeout> | undefined;
let prefetchSeq = 0;
function prefetch(d: RecordDetail): void {
  clearTimeout(prebuildTimer);
  const seq = ++prefetchSeq;
  if (d.kind === 'invalid' || d.kind === 'blank') return;
  // After the frame that shows the current record, when the view is idle: building it must not
  // delay that paint, nor the next key.
  prebuildTimer = setTimeout(() => requestIdleCallback(() => {
    if (seq !== prefetchSeq || selected?.index === d.index) return;
    prebuilt = buildRecord(d, JSON.stringify(d));
  }, { timeout: 100 }), 0);
}

function renderDetail(): void {
  const d = selected;
  invalidBox.hidden = true;
  detail.dataset.render = 'rendered';
  if (!d) {
    detailHeader.textContent = counts && counts.complete && counts.lines === 0 ? 'The file is empty.' : 'No record selected.';
    promptBox.replaceChildren();
    leftBox.hidden = rightBox.hidden = true;
    actions.replaceChildren();
    actionsKey = '';
    noteRow.hidden = true;
    return;
  }
  const label = d.label;
  const bits = [`Line ${d.index + 1}`, d.kind, STATUS_LABELS[d.status] ?? d.status];
  if (label?.strength) bits.push(label.strength);
  if (label?.annotator) bits.push(`by ${label.annotator}`);
  if (label?.time) bits.push(label.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));
  detailHeader.textContent = bits.join(' · ');
  detailHeader.className = `status-${d.status}`;
  if (d.kind === 'invalid' || d.kind === 'blank') {
    invalidBox.hidden = false;
    invalidBox.replaceChildren(el('p', { class: 'reason' }, d.reason ?? 'Not a preference record.'), el('pre', { class: 'raw' }, d.raw ?? ''));
    promptBox.replaceChildren();
    leftBox.hidden = rightBox.hidden = true;
  } else {
    const json = JSON.stringify(d);
    const built = prebuilt && prebuilt.json === json && prebuilt.wordDiff === wordDiff ? prebuilt : buildRecord(d, json);
    // Which path showed it (the UI test checks that the prefetched record is the one swapped in).
    detail.dataset.render = built === prebuilt ? 'prefetched' : 'rendered';
    if (built === prebuilt) prebuilt = undefined;
    promptBox.replaceChildren(...Array.from(built.prompt.childNodes));
    const [lp, rp] = preferredSides(d);
    showResponse(leftBox, built.left, lp);
    showResponse(rightBox, built.right, rp);
  }
  responses.classList.toggle('single', !d.right);
  // The buttons (custom elements, each with a shadow root) are rebuilt only when the set of
  // actions changes, not for every record: they act on the record selected when clicked.
  const key = d.actions.join(',');
  if (key !== actionsKey) {
    actionsKey = key;
    actions.replaceChildren();
    for (const a of d.actions) {
      const b = document.createElement('vscode-button');
      b.setAttribute('secondary', '');
      const [label, keyName] = ACTION_LABELS[a];
      b.textContent = `${label} (${keyName})`;
      b.dataset.action = a;
      b.addEventListener('click', () => { if (selected) send({ type: 'label', index: selected.index, action: a }); });
      actions.append(b);
    }
  }
  noteRow.hidden = d.kind === 'invalid' || d.kind === 'blank';
  // A refresh of the same record (counts, another view's edit) must not wipe a note being typed.
  const typing = noteFor === d.index && note.shadowRoot?.activeElement?.tagName === 'INPUT';
  if (!typing) (note as unknown as { value: string }).value = label?.note ?? '';
  noteFor = d.index;
}

// ------------------------------------------------------------------ toolbar

function renderCounts(): void {
  if (!counts) return;
  const c = counts;
  const done = c.records - c.unlabeled;
  progress.setAttribute('aria-valuemax', String(c.records));
  progress.setAttribute('aria-valuenow', String(done));
  progressFill.style.width = c.records ? `${(100 * done) / c.records}%` : '0%';
  const scanning = c.reading
    ? ` · reading the file ${Math.round((100 * c.reading.read) / Math.max(c.reading.total, 1))}% (first ${c.lines.toLocaleString()} lines shown, labels apply once it is read)`
    : c.complete ? '' : ` · scanning ${Math.round((100 * c.scanned) / Math.max(c.lines, 1))}%`;
  progressText.textContent = `${done.toLocaleString()} / ${c.records.toLocaleString()} labeled (${c.tieSkip.toLocaleString()} tie/skip, ${c.invalid.toLocaleString()} invalid)${scanning}`;
  const who = Object.entries(c.byAnnotator).sort((a, b) => b[1] - a[1]).slice(0, 5);
  annotators.textContent = who.length ? who.map(([name, n]) => `${name || '(no annotator)'}: ${n.toLocaleString()}`).join(' · ') : '';
  const byFilter: Record<Filter, number> = { all: c.lines, unlabeled: c.unlabeled, labeled: c.labeled, tieSkip: c.tieSkip, invalid: c.invalid };
  // Only the radios whose count changed (each is a custom element that re-renders on a new label).
  for (const [f, radio] of filterRadios) {
    const text = `${FILTER_LABELS[f]} ${byFilter[f].toLocaleString()}`;
    if (radio.getAttribute('label') !== text) radio.setAttribute('label', text);
  }
}

filters.addEventListener('change', () => {
  const checked = Array.from(filterRadios.entries()).find(([, r]) => (r as unknown as { checked: boolean }).checked);
  if (!checked || checked[0] === filter) return;
  filter = checked[0];
  list.scrollTop = 0;
  send({ type: 'setFilter', filter, query });
  invalidateList();
});

let searchTimer: ReturnType<typeof setTimeout> | undefined;
search.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    const q = (search as unknown as { value: string }).value.slice(0, 1000);
    if (q === query) return;
    query = q;
    list.scrollTop = 0;
    send({ type: 'setFilter', filter, query });
    invalidateList();
  }, 250);
});

diffToggle.addEventListener('change', () => {
  wordDiff = (diffToggle as unknown as { checked: boolean }).checked;
  renderDetail();
});

function toggleHelp(show = help.hidden): void {
  help.hidden = !show;
  if (show) help.focus();
  else list.focus();
}
help.tabIndex = -1;
helpButton.addEventListener('click', () => toggleHelp());

function saveNote(): void {
  if (!selected) return;
  const value = (note as unknown as { value: string }).value.slice(0, 10_000);
  if ((selected.label?.note ?? '') !== value) send({ type: 'note', index: selected.index, note: value });
}

// Keys typed into this view's own inputs stay here: stopping propagation at the document keeps
// them from the workbench, so "1" in the note field types "1" instead of labeling.
document.addEventListener('keydown', (e) => {
  const origin = e.composedPath()[0] as HTMLElement | undefined;
  const inInput = !!origin && (origin.tagName === 'INPUT' || origin.tagName === 'TEXTAREA' || origin.isContentEditable);
  if (e.key === 'Escape') {
    if (!help.hidden) { toggleHelp(false); e.stopPropagation(); return; }
    if (inInput) { if (e.target === note) saveNote(); list.focus(); e.stopPropagation(); return; }
  }
  if (inInput) {
    if (e.key === 'Enter' && e.target === note) { saveNote(); list.focus(); }
    if (!e.ctrlKey && !e.metaKey && !e.altKey) e.stopPropagation();
  }
});

/**
 * The list takes the keyboard focus when the view starts, but only if the view has it: a view
 * still loading while the user opened the Command Palette or a quick pick must not pull the focus
 * out of it (that closes the palette). The view gets the focus later through VS Code; the list
 * takes it then.
 */
function focusListIfViewFocused(): void {
  if (document.hasFocus()) list.focus();
}

window.addEventListener('focus', () => {
  if (document.activeElement === document.body || document.activeElement === null) list.focus();
  send({ type: 'focus', focused: true });
});
window.addEventListener('blur', () => send({ type: 'focus', focused: false }));

// ------------------------------------------------------------------ host messages

/** Focuses a vscode-textfield's inner input (the element itself may not delegate focus). */
function focusField(field: HTMLElement): void {
  const input = field.shadowRoot?.querySelector('input');
  (input ?? field).focus();
}

function painted(what: 'rows' | 'selected' | 'init'): void {
  requestAnimationFrame(() => send({ type: 'painted', what, at: performance.now() }));
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

function handle(m: HostMessage): void {
  switch (m.type) {
    case 'init':
      applyInit(m);
      invalidateList();
      focusListIfViewFocused();
      painted('init');
      break;
    case 'counts':
      counts = m.counts;
      renderCounts();
      break;
    case 'rows': {
      let answerEpoch = -1;
      if (m.requestId === pendingRequest) {
        pendingRequest = -1;
        answerEpoch = pendingEpoch;
      }
      if (m.filter !== filter || m.query !== query) break;
      if (answerEpoch !== epoch) {
        // Asked before the last edit: show it meanwhile, ask again.
        m.rows.forEach((r, k) => staleRows.set(m.start + k, r));
        renderRows();
        break;
      }
      if (m.matching !== matching) {
        matching = m.matching;
        updateSpacer();
      }
      listComplete = m.complete;
      m.rows.forEach((r, k) => rows.set(m.start + k, r));
      if (rows.size > 5000) {
        for (const pos of rows.keys()) if (Math.abs(pos - firstVisible) > 1000) rows.delete(pos);
      }
      renderRows();
      painted('rows');
      break;
    }
    case 'selected':
      selected = m.detail;
      selectedPosition = m.position;
      // Reads of the list's geometry first, then the detail's DOM writes: nothing forces a
      // synchronous layout of the new record; it is laid out once, in the frame.
      if (selectedPosition >= 0) scrollToPosition(selectedPosition);
      renderRows();
      renderDetail();
      painted('selected');
      deferUntilPainted();
      break;
    case 'prefetch':
      prefetch(m.detail);
      break;
    case 'invalidate':
      invalidateList(true);
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
      wordDiff = !wordDiff;
      (diffToggle as unknown as { checked: boolean }).checked = wordDiff;
      renderDetail();
      break;
    case 'error':
      status.textContent = m.message;
      break;
    default: {
      const never: never = m;
      void never;
    }
  }
}

function applyInit(m: Extract<HostMessage, { type: 'init' }>): void {
  document.title = m.fileName;
  counts = m.counts;
  wordDiff = m.settings.wordDiff;
  (diffToggle as unknown as { checked: boolean }).checked = wordDiff;
  // The host's filter and search (a view reloaded after being hidden starts from its defaults).
  if (m.filter !== filter || m.query !== query) {
    filter = m.filter;
    query = m.query;
    for (const [f, radio] of filterRadios) (radio as unknown as { checked: boolean }).checked = f === filter;
    (search as unknown as { value: string }).value = query;
  }
  matching = m.counts.lines;
  renderCounts();
  updateSpacer();
}

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
  if (s.rows.filter === filter && s.rows.query === query) {
    matching = s.rows.matching;
    listComplete = s.rows.complete;
    s.rows.rows.forEach((r, k) => rows.set(s.rows.start + k, r));
    updateSpacer();
  }
  handle(s.selected); // renders the rows too (any not embedded are asked for)
  focusListIfViewFocused();
  painted('rows');
}

const initialState = readInitialState();
if (initialState) applyInitialState(initialState);
// Where the first screen came from (the UI test checks it): the HTML, or the host after 'ready'.
document.body.dataset.firstScreen = initialState ? 'embedded' : 'asked';
send({ type: 'ready', embedded: initialState?.id });

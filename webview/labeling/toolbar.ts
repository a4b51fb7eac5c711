import type { Filter } from '../../src/protocol/labeling';
import { detailView } from './detail';
import {
  annotators, diffToggle, FILTER_LABELS, filterRadios, filters, help, helpButton, isChecked, list, OPTIONAL_FILTERS, progress, progressFill,
  progressText, runButton, runNotes, runText, search, fieldValue,
} from './layout';
import { el } from '../common/dom';
import { recordList } from './list';
import { send, view } from './state';

/** The toolbar: filter radios with counts, search, word diff, progress, annotators, help. */

/** Counts the Blind filter still shows: no vote changes them. */
const BLIND_SAFE: readonly Filter[] = ['all', 'blind', 'invalid'];

export function renderCounts(): void {
  if (!view.counts) return;
  const c = view.counts;
  const done = c.records - c.unlabeled;
  progress.setAttribute('aria-valuemax', String(c.records));
  progress.setAttribute('aria-valuenow', String(done));
  progressFill.style.width = c.records ? `${(100 * done) / c.records}%` : '0%';
  const scanning = c.reading
    ? ` · reading the file ${Math.round((100 * c.reading.read) / Math.max(c.reading.total, 1))}% (first ${c.lines.toLocaleString()} lines shown, labels apply once it is read)`
    : c.complete ? '' : ` · scanning ${Math.round((100 * c.scanned) / Math.max(c.lines, 1))}%`;
  // The Blind filter (blind re-annotation) shows no count a vote can move: who labeled how many,
  // tie/skip, labeled and disputed would tell, from how they change after a vote, what the earlier
  // votes on the record were (agreeing keeps it resolved, disagreeing makes it disputed).
  const blind = view.filter === 'blind';
  progressText.textContent = blind
    ? `Blind re-annotation: ${c.blind.toLocaleString()} marked records (counts of labels hidden)${scanning}`
    : `${done.toLocaleString()} / ${c.records.toLocaleString()} labeled (${c.tieSkip.toLocaleString()} tie/skip, ${c.invalid.toLocaleString()} invalid)${scanning}`;
  const who = blind ? [] : Object.entries(c.byAnnotator).sort((a, b) => b[1] - a[1]).slice(0, 5);
  annotators.textContent = who.length ? who.map(([name, n]) => `${name || '(no annotator)'}: ${n.toLocaleString()}`).join(' · ') : '';
  const byFilter: Record<Filter, number> = {
    all: c.lines, unlabeled: c.unlabeled, labeled: c.labeled, tieSkip: c.tieSkip, disputed: c.disputed, blind: c.blind, invalid: c.invalid,
    suspect: c.run?.suspects ?? 0, picked: c.picked ?? 0,
  };
  const shown: Record<string, boolean> = { suspect: !!c.run, picked: c.picked !== undefined };
  // Only the radios whose count changed (each is a custom element that re-renders on a new label).
  for (const [f, radio] of filterRadios) {
    const text = blind && !BLIND_SAFE.includes(f) ? FILTER_LABELS[f] : `${FILTER_LABELS[f]} ${byFilter[f].toLocaleString()}`;
    if (radio.getAttribute('label') !== text) radio.setAttribute('label', text);
    if (OPTIONAL_FILTERS.includes(f)) {
      const hidden = !shown[f] && view.filter !== f;
      if (radio.hidden !== hidden) radio.hidden = hidden;
    }
  }
  renderRun();
}

/** The run bar: "Run X: N suspects · labels changed since run X: M", and the run's notes. */
let runKey = '';
function renderRun(): void {
  const r = view.counts?.run;
  const key = JSON.stringify(r ?? null);
  if (key === runKey) return;
  runKey = key;
  if (!r) {
    runText.textContent = 'No run shown';
    runNotes.replaceChildren();
    return;
  }
  const n = (x: number) => x.toLocaleString();
  const matching = r.complete ? '' : ' (matching records…)';
  const changed = r.changed ? ` (${n(r.flipped)} flipped, ${n(r.unlabeled)} no longer labeled)` : '';
  const missing = r.suspectsMissing ? `, ${n(r.suspectsMissing)} no longer in the file` : '';
  runText.textContent = `Run ${r.name}: ${n(r.suspects)} suspects${missing} · labels changed since run ${r.name}: ${n(r.changed)}${changed}${matching}`;
  runNotes.replaceChildren(...r.notes.map((t) => el('li', {}, t)));
}

runButton.addEventListener('click', () => send({ type: 'pickRun' }));

filters.addEventListener('change', () => {
  const checked = Array.from(filterRadios.entries()).find(([, r]) => isChecked(r));
  if (!checked || checked[0] === view.filter) return;
  view.filter = checked[0];
  renderCounts();
  list.scrollTop = 0;
  send({ type: 'setFilter', filter: view.filter, query: view.query });
  recordList.invalidate();
});

let searchTimer: ReturnType<typeof setTimeout> | undefined;
search.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    const q = fieldValue(search).slice(0, 1000);
    if (q === view.query) return;
    view.query = q;
    list.scrollTop = 0;
    send({ type: 'setFilter', filter: view.filter, query: view.query });
    recordList.invalidate();
  }, 250);
});

diffToggle.addEventListener('change', () => {
  view.wordDiff = isChecked(diffToggle);
  detailView.render();
});

export function toggleHelp(show = help.hidden): void {
  help.hidden = !show;
  if (show) help.focus();
  else list.focus();
}
help.tabIndex = -1;
helpButton.addEventListener('click', () => toggleHelp());

import type { HostMessage, InitialState, RowSummary } from '../../src/protocol/labeling';
import { el } from '../common/dom';
import { list, listEmpty, listSpacer, listViewport, STATUS_LABELS } from './layout';
import { send, view } from './state';

/**
 * The virtualised record list: only the visible rows are in the DOM, and the view asks the host
 * for windows of rows as it scrolls (it never holds the dataset).
 */

const ROW_HEIGHT = 24;
/** Browsers cap element heights (~16-33M px): above this the scrollbar is scaled. */
const MAX_SCROLL_PX = 8_000_000;
const OVERSCAN = 20;

type RowElement = HTMLDivElement & { rowKey?: string };
type RowsMessage = Extract<HostMessage, { type: 'rows' }>;

class RecordList {
  /** Rows by position in the current filter; cleared on every filter change or invalidation. */
  private rows = new Map<number, RowSummary>();
  /** Rows from before the last edit, shown until fresh ones arrive. */
  private staleRows = new Map<number, RowSummary>();
  /** Bumped by every invalidation: an answer to a request sent before it is stale. */
  private epoch = 0;
  private requestSeq = 0;
  private pendingRequest = -1;
  private pendingEpoch = -1;
  private requestScheduled = false;
  private firstVisible = 0;

  private visibleCount(): number {
    return Math.ceil(list.clientHeight / ROW_HEIGHT) + 1;
  }

  private scrollGeometry() {
    const viewportH = list.clientHeight;
    const totalPx = view.matching * ROW_HEIGHT;
    const scrollPx = Math.min(totalPx, MAX_SCROLL_PX);
    return { viewportH, totalPx, scrollPx };
  }

  updateSpacer(): void {
    const { viewportH, scrollPx } = this.scrollGeometry();
    listSpacer.style.height = `${Math.max(scrollPx - viewportH, 0)}px`;
  }

  /** The unscaled pixel offset of the list's top edge. */
  private positionPx(): number {
    const { viewportH, totalPx, scrollPx } = this.scrollGeometry();
    if (scrollPx <= viewportH) return 0;
    return (list.scrollTop * (totalPx - viewportH)) / (scrollPx - viewportH);
  }

  scrollToPosition(pos: number): void {
    const { viewportH, totalPx, scrollPx } = this.scrollGeometry();
    if (scrollPx <= viewportH) return;
    const current = this.positionPx();
    const top = pos * ROW_HEIGHT;
    let target = current;
    if (top < current) target = top;
    else if (top + ROW_HEIGHT > current + viewportH) target = top + ROW_HEIGHT - viewportH;
    else return;
    list.scrollTop = (target * (scrollPx - viewportH)) / (totalPx - viewportH);
  }

  render(): void {
    const px = this.positionPx();
    const firstVisible = (this.firstVisible = Math.floor(px / ROW_HEIGHT));
    const offset = px - firstVisible * ROW_HEIGHT;
    const n = Math.min(this.visibleCount(), Math.max(view.matching - firstVisible, 0));
    const selected = view.selected;
    let missing = false;
    // Rows are updated in place: an element whose row, status and selection are unchanged is only
    // moved (a label or a selection change touches a few rows, not the whole window).
    const have = listViewport.children;
    for (let k = 0; k < n; k++) {
      const pos = firstVisible + k;
      const row = this.rows.get(pos) ?? this.staleRows.get(pos);
      if (!this.rows.has(pos)) missing = true;
      const isSelected = !!row && selected?.index === row.index;
      const key = row ? `${row.index}\u0000${row.status}\u0000${isSelected}\u0000${row.changed ?? ''}\u0000${row.preview}` : '';
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
        div.className = `row status-${row.status}${isSelected ? ' selected' : ''}${row.changed ? ' changed' : ''}`;
        const line = el('span', { class: 'line' }, String(row.index + 1));
        const badge = el('span', { class: 'badge' }, STATUS_LABELS[row.status] ?? row.status);
        const preview = el('span', { class: 'preview' }, row.preview);
        if (row.changed) div.replaceChildren(line, badge, el('span', { class: 'changed-mark', title: 'label changed since the run' }, '±'), preview);
        else div.replaceChildren(line, badge, preview);
        div.title = `Line ${row.index + 1}: ${STATUS_LABELS[row.status] ?? row.status}${row.changed ? ' · label changed since the run' : ''}`;
      }
    }
    while (have.length > n) have[have.length - 1]!.remove();
    if (selected) list.setAttribute('aria-activedescendant', `row-${selected.index}`);
    listEmpty.hidden = view.matching > 0;
    listEmpty.textContent = view.listComplete ? (view.query ? 'No line matches the search.' : 'No records in this filter.') : 'Scanning…';
    if (missing) this.requestVisible();
  }

  private requestVisible(): void {
    if (this.requestScheduled) return;
    this.requestScheduled = true;
    requestAnimationFrame(() => {
      this.requestScheduled = false;
      const start = Math.max(this.firstVisible - OVERSCAN, 0);
      const count = this.visibleCount() + 2 * OVERSCAN;
      if (this.pendingRequest >= 0) return; // one in flight; its answer re-renders and re-checks
      this.pendingRequest = ++this.requestSeq;
      this.pendingEpoch = this.epoch;
      send({ type: 'rows', requestId: this.pendingRequest, filter: view.filter, query: view.query, start, count: Math.min(count, 500) });
    });
  }

  /**
   * Drops the loaded rows and asks for the visible window again. `keepStale` (after an edit, same
   * filter): the old rows stay on screen until the fresh ones arrive, no placeholder flash.
   */
  invalidate(keepStale = false): void {
    // Rapid edits: the rows of the previous invalidation may not have come back yet.
    this.staleRows = keepStale ? (this.rows.size ? this.rows : this.staleRows) : new Map();
    this.rows = new Map();
    this.epoch++;
    this.render();
    this.requestVisible();
  }

  /** The host's answer to a request for rows; false when it was not for the current list (ignored or shown as stale). */
  accept(m: RowsMessage): boolean {
    let answerEpoch = -1;
    if (m.requestId === this.pendingRequest) {
      this.pendingRequest = -1;
      answerEpoch = this.pendingEpoch;
    }
    if (m.filter !== view.filter || m.query !== view.query) return false;
    if (answerEpoch !== this.epoch) {
      // Asked before the last edit: show it meanwhile, ask again.
      m.rows.forEach((r, k) => this.staleRows.set(m.start + k, r));
      this.render();
      return false;
    }
    if (m.matching !== view.matching) {
      view.matching = m.matching;
      this.updateSpacer();
    }
    view.listComplete = m.complete;
    m.rows.forEach((r, k) => this.rows.set(m.start + k, r));
    if (this.rows.size > 5000) {
      for (const pos of this.rows.keys()) if (Math.abs(pos - this.firstVisible) > 1000) this.rows.delete(pos);
    }
    this.render();
    return true;
  }

  /** The window of rows embedded in the first screen (rendered with the selection that follows it). */
  seed(r: InitialState['rows']): void {
    if (r.filter !== view.filter || r.query !== view.query) return;
    view.matching = r.matching;
    view.listComplete = r.complete;
    r.rows.forEach((row, k) => this.rows.set(r.start + k, row));
    this.updateSpacer();
  }
}

export const recordList = new RecordList();

list.addEventListener('scroll', () => recordList.render(), { passive: true });
new ResizeObserver(() => { recordList.updateSpacer(); recordList.render(); }).observe(list);
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

import type { WinrateEntry } from '../../src/protocol/winrate';
import { el } from '../common/dom';
import { num } from './format';
import { dashboard } from './state';

/**
 * The win-rate panel (docs/evaluate.md): each judged candidates file of this run (samples/), the
 * run's win rate against the other model with its intervals, next to the run's reward accuracy.
 */
export const winrateEl = el('section', { class: 'winrate', id: 'winrate', 'aria-label': 'Win rate' });
const accuracyEl = el('p', { class: 'muted', id: 'winrate-accuracy' });
const body = el('div');
winrateEl.append(el('h2', {}, 'Win rate'), accuracyEl, body);

let rows: WinrateEntry[] | null = null;
const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);
const ci = (c: [number, number] | null) => (c ? `[${(100 * c[0]).toFixed(1)}, ${(100 * c[1]).toFixed(1)}]` : '');

export function onWinrateMessage(next: WinrateEntry[]): void {
  rows = next;
  body.textContent = '';
  if (!rows.length) {
    body.append(el('p', { class: 'muted' }, 'No samples of this run yet. Sample from the run (its answers and a baseline\'s on held-out prompts), label the file in the preference editor, and the win rate shows here.'));
    return;
  }
  const table = el('table', { class: 'winrate-table' });
  const head = el('tr');
  for (const h of ['Samples', 'Against', 'Judged', 'Wins / losses / ties', 'Win rate (Wilson 95%)', 'Bootstrap 95%', 'Length-controlled', 'Left picks']) head.append(el('th', { scope: 'col' }, h));
  table.append(head);
  for (const r of rows) {
    const tr = el('tr', { class: 'winrate-row' });
    tr.dataset.file = r.file;
    tr.append(el('td', { title: r.file }, r.name));
    if (r.error) {
      const td = el('td', { class: 'winrate-error' }, r.error);
      td.colSpan = 7;
      tr.append(td);
    } else {
      tr.append(
        el('td', {}, r.opponent),
        el('td', {}, `${r.judged} of ${r.records}${r.pending ? ` (${r.pending} to label)` : ''}`),
        el('td', {}, `${r.wins} / ${r.losses} / ${r.ties}`),
        el('td', { class: 'winrate-value' }, `${pct(r.winRate)} ${ci(r.wilson)}`.trim()),
        el('td', {}, ci(r.bootstrap) || '–'),
        el('td', {}, `${pct(r.lengthControlled)} ${ci(r.lengthControlledCi)}`.trim()),
        el('td', {}, pct(r.leftShare)),
      );
    }
    table.append(tr);
  }
  body.append(table);
}

/** Called with every summary: the reward accuracy the win rate sits next to. */
export function renderWinrateAccuracy(): void {
  const s = dashboard.summary;
  accuracyEl.textContent = `Reward accuracy ${num(s?.accuracy ?? null, 3)} (the implicit reward ranks chosen above rejected, training batches); the win rate judges the sampled answers themselves.`;
  winrateEl.hidden = rows === null;
}

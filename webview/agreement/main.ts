import '@vscode-elements/elements/dist/vscode-button/index.js';
import './main.css';
import { assertNever } from '../common/assertNever';
import { el } from '../common/dom';
import { vscodeApi } from '../common/vscodeApi';
import { cssColor } from '../preview/colours';
import type { AgreementResult, AgreementState, HostMessage, ViewMessage } from '../../src/protocol/agreement';
import { css, fmt, fmtEstimate, fmtP, fmtPercent, interpretation, kappaColour, landisKoch, pairMatrix, textOn, type HeatPalette } from './model';

/**
 * The agreement panel (RPO: Show Annotator Agreement): headline measures with bootstrap
 * intervals, a heatmap of Cohen's kappa per annotator pair (a <table> with coloured cells, read
 * as a table by screen readers), the per-annotator table. Every annotator name is text
 * (textContent), never markup.
 */

const vscode = vscodeApi<ViewMessage>();

const header = el('div', { class: 'header' });
const title = el('h1', { class: 'title', id: 'title' }, 'Annotator agreement');
const refresh = document.createElement('vscode-button');
refresh.id = 'refresh';
refresh.textContent = 'Refresh';
refresh.setAttribute('title', 'Compute the agreement of the file again');
refresh.addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
const status = el('div', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite' });
header.append(title, refresh);
const content = el('div', { id: 'content' });
document.body.append(header, status, content);

function palette(): HeatPalette {
  return {
    negative: cssColor('--vscode-charts-red', '#f14c4c'),
    zero: cssColor('--vscode-editor-background', '#1e1e1e'),
    positive: cssColor('--vscode-charts-green', '#89d185'),
    light: cssColor('--vscode-editor-foreground', '#cccccc'),
    dark: cssColor('--vscode-editor-background', '#1e1e1e'),
  };
}

let last: AgreementState | null = null;

function render(state: AgreementState): void {
  last = state;
  title.textContent = `Annotator agreement: ${state.fileName}`;
  status.className = `status status-${state.status}`;
  if (state.status === 'computing') {
    status.textContent = state.message;
    refresh.toggleAttribute('disabled', true);
    if (state.previous) renderResult(state.previous);
    else content.replaceChildren();
    content.classList.add('stale');
    return;
  }
  refresh.toggleAttribute('disabled', false);
  content.classList.remove('stale');
  if (state.status === 'error') {
    status.textContent = state.message;
    if (state.previous) renderResult(state.previous);
    else content.replaceChildren();
    if (state.previous) content.classList.add('stale');
    return;
  }
  const r = state.result;
  status.textContent = `${r.lines} lines read in ${r.seconds.toFixed(1)} s at ${new Date(r.computedAt).toLocaleTimeString()}.`;
  renderResult(r);
}

function section(heading: string, id: string): HTMLElement {
  const s = el('section', { id, 'aria-labelledby': `${id}-h` });
  s.append(el('h2', { id: `${id}-h` }, heading));
  return s;
}

function renderResult(res: AgreementResult): void {
  const r = res.report;
  const parts: HTMLElement[] = [];

  if (res.invalidLines > 0) {
    const inv = el('div', { id: 'invalid', class: 'invalid', role: 'alert' });
    const f = res.firstInvalid;
    inv.textContent = `${res.invalidLines} invalid line${res.invalidLines === 1 ? '' : 's'} left out` +
      (f ? `; the first: line ${f.line}${f.field ? `, field "${f.field}"` : ''}: ${f.reason}` : '.');
    parts.push(inv);
  }

  const summary = el('p', { id: 'summary', class: 'summary' },
    `${r.items} items with two or more votes, ${r.annotators} annotators, ${r.recordsWithVotes} records with votes.`);
  parts.push(summary);

  if (r.items > 0) {
    const s = section('Over all annotators', 'overall');
    const t = el('table', { class: 'measures' });
    t.append(el('caption', { class: 'visually-hidden' }, 'Agreement measures with bootstrap 95% intervals'));
    const head = el('tr');
    head.append(el('th', { scope: 'col' }, 'measure'), el('th', { scope: 'col' }, 'value'), el('th', { scope: 'col' }, '95% interval'), el('th', { scope: 'col' }, 'note'));
    t.append(head);
    const row = (id: string, name: string, e: { value: number | null; ci: [number, number] | null }, note: string) => {
      const tr = el('tr', { id });
      const v = el('td', { class: 'value num', 'data-value': e.value === null ? '' : String(e.value) }, fmt(e.value));
      tr.append(el('th', { scope: 'row' }, name), v, el('td', { class: 'ci num' }, e.ci ? `${fmt(e.ci[0])} to ${fmt(e.ci[1])}` : 'n/a'), el('td', { class: 'note' }, note));
      t.append(tr);
    };
    row('percent', 'Percent agreement', r.percentAgreement, 'share of agreeing pairs of votes per item');
    row('fleiss', "Fleiss' kappa", r.fleiss.kappa, `${r.fleiss.items} items with ${r.fleiss.raters} votes${landisKoch(r.fleiss.kappa.value) ? `; ${landisKoch(r.fleiss.kappa.value)}` : ''}`);
    row('alpha-nominal', "Krippendorff's alpha, nominal", r.alphaNominal, 'first / second / tie');
    row('alpha-ordinal', "Krippendorff's alpha, ordinal", r.alphaOrdinal, 'clearly / slightly first, tie, slightly / clearly second');
    s.append(t);
    s.append(el('p', { id: 'interpretation', class: 'interpretation' }, interpretation(r)));
    s.append(el('p', { class: 'fine' }, `95% intervals: ${r.bootstrap.resamples} bootstrap resamples of the items, seed ${r.bootstrap.seed}.`));
    parts.push(s);
    parts.push(heatmap(res));
  }
  parts.push(annotatorTable(res));
  content.replaceChildren(...parts);
}

function heatmap(res: AgreementResult): HTMLElement {
  const s = section("Cohen's kappa per pair of annotators", 'pairs');
  const { names, rows } = pairMatrix(res.report);
  if (rows.length === 0) {
    s.append(el('p', {}, 'No two annotators voted on the same record.'));
    return s;
  }
  const p = palette();
  const t = el('table', { id: 'heatmap', class: 'heatmap' });
  t.append(el('caption', { class: 'visually-hidden' }, "Cohen's kappa for each pair of annotators: rows and columns are annotators; each cell gives kappa and the items both rated"));
  const head = el('tr');
  head.append(el('td', { class: 'corner' }));
  for (const n of names.slice(0, -1)) head.append(el('th', { scope: 'col', class: 'name' }, n));
  t.append(head);
  rows.forEach((row, i) => {
    const tr = el('tr');
    tr.append(el('th', { scope: 'row', class: 'name' }, names[i + 1]!));
    row.forEach((cell, j) => {
      const td = el('td', { class: 'pair', 'data-a': names[i + 1]!, 'data-b': names[j]! });
      if (!cell) {
        td.classList.add('empty');
        td.textContent = '—';
        td.setAttribute('aria-label', `${names[i + 1]} and ${names[j]}: no shared items`);
      } else {
        const k = cell.kappa.value;
        const bg = kappaColour(k, p);
        if (bg) {
          td.style.backgroundColor = css(bg);
          td.style.color = css(textOn(bg, p));
        }
        td.dataset.value = k === null ? '' : String(k);
        td.append(el('span', { class: 'k' }, fmt(k, 2)), el('span', { class: 'n' }, `${cell.items} items`));
        const band = landisKoch(k);
        td.title = `${cell.a} / ${cell.b}: kappa ${fmtEstimate(cell.kappa)}, ${cell.items} items${band ? ` (${band})` : ''}`;
      }
      tr.append(td);
    });
    for (let j = row.length; j < names.length - 1; j++) tr.append(el('td', { class: 'blank', 'aria-hidden': 'true' }));
    t.append(tr);
  });
  s.append(t);
  const legend = el('div', { class: 'legend', 'aria-hidden': 'true' });
  for (const k of [-1, -0.5, 0, 0.2, 0.4, 0.6, 0.8, 1]) {
    const sw = el('span', { class: 'swatch' }, fmt(k, 1));
    const bg = kappaColour(k, p)!;
    sw.style.backgroundColor = css(bg);
    sw.style.color = css(textOn(bg, p));
    legend.append(sw);
  }
  s.append(legend);
  return s;
}

function annotatorTable(res: AgreementResult): HTMLElement {
  const s = section('Per annotator', 'annotators');
  const t = el('table', { id: 'annotator-table', class: 'annotators' });
  const head = el('tr');
  for (const h of ['annotator', 'votes', 'agree with resolved', 'left picks', 'p (binomial)', 'ties', 'skips', 'median s between votes']) head.append(el('th', { scope: 'col' }, h));
  t.append(head);
  for (const a of res.report.perAnnotator) {
    const tr = el('tr', { class: 'annotator' });
    const agree = a.resolvedCompared ? `${a.agreeWithResolved} / ${a.resolvedCompared} (${fmtPercent(a.agreeWithResolved / a.resolvedCompared)})` : 'n/a';
    const left = a.picks ? `${a.leftPicks} / ${a.picks} (${fmtPercent(a.leftShare)})` : 'n/a';
    const pCell = el('td', { class: 'num' }, a.picks ? fmtP(a.leftPValue) : 'n/a');
    if (a.leftPValue !== null && a.leftPValue < 0.05) {
      pCell.classList.add('flag');
      pCell.title = 'Picks the left side more or less often than chance (p < 0.05)';
    }
    tr.append(
      el('th', { scope: 'row', class: 'name' }, a.annotator),
      el('td', { class: 'num' }, String(a.votes)),
      el('td', { class: 'num' }, agree),
      el('td', { class: 'num' }, left),
      pCell,
      el('td', { class: 'num' }, String(a.ties)),
      el('td', { class: 'num' }, String(a.skips)),
      el('td', { class: 'num' }, a.medianSeconds === null ? 'n/a' : a.medianSeconds.toFixed(1)),
    );
    t.append(tr);
  }
  s.append(t);
  return s;
}

window.addEventListener('message', (e: MessageEvent<HostMessage>) => {
  const m = e.data;
  if (!m || typeof m !== 'object') return;
  switch (m.type) {
    case 'state':
      render(m.state);
      break;
    default:
      assertNever(m.type);
  }
});

// Theme changes: redraw with the new colours.
new MutationObserver(() => last && render(last)).observe(document.body, { attributes: true, attributeFilter: ['class'] });

vscode.postMessage({ type: 'ready' });

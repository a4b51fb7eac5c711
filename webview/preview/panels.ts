import { effectiveBeta, offDiagonalMass } from '../../src/core/contrast/weights';
import { el } from '../common/dom';
import { cssString } from './colours';
import {
  batchInput, globalInput, histCanvas, histNote, nbList, nbPrompt, numbers, procInput, resample, retry, seedInput, simInput,
  source, status, tauInput, unpairedInput, warnings,
} from './layout';
import { post, preview } from './state';

/** The numbers, the neighbour list, the histogram, warnings, status and the controls' values. */

export function fmt(x: number, digits = 3): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

function groupSize(): number {
  if (!preview.settings) return 1;
  return preview.settings.globalContrast ? preview.settings.batchSize * preview.settings.numProcesses : preview.settings.batchSize;
}

export function renderNumbers(): void {
  numbers.replaceChildren();
  if (!preview.state || preview.state.status !== 'ready' || !preview.settings) return;
  const items: [string, string, string][] = [];
  if (preview.batch) items.push(['Batch', `${preview.batch.index + 1} of ${preview.batch.count}`, `epoch ${preview.settings.epoch}, seed ${preview.settings.seed}, ${preview.state.train} training records of ${preview.state.usable} usable`]);
  if (preview.weights && preview.settings.mode === 'paired' && preview.weights.rows) {
    const eb = effectiveBeta(preview.weights, preview.settings.beta);
    const mean = eb.reduce((a, b) => a + b, 0) / eb.length;
    items.push(['Effective β (same prompt)', fmt(mean, 4), `β·w_ii, min ${fmt(Math.min(...eb), 4)}, max ${fmt(Math.max(...eb), 4)}; DPO uses β = ${preview.settings.beta}`]);
    items.push(['Weight off the diagonal', `${(100 * offDiagonalMass(preview.weights)).toFixed(1)}%`, 'share of each row’s weight on other prompts’ rejected responses']);
  } else if (preview.weights && preview.settings.mode === 'unpaired') {
    items.push(['Matrix', `${preview.weights.rows} chosen × ${preview.weights.cols} rejected`, 'softmax over the rejected items of each chosen item']);
  }
  for (const [k, v, hint] of items) {
    const d = el('div', { class: 'number' });
    d.append(el('span', { class: 'label' }, k), el('strong', { class: 'value' }, v), el('span', { class: 'muted' }, hint));
    numbers.append(d);
  }
  numbers.dataset.effectiveBeta = preview.weights && preview.settings.mode === 'paired' && preview.weights.rows ? String(effectiveBeta(preview.weights, preview.settings.beta).reduce((a, b) => a + b, 0) / preview.weights.rows) : '';
}

/** Prompts often start with blank lines (HH transcripts): one line of text for the list. */
function oneLine(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

export function renderNeighbours(): void {
  nbList.replaceChildren();
  if (!preview.neighbours || !preview.settings) {
    nbPrompt.textContent = preview.state?.status === 'ready' ? 'The selected record has no prompt.' : '';
    return;
  }
  nbPrompt.textContent = `Line ${preview.neighbours.line + 1}: ${preview.neighbours.prompt.trim()}`;
  const m = Math.max(2, groupSize());
  const tau = preview.settings.tau;
  const self = Math.exp(1 / tau);
  const others = (m - 2) * Math.exp(preview.neighbours.meanCosine / tau);
  for (const n of preview.neighbours.items) {
    const e = Math.exp(n.cosine / tau);
    const w = e / (self + e + others);
    const li = el('li');
    const b = el('button', { type: 'button', class: 'neighbour', title: `Select line ${n.line + 1} in the editor` });
    b.append(el('span', { class: 'cos' }, `cos ${fmt(n.cosine)}`), el('span', { class: 'w' }, `w ${fmt(w)}`), el('span', { class: 'line' }, `line ${n.line + 1}`), el('span', { class: 'prompt', title: n.prompt }, oneLine(n.prompt)));
    b.addEventListener('click', () => post({ type: 'reveal', line: n.line }));
    li.append(b);
    nbList.append(li);
  }
  nbList.setAttribute('aria-label', `w: the weight this prompt would get in a preview.batch of ${m} with the selected record and ${m - 2} typical prompts (mean preview.cosine ${fmt(preview.neighbours.meanCosine)})`);
}

export function renderHistogram(): void {
  const h = preview.state?.histogram;
  const ctx = histCanvas.getContext('2d');
  if (!ctx) return;
  const w = 320;
  const hgt = 100;
  const dpr = window.devicePixelRatio || 1;
  histCanvas.width = w * dpr;
  histCanvas.height = hgt * dpr;
  histCanvas.style.width = `${w}px`;
  histCanvas.style.height = `${hgt}px`;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, hgt);
  if (!h) {
    histNote.textContent = '';
    return;
  }
  const peak = Math.max(1, ...h.counts);
  const bw = w / h.counts.length;
  ctx.fillStyle = cssString('--vscode-charts-blue', '#3794ff');
  h.counts.forEach((c, b) => {
    const bh = ((hgt - 14) * c) / peak;
    ctx.fillRect(b * bw + 1, hgt - 14 - bh, bw - 2, bh);
  });
  ctx.fillStyle = cssString('--vscode-descriptionForeground', '#999');
  ctx.font = '10px sans-serif';
  ctx.fillText(String(h.lo), 0, hgt - 2);
  ctx.fillText(String(h.hi), w - 10, hgt - 2);
  histNote.textContent = `${h.sampled === h.total ? 'All' : `${h.sampled} sampled of`} ${h.total} distinct prompts: mean ${fmt(h.mean)}, median ${fmt(h.median)}. Near 1: many prompts have a close neighbour, so RPO has related pairs to contrast.`;
  histCanvas.setAttribute('aria-label', `Histogram of nearest-neighbour cosines from ${h.lo} to ${h.hi}: ${h.counts.join(', ')}`);
}

export function renderWarnings(list: string[]): void {
  warnings.replaceChildren(...list.map((w) => el('li', {}, w)));
}

export function syncControls(): void {
  if (!preview.settings) return;
  tauInput.value = String(preview.settings.tau);
  batchInput.value = String(preview.settings.batchSize);
  procInput.value = String(preview.settings.numProcesses);
  seedInput.value = String(preview.settings.seed);
  simInput.checked = preview.settings.similarityBatching;
  globalInput.checked = preview.settings.globalContrast;
  unpairedInput.checked = preview.settings.mode === 'unpaired';
  const disabled = preview.state?.status !== 'ready';
  for (const c of [tauInput, batchInput, procInput, seedInput, simInput, globalInput, unpairedInput, resample]) c.disabled = disabled;
}

export function renderState(): void {
  if (!preview.state) return;
  status.textContent = preview.state.status === 'ready' ? `${preview.state.fileName}` : preview.state.message;
  status.dataset.status = preview.state.status;
  retry.hidden = preview.state.status !== 'error';
  source.textContent = preview.state.status === 'ready' ? `Settings from ${preview.state.settingsSource}. β = ${preview.state.settings.beta}.` : '';
  renderWarnings(preview.state.warnings);
  renderHistogram();
  syncControls();
}

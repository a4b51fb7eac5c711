import './main.css';
import { type Matrix, effectiveBeta, offDiagonalMass, softmaxRows } from '../../src/core/contrast/weights';
import {
  type BatchPayload, type EditableSettings, type HostMessage, type NeighboursPayload, type PreviewSettings,
  type PreviewState, TAU_RANGE, type ViewMessage,
} from '../../src/protocol/preview';

/**
 * The contrast preview. The host sends a minibatch's cosine matrix; this view computes the
 * softmax weights itself on every temperature change (a 64 x 64 update takes well under a
 * millisecond) and draws them on a canvas. Settings that change the batch (size, seed,
 * similarity batching, ...) go to the host, which forms the batch with the trainer's sampler.
 */

interface VsCodeApi {
  postMessage(message: ViewMessage): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();
const post = (m: ViewMessage) => vscode.postMessage(m);

let state: PreviewState | undefined;
let settings: PreviewSettings | undefined;
let batch: BatchPayload | null = null;
let neighbours: NeighboursPayload | null = null;
let cosine: Matrix | undefined;
let weights: Matrix | undefined;
let hover: { i: number; j: number } | undefined;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---------------------------------------------------------------- layout

const root = el('main', { id: 'preview' });
const header = el('header');
const title = el('h1', {}, 'RPO Contrast Preview');
const status = el('p', { id: 'status', role: 'status', 'aria-live': 'polite' });
const source = el('p', { id: 'source', class: 'muted' });
const retry = el('button', { id: 'retry', type: 'button', hidden: '' }, 'Embed again');
retry.addEventListener('click', () => post({ type: 'embed' }));
header.append(title, status, retry, source);

const controls = el('section', { id: 'controls', 'aria-label': 'Batch settings' });
const tauInput = el('input', { id: 'tau', type: 'range', min: String(TAU_RANGE.min), max: String(TAU_RANGE.max), step: String(TAU_RANGE.step), 'aria-label': 'Temperature tau' });
const tauValue = el('output', { id: 'tau-value', for: 'tau' });
const batchInput = el('input', { id: 'batch-size', type: 'number', min: '1', max: '256', 'aria-label': 'Per-device batch size' });
const procInput = el('input', { id: 'num-processes', type: 'number', min: '1', max: '64', 'aria-label': 'Processes (GPUs)' });
const seedInput = el('input', { id: 'seed', type: 'number', min: '0', 'aria-label': 'Sampler seed' });
const simInput = el('input', { id: 'similarity', type: 'checkbox' });
const globalInput = el('input', { id: 'global', type: 'checkbox' });
const unpairedInput = el('input', { id: 'unpaired', type: 'checkbox' });
const resample = el('button', { id: 'resample', type: 'button', title: 'Show another minibatch of this epoch' }, 'Resample');
const field = (label: string, input: HTMLElement, extra?: HTMLElement) => {
  const l = el('label', { class: 'field' });
  l.append(el('span', {}, label), input);
  if (extra) l.append(extra);
  return l;
};
controls.append(
  field('Temperature τ', tauInput, tauValue), field('Batch size', batchInput), field('Processes', procInput), field('Seed', seedInput),
  field('Similarity batching', simInput), field('Global contrast', globalInput), field('Unpaired (chosen × rejected)', unpairedInput), resample,
);

const warnings = el('ul', { id: 'warnings' });
const numbers = el('section', { id: 'numbers', 'aria-label': 'Numbers' });
const matrixSection = el('section', { id: 'matrix' });
const batchTitle = el('h2', {}, 'Minibatch');
const canvasWrap = el('div', { class: 'canvas-wrap' });
const canvas = el('canvas', { id: 'heatmap', tabindex: '0', role: 'img', 'aria-label': 'Contrast weight heatmap' });
const tooltip = el('div', { id: 'tooltip', role: 'tooltip', hidden: '' });
canvasWrap.append(canvas, tooltip);
const legend = el('p', { class: 'muted' }, 'Rows: chosen response i (its prompt). Columns: rejected response j. Colour: weight w_ij = softmax_j(cos_ij / τ); the diagonal is the same-prompt pair.');
matrixSection.append(batchTitle, canvasWrap, legend);

const side = el('section', { id: 'side' });
const histTitle = el('h2', {}, 'Nearest-neighbour cosine of each prompt');
const histCanvas = el('canvas', { id: 'histogram', role: 'img' });
const histNote = el('p', { class: 'muted' });
const nbTitle = el('h2', {}, 'Nearest prompts of the selected record');
const nbPrompt = el('p', { id: 'nb-prompt', class: 'prompt' });
const nbList = el('ol', { id: 'neighbours' });
side.append(histTitle, histCanvas, histNote, nbTitle, nbPrompt, nbList);

const body = el('div', { class: 'body' });
body.append(matrixSection, side);
root.append(header, controls, warnings, numbers, body);
document.body.append(root);

// ---------------------------------------------------------------- colours

function cssColor(name: string, fallback: string): [number, number, number] {
  const probe = el('span');
  probe.style.color = `var(${name}, ${fallback})`;
  document.body.append(probe);
  const m = getComputedStyle(probe).color.match(/\d+(\.\d+)?/g) ?? [];
  probe.remove();
  return [Number(m[0] ?? 0), Number(m[1] ?? 0), Number(m[2] ?? 0)];
}

// ---------------------------------------------------------------- rendering

function fmt(x: number, digits = 3): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

function groupSize(): number {
  if (!settings) return 1;
  return settings.globalContrast ? settings.batchSize * settings.numProcesses : settings.batchSize;
}

/** Recomputes weights for the current tau and redraws: the slider's hot path. */
function update(): void {
  if (!settings) return;
  const t0 = performance.now();
  tauValue.textContent = settings.tau.toFixed(2);
  if (cosine && cosine.rows && cosine.cols) {
    weights = softmaxRows(cosine, settings.tau, weights && weights.rows === cosine.rows && weights.cols === cosine.cols ? weights : undefined);
    draw();
  } else {
    weights = undefined;
    const ctx = canvas.getContext('2d');
    ctx?.clearRect(0, 0, canvas.width, canvas.height);
  }
  renderNumbers();
  renderNeighbours();
  const ms = performance.now() - t0;
  root.dataset.updateMs = ms.toFixed(3);
  root.dataset.updates = String(Number(root.dataset.updates ?? 0) + 1);
  post({ type: 'timing', what: 'update', ms, m: cosine?.rows ?? 0 });
}

/** Theme colours, re-read only when VS Code changes the theme (it swaps the body's classes). */
let palette: { key: string; bg: number[]; fg: number[]; diag: string; focus: string } | undefined;
function colours() {
  const key = document.body.className;
  if (!palette || palette.key !== key) {
    palette = {
      key,
      bg: cssColor('--vscode-editor-background', '#1e1e1e'),
      fg: cssColor('--vscode-charts-blue', '#3794ff'),
      diag: cssString('--vscode-charts-orange', '#d18616'),
      focus: cssString('--vscode-focusBorder', '#007fd4'),
    };
  }
  return palette;
}

const pixels = document.createElement('canvas');

function draw(): void {
  if (!cosine || !weights) return;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const rows = cosine.rows;
  const cols = cosine.cols;
  const size = Math.max(160, Math.min(560, matrixSection.clientWidth - 8 || 480));
  const cell = Math.max(2, Math.floor(size / Math.max(rows, cols)));
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(cols * cell * dpr) || canvas.height !== Math.round(rows * cell * dpr)) {
    canvas.width = Math.round(cols * cell * dpr);
    canvas.height = Math.round(rows * cell * dpr);
    canvas.style.width = `${cols * cell}px`;
    canvas.style.height = `${rows * cell}px`;
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const { bg, fg, diag, focus } = colours();
  let max = 0;
  for (let k = 0; k < weights.data.length; k++) max = Math.max(max, weights.data[k]!);
  // One pixel per cell, scaled up without smoothing: one putImageData instead of rows*cols fills.
  pixels.width = cols;
  pixels.height = rows;
  const pctx = pixels.getContext('2d');
  if (!pctx) return;
  const img = pctx.createImageData(cols, rows);
  for (let k = 0; k < rows * cols; k++) {
    const a = max > 0 ? weights.data[k]! / max : 0;
    img.data[4 * k] = bg[0]! + (fg[0]! - bg[0]!) * a;
    img.data[4 * k + 1] = bg[1]! + (fg[1]! - bg[1]!) * a;
    img.data[4 * k + 2] = bg[2]! + (fg[2]! - bg[2]!) * a;
    img.data[4 * k + 3] = 255;
  }
  pctx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(pixels, 0, 0, cols * cell, rows * cell);
  if (settings?.mode === 'paired' && cell >= 4) {
    ctx.strokeStyle = diag;
    ctx.lineWidth = 1;
    for (let i = 0; i < Math.min(rows, cols); i++) ctx.strokeRect(i * cell + 0.5, i * cell + 0.5, cell - 1, cell - 1);
  }
  if (hover) {
    ctx.strokeStyle = focus;
    ctx.lineWidth = 2;
    ctx.strokeRect(hover.j * cell + 1, hover.i * cell + 1, cell - 2, cell - 2);
  }
  canvas.dataset.cell = String(cell);
  canvas.dataset.rows = String(rows);
  canvas.dataset.cols = String(cols);
  canvas.dataset.maxWeight = max.toFixed(6);
  canvas.setAttribute('aria-label', `Contrast weight heatmap, ${rows} by ${cols}; use the arrow keys to read cells`);
}

function cssString(name: string, fallback: string): string {
  const [r, g, b] = cssColor(name, fallback);
  return `rgb(${r},${g},${b})`;
}

function renderNumbers(): void {
  numbers.replaceChildren();
  if (!state || state.status !== 'ready' || !settings) return;
  const items: [string, string, string][] = [];
  if (batch) items.push(['Batch', `${batch.index + 1} of ${batch.count}`, `epoch ${settings.epoch}, seed ${settings.seed}, ${state.train} training records of ${state.usable} usable`]);
  if (weights && settings.mode === 'paired' && weights.rows) {
    const eb = effectiveBeta(weights, settings.beta);
    const mean = eb.reduce((a, b) => a + b, 0) / eb.length;
    items.push(['Effective β (same prompt)', fmt(mean, 4), `β·w_ii, min ${fmt(Math.min(...eb), 4)}, max ${fmt(Math.max(...eb), 4)}; DPO uses β = ${settings.beta}`]);
    items.push(['Weight off the diagonal', `${(100 * offDiagonalMass(weights)).toFixed(1)}%`, 'share of each row’s weight on other prompts’ rejected responses']);
  } else if (weights && settings.mode === 'unpaired') {
    items.push(['Matrix', `${weights.rows} chosen × ${weights.cols} rejected`, 'softmax over the rejected items of each chosen item']);
  }
  for (const [k, v, hint] of items) {
    const d = el('div', { class: 'number' });
    d.append(el('span', { class: 'label' }, k), el('strong', { class: 'value' }, v), el('span', { class: 'muted' }, hint));
    numbers.append(d);
  }
  numbers.dataset.effectiveBeta = weights && settings.mode === 'paired' && weights.rows ? String(effectiveBeta(weights, settings.beta).reduce((a, b) => a + b, 0) / weights.rows) : '';
}

/** Prompts often start with blank lines (HH transcripts): one line of text for the list. */
function oneLine(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

function renderNeighbours(): void {
  nbList.replaceChildren();
  if (!neighbours || !settings) {
    nbPrompt.textContent = state?.status === 'ready' ? 'The selected record has no prompt.' : '';
    return;
  }
  nbPrompt.textContent = `Line ${neighbours.line + 1}: ${neighbours.prompt.trim()}`;
  const m = Math.max(2, groupSize());
  const tau = settings.tau;
  const self = Math.exp(1 / tau);
  const others = (m - 2) * Math.exp(neighbours.meanCosine / tau);
  for (const n of neighbours.items) {
    const e = Math.exp(n.cosine / tau);
    const w = e / (self + e + others);
    const li = el('li');
    const b = el('button', { type: 'button', class: 'neighbour', title: `Select line ${n.line + 1} in the editor` });
    b.append(el('span', { class: 'cos' }, `cos ${fmt(n.cosine)}`), el('span', { class: 'w' }, `w ${fmt(w)}`), el('span', { class: 'line' }, `line ${n.line + 1}`), el('span', { class: 'prompt', title: n.prompt }, oneLine(n.prompt)));
    b.addEventListener('click', () => post({ type: 'reveal', line: n.line }));
    li.append(b);
    nbList.append(li);
  }
  nbList.setAttribute('aria-label', `w: the weight this prompt would get in a batch of ${m} with the selected record and ${m - 2} typical prompts (mean cosine ${fmt(neighbours.meanCosine)})`);
}

function renderHistogram(): void {
  const h = state?.histogram;
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

function applyBatch(b: BatchPayload | null): void {
  batch = b;
  cosine = b ? { rows: b.rowLines.length, cols: b.colLines.length, data: Float64Array.from(b.cosine) } : undefined;
  weights = undefined;
  hover = undefined;
  tooltip.hidden = true;
  batchTitle.textContent = b ? `Minibatch ${b.index + 1} of ${b.count}: ${b.rowLines.length} × ${b.colLines.length}` : 'Minibatch';
}

function renderWarnings(list: string[]): void {
  warnings.replaceChildren(...list.map((w) => el('li', {}, w)));
}

function syncControls(): void {
  if (!settings) return;
  tauInput.value = String(settings.tau);
  batchInput.value = String(settings.batchSize);
  procInput.value = String(settings.numProcesses);
  seedInput.value = String(settings.seed);
  simInput.checked = settings.similarityBatching;
  globalInput.checked = settings.globalContrast;
  unpairedInput.checked = settings.mode === 'unpaired';
  const disabled = state?.status !== 'ready';
  for (const c of [tauInput, batchInput, procInput, seedInput, simInput, globalInput, unpairedInput, resample]) c.disabled = disabled;
}

function renderState(): void {
  if (!state) return;
  status.textContent = state.status === 'ready' ? `${state.fileName}` : state.message;
  status.dataset.status = state.status;
  retry.hidden = state.status !== 'error';
  source.textContent = state.status === 'ready' ? `Settings from ${state.settingsSource}. β = ${state.settings.beta}.` : '';
  renderWarnings(state.warnings);
  renderHistogram();
  syncControls();
}

// ---------------------------------------------------------------- hover and keyboard

function showCell(i: number, j: number): void {
  if (!batch || !cosine || !weights) return;
  hover = { i, j };
  const c = cosine.data[i * cosine.cols + j]!;
  const w = weights.data[i * weights.cols + j]!;
  tooltip.replaceChildren(
    el('div', { class: 'tip-head' }, `chosen of line ${batch.rowLines[i]! + 1} × rejected of line ${batch.colLines[j]! + 1}${i === j && settings?.mode === 'paired' ? ' (same prompt)' : ''}`),
    el('div', { class: 'tip-nums' }, `cos ${fmt(c, 4)}   w ${fmt(w, 4)}`),
    el('div', { class: 'tip-label' }, 'Row prompt'), el('div', { class: 'prompt' }, batch.rowPrompts[i] ?? ''),
    el('div', { class: 'tip-label' }, 'Column prompt'), el('div', { class: 'prompt' }, batch.colPrompts[j] ?? ''),
  );
  const cell = Number(canvas.dataset.cell ?? 8);
  tooltip.style.left = `${Math.min((j + 1) * cell + 8, Math.max(0, canvasWrap.clientWidth - 320))}px`;
  tooltip.style.top = `${(i + 1) * cell + 8}px`;
  tooltip.hidden = false;
  draw();
}

canvas.addEventListener('mousemove', (e) => {
  if (!cosine) return;
  const cell = Number(canvas.dataset.cell ?? 8);
  const r = canvas.getBoundingClientRect();
  const i = Math.floor((e.clientY - r.top) / cell);
  const j = Math.floor((e.clientX - r.left) / cell);
  if (i >= 0 && j >= 0 && i < cosine.rows && j < cosine.cols && (hover?.i !== i || hover?.j !== j)) showCell(i, j);
});
canvas.addEventListener('mouseleave', () => {
  tooltip.hidden = true;
  hover = undefined;
  draw();
});
canvas.addEventListener('keydown', (e) => {
  if (!cosine) return;
  const h = hover ?? { i: 0, j: 0 };
  const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  const mv = moves[e.key];
  if (mv) {
    e.preventDefault();
    showCell(Math.min(cosine.rows - 1, Math.max(0, h.i + mv[0])), Math.min(cosine.cols - 1, Math.max(0, h.j + mv[1])));
  } else if (e.key === 'Escape') {
    tooltip.hidden = true;
  }
});
canvas.addEventListener('focus', () => { if (!hover && cosine?.rows) showCell(0, 0); });

// ---------------------------------------------------------------- controls

tauInput.addEventListener('input', () => {
  if (!settings) return;
  settings = { ...settings, tau: Number(tauInput.value) };
  update();
});
const sendSettings = (patch: Partial<EditableSettings>) => post({ type: 'settings', settings: patch });
const intFrom = (input: HTMLInputElement, min: number, max: number): number | undefined => {
  const n = Number(input.value);
  if (!Number.isInteger(n) || n < min || n > max) {
    input.setAttribute('aria-invalid', 'true');
    return undefined;
  }
  input.removeAttribute('aria-invalid');
  return n;
};
batchInput.addEventListener('change', () => { const v = intFrom(batchInput, 1, 256); if (v !== undefined) sendSettings({ batchSize: v }); });
procInput.addEventListener('change', () => { const v = intFrom(procInput, 1, 64); if (v !== undefined) sendSettings({ numProcesses: v }); });
seedInput.addEventListener('change', () => { const v = intFrom(seedInput, 0, 4294967295); if (v !== undefined) sendSettings({ seed: v }); });
simInput.addEventListener('change', () => sendSettings({ similarityBatching: simInput.checked }));
globalInput.addEventListener('change', () => sendSettings({ globalContrast: globalInput.checked }));
unpairedInput.addEventListener('change', () => sendSettings({ mode: unpairedInput.checked ? 'unpaired' : 'paired' }));
resample.addEventListener('click', () => post({ type: 'resample' }));

// ---------------------------------------------------------------- messages

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const m = event.data;
  switch (m.type) {
    case 'state':
      // keep the user's temperature while the same file reloads; a new file starts from its config
      settings = { ...m.state.settings, tau: settings && state?.fileName === m.state.fileName ? settings.tau : m.state.settings.tau };
      state = m.state;
      neighbours = m.state.neighbours;
      applyBatch(m.state.batch);
      renderState();
      update();
      break;
    case 'batch':
      settings = { ...m.settings, tau: settings?.tau ?? m.settings.tau };
      if (state) state = { ...state, warnings: m.warnings };
      applyBatch(m.batch);
      renderWarnings(m.warnings);
      syncControls();
      update();
      break;
    case 'neighbours':
      neighbours = m.neighbours;
      renderNeighbours();
      break;
  }
});

window.addEventListener('resize', () => draw());
post({ type: 'ready' });

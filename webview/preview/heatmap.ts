import { softmaxRows } from '../../src/core/contrast/weights';
import { type BatchPayload } from '../../src/protocol/preview';
import { el } from '../common/dom';
import { cssColor, cssString } from './colours';
import { batchTitle, canvas, canvasWrap, matrixSection, root, tauValue, tooltip } from './layout';
import { fmt, renderNeighbours, renderNumbers } from './panels';
import { preview } from './state';

/** The contrast weight heatmap: softmax of the batch's cosines at the current temperature, drawn on a canvas, with a tooltip per cell (mouse or arrow keys). */

/** Recomputes the weights for the current tau and redraws: the slider's hot path. */
export function update(): void {
  if (!preview.settings) return;
  const t0 = performance.now();
  tauValue.textContent = preview.settings.tau.toFixed(2);
  if (preview.cosine && preview.cosine.rows && preview.cosine.cols) {
    preview.weights = softmaxRows(preview.cosine, preview.settings.tau, preview.weights && preview.weights.rows === preview.cosine.rows && preview.weights.cols === preview.cosine.cols ? preview.weights : undefined);
    draw();
  } else {
    preview.weights = undefined;
    const ctx = canvas.getContext('2d');
    ctx?.clearRect(0, 0, canvas.width, canvas.height);
  }
  renderNumbers();
  renderNeighbours();
  const ms = performance.now() - t0;
  root.dataset.updateMs = ms.toFixed(3);
  root.dataset.updates = String(Number(root.dataset.updates ?? 0) + 1);
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

export function draw(): void {
  if (!preview.cosine || !preview.weights) return;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const rows = preview.cosine.rows;
  const cols = preview.cosine.cols;
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
  for (let k = 0; k < preview.weights.data.length; k++) max = Math.max(max, preview.weights.data[k]!);
  // One pixel per cell, scaled up without smoothing: one putImageData instead of rows*cols fills.
  pixels.width = cols;
  pixels.height = rows;
  const pctx = pixels.getContext('2d');
  if (!pctx) return;
  const img = pctx.createImageData(cols, rows);
  for (let k = 0; k < rows * cols; k++) {
    const a = max > 0 ? preview.weights.data[k]! / max : 0;
    img.data[4 * k] = bg[0]! + (fg[0]! - bg[0]!) * a;
    img.data[4 * k + 1] = bg[1]! + (fg[1]! - bg[1]!) * a;
    img.data[4 * k + 2] = bg[2]! + (fg[2]! - bg[2]!) * a;
    img.data[4 * k + 3] = 255;
  }
  pctx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(pixels, 0, 0, cols * cell, rows * cell);
  if (preview.settings?.mode === 'paired' && cell >= 4) {
    ctx.strokeStyle = diag;
    ctx.lineWidth = 1;
    for (let i = 0; i < Math.min(rows, cols); i++) ctx.strokeRect(i * cell + 0.5, i * cell + 0.5, cell - 1, cell - 1);
  }
  if (preview.hover) {
    ctx.strokeStyle = focus;
    ctx.lineWidth = 2;
    ctx.strokeRect(preview.hover.j * cell + 1, preview.hover.i * cell + 1, cell - 2, cell - 2);
  }
  canvas.dataset.cell = String(cell);
  canvas.dataset.rows = String(rows);
  canvas.dataset.cols = String(cols);
  canvas.dataset.maxWeight = max.toFixed(6);
  canvas.setAttribute('aria-label', `Contrast weight heatmap, ${rows} by ${cols}; use the arrow keys to read cells`);
}

export function applyBatch(b: BatchPayload | null): void {
  preview.batch = b;
  preview.cosine = b ? { rows: b.rowLines.length, cols: b.colLines.length, data: Float64Array.from(b.cosine) } : undefined;
  preview.weights = undefined;
  preview.hover = undefined;
  tooltip.hidden = true;
  batchTitle.textContent = b ? `Minibatch ${b.index + 1} of ${b.count}: ${b.rowLines.length} × ${b.colLines.length}` : 'Minibatch';
}

function showCell(i: number, j: number): void {
  if (!preview.batch || !preview.cosine || !preview.weights) return;
  preview.hover = { i, j };
  const c = preview.cosine.data[i * preview.cosine.cols + j]!;
  const w = preview.weights.data[i * preview.weights.cols + j]!;
  tooltip.replaceChildren(
    el('div', { class: 'tip-head' }, `chosen of line ${preview.batch.rowLines[i]! + 1} × rejected of line ${preview.batch.colLines[j]! + 1}${i === j && preview.settings?.mode === 'paired' ? ' (same prompt)' : ''}`),
    el('div', { class: 'tip-nums' }, `cos ${fmt(c, 4)}   w ${fmt(w, 4)}`),
    el('div', { class: 'tip-label' }, 'Row prompt'), el('div', { class: 'prompt' }, preview.batch.rowPrompts[i] ?? ''),
    el('div', { class: 'tip-label' }, 'Column prompt'), el('div', { class: 'prompt' }, preview.batch.colPrompts[j] ?? ''),
  );
  const cell = Number(canvas.dataset.cell ?? 8);
  tooltip.style.left = `${Math.min((j + 1) * cell + 8, Math.max(0, canvasWrap.clientWidth - 320))}px`;
  tooltip.style.top = `${(i + 1) * cell + 8}px`;
  tooltip.hidden = false;
  draw();
}

canvas.addEventListener('mousemove', (e) => {
  if (!preview.cosine) return;
  const cell = Number(canvas.dataset.cell ?? 8);
  const r = canvas.getBoundingClientRect();
  const i = Math.floor((e.clientY - r.top) / cell);
  const j = Math.floor((e.clientX - r.left) / cell);
  if (i >= 0 && j >= 0 && i < preview.cosine.rows && j < preview.cosine.cols && (preview.hover?.i !== i || preview.hover?.j !== j)) showCell(i, j);
});
canvas.addEventListener('mouseleave', () => {
  tooltip.hidden = true;
  preview.hover = undefined;
  draw();
});
canvas.addEventListener('keydown', (e) => {
  if (!preview.cosine) return;
  const h = preview.hover ?? { i: 0, j: 0 };
  const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  const mv = moves[e.key];
  if (mv) {
    e.preventDefault();
    showCell(Math.min(preview.cosine.rows - 1, Math.max(0, h.i + mv[0])), Math.min(preview.cosine.cols - 1, Math.max(0, h.j + mv[1])));
  } else if (e.key === 'Escape') {
    tooltip.hidden = true;
  }
});
canvas.addEventListener('focus', () => { if (!preview.hover && preview.cosine?.rows) showCell(0, 0); });

import type { DataBox, HostMessage } from '../../src/protocol/dashboard';
import {
  AMBIGUOUS_VARIABILITY,
  CONFIDENCE_SPLIT,
  type Hit,
  type Layer,
  type MapPoints,
  type Rgb,
  type View,
  correctnessColor,
  fitView,
  hitTest,
  layout,
  moveCursor,
  regionCounts,
  renderDensity,
  toData,
  toPixel,
  zoomView,
} from '../../src/core/dataMap';
import { el } from '../common/dom';
import { num } from './format';
import { vscode } from './state';

/**
 * The data map (Dataset Cartography): a canvas of the run's training pairs, variability against
 * confidence, coloured by correctness. The logic (level of detail, binning, hit test, keyboard
 * moves) is src/core/dataMap; this file draws and wires events. The canvas redraws only when the
 * data, the view or the size change; hover, cursor and the dragged box are positioned elements.
 */

type MapMessage = Extract<HostMessage, { type: 'dataMap' | 'dataMapPrompt' }>;

export const dataMapEl = el('section', { class: 'data-map', id: 'data-map' });
const heading = el('h2', { id: 'data-map-title' }, 'Data map');
const note = el('p', { class: 'muted data-map-note' });
const summary = el('p', { class: 'data-map-summary', id: 'data-map-summary' });
summary.setAttribute('role', 'status');
const plot = el('div', { class: 'data-map-plot' });
const canvas = el('canvas', { class: 'data-map-canvas' });
canvas.tabIndex = 0;
canvas.setAttribute('role', 'application');
canvas.setAttribute('aria-roledescription', 'data map');
canvas.setAttribute('aria-labelledby', 'data-map-title');
canvas.setAttribute('aria-describedby', 'data-map-summary data-map-help');
const tooltip = el('div', { class: 'data-map-tooltip', id: 'data-map-tooltip' });
tooltip.setAttribute('role', 'tooltip');
tooltip.hidden = true;
const cursorRing = el('div', { class: 'data-map-cursor' });
cursorRing.hidden = true;
const selection = el('div', { class: 'data-map-selection' });
selection.hidden = true;
const yLabel = el('div', { class: 'data-map-axis y' }, 'confidence');
const xLabel = el('div', { class: 'data-map-axis x' }, 'variability');
const ticks = { x0: el('span', { class: 'tick x0' }), x1: el('span', { class: 'tick x1' }), y0: el('span', { class: 'tick y0' }), y1: el('span', { class: 'tick y1' }) };
plot.append(canvas, cursorRing, selection, tooltip, ...Object.values(ticks), yLabel, xLabel);
/** What the keyboard cursor or the mouse points at, read by screen readers. */
const live = el('p', { class: 'data-map-live', id: 'data-map-live' });
live.setAttribute('aria-live', 'polite');
const legend = el('p', { class: 'muted data-map-legend' });
const help = el(
  'p',
  { class: 'muted data-map-help', id: 'data-map-help' },
  'Hover for a pair; click a point or drag a box to open those records in the preference editor. Keyboard: arrows move the cursor, Enter opens, + / − zoom, 0 resets. Wheel zooms, double-click resets.',
);
dataMapEl.append(heading, note, summary, plot, live, legend, help);
dataMapEl.hidden = true;

const PLOT_HEIGHT = 340;

const map = {
  points: null as MapPoints | null,
  view: { x0: 0, x1: 0.5, y0: 0, y1: 1 } as View,
  layer: null as Layer | null,
  cursor: null as Hit | null,
  hover: null as Hit | null,
  prompts: new Map<number, string>(),
  colors: { low: [241, 76, 76] as Rgb, mid: [204, 167, 0] as Rgb, high: [137, 209, 133] as Rgb, guide: 'rgba(128,128,128,0.5)' },
  dpr: 1,
  /** The canvas width in CSS pixels at the last draw. */
  cssWidth: 600,
};

/** Figures for the benchmark and the UI test (test builds only). */
const stats = { points: 0, mode: '', firstDrawMs: 0, lastDrawMs: 0, lastHoverMs: 0, draws: 0 };
if (RPO_TEST_HOOKS_BUILT) (window as unknown as { __rpoDataMapStats: typeof stats }).__rpoDataMapStats = stats;

let receivedAt = 0;

export function onDataMapMessage(m: MapMessage): void {
  if (m.type === 'dataMapPrompt') {
    const text = m.text ?? `(${m.note ?? 'record not found'})`;
    map.prompts.set(m.point, text);
    for (const hit of [map.hover, map.cursor]) if (hit && pointOf(hit) === m.point) describe(hit, hit === map.hover);
    return;
  }
  receivedAt = performance.now();
  dataMapEl.hidden = false;
  note.textContent = m.note ?? '';
  note.hidden = !m.note;
  if (!m.map) {
    map.points = null;
    plot.hidden = true;
    summary.textContent = '';
    legend.textContent = '';
    return;
  }
  plot.hidden = false;
  const p = m.map;
  map.points = {
    variability: new Float32Array(p.variability, 0, p.count),
    confidence: new Float32Array(p.confidence, 0, p.count),
    correctness: new Float32Array(p.correctness, 0, p.count),
    aum: new Float32Array(p.aum, 0, p.count),
  };
  map.prompts.clear();
  map.view = fitView(map.points);
  map.cursor = null;
  map.hover = null;
  const regions = regionCounts(map.points);
  const pct = (k: number) => (regions.total ? `${((100 * k) / regions.total).toFixed(1)}%` : '0%');
  summary.textContent =
    `${regions.total.toLocaleString('en-US')} training pairs${p.unvisited ? ` (${p.unvisited.toLocaleString('en-US')} never visited, not drawn)` : ''}, ` +
    `step ${p.step}${p.complete ? '' : ' (run not finished)'}: ` +
    `easy to learn ${regions.easy.toLocaleString('en-US')} (${pct(regions.easy)}), ` +
    `ambiguous ${regions.ambiguous.toLocaleString('en-US')} (${pct(regions.ambiguous)}), ` +
    `hard to learn ${regions.hard.toLocaleString('en-US')} (${pct(regions.hard)}).`;
  summary.dataset.easy = String(regions.easy);
  summary.dataset.ambiguous = String(regions.ambiguous);
  summary.dataset.hard = String(regions.hard);
  legend.textContent = `Colour: share of visits the model preferred the chosen response (red 0, yellow 0.5, green 1). Ambiguous: variability ≥ ${AMBIGUOUS_VARIABILITY}; otherwise easy (confidence ≥ ${CONFIDENCE_SPLIT}) or hard to learn (dashed lines).`;
  stats.points = p.count;
  stats.draws = 0;
  readColors();
  draw();
}

function pointOf(hit: Hit): number {
  return hit.kind === 'point' ? hit.index : hit.rep;
}

/** Theme colours as RGB (a canvas normalises any CSS colour). */
function readColors(): void {
  const style = getComputedStyle(document.body);
  const probe = document.createElement('canvas').getContext('2d');
  const rgb = (name: string, fallback: Rgb): Rgb => {
    const v = style.getPropertyValue(name).trim();
    if (!v || !probe) return fallback;
    probe.fillStyle = '#000';
    probe.fillStyle = v;
    const s = String(probe.fillStyle);
    const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(s);
    if (hex) return [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16), parseInt(hex[3]!, 16)];
    const fn = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(s);
    return fn ? [Number(fn[1]), Number(fn[2]), Number(fn[3])] : fallback;
  };
  map.colors.low = rgb('--vscode-charts-red', map.colors.low);
  map.colors.mid = rgb('--vscode-charts-yellow', map.colors.mid);
  map.colors.high = rgb('--vscode-charts-green', map.colors.high);
  map.colors.guide = style.getPropertyValue('--vscode-editorWidget-border').trim() || map.colors.guide;
}

function draw(): void {
  const points = map.points;
  if (!points) return;
  const t0 = performance.now();
  const dpr = (map.dpr = window.devicePixelRatio || 1);
  const cssWidth = (map.cssWidth = Math.max(240, plot.clientWidth || 600));
  canvasRect = null;
  const width = Math.round(cssWidth * dpr);
  const height = Math.round(PLOT_HEIGHT * dpr);
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
    canvas.style.width = `${cssWidth}px`;
    canvas.style.height = `${PLOT_HEIGHT}px`;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const layer = (map.layer = layout(points, map.view, { width, height }, { binPx: Math.round(3 * dpr) }));
  const { low, mid, high } = map.colors;
  if (layer.mode === 'bins') {
    const image = ctx.createImageData(width, height);
    renderDensity(layer, image.data, low, mid, high);
    ctx.putImageData(image, 0, 0);
  } else {
    ctx.clearRect(0, 0, width, height);
    // One fillStyle per colour step: 11 steps of correctness.
    const size = Math.max(2, Math.round((layer.visible < 2000 ? 5 : 3) * dpr));
    const buckets: number[][] = Array.from({ length: 11 }, () => []);
    for (let j = 0; j < layer.visible; j++) buckets[Math.round(points.correctness[layer.index[j]!]! * 10)]?.push(j);
    buckets.forEach((members, k) => {
      const [r, g, b] = correctnessColor(k / 10, low, mid, high);
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      for (const j of members) ctx.fillRect(layer.px[j]! - size / 2, layer.py[j]! - size / 2, size, size);
    });
  }
  // Region guides.
  ctx.save();
  ctx.strokeStyle = map.colors.guide;
  ctx.setLineDash([4 * dpr, 4 * dpr]);
  ctx.lineWidth = dpr;
  ctx.beginPath();
  const [gx] = toPixel(map.view, layer.viewport, AMBIGUOUS_VARIABILITY, 0);
  const [, gy] = toPixel(map.view, layer.viewport, 0, CONFIDENCE_SPLIT);
  if (gx > 0 && gx < width) {
    ctx.moveTo(gx, 0);
    ctx.lineTo(gx, height);
  }
  if (gy > 0 && gy < height) {
    ctx.moveTo(0, gy);
    ctx.lineTo(Math.min(width, Math.max(0, gx)), gy);
  }
  ctx.stroke();
  ctx.restore();
  ticks.x0.textContent = map.view.x0.toFixed(3);
  ticks.x1.textContent = map.view.x1.toFixed(3);
  ticks.y0.textContent = map.view.y0.toFixed(3);
  ticks.y1.textContent = map.view.y1.toFixed(3);
  canvas.dataset.mode = layer.mode;
  canvas.dataset.visible = String(layer.visible);
  stats.mode = layer.mode;
  stats.lastDrawMs = performance.now() - t0;
  if (stats.draws++ === 0) stats.firstDrawMs = performance.now() - receivedAt;
  // Keep the cursor on what is under it now.
  if (map.cursor) setCursor(hitTest(layer, map.cursor.px, map.cursor.py, 8 * dpr));
  hideTooltip();
}

function describe(hit: Hit, asTooltip: boolean): void {
  const p = map.points!;
  const i = pointOf(hit);
  const prompt = map.prompts.get(i);
  if (prompt === undefined) vscode.postMessage({ type: 'mapHover', point: i });
  const figures = `margin (AUM) ${num(p.aum[i], 3)} · confidence ${num(p.confidence[i], 3)} · variability ${num(p.variability[i], 3)} · correct ${num(p.correctness[i], 2)}`;
  const lines =
    hit.kind === 'point'
      ? [prompt ?? '…', figures]
      : [`${hit.count.toLocaleString('en-US')} pair${hit.count === 1 ? '' : 's'} · mean correctness ${num(hit.meanCorrectness, 2)}`, `lowest margin: ${prompt ?? '…'}`, figures];
  const text = lines.join('\n');
  live.textContent = text.replace(/\n/g, '. ');
  if (!asTooltip && hit !== map.cursor) return;
  tooltip.textContent = '';
  lines.forEach((line, k) => tooltip.append(el('div', { class: k === 0 ? 'first' : '' }, line)));
  tooltip.hidden = false;
  const x = hit.px / map.dpr;
  const y = hit.py / map.dpr;
  // The width measured at the last draw: reading layout here would force a layout of the page per hover.
  const w = map.cssWidth;
  tooltip.style.left = `${Math.min(x + 12, Math.max(0, w - 320))}px`;
  tooltip.style.top = `${y + 14 > PLOT_HEIGHT - 60 ? Math.max(0, y - 70) : y + 14}px`;
  tooltip.dataset.point = String(i);
}

function hideTooltip(): void {
  tooltip.hidden = true;
}

function setCursor(hit: Hit | null): void {
  map.cursor = hit;
  cursorRing.hidden = !hit;
  if (!hit) return;
  cursorRing.style.left = `${hit.px / map.dpr - 6}px`;
  cursorRing.style.top = `${hit.py / map.dpr - 6}px`;
  describe(hit, true);
}

function open(hit: Hit): void {
  if (hit.kind === 'point') vscode.postMessage({ type: 'mapOpen', points: [hit.index] });
  else vscode.postMessage({ type: 'mapOpenBox', box: hit.box });
}

function openBox(box: DataBox): void {
  vscode.postMessage({ type: 'mapOpenBox', box });
}

/** The canvas's position, read once after each draw, scroll or resize (not per mousemove: that can force a layout). */
let canvasRect: DOMRect | null = null;
window.addEventListener('scroll', () => (canvasRect = null), { passive: true, capture: true });

function pixelOf(e: MouseEvent): [number, number] {
  const r = (canvasRect ??= canvas.getBoundingClientRect());
  return [(e.clientX - r.left) * map.dpr, (e.clientY - r.top) * map.dpr];
}

let drag: { x: number; y: number; moved: boolean } | null = null;

canvas.addEventListener('mousemove', (e) => {
  const layer = map.layer;
  if (!layer) return;
  const t0 = performance.now();
  const [px, py] = pixelOf(e);
  if (drag) {
    if (Math.hypot(px - drag.x, py - drag.y) > 4 * map.dpr) drag.moved = true;
    if (drag.moved) {
      selection.hidden = false;
      selection.style.left = `${Math.min(px, drag.x) / map.dpr}px`;
      selection.style.top = `${Math.min(py, drag.y) / map.dpr}px`;
      selection.style.width = `${Math.abs(px - drag.x) / map.dpr}px`;
      selection.style.height = `${Math.abs(py - drag.y) / map.dpr}px`;
      hideTooltip();
      return;
    }
  }
  const hit = hitTest(layer, px, py, 6 * map.dpr);
  map.hover = hit;
  if (hit) describe(hit, true);
  else hideTooltip();
  stats.lastHoverMs = performance.now() - t0;
});
canvas.addEventListener('mouseleave', () => {
  map.hover = null;
  hideTooltip();
});
canvas.addEventListener('mousedown', (e) => {
  if (e.button !== 0) return;
  const [x, y] = pixelOf(e);
  drag = { x, y, moved: false };
});
window.addEventListener('mouseup', (e) => {
  const d = drag;
  drag = null;
  selection.hidden = true;
  const layer = map.layer;
  if (!d || !layer) return;
  const [px, py] = pixelOf(e);
  if (d.moved) {
    const [x0, y0] = toData(map.view, layer.viewport, Math.min(d.x, px), Math.max(d.y, py));
    const [x1, y1] = toData(map.view, layer.viewport, Math.max(d.x, px), Math.min(d.y, py));
    openBox({ x0, x1, y0, y1 });
    return;
  }
  const hit = hitTest(layer, px, py, 6 * map.dpr);
  if (hit) {
    setCursor(hit);
    open(hit);
  }
});
canvas.addEventListener(
  'wheel',
  (e) => {
    const layer = map.layer;
    if (!layer) return;
    e.preventDefault();
    const [px, py] = pixelOf(e);
    const [fx, fy] = toData(map.view, layer.viewport, px, py);
    map.view = zoomView(map.view, fx, fy, e.deltaY < 0 ? 0.8 : 1.25);
    draw();
  },
  { passive: false },
);
canvas.addEventListener('dblclick', () => resetView());

function resetView(): void {
  if (!map.points) return;
  map.view = fitView(map.points);
  draw();
}

function zoomAtCursor(factor: number): void {
  const layer = map.layer;
  if (!layer) return;
  const px = map.cursor?.px ?? layer.viewport.width / 2;
  const py = map.cursor?.py ?? layer.viewport.height / 2;
  const [fx, fy] = toData(map.view, layer.viewport, px, py);
  map.view = zoomView(map.view, fx, fy, factor);
  draw();
}

const ARROWS: Record<string, 'left' | 'right' | 'up' | 'down'> = { ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'up', ArrowDown: 'down' };

canvas.addEventListener('keydown', (e) => {
  const layer = map.layer;
  if (!layer) return;
  const dir = ARROWS[e.key];
  if (dir) {
    e.preventDefault();
    const next = moveCursor(layer, map.cursor, dir);
    if (next) setCursor(next);
    return;
  }
  switch (e.key) {
    case 'Enter':
    case ' ':
      e.preventDefault();
      if (map.cursor) open(map.cursor);
      else setCursor(moveCursor(layer, null, 'right'));
      break;
    case '+':
    case '=':
      e.preventDefault();
      zoomAtCursor(0.5);
      break;
    case '-':
    case '_':
      e.preventDefault();
      zoomAtCursor(2);
      break;
    case '0':
      e.preventDefault();
      resetView();
      break;
    case 'Escape':
      setCursor(null);
      hideTooltip();
      break;
    default:
  }
});
canvas.addEventListener('focus', () => {
  if (!map.cursor && map.layer) setCursor(moveCursor(map.layer, null, 'right'));
});
canvas.addEventListener('blur', () => hideTooltip());

let resizeTimer: number | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => draw(), 100);
});
// Theme change: VS Code swaps the body class.
new MutationObserver(() => {
  readColors();
  draw();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

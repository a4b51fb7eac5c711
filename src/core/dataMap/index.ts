/**
 * The dashboard's data map (Dataset Cartography, Swayamdipta et al. 2020): one point per training
 * pair, variability (x) against confidence (y), coloured by correctness. Pure and browser-safe
 * (the dashboard webview bundles it; the host uses `selectBox` to turn a dragged box into rows):
 * no imports, typed arrays only.
 *
 * Level of detail: `layout` counts the points inside the view; up to `pointLimit` of them are
 * drawn one by one, beyond that they are binned into a grid of `binPx`-pixel cells (count, summed
 * correctness and the most suspect point, lowest margin, per cell) that `renderDensity` turns into
 * ImageData. Hit testing, keyboard moves and box selection work on the same layout, so hover costs
 * one cell lookup (bins) or a scan of at most `pointLimit` points (points).
 */

/** Columns of the map, one entry per point (training pair with at least one visit). */
export interface MapPoints {
  /** x: variability (population std of sigmoid(margin) over visits). */
  variability: Float32Array;
  /** y: confidence (mean sigmoid(margin)). */
  confidence: Float32Array;
  /** Share of visits with margin > 0 (colour). */
  correctness: Float32Array;
  /** Mean margin over visits (AUM): shown on hover; the lowest is a bin's representative. */
  aum: Float32Array;
}

/** The data rectangle shown: x = variability, y = confidence. */
export interface View {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

export interface Viewport {
  /** Canvas size in device pixels. */
  width: number;
  height: number;
}

export interface LayoutOptions {
  /** Draw points one by one when at most this many are inside the view. */
  pointLimit?: number;
  /** Bin edge in device pixels. */
  binPx?: number;
}

export const DEFAULT_POINT_LIMIT = 20_000;
export const DEFAULT_BIN_PX = 3;

export interface BinLayer {
  mode: 'bins';
  view: View;
  viewport: Viewport;
  binPx: number;
  cols: number;
  rows: number;
  /** Points per cell, row-major from the top-left (high confidence first). */
  count: Uint32Array;
  /** Summed correctness per cell. */
  correctSum: Float32Array;
  /** Index of the cell's point with the lowest AUM (-1 when empty). */
  rep: Int32Array;
  maxCount: number;
  /** Points inside the view. */
  visible: number;
}

export interface PointLayer {
  mode: 'points';
  view: View;
  viewport: Viewport;
  /** Indices of the points inside the view, and their pixel positions. */
  index: Int32Array;
  px: Float32Array;
  py: Float32Array;
  visible: number;
}

export type Layer = BinLayer | PointLayer;

export type Hit =
  | { kind: 'point'; index: number; px: number; py: number }
  | { kind: 'bin'; bin: number; count: number; meanCorrectness: number; rep: number; box: View; px: number; py: number };

const MIN_SPAN = 0.02;

/**
 * The data extent with 5% padding on each side (a span of at least 0.02, so a run where every pair
 * has the same variability, e.g. one visit each, still gets a readable strip), never empty.
 */
export function fitView(points: MapPoints): View {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  const { variability: vx, confidence: vy } = points;
  for (let i = 0; i < vx.length; i++) {
    const x = vx[i]!;
    const y = vy[i]!;
    if (!(x === x && y === y)) continue; // NaN: never visited
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  if (x0 === Infinity) return { x0: 0, x1: 0.5, y0: 0, y1: 1 };
  const spanX = Math.max(x1 - x0, MIN_SPAN);
  const spanY = Math.max(y1 - y0, MIN_SPAN);
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  // Variability starts at 0: a narrow strip near 0 starts at its lowest value, not centred below 0.
  const left = x1 - x0 < MIN_SPAN ? Math.min(x0, Math.max(0, cx - spanX / 2)) : x0;
  const bottom = y1 - y0 < MIN_SPAN ? cy - spanY / 2 : y0;
  return { x0: left - spanX * 0.05, x1: left + spanX * 1.05, y0: bottom - spanY * 0.05, y1: bottom + spanY * 1.05 };
}

/** Zooms by `factor` (< 1 zooms in) keeping the data point (fx, fy) where it is on screen. */
export function zoomView(view: View, fx: number, fy: number, factor: number): View {
  return { x0: fx - (fx - view.x0) * factor, x1: fx + (view.x1 - fx) * factor, y0: fy - (fy - view.y0) * factor, y1: fy + (view.y1 - fy) * factor };
}

/** Pixel of a data point (y grows downwards on screen). */
export function toPixel(view: View, viewport: Viewport, x: number, y: number): [number, number] {
  return [((x - view.x0) / (view.x1 - view.x0)) * viewport.width, ((view.y1 - y) / (view.y1 - view.y0)) * viewport.height];
}

/** Data point at a pixel. */
export function toData(view: View, viewport: Viewport, px: number, py: number): [number, number] {
  return [view.x0 + (px / viewport.width) * (view.x1 - view.x0), view.y1 - (py / viewport.height) * (view.y1 - view.y0)];
}

/** Bins or lists the points inside `view` (one pass; a second only in point mode). */
export function layout(points: MapPoints, view: View, viewport: Viewport, options: LayoutOptions = {}): Layer {
  const pointLimit = options.pointLimit ?? DEFAULT_POINT_LIMIT;
  const binPx = Math.max(1, Math.floor(options.binPx ?? DEFAULT_BIN_PX));
  const { variability: vx, confidence: vy, correctness: vc, aum } = points;
  const n = vx.length;
  const cols = Math.max(1, Math.ceil(viewport.width / binPx));
  const rows = Math.max(1, Math.ceil(viewport.height / binPx));
  const sx = viewport.width / (view.x1 - view.x0) / binPx;
  const sy = viewport.height / (view.y1 - view.y0) / binPx;
  const count = new Uint32Array(cols * rows);
  const correctSum = new Float32Array(cols * rows);
  const rep = new Int32Array(cols * rows).fill(-1);
  // The representative's AUM per bin (reading aum[rep[b]] instead is a cache miss per point).
  const repAum = new Float32Array(cols * rows).fill(Infinity);
  let visible = 0;
  let maxCount = 0;
  const { x0, x1, y0, y1 } = view;
  const lastCol = cols - 1;
  const lastRow = rows - 1;
  for (let i = 0; i < n; i++) {
    const x = vx[i]!;
    const y = vy[i]!;
    // Inside, edges included (NaN fails every comparison).
    if (!(x >= x0 && x <= x1 && y >= y0 && y <= y1)) continue;
    // Non-negative here: truncation is floor.
    let c = ((x - x0) * sx) | 0;
    let r = ((y1 - y) * sy) | 0;
    if (c > lastCol) c = lastCol;
    if (r > lastRow) r = lastRow;
    const b = r * cols + c;
    const k = count[b]! + 1;
    count[b] = k;
    if (k > maxCount) maxCount = k;
    correctSum[b] = correctSum[b]! + vc[i]!;
    const m = aum[i]!;
    if (m < repAum[b]! || rep[b]! < 0) {
      repAum[b] = m;
      rep[b] = i;
    }
    visible++;
  }
  if (visible > pointLimit) return { mode: 'bins', view, viewport, binPx, cols, rows, count, correctSum, rep, maxCount, visible };
  const index = new Int32Array(visible);
  const px = new Float32Array(visible);
  const py = new Float32Array(visible);
  const kx = viewport.width / (x1 - x0);
  const ky = viewport.height / (y1 - y0);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const x = vx[i]!;
    const y = vy[i]!;
    if (!(x >= x0 && x <= x1 && y >= y0 && y <= y1)) continue;
    index[j] = i;
    px[j] = (x - x0) * kx;
    py[j] = (y1 - y) * ky;
    j++;
  }
  return { mode: 'points', view, viewport, index, px, py, visible };
}

/** The data rectangle a bin covers. */
export function binBox(layer: BinLayer, bin: number): View {
  const c = bin % layer.cols;
  const r = Math.floor(bin / layer.cols);
  const { view, viewport, binPx } = layer;
  const [x0, y1] = toData(view, viewport, c * binPx, r * binPx);
  const [x1, y0] = toData(view, viewport, Math.min(viewport.width, (c + 1) * binPx), Math.min(viewport.height, (r + 1) * binPx));
  return { x0, x1, y0, y1 };
}

function binHit(layer: BinLayer, bin: number): Hit {
  const c = bin % layer.cols;
  const r = Math.floor(bin / layer.cols);
  const count = layer.count[bin]!;
  return {
    kind: 'bin',
    bin,
    count,
    meanCorrectness: layer.correctSum[bin]! / count,
    rep: layer.rep[bin]!,
    box: binBox(layer, bin),
    px: (c + 0.5) * layer.binPx,
    py: (r + 0.5) * layer.binPx,
  };
}

/**
 * What is under pixel (px, py): in point mode the nearest point within `radiusPx`; in bin mode
 * the non-empty bin under it, else the nearest non-empty bin within `radiusPx`.
 */
export function hitTest(layer: Layer, px: number, py: number, radiusPx = 6): Hit | null {
  if (layer.mode === 'points') {
    let best = -1;
    let bestD = radiusPx * radiusPx;
    for (let j = 0; j < layer.visible; j++) {
      const dx = layer.px[j]! - px;
      const dy = layer.py[j]! - py;
      const d = dx * dx + dy * dy;
      if (d <= bestD) {
        bestD = d;
        best = j;
      }
    }
    return best < 0 ? null : { kind: 'point', index: layer.index[best]!, px: layer.px[best]!, py: layer.py[best]! };
  }
  const { cols, rows, binPx, count } = layer;
  const c0 = Math.floor(px / binPx);
  const r0 = Math.floor(py / binPx);
  const reach = Math.ceil(radiusPx / binPx);
  let best = -1;
  let bestD = Infinity;
  for (let r = Math.max(0, r0 - reach); r <= Math.min(rows - 1, r0 + reach); r++) {
    for (let c = Math.max(0, c0 - reach); c <= Math.min(cols - 1, c0 + reach); c++) {
      const b = r * cols + c;
      if (!count[b]) continue;
      const dx = (c + 0.5) * binPx - px;
      const dy = (r + 0.5) * binPx - py;
      const d = dx * dx + dy * dy;
      if (d < bestD && Math.sqrt(d) <= radiusPx + binPx * 0.71) {
        bestD = d;
        best = b;
      }
    }
  }
  return best < 0 ? null : binHit(layer, best);
}

export type Direction = 'left' | 'right' | 'up' | 'down';

/**
 * Keyboard cursor: from pixel (px, py), the nearest target (point or non-empty bin) in the
 * arrow's direction (within 45 degrees of it; distance along the arrow plus twice the sideways
 * offset). With no position yet (`from` null) the target nearest the view's centre.
 */
export function moveCursor(layer: Layer, from: { px: number; py: number } | null, dir: Direction): Hit | null {
  const cx = from?.px ?? layer.viewport.width / 2;
  const cy = from?.py ?? layer.viewport.height / 2;
  const horizontal = dir === 'right' || dir === 'left';
  const sign = dir === 'right' || dir === 'down' ? 1 : -1;
  let best = -1;
  let bestScore = Infinity;
  const consider = (t: number, x: number, y: number): void => {
    const dx = x - cx;
    const dy = y - cy;
    let score: number;
    if (from === null) score = dx * dx + dy * dy;
    else {
      const along = sign * (horizontal ? dx : dy);
      const side = Math.abs(horizontal ? dy : dx);
      if (along <= 0.5 || side > along) return;
      score = along + 2 * side;
    }
    if (score < bestScore) {
      bestScore = score;
      best = t;
    }
  };
  if (layer.mode === 'points') {
    for (let j = 0; j < layer.visible; j++) consider(j, layer.px[j]!, layer.py[j]!);
    return best < 0 ? null : { kind: 'point', index: layer.index[best]!, px: layer.px[best]!, py: layer.py[best]! };
  }
  const { cols, binPx, count } = layer;
  for (let b = 0; b < count.length; b++) if (count[b]) consider(b, ((b % cols) + 0.5) * binPx, (((b / cols) | 0) + 0.5) * binPx);
  return best < 0 ? null : binHit(layer, best);
}

/**
 * Indices of the points inside a data rectangle (edges included), in ascending order. `rows`
 * maps point i to the columns' row (the host keeps the file's columns and only the points'
 * rows); without it point i is row i.
 */
export function selectBox(variability: ArrayLike<number>, confidence: ArrayLike<number>, box: View, rows?: Int32Array): Int32Array {
  const x0 = Math.min(box.x0, box.x1);
  const x1 = Math.max(box.x0, box.x1);
  const y0 = Math.min(box.y0, box.y1);
  const y1 = Math.max(box.y0, box.y1);
  const n = rows ? rows.length : variability.length;
  let out = new Int32Array(64);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const row = rows ? rows[i]! : i;
    const x = variability[row]!;
    const y = confidence[row]!;
    if (!(x >= x0 && x <= x1 && y >= y0 && y <= y1)) continue;
    if (k === out.length) {
      const grown = new Int32Array(out.length * 2);
      grown.set(out);
      out = grown;
    }
    out[k++] = i;
  }
  return out.slice(0, k);
}

/** Regions of the map (Swayamdipta et al. 2020, figure 1), with fixed thresholds. */
export type Region = 'easy' | 'ambiguous' | 'hard';
/** Variability at or above which a pair is ambiguous (the model flips between its two answers). */
export const AMBIGUOUS_VARIABILITY = 0.2;
/** Below this confidence (and not ambiguous) a pair is hard to learn; at or above, easy. */
export const CONFIDENCE_SPLIT = 0.5;

export function regionOf(confidence: number, variability: number): Region {
  if (variability >= AMBIGUOUS_VARIABILITY) return 'ambiguous';
  return confidence >= CONFIDENCE_SPLIT ? 'easy' : 'hard';
}

export interface RegionCounts {
  easy: number;
  ambiguous: number;
  hard: number;
  total: number;
}

export function regionCounts(points: MapPoints): RegionCounts {
  let easy = 0;
  let ambiguous = 0;
  let hard = 0;
  const { variability: vx, confidence: vy } = points;
  for (let i = 0; i < vx.length; i++) {
    const x = vx[i]!;
    const y = vy[i]!;
    if (!(x === x && y === y)) continue;
    // regionOf, inlined (a string-keyed count per point is several times slower at 1M points).
    if (x >= AMBIGUOUS_VARIABILITY) ambiguous++;
    else if (y >= CONFIDENCE_SPLIT) easy++;
    else hard++;
  }
  return { easy, ambiguous, hard, total: easy + ambiguous + hard };
}

export type Rgb = readonly [number, number, number];

/** Colour of a correctness in [0, 1]: `low` at 0, `mid` at 0.5, `high` at 1, linear between. */
export function correctnessColor(c: number, low: Rgb, mid: Rgb, high: Rgb): Rgb {
  const t = Math.min(1, Math.max(0, c === c ? c : 0));
  const [a, b, u] = t < 0.5 ? [low, mid, t * 2] : [mid, high, (t - 0.5) * 2];
  return [Math.round(a[0] + (b[0] - a[0]) * u), Math.round(a[1] + (b[1] - a[1]) * u), Math.round(a[2] + (b[2] - a[2]) * u)];
}

/**
 * Paints a bin layer into RGBA pixels (ImageData.data, viewport-sized): each non-empty cell in
 * its mean correctness colour, opacity growing with log(count) from 35% to 100%; empty cells
 * transparent (the theme's background shows through).
 */
export function renderDensity(layer: BinLayer, out: Uint8ClampedArray, low: Rgb, mid: Rgb, high: Rgb): void {
  const { width, height } = layer.viewport;
  const { cols, binPx, count, correctSum, maxCount } = layer;
  out.fill(0);
  const logMax = Math.log1p(maxCount);
  for (let b = 0; b < count.length; b++) {
    const k = count[b]!;
    if (!k) continue;
    const [r, g, bl] = correctnessColor(correctSum[b]! / k, low, mid, high);
    const alpha = Math.round(255 * (0.35 + (0.65 * Math.log1p(k)) / (logMax || 1)));
    const c = b % cols;
    const row = Math.floor(b / cols);
    const xEnd = Math.min(width, (c + 1) * binPx);
    const yEnd = Math.min(height, (row + 1) * binPx);
    for (let y = row * binPx; y < yEnd; y++) {
      let p = (y * width + c * binPx) * 4;
      for (let x = c * binPx; x < xEnd; x++) {
        out[p] = r;
        out[p + 1] = g;
        out[p + 2] = bl;
        out[p + 3] = alpha;
        p += 4;
      }
    }
  }
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type BinLayer,
  type MapPoints,
  type PointLayer,
  binBox,
  correctnessColor,
  fitView,
  hitTest,
  layout,
  moveCursor,
  regionCounts,
  regionOf,
  renderDensity,
  selectBox,
  toData,
  toPixel,
  zoomView,
} from '../../../src/core/dataMap';

function points(rows: [variability: number, confidence: number, correctness: number, aum: number][]): MapPoints {
  return {
    variability: Float32Array.from(rows.map((r) => r[0])),
    confidence: Float32Array.from(rows.map((r) => r[1])),
    correctness: Float32Array.from(rows.map((r) => r[2])),
    aum: Float32Array.from(rows.map((r) => r[3])),
  };
}

/** Seeded uniform points (mulberry32). */
function random(n: number, seed = 1): MapPoints {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const p: MapPoints = { variability: new Float32Array(n), confidence: new Float32Array(n), correctness: new Float32Array(n), aum: new Float32Array(n) };
  for (let i = 0; i < n; i++) {
    p.variability[i] = rnd() * 0.5;
    p.confidence[i] = rnd();
    p.correctness[i] = rnd();
    p.aum[i] = rnd() * 4 - 2;
  }
  return p;
}

const VIEW = { x0: 0, x1: 0.5, y0: 0, y1: 1 };
const PORT = { width: 100, height: 100 };

test('pixels and data map both ways; y grows upwards in data, downwards on screen', () => {
  assert.deepEqual(toPixel(VIEW, PORT, 0, 1), [0, 0]);
  assert.deepEqual(toPixel(VIEW, PORT, 0.5, 0), [100, 100]);
  const [x, y] = toData(VIEW, PORT, 25, 75);
  assert.equal(x, 0.125);
  assert.equal(y, 0.25);
});

test('fitView pads the data extent, skips NaN (never visited), widens a narrow strip', () => {
  const close = (a: number, b: number) => Math.abs(a - b) < 1e-6;
  const v = fitView(points([[0.1, 0.2, 1, 0], [0.3, 0.6, 0, 0], [NaN, NaN, NaN, NaN]]));
  assert.ok(close(v.x0, 0.09) && close(v.x1, 0.31), JSON.stringify(v));
  assert.ok(close(v.y0, 0.18) && close(v.y1, 0.62), JSON.stringify(v));
  // One visit each: variability 0 for every pair. The strip starts at 0, a little in from the edge.
  const flat = fitView(points([[0, 0.3, 1, 0], [0, 0.7, 0, 0]]));
  assert.ok(close(flat.x0, -0.001) && close(flat.x1, 0.021), JSON.stringify(flat));
  const [px] = toPixel(flat, PORT, 0, 0.5);
  assert.ok(px > 3 && px < 10, `x = 0 drawn ${px} px in from the left edge`);
  // A strip elsewhere is centred on its points.
  const mid = fitView(points([[0.3, 0.5, 1, 0]]));
  assert.ok(close((mid.x0 + mid.x1) / 2, 0.3) && close((mid.y0 + mid.y1) / 2, 0.5) && mid.x1 - mid.x0 > 0.02, JSON.stringify(mid));
  assert.deepEqual(fitView(points([])), VIEW);
});

test('zoomView keeps the focus point in place', () => {
  const z = zoomView(VIEW, 0.1, 0.8, 0.5);
  assert.deepEqual(z, { x0: 0.05, x1: 0.30000000000000004, y0: 0.4, y1: 0.9 });
  const [fx] = toPixel(z, PORT, 0.1, 0.8);
  assert.ok(Math.abs(fx - toPixel(VIEW, PORT, 0.1, 0.8)[0]) < 1e-9);
});

test('few points: point mode lists exactly those inside the view with their pixels', () => {
  const p = points([[0.25, 0.5, 1, 0.3], [0.45, 0.9, 0, -1], [0.6, 0.5, 1, 0], [NaN, NaN, NaN, NaN]]);
  const l = layout(p, VIEW, PORT) as PointLayer;
  assert.equal(l.mode, 'points');
  assert.deepEqual([...l.index], [0, 1]);
  assert.deepEqual([...l.px], [50, 90]);
  assert.ok(Math.abs(l.py[1]! - 10) < 1e-4);
});

test('many points: bins count every visible point once, sum correctness, keep the lowest-AUM point', () => {
  const p = random(50_000);
  const l = layout(p, VIEW, PORT, { pointLimit: 1000, binPx: 10 }) as BinLayer;
  assert.equal(l.mode, 'bins');
  assert.equal(l.cols, 10);
  assert.equal(l.rows, 10);
  assert.equal(l.visible, 50_000);
  assert.equal(l.count.reduce((a, b) => a + b, 0), 50_000);
  // Against a direct computation per bin.
  const expected = new Array<number>(100).fill(0);
  const sums = new Array<number>(100).fill(0);
  const minAum = new Array<number>(100).fill(Infinity);
  for (let i = 0; i < 50_000; i++) {
    const c = Math.min(9, Math.floor((p.variability[i]! / 0.5) * 10));
    const r = Math.min(9, Math.floor((1 - p.confidence[i]!) * 10));
    expected[r * 10 + c]!++;
    sums[r * 10 + c]! += p.correctness[i]!;
    minAum[r * 10 + c] = Math.min(minAum[r * 10 + c]!, p.aum[i]!);
  }
  assert.deepEqual([...l.count], expected);
  for (let b = 0; b < 100; b++) {
    assert.ok(Math.abs(l.correctSum[b]! - sums[b]!) < 1e-2, `bin ${b}`);
    assert.equal(p.aum[l.rep[b]!], minAum[b]);
  }
  assert.equal(l.maxCount, Math.max(...expected));
});

test('the level of detail follows the view: zooming into a corner of 50,000 points shows points', () => {
  const p = random(50_000);
  assert.equal(layout(p, VIEW, PORT, { pointLimit: 2000 }).mode, 'bins');
  const zoomed = layout(p, { x0: 0, x1: 0.05, y0: 0.9, y1: 1 }, PORT, { pointLimit: 2000 });
  assert.equal(zoomed.mode, 'points');
  assert.ok(zoomed.visible > 100 && zoomed.visible < 2000, String(zoomed.visible));
});

test('hit test: nearest point within the radius, none beyond it', () => {
  const p = points([[0.25, 0.5, 1, 0], [0.26, 0.5, 0, 0], [0.4, 0.2, 1, 0]]);
  const l = layout(p, VIEW, PORT);
  assert.deepEqual(hitTest(l, 52.5, 50, 6), { kind: 'point', index: 1, px: 52, py: 50 });
  assert.equal(hitTest(l, 50, 50, 6)?.kind === 'point' && (hitTest(l, 50, 50, 6) as { index: number }).index, 0);
  assert.equal(hitTest(l, 70, 70, 6), null);
});

test('hit test on bins: the bin under the cursor with its count, mean correctness, representative and data box', () => {
  const p = points([[0.01, 0.99, 1, 0.5], [0.02, 0.98, 0, -0.5], [0.49, 0.01, 1, 1]]);
  const l = layout(p, VIEW, PORT, { pointLimit: 1, binPx: 10 }) as BinLayer;
  const hit = hitTest(l, 3, 3, 0);
  assert.ok(hit && hit.kind === 'bin');
  assert.equal(hit.bin, 0);
  assert.equal(hit.count, 2);
  assert.equal(hit.meanCorrectness, 0.5);
  assert.equal(hit.rep, 1);
  assert.deepEqual(hit.box, { x0: 0, x1: 0.05, y0: 0.9, y1: 1 });
  assert.deepEqual(binBox(l, 99), { x0: 0.45, x1: 0.5, y0: 0, y1: 0.09999999999999998 });
  assert.equal(hitTest(l, 50, 50, 4), null, 'empty middle');
  // Every point of the bin is inside its box: a click on the bin opens what it counts.
  assert.deepEqual([...selectBox(p.variability, p.confidence, hit.box)], [0, 1]);
});

test('box selection: points inside (edges included), corners in any order, through a row map', () => {
  // (exact in float32: the columns are Float32Array)
  const p = points([[0.125, 0.125, 1, 0], [0.25, 0.25, 1, 0], [0.375, 0.375, 1, 0], [NaN, NaN, 0, 0]]);
  assert.deepEqual([...selectBox(p.variability, p.confidence, { x0: 0.2, x1: 0.375, y0: 0.2, y1: 0.375 })], [1, 2]);
  assert.deepEqual([...selectBox(p.variability, p.confidence, { x0: 0.375, x1: 0.2, y0: 0.375, y1: 0.2 })], [1, 2]);
  assert.deepEqual([...selectBox(p.variability, p.confidence, { x0: 0, x1: 0.5, y0: 0, y1: 1 }, Int32Array.of(2, 0))], [0, 1]);
  // Agrees with a direct filter on many points (and grows past its first buffer).
  const r = random(20_000, 7);
  const box = { x0: 0.1, x1: 0.3, y0: 0.2, y1: 0.7 };
  const want: number[] = [];
  for (let i = 0; i < 20_000; i++) if (r.variability[i]! >= 0.1 && r.variability[i]! <= 0.3 && r.confidence[i]! >= 0.2 && r.confidence[i]! <= 0.7) want.push(i);
  assert.deepEqual([...selectBox(r.variability, r.confidence, box)], want);
});

test('keyboard cursor: starts near the centre, moves to the nearest target in the arrow direction', () => {
  const p = points([[0.25, 0.5, 1, 0], [0.4, 0.5, 1, 0], [0.25, 0.9, 1, 0], [0.45, 0.95, 1, 0], [0.05, 0.5, 1, 0]]);
  const l = layout(p, VIEW, PORT);
  const start = moveCursor(l, null, 'right');
  assert.ok(start?.kind === 'point' && start.index === 0);
  const right = moveCursor(l, start, 'right');
  assert.ok(right?.kind === 'point' && right.index === 1, JSON.stringify(right));
  const up = moveCursor(l, start, 'up');
  assert.ok(up?.kind === 'point' && up.index === 2, JSON.stringify(up));
  const left = moveCursor(l, start, 'left');
  assert.ok(left?.kind === 'point' && left.index === 4);
  assert.equal(moveCursor(l, right, 'down'), null, 'nothing below');
  // Bins: the same over non-empty cells.
  const bins = layout(p, VIEW, PORT, { pointLimit: 0, binPx: 10 }) as BinLayer;
  const b0 = moveCursor(bins, null, 'up');
  assert.ok(b0?.kind === 'bin' && b0.rep === 0);
  const b1 = moveCursor(bins, b0, 'right');
  assert.ok(b1?.kind === 'bin' && b1.rep === 1);
});

test('regions: ambiguous by variability, else easy or hard by confidence', () => {
  assert.equal(regionOf(0.9, 0.05), 'easy');
  assert.equal(regionOf(0.1, 0.05), 'hard');
  assert.equal(regionOf(0.5, 0.25), 'ambiguous');
  assert.equal(regionOf(0.5, 0.1), 'easy');
  assert.deepEqual(regionCounts(points([[0.05, 0.9, 1, 0], [0.05, 0.1, 0, 0], [0.3, 0.5, 0.5, 0], [0.01, 0.2, 0, 0], [NaN, NaN, NaN, NaN]])), { easy: 1, ambiguous: 1, hard: 2, total: 4 });
});

test('colours interpolate low -> mid -> high', () => {
  const low = [200, 0, 0] as const;
  const mid = [200, 200, 0] as const;
  const high = [0, 200, 0] as const;
  assert.deepEqual(correctnessColor(0, low, mid, high), [200, 0, 0]);
  assert.deepEqual(correctnessColor(0.25, low, mid, high), [200, 100, 0]);
  assert.deepEqual(correctnessColor(1, low, mid, high), [0, 200, 0]);
  assert.deepEqual(correctnessColor(NaN, low, mid, high), [200, 0, 0]);
});

test('density render: each non-empty bin fills its cell in its colour, denser = more opaque, empty = transparent', () => {
  const p = points([[0.01, 0.99, 1, 0], [0.01, 0.99, 1, 0], [0.01, 0.99, 1, 0], [0.49, 0.01, 0, 0]]);
  const l = layout(p, VIEW, { width: 20, height: 20 }, { pointLimit: 0, binPx: 10 }) as BinLayer;
  const px = new Uint8ClampedArray(20 * 20 * 4);
  renderDensity(l, px, [255, 0, 0], [255, 255, 0], [0, 255, 0]);
  const at = (x: number, y: number) => [...px.subarray((y * 20 + x) * 4, (y * 20 + x) * 4 + 4)];
  assert.deepEqual(at(0, 0), [0, 255, 0, 255]);
  assert.deepEqual(at(9, 9), [0, 255, 0, 255]);
  const sparse = at(19, 19);
  assert.deepEqual(sparse.slice(0, 3), [255, 0, 0]);
  assert.ok(sparse[3]! < 255 && sparse[3]! > 89, String(sparse[3]));
  assert.deepEqual(at(15, 5), [0, 0, 0, 0]);
});

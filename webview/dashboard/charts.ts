import uPlot from 'uplot';
import type { EvalSeriesKey, StepSeriesKey } from '../../src/protocol/series';
import { el } from '../common/dom';
import { lowerBound } from './runData';
import { dashboard, type RunData } from './state';

/** The uPlot charts: their definitions, data (joined with a compared run), build and redraw. */

type Color = 'blue' | 'red' | 'green' | 'yellow' | 'orange' | 'purple' | 'foreground';

interface SeriesDef {
  label: string;
  source: 'step' | 'eval';
  key: StepSeriesKey | EvalSeriesKey;
  color: Color;
}

interface ChartDef {
  id: string;
  title: string;
  series: SeriesDef[];
  /** Log y axis (learning rate spans decades during warm-up). */
  log?: boolean;
}

const CHARTS: ChartDef[] = [
  { id: 'loss', title: 'Loss', series: [{ label: 'train', source: 'step', key: 'loss', color: 'blue' }, { label: 'eval', source: 'eval', key: 'loss', color: 'orange' }] },
  {
    id: 'rewards',
    title: 'Rewards',
    series: [
      { label: 'chosen', source: 'step', key: 'rewards/chosen', color: 'green' },
      { label: 'rejected', source: 'step', key: 'rewards/rejected', color: 'red' },
    ],
  },
  { id: 'margins', title: 'Reward margin', series: [{ label: 'train', source: 'step', key: 'rewards/margins', color: 'purple' }, { label: 'eval', source: 'eval', key: 'rewards/margins', color: 'orange' }] },
  { id: 'accuracy', title: 'Reward accuracy', series: [{ label: 'train', source: 'step', key: 'rewards/accuracies', color: 'green' }, { label: 'eval', source: 'eval', key: 'rewards/accuracies', color: 'orange' }] },
  { id: 'lr', title: 'Learning rate', series: [{ label: 'lr', source: 'step', key: 'learning_rate', color: 'yellow' }] },
  { id: 'grad', title: 'Gradient norm', series: [{ label: 'grad norm', source: 'step', key: 'grad_norm', color: 'red' }] },
  { id: 'throughput', title: 'Throughput (tokens/s)', series: [{ label: 'tokens/s', source: 'step', key: 'tokens_per_second', color: 'blue' }] },
  { id: 'memory', title: 'GPU memory (GiB)', series: [{ label: 'allocated', source: 'step', key: 'memory_gib', color: 'purple' }] },
];

function column(run: RunData, s: SeriesDef): (number | null)[] {
  if (s.source === 'step') return run.steps.y[s.key as StepSeriesKey] ?? [];
  return run.evalOnSteps[s.key] ?? new Array<number | null>(run.steps.x.length).fill(null);
}

const joined = new Map<string, JoinedTable>();

interface JoinedTable {
  version: number;
  /** Main-run points already in the table, and eval points (a new eval may land on an old row). */
  mainPoints: number;
  evalPoints: number;
  table: (number | null)[][];
}

/**
 * With an overlay the two runs' steps are joined onto one x axis. A full join per frame costs
 * O(points) per chart; live updates append to the joined table instead (new steps are past the
 * end, or on a step the overlay already has), and only a reset, an overlay change or a new eval
 * point rebuild it.
 */
function chartData(def: ChartDef): uPlot.AlignedData {
  const mine: uPlot.AlignedData = [dashboard.main.steps.x, ...def.series.map((s) => column(dashboard.main, s))];
  if (!dashboard.overlay) return mine;
  const cached = joined.get(def.id);
  const n = dashboard.main.steps.x.length;
  if (cached && cached.version === dashboard.dataVersion && cached.evalPoints === dashboard.main.evals.x.length && cached.mainPoints <= n) {
    const t = cached.table;
    const x = t[0] as number[];
    const cols = def.series.length;
    let ok = true;
    for (let i = cached.mainPoints; i < n && ok; i++) {
      const step = dashboard.main.steps.x[i];
      let row = x.length;
      if (!x.length || step > x[x.length - 1]) {
        x.push(step);
        for (let c = 1; c < t.length; c++) t[c].push(null);
      } else {
        row = lowerBound(x, step);
        if (x[row] !== step) ok = false;
      }
      if (ok) for (let c = 0; c < cols; c++) t[1 + c][row] = (mine[1 + c] as (number | null)[])[i];
    }
    if (ok) {
      cached.mainPoints = n;
      return t as uPlot.AlignedData;
    }
  }
  const theirs: uPlot.AlignedData = [dashboard.overlay.steps.x, ...def.series.map((s) => column(dashboard.overlay!, s))];
  const table = uPlot.join([mine, theirs]) as unknown as (number | null)[][];
  // uPlot.join returns typed/shared arrays in some versions: own plain copies so they can grow.
  const owned = table.map((c) => Array.from(c as ArrayLike<number | null>));
  joined.set(def.id, { version: dashboard.dataVersion, mainPoints: n, evalPoints: dashboard.main.evals.x.length, table: owned });
  return owned as uPlot.AlignedData;
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function color(c: Color): string {
  if (c === 'foreground') return cssVar('--vscode-foreground', '#ccc');
  return cssVar(`--vscode-charts-${c}`, { blue: '#3794ff', red: '#f14c4c', green: '#89d185', yellow: '#cca700', orange: '#d18616', purple: '#b180d7' }[c]);
}

interface Chart {
  def: ChartDef;
  plot: uPlot;
  /** The user zoomed: live data no longer resets the x range (double-click resets). */
  zoomed: boolean;
  overlayShown: boolean;
}

const charts: Chart[] = [];
export const chartsEl = el('div', { class: 'charts' });

function seriesOptions(def: ChartDef, withOverlay: boolean): uPlot.Series[] {
  const own: uPlot.Series[] = def.series.map((s) => ({
    label: s.label,
    stroke: color(s.color),
    width: 1.5,
    spanGaps: s.source === 'eval',
    points: { show: s.source === 'eval', size: 6 },
    paths: s.source === 'eval' ? () => null : undefined,
  }));
  if (!withOverlay || !dashboard.overlay) return [{ label: 'step' }, ...own];
  const theirs: uPlot.Series[] = def.series.map((s) => ({
    label: `${s.label} (${dashboard.overlay!.name})`,
    stroke: color(s.color),
    width: 1.5,
    dash: [6, 4],
    spanGaps: true,
    points: { show: s.source === 'eval', size: 5 },
    paths: s.source === 'eval' ? () => null : undefined,
  }));
  return [{ label: 'step' }, ...own, ...theirs];
}

function chartWidth(container: HTMLElement): number {
  return Math.max(240, Math.floor(container.clientWidth) - 8);
}

function buildChart(def: ChartDef, container: HTMLElement): Chart {
  const fg = color('foreground');
  const grid = cssVar('--vscode-editorWidget-border', 'rgba(128,128,128,0.25)');
  const chart: Chart = { def, plot: undefined as unknown as uPlot, zoomed: false, overlayShown: dashboard.overlay !== null };
  const axis: uPlot.Axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  const opts: uPlot.Options = {
    title: def.title,
    width: chartWidth(container),
    height: 200,
    series: seriesOptions(def, chart.overlayShown),
    axes: [{ ...axis, label: 'step' }, { ...axis, size: 60 }],
    scales: { x: { time: false }, y: def.log ? { distr: 3 } : {} },
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
    hooks: {
      setSelect: [() => { chart.zoomed = true; }],
    },
  };
  chart.plot = new uPlot(opts, chartData(def), container);
  chart.plot.root.addEventListener('dblclick', () => {
    chart.zoomed = false;
    chart.plot.setData(chartData(def), true);
  });
  return chart;
}

export function rebuildCharts(): void {
  for (const c of charts) c.plot.destroy();
  charts.length = 0;
  chartsEl.textContent = '';
  for (const def of CHARTS) {
    const box = el('section', { class: 'chart' });
    box.dataset.chart = def.id;
    chartsEl.append(box);
    charts.push(buildChart(def, box));
  }
}

export function redrawCharts(): void {
  for (const c of charts) {
    if (c.overlayShown !== (dashboard.overlay !== null)) {
      // Series count changes with the overlay: rebuild that chart.
      const box = c.plot.root.parentElement as HTMLElement;
      c.plot.destroy();
      Object.assign(c, buildChart(c.def, box));
      continue;
    }
    c.plot.setData(chartData(c.def), !c.zoomed);
  }
}

// Theme change: VS Code swaps the body class; colours come from CSS variables.
new MutationObserver(() => rebuildCharts()).observe(document.body, { attributes: true, attributeFilter: ['class'] });

let resizeTimer: number | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    for (const c of charts) c.plot.setSize({ width: chartWidth(c.plot.root.parentElement as HTMLElement), height: 200 });
  }, 100);
});


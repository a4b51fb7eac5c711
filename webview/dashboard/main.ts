import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './main.css';
import type { DashboardSummary, HostMessage, SeriesPayload, ViewMessage } from '../../src/protocol/dashboard';
import type { Columns, EvalSeriesKey, StepSeriesKey } from '../../src/protocol/series';

/**
 * A training run's dashboard: summary, live uPlot charts, error panel, checkpoints.
 * Messages are queued and applied once per animation frame: at thousands of events per second
 * every chart is redrawn at most once per frame.
 */

interface VsCodeApi {
  postMessage(message: ViewMessage): void;
  setState(state: { runDir: string | null }): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();

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

// ---- data held by the view -------------------------------------------------------------------

interface RunData {
  steps: Columns<StepSeriesKey>;
  evals: Columns<EvalSeriesKey>;
  /** Eval values placed on the step axis (same length as steps.x), per eval key. */
  evalOnSteps: Record<string, (number | null)[]>;
}

function emptyRun(): RunData {
  return { steps: { x: [], y: {} as Columns<StepSeriesKey>['y'] }, evals: { x: [], y: {} as Columns<EvalSeriesKey>['y'] }, evalOnSteps: {} };
}

let main = emptyRun();
let overlay: (RunData & { name: string }) | null = null;
let summary: DashboardSummary | undefined;
let summaryReceivedAt = 0;

function pushAll<T>(target: T[], more: readonly T[]): void {
  for (let i = 0; i < more.length; i++) target.push(more[i]);
}

/** Index of the first x >= step (binary search; x ascending). */
function lowerBound(x: number[], step: number): number {
  let lo = 0;
  let hi = x.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x[mid] < step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function appendSeries(run: RunData, payload: SeriesPayload): void {
  const { steps, evals } = payload;
  pushAll(run.steps.x, steps.x);
  for (const k of Object.keys(steps.y) as StepSeriesKey[]) pushAll((run.steps.y[k] ??= []), steps.y[k]);
  const n = run.steps.x.length;
  for (const k of Object.keys(run.evalOnSteps)) while (run.evalOnSteps[k].length < n) run.evalOnSteps[k].push(null);
  pushAll(run.evals.x, evals.x);
  for (const k of Object.keys(evals.y) as EvalSeriesKey[]) {
    pushAll((run.evals.y[k] ??= []), evals.y[k]);
    const onSteps = (run.evalOnSteps[k] ??= new Array<number | null>(n).fill(null));
    for (let i = 0; i < evals.x.length; i++) {
      // An eval point is drawn at the first logged step at or after it.
      const at = Math.min(lowerBound(run.steps.x, evals.x[i]), n - 1);
      if (at >= 0) onSteps[at] = evals.y[k][i];
    }
  }
}

function runFrom(payload: SeriesPayload): RunData {
  const run = emptyRun();
  appendSeries(run, payload);
  return run;
}

function column(run: RunData, s: SeriesDef): (number | null)[] {
  if (s.source === 'step') return run.steps.y[s.key as StepSeriesKey] ?? [];
  return run.evalOnSteps[s.key] ?? new Array<number | null>(run.steps.x.length).fill(null);
}

/** Bumped when the main run is replaced or the overlay changes: joined tables are rebuilt. */
let dataVersion = 0;

interface JoinedTable {
  version: number;
  /** Main-run points already in the table, and eval points (a new eval may land on an old row). */
  mainPoints: number;
  evalPoints: number;
  table: (number | null)[][];
}
const joined = new Map<string, JoinedTable>();

/**
 * With an overlay the two runs' steps are joined onto one x axis. A full join per frame costs
 * O(points) per chart; live updates append to the joined table instead (new steps are past the
 * end, or on a step the overlay already has), and only a reset, an overlay change or a new eval
 * point rebuild it.
 */
function chartData(def: ChartDef): uPlot.AlignedData {
  const mine: uPlot.AlignedData = [main.steps.x, ...def.series.map((s) => column(main, s))];
  if (!overlay) return mine;
  const cached = joined.get(def.id);
  const n = main.steps.x.length;
  if (cached && cached.version === dataVersion && cached.evalPoints === main.evals.x.length && cached.mainPoints <= n) {
    const t = cached.table;
    const x = t[0] as number[];
    const cols = def.series.length;
    let ok = true;
    for (let i = cached.mainPoints; i < n && ok; i++) {
      const step = main.steps.x[i];
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
  const theirs: uPlot.AlignedData = [overlay.steps.x, ...def.series.map((s) => column(overlay!, s))];
  const table = uPlot.join([mine, theirs]) as unknown as (number | null)[][];
  // uPlot.join returns typed/shared arrays in some versions: own plain copies so they can grow.
  const owned = table.map((c) => Array.from(c as ArrayLike<number | null>));
  joined.set(def.id, { version: dataVersion, mainPoints: n, evalPoints: main.evals.x.length, table: owned });
  return owned as uPlot.AlignedData;
}

// ---- charts --------------------------------------------------------------------------------

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
const chartsEl = el('div', 'charts');

function seriesOptions(def: ChartDef, withOverlay: boolean): uPlot.Series[] {
  const own: uPlot.Series[] = def.series.map((s) => ({
    label: s.label,
    stroke: color(s.color),
    width: 1.5,
    spanGaps: s.source === 'eval',
    points: { show: s.source === 'eval', size: 6 },
    paths: s.source === 'eval' ? () => null : undefined,
  }));
  if (!withOverlay || !overlay) return [{ label: 'step' }, ...own];
  const theirs: uPlot.Series[] = def.series.map((s) => ({
    label: `${s.label} (${overlay!.name})`,
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
  const chart: Chart = { def, plot: undefined as unknown as uPlot, zoomed: false, overlayShown: overlay !== null };
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

function rebuildCharts(): void {
  for (const c of charts) c.plot.destroy();
  charts.length = 0;
  chartsEl.textContent = '';
  for (const def of CHARTS) {
    const box = el('section', 'chart');
    box.dataset.chart = def.id;
    chartsEl.append(box);
    charts.push(buildChart(def, box));
  }
}

function redrawCharts(): void {
  for (const c of charts) {
    if (c.overlayShown !== (overlay !== null)) {
      // Series count changes with the overlay: rebuild that chart.
      const box = c.plot.root.parentElement as HTMLElement;
      c.plot.destroy();
      Object.assign(c, buildChart(c.def, box));
      continue;
    }
    c.plot.setData(chartData(c.def), !c.zoomed);
  }
}

// ---- summary, error panel, checkpoints --------------------------------------------------------

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function duration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s % 60}s`;
}

function num(v: number | null | undefined, digits = 4): string {
  if (v == null || !Number.isFinite(v)) return '–';
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
  return v.toFixed(digits);
}

function gib(bytes: number | null): string {
  return bytes == null ? '–' : `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

const header = el('header', 'header');
const title = el('h1', 'title');
const badge = el('span', 'badge');
badge.setAttribute('role', 'status');
badge.setAttribute('aria-live', 'polite');
const actions = el('div', 'actions');
function button(label: string, message: ViewMessage, id: string): HTMLButtonElement {
  const b = el('button', 'button', label);
  b.type = 'button';
  b.id = id;
  b.addEventListener('click', () => vscode.postMessage(message));
  return b;
}
const stopButton = button('Stop', { type: 'stop' }, 'stop');
const resumeButton = button('Resume', { type: 'resume' }, 'resume');
const folderButton = button('Open Folder', { type: 'openFolder' }, 'open-folder');
const overlayButton = button('Compare with Run…', { type: 'pickOverlay' }, 'compare');
const clearOverlayButton = button('Clear Comparison', { type: 'clearOverlay' }, 'clear-compare');
for (const b of [folderButton, overlayButton, clearOverlayButton]) b.classList.add('secondary');
actions.append(stopButton, resumeButton, overlayButton, clearOverlayButton, folderButton);
header.append(title, badge, actions);

const progress = el('div', 'progress');
const progressBar = el('div', 'progress-bar');
progress.setAttribute('role', 'progressbar');
progress.append(progressBar);

const facts = el('dl', 'facts');
const errorPanel = el('section', 'error-panel');
errorPanel.setAttribute('role', 'alert');
const checkpointsEl = el('section', 'checkpoints');

const FACTS: [string, (s: DashboardSummary) => string][] = [
  ['Method', (s) => s.method ?? '–'],
  ['Model', (s) => (s.model ?? '–') + (s.lora ? ' (LoRA)' : '')],
  ['Dataset', (s) => (s.dataset ?? '–') + (s.trainRecords != null ? ` · ${s.trainRecords} records` : '')],
  ['Devices', (s) => [s.devices, s.precision].filter(Boolean).join(' · ') || '–'],
  ['Step', (s) => `${s.step} / ${s.totalSteps} · epoch ${s.epoch.toFixed(2)}`],
  ['Elapsed', (s) => duration(s.elapsedSeconds + (isLive(s) ? (Date.now() - summaryReceivedAt) / 1000 : 0))],
  ['ETA', (s) => (isLive(s) && s.etaSeconds != null ? duration(s.etaSeconds - (Date.now() - summaryReceivedAt) / 1000) : s.status === 'completed' ? 'done' : '–')],
  ['Throughput', (s) => (s.tokensPerSecond == null ? '–' : `${Math.round(s.tokensPerSecond)} tokens/s · ${num(s.samplesPerSecond, 1)} samples/s`)],
  ['GPU memory', (s) => (s.memoryAllocatedBytes == null ? '– (CPU)' : `${gib(s.memoryAllocatedBytes)} (peak ${gib(s.memoryPeakBytes)})`)],
  ['Loss', (s) => num(s.loss)],
  ['Accuracy / margin', (s) => `${num(s.accuracy, 3)} / ${num(s.margin)}`],
  ['Effective β', (s) => num(s.effectiveBeta)],
];
const factValues: HTMLElement[] = FACTS.map(([label]) => {
  const dt = el('dt', undefined, label);
  const dd = el('dd');
  dd.dataset.fact = label;
  facts.append(dt, dd);
  return dd;
});

function isLive(s: DashboardSummary): boolean {
  return s.status === 'running' || s.status === 'stopping' || s.status === 'starting';
}

const STATUS_TEXT: Record<DashboardSummary['status'], string> = {
  starting: 'Starting…',
  running: 'Running',
  stopping: 'Stopping…',
  completed: 'Completed',
  stopped: 'Stopped',
  failed: 'Failed',
};

let savedRunDir: string | null = null;

function renderSummary(): void {
  const s = summary;
  if (!s) return;
  // VS Code restores the panel after a window reload with this state (see Dashboards.restore).
  if (s.runDir !== savedRunDir) {
    savedRunDir = s.runDir;
    vscode.setState({ runDir: s.runDir });
  }
  title.textContent = s.name;
  document.body.dataset.status = s.status;
  badge.textContent = STATUS_TEXT[s.status];
  badge.className = `badge status-${s.status}`;
  stopButton.hidden = !s.canStop;
  stopButton.disabled = s.status === 'stopping';
  resumeButton.hidden = !s.canResume;
  folderButton.hidden = !s.runDir;
  clearOverlayButton.hidden = overlay === null;
  const pct = s.totalSteps ? Math.min(100, (100 * s.step) / s.totalSteps) : 0;
  progressBar.style.width = `${pct}%`;
  progress.setAttribute('aria-valuenow', pct.toFixed(0));
  progress.setAttribute('aria-label', `step ${s.step} of ${s.totalSteps}`);
  FACTS.forEach(([, get], i) => (factValues[i].textContent = get(s)));
  renderError(s);
  renderCheckpoints(s);
  // A run that failed before its first step has nothing to chart.
  chartsEl.hidden = s.status === 'failed' && main.steps.x.length === 0 && overlay === null;
}

function renderError(s: DashboardSummary): void {
  errorPanel.textContent = '';
  const problem = s.error ?? (s.failure ? { message: s.failure.reason, errorType: 'process', hint: null, traceback: null } : null);
  errorPanel.hidden = !problem && !s.malformedLines;
  if (problem) {
    errorPanel.append(el('h2', undefined, `Run failed (${problem.errorType})`), el('p', 'error-message', problem.message));
    if (problem.hint) errorPanel.append(el('p', 'hint', `Hint: ${problem.hint}`));
    if (problem.traceback) {
      const d = el('details');
      d.append(el('summary', undefined, 'Traceback'), el('pre', undefined, problem.traceback));
      errorPanel.append(d);
    }
    if (s.failure?.stderrTail) {
      const d = el('details');
      d.open = !s.error;
      d.append(el('summary', undefined, 'Last lines of the trainer’s stderr'), el('pre', undefined, s.failure.stderrTail));
      errorPanel.append(d);
    }
  }
  if (s.malformedLines) errorPanel.append(el('p', 'muted', `${s.malformedLines} malformed event line(s) were skipped (see the RPO Studio log).`));
}

function renderCheckpoints(s: DashboardSummary): void {
  checkpointsEl.textContent = '';
  checkpointsEl.hidden = s.checkpoints.length === 0 && !s.finalModel;
  if (checkpointsEl.hidden) return;
  checkpointsEl.append(el('h2', undefined, 'Checkpoints'));
  const ul = el('ul');
  for (const c of s.checkpoints) ul.append(el('li', undefined, `step ${c.step} (${c.reason}): ${c.path}`));
  if (s.finalModel) ul.append(el('li', undefined, `final model: ${s.finalModel}`));
  checkpointsEl.append(ul);
}

// ---- message loop --------------------------------------------------------------------------------

const pending: HostMessage[] = [];
let frameRequested = false;

/** Time spent applying the last frame's messages and redrawing (read by the benchmark). */
const stats = { lastFrameMs: 0, frames: 0, points: 0 };
(window as unknown as { __rpoDashboardStats: typeof stats }).__rpoDashboardStats = stats;

function applyPending(): void {
  frameRequested = false;
  const t0 = performance.now();
  const messages = pending.splice(0);
  let chartsChanged = false;
  for (const m of messages) {
    switch (m.type) {
      case 'reset':
        main = runFrom(m.series);
        dataVersion++;
        summary = m.summary;
        summaryReceivedAt = Date.now();
        chartsChanged = true;
        break;
      case 'delta':
        if (m.series.steps.x.length || m.series.evals.x.length) {
          appendSeries(main, m.series);
          chartsChanged = true;
        }
        summary = m.summary;
        summaryReceivedAt = Date.now();
        break;
      case 'overlay':
        dataVersion++;
        overlay = m.overlay ? { ...runFrom(m.overlay.series), name: m.overlay.name + (m.overlay.method ? ` · ${m.overlay.method}` : '') } : null;
        chartsChanged = true;
        break;
      default: {
        const never: never = m;
        void never;
      }
    }
  }
  renderSummary();
  if (chartsChanged) redrawCharts();
  // uPlot draws in a microtask queued by setData: measure after it.
  queueMicrotask(() => {
    stats.lastFrameMs = performance.now() - t0;
  });
  stats.frames++;
  stats.points = main.steps.x.length;
  document.body.dataset.points = String(main.steps.x.length);
}

window.addEventListener('message', (e: MessageEvent<HostMessage>) => {
  const m = e.data;
  if (!m || typeof m !== 'object' || !['reset', 'delta', 'overlay'].includes((m as { type?: string }).type ?? '')) return;
  pending.push(m);
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(applyPending);
  }
});

// Elapsed and ETA count every second between events.
setInterval(() => {
  if (summary && isLive(summary)) FACTS.forEach(([label, get], i) => (label === 'Elapsed' || label === 'ETA') && (factValues[i].textContent = get(summary!)));
}, 1000);

// Theme change: VS Code swaps the body class; colours come from CSS variables.
new MutationObserver(() => rebuildCharts()).observe(document.body, { attributes: true, attributeFilter: ['class'] });

let resizeTimer: number | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    for (const c of charts) c.plot.setSize({ width: chartWidth(c.plot.root.parentElement as HTMLElement), height: 200 });
  }, 100);
});

const root = el('main', 'dashboard');
root.append(header, progress, facts, errorPanel, chartsEl, checkpointsEl);
document.body.append(root);
errorPanel.hidden = true;
checkpointsEl.hidden = true;
rebuildCharts();
vscode.postMessage({ type: 'ready' });

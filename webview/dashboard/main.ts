import 'uplot/dist/uPlot.min.css';
import './main.css';
import type { HostMessage } from '../../src/protocol/dashboard';
import { assertNever } from '../common/assertNever';
import { el } from '../common/dom';
import { chartsEl, rebuildCharts, redrawCharts } from './charts';
import { dataMapEl, onDataMapMessage } from './dataMap';
import { onWinrateMessage, renderWinrateAccuracy, winrateEl } from './winrate';
import { appendSeries, runFrom } from './runData';
import { dashboard, vscode } from './state';
import { checkpointsEl, errorPanel, FACTS, factValues, facts, header, isLive, progress, renderSummary } from './summary';

/**
 * A training run's dashboard: summary (summary.ts), live uPlot charts (charts.ts), error panel,
 * checkpoints. Messages are queued and applied once per animation frame: at thousands of events
 * per second every chart is redrawn at most once per frame.
 */

const pending: HostMessage[] = [];
let frameRequested = false;

/** Time spent applying the last frame's messages and redrawing (bench/training-dashboard.mjs reads it; test builds only). */
const stats = { lastFrameMs: 0, frames: 0, points: 0 };
if (RPO_TEST_HOOKS_BUILT) (window as unknown as { __rpoDashboardStats: typeof stats }).__rpoDashboardStats = stats;

function applyPending(): void {
  frameRequested = false;
  const t0 = performance.now();
  const messages = pending.splice(0);
  let chartsChanged = false;
  for (const m of messages) {
    switch (m.type) {
      case 'reset':
        dashboard.main = runFrom(m.series);
        dashboard.dataVersion++;
        dashboard.summary = m.summary;
        dashboard.summaryReceivedAt = Date.now();
        chartsChanged = true;
        break;
      case 'delta':
        if (m.series.steps.x.length || m.series.evals.x.length) {
          appendSeries(dashboard.main, m.series);
          chartsChanged = true;
        }
        dashboard.summary = m.summary;
        dashboard.summaryReceivedAt = Date.now();
        break;
      case 'dataMap':
      case 'dataMapPrompt':
        onDataMapMessage(m);
        break;
      case 'winrate':
        onWinrateMessage(m.rows);
        break;
      case 'overlay':
        dashboard.dataVersion++;
        dashboard.overlay = m.overlay ? { ...runFrom(m.overlay.series), name: m.overlay.name + (m.overlay.method ? ` · ${m.overlay.method}` : '') } : null;
        chartsChanged = true;
        break;
      default:
        assertNever(m);
    }
  }
  renderSummary();
  renderWinrateAccuracy();
  if (chartsChanged) redrawCharts();
  if (RPO_TEST_HOOKS_BUILT) {
    // uPlot draws in a microtask queued by setData: measure after it.
    queueMicrotask(() => {
      stats.lastFrameMs = performance.now() - t0;
    });
    stats.frames++;
    stats.points = dashboard.main.steps.x.length;
  }
  document.body.dataset.points = String(dashboard.main.steps.x.length);
}

window.addEventListener('message', (e: MessageEvent<HostMessage>) => {
  const m = e.data;
  if (!m || typeof m !== 'object' || !['reset', 'delta', 'overlay', 'dataMap', 'dataMapPrompt', 'winrate'].includes((m as { type?: string }).type ?? '')) return;
  pending.push(m);
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(applyPending);
  }
});

// Elapsed and ETA count every second between events.
setInterval(() => {
  const summary = dashboard.summary;
  if (summary && isLive(summary)) FACTS.forEach(([label, get], i) => (label === 'Elapsed' || label === 'ETA') && (factValues[i].textContent = get(summary)));
}, 1000);

const root = el('main', { class: 'dashboard' });
root.append(header, progress, facts, winrateEl, errorPanel, chartsEl, dataMapEl, checkpointsEl);
winrateEl.hidden = true;
document.body.append(root);
errorPanel.hidden = true;
checkpointsEl.hidden = true;
rebuildCharts();
vscode.postMessage({ type: 'ready' });

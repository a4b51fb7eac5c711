import type { DashboardSummary, ViewMessage } from '../../src/protocol/dashboard';
import { el } from '../common/dom';
import { chartsEl } from './charts';
import { duration, gib, num } from './format';
import { dashboard, vscode } from './state';

/** The run's header (name, status, actions), progress, facts, error panel and checkpoints. */

export const header = el('header', { class: 'header' });
const title = el('h1', { class: 'title' });
const badge = el('span', { class: 'badge' });
badge.setAttribute('role', 'status');
badge.setAttribute('aria-live', 'polite');
const actions = el('div', { class: 'actions' });
function button(label: string, message: ViewMessage, id: string): HTMLButtonElement {
  const b = el('button', { class: 'button' }, label);
  b.type = 'button';
  b.id = id;
  b.addEventListener('click', () => vscode.postMessage(message));
  return b;
}
const stopButton = button('Stop', { type: 'stop' }, 'stop');
const resumeButton = button('Resume', { type: 'resume' }, 'resume');
const folderButton = button('Open Folder', { type: 'openFolder' }, 'open-folder');
const sampleButton = button('Sample…', { type: 'sample' }, 'sample');
sampleButton.title = "Sample the run's model and a baseline into a blind candidates file (RPO: Sample from Run…)";
const overlayButton = button('Compare with Run…', { type: 'pickOverlay' }, 'compare');
const clearOverlayButton = button('Clear Comparison', { type: 'clearOverlay' }, 'clear-compare');
for (const b of [folderButton, overlayButton, clearOverlayButton, sampleButton]) b.classList.add('secondary');
actions.append(stopButton, resumeButton, sampleButton, overlayButton, clearOverlayButton, folderButton);
header.append(title, badge, actions);

export const progress = el('div', { class: 'progress' });
const progressBar = el('div', { class: 'progress-bar' });
progress.setAttribute('role', 'progressbar');
progress.append(progressBar);

export const facts = el('dl', { class: 'facts' });
export const errorPanel = el('section', { class: 'error-panel' });
errorPanel.setAttribute('role', 'alert');
export const checkpointsEl = el('section', { class: 'checkpoints' });

export const FACTS: [string, (s: DashboardSummary) => string][] = [
  ['Method', (s) => s.method ?? '–'],
  ['Model', (s) => (s.model ?? '–') + (s.lora ? ' (LoRA)' : '')],
  ['Dataset', (s) => (s.dataset ?? '–') + (s.trainRecords != null ? ` · ${s.trainRecords} records` : '')],
  ['Devices', (s) => [s.devices, s.precision].filter(Boolean).join(' · ') || '–'],
  ['Step', (s) => `${s.step} / ${s.totalSteps} · epoch ${s.epoch.toFixed(2)}`],
  ['Elapsed', (s) => duration(s.elapsedSeconds + (isLive(s) ? (Date.now() - dashboard.summaryReceivedAt) / 1000 : 0))],
  ['ETA', (s) => (isLive(s) && s.etaSeconds != null ? duration(s.etaSeconds - (Date.now() - dashboard.summaryReceivedAt) / 1000) : s.status === 'completed' ? 'done' : '–')],
  ['Throughput', (s) => (s.tokensPerSecond == null ? '–' : `${Math.round(s.tokensPerSecond)} tokens/s · ${num(s.samplesPerSecond, 1)} samples/s`)],
  ['GPU memory', (s) => (s.memoryAllocatedBytes == null ? '– (CPU)' : `${gib(s.memoryAllocatedBytes)} (peak ${gib(s.memoryPeakBytes)})`)],
  ['Loss', (s) => num(s.loss)],
  ['Accuracy / margin', (s) => `${num(s.accuracy, 3)} / ${num(s.margin)}`],
  ['Effective β', (s) => num(s.effectiveBeta)],
];
export const factValues: HTMLElement[] = FACTS.map(([label]) => {
  const dt = el('dt', {}, label);
  const dd = el('dd');
  dd.dataset.fact = label;
  facts.append(dt, dd);
  return dd;
});

export function isLive(s: DashboardSummary): boolean {
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

export function renderSummary(): void {
  const s = dashboard.summary;
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
  // A model to sample: the final model (completed) or a checkpoint (stopped).
  sampleButton.hidden = !s.runDir || !(s.status === 'completed' || s.canResume);
  clearOverlayButton.hidden = dashboard.overlay === null;
  const pct = s.totalSteps ? Math.min(100, (100 * s.step) / s.totalSteps) : 0;
  progressBar.style.width = `${pct}%`;
  progress.setAttribute('aria-valuenow', pct.toFixed(0));
  progress.setAttribute('aria-label', `step ${s.step} of ${s.totalSteps}`);
  FACTS.forEach(([, get], i) => (factValues[i].textContent = get(s)));
  renderError(s);
  renderCheckpoints(s);
  // A run that failed before its first step has nothing to chart.
  chartsEl.hidden = s.status === 'failed' && dashboard.main.steps.x.length === 0 && dashboard.overlay === null;
}

function renderError(s: DashboardSummary): void {
  errorPanel.textContent = '';
  const problem = s.error ?? (s.failure ? { message: s.failure.reason, errorType: 'process', hint: null, traceback: null } : null);
  errorPanel.hidden = !problem && !s.malformedLines;
  if (problem) {
    errorPanel.append(el('h2', {}, `Run failed (${problem.errorType})`), el('p', { class: 'error-message' }, problem.message));
    if (problem.hint) errorPanel.append(el('p', { class: 'hint' }, `Hint: ${problem.hint}`));
    if (problem.traceback) {
      const d = el('details');
      d.append(el('summary', {}, 'Traceback'), el('pre', {}, problem.traceback));
      errorPanel.append(d);
    }
    if (s.failure?.stderrTail) {
      const d = el('details');
      d.open = !s.error;
      d.append(el('summary', {}, 'Last lines of the trainer’s stderr'), el('pre', {}, s.failure.stderrTail));
      errorPanel.append(d);
    }
  }
  if (s.malformedLines) errorPanel.append(el('p', { class: 'muted' }, `${s.malformedLines} malformed event line(s) were skipped (see the RPO Studio log).`));
}

function renderCheckpoints(s: DashboardSummary): void {
  checkpointsEl.textContent = '';
  checkpointsEl.hidden = s.checkpoints.length === 0 && !s.finalModel;
  if (checkpointsEl.hidden) return;
  checkpointsEl.append(el('h2', {}, 'Checkpoints'));
  const ul = el('ul');
  for (const c of s.checkpoints) ul.append(el('li', {}, `step ${c.step} (${c.reason}): ${c.path}`));
  if (s.finalModel) ul.append(el('li', {}, `final model: ${s.finalModel}`));
  checkpointsEl.append(ul);
}

import * as path from 'node:path';
import * as vscode from 'vscode';
import { FINAL_STATUSES, formatDuration } from '../core/run/state';
import type { RunManager } from './runManager';

/** Shows the live run: "$(sync~spin) RPO 120/400 · loss 0.4123"; click opens its dashboard. */
export class TrainingStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('rpo.training', vscode.StatusBarAlignment.Left, 10);
  private readonly subscription: vscode.Disposable;
  private timer: NodeJS.Timeout | undefined;
  private hideTimer: NodeJS.Timeout | undefined;

  constructor(private readonly manager: RunManager) {
    this.item.name = 'RPO Training Run';
    this.subscription = manager.onDidChange(() => {
      if (!this.timer) this.timer = setTimeout(() => this.update(), 250);
    });
    this.update();
  }

  update(): void {
    this.timer = undefined;
    const run = this.manager.current();
    if (!run || (!run.proc.running && FINAL_STATUSES.has(run.state.status) && Date.now() - Date.parse(run.state.lastEventAt ?? '0') > 60_000)) {
      this.item.hide();
      return;
    }
    const s = run.state;
    const icon = { starting: '$(loading~spin)', running: '$(sync~spin)', stopping: '$(loading~spin)', completed: '$(pass)', stopped: '$(debug-pause)', failed: '$(error)' }[s.status];
    const loss = s.lastMetrics?.loss;
    this.item.text = `${icon} RPO ${s.totalSteps ? `${s.step}/${s.totalSteps}` : s.status}${loss != null ? ` · loss ${loss.toFixed(4)}` : ''}`;
    this.item.tooltip = `${path.basename(run.runDir ?? run.label)}: ${s.status}${s.etaSeconds != null && !FINAL_STATUSES.has(s.status) ? `, ETA ${formatDuration(s.etaSeconds)}` : ''}. Click to open the dashboard.`;
    this.item.backgroundColor = s.status === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.command = { command: 'rpo.openRunDashboard', title: 'Open Run Dashboard', arguments: [run.runDir ?? run.id] };
    this.item.accessibilityInformation = { label: `RPO training run ${s.status}, step ${s.step} of ${s.totalSteps}` };
    this.item.show();
    // A finished run stays visible for a minute, then the item hides.
    if (FINAL_STATUSES.has(s.status) && !run.proc.running && !this.hideTimer) this.hideTimer = setTimeout(() => { this.hideTimer = undefined; this.update(); }, 61_000);
  }

  /** Text shown now (integration tests read it). */
  get text(): string {
    return this.item.text;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.hideTimer) clearTimeout(this.hideTimer);
    this.subscription.dispose();
    this.item.dispose();
  }
}

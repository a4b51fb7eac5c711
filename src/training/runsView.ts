import * as path from 'node:path';
import * as vscode from 'vscode';
import { type RunStatus, formatDuration } from '../core/run/state';
import { type RunSummary, listRuns } from '../node/run/store';
import type { RunManager } from './runManager';

export const RUNS_VIEW_ID = 'rpo.runs';

/** A run in the tree: the folder's summary, overridden by the live state when this window follows it. */
export class RunItem extends vscode.TreeItem {
  constructor(
    readonly summary: RunSummary,
    readonly liveId: string | undefined,
  ) {
    super(summary.name, vscode.TreeItemCollapsibleState.None);
    const s = summary;
    this.id = s.runDir;
    this.iconPath = statusIcon(s.status);
    const progress = s.totalSteps ? `${s.step}/${s.totalSteps}` : '';
    this.description = [s.method, statusText(s.status), progress, s.loss != null ? `loss ${s.loss.toFixed(4)}` : null].filter(Boolean).join(' · ');
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${s.name}**: ${statusText(s.status)}\n\n`);
    md.appendText(`method: ${s.method ?? '–'}\nmodel: ${s.model ?? '–'}\ndataset: ${s.dataset ?? '–'}\nstep: ${progress || '–'}\nelapsed: ${formatDuration(s.elapsedSeconds)}\nstarted: ${s.startedAt ?? '–'}\nfolder: ${s.runDir}`);
    if (s.failure) md.appendText(`\nfailure: ${s.failure}`);
    this.tooltip = md;
    const canStop = s.live && (s.status === 'running' || s.status === 'starting' || s.status === 'stopping');
    const canResume = !s.live && s.status === 'stopped';
    // contextValue drives the context menu: e.g. "rpoRun.live" or "rpoRun.resumable".
    this.contextValue = ['rpoRun', canStop ? 'live' : '', canResume ? 'resumable' : ''].filter(Boolean).join('.');
    this.command = { command: 'rpo.openRunDashboard', title: 'Open Run Dashboard', arguments: [s.runDir] };
    this.accessibilityInformation = { label: `${s.name}: ${this.description}` };
  }
}

export function statusText(status: RunStatus): string {
  return { starting: 'starting', running: 'running', stopping: 'stopping', completed: 'completed', stopped: 'stopped', failed: 'failed' }[status];
}

function statusIcon(status: RunStatus): vscode.ThemeIcon {
  switch (status) {
    case 'starting':
    case 'running':
    case 'stopping':
      return new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue'));
    case 'completed':
      return new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
    case 'stopped':
      return new vscode.ThemeIcon('debug-pause', new vscode.ThemeColor('charts.yellow'));
    case 'failed':
      return new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
  }
}

/** Every run folder under the workspace's runs folders, newest first. */
export class RunsTreeProvider implements vscode.TreeDataProvider<RunItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly manager: RunManager,
    private readonly runsDirs: () => string[],
  ) {
    this.disposables.push(
      manager.onDidChange((n) => {
        // Progress updates the live item at most twice a second; status changes at once.
        if (n.exited || (n.event && n.event.type !== 'step' && n.event.type !== 'log')) this.refresh();
        else this.refreshSoon(500);
      }),
    );
    const watcher = vscode.workspace.createFileSystemWatcher('**/.rpo/runs/*/events.jsonl');
    this.disposables.push(watcher, watcher.onDidCreate(() => this.refreshSoon(300)), watcher.onDidDelete(() => this.refreshSoon(300)), watcher.onDidChange(() => this.refreshSoon(2000)));
  }

  refresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    this.changed.fire();
  }

  private refreshSoon(ms: number): void {
    if (!this.refreshTimer) this.refreshTimer = setTimeout(() => this.refresh(), ms);
  }

  getTreeItem(item: RunItem): vscode.TreeItem {
    return item;
  }

  getChildren(element?: RunItem): RunItem[] {
    if (element) return [];
    return this.items();
  }

  items(): RunItem[] {
    const seen = new Set<string>();
    const items: RunItem[] = [];
    const dirs = new Set(this.runsDirs());
    for (const run of this.manager.all()) if (run.runDir) dirs.add(path.dirname(run.runDir));
    for (const dir of dirs) {
      for (const summary of listRuns(dir)) {
        const key = path.resolve(summary.runDir);
        if (seen.has(key)) continue;
        seen.add(key);
        const live = this.manager.byRunDir(summary.runDir);
        if (live) {
          const s = live.state;
          summary.status = s.status;
          summary.step = s.step;
          summary.totalSteps = s.totalSteps;
          summary.loss = s.lastMetrics?.loss ?? summary.loss;
          summary.live = live.proc.running;
          summary.failure = s.failure?.reason ?? null;
        }
        items.push(new RunItem(summary, live?.id));
      }
    }
    return items.sort((a, b) => (b.summary.startedAt ?? '').localeCompare(a.summary.startedAt ?? ''));
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import { DashboardFeed } from '../core/run/dashboardFeed';
import { sliceColumns } from '../protocol/series';
import type { RunState } from '../core/run/state';
import { parseEventLine } from '../core/run/events';
import { initialRunState, applyEvent, FINAL_STATUSES } from '../core/run/state';
import { EVENTS_FILE, EventFileFollower, listRuns, loadRun, settleLiveness } from '../node/run/store';
import { type HostMessage, parseDashboardMessage } from '../protocol/dashboard';
import { webviewHtml, webviewOptions, webviewPoster } from '../webviewHtml';
import { DataMapHost } from './dataMap';
import { WinrateHost } from './winrateHost';
import type { LiveRun, RunManager } from './runManager';

export const DASHBOARD_VIEW_TYPE = 'rpo.dashboard';

/** What a dashboard shows: a run this window follows, or a run folder read from disk. */
type Source = { kind: 'live'; run: LiveRun } | { kind: 'folder'; runDir: string; state: RunState; live: boolean };

export interface DashboardActions {
  stop(run: LiveRun): Promise<void>;
  resume(runDir: string): Promise<LiveRun | undefined>;
  runsDirs(): string[];
}

/**
 * One webview panel per run. Live runs push a message at most every FLUSH_MS (the webview also
 * batches per animation frame), carrying only new points. A finished run reopens from its events
 * file. A panel for a folder whose run is resumed switches to the live run.
 */
export class DashboardPanel implements vscode.Disposable {
  private static readonly FLUSH_MS = 100;
  private feed: DashboardFeed;
  private ready = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private liveSubscription: vscode.Disposable | undefined;
  private readonly dataMap: DataMapHost;
  private dataMapDir: string | null = null;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private source: Source,
    private readonly manager: RunManager,
    private readonly actions: DashboardActions,
    private readonly log: Logger,
    private readonly onDispose: (p: DashboardPanel) => void,
  ) {
    this.postToPanel = webviewPoster<HostMessage>(panel);
    this.feed = new DashboardFeed(this.state());
    this.dataMap = new DataMapHost(() => this.runDir, (m) => this.post(m), log);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m) => this.onMessage(m)),
      panel.onDidDispose(() => this.dispose()),
    );
    this.subscribe();
    this.watchFolder();
  }

  private folderWatch: { follower: EventFileFollower; timer: NodeJS.Timeout } | undefined;

  /**
   * A run folder whose trainer runs on this machine but was not started by this window (e.g.
   * `rpo train` in a terminal): follow its events.jsonl until the process is gone.
   */
  private watchFolder(): void {
    this.stopWatchingFolder();
    const source = this.source;
    if (source.kind !== 'folder' || !source.live) return;
    const state = initialRunState();
    state.runDir = source.runDir;
    this.source = { ...source, state };
    this.feed = new DashboardFeed(state);
    const follower = new EventFileFollower(path.join(source.runDir, EVENTS_FILE), {
      line: (line) => {
        const parsed = parseEventLine(line);
        if (parsed.kind === 'event') applyEvent(state, parsed.event);
        else if (parsed.kind === 'malformed') state.malformedLines++;
        this.scheduleFlush();
      },
      tooLong: () => {
        state.malformedLines++;
        this.scheduleFlush();
      },
    });
    follower.start();
    const timer = setInterval(() => {
      follower.poll();
      const { live } = settleLiveness(source.runDir, state);
      if (!live || FINAL_STATUSES.has(state.status)) {
        if (this.source.kind === 'folder') this.source.live = false;
        this.stopWatchingFolder();
        this.flush();
      }
    }, 2000);
    this.folderWatch = { follower, timer };
  }

  private stopWatchingFolder(): void {
    if (!this.folderWatch) return;
    clearInterval(this.folderWatch.timer);
    this.folderWatch.follower.stop();
    this.folderWatch = undefined;
  }

  /** The run folder, or the live run's launch id before its folder is known. */
  get key(): string {
    return this.source.kind === 'live' ? this.source.run.runDir ?? this.source.run.id : this.source.runDir;
  }

  get runDir(): string | null {
    return this.source.kind === 'live' ? this.source.run.runDir : this.source.runDir;
  }

  follow(run: LiveRun): void {
    this.stopWatchingFolder();
    this.source = { kind: 'live', run };
    this.feed = new DashboardFeed(run.state);
    this.panel.title = `Run: ${path.basename(run.runDir ?? run.label)}`;
    this.subscribe();
    this.scheduleFlush();
  }

  private state(): RunState {
    return this.source.kind === 'live' ? this.source.run.state : this.source.state;
  }

  private subscribe(): void {
    this.liveSubscription?.dispose();
    this.liveSubscription = undefined;
    if (this.source.kind !== 'live') return;
    const run = this.source.run;
    this.liveSubscription = this.manager.onDidChange((n) => {
      if (n.run !== run) return;
      if (n.exited || n.event?.type === 'end' || n.event?.type === 'error' || n.event?.type === 'start') this.flush();
      else this.scheduleFlush();
    });
  }

  private name(): string {
    if (this.source.kind === 'live') return path.basename(this.source.run.runDir ?? this.source.run.label);
    return path.basename(this.source.runDir);
  }

  private scheduleFlush(): void {
    if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), DashboardPanel.FLUSH_MS);
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (!this.ready) return;
    const live = this.source.kind === 'live' ? this.source.run.proc.running : this.source.live;
    void this.post(this.feed.next({ name: this.name(), live }));
    this.refreshDataMap(false);
    if (this.winrate && this.winrate.dir !== this.runDir) this.refreshWinrate();
  }

  private winrate: WinrateHost | undefined;

  /** The win-rate panel follows <run>/samples (src/training/winrateHost.ts). */
  private refreshWinrate(): void {
    this.winrate ??= new WinrateHost((m) => this.post(m), this.log);
    this.winrate.follow(this.runDir);
  }

  /** The data map follows dynamics.safetensors, which the trainer rewrites at checkpoints and at the end. */
  private refreshDataMap(repost: boolean): void {
    if (this.runDir !== this.dataMapDir) {
      this.dataMapDir = this.runDir;
      this.dataMap.reset();
    }
    const finished = FINAL_STATUSES.has(this.state().status);
    void this.dataMap.refresh(finished, repost).catch((err: unknown) => this.log.warn(`data map: ${(err as Error).message}`));
  }

  private readonly postToPanel: (message: HostMessage) => Thenable<boolean>;

  private post(message: HostMessage): Thenable<boolean> {
    return this.postToPanel(message);
  }

  private async onMessage(raw: unknown): Promise<void> {
    const message = parseDashboardMessage(raw);
    if (!message) {
      this.log.warn(`dashboard: ignored an invalid message from the webview: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.feed.invalidate();
        this.flush();
        this.refreshDataMap(true);
        this.refreshWinrate();
        break;
      case 'mapHover':
        await this.dataMap.hover(message.point);
        break;
      case 'mapOpen':
        await this.dataMap.open(message.points);
        break;
      case 'mapOpenBox':
        await this.dataMap.openBox(message.box);
        break;
      case 'stop':
        if (this.source.kind === 'live') await this.actions.stop(this.source.run);
        else await vscode.commands.executeCommand('rpo.stopTraining', this.source.runDir);
        break;
      case 'resume': {
        const dir = this.runDir;
        if (dir) await this.actions.resume(dir);
        break;
      }
      case 'sample':
        if (this.runDir) await vscode.commands.executeCommand('rpo.run.sample', this.runDir);
        break;
      case 'openFolder':
        if (this.runDir) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(this.runDir));
        break;
      case 'pickOverlay':
        await this.pickOverlay();
        break;
      case 'clearOverlay':
        await this.post({ type: 'overlay', overlay: null });
        break;
      default: {
        const never: never = message;
        void never;
      }
    }
  }

  /** Overlay another run (e.g. DPO under RPO): read from its folder, or the live state. */
  async pickOverlay(runDir?: string): Promise<void> {
    let dir = runDir;
    if (!dir) {
      const others = this.actions.runsDirs().flatMap((d) => listRuns(d)).filter((r) => path.resolve(r.runDir) !== path.resolve(this.runDir ?? ''));
      if (!others.length) {
        void vscode.window.showInformationMessage('There is no other run in this workspace to compare with.');
        return;
      }
      const pick = await vscode.window.showQuickPick(
        others.map((r) => ({ label: r.name, description: [r.method, r.status, `${r.step}/${r.totalSteps} steps`].filter(Boolean).join(' · '), runDir: r.runDir })),
        { title: 'Compare with Run', placeHolder: 'Run to draw on the same charts (dashed)' },
      );
      if (!pick) return;
      dir = pick.runDir;
    }
    const live = this.manager.byRunDir(dir);
    const state = live?.state ?? loadRun(dir).state;
    const method = typeof state.start?.config.method === 'string' ? state.start.config.method : null;
    await this.post({ type: 'overlay', overlay: { name: path.basename(dir), method, series: { steps: sliceColumns(state.steps, 0), evals: sliceColumns(state.evals, 0) } } });
  }

  dispose(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.stopWatchingFolder();
    this.winrate?.dispose();
    this.liveSubscription?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.onDispose(this);
  }
}

export class Dashboards implements vscode.Disposable {
  private readonly panels = new Set<DashboardPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly manager: RunManager,
    private readonly actions: DashboardActions,
    private readonly log: Logger,
  ) {}

  /** Opens (or reveals) the dashboard of a live run or of a run folder. */
  open(target: LiveRun | string, preserveFocus = false): DashboardPanel {
    const live = typeof target === 'string' ? this.manager.byRunDir(target) : target;
    const runDir = typeof target === 'string' ? target : target.runDir;
    const existing = [...this.panels].find(
      (p) => (runDir && p.runDir && path.resolve(p.runDir) === path.resolve(runDir)) || (live && p.key === (live.runDir ?? live.id)),
    );
    if (existing) {
      if (live) existing.follow(live);
      existing.panel.reveal(undefined, preserveFocus);
      return existing;
    }
    let source: Source;
    if (live) source = { kind: 'live', run: live };
    else {
      const loaded = loadRun(runDir!);
      source = { kind: 'folder', runDir: runDir!, state: loaded.state, live: loaded.live };
    }
    const title = `Run: ${path.basename(runDir ?? (live ? live.label : 'run'))}`;
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, title, { viewColumn: vscode.ViewColumn.Active, preserveFocus }, {
      ...webviewOptions(this.extensionUri),
      retainContextWhenHidden: true,
    });
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'activity.svg');
    panel.webview.html = webviewHtml(panel.webview, this.extensionUri, { view: 'dashboard', title, css: true });
    const dashboard = new DashboardPanel(panel, source, this.manager, this.actions, this.log, (p) => this.panels.delete(p));
    this.panels.add(dashboard);
    return dashboard;
  }

  /**
   * A panel VS Code brings back after a window reload (webview state `{ runDir }`): it follows
   * the re-attached live run of that folder, or shows the folder's events.
   */
  restore(panel: vscode.WebviewPanel, runDir: string | undefined): void {
    if (!runDir) {
      panel.dispose();
      return;
    }
    panel.webview.options = webviewOptions(this.extensionUri);
    const live = this.manager.byRunDir(runDir);
    let source: Source;
    if (live) source = { kind: 'live', run: live };
    else {
      const loaded = loadRun(runDir);
      source = { kind: 'folder', runDir, state: loaded.state, live: loaded.live };
    }
    panel.webview.html = webviewHtml(panel.webview, this.extensionUri, { view: 'dashboard', title: panel.title, css: true });
    this.panels.add(new DashboardPanel(panel, source, this.manager, this.actions, this.log, (p) => this.panels.delete(p)));
  }

  /** A run was resumed: panels showing its folder follow the new launch. */
  followResumed(run: LiveRun, runDir: string): void {
    for (const p of this.panels) if (p.runDir && path.resolve(p.runDir) === path.resolve(runDir)) p.follow(run);
  }

  all(): DashboardPanel[] {
    return [...this.panels];
  }

  dispose(): void {
    for (const p of [...this.panels]) p.panel.dispose();
  }
}

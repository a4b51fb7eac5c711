import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import { runWinrates } from '../node/winrate';
import type { HostMessage } from '../protocol/dashboard';

/**
 * The dashboard's win-rate panel on the host side: computes the rows for the run folder
 * (src/node/winrate.ts) and again whenever a file in the samples/ folder of this run or of a run
 * next to it changes (a label saved, a generation appending), at most every DEBOUNCE_MS.
 */
export class WinrateHost implements vscode.Disposable {
  private static readonly DEBOUNCE_MS = 500;
  private runDir: string | null = null;
  get dir(): string | null {
    return this.runDir;
  }
  private watcher: vscode.FileSystemWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;

  constructor(
    private readonly post: (m: HostMessage) => Thenable<boolean>,
    private readonly log: Logger,
  ) {}

  /** Shows the run folder's rows now, and follows its samples folder. */
  follow(runDir: string | null): void {
    if (runDir !== this.runDir) {
      this.watcher?.dispose();
      this.watcher = undefined;
      this.runDir = runDir;
      if (runDir) {
        this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(runDir)), '*/samples/*.pref.jsonl*'));
        const later = () => this.schedule();
        this.watcher.onDidChange(later);
        this.watcher.onDidCreate(later);
        this.watcher.onDidDelete(later);
      }
    }
    void this.refresh();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), WinrateHost.DEBOUNCE_MS);
  }

  private async refresh(): Promise<void> {
    const dir = this.runDir;
    const generation = ++this.generation;
    if (!dir) return;
    try {
      const rows = await runWinrates(dir);
      if (generation === this.generation) await this.post({ type: 'winrate', rows });
    } catch (err) {
      this.log.warn(`win rate: ${(err as Error).message}`);
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.watcher?.dispose();
  }
}

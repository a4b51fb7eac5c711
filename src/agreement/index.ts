import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import { agreementJobInWorker } from '../node/agreementJob';
import { type AgreementResult, type AgreementState, type HostMessage, parseViewMessage } from '../protocol/agreement';
import type { Feature } from '../services';
import { pickPreferenceFile } from '../preview/pickFile';
import { webviewHtml, webviewOptions, webviewPoster } from '../webviewHtml';

/**
 * Feature "agreement": RPO: Show Annotator Agreement. A webview panel per preference file with the
 * agreement of its votes (docs/agreement.md): computed off the extension host's thread (one
 * worker that runs src/node/agreementFile.ts's threads), with a cancellable progress
 * notification; recomputed by its Refresh button and when the file changes on disk (a save,
 * debounced).
 */

const VIEW_TYPE = 'rpo.agreement';
const SAVE_DEBOUNCE_MS = 750;

class AgreementPanel {
  private ready = false;
  private state: AgreementState;
  private lastResult: AgreementResult | null = null;
  private running: AbortController | undefined;
  private debounce: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(readonly panel: vscode.WebviewPanel, readonly file: vscode.Uri, private readonly context: vscode.ExtensionContext, private readonly log: Logger, onDispose: () => void) {
    this.postToPanel = webviewPoster<HostMessage>(panel);
    const fileName = path.basename(file.fsPath);
    this.state = { status: 'computing', fileName, message: 'Computing…', previous: null };
    panel.webview.options = webviewOptions(context.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, context.extensionUri, { view: 'agreement', title: `Annotator agreement: ${fileName}`, css: true });
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(file.fsPath)), path.basename(file.fsPath)), true, false, true);
    this.disposables.push(
      watcher,
      watcher.onDidChange(() => this.scheduleRecompute()),
      panel.webview.onDidReceiveMessage((m) => this.onMessage(m)),
      panel.onDidDispose(() => {
        this.running?.abort();
        clearTimeout(this.debounce);
        for (const d of this.disposables) d.dispose();
        onDispose();
      }),
    );
  }

  private readonly postToPanel: (m: HostMessage) => Thenable<boolean>;

  private post(m: HostMessage): void {
    if (this.ready) void this.postToPanel(m);
  }

  private setState(state: AgreementState): void {
    this.state = state;
    this.post({ type: 'state', state });
  }

  /** The file was written (a save in any editor, git): recompute once it has been quiet a moment. */
  private scheduleRecompute(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.compute({ notify: false }), SAVE_DEBOUNCE_MS);
  }

  /** Computes the agreement; a newer request cancels an older one still running. */
  async compute({ notify }: { notify: boolean }): Promise<void> {
    this.running?.abort();
    const abort = new AbortController();
    this.running = abort;
    const fileName = path.basename(this.file.fsPath);
    this.setState({ status: 'computing', fileName, message: `Computing the agreement of ${fileName}…`, previous: this.lastResult });
    const jobWorker = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'workers', 'agreementJob.js').fsPath;
    const agreementWorker = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'workers', 'agreement.js').fsPath;
    const t0 = Date.now();
    try {
      const result = await vscode.window.withProgress(
        { location: notify ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window, title: `RPO: agreement of ${fileName}`, cancellable: notify },
        (_progress, cancel) => {
          cancel.onCancellationRequested(() => abort.abort());
          return agreementJobInWorker(jobWorker, { path: this.file.fsPath, agreementWorker }, abort.signal);
        },
      );
      const seconds = (Date.now() - t0) / 1000;
      this.lastResult = { ...result, seconds, computedAt: new Date().toISOString() };
      this.log.info(`agreement of ${this.file.fsPath}: ${result.report.items} items, ${result.report.annotators} annotators, ${result.invalidLines} invalid lines, ${seconds.toFixed(2)} s`);
      if (this.running === abort) this.setState({ status: 'ready', fileName, result: this.lastResult });
    } catch (err) {
      if (this.running !== abort) return; // replaced by a newer computation
      if (err instanceof Error && err.name === 'AbortError') {
        this.setState({ status: 'error', fileName, message: 'Cancelled. Refresh to compute the agreement again.', previous: this.lastResult });
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      this.log.error(`agreement of ${this.file.fsPath}: ${message}`);
      this.setState({ status: 'error', fileName, message: `Could not compute the agreement of ${fileName}: ${message}`, previous: this.lastResult });
    } finally {
      if (this.running === abort) this.running = undefined;
    }
  }

  private onMessage(raw: unknown): void {
    const m = parseViewMessage(raw);
    if (typeof m === 'string') {
      this.log.warn(`ignored a message from the agreement panel: ${m}`);
      return;
    }
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.post({ type: 'state', state: this.state });
        break;
      case 'refresh':
        void this.compute({ notify: true });
        break;
      default: {
        const never: never = m;
        void never;
      }
    }
  }
}

/** The file a command was run on: the explorer's or editor title's resource, else the active preference editor's, else ask. */
async function targetFile(arg: unknown): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) return arg;
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if ((input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText) && input.uri.scheme === 'file' && input.uri.fsPath.endsWith('.jsonl')) return input.uri;
  return pickPreferenceFile({ title: 'RPO Annotator Agreement', placeHolder: 'Agreement of which preference file?', openLabel: 'Show Agreement' });
}

export const agreementFeature: Feature = {
  id: 'agreement',
  register({ context, log }) {
    const panels = new Map<string, AgreementPanel>();
    const show = async (arg: unknown) => {
      const file = await targetFile(arg);
      if (!file) return;
      if (file.scheme !== 'file') {
        void vscode.window.showErrorMessage(`RPO: the agreement view reads files on disk; ${file.toString()} is not one.`);
        return;
      }
      const key = file.toString();
      let p = panels.get(key);
      if (p) {
        p.panel.reveal(undefined, false);
      } else {
        const wp = vscode.window.createWebviewPanel(VIEW_TYPE, `Agreement: ${path.basename(file.fsPath)}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, { ...webviewOptions(context.extensionUri), retainContextWhenHidden: true });
        p = new AgreementPanel(wp, file, context, log, () => panels.delete(key));
        panels.set(key, p);
      }
      await p.compute({ notify: true });
    };
    return [
      vscode.commands.registerCommand('rpo.agreement.show', (arg: unknown) => show(arg)),
      { dispose: () => { for (const p of [...panels.values()]) p.panel.dispose(); } },
    ];
  },
};

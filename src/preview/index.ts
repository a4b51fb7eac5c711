import * as path from 'node:path';
import * as vscode from 'vscode';
import { type ContrastSettings, DEFAULT_SETTINGS } from '../core/contrast/preview';
import type { Logger } from '../core/log';
import { RunConfigError, parseRunConfig, resolveConfigPath } from '../core/run/config';
import { EmbeddingCache, cacheFileName, workspaceCacheDir } from '../embeddings/cache';
import { readDatasetPrompts } from '../embeddings/datasetPrompts';
import { embedPrompts } from '../embeddings/embedPrompts';
import { Embedder } from '../embeddings/embedder';
import { HubUnreachableError } from '../embeddings/hub';
import { DEFAULT_MAX_TOKENS, ModelError, checkModelFolder, resolveModel } from '../embeddings/modelSource';
import { textKey } from '../core/contrast/nodePromptKey';
import type { Feature } from '../services';
import { currentLabelingSelection, onDidChangeLabelingSelection, revealInLabelingEditor } from '../labeling/selection';
import { type HostMessage, type PreviewState, parseViewMessage } from '../protocol/preview';
import { SETTING, embeddingsModel, embeddingsPrecision, previewTopK, updateUserSetting } from '../settings';
import { webviewHtml, webviewOptions, webviewPoster } from '../webviewHtml';
import { labelingEditorActive, openInLabelingEditor, pickPreferenceFile } from './pickFile';
import { PreviewSession, previewSettingsOf } from './session';

/**
 * Feature "preview": RPO: Show Contrast Preview. A webview beside the labeling editor that
 * follows its selected record: the record's nearest prompts, one minibatch formed exactly as
 * the trainer forms it (heatmap), effective beta, off-diagonal mass and the nearest-neighbour
 * histogram. Embedding runs a model, so it needs workspace trust; untrusted, the preview uses
 * what the cache already has.
 */

const VIEW_TYPE = 'rpo.contrastPreview';

/** The preview's settings (src/settings.ts). */
function viewSettings() {
  return { model: embeddingsModel(), precision: embeddingsPrecision(), topK: previewTopK() };
}

class PreviewPanel {
  private session: PreviewSession | undefined;
  private file: vscode.Uri | undefined;
  private line = 0;
  private batchIndex = 0;
  private ready = false;
  private loadToken = 0;
  private embedding: AbortController | undefined;
  private state: PreviewState = emptyState();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(readonly panel: vscode.WebviewPanel, private readonly context: vscode.ExtensionContext, private readonly log: Logger, onDispose: () => void) {
    this.postToPanel = webviewPoster<HostMessage>(panel);
    panel.webview.options = webviewOptions(context.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, context.extensionUri, { view: 'preview', title: 'RPO Contrast Preview', css: true });
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m) => this.onMessage(m).catch((err) => this.log.error(err instanceof Error ? err : String(err)))),
      onDidChangeLabelingSelection((s) => this.follow(s.uri, s.line)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.file && void this.load(this.file)),
      panel.onDidDispose(() => {
        this.embedding?.abort();
        for (const d of this.disposables) d.dispose();
        onDispose();
      }),
    );
  }

  follow(uri: vscode.Uri, line: number): void {
    if (!this.file || this.file.toString() !== uri.toString()) {
      this.file = uri;
      this.line = line;
      void this.load(uri);
      return;
    }
    this.line = line;
    if (this.session) this.post({ type: 'neighbours', neighbours: this.session.neighbours(line, viewSettings().topK) });
  }

  private readonly postToPanel: (m: HostMessage) => Thenable<boolean>;

  private post(m: HostMessage): void {
    if (this.ready) void this.postToPanel(m);
  }

  private setState(patch: Partial<PreviewState>): void {
    this.state = { ...this.state, ...patch };
    this.post({ type: 'state', state: this.state });
  }

  async load(uri: vscode.Uri): Promise<void> {
    const token = ++this.loadToken;
    const fileName = path.basename(uri.fsPath);
    this.session = undefined;
    this.setState({ ...emptyState(), status: 'loading', message: `Reading ${fileName}…`, fileName });
    try {
      const data = await readDatasetPrompts(uri.fsPath);
      const { settings, source, notes } = await runConfigSettings(uri);
      const cfg = viewSettings();
      const root = vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath ?? path.dirname(uri.fsPath);
      const model = resolveModel(cfg.model, vscode.Uri.joinPath(this.context.globalStorageUri, 'models').fsPath, root);
      const cacheFile = cacheFileName(workspaceCacheDir(root), model.name, cfg.precision);
      const identity = { model: model.name, precision: cfg.precision, maxTokens: DEFAULT_MAX_TOKENS };
      const texts = data.prompts.map((p) => p.text);
      let vectors: Float32Array;
      let dim: number;
      if (!vscode.workspace.isTrusted) {
        // Untrusted: no model runs. Use the cache if it already covers every prompt.
        const { cache } = await EmbeddingCache.load(cacheFile, identity);
        const rows = texts.map((t) => cache.row(textKey(t)));
        const missing = rows.filter((r) => r < 0).length;
        if (token !== this.loadToken) return;
        if (missing || !cache.size) {
          this.setState({ status: 'untrusted', message: `${missing} of ${texts.length} prompts have no embedding in ${path.relative(root, cacheFile)}. Embedding runs a model: trust this workspace to compute them.`, fileName });
          return;
        }
        dim = cache.dim;
        vectors = new Float32Array(rows.length * dim);
        rows.forEach((r, i) => vectors.set(cache.vector(r), i * dim));
      } else {
        if (token !== this.loadToken) return;
        this.setState({ status: 'embedding', message: `Embedding prompts with ${model.name} (${cfg.precision})…`, fileName });
        const result = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `RPO: embedding the prompts of ${fileName}`, cancellable: true },
          async (progress, cancel) => {
            const abort = new AbortController();
            this.embedding?.abort(); // a newer file replaces an embed still running for an older one
            this.embedding = abort;
            cancel.onCancellationRequested(() => abort.abort());
            let last = 0;
            return embedPrompts({
              texts, cacheFile, identity, signal: abort.signal, log: this.log,
              startEmbedder: (signal) => {
                progress.report({ message: `loading ${model.name}` });
                return Embedder.start({
                  model, precision: cfg.precision, maxTokens: DEFAULT_MAX_TOKENS, localModelHint: `the setting \`${SETTING.embeddingsModel}\``,
                  onDownload: (f, loaded, total) => progress.report({ message: `downloading ${f} (${(loaded / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB)` }),
                }, signal);
              },
              onProgress: (done, total) => {
                const pct = total ? (100 * done) / total : 100;
                progress.report({ increment: pct - last, message: `${done} of ${total} prompts` });
                last = pct;
              },
            });
          },
        );
        if (result.cacheWarning) void vscode.window.showWarningMessage(`RPO: ${result.cacheWarning}`);
        if (result.truncated.length) this.log.info(`${result.truncated.length} prompts of ${fileName} were longer than ${result.maxTokens} tokens and were cut`);
        if (result.cancelled) {
          if (token === this.loadToken) this.setState({ status: 'error', message: `Embedding cancelled (${result.embedded} new prompts saved to the cache). Embed again to continue.`, fileName });
          return;
        }
        vectors = result.vectors;
        dim = result.dim;
      }
      if (token !== this.loadToken) return;
      this.session = new PreviewSession(data, vectors, dim, settings, notes);
      this.batchIndex = 0;
      this.pushAll(source, fileName);
    } catch (err) {
      if (token !== this.loadToken) return;
      const message = err instanceof Error ? err.message : String(err);
      this.log.error(`contrast preview of ${uri.fsPath}: ${message}`);
      this.setState({ status: 'error', message, fileName });
      if (err instanceof HubUnreachableError) void this.offerLocalModel(err.message);
    }
  }

  hasFile(): boolean {
    return !!this.file;
  }

  /** The model cannot be downloaded: a button that sets `rpo.embeddings.model` to a local folder (user settings, or the remote machine's), then embeds again. */
  private async offerLocalModel(message: string): Promise<void> {
    const choose = 'Choose Folder…';
    if ((await vscode.window.showErrorMessage(`RPO: ${message}`, choose)) !== choose) return;
    const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Use This Model Folder', title: 'Folder with the embedding model (config.json, tokenizer.json, tokenizer_config.json, onnx/)' });
    const dir = picked?.[0]?.fsPath;
    if (!dir) return;
    try {
      checkModelFolder(dir, viewSettings().precision);
    } catch (err) {
      if (err instanceof ModelError) return this.offerLocalModel(err.message);
      throw err;
    }
    await updateUserSetting(SETTING.embeddingsModel, dir);
    this.log.info(`${SETTING.embeddingsModel} set to ${dir} (user settings; on a remote machine, its settings)`);
    if (this.file) await this.load(this.file);
  }

  private pushAll(settingsSource: string, fileName: string): void {
    const s = this.session;
    if (!s) return;
    const batch = s.batch(this.batchIndex);
    this.setState({
      status: 'ready', message: '', fileName, settings: s.view(), settingsSource, usable: s.usable, train: s.trainCount,
      warnings: s.warnings(batch), batch, histogram: s.histogram, neighbours: s.neighbours(this.line, viewSettings().topK),
    });
  }

  private pushBatch(): void {
    const s = this.session;
    if (!s) return;
    const batch = s.batch(this.batchIndex);
    this.state = { ...this.state, batch, settings: s.view(), warnings: s.warnings(batch), train: s.trainCount };
    this.post({ type: 'batch', batch, settings: s.view(), warnings: s.warnings(batch) });
  }

  private async onMessage(raw: unknown): Promise<void> {
    const m = parseViewMessage(raw);
    if (typeof m === 'string') {
      this.log.warn(`ignored a message from the contrast preview: ${m}`);
      return;
    }
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.post({ type: 'state', state: this.state });
        break;
      case 'settings':
        if (!this.session) return;
        this.session.update(m.settings);
        this.batchIndex = Math.min(this.batchIndex, Math.max(0, this.session.batchCount() - 1));
        this.pushBatch();
        break;
      case 'resample': {
        if (!this.session) return;
        const n = this.session.batchCount();
        if (n > 1) {
          let k = this.batchIndex;
          while (k === this.batchIndex) k = Math.floor(Math.random() * n);
          this.batchIndex = k;
        }
        this.pushBatch();
        break;
      }
      case 'reveal':
        if (this.file) await revealInLabelingEditor(this.file, m.line);
        break;
      case 'embed':
        if (this.file) await this.load(this.file);
        break;
      default: {
        const never: never = m;
        void never;
      }
    }
  }
}

function emptyState(): PreviewState {
  const { mode, tau, beta, batchSize, numProcesses, globalContrast, similarityBatching, seed, epoch } = DEFAULT_SETTINGS;
  return {
    status: 'idle', message: 'Select a record in the RPO Preference Editor.', fileName: '',
    settings: { mode, tau, beta, batchSize, numProcesses, globalContrast, similarityBatching, seed, epoch },
    settingsSource: 'defaults', usable: 0, train: 0, warnings: [], batch: null, histogram: null, neighbours: null,
  };
}

/**
 * Settings from the first workspace run config (`*.rpo.json`) whose dataset is this file, within
 * the ranges of the preview's controls (previewSettingsOf: notes say what was clamped).
 */
async function runConfigSettings(uri: vscode.Uri): Promise<{ settings: ContrastSettings; source: string; notes: string[] }> {
  const configs = await vscode.workspace.findFiles('**/*.rpo.json', '**/node_modules/**', 50);
  let invalid: string | undefined;
  for (const c of configs) {
    let text: string;
    try {
      text = Buffer.from(await vscode.workspace.fs.readFile(c)).toString('utf8');
    } catch {
      continue; // gone since findFiles
    }
    const usesThisFile = (dataset: unknown) => typeof dataset === 'string' && resolveConfigPath(dataset, path.dirname(c.fsPath)) === uri.fsPath;
    try {
      const config = parseRunConfig(text, vscode.workspace.asRelativePath(c));
      if (!usesThisFile(config.dataset)) continue;
      return { source: `run config ${vscode.workspace.asRelativePath(c)}`, ...previewSettingsOf(config) };
    } catch (err) {
      if (!(err instanceof RunConfigError)) throw err;
      // Invalid configs are marked in the editor (the schema); say so only when it names this file.
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        raw = undefined;
      }
      if (!invalid && usesThisFile((raw as { dataset?: unknown } | undefined)?.dataset)) invalid = err.message;
    }
  }
  return { settings: { ...DEFAULT_SETTINGS }, source: invalid ? `defaults (not valid: ${invalid})` : 'defaults (no run config uses this file)', notes: [] };
}

export const previewFeature: Feature = {
  id: 'preview',
  register({ context, log }) {
    let panel: PreviewPanel | undefined;
    const reveal = (): PreviewPanel => {
      if (panel) {
        panel.panel.reveal(vscode.ViewColumn.Beside, true);
        return panel;
      }
      const wp = vscode.window.createWebviewPanel(VIEW_TYPE, 'RPO Contrast Preview', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { ...webviewOptions(context.extensionUri), retainContextWhenHidden: true });
      return (panel = new PreviewPanel(wp, context, log, () => { panel = undefined; }));
    };
    const show = async () => {
      // No preference editor to follow: ask which file (open ones first) rather than show an empty panel.
      if (!labelingEditorActive() && !panel?.hasFile()) {
        const uri = await pickPreferenceFile();
        if (!uri) return;
        await openInLabelingEditor(uri);
        const sel = currentLabelingSelection();
        reveal().follow(uri, sel && sel.uri.toString() === uri.toString() ? sel.line : 0);
        return;
      }
      const p = reveal();
      const sel = currentLabelingSelection();
      if (sel) p.follow(sel.uri, sel.line);
      else void vscode.window.showInformationMessage('RPO: open a preference file in the RPO Preference Editor; the preview follows its selected record.');
    };
    return [
      vscode.commands.registerCommand('rpo.showContrastPreview', show),
    ];
  },
};

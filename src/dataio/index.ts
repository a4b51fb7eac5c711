import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import type { Feature } from '../services';
import { describeType, type Column } from '../core/dataset/columns';
import { type FieldMap, TARGETS, type Target, formatMap, mappingShape, parseMapSpec } from '../core/dataset/fieldMap';
import type { LabelState } from '../core/dataset/formats';
import type { ImportReport } from '../node/importTables';
import type { ExportReport } from '../node/exportParquet';

// The table readers and the Parquet writer (hyparquet, apache-arrow: about half of the host
// bundle) are evaluated when a command first needs them, not at activation.
const importIo = () => import('../node/importTables.js');
const exportIo = () => import('../node/exportParquet.js');

/**
 * "RPO: Import Dataset…" and "RPO: Export Dataset as Parquet…": the VS Code faces of `rpo import`
 * and `rpo export` (src/node/importTables.ts, exportParquet.ts). Import: files, then the
 * proposed mapping in a quick pick (each target can be changed; "Preview" opens the first
 * records as they will be written), then the output file, then the import with progress and
 * cancel. Arguments (for tests and other commands) skip the dialogs:
 * `rpo.importDataset(inputs: Uri | Uri[], output?: Uri, map?: string)`,
 * `rpo.exportDatasetParquet(input: Uri, output?: Uri, states?: string[])`.
 */
const PREFERENCE_EDITOR = 'rpo.labelingEditor';
/** Read-only preview documents (no untitled file to save or discard). */
const PREVIEW_SCHEME = 'rpo-import-preview';
const previews = new Map<string, string>();
let previewCount = 0;
const TABLE_EXTENSIONS = ['parquet', 'arrow', 'json', 'jsonl'];

export const dataioFeature: Feature = {
  id: 'dataio',
  register({ log }) {
    return [
      vscode.workspace.registerTextDocumentContentProvider(PREVIEW_SCHEME, { provideTextDocumentContent: (uri) => previews.get(uri.toString()) ?? '' }),
      vscode.workspace.onDidCloseTextDocument((doc) => previews.delete(doc.uri.toString())),
      vscode.commands.registerCommand('rpo.importDataset', (inputs?: unknown, output?: unknown, map?: unknown) => importDataset(log, inputs, output, map)),
      vscode.commands.registerCommand('rpo.exportDatasetParquet', (input?: unknown, output?: unknown, states?: unknown) => exportDataset(log, input, output, states)),
    ];
  },
};

function uris(arg: unknown, all?: unknown): vscode.Uri[] | undefined {
  // Explorer context menus pass (clicked, selection).
  if (Array.isArray(all) && all.every((u) => u instanceof vscode.Uri) && all.length) return all as vscode.Uri[];
  if (arg instanceof vscode.Uri) return [arg];
  if (Array.isArray(arg) && arg.length && arg.every((u) => u instanceof vscode.Uri)) return arg as vscode.Uri[];
  return undefined;
}

async function importDataset(log: Logger, inputsArg?: unknown, outputArg?: unknown, mapArg?: unknown): Promise<ImportReport | undefined> {
  const fromArgs = uris(inputsArg, Array.isArray(outputArg) ? outputArg : undefined);
  const output0 = outputArg instanceof vscode.Uri ? outputArg : undefined;
  const inputs = fromArgs ?? (await vscode.window.showOpenDialog({
    title: 'Preference data to import (Parquet, Arrow, JSON, JSON Lines; several shards allowed)',
    canSelectMany: true,
    filters: { 'Tables': TABLE_EXTENSIONS },
    openLabel: 'Import',
  }));
  if (!inputs?.length) return undefined;
  const first = inputs[0]!.fsPath;
  let info;
  try {
    info = await (await importIo()).inspectTable(first);
  } catch (err) {
    return failed(log, err);
  }
  let map: FieldMap = info.proposal.map;
  if (typeof mapArg === 'string') {
    try {
      map = parseMapSpec(mapArg, map);
    } catch (err) {
      return failed(log, err);
    }
  } else {
    const confirmed = await confirmMapping(first, info.columns, map, info.proposal.recognised, info.proposal.notes, inputs.length, info.rowCount);
    if (!confirmed) return undefined;
    map = confirmed;
  }
  const base = first.replace(/(-\d{5}-of-\d{5})?\.(parquet|arrow|json|jsonl)$/i, '').replace(/\.pref$/, '');
  const output = output0 ?? (await vscode.window.showSaveDialog({
    title: 'Write the preference records to',
    defaultUri: vscode.Uri.file(`${base}.pref.jsonl`),
    filters: { 'Preference data': ['jsonl'] },
  }));
  if (!output) return undefined;
  let report: ImportReport;
  try {
    report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `RPO: importing ${path.basename(first)}${inputs.length > 1 ? ` and ${inputs.length - 1} more` : ''}`, cancellable: true },
      (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        let shown = 0;
        return importIo().then((io) => io.importTables(inputs.map((u) => u.fsPath), output.fsPath, {
          map,
          signal: controller.signal,
          onProgress: (p) => {
            const overall = (p.fileIndex + (p.fraction ?? 0)) / p.files;
            progress.report({ message: `${p.rows.toLocaleString()} rows${p.files > 1 ? ` (file ${p.fileIndex + 1} of ${p.files})` : ''}`, increment: Math.max(0, overall * 100 - shown) });
            shown = Math.max(shown, overall * 100);
          },
        }));
      },
    );
  } catch (err) {
    return failed(log, err);
  }
  log.info(`import ${inputs.map((u) => u.fsPath).join(', ')} -> ${output.fsPath} (${formatMap(report.map)}): ${report.written}/${report.rows} rows written, ${report.problemCount} not`);
  for (const p of report.problems.slice(0, 100)) log.warn(`import ${p.file}: row ${p.row}${p.column ? `, column "${p.column}"` : ''}: ${p.reason}`);
  const text = `Imported ${report.written.toLocaleString()} of ${report.rows.toLocaleString()} rows${report.kept.length ? ` (extra fields kept: ${report.kept.join(', ')})` : ''}.${report.problemCount ? ` ${report.problemCount.toLocaleString()} rows were not written: see the log.` : ''}`;
  const open = 'Open';
  void (report.problemCount ? vscode.window.showWarningMessage : vscode.window.showInformationMessage)(text, open).then((choice) => {
    if (choice === open) void vscode.commands.executeCommand('vscode.openWith', output, PREFERENCE_EDITOR);
  });
  return report;
}

async function failed(log: Logger, err: unknown): Promise<undefined> {
  const [{ ImportCancelled }, { ExportCancelled }] = await Promise.all([importIo(), exportIo()]);
  if (err instanceof ImportCancelled || err instanceof ExportCancelled) {
    log.info(err.message);
    void vscode.window.showInformationMessage(`RPO: ${err.message}.`);
    return undefined;
  }
  if (err instanceof Error) {
    log.error(err.message);
    void vscode.window.showErrorMessage(`RPO: ${err.message}`);
    return undefined;
  }
  throw err;
}

interface MapItem extends vscode.QuickPickItem {
  action: 'import' | 'preview' | 'text' | Target;
}

/** The mapping quick pick: change targets one by one, preview, then accept. */
async function confirmMapping(file: string, columns: Column[], proposed: FieldMap, recognised: string | null, notes: string[], files: number, rows: number | null): Promise<FieldMap | undefined> {
  let map = { ...proposed };
  for (;;) {
    const shape = mappingShape(map);
    const items: MapItem[] = [
      {
        action: 'import',
        label: '$(check) Import with this mapping',
        description: 'error' in shape ? shape.error : `${shape.shape} records${files > 1 ? ` from ${files} files` : ''}${rows != null ? `, ${rows.toLocaleString()} rows in the first` : ''}`,
      },
      { action: 'preview', label: '$(eye) Preview the first records', description: 'as they will be written' },
      { action: 'text', label: '$(edit) Edit as text…', description: formatMap(map) || 'nothing mapped' },
      { kind: vscode.QuickPickItemKind.Separator, label: 'Fields', action: 'prompt' },
      ...TARGETS.map((t): MapItem => ({ action: t, label: t, description: map[t] ? `← ${map[t]}` : 'not mapped', detail: map[t] ? describeType(columns.find((c) => c.name === map[t])?.type ?? { kind: 'json' }) : undefined })),
    ];
    const pick = await vscode.window.showQuickPick(items, {
      title: `Import ${path.basename(file)}: ${recognised ? `looks like ${recognised}` : 'map the columns'}`,
      placeHolder: notes.length ? notes.join(' · ') : 'Columns not mapped are kept as extra fields.',
      ignoreFocusOut: true,
    });
    if (!pick) return undefined;
    if (pick.action === 'import') {
      if ('error' in shape) {
        void vscode.window.showErrorMessage(`RPO: ${shape.error}.`);
        continue;
      }
      return map;
    }
    if (pick.action === 'preview') {
      await showPreview(file, map);
      continue;
    }
    if (pick.action === 'text') {
      const text = await vscode.window.showInputBox({
        title: 'Field mapping (TARGET=COLUMN, comma-separated; an empty COLUMN unmaps)',
        value: formatMap(map),
        prompt: `Targets: ${TARGETS.join(', ')}. Columns: ${columns.map((c) => c.name).join(', ')}`,
        validateInput: (v) => {
          try {
            parseMapSpec(v, {});
            return undefined;
          } catch (err) {
            return (err as Error).message;
          }
        },
      });
      if (text !== undefined) map = parseMapSpec(text, {});
      continue;
    }
    const target = pick.action;
    const none = '(not mapped)';
    const column = await vscode.window.showQuickPick(
      [{ label: none, description: '' }, ...columns.map((c) => ({ label: c.name, description: describeType(c.type), picked: map[target] === c.name }))],
      { title: `Column for ${target}`, placeHolder: map[target] ? `now: ${map[target]}` : 'not mapped', ignoreFocusOut: true },
    );
    if (!column) continue;
    if (column.label === none) delete map[target];
    else map = { ...map, [target]: column.label };
  }
}

async function showPreview(file: string, map: FieldMap): Promise<void> {
  let content: string;
  try {
    const preview = await (await importIo()).previewImport(file, map, { limit: 5 });
    const pretty = preview.lines.map((l) => JSON.stringify(JSON.parse(l), null, 2).replace(/^/gm, '  '));
    const problems = preview.problems.map((p) => `// row ${p.row}${p.column ? `, column "${p.column}"` : ''}: ${p.reason}`);
    content = [`// The first ${preview.lines.length} records of ${path.basename(file)} as they will be written (one line each in the file)`, ...problems, '[', pretty.join(',\n'), ']', ''].join('\n');
  } catch (err) {
    content = `// ${(err as Error).message}\n`;
  }
  // A new URI per preview: the content provider is asked once per document.
  const uri = vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: `/${path.basename(file)} (preview ${++previewCount}).jsonc` });
  previews.set(uri.toString(), content);
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside, preserveFocus: true });
}

async function exportDataset(log: Logger, inputArg?: unknown, outputArg?: unknown, statesArg?: unknown): Promise<ExportReport | undefined> {
  const activeTab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const active = activeTab instanceof vscode.TabInputCustom || activeTab instanceof vscode.TabInputText ? activeTab.uri : undefined;
  const input = inputArg instanceof vscode.Uri ? inputArg : (active && /\.jsonl$/i.test(active.fsPath) ? active : undefined) ?? (await vscode.window.showOpenDialog({
    title: 'Preference file to export as Parquet',
    canSelectMany: false,
    filters: { 'Preference data': ['jsonl'] },
    openLabel: 'Export',
  }))?.[0];
  if (!input) return undefined;
  let states: LabelState[];
  if (Array.isArray(statesArg)) {
    states = statesArg as LabelState[];
  } else {
    const described: Record<string, string> = {
      labeled: 'an annotator gave a preference',
      unreviewed: 'a preference from the data, not reviewed',
      'needs-label': 'candidates and completions nobody labeled',
      tie: 'marked a tie',
      skip: 'skipped',
      both_bad: 'both responses bad',
      excluded: 'excluded from training',
      disputed: 'annotators disagree (votes do not resolve)',
    };
    const { EXPORT_STATES, EXPORT_STATES_DEFAULT } = await exportIo();
    const picked = await vscode.window.showQuickPick(
      EXPORT_STATES.map((s) => ({ label: s, description: described[s], picked: EXPORT_STATES_DEFAULT.includes(s) })),
      { title: `Export ${path.basename(input.fsPath)}: which records`, canPickMany: true, ignoreFocusOut: true },
    );
    if (!picked?.length) return undefined;
    states = picked.map((p) => p.label as LabelState);
  }
  const output = outputArg instanceof vscode.Uri ? outputArg : await vscode.window.showSaveDialog({
    title: 'Write Parquet (TRL column layout) to',
    defaultUri: vscode.Uri.file(input.fsPath.replace(/(\.pref)?\.jsonl$/i, '') + '.parquet'),
    filters: { Parquet: ['parquet'] },
  });
  if (!output) return undefined;
  // The preference editor's document or a text editor: the tab knows whether it is dirty.
  const dirty = vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.isDirty && (t.input instanceof vscode.TabInputCustom || t.input instanceof vscode.TabInputText) && t.input.uri.toString() === input.toString());
  if (dirty) void vscode.window.showWarningMessage(`RPO: ${path.basename(input.fsPath)} has unsaved changes; the export reads the file on disk.`);
  let report: ExportReport;
  try {
    report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `RPO: exporting ${path.basename(input.fsPath)} to Parquet`, cancellable: true },
      (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        let shown = 0;
        return exportIo().then((io) => io.exportParquet(input.fsPath, output.fsPath, {
          states,
          signal: controller.signal,
          onProgress: (pass, fraction) => {
            const overall = ((pass - 1 + fraction) / 2) * 100;
            progress.report({ message: pass === 1 ? 'reading types' : 'writing', increment: Math.max(0, overall - shown) });
            shown = Math.max(shown, overall);
          },
        }));
      },
    );
  } catch (err) {
    return failed(log, err);
  }
  const left = Object.entries(report.leftOut).map(([s, n]) => `${s} ${n}`).join(', ');
  log.info(`export ${input.fsPath} -> ${output.fsPath}: ${report.written}/${report.records} records${left ? ` (left out: ${left})` : ''}; columns ${report.columns.map((c) => `${c.name} ${c.type}`).join(', ')}`);
  void vscode.window.showInformationMessage(`Exported ${report.written.toLocaleString()} of ${report.records.toLocaleString()} records to ${path.basename(output.fsPath)}${left ? ` (left out: ${left})` : ''}.`);
  return report;
}

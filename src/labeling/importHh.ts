import * as path from 'node:path';
import * as vscode from 'vscode';
import { importHhFile, SameFileError, type HhImportReport } from '../core/dataset/hh';
import type { Logger } from '../core/log';
import { VIEW_TYPE } from './provider';

/**
 * RPO: Import Anthropic HH Transcripts. Asks for the input (unless given, e.g. from the explorer)
 * and the output file, converts with progress, and reports. The output is never the input, by
 * any path (importHhFile compares device and inode: folder links, file links, hard links).
 * Resolves with the report, or undefined when nothing was written.
 */
export async function importHhCommand(log: Logger, inputArg?: unknown, outputArg?: unknown): Promise<HhImportReport | undefined> {
  const input = inputArg instanceof vscode.Uri ? inputArg : (await vscode.window.showOpenDialog({
    title: 'Anthropic HH transcripts to import',
    canSelectMany: false,
    filters: { 'JSON Lines': ['jsonl'] },
    openLabel: 'Import',
  }))?.[0];
  if (!input) return undefined;
  const suggested = input.fsPath.replace(/(\.pref)?\.jsonl$/, '') + '.pref.jsonl';
  const output = outputArg instanceof vscode.Uri ? outputArg : await vscode.window.showSaveDialog({
    title: 'Write explicit prompt/chosen/rejected records to',
    defaultUri: vscode.Uri.file(suggested === input.fsPath ? input.fsPath.replace(/\.jsonl$/, '.imported.pref.jsonl') : suggested),
    filters: { 'Preference data': ['jsonl'] },
  });
  if (!output) return undefined;
  let report: HhImportReport;
  try {
    report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `RPO: importing ${path.basename(input.fsPath)}…` },
      () => importHhFile(input.fsPath, output.fsPath),
    );
  } catch (err) {
    if (!(err instanceof SameFileError)) throw err;
    log.warn(`import-hh: ${err.message}`);
    void vscode.window.showErrorMessage(`RPO: not imported: ${err.message}.`);
    return undefined;
  }
  log.info(`import-hh ${input.fsPath} -> ${output.fsPath}: ${report.written}/${report.records} written, ${report.identical.length} identical pairs, ${report.problems.length} problems`);
  for (const p of report.problems.slice(0, 50)) log.warn(`import-hh ${input.fsPath}:${p.line}: ${p.reason}`);
  const parts = [`Imported ${report.written} of ${report.records} records.`];
  if (report.identical.length) parts.push(`${report.identical.length} have chosen equal to rejected (lines ${report.identical.slice(0, 10).join(', ')}${report.identical.length > 10 ? ', …' : ''}).`);
  if (report.problems.length) parts.push(`${report.problems.length} could not be converted (see the log).`);
  const open = 'Open';
  void (report.problems.length ? vscode.window.showWarningMessage : vscode.window.showInformationMessage)(parts.join(' '), open).then((choice) => {
    if (choice === open) void vscode.commands.executeCommand('vscode.openWith', output, VIEW_TYPE);
  });
  return report;
}

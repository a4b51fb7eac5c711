import { createReadStream, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DYNAMICS_FILE } from '../core/dynamics';
import type { Logger } from '../core/log';
import { readRunDynamics, readRunKeyOptions, type RunDynamics } from '../node/dynamics';
import type { KeyOptions } from './lineKeys';
import { runNotes, runProblem, samePath } from './runNotes';
import { listRuns, type RunSummary } from '../node/run/store';
import type { RunIdentity } from './runOverlay';
import type { LabelingDocument } from './document';

/**
 * The preference editor's side of a run's training dynamics (docs/contracts.md §8): which runs
 * trained on a file, reading a run's dynamics for a document (the model matches them by pair
 * key), and what the user should know about the match (another file, the file changed since the
 * run, an unfinished run, an older run without the file).
 */

/** Run folders of the workspace (as the runs view lists them). */
export function runsDirs(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).map((f) => path.join(f.uri.fsPath, '.rpo', 'runs'));
}

export interface RunChoice {
  summary: RunSummary;
  /** The run trained on this file (its config names it). */
  sameFile: boolean;
  hasDynamics: boolean;
}


/** Every run of the workspace, the ones that trained on `file` first (newest first within each). */
export function runsFor(file: string, dirs = runsDirs()): RunChoice[] {
  const all = dirs.flatMap((d) => listRuns(d)).map((summary) => ({
    summary,
    sameFile: !!summary.dataset && samePath(path.isAbsolute(summary.dataset) ? summary.dataset : path.resolve(summary.runDir, summary.dataset), file),
    hasDynamics: existsSync(path.join(summary.runDir, DYNAMICS_FILE)),
  }));
  return [...all.filter((r) => r.sameFile), ...all.filter((r) => !r.sameFile)];
}

/** The newest run that trained on `file` and has its dynamics, if any. */
export function latestRunFor(file: string, dirs = runsDirs()): RunChoice | undefined {
  return runsFor(file, dirs).find((r) => r.sameFile && r.hasDynamics);
}

/** Key options (mode, usable rules) of the newest run with dynamics on `file`, for its scan to key the lines (ModelOptions.scanKeys); undefined when none or unreadable. */
export function latestRunKeyOptions(file: string, dirs = runsDirs()): KeyOptions | undefined {
  try {
    const latest = latestRunFor(file, dirs);
    return latest ? readRunKeyOptions(latest.summary.runDir) : undefined;
  } catch {
    return undefined;
  }
}

/** SHA-256 (hex) of a file's bytes on disk, read in chunks (never blocks the host for long). */
export function fileSha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file, { highWaterMark: 1024 * 1024 })
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/**
 * Reads a run's dynamics and shows them on a document (replacing a run shown before); resolves
 * when its records are matched. Throws with `runProblem`'s message.
 */
export async function showRunOn(document: LabelingDocument, runDir: string, log: Logger): Promise<RunDynamics> {
  await document.whenWhole();
  let run: RunDynamics;
  try {
    run = readRunDynamics(runDir);
  } catch (err) {
    throw new Error(runProblem(runDir, err));
  }
  const file = document.uri.fsPath;
  // The file's SHA-256 (a read of the whole file) runs while the records are matched; the notes
  // assume the run's bytes until it is in.
  const shaNow = fileSha256(file).catch(() => '');
  const id: RunIdentity = { name: path.basename(runDir), runDir, notes: runNotes(run, file, run.dynamics.meta.datasetSha256), ...(run.mode === 'unpaired' ? { itemsPerRecord: true } : {}) };
  const t0 = performance.now();
  const model = document.model;
  const [, sha] = await Promise.all([model.attachRun(run.dynamics, id, { mode: run.mode, usable: run.usable }), shaNow]);
  const notes = runNotes(run, file, sha);
  if (notes.join('\n') !== id.notes.join('\n')) {
    id.notes.splice(0, id.notes.length, ...notes);
    model.runNotesChanged();
  }
  const c = model.counts.run;
  if (c) log.info(`run ${id.name} shown on ${file}: ${c.matched} of ${c.rows} rows matched by key${model.runKeyedInScan ? ' (keys from the scan)' : ''}, ${c.suspects} suspects, ${c.changed} labels changed since the run, in ${(performance.now() - t0).toFixed(0)} ms${id.notes.length ? ` (${id.notes.join(' ')})` : ''}`);
  return run;
}

/** "Pick Run…": a quick pick of the workspace's runs (this file's first); undefined when dismissed; null: show none. */
export async function pickRun(file: string): Promise<string | null | undefined> {
  const runs = runsFor(file);
  type Item = vscode.QuickPickItem & { runDir: string | null };
  const items: Item[] = runs.map((r) => ({
    label: r.summary.name,
    description: [r.summary.method, r.summary.status, r.sameFile ? 'trained on this file' : r.summary.dataset ? `trained on ${path.basename(r.summary.dataset)}` : null].filter(Boolean).join(' · '),
    detail: r.hasDynamics ? undefined : `no ${DYNAMICS_FILE} (an older run, or stopped before its first checkpoint)`,
    runDir: r.summary.runDir,
  }));
  items.push({ label: 'None', description: "hide the run's view of the records", runDir: null });
  const picked = await vscode.window.showQuickPick(items, { title: 'RPO: Show a Run\'s View of the Records', placeHolder: runs.length ? 'Run whose suspects and margins the editor shows' : 'No runs in this workspace (.rpo/runs)', matchOnDescription: true });
  return picked ? picked.runDir : undefined;
}

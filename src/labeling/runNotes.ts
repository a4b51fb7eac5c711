import * as path from 'node:path';
import { DYNAMICS_FILE, DynamicsError } from '../core/dynamics';
import { NoDynamicsError, type RunDynamics } from '../node/dynamics';

/**
 * The messages of the preference editor's run view (no vscode): what the user should know about
 * a run's match to the file open, and why a run cannot be shown.
 */

export const samePath = (a: string, b: string) => path.resolve(a) === path.resolve(b);

/**
 * What the user should know before trusting a run's figures for `file` (plain text): it read
 * another file, the file changed since, the run is not finished, its config could not be read.
 * Records are matched by content either way: these explain missing or unmatched records.
 */
export function runNotes(run: RunDynamics, file: string, sha256: string): string[] {
  const name = path.basename(run.runDir);
  const notes: string[] = [];
  const same = samePath(run.dataset, file);
  if (!same) notes.push(`Run ${name} trained on ${run.dataset}, not on this file: records are matched by their content.`);
  if (sha256 !== run.dynamics.meta.datasetSha256) {
    if (same) notes.push(`This file changed since run ${name} trained on it (its SHA-256 differs): records are matched by their content, so moved lines keep their figures and lines added since have none.`);
  }
  const m = run.dynamics.meta;
  if (!m.complete) notes.push(`Run ${name} has not finished (figures from step ${m.step}, its last checkpoint).`);
  if (run.configProblem) notes.push(`Run ${name}'s config could not be read (${run.configProblem}): the file is keyed with the default usable rules.`);
  if (run.mode === 'unpaired') notes.push(`Run ${name} is rpo-unpaired: a paired record is shown by its chosen item (the detail and the Suspect filter use that item's figures; the data map opens a record by either item, and rpo suspects ranks both).`);
  return notes;
}

/** Why a run's dynamics could not be shown, as one message for the user. */
export function runProblem(runDir: string, err: unknown): string {
  const name = path.basename(runDir);
  if (err instanceof NoDynamicsError) return `Run ${name} has no ${DYNAMICS_FILE}: it was trained before RPO Studio recorded per-pair training dynamics, or stopped before its first checkpoint. Train again to see suspect labels.`;
  if (err instanceof DynamicsError) return `Run ${name}: ${err.message}`;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return `Run folder ${runDir} does not exist.`;
  return `Run ${name}: ${err instanceof Error ? err.message : String(err)}`;
}


import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { selectBox } from '../core/dataMap';
import { type MapRows, hoverText, mapPayload, mapRows, recordsOf } from '../core/dataMap/host';
import { DYNAMICS_FILE, DynamicsError } from '../core/dynamics';
import type { Logger } from '../core/log';
import { NoDynamicsError, type RunDynamics, readRunDynamicsAsync } from '../node/dynamics';
import { LineOffsets } from '../node/lineOffsets';
import type { DataBox, HostMessage } from '../protocol/dashboard';

/** The preference editor's command that shows given records (its "Picked" filter). */
export const SHOW_RECORDS_COMMAND = 'rpo.label.showRecords';

/**
 * What the map hands the editor (the command's own argument shape, src/labeling/provider.ts):
 * the run folder and the rows of its dynamics file; the editor finds them by pair key.
 */
export interface ShowRecordsArgs {
  runDir: string;
  /** 0-based rows of the run's dynamics.safetensors, in the order to list them. */
  rows: number[];
}

/**
 * The data map of one dashboard: reads `<run_dir>/dynamics.safetensors` when it appears or
 * changes (the trainer rewrites it at each checkpoint and at the end), posts the visited training
 * rows as float32 columns, answers hovers with the prompt's first line (read lazily from the
 * dataset line of that point only), and opens clicked / boxed points in the preference editor.
 * Holds the parsed file (typed-array views of its bytes) and the point -> row map.
 */
export class DataMapHost {
  private run: RunDynamics | undefined;
  private rows: MapRows | undefined;
  private loadedMtime = '';
  private lastCheck = 0;
  private lastNote: string | null | undefined;
  private busy = false;
  /** A refresh asked for while one was running: run it after (the final file must not be missed). */
  private again: { finished: boolean; repost: boolean } | undefined;
  private offsets: Promise<LineOffsets> | undefined;
  private readonly prompts = new Map<number, { text: string | null; note: string | null }>();

  constructor(
    private readonly runDir: () => string | null,
    private readonly post: (m: HostMessage) => Thenable<boolean>,
    private readonly log: Logger,
  ) {}

  /** The run folder changed (a live run learnt its folder, or a resumed run): load again. */
  reset(): void {
    this.run = undefined;
    this.rows = undefined;
    this.loadedMtime = '';
    this.lastNote = undefined;
    this.offsets = undefined;
    this.prompts.clear();
  }

  /**
   * Checks the file at most every 2 s (at once when the run has finished, or with `repost`) and
   * posts the map when it changed; `repost` (the view was reloaded) posts it even when not.
   */
  async refresh(finished: boolean, repost = false): Promise<void> {
    const now = Date.now();
    const force = repost || finished;
    if (this.busy) {
      if (force) this.again = { finished, repost: this.again?.repost || repost };
      return;
    }
    if (!force && now - this.lastCheck < 2000) return;
    this.lastCheck = now;
    const dir = this.runDir();
    if (!dir) return;
    const file = path.join(dir, DYNAMICS_FILE);
    let mtime: string;
    try {
      const st = fs.statSync(file);
      mtime = `${st.mtimeMs}:${st.size}`;
    } catch {
      const note = finished
        ? `This run folder has no ${DYNAMICS_FILE}: the run was made by a trainer that did not record per-pair training dynamics, or it stopped before its first checkpoint.`
        : `The data map appears at the run's first checkpoint (the trainer writes ${DYNAMICS_FILE} at each checkpoint and at the end).`;
      if (repost || note !== this.lastNote) await this.postNote(note);
      return;
    }
    if (!repost && mtime === this.loadedMtime) return;
    if (repost && mtime === this.loadedMtime && this.run && this.rows) {
      await this.post({ type: 'dataMap', map: mapPayload(this.run.dynamics, this.rows), note: null });
      return;
    }
    this.busy = true;
    try {
      const t0 = performance.now();
      const run = await readRunDynamicsAsync(dir);
      const d = run.dynamics;
      this.run = run;
      this.rows = mapRows(d);
      this.loadedMtime = mtime;
      this.prompts.clear();
      this.lastNote = null;
      const note = this.rows.rows.length ? null : `No training pair has been visited yet (step ${d.meta.step}).`;
      const payload = this.rows.rows.length ? mapPayload(d, this.rows) : null;
      const t1 = performance.now();
      await this.post({ type: 'dataMap', map: payload, note });
      this.log.info(`data map: ${this.rows.rows.length} points of ${file} (step ${d.meta.step}) read in ${Math.round(t1 - t0)} ms, posted in ${Math.round(performance.now() - t1)} ms`);
    } catch (err) {
      if (err instanceof NoDynamicsError) return; // removed between the stat and the read
      const message = err instanceof DynamicsError ? err.message : `${file}: ${(err as Error).message}`;
      this.log.warn(`data map: ${message}`);
      this.loadedMtime = mtime;
      await this.postNote(`The data map cannot be shown: ${message}`);
    } finally {
      this.busy = false;
      const again = this.again;
      this.again = undefined;
      if (again) await this.refresh(again.finished, again.repost);
    }
  }

  private async postNote(note: string): Promise<void> {
    this.lastNote = note;
    await this.post({ type: 'dataMap', map: null, note });
  }

  private lineOffsets(dataset: string): Promise<LineOffsets> {
    const make = async () => {
      const t0 = performance.now();
      const offsets = await LineOffsets.scan(dataset);
      this.log.info(`data map: ${offsets.lineCount} line offsets of ${dataset} in ${Math.round(performance.now() - t0)} ms (for hovers)`);
      return offsets;
    };
    this.offsets ??= make();
    return this.offsets.then(async (o) => {
      if (await o.current()) return o;
      this.offsets = make();
      this.prompts.clear();
      return this.offsets;
    });
  }

  /** Posts the first line of point `point`'s prompt (or why it cannot be read). */
  async hover(point: number): Promise<void> {
    const run = this.run;
    const m = this.rows;
    if (!run || !m || point >= m.rows.length) return;
    let answer = this.prompts.get(point);
    if (!answer) {
      const d = run.dynamics;
      const row = m.rows[point]!;
      try {
        const offsets = await this.lineOffsets(run.dataset);
        answer = hoverText(d, row, await offsets.line(d.line[row]!), run.mode, run.usable);
      } catch (err) {
        answer = { text: null, note: `cannot read ${run.dataset}: ${(err as Error).message}` };
        this.offsets = undefined;
      }
      this.prompts.set(point, answer);
    }
    await this.post({ type: 'dataMapPrompt', point, ...answer });
  }

  /** Opens the points' records (a click) in the preference editor. */
  async open(points: readonly number[]): Promise<void> {
    const m = this.rows;
    if (!m) return;
    await this.show(points.filter((p) => p < m.rows.length));
  }

  /** Opens every point inside a box of the map (a dragged box, or a bin). */
  async openBox(box: DataBox): Promise<void> {
    const d = this.run?.dynamics;
    const m = this.rows;
    if (!d || !m) return;
    await this.show(selectBox(d.variability, d.confidence, box, m.rows));
  }

  private async show(points: ArrayLike<number>): Promise<void> {
    const run = this.run;
    const m = this.rows;
    if (!run || !m || points.length === 0) return;
    if (!fs.existsSync(run.dataset)) {
      void vscode.window.showErrorMessage(`The run's dataset ${run.dataset} does not exist any more: its records cannot be opened.`);
      return;
    }
    const { rows, lines } = recordsOf(run.dynamics, m, points);
    this.log.info(`data map: opening ${rows.length} record(s) of ${run.dataset} in the preference editor`);
    await showRecords({ runDir: run.runDir, rows }, vscode.Uri.file(run.dataset), lines);
  }
}

/**
 * Opens records in the preference editor through the editor's command; where this build has no
 * such command, opens the file in the editor and names the lines.
 */
export async function showRecords(args: ShowRecordsArgs, file: vscode.Uri, lines: readonly number[]): Promise<void> {
  const commands = await vscode.commands.getCommands(true);
  if (commands.includes(SHOW_RECORDS_COMMAND)) {
    await vscode.commands.executeCommand(SHOW_RECORDS_COMMAND, args);
    return;
  }
  await vscode.commands.executeCommand('vscode.openWith', file, 'rpo.labelingEditor');
  const shown = lines.slice(0, 10).join(', ');
  void vscode.window.showInformationMessage(`Records from the data map: line${lines.length === 1 ? '' : 's'} ${shown}${lines.length > 10 ? ` and ${lines.length - 10} more` : ''}.`);
}

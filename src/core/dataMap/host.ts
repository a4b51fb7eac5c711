/**
 * The host's side of the data map: which rows of a run's dynamics file become points, the
 * columns sent to the webview, and what a hovered point shows. Pure (no vscode, no I/O); the
 * dashboard panel (src/training/dataMap.ts) reads the files.
 */
import { promptText } from '../contrast/promptText';
import { type UsableMode, type UsableOptions, usableItems } from '../contrast/usable';
import { type Dynamics, KEY_BYTES, keyedRecords, sameKey } from '../dynamics';
import { parseText } from '../dataset/formats';
import type { DataMapPayload } from '../../protocol/dashboard';

export interface MapRows {
  /** Point i is dynamics row rows[i]: the training rows visited at least once, in row order. */
  rows: Int32Array;
  /** Training rows never visited (NaN statistics: not drawn). */
  unvisited: number;
}

export function mapRows(d: Dynamics): MapRows {
  let visited = 0;
  for (let r = 0; r < d.trainRows; r++) if (d.visits[r]! > 0) visited++;
  const rows = new Int32Array(visited);
  let k = 0;
  for (let r = 0; r < d.trainRows; r++) if (d.visits[r]! > 0) rows[k++] = r;
  return { rows, unvisited: d.trainRows - visited };
}

function gather(column: Float32Array, rows: Int32Array): ArrayBuffer {
  const out = new Float32Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = column[rows[i]!]!;
  return out.buffer;
}

/** The map's columns for the webview: fresh float32 buffers holding only the points. */
export function mapPayload(d: Dynamics, m: MapRows): DataMapPayload {
  return {
    count: m.rows.length,
    variability: gather(d.variability, m.rows),
    confidence: gather(d.confidence, m.rows),
    correctness: gather(d.correctness, m.rows),
    aum: gather(d.aum, m.rows),
    step: d.meta.step,
    complete: d.meta.complete,
    unvisited: m.unvisited,
  };
}

/** The first non-blank line of a prompt's text, at most `max` characters. */
export function firstLine(text: string, max = 200): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '')?.trim() ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * What hovering row `row` shows, given the text of the line the run read it from (as the file
 * has that line now, or undefined when the file has fewer lines): the prompt's first line when
 * that line still holds the row's pair (same pair key; a relabel or flip keeps it), else a note.
 */
export function hoverText(
  d: Dynamics,
  row: number,
  lineText: string | undefined,
  mode: UsableMode,
  usable: UsableOptions = {},
): { text: string | null; note: string | null } {
  const line = d.line[row]!;
  if (lineText === undefined) return { text: null, note: `line ${line} is gone: the file is shorter than when the run read it (click to find the pair by its content)` };
  const rec = parseText(lineText);
  for (const k of keyedRecords([[line - 1, rec]], mode, usable)) {
    if (!sameKey(k.key, 0, d.key, row * KEY_BYTES)) continue;
    const item = rec.kind === 'blank' || rec.kind === 'invalid' ? undefined : usableItems([[line - 1, rec]], mode, usable)[0];
    const prompt = item?.prompt ?? (rec.kind === 'blank' || rec.kind === 'invalid' ? '' : rec.prompt);
    return { text: firstLine(promptText(prompt)) || '(empty prompt)', note: null };
  }
  return { text: null, note: `line ${line} holds another record now: the file changed since the run (click to find the pair by its content)` };
}

/** The dynamics rows (0-based, what the editor's rpo.label.showRecords takes) and 1-based run lines of the given points. */
export function recordsOf(d: Dynamics, m: MapRows, points: ArrayLike<number>): { rows: number[]; lines: number[] } {
  const rows = new Array<number>(points.length);
  const lines = new Array<number>(points.length);
  for (let i = 0; i < points.length; i++) {
    const row = m.rows[points[i]!]!;
    rows[i] = row;
    lines[i] = d.line[row]!;
  }
  return { rows, lines };
}

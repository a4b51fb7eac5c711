import type { UsableMode, UsableOptions } from '../core/contrast/usable';
import { parseLine, type ParsedLine } from '../core/dataset/formats';
import type { LineIndex } from '../core/dataset/lineIndex';
import { keyedRecords } from '../core/dynamics';
import { SIDE_NONE } from './runOverlay';

/**
 * A line's pair key and its side as the file labels it now (docs/contracts.md §8, the core's
 * keyedRecords under the run's mode and usable options), for matching it to a run's rows.
 * A record that does not train now (unlabeled candidates, a tie, disputed...) has its key with
 * side NO_SIDE, so a record set aside since the run shows as "label changed". Invalid and blank
 * lines, and records the run's mode cannot use: null. rpo-unpaired: a paired record gives two
 * items; the line is matched by its first (chosen) item.
 */
export interface KeyOptions {
  mode: UsableMode;
  usable: UsableOptions;
}

export function lineKey(line: number, rec: ParsedLine, options: KeyOptions): { key: Uint8Array; side: number } | null {
  if (rec.kind === 'invalid' || rec.kind === 'blank') return null;
  for (const k of keyedRecords([[line, rec]], options.mode, options.usable)) return { key: k.key, side: k.side };
  return null;
}

/** Writes a parsed line's key at keys[at * 32..] and its side at sides[at] (SIDE_NONE: no key, the key bytes left as they are). */
export function keyLine(line: number, rec: ParsedLine, options: KeyOptions, keys: Uint8Array, sides: Uint8Array, at: number): void {
  const k = lineKey(line, rec, options);
  if (!k) {
    sides[at] = SIDE_NONE;
    return;
  }
  keys.set(k.key, at * 32);
  sides[at] = k.side;
}

/** Keys of lines [from, to) of the loaded bytes: 32 bytes per line (zeros for none) and the sides (SIDE_NONE: no key). */
export function keyLines(index: LineIndex, from: number, to: number, options: KeyOptions): { keys: Uint8Array; sides: Uint8Array } {
  const keys = new Uint8Array((to - from) * 32);
  const sides = new Uint8Array(to - from);
  for (let line = from; line < to; line++) keyLine(line, parseLine(index.content(line)), options, keys, sides, line - from);
  return { keys, sides };
}

/** Whether two key options key a file alike (mode and the usable rules). */
export function sameKeyOptions(a: KeyOptions, b: KeyOptions): boolean {
  const ua = a.usable;
  const ub = b.usable;
  return a.mode === b.mode && ua.minAgreement === ub.minAgreement && ua.labelSmoothing === ub.labelSmoothing && (ua.votes ?? 'resolved') === (ub.votes ?? 'resolved');
}

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

/** Keys of lines [from, to) of the loaded bytes: 32 bytes per line (zeros for none) and the sides (SIDE_NONE: no key). */
export function keyLines(index: LineIndex, from: number, to: number, options: KeyOptions): { keys: Uint8Array; sides: Uint8Array } {
  const keys = new Uint8Array((to - from) * 32);
  const sides = new Uint8Array(to - from);
  for (let line = from; line < to; line++) {
    const k = lineKey(line, parseLine(index.content(line)), options);
    if (!k) {
      sides[line - from] = SIDE_NONE;
      continue;
    }
    keys.set(k.key, (line - from) * 32);
    sides[line - from] = k.side;
  }
  return { keys, sides };
}

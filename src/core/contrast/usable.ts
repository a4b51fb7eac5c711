import type { ParsedLine, Turns } from '../dataset';

/**
 * The records that train (docs/contracts.md §4), in file order: every parsed preference record
 * whose label status is not tie / skip / both_bad / excluded / disputed;
 * - paired methods: records with chosen and rejected;
 * - rpo-unpaired: unpaired records with a boolean label, plus paired records, which give their
 *   chosen (label true) and their rejected (label false), in that order.
 * Mirrors trainer/rpo_trainer/data.py (load_dataset, unpaired_items).
 */

export type UsableMode = 'paired' | 'unpaired';

export interface UsableItem {
  /** 0-based line number in the file. */
  line: number;
  prompt: Turns;
  /** Paired: both; unpaired: one of them, by label. */
  chosen?: Turns;
  rejected?: Turns;
  completion?: Turns;
  label?: boolean;
}

export function usableItems(lines: Iterable<[number, ParsedLine]>, mode: UsableMode): UsableItem[] {
  const out: UsableItem[] = [];
  for (const [line, rec] of lines) {
    if (rec.kind !== 'paired' && rec.kind !== 'unpaired') continue;
    if (rec.provenance?.status) continue;
    if (rec.kind === 'paired') {
      if (mode === 'paired') out.push({ line, prompt: rec.prompt, chosen: rec.chosen, rejected: rec.rejected });
      else {
        out.push({ line, prompt: rec.prompt, completion: rec.chosen, label: true });
        out.push({ line, prompt: rec.prompt, completion: rec.rejected, label: false });
      }
    } else if (mode === 'unpaired') {
      out.push({ line, prompt: rec.prompt, completion: rec.completion, label: rec.label });
    }
  }
  return out;
}

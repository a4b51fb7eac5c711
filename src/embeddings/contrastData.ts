import { promptText } from '../core/contrast/promptText';
import { type UsableItem, type UsableMode, type UsableOptions, usableItems } from '../core/contrast/usable';
import type { DatasetPrompts } from './datasetPrompts';

/**
 * Joins a dataset's records with their prompt vectors: the usable items (contracts §4) in file
 * order with one vector each, and the vectors of the distinct prompts (for neighbour numbers).
 */
export interface ContrastData {
  mode: UsableMode;
  usable: UsableItem[];
  /** usable.length x dim */
  itemVectors: Float32Array;
  /** Unpaired: label per usable item (true = chosen). */
  labels: boolean[];
  dim: number;
  /** Every record with a prompt (data.prompts order): its line and vector row in `promptVectors`. */
  promptVectors: Float32Array;
  /** Distinct prompt texts: their vectors (n x dim) and, per distinct row, the first line that has it. */
  distinctVectors: Float32Array;
  distinctLines: number[];
}

export function joinContrastData(data: DatasetPrompts, promptVectors: Float32Array, dim: number, mode: UsableMode, options: UsableOptions = {}): ContrastData {
  const rowOfText = new Map<string, number>();
  data.prompts.forEach((p, i) => { if (!rowOfText.has(p.text)) rowOfText.set(p.text, i); });
  const usable = usableItems(data.lines, mode, options);
  const itemVectors = new Float32Array(usable.length * dim);
  usable.forEach((u, i) => {
    const r = rowOfText.get(promptText(u.prompt));
    if (r === undefined) throw new Error(`line ${u.line + 1}: prompt has no embedding`);
    itemVectors.set(promptVectors.subarray(r * dim, (r + 1) * dim), i * dim);
  });
  const distinctRows = [...rowOfText.values()];
  const distinctVectors = new Float32Array(distinctRows.length * dim);
  distinctRows.forEach((r, i) => distinctVectors.set(promptVectors.subarray(r * dim, (r + 1) * dim), i * dim));
  return {
    mode, usable, itemVectors, labels: usable.map((u) => u.label ?? true), dim, promptVectors,
    distinctVectors, distinctLines: distinctRows.map((r) => data.prompts[r]!.line),
  };
}

import { type ParsedLine, LineIndex, parseLine } from '../core/dataset';
import { promptText } from '../core/contrast/promptText';

/**
 * Reads a preference file and returns every record's prompt text (all record kinds: the preview
 * shows neighbours of unlabeled records too) with its 0-based line, plus the parsed lines for
 * the usable-list rule. Invalid lines are counted, not fatal: `rpo validate` reports them.
 */
export interface DatasetPrompts {
  lines: [number, ParsedLine][];
  prompts: { line: number; text: string }[];
  invalid: { line: number; reason: string }[];
}

export async function readDatasetPrompts(file: string): Promise<DatasetPrompts> {
  const index = await LineIndex.read(file);
  const out: DatasetPrompts = { lines: [], prompts: [], invalid: [] };
  for (let i = 0; i < index.lineCount; i++) {
    const rec = parseLine(index.content(i));
    if (rec.kind === 'blank') continue;
    out.lines.push([i, rec]);
    if (rec.kind === 'invalid') out.invalid.push({ line: i, reason: rec.reason });
    else out.prompts.push({ line: i, text: promptText(rec.prompt) });
  }
  return out;
}

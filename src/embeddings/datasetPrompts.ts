import { isAscii, isUtf8 } from 'node:buffer';
import { type ParsedLine, LineIndex, parseLine, parseText } from '../core/dataset';
import { promptText } from '../core/contrast/promptText';
import { bytesKeyInto, textKeyInto } from '../core/contrast/nodePromptKey';

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

/** `records: false` leaves `lines` empty (nothing but the prompts is kept alive). */
export async function readDatasetPrompts(file: string, options: { records?: boolean } = {}): Promise<DatasetPrompts> {
  const keep = options.records !== false;
  const index = await LineIndex.read(file);
  const out: DatasetPrompts = { lines: [], prompts: [], invalid: [] };
  for (let i = 0; i < index.lineCount; i++) {
    const rec = parseLine(index.content(i));
    if (rec.kind === 'blank') continue;
    if (keep) out.lines.push([i, rec]);
    if (rec.kind === 'invalid') out.invalid.push({ line: i, reason: rec.reason });
    else out.prompts.push({ line: i, text: promptText(rec.prompt) });
  }
  return out;
}

/**
 * The cache keys of a file's prompts without keeping their texts: what `rpo embed` needs to
 * find that an unchanged dataset is fully cached. Same prompts, order, keys and empty/invalid
 * lines as `readDatasetPrompts` + `textKey` (tested), about twice as fast: most lines are
 * decoded as latin1 instead of UTF-8 (see `fastParse`), the texts die young (no old-generation
 * garbage), and `text(i)` re-reads a prompt's text from the file's bytes only when it is needed
 * (to embed it).
 */
export interface DatasetPromptKeys {
  /** 0-based line of prompt i. */
  lines: number[];
  /** Row i (bytes [32 i, 32 i + 32)) = SHA-256 of prompt i's text (docs/contracts.md §1). */
  digests: Uint8Array;
  /** Indices (into `lines`/`keys`) of empty or whitespace-only prompts. */
  empty: number[];
  invalid: { line: number; reason: string }[];
  /** Prompt i's exact text. */
  text(i: number): string;
}

export async function scanDatasetPromptKeys(file: string): Promise<DatasetPromptKeys> {
  const index = await LineIndex.read(file);
  let digests = new Uint8Array(Math.max(index.lineCount, 1) * 32);
  const out: DatasetPromptKeys = {
    lines: [], digests, empty: [], invalid: [],
    text: (i) => {
      const rec = parseLine(index.content(out.lines[i] as number));
      if (rec.kind === 'blank' || rec.kind === 'invalid') throw new Error(`${file}: line ${(out.lines[i] as number) + 1} changed while it was being read`);
      return promptText(rec.prompt);
    },
  };
  for (let i = 0; i < index.lineCount; i++) {
    if (i % 8192 === 8191) await new Promise<void>((r) => setImmediate(r));
    const bytes = index.content(i);
    const fast = fastParse(bytes);
    const at = out.lines.length * 32;
    let text: string;
    if (fast) {
      if (fast.kind === 'blank') continue;
      text = fast.prompt;
      if (fast.latin1) latin1KeyInto(text, digests, at);
      else textKeyInto(text, digests, at);
    } else {
      const rec = parseLine(bytes);
      if (rec.kind === 'blank') continue;
      if (rec.kind === 'invalid') {
        out.invalid.push({ line: i, reason: rec.reason });
        continue;
      }
      text = promptText(rec.prompt);
      textKeyInto(text, digests, at);
    }
    if (isBlankText(text, !!fast?.latin1)) out.empty.push(out.lines.length);
    out.lines.push(i);
  }
  digests = digests.subarray(0, out.lines.length * 32);
  out.digests = digests;
  return out;
}

const BACKSLASH_U = Buffer.from('\\u');

let scratch = Buffer.allocUnsafe(1 << 16);

/** SHA-256 of the bytes a latin1-space text stands for (written through a reused buffer) into `out` at `offset`. */
function latin1KeyInto(text: string, out: Uint8Array, offset: number): void {
  if (text.length > scratch.length) scratch = Buffer.allocUnsafe(text.length * 2);
  const n = scratch.write(text, 0, 'latin1');
  bytesKeyInto(scratch.subarray(0, n), out, offset);
}

/**
 * A line's prompt text in "latin1 space" (one character per UTF-8 byte, so `Buffer.from(text,
 * 'latin1')` is the exact UTF-8 of the real text), or undefined where only the exact path
 * (`parseLine`) gives the right answer.
 *
 * Why this is exact: a line that is valid UTF-8 and has no `\u` escape, decoded as latin1, is a
 * JSON text with the same structure (every JSON token is ASCII; bytes >= 0x80 only occur inside
 * strings, where JSON takes them as they are), and each string value is its real value's UTF-8
 * bytes one per character. Equality of strings, and so the classification of the record, is
 * unchanged; promptText joins with ASCII only. The one character-level step is the implicit
 * prompt split (longest common prefix of chosen and rejected): in bytes it can stop inside a
 * multi-byte character; then the remainder starts with a continuation byte (0x80-0xBF) and we
 * take the exact path. Invalid lines also take the exact path, for their message.
 */
function fastParse(bytes: Buffer): { kind: 'blank' } | { kind: 'record'; prompt: string; latin1: boolean } | undefined {
  // An ASCII line decodes the same either way, \u escapes included: its prompt is the real text.
  const ascii = isAscii(bytes);
  if (!ascii) {
    if (!isUtf8(bytes)) return undefined;
    if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return undefined; // BOM: parseLine's message
    if (bytes.indexOf(BACKSLASH_U) >= 0) return undefined; // \uXXXX decodes to a real character
  }
  const rec = parseText(bytes.toString('latin1'));
  if (rec.kind === 'blank') return rec;
  if (rec.kind === 'invalid') return undefined;
  if (ascii) return { kind: 'record', prompt: promptText(rec.prompt), latin1: false };
  if (rec.kind === 'paired' && rec.implicitPrompt && rec.style === 'standard' && (continuation(rec.chosen as string) || continuation(rec.rejected as string))) return undefined;
  return { kind: 'record', prompt: promptText(rec.prompt), latin1: true };
}

function continuation(rest: string): boolean {
  const c = rest.charCodeAt(0);
  return c >= 0x80 && c <= 0xbf;
}

/**
 * `!text.trim()` of the real text. A latin1-space text with an ASCII character other than
 * whitespace is not blank; otherwise decode it (a UTF-8 whitespace such as U+3000 is bytes
 * >= 0x80 that latin1's trim would keep, and 0xA0 alone would be trimmed).
 */
function isBlankText(text: string, latin1: boolean): boolean {
  if (!latin1) return !text.trim();
  if (/[!-~]/.test(text)) return false;
  return !Buffer.from(text, 'latin1').toString('utf8').trim();
}

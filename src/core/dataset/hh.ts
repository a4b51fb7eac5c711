import { open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { realTarget, sameFile } from './diskFile';
import { parseLine, type Message } from './formats';
import { LineIndex } from './lineIndex';

/**
 * Anthropic HH-RLHF import. HH records are `{"chosen": T, "rejected": T}` where each T is a whole
 * transcript `"\n\nHuman: ...\n\nAssistant: ..."`. We split each transcript into messages (only
 * at `\n\nHuman:` / `\n\nAssistant:`: the data has "Assistant: Human: ..." inside turns, which
 * is content), take the longest common message prefix as the prompt (backed off so it ends
 * with a user turn, ready for a chat template's generation prompt), and write explicit TRL
 * conversational records `{"prompt": [...], "chosen": [...], "rejected": [...]}`. Other fields
 * of the input record are kept after these three.
 */
export interface HhConversion {
  prompt: Message[];
  chosen: Message[];
  rejected: Message[];
  /** chosen and rejected transcripts are the same text. */
  identical: boolean;
}

const TURN = /\n\n(Human|Assistant):/g;

/** Splits one HH transcript into messages. Throws with a reason if it is not a transcript. */
export function parseTranscript(text: string): Message[] {
  if (!text.startsWith('\n\nHuman:')) {
    throw new Error(`does not start with "\\n\\nHuman:" (starts with ${JSON.stringify(text.slice(0, 20))})`);
  }
  const messages: Message[] = [];
  const marks = [...text.matchAll(TURN)];
  for (let k = 0; k < marks.length; k++) {
    const m = marks[k]!;
    const start = m.index + m[0].length;
    const end = k + 1 < marks.length ? marks[k + 1]!.index : text.length;
    let content = text.slice(start, end);
    if (content.startsWith(' ')) content = content.slice(1);
    messages.push({ role: m[1] === 'Human' ? 'user' : 'assistant', content });
  }
  return messages;
}

/** Converts one HH record's two transcripts. Throws with a reason on a malformed record. */
export function convertHh(chosenText: string, rejectedText: string): HhConversion {
  let chosenMsgs: Message[];
  let rejectedMsgs: Message[];
  try {
    chosenMsgs = parseTranscript(chosenText);
  } catch (err) {
    throw new Error(`field "chosen" ${(err as Error).message}`);
  }
  try {
    rejectedMsgs = parseTranscript(rejectedText);
  } catch (err) {
    throw new Error(`field "rejected" ${(err as Error).message}`);
  }
  const identical = chosenText === rejectedText;
  let k = 0;
  while (k < chosenMsgs.length && k < rejectedMsgs.length && sameMessage(chosenMsgs[k]!, rejectedMsgs[k]!)) k++;
  // Identical transcripts: the last turn is the "response" on both sides.
  if (k === chosenMsgs.length && k === rejectedMsgs.length) k--;
  // The prompt ends with the user's turn; responses start at an assistant turn.
  while (k > 0 && chosenMsgs[k - 1]!.role !== 'user') k--;
  if (k === 0) throw new Error('chosen and rejected share no user turn to use as the prompt');
  const chosen = chosenMsgs.slice(k);
  const rejected = rejectedMsgs.slice(k);
  if (!chosen.length || !rejected.length) throw new Error(`the ${chosen.length ? 'rejected' : 'chosen'} transcript has no turns after the shared prompt`);
  return { prompt: chosenMsgs.slice(0, k), chosen, rejected, identical };
}

function sameMessage(a: Message, b: Message): boolean {
  return a.role === b.role && a.content === b.content;
}

export interface HhImportReport {
  /** Non-blank input lines. */
  records: number;
  written: number;
  /** 1-based input line numbers whose chosen equals rejected (written anyway, flagged). */
  identical: number[];
  /** Lines that could not be converted (not written). */
  problems: { line: number; reason: string }[];
}

/** `importHhFile` was given the same file twice (by any path, link or hard link). */
export class SameFileError extends Error {
  constructor(readonly input: string, readonly output: string) {
    super(`${output} is the input file ${input} (the same file on disk); choose another output file`);
  }
}

/**
 * Converts an HH JSONL file to explicit conversational records. Reads through a line index
 * (any size), writes to a temporary file next to `output` (the target of a symbolic link) and
 * renames it into place. Refuses with `SameFileError` when `output` is `input`, whatever the path:
 * same device and inode, so folder links and hard links are caught too.
 */
export async function importHhFile(input: string, output: string): Promise<HhImportReport> {
  const target = await realTarget(output);
  // Real paths too: a file system without inode numbers (FAT) reports 0 for every file.
  if ((await sameFile(input, output)) || (await realTarget(input)) === target) throw new SameFileError(input, output);
  const index = await LineIndex.read(input);
  const report: HhImportReport = { records: 0, written: 0, identical: [], problems: [] };
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.rpo-import.tmp`);
  const handle = await open(tmp, 'wx');
  try {
    let pending: string[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pending.length) await handle.write(pending.join(''));
      pending = [];
      pendingBytes = 0;
    };
    for (let i = 0; i < index.lineCount; i++) {
      const rec = parseLine(index.content(i));
      if (rec.kind === 'blank') continue;
      report.records++;
      const problem = (reason: string) => report.problems.push({ line: i + 1, reason });
      if (rec.kind === 'invalid') {
        problem(rec.reason);
        continue;
      }
      const { chosen, rejected, ...rest } = rec.object;
      if (typeof chosen !== 'string' || typeof rejected !== 'string') {
        problem('not an HH record: "chosen" and "rejected" must be transcript strings');
        continue;
      }
      let conv: HhConversion;
      try {
        conv = convertHh(chosen, rejected);
      } catch (err) {
        problem((err as Error).message);
        continue;
      }
      if (conv.identical) report.identical.push(i + 1);
      delete rest.prompt;
      const line = JSON.stringify({ prompt: conv.prompt, chosen: conv.chosen, rejected: conv.rejected, ...rest }) + '\n';
      pending.push(line);
      pendingBytes += line.length;
      report.written++;
      if (pendingBytes > 8 * 1024 * 1024) await flush();
    }
    await flush();
    await handle.sync();
    await handle.close();
    // Looked at again: the output may have become the input (a link made) while converting.
    if (await sameFile(input, target)) throw new SameFileError(input, output);
    await rename(tmp, target);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return report;
}

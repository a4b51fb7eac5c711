import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type Prompt as Turns, promptText } from '../core/contrast/promptText';
import { parseLine } from '../core/dataset/formats';
import {
  type Dynamics, DynamicsError, KEY_BYTES, ROW_LABEL_CHANGED, itemKey, ROW_MOVED, ROW_NOT_FOUND, ROW_UNLABELED, rankSuspects, suspectCount, unvisitedCount,
} from '../core/dynamics';
import { type FileMatch, NoDynamicsError, type RunDynamics, matchRunToFile, readRunDynamicsAsync } from '../node/dynamics';
import { CliError, type CliCommand } from './types';

/**
 * `rpo suspects RUN_DIR`: the training pairs a run's model disagrees with (docs/contracts.md §8:
 * AUM < 0, most suspect first), found by pair key in the dataset file as it is now, with marks for
 * records that moved, changed label since the run, or are no longer in the file.
 */

export interface SuspectRow {
  rank: number;
  /** Row of the dynamics file. */
  row: number;
  /** 1-based line in the current file, or null when the record is not found (or the file is missing). */
  line: number | null;
  /** 1-based line in the file the run read. */
  runLine: number;
  moved: boolean;
  labelChanged: boolean;
  notInFile: boolean;
  /** Found, but without a label now (a tie, skip, ... or candidates). */
  unlabeled: boolean;
  /** The label trained on: paired 0 / 1 (chosen = the first / second response in UTF-8 order); unpaired 1 true, 0 false. */
  side: number;
  /** The response trained as chosen (paired) or the item's completion (unpaired), from the current file; null when not found. */
  trainedChosen: string | null;
  aum: number;
  confidence: number;
  variability: number;
  correctness: number;
  lastMargin: number;
  visits: number;
}

export interface SuspectsReport {
  runDir: string;
  dynamics: Dynamics;
  run: RunDynamics;
  /** The file matched (the run's dataset unless another was given). */
  file: string;
  /** null when the file is missing. */
  fileMatch: FileMatch | null;
  suspects: number;
  unvisited: number;
  rows: SuspectRow[];
  /** One-line notes on the file (same file / edited / does not match / missing). */
  notes: string[];
}

/** Reads the run, matches it to `file` (default: its dataset), ranks. Errors as CliError (exit 1). */
export async function suspectsReport(runDir: string, options: { top?: number; all?: boolean; file?: string } = {}): Promise<SuspectsReport> {
  let run: RunDynamics;
  try {
    run = await readRunDynamicsAsync(runDir);
  } catch (err) {
    if (err instanceof NoDynamicsError || err instanceof DynamicsError) throw new CliError(err.message, 1);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CliError(`${runDir}: no such run folder`, 1);
    throw err;
  }
  const d = run.dynamics;
  const file = options.file ? path.resolve(options.file) : run.dataset;
  const notes: string[] = [];
  const what = run.mode === 'unpaired' ? 'items' : 'pairs';
  let fileMatch: FileMatch | null = null;
  if (!fs.existsSync(file)) {
    notes.push(`${file} is missing: lines are those the run read (pass --file FILE to match another file)`);
  } else {
    fileMatch = await matchRunToFile(run, file);
    const c = fileMatch.match.counts.train;
    if (fileMatch.sameBytes) notes.push(`${file}: the file the run read, unchanged`);
    else if (fileMatch.sameLabels) notes.push(`${file}: edited since the run, same records and labels (${c.moved} of ${c.rows} training ${what} on other lines)`);
    else if (c.matched === 0 && c.rows > 0) notes.push(`${file} does not match the run: none of its ${c.rows} training ${what} is in this file (it is not the file the run read: ${d.meta.dataset})`);
    else {
      const parts = [`${c.moved} moved`, `${c.labelChanged} label${c.labelChanged === 1 ? '' : 's'} changed since the run`, `${c.notFound} no longer in the file`];
      if (c.unlabeled) parts.push(`${c.unlabeled} without a label now`);
      notes.push(`${file}: edited since the run: ${c.matched} of ${c.rows} training ${what} found (${parts.join(', ')})`);
      if (c.matched < c.rows / 2) notes.push(`fewer than half the run's ${what} are in this file: is it the file the run read (${d.meta.dataset})?`);
    }
  }
  const ranked = rankSuspects(d, { top: options.top, all: options.all });
  const rows: SuspectRow[] = [];
  ranked.forEach((r, i) => {
    const flags = fileMatch ? fileMatch.match.rowFlags[r]! : 0;
    const lineNow = fileMatch ? fileMatch.match.rowLine[r]! : -1;
    rows.push({
      rank: i + 1, row: r, line: lineNow >= 0 ? lineNow + 1 : null, runLine: d.line[r]!,
      moved: !!(flags & ROW_MOVED), labelChanged: !!(flags & ROW_LABEL_CHANGED), notInFile: fileMatch ? !!(flags & ROW_NOT_FOUND) : false, unlabeled: !!(flags & ROW_UNLABELED),
      side: d.side[r]!, trainedChosen: fileMatch && lineNow >= 0 ? trainedText(fileMatch, lineNow, run, d, r) : null,
      aum: d.aum[r]!, confidence: d.confidence[r]!, variability: d.variability[r]!, correctness: d.correctness[r]!, lastMargin: d.lastMargin[r]!, visits: d.visits[r]!,
    });
  });
  return { runDir, dynamics: d, run, file, fileMatch, suspects: suspectCount(d), unvisited: unvisitedCount(d), rows, notes };
}

/** The response a row trained as chosen (paired: by its side over the current record's two responses), or its item's completion (unpaired). */
function trainedText(fm: FileMatch, line: number, run: RunDynamics, d: Dynamics, row: number): string | null {
  const rec = parseLine(fm.index.content(line));
  if (rec.kind === 'blank' || rec.kind === 'invalid') return null;
  const responses: Turns[] = rec.kind === 'paired' ? [rec.chosen, rec.rejected] : rec.kind === 'candidates' ? [...rec.responses] : [rec.completion];
  if (run.mode === 'unpaired') {
    // The item whose key is the row's: try each response of the record.
    return responses.map((t) => promptText(t)).find((t) => itemMatches(rec.prompt, t, d, row)) ?? null;
  }
  const [x, y] = responses.map((t) => Buffer.from(promptText(t), 'utf8'));
  if (!x || !y) return null;
  const [a, b] = Buffer.compare(x, y) <= 0 ? [x, y] : [y, x];
  return (d.side[row] === 0 ? a : b).toString('utf8');
}

function itemMatches(prompt: Turns, completion: string, d: Dynamics, row: number): boolean {
  // Only for the rows printed.
  const k = itemKey(prompt, completion);
  for (let i = 0; i < KEY_BYTES; i++) if (k[i] !== d.key[row * KEY_BYTES + i]) return false;
  return true;
}

const num = (x: number, digits = 3) => (Number.isNaN(x) ? 'NaN' : x.toFixed(digits));
const excerpt = (t: string | null, width = 36) => {
  if (t === null) return '–';
  const first = t.split('\n').find((l) => l.trim()) ?? '';
  return JSON.stringify(first.length > width ? `${first.slice(0, width - 1)}…` : first);
};

function note(r: SuspectRow, fileMissing: boolean): string {
  if (fileMissing) return '';
  if (r.notInFile) return `no longer in the file (run: line ${r.runLine})`;
  const parts: string[] = [];
  if (r.labelChanged) parts.push('label changed since the run');
  if (r.unlabeled) parts.push('no label now');
  if (r.moved) parts.push(`moved (run: line ${r.runLine})`);
  return parts.join('; ');
}

/** The header lines and the table, as `rpo suspects` prints them. */
export function formatSuspects(rep: SuspectsReport, shown: 'suspects' | 'all'): string[] {
  const d = rep.dynamics;
  const m = d.meta;
  const out: string[] = [];
  const unpaired = rep.run.mode === 'unpaired';
  const what = unpaired ? 'items' : 'pairs';
  out.push(`run ${m.run} (${m.method}, beta ${m.beta}, step ${m.step}${m.complete ? '' : ', not finished: statistics so far'}): ${d.trainRows} training ${what}, ${rep.suspects} suspect${rep.suspects === 1 ? '' : 's'} (AUM < 0)${rep.unvisited ? `, ${rep.unvisited} never in a batch` : ''}`);
  for (const n of rep.notes) out.push(n);
  if (!rep.rows.length) {
    out.push(rep.suspects ? '' : `no suspects: the model prefers the labeled response of every ${unpaired ? 'item' : 'pair'} it trained on`);
    return out;
  }
  const rel = (f: string) => {
    const r = path.relative(process.cwd(), f);
    return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : f;
  };
  const where = (r: SuspectRow) => (rep.fileMatch ? (r.line === null ? '–' : `${rel(rep.file)}:${r.line}`) : `${rel(rep.file)}:${r.runLine}`);
  const header = ['#', 'LINE', unpaired ? 'ITEM (LABEL)' : 'TRAINED AS CHOSEN', 'AUM', 'CONF', 'VISITS', 'NOTE'];
  const table = rep.rows.map((r) => [
    String(r.rank), where(r), unpaired ? `${excerpt(r.trainedChosen, 28)} (${r.side ? 'true' : 'false'})` : excerpt(r.trainedChosen),
    num(r.aum), num(r.confidence), String(r.visits), note(r, !rep.fileMatch),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => row.map((c, i) => (i === row.length - 1 ? c : i === 0 || (i >= 3 && i <= 5) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  if (shown === 'suspects' && rep.rows.length < rep.suspects) out.push(`the ${rep.rows.length} most suspect (--top K for more):`);
  out.push(fmt(header), ...table.map(fmt));
  return out;
}

export function suspectsJson(rep: SuspectsReport): Record<string, unknown> {
  const d = rep.dynamics;
  const c = rep.fileMatch?.match.counts;
  const nan = (x: number) => (Number.isNaN(x) ? null : x);
  return {
    run_dir: rep.runDir, run: d.meta.run, method: d.meta.method, beta: d.meta.beta, step: d.meta.step, epoch: d.meta.epoch, complete: d.meta.complete,
    train_rows: d.trainRows, eval_rows: d.rows - d.trainRows, suspects: rep.suspects, unvisited: rep.unvisited,
    file: {
      path: rep.file, exists: rep.fileMatch !== null, run_dataset: d.meta.dataset,
      same_bytes: rep.fileMatch?.sameBytes ?? null, same_labels: rep.fileMatch?.sameLabels ?? null,
      labels_sha256: rep.fileMatch?.labelsSha256 ?? null, run_labels_sha256: d.meta.labelsSha256,
      train_matched: c?.train.matched ?? null, train_not_found: c?.train.notFound ?? null, train_moved: c?.train.moved ?? null,
      train_label_changed: c?.train.labelChanged ?? null, train_unlabeled: c?.train.unlabeled ?? null,
    },
    notes: rep.notes,
    rows: rep.rows.map((r) => ({
      rank: r.rank, row: r.row, line: r.line, run_line: r.runLine, moved: r.moved, label_changed: r.labelChanged, not_in_file: r.notInFile, unlabeled: r.unlabeled,
      side: r.side, trained_chosen: r.trainedChosen, aum: nan(r.aum), confidence: nan(r.confidence), variability: nan(r.variability),
      correctness: nan(r.correctness), last_margin: nan(r.lastMargin), visits: r.visits,
    })),
  };
}

export const suspectsCommand: CliCommand = {
  name: 'suspects',
  summary: 'list the training pairs a run\'s model disagrees with (likely wrong labels), most suspect first',
  help: [
    'Usage: rpo suspects RUN_DIR [--top K] [--all] [--file FILE] [--json]',
    '',
    'Reads RUN_DIR/dynamics.safetensors (the per-pair training dynamics the trainer writes at every',
    'checkpoint and at the end, docs/contracts.md §8) and lists the training pairs whose mean margin',
    'over their visits (AUM) is below 0, most negative first: the model prefers the response labeled',
    'rejected, so the label is likely wrong. Each pair is found by content (its pair key) in the',
    'dataset file as it is NOW, so the line shown is the current one; marks: moved (run: line N),',
    'label changed since the run, no label now, no longer in the file.',
    '',
    'Columns: line in the file, the response the run trained as chosen, AUM, confidence (mean',
    'sigmoid of the margin), visits.',
    '',
    'Options:',
    '  --top K      at most K rows (default 20; 0 = all)',
    '  --all        rank every visited training pair, not only those with AUM < 0',
    '  --file FILE  match against FILE instead of the dataset the run read',
    '  --json       print one JSON object',
    '',
    'Exit status: 0 when the dynamics were read; 1 when RUN_DIR has no dynamics file (a run from an',
    'older trainer, or stopped before its first checkpoint) or it cannot be read; 2 on a usage error.',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true, strict: true,
      options: { top: { type: 'string' }, all: { type: 'boolean', default: false }, file: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    if (positionals.length !== 1) throw new CliError(`expected one RUN_DIR, got ${positionals.length}\n\n${this.help}`);
    let top = 20;
    if (values.top !== undefined) {
      top = Number(values.top);
      if (!Number.isSafeInteger(top) || top < 0) throw new CliError(`--top must be an integer >= 0, got '${values.top}'`);
    }
    const rep = await suspectsReport(positionals[0]!, { top: top === 0 ? undefined : top, all: values.all, file: values.file });
    if (values.json) process.stdout.write(JSON.stringify(suspectsJson(rep), null, 2) + '\n');
    else process.stdout.write(formatSuspects(rep, values.all ? 'all' : 'suspects').join('\n') + '\n');
    return 0;
  },
};

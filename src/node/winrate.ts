import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { realpathSync } from 'node:fs';
import { LineIndex } from '../core/dataset/lineIndex';
import { parseLine, type ParsedLine } from '../core/dataset/formats';
import { keyHex, pairedKeyAndSide } from '../core/dynamics/pairKey';
import type { WinrateEntry } from '../protocol/winrate';
import { collectJudgements, parseSources, sourcesPathOf, winrateReport, WinrateError, SOURCES_FORMAT, SOURCES_SUFFIX, type PairKeyFn, type Sources, type WinrateOptions, type WinrateReport } from '../core/winrate';

/** Pair key (docs/contracts.md §8) as lowercase hex: what the sidecar's "key" holds. */
export const pairKeyHexOf: PairKeyFn = (prompt, first, second) => keyHex(pairedKeyAndSide(prompt, first, second).key);

export interface FileWinrate {
  file: string;
  sidecar: string;
  report: WinrateReport;
  /** Sidecar entries vs the prompt count its header announces (generation still running or stopped). */
  complete: boolean;
  expected: number | null;
}

/**
 * The win rate of a judged candidates file (docs/evaluate.md). Reads FILE and its sidecar
 * FILE.sources.jsonl; throws WinrateError (the refusal, naming file and line) when the sidecar is
 * missing, malformed or does not match the file.
 */
export async function winrateOfFile(file: string, options: WinrateOptions = {}): Promise<FileWinrate> {
  const sidecar = sourcesPathOf(file);
  let text: string;
  try {
    text = await readFile(sidecar, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new WinrateError(`${file}: no sidecar ${basename(sidecar)} next to it: the win rate needs the record-to-model mapping that rpo generate writes there, and is not computed without it (a candidates file alone does not say which model wrote which response)`);
    }
    throw new WinrateError(`${sidecar}: cannot read: ${(e as Error).message}`);
  }
  const sources = parseSources(text, sidecar);
  const index = await LineIndex.read(file);
  function* lines(): Generator<[number, ParsedLine]> {
    for (let i = 0; i < index.lineCount; i++) {
      const rec = parseLine(index.content(i));
      // The last line without its newline while generation appends: ignored unless whole.
      if (rec.kind === 'invalid' && i === index.lineCount - 1 && index.eol(i) === '') continue;
      yield [i, rec];
    }
  }
  const judgements = collectJudgements(lines(), sources, pairKeyHexOf, file, sidecar);
  const count = (sources.header.prompts as { count?: unknown } | undefined)?.count;
  const expected = typeof count === 'number' ? count : null;
  return { file, sidecar, report: winrateReport(judgements, sources, options), complete: expected === null || sources.entries.length >= expected, expected };
}

/** Reads a sidecar's header only (null when the file is not a sidecar). */
export async function sourcesHeader(sidecar: string): Promise<Sources['header'] | null> {
  try {
    const text = await readFile(sidecar, 'utf8');
    const first = text.slice(0, text.indexOf('\n') < 0 ? undefined : text.indexOf('\n'));
    const h = JSON.parse(first) as Sources['header'];
    return h && h.format === SOURCES_FORMAT ? h : null;
  } catch {
    return null;
  }
}

function same(a: unknown, b: string): boolean {
  if (typeof a !== 'string') return false;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

/**
 * Candidates files of a run: `*.pref.jsonl` in the `samples/` folder of this run or of any run next
 * to it (where rpo generate writes them: a comparison of two runs lives in run A's folder) whose
 * sidecar names this run as model A or B (its `run_dir`). Sorted by path.
 */
export async function runCandidates(runDir: string): Promise<{ file: string; side: 'A' | 'B' }[]> {
  let siblings: string[];
  try {
    siblings = (await readdir(dirname(runDir))).map((n) => join(dirname(runDir), n));
  } catch {
    siblings = [runDir];
  }
  if (!siblings.some((d) => resolve(d) === resolve(runDir))) siblings.push(runDir);
  const out: { file: string; side: 'A' | 'B' }[] = [];
  for (const dir of siblings.sort()) {
    const folder = join(dir, 'samples');
    let names: string[];
    try {
      names = await readdir(folder);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      if (!name.endsWith('.pref.jsonl' + SOURCES_SUFFIX)) continue;
      const h = await sourcesHeader(join(folder, name));
      const models = h?.models as Record<string, { run_dir?: unknown }> | undefined;
      if (!models) continue;
      const side = same(models.A?.run_dir, runDir) ? 'A' : same(models.B?.run_dir, runDir) ? 'B' : null;
      if (side) out.push({ file: join(folder, name.slice(0, -SOURCES_SUFFIX.length)), side });
    }
  }
  return out;
}

const flip = (c: [number, number] | null): [number, number] | null => (c ? [1 - c[1], 1 - c[0]] : null);

/** The dashboard's rows (src/protocol/winrate.ts): every candidates file of the run, from the run's side. */
export async function runWinrates(runDir: string, options: WinrateOptions = { resamples: 1000, seed: 0 }): Promise<WinrateEntry[]> {
  const out: WinrateEntry[] = [];
  for (const { file, side } of await runCandidates(runDir)) {
    const name = basename(file);
    try {
      const { report: r } = await winrateOfFile(file, options);
      const a = side === 'A';
      out.push({
        file,
        name,
        opponent: (a ? r.models.B : r.models.A).name,
        records: r.records,
        judged: r.judged,
        wins: a ? r.wins : r.losses,
        losses: a ? r.losses : r.wins,
        ties: r.ties,
        pending: r.pending,
        winRate: r.winRate === null ? null : a ? r.winRate : 1 - r.winRate,
        wilson: a ? r.wilson : flip(r.wilson),
        bootstrap: a ? r.bootstrap.ci : flip(r.bootstrap.ci),
        lengthControlled: r.lengthControlled.value === null ? null : a ? r.lengthControlled.value : 1 - r.lengthControlled.value,
        lengthControlledCi: a ? r.lengthControlled.ci : flip(r.lengthControlled.ci),
        leftShare: r.position.leftShare,
        error: null,
      });
    } catch (e) {
      if (!(e instanceof WinrateError)) throw e;
      out.push({ file, name, opponent: '', records: 0, judged: 0, wins: 0, losses: 0, ties: 0, pending: 0, winRate: null, wilson: null, bootstrap: null, lengthControlled: null, lengthControlledCi: null, leftShare: null, error: e.message.split('\n')[0]! });
    }
  }
  return out;
}

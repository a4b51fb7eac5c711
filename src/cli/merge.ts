import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { LineIndex } from '../core/dataset/lineIndex';
import { isPolicy, POLICIES, type ResolutionPolicy } from '../core/dataset/votes';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { mergeFiles, type MergeOptions, type MergeResult } from '../core/merge';
import { blockThreads, indexLines, mergeParallel, type ParallelMergeOptions } from '../node/mergeFile';
import { CliError, type CliCommand } from './types';

/**
 * `rpo merge-driver BASE OURS THEIRS` (a git merge driver) and `rpo merge A B -o OUT`: merge two
 * labeled copies of one preference file line by line into votes (docs/merge.md).
 */

async function read(file: string, what: string): Promise<LineIndex> {
  try {
    return await LineIndex.read(file);
  } catch (err) {
    throw new CliError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The built worker next to the bundle (dist/workers/merge.js); absent when run from source. */
const workerPath = path.join(__dirname, 'workers', 'merge.js');

function policyOf(v: string | undefined): ResolutionPolicy {
  if (v === undefined) return 'majority';
  if (!isPolicy(v)) throw new CliError(`--policy must be one of ${POLICIES.join(', ')}, got '${v}'`);
  return v;
}

/**
 * Merges into `target` without holding the merged file in memory: the lines stream (8 MiB
 * writes) into a temporary file next to it (exclusive create; our BOM and line endings: per line when aligned,
 * else our first one), which is synced and renamed over `target` only when every line merged;
 * on conflicts or an error it is removed and `target` is untouched.
 */
export function mergeInto(target: string, base: LineIndex | null, ours: LineIndex, theirs: LineIndex, options: MergeOptions): MergeResult {
  const out = tempNextTo(target);
  let committed = false;
  try {
    const dominant = ours.lineCount ? ours.eol(0) || '\n' : '\n';
    const finalEol = ours.lineCount ? ours.eol(ours.lineCount - 1) : '\n';
    // lines are copied into one 8 MiB buffer (a line may live in a buffer the merge reuses)
    const buffer = Buffer.allocUnsafe(8 * 1024 * 1024);
    let size = 0;
    let i = 0;
    let pendingEol: Uint8Array | null = null; // the previous line's ending, known once we know it was not the last
    const flush = () => {
      out.writeAll(buffer.subarray(0, size));
      size = 0;
    };
    const push = (bytes: Uint8Array) => {
      if (size + bytes.length > buffer.length) {
        flush();
        if (bytes.length > buffer.length) {
          out.writeAll(bytes);
          return;
        }
      }
      buffer.set(bytes, size);
      size += bytes.length;
    };
    const eols = new Map<string, Uint8Array>();
    const eolBytes = (eol: string) => {
      let e = eols.get(eol);
      if (!e) eols.set(eol, (e = Buffer.from(eol)));
      return e;
    };
    if (ours.bomLength) push(Buffer.from([0xef, 0xbb, 0xbf]));
    const res = mergeFiles(base, ours, theirs, {
      ...options,
      onLine: (line, aligned) => {
        if (pendingEol !== null) push(pendingEol);
        push(line);
        pendingEol = eolBytes(aligned && i < ours.lineCount ? ours.eol(i) || '\n' : dominant);
        i++;
      },
    });
    if (res.conflicts.length) return res;
    if (pendingEol !== null && finalEol) push(eolBytes(finalEol));
    flush();
    out.commit();
    committed = true;
    return res;
  } finally {
    if (!committed) out.discard();
  }
}

/**
 * Merges the files BASE (or null), OURS and THEIRS into `target`: block by block when they are
 * line-aligned and large and the CLI runs from its bundle (src/node/mergeFile.ts: the files are
 * scanned for their line offsets and read block by block, not held in memory; worker threads on
 * 2 or more cores unless options.threads says otherwise), else read whole and merged by mergeInto. The same temporary file, bytes and rename either way.
 */
export async function mergeFilesInto(target: string, files: { base: string | null; ours: string; theirs: string }, names: { base: string; ours: string; theirs: string }, options: ParallelMergeOptions): Promise<MergeResult> {
  const offsets = (file: string, what: string) => {
    try {
      return indexLines(file);
    } catch (err) {
      throw new CliError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  if (options.workerPath && existsSync(options.workerPath)) {
    const [b, o, t] = [files.base ? offsets(files.base, names.base) : null, offsets(files.ours, names.ours), offsets(files.theirs, names.theirs)];
    const threads = blockThreads(b, o, t, options);
    if (threads !== null) {
      return writeTemp(target, async (writeAll) => {
        if (o.bom) writeAll(Buffer.from([0xef, 0xbb, 0xbf]));
        return mergeParallel(b, o, t, options, threads, writeAll);
      });
    }
  }
  const base = files.base ? await read(files.base, names.base) : null;
  const [ours, theirs] = [await read(files.ours, names.ours), await read(files.theirs, names.theirs)];
  return mergeInto(target, base, ours, theirs, options);
}

/** A temporary file next to `target`, renamed over it when `fill` reports no conflicts, else removed. */
async function writeTemp(target: string, fill: (writeAll: (bytes: Uint8Array) => void) => Promise<MergeResult>): Promise<MergeResult> {
  const out = tempNextTo(target);
  let committed = false;
  try {
    const res = await fill(out.writeAll);
    if (res.conflicts.length) return res;
    out.commit();
    committed = true;
    return res;
  } finally {
    if (!committed) out.discard();
  }
}

/**
 * The merge's output file: a temporary file next to `target` (next to the file a link points to;
 * exclusive create, with the target's permissions). `commit` syncs it and renames it over the
 * target; `discard` closes and removes it, leaving the target untouched.
 */
function tempNextTo(target: string): { writeAll(bytes: Uint8Array): void; commit(): void; discard(): void } {
  const real = (() => { try { return realpathSync(target); } catch { return target; } })();
  const temp = path.join(path.dirname(real), `.${path.basename(real)}.${process.pid}-${randomBytes(4).toString('hex')}.merge.tmp`);
  const fd = openSync(temp, 'wx', existsSync(real) ? statSync(real).mode & 0o777 : 0o644);
  let open = true;
  return {
    writeAll(bytes) {
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    },
    commit() {
      fsyncSync(fd);
      closeSync(fd);
      open = false;
      renameSync(temp, real);
    },
    discard() {
      if (open) {
        open = false;
        try { closeSync(fd); } catch { /* already closed */ }
      }
      rmSync(temp, { force: true });
    },
  };
}

function describe(res: MergeResult, names: { ours: string; theirs: string }): string {
  return res.conflicts.map((c) => `${c.side === 'ours' ? names.ours : names.theirs}:${c.line}: ${c.reason}`).join('\n');
}

export const mergeDriverCommand: CliCommand = {
  name: 'merge-driver',
  summary: 'git merge driver for *.pref.jsonl: labels from both branches become votes',
  help: [
    'Usage: rpo merge-driver BASE OURS THEIRS [--policy majority|unanimous|adjudicated] [--threads N]',
    '',
    'A git merge driver (git passes %O %A %B). Records labeled on both branches are merged into',
    'votes (rpo_votes); records where the votes disagree become disputed. The result is written into',
    'OURS (temporary file + rename), as git requires; BASE and THEIRS are not touched.',
    'Set up with the VS Code command "RPO: Set Up Git Merge for Labels", or by hand:',
    '  .gitattributes:  *.pref.jsonl merge=rpo-labels',
    '  git config merge.rpo-labels.driver "rpo merge-driver %O %A %B"',
    '',
    'Exit status: 0 merged; 1 a conflict (data changed on both sides, a line deleted on one side',
    'and changed on the other): the lines are named on stderr and OURS gets git\'s own merge with',
    'conflict markers (git merge-file); 2 on a usage error or an unreadable file (OURS untouched).',
    '',
    '--threads N: worker threads for a large line-aligned merge (default: one per core, at most 4;',
    '1 merges in the main thread, e.g. on a machine busy with other work).',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({ args, options: { policy: { type: 'string' }, threads: { type: 'string' } }, allowPositionals: true, strict: true });
    if (positionals.length !== 3) throw new CliError(`expected BASE OURS THEIRS, got ${positionals.length} arguments\n\n${this.help}`);
    const [baseFile, oursFile, theirsFile] = positionals as [string, string, string];
    const policy = policyOf(values.policy);
    let threads: number | undefined;
    if (values.threads !== undefined) {
      threads = Number(values.threads);
      if (!/^[0-9]+$/.test(values.threads) || threads < 1 || threads > 64) throw new CliError(`--threads: expected a whole number from 1 to 64, got "${values.threads}"`);
    }
    const res = await mergeFilesInto(oursFile, { base: baseFile, ours: oursFile, theirs: theirsFile }, { base: 'BASE', ours: 'OURS', theirs: 'THEIRS' }, { policy, workerPath, threads });
    if (res.conflicts.length) {
      process.stderr.write(`rpo merge-driver: cannot merge the labels, git's line merge with conflict markers follows:\n${describe(res, { ours: oursFile, theirs: theirsFile })}\n`);
      // git's own fallback: conflict markers in OURS (git merge-file writes it in place).
      const r = spawnSync('git', ['merge-file', '-L', 'ours', '-L', 'base', '-L', 'theirs', oursFile, baseFile, theirsFile], { stdio: ['ignore', 'ignore', 'inherit'] });
      if (r.error) process.stderr.write(`rpo merge-driver: git merge-file could not run (${r.error.message}); ${oursFile} is left as it was\n`);
      return 1;
    }
    process.stderr.write(`rpo merge-driver: ${res.united} records merged into votes (${res.disputed} disputed)${res.aligned ? '' : ', lines matched by content'}\n`);
    return 0;
  },
};

export const mergeCommand: CliCommand = {
  name: 'merge',
  summary: 'merge two labeled copies of a preference file into votes',
  help: [
    'Usage: rpo merge A B -o OUT [--base BASE] [--policy majority|unanimous|adjudicated]',
    '',
    'Merges two copies of one preference file labeled apart (outside git): lines the same in both',
    'are kept; records labeled differently are merged into votes (rpo_votes), disagreeing votes',
    'make them disputed. With --base (the common ancestor), a line changed on one side only is',
    'taken from that side and a removed vote stays removed. Same line counts: line by line; else',
    'records are matched by content. A and B are never modified; OUT is written whole (temporary',
    'file + rename) and may not be A or B.',
    '',
    'Exit status: 0 merged; 1 conflicts (the data of a record changed on both sides, or a line',
    'deleted on one side and changed on the other; each named, nothing written); 2 usage or I/O error.',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({ args, options: { output: { type: 'string', short: 'o' }, base: { type: 'string' }, policy: { type: 'string' } }, allowPositionals: true, strict: true });
    if (positionals.length !== 2) throw new CliError(`expected two files A and B, got ${positionals.length}\n\n${this.help}`);
    if (!values.output) throw new CliError(`-o OUT is required\n\n${this.help}`);
    const [a, b] = positionals as [string, string];
    const real = (p: string) => { try { return realpathSync(p); } catch { return p; } };
    if ([a, b].map(real).includes(real(values.output))) throw new CliError(`OUT must be a new file, not one of the inputs (${values.output})`);
    const policy = policyOf(values.policy);
    const res = await mergeFilesInto(values.output, { base: values.base ?? null, ours: a, theirs: b }, { base: 'BASE', ours: 'A', theirs: 'B' }, { policy, workerPath });
    if (res.conflicts.length) {
      process.stderr.write(`rpo merge: ${res.conflicts.length}${res.conflicts.length >= 20 ? '+' : ''} conflicts, nothing written:\n${describe(res, { ours: a, theirs: b })}\n`);
      return 1;
    }
    process.stdout.write(`${values.output}: ${res.united} records merged into votes (${res.disputed} disputed)${res.aligned ? '' : ', lines matched by content'}\n`);
    return 0;
  },
};

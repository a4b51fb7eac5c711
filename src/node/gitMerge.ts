import { spawnSync } from 'node:child_process';
import { appendFile, readFile } from 'node:fs/promises';
import * as path from 'node:path';

/**
 * Setting up `rpo merge-driver` in a git repository (docs/merge.md): the `.gitattributes` line
 * and the repository's git config. The user's `.gitattributes` is only appended to, never
 * rewritten; git config is written with `git config --local`.
 */
export const MERGE_DRIVER = 'rpo-labels';
export const ATTRIBUTES_LINE = `*.pref.jsonl merge=${MERGE_DRIVER}`;

export class GitSetupError extends Error {}

/** POSIX shell quoting (git runs a merge driver through sh, also on Windows). */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The driver command line: `NODE [ARGS] CLI merge-driver %O %A %B`. `electron`: NODE is VS Code's
 * own executable, run as Node with ELECTRON_RUN_AS_NODE=1.
 */
export function driverCommand(node: string, cli: string, options: { electron?: boolean; nodeArgs?: string[] } = {}): string {
  const parts = [node, ...(options.nodeArgs ?? []), cli].map(shellQuote);
  return `${options.electron ? 'ELECTRON_RUN_AS_NODE=1 ' : ''}${parts.join(' ')} merge-driver %O %A %B`;
}

function git(cwd: string, args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new GitSetupError(`git could not run (${r.error.message}): install git or put it on PATH`);
  if (r.status !== 0) throw new GitSetupError(`git ${args.join(' ')} failed in ${cwd}: ${r.stderr.trim()}`);
  return r.stdout;
}

export interface GitMergeSetup {
  repository: string;
  attributesFile: string;
  /** The line was appended, or an equivalent line was already there. */
  attributes: 'added' | 'present';
  driver: string;
}

/** Writes the `.gitattributes` line (at the repository root) and the repository's merge driver config. */
export async function setUpGitMerge(folder: string, driver: string): Promise<GitMergeSetup> {
  const repository = git(folder, ['rev-parse', '--show-toplevel']).trim();
  if (!repository) throw new GitSetupError(`${folder} is not inside a git repository`);
  const attributesFile = path.join(repository, '.gitattributes');
  let existing = '';
  try {
    existing = await readFile(attributesFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new GitSetupError(`cannot read ${attributesFile}: ${(err as Error).message}`);
  }
  const present = existing.split(/\r?\n/).some((l) => /^\*\.pref\.jsonl\s/.test(l.trim() + ' ') && l.includes(`merge=${MERGE_DRIVER}`));
  if (!present) {
    const eol = existing.includes('\r\n') ? '\r\n' : '\n';
    const lead = existing.length && !existing.endsWith('\n') ? eol : '';
    await appendFile(attributesFile, `${lead}${ATTRIBUTES_LINE}${eol}`);
  }
  git(repository, ['config', '--local', `merge.${MERGE_DRIVER}.name`, 'RPO Studio labels (votes)']);
  git(repository, ['config', '--local', `merge.${MERGE_DRIVER}.driver`, driver]);
  return { repository, attributesFile, attributes: present ? 'present' : 'added', driver };
}

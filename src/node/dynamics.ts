import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { UsableMode, UsableOptions } from '../core/contrast/usable';
import { LineIndex } from '../core/dataset/lineIndex';
import { parseLine } from '../core/dataset/formats';
import { DYNAMICS_FILE, type Dynamics, DynamicsError, type DynamicsIndex, type DynamicsMatch, keyedRecords, matchDynamics, parseDynamics } from '../core/dynamics';
import { METHODS, type RunConfig, RunConfigError, isRunMethod, readRunConfig } from '../core/run/config';

/**
 * A run folder's training dynamics read back (docs/contracts.md §8): `dynamics.safetensors`,
 * `run.json` and the resolved `config.json` (which file and which usable rules the run used),
 * and matching its rows to that file as it is now.
 */

/** A run folder without a dynamics file: a run from before the trainer wrote one, or one that never reached a checkpoint. */
export class NoDynamicsError extends Error {
  constructor(readonly runDir: string) {
    super(`${runDir} has no ${DYNAMICS_FILE}: a run from an older trainer, or one stopped before its first checkpoint (the file is written at every checkpoint and at the end)`);
  }
}

export interface RunDynamics {
  runDir: string;
  file: string;
  dynamics: Dynamics;
  /** The run's resolved config (config.json), or null when it is missing or unreadable. */
  config: RunConfig | null;
  /** Why config is null. */
  configProblem: string | null;
  /** The dataset the run read (config.json's resolved path, else the dynamics metadata's). */
  dataset: string;
  mode: UsableMode;
  /** The usable rules of the run (votes policy, min_agreement), so the file is keyed as the run keyed it. */
  usable: UsableOptions;
}

/** Reads `<runDir>/dynamics.safetensors` and the run's config. Throws NoDynamicsError, DynamicsError, or an fs error for a missing folder. */
export function readRunDynamics(runDir: string): RunDynamics {
  const stat = fs.statSync(runDir); // ENOENT / ENOTDIR pass through
  if (!stat.isDirectory()) throw new DynamicsError(`${runDir} is not a run folder`);
  const file = path.join(runDir, DYNAMICS_FILE);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NoDynamicsError(runDir);
    throw err;
  }
  return runDynamicsOf(runDir, file, bytes);
}

/** readRunDynamics with the file read off the event loop (a 1,000,000-pair file is about 63 MB). */
export async function readRunDynamicsAsync(runDir: string): Promise<RunDynamics> {
  const stat = await fs.promises.stat(runDir);
  if (!stat.isDirectory()) throw new DynamicsError(`${runDir} is not a run folder`);
  const file = path.join(runDir, DYNAMICS_FILE);
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NoDynamicsError(runDir);
    throw err;
  }
  return runDynamicsOf(runDir, file, bytes);
}

function runDynamicsOf(runDir: string, file: string, bytes: Buffer): RunDynamics {
  const dynamics = parseDynamics(bytes, file);
  let config: RunConfig | null = null;
  let configProblem: string | null = null;
  const configFile = path.join(runDir, 'config.json');
  try {
    config = readRunConfig(configFile);
  } catch (err) {
    configProblem = err instanceof RunConfigError ? err.message : `${configFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
  const method = config?.method ?? dynamics.meta.method;
  if (!isRunMethod(method)) throw new DynamicsError(`${file}: __metadata__.method ${JSON.stringify(method)} is not a method this RPO Studio knows`);
  const dataset = config?.dataset ?? dynamics.meta.dataset;
  return {
    runDir, file, dynamics, config, configProblem,
    dataset: path.isAbsolute(dataset) ? dataset : path.resolve(runDir, dataset),
    mode: METHODS[method].data,
    usable: config ? { minAgreement: config.min_agreement, votes: config.votes } : {},
  };
}

/**
 * The mode and usable rules a run keys its file with, from its config.json alone (no dynamics
 * read: cheap enough before a file's scan, which then keys the lines for that run); undefined
 * when the config is missing or unreadable (a run shown then keys the file in a pass of its own).
 */
export function readRunKeyOptions(runDir: string): { mode: UsableMode; usable: UsableOptions } | undefined {
  try {
    const config = readRunConfig(path.join(runDir, 'config.json'));
    if (!isRunMethod(config.method)) return undefined;
    return { mode: METHODS[config.method].data, usable: { minAgreement: config.min_agreement, votes: config.votes } };
  } catch {
    return undefined;
  }
}

export interface FileMatch {
  file: string;
  /** SHA-256 of the file's bytes now, and whether it equals the run's (the very same file). */
  sha256: string;
  sameBytes: boolean;
  /** labels_sha256 of the usable list now (§8), and whether it equals the run's: same records, same labels. */
  labelsSha256: string;
  sameLabels: boolean;
  lineCount: number;
  index: LineIndex;
  match: DynamicsMatch;
}

/**
 * Matches a run's rows to `file` (default: the dataset the run read) as it is now. Reads the
 * whole file (LineIndex, chunked Buffers) and parses each line once.
 */
export async function matchRunToFile(run: RunDynamics, file = run.dataset, options: { signal?: AbortSignal; dynamicsIndex?: DynamicsIndex } = {}): Promise<FileMatch> {
  const index = await LineIndex.read(file, options.signal ? { signal: options.signal } : {});
  const hash = createHash('sha256');
  let left = index.byteLength;
  for (const chunk of index.chunks) {
    const n = Math.min(chunk.length, left);
    hash.update(chunk.subarray(0, n));
    left -= n;
  }
  const sha256 = hash.digest('hex');
  function* lines(): Generator<[number, ReturnType<typeof parseLine>]> {
    for (let i = 0; i < index.lineCount; i++) yield [i, parseLine(index.content(i))];
  }
  const match = matchDynamics(run.dynamics, keyedRecords(lines(), run.mode, run.usable), options.dynamicsIndex);
  return {
    file, sha256, sameBytes: sha256 === run.dynamics.meta.datasetSha256,
    labelsSha256: match.labelsSha256, sameLabels: match.labelsSha256 === run.dynamics.meta.labelsSha256,
    lineCount: index.lineCount, index, match,
  };
}

/**
 * Is the process behind a recorded pid the trainer the record describes? A `launch.json` or a run
 * folder's `process.json` is a workspace file: anyone who wrote the workspace chose its pid. Before
 * a Stop signals that pid (its whole process group), the process must be this user's, run the
 * recorded trainer command line, and have started when the record says the trainer started; a
 * pid reused by another program, or named on purpose, fails one of these. Pure: the process's
 * facts are read by src/node/run/processInfo.ts.
 */

/** What the OS says about a running process. */
export interface ProcessFacts {
  pid: number;
  /** Start time, ms since the epoch (to the second on macOS, to a clock tick and the boot second on Linux). */
  startedAtMs: number;
  /** The arguments, where the OS keeps them apart (Linux /proc/<pid>/cmdline). */
  argv?: string[];
  /** The command line as one string (macOS `ps`, Windows CommandLine). */
  commandLine?: string;
  /** Owner, where known (not on Windows). */
  uid?: number;
}

/** The recorded trainer (launch.json / process.json fields). */
export interface RecordedTrainer {
  pid: number;
  argv: readonly string[];
  /** ISO time the launcher recorded right after the process started. */
  startedAt: string;
}

/** How far the process's own start may be before the recorded start (a slow spawn event on a loaded machine) or after it (clock rounding). */
export const START_BEFORE_MS = 30_000;
export const START_AFTER_MS = 2_000;

export type TrainerCheck = { ok: true } | { ok: false; reason: string };

const TRAINER_MODULE = ['-m', 'rpo_trainer', 'train'];

/** True when argv is a trainer launch as buildTrainArgv makes them (`-m rpo_trainer train` in it). */
export function isTrainerArgv(argv: readonly string[]): boolean {
  for (let i = 0; i + TRAINER_MODULE.length <= argv.length; i++) {
    if (TRAINER_MODULE.every((a, k) => argv[i + k] === a)) return true;
  }
  return false;
}

const unquote = (s: string) => s.replace(/"/g, '').replace(/\s+/g, ' ').trim();

export function checkTrainer(record: RecordedTrainer, facts: ProcessFacts | undefined, ownUid: number | undefined): TrainerCheck {
  const pid = record.pid;
  if (!Number.isInteger(pid) || pid <= 0) return { ok: false, reason: `the recorded pid ${String(pid)} is not a process id` };
  if (!Array.isArray(record.argv) || !isTrainerArgv(record.argv)) return { ok: false, reason: 'the recorded command line is not an RPO trainer launch' };
  if (!facts) return { ok: false, reason: `no process with pid ${pid} is running` };
  if (ownUid !== undefined && facts.uid !== undefined && facts.uid !== ownUid) return { ok: false, reason: `pid ${pid} belongs to another user` };
  // The interpreter path may differ (a venv link resolved, macOS's framework Python): compare the arguments.
  const args = record.argv.slice(1);
  let sameCommand: boolean;
  if (facts.argv) {
    sameCommand = facts.argv.length === record.argv.length && args.every((a, i) => facts.argv![i + 1] === a);
  } else if (facts.commandLine !== undefined) {
    sameCommand = unquote(facts.commandLine).endsWith(' ' + unquote(args.join(' ')));
  } else sameCommand = false;
  if (!sameCommand) return { ok: false, reason: `pid ${pid} runs another command line than the recorded trainer` };
  const recorded = Date.parse(record.startedAt);
  if (!Number.isFinite(recorded)) return { ok: false, reason: `the recorded start time ${JSON.stringify(record.startedAt)} is not a time` };
  if (facts.startedAtMs < recorded - START_BEFORE_MS || facts.startedAtMs > recorded + START_AFTER_MS) {
    return { ok: false, reason: `pid ${pid} started at ${new Date(facts.startedAtMs).toISOString()}, not when the trainer was recorded to start (${record.startedAt})` };
  }
  return { ok: true };
}

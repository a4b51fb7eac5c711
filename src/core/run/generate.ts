/**
 * `rpo generate` / "RPO: Sample from Run…": the options, the trainer's argument vector and the
 * progress text. Pure (no processes): src/node/run/generate.ts runs it. The Python side is
 * trainer/rpo_trainer/generate.py; the files it writes are docs/formats.md, "Candidates from a run".
 */
import type { GenerateProgressEvent } from './events';
import { formatDuration } from './state';

export interface GenerateOptions {
  /** The run folder (absolute). */
  runDir: string;
  /** `latest`, a step number, a `step-N` name or a folder; default: the run's final model. */
  checkpoint?: string;
  /** `reference` (default), `dataset`, or another run folder (absolute). */
  baseline?: string;
  /** A prompt or preference file (absolute); default: the run's eval split. */
  prompts?: string;
  numPrompts?: number;
  /** The candidates file (`*.pref.jsonl`); default: `<run>/samples/<A>-vs-<B>.<split>.pref.jsonl`. */
  out?: string;
  overwrite?: boolean;
  maxNewTokens?: number;
  temperature?: number;
  topP?: number;
  greedy?: boolean;
  seed?: number;
  batchSize?: number;
}

/** Problems with the options, before anything starts (empty: fine). */
export function checkGenerateOptions(o: GenerateOptions): string[] {
  const problems: string[] = [];
  const positiveInt = (v: number | undefined, name: string) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) problems.push(`${name} must be a whole number of at least 1, found ${v}`);
  };
  positiveInt(o.numPrompts, 'number of prompts');
  positiveInt(o.maxNewTokens, 'max new tokens');
  positiveInt(o.batchSize, 'batch size');
  if (o.seed !== undefined && !Number.isInteger(o.seed)) problems.push(`seed must be a whole number, found ${o.seed}`);
  if (o.temperature !== undefined && !(o.temperature > 0)) problems.push(`temperature must be above 0, found ${o.temperature}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) problems.push(`top-p must be in (0, 1], found ${o.topP}`);
  if (o.out !== undefined && !o.out.endsWith('.pref.jsonl')) problems.push(`the output file must end in .pref.jsonl, found ${o.out}`);
  return problems;
}

/**
 * `python -m rpo_trainer generate RUN_DIR [options]`; with `numProcesses` > 1 through
 * `accelerate launch` (the prompts are split across the processes), as training starts.
 */
export function buildGenerateArgv(python: string, o: GenerateOptions, numProcesses = 1, mainProcessPort?: number): string[] {
  const args = ['-m', 'rpo_trainer', 'generate', o.runDir];
  const opt = (flag: string, v: string | number | undefined) => {
    if (v !== undefined) args.push(flag, String(v));
  };
  opt('--checkpoint', o.checkpoint);
  opt('--baseline', o.baseline);
  opt('--prompts', o.prompts);
  opt('--num-prompts', o.numPrompts);
  opt('--out', o.out);
  if (o.overwrite) args.push('--overwrite');
  opt('--max-new-tokens', o.maxNewTokens);
  opt('--temperature', o.temperature);
  opt('--top-p', o.topP);
  if (o.greedy) args.push('--greedy');
  opt('--seed', o.seed);
  opt('--batch-size', o.batchSize);
  if (numProcesses <= 1) return [python, ...args];
  const launch = [python, '-m', 'accelerate.commands.launch', '--num_processes', String(numProcesses), '--multi_gpu', '--num_machines', '1',
    '--mixed_precision', 'no', '--dynamo_backend', 'no'];
  if (mainProcessPort !== undefined) launch.push('--main_process_port', String(mainProcessPort));
  return [...launch, ...args];
}

/** "12/64 records (19%), 350 tok/s, ETA 1m 20s" */
export function generateProgressText(e: Pick<GenerateProgressEvent, 'done' | 'total' | 'tokens_per_second' | 'eta_seconds'>): string {
  const pct = e.total > 0 ? Math.floor((100 * e.done) / e.total) : 100;
  return `${e.done}/${e.total} records (${pct}%), ${Math.round(e.tokens_per_second)} tok/s, ETA ${formatDuration(e.eta_seconds)}`;
}

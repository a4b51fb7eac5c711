import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { type GenerateOptions, buildGenerateArgv, checkGenerateOptions, generateProgressText } from '../core/run/generate';
import { trainerProcessOptions } from '../core/run/launch';
import { formatDuration } from '../core/run/state';
import { freeLocalPort } from '../node/run/freePort';
import { GenerateProcess } from '../node/run/generate';
import { cliPython, trainerRoot } from './trainerPaths';
import { CliError, type CliCommand } from './types';

const help = `rpo generate RUN_DIR [options]

Samples the run's model (A) and a baseline (B) on held-out prompts and writes a blind candidates
file for the preference editor, plus a sidecar saying which model wrote which response
(docs/evaluate.md). Progress with ETA on stderr. Ctrl+C stops cleanly: every record written is
kept, and the same command continues the file (a second Ctrl+C kills).

Options:
  --checkpoint C       latest, a step number, a step-N name or a folder (default: final/)
  --baseline B         reference (the run's starting model; default), dataset (each prompt
                       record's chosen response), or another RUN_DIR
  --prompts FILE       a prompt or preference JSONL file (default: the run's eval split);
                       lines without a prompt are skipped and counted
  --num-prompts N      sample N prompts (drawn with --seed, kept in file order)
  --out FILE           the candidates file, *.pref.jsonl
                       (default: RUN_DIR/samples/<A>-vs-<B>.<split>.pref.jsonl)
  --overwrite          start the file again instead of continuing it
  --max-new-tokens N   default 128
  --temperature T      default 0.7
  --top-p P            default 0.9
  --greedy             greedy decoding (temperature and top-p unused)
  --seed N             prompt draw, sampling and response order (default 0)
  --batch-size N       prompts per batch and process (default 8)
  --num-processes N    GPUs, through accelerate launch (default 1)
  --python PATH        Python with the trainer's requirements (default: $RPO_PYTHON, else python3)
  --stop-timeout S     seconds to wait after Ctrl+C before killing (default 30)

Exit status: 0 completed, 3 stopped, 1 failed, 2 usage error.`;

function num(v: string | undefined, name: string, integer = true): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new CliError(`--${name}: expected ${integer ? 'a whole number' : 'a number'}, found '${v}'`);
  return n;
}

export const generateCommand: CliCommand = {
  name: 'generate',
  summary: "sample a run's model and a baseline into a blind candidates file",
  help,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        checkpoint: { type: 'string' },
        baseline: { type: 'string' },
        prompts: { type: 'string' },
        'num-prompts': { type: 'string' },
        out: { type: 'string' },
        overwrite: { type: 'boolean' },
        'max-new-tokens': { type: 'string' },
        temperature: { type: 'string' },
        'top-p': { type: 'string' },
        greedy: { type: 'boolean' },
        seed: { type: 'string' },
        'batch-size': { type: 'string' },
        'num-processes': { type: 'string' },
        python: { type: 'string' },
        'stop-timeout': { type: 'string', default: '30' },
      },
    });
    if (positionals.length !== 1) throw new CliError(`expected one run folder\n\n${help}`);
    const baseline = values.baseline && !['reference', 'dataset'].includes(values.baseline) ? path.resolve(values.baseline) : values.baseline;
    const options: GenerateOptions = {
      runDir: path.resolve(positionals[0]),
      // A folder given as a path is resolved here (the trainer runs from its own folder); a name or step number is not.
      checkpoint: values.checkpoint && /[\\/]/.test(values.checkpoint) ? path.resolve(values.checkpoint) : values.checkpoint,
      baseline,
      prompts: values.prompts ? path.resolve(values.prompts) : undefined,
      numPrompts: num(values['num-prompts'], 'num-prompts'),
      out: values.out ? path.resolve(values.out) : undefined,
      overwrite: values.overwrite,
      maxNewTokens: num(values['max-new-tokens'], 'max-new-tokens'),
      temperature: num(values.temperature, 'temperature', false),
      topP: num(values['top-p'], 'top-p', false),
      greedy: values.greedy,
      seed: num(values.seed, 'seed'),
      batchSize: num(values['batch-size'], 'batch-size'),
    };
    const problems = checkGenerateOptions(options);
    if (problems.length) throw new CliError(problems.join('\n'));
    const processes = num(values['num-processes'], 'num-processes') ?? 1;
    if (processes < 1) throw new CliError('--num-processes: expected at least 1');
    const stopTimeout = num(values['stop-timeout'], 'stop-timeout', false)!;
    const python = cliPython(values.python);
    const argv = buildGenerateArgv(python, options, processes, processes > 1 ? await freeLocalPort() : undefined);
    const err = process.stderr;
    const line = (text: string) => err.write(`${err.isTTY ? '\r\x1b[K' : ''}${text}\n`);
    let proc: GenerateProcess;
    try {
      proc = await GenerateProcess.start(argv, trainerProcessOptions(process.env, trainerRoot()), {
        event: (e) => {
          if (e.type === 'generate_start') {
            const skipped = Object.entries(e.skipped ?? {}).map(([k, n]) => `${n} ${k}`).join(', ');
            line(`${e.done > 0 ? `continuing at record ${e.done + 1} of` : 'sampling'} ${e.total} prompts (${e.prompts.split === 'eval' ? "the run's eval split" : e.prompts.file})${skipped ? `; skipped lines: ${skipped}` : ''}\n  -> ${e.out}`);
          } else if (e.type === 'generate_progress') {
            const text = generateProgressText(e);
            if (err.isTTY) err.write(`\r\x1b[K${text}`);
            else line(text);
          } else if (e.type === 'log' && e.level !== 'debug') line(`${e.level}: ${e.message}`);
          else if (e.type === 'error') line(`error (${e.error_type}): ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`);
        },
        malformed: (text, error) => line(`skipped a malformed event line (${error}): ${text.slice(0, 200)}`),
        stderr: (text) => {
          if (/error|warn|traceback/i.test(text) && !/^\[rpo_trainer\] error:/.test(text)) line(text);
        },
      });
    } catch (error) {
      throw new CliError(`could not start ${python}: ${(error as Error).message}. Set --python or $RPO_PYTHON to a Python with the trainer's requirements.`, 1);
    }
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts === 1) {
        line('stopping: the batch in progress is dropped, the records written are kept (Ctrl+C again to kill)');
        proc.stop(stopTimeout * 1000);
      } else proc.kill();
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    let result;
    try {
      result = await proc.whenExited();
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
    if (result.status === 'failed') {
      if (!result.error) line(`failed: ${result.failure ?? 'unknown reason'}`);
      return 1;
    }
    const end = result.end!;
    line(`${end.status}: ${end.done} of ${end.total} records in ${formatDuration(end.elapsed_seconds)}${end.message ? ` (${end.message})` : ''}\n  ${end.out}\n  ${end.sidecar}`);
    return end.status === 'stopped' ? 3 : 0;
  },
};

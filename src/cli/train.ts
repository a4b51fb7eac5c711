import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { RunConfigError, launchPlanOf, readRunConfig } from '../core/run/config';
import { buildTrainArgv, trainerProcessOptions } from '../core/run/launch';
import { freeLocalPort } from '../node/run/freePort';
import { RunsFolderError, TrainerProcess, TrainerSpawnError, runsFolderFix } from '../node/run/process';
import { ProgressPrinter } from './progress';
import { cliPython, trainerRoot } from './trainerPaths';
import { CliError, type CliCommand } from './types';

const help = `rpo train RUN.rpo.json [options]
rpo train --resume RUN_DIR [options]

Starts the RPO trainer (python -m rpo_trainer train) for a run config and shows its progress on
stderr. Ctrl+C stops the run gracefully: the trainer finishes its step, saves a checkpoint and
ends as "stopped" (resume it with --resume RUN_DIR); a second Ctrl+C kills it.
With num_processes > 1 in the config, the run starts through accelerate launch.

Options:
  --resume RUN_DIR   continue a stopped run from its last checkpoint
  --python PATH      Python interpreter with the trainer's requirements
                     (default: $RPO_PYTHON, else python3 on the PATH)
  --stop-timeout S   seconds to wait after Ctrl+C before killing (default 120)

Exit status: 0 completed, 3 stopped, 1 failed, 2 usage error.`;

export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'start a training run from a run config, with a progress bar',
  help,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { resume: { type: 'string' }, python: { type: 'string' }, 'stop-timeout': { type: 'string', default: '120' } },
    });
    if (positionals.length > 1) throw new CliError('expected one run config file');
    const resume = values.resume ? path.resolve(values.resume) : undefined;
    const configPath = positionals[0] ? path.resolve(positionals[0]) : undefined;
    if (!configPath && !resume) throw new CliError(`a run config is required\n\n${help}`);
    if (configPath && resume) throw new CliError('give either a run config or --resume RUN_DIR, not both');
    const stopTimeout = Number(values['stop-timeout']);
    if (!Number.isFinite(stopTimeout) || stopTimeout <= 0) throw new CliError('--stop-timeout: expected a positive number of seconds');

    const source = configPath ?? path.join(resume!, 'config.json');
    let plan;
    try {
      plan = launchPlanOf(readRunConfig(source), path.dirname(source));
    } catch (err) {
      if (err instanceof RunConfigError) throw new CliError(err.message);
      throw err;
    }
    const python = cliPython(values.python);
    const argv = buildTrainArgv({
      python,
      configPath,
      resumeRunDir: resume,
      numProcesses: plan.numProcesses,
      accelerateConfig: plan.accelerateConfig,
      mainProcessPort: plan.numProcesses > 1 && !plan.accelerateConfig ? await freeLocalPort() : undefined,
    });
    // A resumed run's saved config has output_dir resolved already: its parent holds the runs.
    const runsDir = resume ? path.dirname(resume) : plan.outputDir;
    let proc: TrainerProcess;
    try {
      proc = await TrainerProcess.start({
        argv,
        ...trainerProcessOptions(process.env, trainerRoot()),
        runsDir,
        configPath,
        resumeRunDir: resume,
        pollMs: 100,
      });
    } catch (err) {
      if (err instanceof RunsFolderError) throw new CliError(`${err.message}. ${runsFolderFix(err, configPath)}`, 1);
      if (!(err instanceof TrainerSpawnError)) throw err;
      throw new CliError(`could not start ${python}: ${err.message}. Set --python or $RPO_PYTHON to a Python with the trainer's requirements (see rpo_trainer doctor).`, 1);
    }
    const printer = new ProgressPrinter(process.stderr);
    proc.onDidChange({
      event: (e, state) => printer.onEvent(e, state),
      malformed: (line, error) => printer.line(`skipped a malformed event line (${error}): ${line.slice(0, 200)}`),
      stderr: (line) => {
        if (!process.stderr.isTTY || /error|warn|traceback/i.test(line)) printer.line(line);
      },
    });
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts === 1) {
        printer.line('stopping: the trainer finishes its step and saves a checkpoint (Ctrl+C again to kill)');
        void proc.stop(stopTimeout * 1000);
      } else proc.kill();
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    try {
      await proc.whenExited();
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
    const state = proc.state;
    if (state.status === 'failed') {
      if (state.error?.traceback) printer.line(state.error.traceback.trimEnd());
      if (state.failure?.stderrTail && !state.error) printer.line(`last stderr lines:\n${state.failure.stderrTail}`);
      printer.line(`failed: ${state.failure?.reason ?? 'unknown reason'}`);
      return 1;
    }
    return state.status === 'stopped' ? 3 : 0;
  },
};

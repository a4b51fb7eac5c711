/**
 * How the trainer is started: which Python, with which argument vector. Pure: the sources of a
 * Python path are passed in, so the order is tested without VS Code. Never a shell string.
 */

export type PythonSource = 'setting' | 'python-extension' | 'path';

export interface PythonChoice {
  /** Executable path (or bare command name for PATH lookup, e.g. `python3`). */
  command: string;
  source: PythonSource;
}

export interface PythonSources {
  /** `rpo.python.path` from user/machine settings only (never the workspace's). */
  setting(): string | undefined;
  /** The Python extension's active interpreter for the folder, when that extension is installed. */
  pythonExtension(): Promise<string | undefined>;
  /**
   * Whether the workspace is trusted. The Python extension's interpreter can come from the
   * workspace (`python.defaultInterpreterPath` in its settings, a `.venv` inside it), so it is
   * not asked in an untrusted workspace: only the user's setting or python3 on the PATH.
   */
  trusted: boolean;
}

export const PATH_PYTHON = process.platform === 'win32' ? 'python' : 'python3';

/** The setting, else (trusted workspaces) the Python extension's interpreter, else python3 on the PATH. */
export async function discoverPython(sources: PythonSources): Promise<PythonChoice> {
  const configured = sources.setting()?.trim();
  if (configured) return { command: configured, source: 'setting' };
  if (!sources.trusted) return { command: PATH_PYTHON, source: 'path' };
  let fromExtension: string | undefined;
  try {
    fromExtension = (await sources.pythonExtension())?.trim();
  } catch {
    fromExtension = undefined;
  }
  if (fromExtension) return { command: fromExtension, source: 'python-extension' };
  return { command: PATH_PYTHON, source: 'path' };
}

/**
 * The interpreter that the Python extension (ms-python.python) has selected, read through its
 * public API as @vscode/python-extension describes it: `exports.environments.getActiveEnvironmentPath(resource)`
 * gives `{ id, path }` (path: an executable, or an environment folder, or `python` when nothing is
 * selected); `resolveEnvironment(envPath)` gives `{ executable: { uri } }` (uri undefined for an
 * environment without Python). The resolved executable wins; an unresolved `path` is used only
 * when it is an absolute path of a file (`isFile`). Every access is checked: `exports` comes from
 * another extension. Undefined when there is nothing usable.
 */
export async function interpreterFromPythonApi(exports: unknown, resource: unknown, isFile: (p: string) => boolean): Promise<string | undefined> {
  const environments = (exports as { environments?: unknown } | null | undefined)?.environments as
    | { getActiveEnvironmentPath?: unknown; resolveEnvironment?: unknown }
    | undefined;
  if (!environments || typeof environments.getActiveEnvironmentPath !== 'function') return undefined;
  const active = (await (environments.getActiveEnvironmentPath as (r: unknown) => unknown).call(environments, resource)) as { path?: unknown } | undefined;
  const activePath = typeof active?.path === 'string' && active.path.trim() ? active.path.trim() : undefined;
  if (!activePath) return undefined;
  if (typeof environments.resolveEnvironment === 'function') {
    const resolved = (await (environments.resolveEnvironment as (e: unknown) => unknown).call(environments, active)) as
      | { executable?: { uri?: { fsPath?: unknown } } }
      | undefined;
    const executable = resolved?.executable?.uri?.fsPath;
    if (typeof executable === 'string' && executable) return executable;
  }
  return isAbsolutePath(activePath) && isFile(activePath) ? activePath : undefined;
}

function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
}

export interface TrainLaunch {
  python: string;
  /** Absolute path of the run config (`*.rpo.json`); not needed to resume. */
  configPath?: string;
  /** Processes (GPUs); more than 1 starts through `accelerate launch`. */
  numProcesses?: number;
  /** Optional accelerate config file (absolute). */
  accelerateConfig?: string;
  /** Run folder to resume from its last checkpoint (the trainer reads its saved config.json). */
  resumeRunDir?: string;
  /**
   * Rendezvous port of a multi-process run without an accelerate config (see freeLocalPort);
   * accelerate's default, 29500, would clash between two runs on one machine.
   */
  mainProcessPort?: number;
}

/**
 * The argument vector that starts a training run. argv[0] is the executable.
 * Multi-process runs use `python -m accelerate.commands.launch` (what the `accelerate` script
 * runs), so the same interpreter and environment are used as for one process, with no
 * dependence on an `accelerate` script being on the PATH.
 */
export function buildTrainArgv(launch: TrainLaunch): string[] {
  const trainer = ['-m', 'rpo_trainer', 'train'];
  if (launch.resumeRunDir) trainer.push('--resume', launch.resumeRunDir);
  else if (launch.configPath) trainer.push('--config', launch.configPath);
  else throw new Error('a run config or a run folder to resume is required');
  const n = launch.numProcesses ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new Error(`num_processes must be a positive integer, got ${String(n)}`);
  if (n === 1 && !launch.accelerateConfig) return [launch.python, ...trainer];
  const accelerate = [launch.python, '-m', 'accelerate.commands.launch', '--num_processes', String(n)];
  if (launch.accelerateConfig) accelerate.push('--config_file', launch.accelerateConfig);
  else if (n > 1) {
    // Without a config file, `accelerate launch --num_processes N` starts N processes only when it
    // sees more than one GPU; otherwise (one GPU, or CPU) it silently runs ONE process. Ask for
    // data parallelism explicitly: torchrun-style workers, NCCL on GPUs, gloo on the CPU. Precision
    // and dynamo are the trainer's own settings (its Accelerator arguments win over these).
    accelerate.push('--multi_gpu', '--num_machines', '1', '--mixed_precision', 'no', '--dynamo_backend', 'no');
    if (launch.mainProcessPort !== undefined) accelerate.push('--main_process_port', String(launch.mainProcessPort));
  }
  return [...accelerate, ...trainer];
}

export function buildDoctorArgv(python: string): string[] {
  return [python, '-m', 'rpo_trainer', 'doctor'];
}

/**
 * Environment of the trainer process: PYTHONPATH starts with the folder holding the shipped
 * `rpo_trainer` package (so the extension's own trainer runs, not another installed version),
 * Python writes stdout unbuffered (events arrive per line even when stdout is a file), and
 * PYTHONSAFEPATH=1 (Python 3.11+; the environment reaches accelerate's rank workers too, where a
 * `-P` flag would not) keeps the working directory off sys.path. See trainerProcessOptions.
 */
export function trainerEnv(base: NodeJS.ProcessEnv, trainerRoot: string, pathSeparator = process.platform === 'win32' ? ';' : ':'): NodeJS.ProcessEnv {
  const existing = base.PYTHONPATH;
  return {
    ...base,
    PYTHONPATH: existing ? `${trainerRoot}${pathSeparator}${existing}` : trainerRoot,
    PYTHONUNBUFFERED: '1',
    PYTHONIOENCODING: 'utf-8',
    PYTHONSAFEPATH: '1',
  };
}

/**
 * Environment and working directory of every trainer process (a run from VS Code or `rpo train`,
 * one process or accelerate's launcher and ranks, the doctor). `python -m` puts its working
 * directory first on sys.path, before PYTHONPATH: run from a workspace folder, a `json.py` or an
 * `rpo_trainer/` next to a run config would shadow the standard library or the shipped trainer.
 * So the trainer runs from the folder of the shipped package (nothing there but the trainer), and
 * with PYTHONSAFEPATH=1 where Python (3.11+) knows it; Python 3.10 has no `-P`, the working
 * directory covers it. The trainer resolves config paths against the config's folder, never the
 * working directory.
 */
export function trainerProcessOptions(base: NodeJS.ProcessEnv, trainerRoot: string): { env: NodeJS.ProcessEnv; cwd: string } {
  return { env: trainerEnv(base, trainerRoot), cwd: trainerRoot };
}

import { stat } from 'node:fs/promises';

export interface CliCommand {
  name: string;
  /** One line for `rpo --help`. */
  summary: string;
  /** Full help for `rpo <name> --help`. */
  help: string;
  /** Returns the exit status. Throw CliError for a user error (message printed, no stack). */
  run(args: string[]): Promise<number>;
}

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}

/** A usage error (exit 2) unless `file` is a regular file this process can stat. */
export async function requireFile(file: string): Promise<void> {
  try {
    if (!(await stat(file)).isFile()) throw new CliError(`${file} is not a file`);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The value of `--name N`: a whole number >= 0 (digits only), or `dflt` when the option is absent. */
export function wholeNumberOption(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new CliError(`--${name} must be a whole number >= 0, got '${v}'`);
  return Number(v);
}

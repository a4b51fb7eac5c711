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

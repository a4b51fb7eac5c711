import type { CliCommand } from './types';

/** Every `rpo` subcommand. Each lives in its own module next to this file. */
export const commands: CliCommand[] = [];

import type { CliCommand } from './types';
import { importHhCommand } from './importHh';
import { validateCommand } from './validate';

/** Every `rpo` subcommand. Each lives in its own module next to this file. */
export const commands: CliCommand[] = [validateCommand, importHhCommand];

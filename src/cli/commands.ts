import { runsCommand } from './runs';
import { tailCommand } from './tail';
import { trainCommand } from './train';
import type { CliCommand } from './types';
import { importHhCommand } from './importHh';
import { validateCommand } from './validate';
import { embedCommand } from './embed';
import { weightsCommand } from './weights';

/** Every `rpo` subcommand. Each lives in its own module next to this file. */
export const commands: CliCommand[] = [validateCommand, importHhCommand, trainCommand, runsCommand, tailCommand, embedCommand, weightsCommand];

import { runsCommand } from './runs';
import { tailCommand } from './tail';
import { trainCommand } from './train';
import type { CliCommand } from './types';
import { importHhCommand } from './importHh';
import { importCommand } from './import';
import { exportCommand } from './export';
import { validateCommand } from './validate';
import { embedCommand } from './embed';
import { weightsCommand } from './weights';
import { agreementCommand } from './agreement';
import { winrateCommand } from './winrate';
import { mergeCommand, mergeDriverCommand } from './merge';
import { suspectsCommand } from './suspects';
import { generateCommand } from './generate';

/** Every `rpo` subcommand. Each lives in its own module next to this file. */
export const commands: CliCommand[] = [validateCommand, importCommand, exportCommand, importHhCommand, trainCommand, runsCommand, tailCommand, generateCommand, suspectsCommand, embedCommand, weightsCommand, agreementCommand, winrateCommand, mergeCommand, mergeDriverCommand];

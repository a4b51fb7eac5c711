import { commands } from './commands';
import { CliError, type CliCommand } from './types';
import { version } from '../../package.json';

/**
 * `rpo`: the command-line front end over the same core as the extension. What users run on a
 * headless GPU box, in pipelines, and what our end-to-end checks call.
 */
function usage(all: CliCommand[]): string {
  const width = Math.max(...all.map((c) => c.name.length));
  return [
    `rpo ${version}: RPO Studio on the command line`,
    '',
    'Usage: rpo <command> [options]',
    '',
    'Commands:',
    ...all.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  -h, --help     show help (also: rpo <command> --help)',
    '  -v, --version  print the version',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(usage(commands) + '\n');
    return name ? 0 : 2;
  }
  if (name === '-v' || name === '--version') {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`rpo: unknown command '${name}'\n\n${usage(commands)}\n`);
    return 2;
  }
  if (rest.includes('-h') || rest.includes('--help')) {
    process.stdout.write(command.help + '\n');
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`rpo ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    if (isParseArgsError(err)) {
      // An unknown option, a missing value, an extra positional: a usage error like the others.
      process.stderr.write(`rpo ${name}: ${err.message}\n${usageLine(command)}\n(rpo ${name} --help shows every option)\n`);
      return 2;
    }
    throw err;
  }
}

/** The errors node:util's parseArgs throws for command lines it does not accept (codes ERR_PARSE_ARGS_*). */
function isParseArgsError(err: unknown): err is Error {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/** A command's usage line: the first line of its help that starts with `rpo` or `Usage: rpo`. */
export function usageLine(command: CliCommand): string {
  const line = command.help.split('\n').find((l) => /^(Usage: )?rpo /.test(l)) ?? `rpo ${command.name} [options]`;
  return line.startsWith('Usage: ') ? line : `Usage: ${line}`;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err) => { process.stderr.write(`rpo: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`); process.exitCode = 1; },
  );
}

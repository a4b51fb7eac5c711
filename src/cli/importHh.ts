import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { importHhFile, SameFileError } from '../core/dataset/hh';
import { CliError, type CliCommand } from './types';

/** `rpo import-hh IN OUT`: Anthropic HH transcripts to explicit conversational preference records. */
export const importHhCommand: CliCommand = {
  name: 'import-hh',
  summary: 'convert Anthropic HH-RLHF transcripts to prompt/chosen/rejected records',
  help: [
    'Usage: rpo import-hh IN OUT [--json]',
    '',
    'Reads IN, an Anthropic HH-RLHF JSONL file ({"chosen": "\\n\\nHuman: ...\\n\\nAssistant: ...",',
    '"rejected": ...}), and writes OUT with explicit TRL conversational records',
    '{"prompt": [messages], "chosen": [messages], "rejected": [messages]}: the prompt is the',
    'conversation both transcripts share, up to the last user turn. Records whose chosen equals',
    'rejected are written and reported. OUT is written to a temporary file and renamed into place',
    '(through a symbolic link: its target gets the records); OUT must not be IN by any path.',
    '',
    'Options:',
    '  --json   print the report as JSON',
    '',
    'Exit status: 0 when every record converted, 1 when some could not be (they are listed), 2 on',
    'a usage error.',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean', default: false } }, allowPositionals: true, strict: true });
    if (positionals.length !== 2) throw new CliError(`expected IN and OUT, got ${positionals.length} argument(s)\n\n${this.help}`);
    const [input, output] = positionals as [string, string];
    if (resolve(input) === resolve(output)) throw new CliError('IN and OUT must be different files');
    let report;
    try {
      report = await importHhFile(input, output);
    } catch (err) {
      if (err instanceof SameFileError) throw new CliError(`IN and OUT must be different files: ${err.message}`);
      const e = err as NodeJS.ErrnoException;
      if (e.code) throw new CliError(`${e.path ?? input}: ${e.code} (${e.message})`);
      throw err;
    }
    if (values.json) {
      process.stdout.write(JSON.stringify({ input, output, ...report }, null, 2) + '\n');
    } else {
      process.stdout.write(`${input} -> ${output}: ${report.written} of ${report.records} records converted\n`);
      if (report.identical.length) {
        process.stdout.write(`${report.identical.length} records have chosen equal to rejected (written; nothing to learn from them): lines ${report.identical.join(', ')}\n`);
      }
      for (const p of report.problems) process.stdout.write(`${input}:${p.line}: ${p.reason}\n`);
    }
    return report.problems.length ? 1 : 0;
  },
};

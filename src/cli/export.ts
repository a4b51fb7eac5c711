import { parseArgs } from 'node:util';
import type { LabelState } from '../core/dataset/formats';
import { EXPORT_STATES, EXPORT_STATES_DEFAULT, ExportCancelled, ExportError, exportParquet } from '../node/exportParquet';
import { SameInputError } from '../node/importTables';
import { CliError, type CliCommand } from './types';

/** `rpo export FILE.pref.jsonl -o OUT.parquet`: labeled records in TRL's column layout. */
export const exportCommand: CliCommand = {
  name: 'export',
  summary: "export a preference file to Parquet in TRL's column layout (for datasets and the Hub)",
  help: [
    'Usage: rpo export FILE.pref.jsonl -o OUT.parquet [--labeled-only] [--states S,...] [--json]',
    '',
    "Writes the records of FILE as Parquet in TRL's column layout: prompt / chosen / rejected (or",
    'prompt / completion / label), every extra field as a column of its own type (integers int64,',
    'numbers written with a decimal point double, lists of messages list<struct<content, role>>),',
    'and rpo_label as one struct column. datasets.load_dataset("parquet", data_files=OUT) reads it.',
    '',
    'Which records: by label state (docs/formats.md). Default: labeled and unreviewed, the records',
    'that carry a preference; ties, skips, both-bad, excluded and records still awaiting a label are',
    'left out and counted.',
    '',
    'Options:',
    '  -o, --output OUT   the Parquet file to write (temporary file, then renamed; never FILE)',
    '  --labeled-only     only records an annotator labeled (state labeled)',
    `  --states S,...     the states to export, from: ${EXPORT_STATES.join(', ')}`,
    '  --json             print the report as JSON',
    '',
    'Exit status: 0 on success, 2 on a usage error or a line that is not a valid record (named).',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        output: { type: 'string', short: 'o' },
        'labeled-only': { type: 'boolean', default: false },
        states: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1) throw new CliError(`expected one FILE, got ${positionals.length}\n\n${this.help}`);
    if (!values.output) throw new CliError(`expected -o OUT.parquet\n\n${this.help}`);
    if (values['labeled-only'] && values.states) throw new CliError('--labeled-only and --states: give one');
    let states: LabelState[] = EXPORT_STATES_DEFAULT;
    if (values['labeled-only']) states = ['labeled'];
    if (values.states) {
      states = values.states.split(',').map((s) => s.trim()).filter(Boolean) as LabelState[];
      const bad = states.filter((s) => !EXPORT_STATES.includes(s));
      if (bad.length) throw new CliError(`--states: unknown ${bad.map((b) => `"${b}"`).join(', ')} (states: ${EXPORT_STATES.join(', ')})`);
    }
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    try {
      const report = await exportParquet(positionals[0]!, values.output, { states, signal: controller.signal });
      if (values.json) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      } else {
        const left = Object.entries(report.leftOut).map(([s, n]) => `${s} ${n}`).join(', ');
        process.stdout.write(`${report.input} -> ${report.output}: ${report.written} of ${report.records} records${left ? ` (left out: ${left})` : ''}\n`);
        process.stdout.write(`columns: ${report.columns.map((c) => `${c.name} (${c.type})`).join(', ')}\n`);
      }
      return 0;
    } catch (err) {
      if (err instanceof ExportError || err instanceof ExportCancelled) throw new CliError(err.message, err instanceof ExportCancelled ? 130 : 2);
      const e = err as NodeJS.ErrnoException;
      if (e.code && e.path) throw new CliError(`${e.path}: ${e.code} (${e.message})`);
      if (err instanceof SameInputError) throw new CliError(err.message);
      throw err;
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};

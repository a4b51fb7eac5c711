import { parseArgs } from 'node:util';
import { describeType } from '../core/dataset/columns';
import { formatMap, parseMapSpec } from '../core/dataset/fieldMap';
import { ImportCancelled, importTables, inspectTable, previewImport } from '../node/importTables';
import { TableError } from '../node/tables';
import { CliError, type CliCommand } from './types';

/** `rpo import FILE... -o OUT.pref.jsonl`: Parquet / Arrow / JSON / JSONL to preference records. */
export const importCommand: CliCommand = {
  name: 'import',
  summary: 'import Parquet, Arrow, JSON or JSONL preference data (several shards) into one .pref.jsonl file',
  help: [
    'Usage: rpo import FILE... -o OUT.pref.jsonl [--map TARGET=COLUMN,...] [--drop COLUMN,...] [--dry-run] [--json]',
    '',
    'Reads .parquet, .arrow (Arrow IPC files and streams, as `datasets` saves them), .json (an array of',
    'records) and .jsonl files and writes one preference JSON Lines file (docs/formats.md). Several',
    'files (shards) are written one after the other into OUT.',
    '',
    'The field mapping says which column becomes which record field. Without --map the mapping is',
    "proposed from the first file's columns (TRL names as they are; UltraFeedback, SHP, question /",
    'response_j / response_k and Argilla exports recognised) and printed. Targets:',
    '  prompt, chosen, rejected            paired preference (no prompt: the shared turns are the prompt)',
    '  prompt, completion, label           unpaired preference (no label: awaiting a thumbs up / down)',
    '  prompt, response_a, response_b      two responses awaiting a label (candidates), or with',
    '    a_preferred (1/true: A is chosen)  a paired preference (SHP: a_preferred=labels)',
    '--map edits the proposal: --map chosen=response_j,rejected=response_k (an empty COLUMN unmaps).',
    'Columns not mapped are kept in each record under their own name (names the record shape uses,',
    'like "prompt", as "source_<name>"), so `rpo export` gives them back.',
    '',
    'Rows whose mapped fields are null or of the wrong shape are not written; each is reported with',
    'its file, row and column. OUT is written to a temporary file and renamed when every file was',
    'read: a failed or interrupted import leaves no partial OUT, and OUT may not be an input.',
    '',
    'Options:',
    '  -o, --output OUT   the preference file to write',
    '  --map SPEC         TARGET=COLUMN pairs, comma-separated, applied over the proposal',
    '  --drop COLUMNS     columns to leave out (needed for columns of a type JSON cannot hold, e.g. binary)',
    '  --dry-run          print the columns, the mapping and the first records; write nothing',
    '  --json             print the report as JSON',
    '',
    'Exit status: 0 when every row was written, 1 when some rows were not (listed), 2 on a usage',
    'error or a file that cannot be read.',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        output: { type: 'string', short: 'o' },
        map: { type: 'string' },
        drop: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
    if (!positionals.length) throw new CliError(`expected at least one FILE\n\n${this.help}`);
    if (!values.output && !values['dry-run']) throw new CliError(`expected -o OUT.pref.jsonl\n\n${this.help}`);
    const drop = values.drop ? values.drop.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
    const out = process.stdout;
    const log = (s: string) => { if (!values.json) out.write(s + '\n'); };
    try {
      const first = await inspectTable(positionals[0]!);
      let map = first.proposal.map;
      try {
        if (values.map) map = parseMapSpec(values.map, map);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      log(`${positionals[0]}: ${first.format}${first.rowCount != null ? `, ${first.rowCount.toLocaleString('en-US')} rows` : ''}; columns: ${first.columns.map((c) => `${c.name} (${describeType(c.type)})`).join(', ')}`);
      if (!values.map) log(`recognised: ${first.proposal.recognised ?? 'nothing (pass --map)'}`);
      log(`mapping: ${formatMap(map) || '(none)'}`);
      if (!values.map) for (const n of first.proposal.notes) log(`note: ${n}`);
      if (values['dry-run']) {
        const preview = await previewImport(positionals[0]!, map, { drop, limit: 3 });
        if (values.json) out.write(JSON.stringify({ columns: first.columns, map, proposal: first.proposal, preview }, null, 2) + '\n');
        else {
          for (const l of preview.lines) log(l.length > 400 ? `${l.slice(0, 400)}…` : l);
          for (const p of preview.problems) log(`${p.file}: row ${p.row}${p.column ? `, column "${p.column}"` : ''}: ${p.reason}`);
        }
        return 0;
      }
      const isTty = Boolean(process.stderr.isTTY);
      let lastShown = 0;
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      let report;
      try {
        report = await importTables(positionals, values.output!, {
          map,
          drop,
          signal: controller.signal,
          onProgress: (p) => {
            const now = Date.now();
            if (!isTty || now - lastShown < 200) return;
            lastShown = now;
            process.stderr.write(`\r\x1b[K${p.files > 1 ? `[${p.fileIndex + 1}/${p.files}] ` : ''}${p.rows.toLocaleString('en-US')} rows${p.fraction != null ? ` (${Math.round(p.fraction * 100)}%)` : ''}`);
          },
        });
      } finally {
        process.off('SIGINT', onSignal);
        if (isTty) process.stderr.write('\r\x1b[K');
      }
      if (values.json) {
        out.write(JSON.stringify(report, null, 2) + '\n');
      } else {
        log(`${report.output}: ${report.written.toLocaleString('en-US')} of ${report.rows.toLocaleString('en-US')} rows written${report.kept.length ? `; extra fields kept: ${report.kept.join(', ')}` : ''}`);
        for (const p of report.problems) log(`${p.file}: row ${p.row}${p.column ? `, column "${p.column}"` : ''}: ${p.reason}`);
        if (report.problemCount > report.problems.length) log(`… and ${report.problemCount - report.problems.length} more rows not written`);
      }
      return report.problemCount ? 1 : 0;
    } catch (err) {
      if (err instanceof CliError) throw err;
      if (err instanceof ImportCancelled || err instanceof TableError) throw new CliError(err.message, err instanceof ImportCancelled ? 130 : 2);
      const e = err as NodeJS.ErrnoException;
      if (e.code && e.path) throw new CliError(`${e.path}: ${e.code} (${e.message})`);
      if (err instanceof Error && !(err instanceof TypeError) && !(err instanceof RangeError)) throw new CliError(err.message);
      throw err;
    }
  },
};

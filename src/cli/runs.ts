import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { formatDuration } from '../core/run/state';
import { listRuns } from '../node/run/store';
import { type CliCommand } from './types';

export const runsCommand: CliCommand = {
  name: 'runs',
  summary: 'list training runs in a runs folder (default .rpo/runs)',
  help: `rpo runs [DIR] [--json]

Lists the run folders under DIR (default: .rpo/runs in the current folder), newest first: status
(a run whose process is gone without an end event shows as failed), progress, method, last loss.

Options:
  --json   print the summaries as a JSON array`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
    const dir = path.resolve(positionals[0] ?? path.join('.rpo', 'runs'));
    const runs = listRuns(dir);
    if (values.json) {
      process.stdout.write(JSON.stringify(runs, null, 2) + '\n');
      return 0;
    }
    if (!runs.length) {
      process.stdout.write(`no runs in ${dir}\n`);
      return 0;
    }
    const rows = [['RUN', 'STATUS', 'STEP', 'METHOD', 'LOSS', 'ELAPSED', 'STARTED']];
    for (const r of runs) {
      rows.push([
        r.name,
        r.status + (r.live ? '*' : ''),
        `${r.step}/${r.totalSteps}`,
        r.method ?? '–',
        r.loss == null ? '–' : r.loss.toFixed(4),
        formatDuration(r.elapsedSeconds),
        r.startedAt ? r.startedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '–',
      ]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
    for (const row of rows) process.stdout.write(row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n');
    if (runs.some((r) => r.live)) process.stdout.write('* process running on this machine\n');
    return 0;
  },
};

import { parseArgs } from 'node:util';
import { LineIndex } from '../core/dataset/lineIndex';
import { fileVerdict, scanLines, type DatasetStats } from '../core/dataset/stats';
import { formatSuspects, suspectsJson, suspectsReport } from './suspects';
import { CliError, type CliCommand, requireFile } from './types';

/** `rpo validate FILE [--json]`: formats, counts and every invalid line of a preference file. */
export const validateCommand: CliCommand = {
  name: 'validate',
  summary: 'check a preference JSONL file: formats, label counts, invalid lines',
  help: [
    'Usage: rpo validate FILE [--json] [--suspects RUN_DIR]',
    '',
    'Parses every line of FILE (JSON Lines preference data, see docs/formats.md) and prints the',
    'record formats found, label counts (labeled, unlabeled, ties, skips, ...), per-annotator',
    'counts and each invalid line with its number and reason.',
    '',
    'Options:',
    '  --json               print one JSON object instead of text',
    '  --suspects RUN_DIR   also note the run\'s suspect pairs (rpo suspects RUN_DIR --file FILE --top 10):',
    '                       the pairs its model disagrees with, found in FILE by content, and how many',
    '                       labels changed since the run',
    '',
    'Exit status: 0 when every line is valid (blank lines are fine), 1 when any line is invalid,',
    '2 on a usage error or an unreadable file.',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean', default: false }, suspects: { type: 'string' } }, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new CliError(`expected one FILE, got ${positionals.length}\n\n${this.help}`);
    const file = positionals[0]!;
    await requireFile(file);
    const t0 = performance.now();
    const index = await LineIndex.read(file);
    const { stats, invalid } = scanLines(index);
    const verdict = fileVerdict(stats);
    const ms = performance.now() - t0;
    const suspects = values.suspects ? await suspectsReport(values.suspects, { top: 10, file }) : null;
    if (values.json) {
      const out = {
        file,
        bytes: index.byteLength,
        bom: index.bomLength > 0,
        verdict,
        formats: formatsFound(stats),
        stats,
        invalid: invalid.map(({ line, record }) => ({ line: line + 1, code: record.code, field: record.field, column: record.column, reason: record.reason })),
        ...(suspects ? { suspects: suspectsJson(suspects) } : {}),
      };
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    } else {
      process.stdout.write(report(file, stats, verdict.kind === 'preference' ? null : verdict.reason, ms) + '\n');
      for (const { line, record } of invalid) {
        const where = `${file}:${line + 1}${record.column ? `:${record.column}` : ''}`;
        process.stdout.write(`${where}: ${record.reason}\n`);
      }
      if (suspects) process.stdout.write(['', 'suspects of ' + formatSuspects(suspects, 'suspects').join('\n')].join('\n') + '\n');
    }
    return stats.invalid > 0 ? 1 : 0;
  },
};

function formatsFound(stats: DatasetStats): string[] {
  const out: string[] = [];
  for (const [kind, n] of Object.entries(stats.byKind)) if (n > 0) out.push(kind);
  return out;
}

function report(file: string, s: DatasetStats, notPreference: string | null, ms: number): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [`${file}: ${n(s.lines)} lines, ${n(s.records)} records, ${n(s.invalid)} invalid, ${n(s.blank)} blank (${Math.round(ms)} ms)`];
  if (notPreference) lines.push(`not preference data: ${notPreference}`);
  const kinds = Object.entries(s.byKind).filter(([, c]) => c > 0).map(([k, c]) => `${k} ${n(c)}`);
  const styles = Object.entries(s.byStyle).filter(([, c]) => c > 0).map(([k, c]) => `${k} ${n(c)}`);
  if (kinds.length) lines.push(`formats: ${kinds.join(', ')} (${styles.join(', ')})`);
  const st = s.byState;
  lines.push(`labels: labeled ${n(st.labeled)}, unlabeled ${n(st['needs-label'])}, unreviewed ${n(st.unreviewed)}, tie ${n(st.tie)}, skip ${n(st.skip)}, both bad ${n(st.both_bad)}, excluded ${n(st.excluded)}${st.disputed ? `, disputed ${n(st.disputed)}` : ''}`);
  const annotators = Object.entries(s.byAnnotator).sort((a, b) => b[1] - a[1]);
  if (annotators.length) lines.push(`annotators: ${annotators.map(([a, c]) => `${a} ${n(c)}`).join(', ')}`);
  if (s.identicalPairs) lines.push(`warning: ${n(s.identicalPairs)} paired records have chosen equal to rejected`);
  if (s.hhTranscripts) lines.push(`note: ${n(s.hhTranscripts)} records are raw Anthropic HH transcripts; \`rpo import-hh\` makes their prompts explicit`);
  return lines.join('\n');
}

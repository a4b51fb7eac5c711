import { parseArgs } from 'node:util';
import { WinrateError } from '../core/winrate';
import { winrateText } from '../core/winrate/text';
import { winrateOfFile } from '../node/winrate';
import { CliError, type CliCommand, requireFile, wholeNumberOption } from './types';

/** `rpo winrate FILE [--json]`: the win rate of a judged candidates file (docs/evaluate.md). */
export const winrateCommand: CliCommand = {
  name: 'winrate',
  summary: 'win rate of model A over model B in a judged candidates file (from rpo generate)',
  help: [
    'Usage: rpo winrate FILE [--json] [--resamples N] [--seed N]',
    '',
    'FILE is a candidates file written by rpo generate and labeled in the preference editor; its',
    'sidecar FILE.sources.jsonl says which model wrote which response. Records are matched to the',
    'sidecar by pair key. Prints wins, losses, ties (tie and both bad count half; skipped, excluded,',
    'disputed, unlabeled and identical responses are left out and counted), the win rate of A over B',
    'with a Wilson and a bootstrap 95% interval, a length-controlled win rate (logistic regression',
    'of the preference on the length difference, at equal length), the share of left picks, and',
    'the figures per annotator (automatic judges, model:<id>, apart). See docs/evaluate.md.',
    '',
    'Options:',
    '  --json           print one JSON object instead of text',
    '  --resamples N    bootstrap resamples (default 1000; 0: no bootstrap interval)',
    '  --seed N         bootstrap seed (default 0)',
    '',
    'Exit status: 0; 1 when the sidecar is missing or does not match FILE (nothing is guessed);',
    '2 on a usage error or an unreadable file.',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: { json: { type: 'boolean', default: false }, resamples: { type: 'string' }, seed: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1) throw new CliError(`expected one FILE, got ${positionals.length}\n\n${this.help}`);
    const resamples = wholeNumberOption('resamples', values.resamples, 1000);
    const seed = wholeNumberOption('seed', values.seed, 0);
    const file = positionals[0]!;
    await requireFile(file);
    let result;
    try {
      result = await winrateOfFile(file, { resamples, seed });
    } catch (e) {
      if (e instanceof WinrateError) throw new CliError(e.message, 1);
      throw e;
    }
    if (values.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else process.stdout.write(winrateText(file, result.report, result.complete ? null : `generation incomplete: ${result.report.records} of ${result.expected} prompts`) + '\n');
    return 0;
  },
};

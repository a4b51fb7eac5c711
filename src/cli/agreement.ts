import path from 'node:path';
import { parseArgs } from 'node:util';
import type { AgreementReport, Estimate } from '../core/agreement';
import { fileAgreement } from '../node/agreementFile';
import { CliError, type CliCommand, requireFile, wholeNumberOption } from './types';

/** `rpo agreement FILE [--json]`: inter-annotator agreement over the votes in a preference file. */
export const agreementCommand: CliCommand = {
  name: 'agreement',
  summary: 'inter-annotator agreement of a labeled file: kappas, alpha, per-annotator bias',
  help: [
    'Usage: rpo agreement FILE [--json] [--resamples N] [--seed N] [--threads N]',
    '',
    'Reads the votes (rpo_votes, or a single annotator\'s rpo_label) of the pairwise records in FILE',
    'and prints, over the records with two or more votes: percent agreement, Cohen\'s kappa for each',
    'pair of annotators, Fleiss\' kappa, Krippendorff\'s alpha (nominal: first / second / tie; ordinal',
    'with strength), each with a bootstrap 95% interval; per annotator: votes, agreement with the',
    'resolved label, share of left picks with a binomial p-value, ties, skips, median seconds between',
    'consecutive votes. See docs/agreement.md.',
    '',
    'Options:',
    '  --json           print one JSON object instead of text',
    '  --resamples N    bootstrap resamples (default 1000; 0: no intervals)',
    '  --seed N         bootstrap seed (default 0)',
    '  --threads N      worker threads reading the file and resampling (default: the number of cores, at',
    '                   most 8; 0: all in one thread); the results do not depend on it',
    '',
    'Exit status: 0 (invalid lines are counted and left out), 2 on a usage error or an unreadable file.',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: { json: { type: 'boolean', default: false }, resamples: { type: 'string' }, seed: { type: 'string' }, threads: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1) throw new CliError(`expected one FILE, got ${positionals.length}\n\n${this.help}`);
    const resamples = wholeNumberOption('resamples', values.resamples, 1000);
    const seed = wholeNumberOption('seed', values.seed, 0);
    const threads = values.threads === undefined ? undefined : wholeNumberOption('threads', values.threads, 0);
    const file = positionals[0]!;
    await requireFile(file);
    // The built CLI (dist/cli.js) finds its worker next to it (dist/workers/agreement.js); run from
    // source there is none, and everything runs in this thread.
    const { report, invalidLines: invalid } = await fileAgreement(file, { resamples, seed, threads, workerPath: path.join(__dirname, 'workers', 'agreement.js') });
    if (values.json) process.stdout.write(JSON.stringify({ file, invalidLines: invalid, ...report }, null, 2) + '\n');
    else process.stdout.write(text(file, report, invalid) + '\n');
    return 0;
  },
};

function text(file: string, r: AgreementReport, invalid: number): string {
  const f = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
  const e = (x: Estimate) => `${f(x.value)}${x.ci ? ` [${f(x.ci[0])}, ${f(x.ci[1])}]` : ''}`;
  const out = [`${file}: ${r.items} items with two or more votes, ${r.annotators} annotators, ${r.recordsWithVotes} records with votes${invalid ? `, ${invalid} invalid lines left out` : ''}`];
  if (r.items === 0) {
    out.push('no record has two or more votes: nothing to measure');
  } else {
    out.push(`percent agreement      ${e(r.percentAgreement)}`);
    out.push(`Fleiss' kappa          ${e(r.fleiss.kappa)}  (${r.fleiss.items} items with ${r.fleiss.raters} ratings)`);
    out.push(`Krippendorff's alpha   nominal ${e(r.alphaNominal)}, ordinal ${e(r.alphaOrdinal)}`);
    for (const c of r.cohen) out.push(`Cohen's kappa ${JSON.stringify(c.a)} / ${JSON.stringify(c.b)}: ${e(c.kappa)} (${c.items} items)`);
    out.push(`95% intervals: ${r.bootstrap.resamples} bootstrap resamples of the items, seed ${r.bootstrap.seed}`);
  }
  out.push('annotator: votes, agree with resolved, left picks (p), ties, skips, median s between votes');
  for (const a of r.perAnnotator) {
    const agree = a.resolvedCompared ? `${a.agreeWithResolved}/${a.resolvedCompared} (${((100 * a.agreeWithResolved) / a.resolvedCompared).toFixed(1)}%)` : 'n/a';
    const left = a.picks ? `${a.leftPicks}/${a.picks} = ${f(a.leftShare)} (p ${a.leftPValue! < 0.001 ? a.leftPValue!.toExponential(1) : a.leftPValue!.toFixed(3)})` : 'n/a';
    out.push(`  ${JSON.stringify(a.annotator)}: ${a.votes}, ${agree}, ${left}, ${a.ties}, ${a.skips}, ${a.medianSeconds === null ? 'n/a' : a.medianSeconds.toFixed(1)}`);
  }
  return out.join('\n');
}

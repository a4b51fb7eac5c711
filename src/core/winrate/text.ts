import type { AnnotatorWinrate, Counts, PositionBias, WinrateReport } from './index';

/** The text report of `rpo winrate` (and the VS Code command's log). Pure. */
const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
const ci = (c: [number, number] | null) => (c ? `[${(100 * c[0]).toFixed(1)}, ${(100 * c[1]).toFixed(1)}]` : 'n/a');
const bias = (p: PositionBias) => (p.picks ? `${p.left}/${p.picks} = ${pct(p.leftShare)} (p ${p.pValue! < 0.001 ? p.pValue!.toExponential(1) : p.pValue!.toFixed(3)})` : 'n/a');
const counts = (c: Counts) => `${c.judged} judged: A ${c.wins}, B ${c.losses}, ties ${c.ties}${c.bothBad ? ` (${c.bothBad} both bad)` : ''}`;

export function winrateText(file: string, r: WinrateReport, note: string | null = null): string {
  const out = [`${file}: ${r.records} records, ${counts(r)}; left out: ${r.skipped} skipped, ${r.excluded} excluded, ${r.disputed} disputed, ${r.pending} not labeled, ${r.identical} identical responses`];
  if (note) out.push(note);
  out.push(`A = ${r.models.A.name}, B = ${r.models.B.name}`);
  out.push(`win rate of A over B   ${pct(r.winRate)}  Wilson 95% ${ci(r.wilson)}  bootstrap 95% ${ci(r.bootstrap.ci)} (${r.bootstrap.resamples} resamples, seed ${r.bootstrap.seed})`);
  const lc = r.lengthControlled;
  out.push(lc.value === null
    ? `length-controlled      n/a (${lc.reason})`
    : `length-controlled      ${pct(lc.value)}  95% ${ci(lc.ci)}  (at equal length; slope ${lc.slope!.toFixed(3)} per tanh(Δlength / ${lc.scale!.toFixed(1)} chars))`);
  out.push(`left side picked       ${bias(r.position)}`);
  if (r.machineOnly) out.push(`${r.machineOnly} judged records have only an automatic judge's votes (no person has judged them)`);
  if (r.perAnnotator.length) {
    out.push('per annotator: judged, A, B, ties, win rate [Wilson 95%], left picks');
    for (const a of r.perAnnotator) out.push(`  ${annotatorLine(a)}`);
  }
  return out.join('\n');
}

function annotatorLine(a: AnnotatorWinrate): string {
  return `${JSON.stringify(a.annotator)}${a.machine ? ' (automatic judge)' : ''}: ${a.judged}, ${a.wins}, ${a.losses}, ${a.ties}, ${pct(a.winRate)} ${ci(a.wilson)}, ${bias(a.position)}`;
}

import type { AgreementReportPayload, Estimate } from '../../src/protocol/agreement';

/**
 * What the agreement panel shows, as plain data (no DOM): number formats, the Landis & Koch bands,
 * the annotator-pair matrix and the colour scale of its heatmap. Unit-tested in plain Node
 * (test/unit/agreement/view.test.ts).
 */

export type Rgb = [number, number, number];

export const fmt = (x: number | null, digits = 3): string => (x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));

export function fmtEstimate(e: Estimate): string {
  return `${fmt(e.value)}${e.ci ? ` [${fmt(e.ci[0])}, ${fmt(e.ci[1])}]` : ''}`;
}

export function fmtPercent(x: number | null): string {
  return x === null || !Number.isFinite(x) ? 'n/a' : `${(100 * x).toFixed(1)}%`;
}

/** A p-value: three decimals, or scientific notation below 0.001 (as `rpo agreement`). */
export function fmtP(p: number | null): string {
  if (p === null || !Number.isFinite(p)) return 'n/a';
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

/**
 * Landis & Koch (1977) bands for kappa-like measures: < 0 poor, 0-0.20 slight, 0.21-0.40 fair,
 * 0.41-0.60 moderate, 0.61-0.80 substantial, 0.81-1 almost perfect (upper bounds inclusive).
 */
export function landisKoch(k: number | null): string | null {
  if (k === null || !Number.isFinite(k)) return null;
  if (k < 0) return 'poor';
  if (k <= 0.2) return 'slight';
  if (k <= 0.4) return 'fair';
  if (k <= 0.6) return 'moderate';
  if (k <= 0.8) return 'substantial';
  return 'almost perfect';
}

/** One line that says what the headline numbers mean, naming the scale it uses. */
export function interpretation(r: AgreementReportPayload): string {
  if (r.items === 0) return 'No record has two or more votes: there is no agreement to measure yet.';
  const k = r.fleiss.kappa.value;
  const band = landisKoch(k);
  const parts: string[] = [];
  if (band) parts.push(`Fleiss' kappa ${fmt(k)} is ${band} agreement on the Landis & Koch (1977) scale`);
  else parts.push(`Fleiss' kappa is undefined here (one category only, or no item with the most common number of votes)`);
  const a = r.alphaNominal.value;
  if (a !== null && Number.isFinite(a)) parts.push(`Krippendorff suggests relying on alpha >= 0.800 and drawing tentative conclusions from 0.667 (nominal alpha ${fmt(a)})`);
  const ci = r.fleiss.kappa.ci;
  if (ci && landisKoch(ci[0]) !== landisKoch(ci[1])) parts.push(`the 95% interval spans ${landisKoch(ci[0])} to ${landisKoch(ci[1])}`);
  return parts.join('; ') + '.';
}

export interface PairCell {
  a: string;
  b: string;
  kappa: Estimate;
  items: number;
}

/**
 * The annotator-pair matrix, lower triangle: rows are annotators 2..n, columns 1..n-1 (in the
 * report's annotator order); cell [i][j] (j <= i) is the pair (row i, column j), or null when the
 * two share no item. Exactly one cell per pair of annotators; the upper triangle is not drawn.
 */
export function pairMatrix(r: AgreementReportPayload): { names: string[]; rows: (PairCell | null)[][] } {
  const byPair = new Map<string, PairCell>();
  const key = (a: string, b: string) => JSON.stringify(a < b ? [a, b] : [b, a]);
  for (const c of r.cohen) byPair.set(key(c.a, c.b), { a: c.a, b: c.b, kappa: c.kappa, items: c.items });
  const inPairs = new Set(r.cohen.flatMap((c) => [c.a, c.b]));
  const names = r.perAnnotator.map((p) => p.annotator).filter((n) => inPairs.has(n));
  for (const n of inPairs) if (!names.includes(n)) names.push(n);
  const rows: (PairCell | null)[][] = [];
  for (let i = 1; i < names.length; i++) {
    const row: (PairCell | null)[] = [];
    for (let j = 0; j < i; j++) {
      const hit = byPair.get(key(names[i]!, names[j]!));
      row.push(hit ? { ...hit, a: names[i]!, b: names[j]! } : null);
    }
    rows.push(row);
  }
  return { names, rows };
}

export interface HeatPalette {
  /** Colours at kappa -1, 0 and 1 (theme colours read by the view). */
  negative: Rgb;
  zero: Rgb;
  positive: Rgb;
  /** Text colours to choose from for a cell (the theme's foreground and background). */
  light: Rgb;
  dark: Rgb;
}

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [0, 1, 2].map((i) => Math.round(a[i]! + (b[i]! - a[i]!) * t)) as Rgb;

/** The cell colour of a kappa: from `zero` towards `positive` (kappa 0..1) or `negative` (0..-1); null/NaN: null. */
export function kappaColour(k: number | null, p: HeatPalette): Rgb | null {
  if (k === null || !Number.isFinite(k)) return null;
  const t = Math.max(-1, Math.min(1, k));
  return t >= 0 ? mix(p.zero, p.positive, t) : mix(p.zero, p.negative, -t);
}

/** WCAG relative luminance of an sRGB colour. */
export function luminance([r, g, b]: Rgb): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

export function contrastRatio(a: Rgb, b: Rgb): number {
  const [x, y] = [luminance(a), luminance(b)].sort((m, n) => n - m) as [number, number];
  return (x + 0.05) / (y + 0.05);
}

/** Of the palette's two text colours, the one with more contrast on `bg`. */
export function textOn(bg: Rgb, p: HeatPalette): Rgb {
  return contrastRatio(bg, p.light) >= contrastRatio(bg, p.dark) ? p.light : p.dark;
}

export const css = ([r, g, b]: Rgb): string => `rgb(${r}, ${g}, ${b})`;

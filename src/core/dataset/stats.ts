import { isBlind } from './blind';
import { isIdenticalPair, labelState, parseLine, type InvalidRecord, type LabelState, type ParsedLine, type RecordKind, type Style } from './formats';

/**
 * Counts over a file, built line by line. `scanLines` is the unit of work a worker thread runs
 * over a range of lines (it returns compact per-line codes for filters plus partial stats);
 * `mergeStats` combines the partial results of several ranges.
 */
export interface DatasetStats {
  lines: number;
  blank: number;
  invalid: number;
  /** Invalid lines by reason code. */
  invalidByCode: Partial<Record<InvalidRecord['code'], number>>;
  /** Preference records (every non-blank, valid line). */
  records: number;
  byKind: Record<Exclude<RecordKind, 'blank' | 'invalid'>, number>;
  byStyle: Record<Style, number>;
  byState: Record<Exclude<LabelState, 'invalid' | 'blank'>, number>;
  /** Records with an `rpo_label`, by annotator. */
  byAnnotator: Record<string, number>;
  /** Paired records whose chosen equals rejected (nothing to learn from). */
  identicalPairs: number;
  /** Paired records that are raw Anthropic HH transcripts (suggest `rpo import-hh`). */
  hhTranscripts: number;
  /** Records an annotator decided: `labeled` plus every status. */
  decided: number;
  /** Records marked for blind re-annotation (`rpo_blind`). */
  blind: number;
}

/** One byte per line for filters: the kind (bits 0-2), marked blind (bit 3) and label state (high nibble). */
export const KIND_CODES: readonly RecordKind[] = ['blank', 'invalid', 'paired', 'unpaired', 'completion', 'candidates'];
export const STATE_CODES: readonly LabelState[] = ['blank', 'invalid', 'needs-label', 'unreviewed', 'labeled', 'tie', 'skip', 'both_bad', 'excluded', 'disputed'];

export function lineCode(rec: ParsedLine): number {
  return KIND_CODES.indexOf(rec.kind) | (isBlind(rec) ? BLIND_BIT : 0) | (STATE_CODES.indexOf(labelState(rec)) << 4);
}
export const BLIND_BIT = 0x08;
export function kindOfCode(code: number): RecordKind {
  return KIND_CODES[code & 0x07]!;
}
export function isBlindCode(code: number): boolean {
  return (code & BLIND_BIT) !== 0;
}
export function stateOfCode(code: number): LabelState {
  return STATE_CODES[code >> 4]!;
}

export function emptyStats(): DatasetStats {
  return {
    lines: 0,
    blank: 0,
    invalid: 0,
    invalidByCode: {},
    records: 0,
    byKind: { paired: 0, unpaired: 0, completion: 0, candidates: 0 },
    byStyle: { standard: 0, conversational: 0 },
    byState: { 'needs-label': 0, unreviewed: 0, labeled: 0, tie: 0, skip: 0, both_bad: 0, excluded: 0, disputed: 0 },
    byAnnotator: {},
    identicalPairs: 0,
    hhTranscripts: 0,
    decided: 0,
    blind: 0,
  };
}

/** Adds one parsed line to `stats` (mutates and returns it). */
export function addToStats(stats: DatasetStats, rec: ParsedLine): DatasetStats {
  stats.lines++;
  if (rec.kind === 'blank') {
    stats.blank++;
    return stats;
  }
  if (rec.kind === 'invalid') {
    stats.invalid++;
    stats.invalidByCode[rec.code] = (stats.invalidByCode[rec.code] ?? 0) + 1;
    return stats;
  }
  stats.records++;
  stats.byKind[rec.kind]++;
  stats.byStyle[rec.style]++;
  const state = labelState(rec) as Exclude<LabelState, 'invalid' | 'blank'>;
  stats.byState[state]++;
  if (state !== 'needs-label' && state !== 'unreviewed') stats.decided++;
  if (isBlind(rec)) stats.blind++;
  if (rec.provenance) stats.byAnnotator[rec.provenance.annotator] = (stats.byAnnotator[rec.provenance.annotator] ?? 0) + 1;
  if (rec.kind === 'paired') {
    if (isIdenticalPair(rec)) stats.identicalPairs++;
    if (rec.hhTranscript) stats.hhTranscripts++;
  }
  return stats;
}

export function mergeStats(parts: readonly DatasetStats[]): DatasetStats {
  const out = emptyStats();
  for (const p of parts) {
    out.lines += p.lines;
    out.blank += p.blank;
    out.invalid += p.invalid;
    out.records += p.records;
    out.identicalPairs += p.identicalPairs;
    out.hhTranscripts += p.hhTranscripts;
    out.decided += p.decided;
    out.blind += p.blind;
    for (const k of Object.keys(out.byKind) as (keyof DatasetStats['byKind'])[]) out.byKind[k] += p.byKind[k];
    for (const k of Object.keys(out.byStyle) as Style[]) out.byStyle[k] += p.byStyle[k];
    for (const k of Object.keys(out.byState) as (keyof DatasetStats['byState'])[]) out.byState[k] += p.byState[k];
    for (const [c, n] of Object.entries(p.invalidByCode) as [InvalidRecord['code'], number][]) out.invalidByCode[c] = (out.invalidByCode[c] ?? 0) + n;
    for (const [a, n] of Object.entries(p.byAnnotator)) out.byAnnotator[a] = (out.byAnnotator[a] ?? 0) + n;
  }
  return out;
}

/** Something that yields line content bytes: a LineIndex or a LineDocument (current content). */
export interface LineSource {
  readonly lineCount: number;
  content?(i: number): Uint8Array;
  lineBytes?(i: number): Uint8Array;
}

export interface ScanResult {
  from: number;
  to: number;
  /** codes[i - from] = lineCode of line i. */
  codes: Uint8Array;
  stats: DatasetStats;
  /** Invalid lines in this range: 0-based line number and the record (reason, field, column). */
  invalid: { line: number; record: InvalidRecord }[];
}

/** Parses lines [from, to) of `source`: the chunk of work a worker does; `each` sees every parsed line (keys computed in the same pass). */
export function scanLines(source: LineSource, from = 0, to = source.lineCount, options: { maxInvalid?: number; each?: (line: number, rec: ParsedLine) => void } = {}): ScanResult {
  const read = source.lineBytes ? source.lineBytes.bind(source) : source.content!.bind(source);
  const codes = new Uint8Array(Math.max(0, to - from));
  const stats = emptyStats();
  const invalid: ScanResult['invalid'] = [];
  const maxInvalid = options.maxInvalid ?? Infinity;
  const each = options.each;
  for (let i = from; i < to; i++) {
    const rec = parseLine(read(i));
    codes[i - from] = lineCode(rec);
    addToStats(stats, rec);
    if (each) each(i, rec);
    if (rec.kind === 'invalid' && invalid.length < maxInvalid) invalid.push({ line: i, record: rec });
  }
  return { from, to, codes, stats, invalid };
}

/** Whole-file verdict: is this preference data at all? (The editor offers "Reopen as text" otherwise.) */
export type FileVerdict =
  | { kind: 'preference' }
  | { kind: 'empty'; reason: string }
  | { kind: 'not-preference'; reason: string };

export function fileVerdict(stats: DatasetStats): FileVerdict {
  const nonBlank = stats.lines - stats.blank;
  if (nonBlank === 0) return { kind: 'empty', reason: 'the file has no records yet' };
  if (stats.records === 0 || stats.records / nonBlank < 0.1) {
    const c = stats.invalidByCode;
    const notJson = (c.json ?? 0) + (c.utf8 ?? 0) + (c.bom ?? 0);
    const reason =
      notJson / nonBlank >= 0.5
        ? `${notJson} of ${nonBlank} lines are not valid JSON: this is not a JSON Lines file`
        : `${stats.records} of ${nonBlank} lines are preference records: expected lines like {"prompt", "chosen", "rejected"}, {"prompt", "completion", "label"}, {"prompt", "completion"} or {"prompt", "responses"}`;
    return { kind: 'not-preference', reason };
  }
  return { kind: 'preference' };
}

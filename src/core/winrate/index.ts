import type { ParsedLine, PreferenceRecord, Turns } from '../dataset/formats';
import { isMachine, resolveVotes, VOTES_FIELD, type Vote } from '../dataset/votes';
import { promptText } from '../contrast/promptText';
import { binomTestHalf } from '../agreement';
import { bootstrapInterval, lengthControlled, wilson, type LengthControlled } from './stats';
import { modelName, WinrateError, type Sources } from './sources';

export { WinrateError, parseSources, sourcesPathOf, modelName, SOURCES_FORMAT, SOURCES_SUFFIX, type Sources, type SourcesEntry, type SourcesHeader } from './sources';
export { wilson, bootstrapInterval, lengthControlled, Z95, type LengthControlled } from './stats';

/**
 * Win rate of a candidates file judged in the preference editor (docs/evaluate.md). Pure.
 *
 * Each record of the file is matched to its sidecar entry by pair key (docs/contracts.md §8: the
 * prompt and the unordered response texts, so the key survives labeling, which turns
 * `responses` into chosen / rejected). The sidecar says which model wrote responses[k]; the
 * label's `from_responses` says which response became chosen. Nothing is guessed: a record
 * without a sidecar entry, an entry without a record, or a paired record without
 * `from_responses` stops with a WinrateError naming the line.
 *
 * How a record counts (the resolved `rpo_label`; per annotator, each vote):
 * | label                         | outcome for A          |
 * | A's response chosen           | win, 1                 |
 * | B's response chosen           | loss, 0                |
 * | `tie`                         | tie, 1/2               |
 * | `both_bad`                    | tie, 1/2 (counted also as bothBad; Chatbot Arena's "both are bad" is a tie) |
 * | `skip`, `excluded`, `disputed`| left out, counted      |
 * | no label yet                  | pending, left out      |
 * | identical responses           | identical, left out whatever the label |
 * A record with an automatic judge's vote (annotator `model:<name>`) counts by the people's votes
 * (majority), or by the judge's when no person voted (`machineOnly`).
 */

export type Outcome = 'A' | 'B' | 'tie' | 'both_bad' | 'skip' | 'excluded' | 'disputed' | 'pending' | 'identical';

export interface VoteOutcome {
  annotator: string;
  outcome: Exclude<Outcome, 'pending' | 'identical' | 'disputed'>;
  /** A preference with a known display order: true when the left side was picked; else null. */
  left: boolean | null;
}

export interface Judgement {
  /** 0-based line in the candidates file. */
  line: number;
  key: string;
  /** sources[k]: the model id that wrote responses[k]. */
  sources: [string, string];
  outcome: Outcome;
  /** Length of A's answer minus B's, in Unicode code points of the answer text (§1 text for messages). */
  lengthDiff: number;
  /** The resolved label picked the left side (preferences with a recorded `shown`); else null. */
  left: boolean | null;
  votes: VoteOutcome[];
}

/** Builds a record's pair key (hex) from its prompt and two responses (docs/contracts.md §8). */
export type PairKeyFn = (prompt: Turns, first: Turns, second: Turns) => string;

/**
 * Matches the parsed lines of a candidates file to its sidecar and reads each record's outcome.
 * `file` and `sidecarFile` name the files in messages. Throws WinrateError on any mismatch.
 */
export function collectJudgements(lines: Iterable<[number, ParsedLine]>, sources: Sources, keyOf: PairKeyFn, file: string, sidecarFile: string): Judgement[] {
  const [idA] = Object.keys(sources.header.models) as [string, string];
  const queue = new Map<string, number[]>();
  sources.entries.forEach((e, i) => {
    const q = queue.get(e.key);
    if (q) q.push(i);
    else queue.set(e.key, [i]);
  });
  const used = new Uint8Array(sources.entries.length);
  const out: Judgement[] = [];
  const unmatched: string[] = [];
  let records = 0;
  for (const [line, rec] of lines) {
    const at = `${file}: line ${line + 1}`;
    if (rec.kind === 'blank') continue;
    if (rec.kind === 'invalid') throw new WinrateError(`${at}: invalid (${rec.reason}${rec.field ? `, field "${rec.field}"` : ''}): fix or remove it before computing the win rate`);
    if (rec.kind !== 'candidates' && rec.kind !== 'paired') throw new WinrateError(`${at}: a ${rec.kind} record; a candidates file holds {"prompt", "responses": [a, b]} records (labeled: chosen / rejected)`);
    records++;
    const responses = responsesOf(rec, at);
    const key = keyOf(rec.prompt, responses[0], responses[1]);
    const q = queue.get(key);
    const idx = q?.shift();
    if (idx === undefined) {
      unmatched.push(`${at}: no entry in ${sidecarFile} has this record's pair key ${key} (its prompt or responses changed since generation, or the sidecar belongs to another file)`);
      continue;
    }
    used[idx] = 1;
    const entry = sources.entries[idx]!;
    const textA = promptText(responses[entry.sources[0] === idA ? 0 : 1]);
    const textB = promptText(responses[entry.sources[0] === idA ? 1 : 0]);
    const identical = promptText(responses[0]) === promptText(responses[1]);
    const modelOf = (k: number) => entry.sources[k] === idA ? 'A' as const : 'B' as const;
    const all = votesOf(rec);
    const { outcome, left } = identical ? { outcome: 'identical' as const, left: null } : all.some((v) => isMachine(v.annotator)) ? peopleFirst(rec, all, modelOf) : resolvedOutcome(rec, modelOf);
    const votes: VoteOutcome[] = [];
    if (!identical) {
      for (const v of all) {
        const o = voteOutcome(rec, v, modelOf);
        if (o) votes.push(o);
      }
    }
    out.push({ line, key, sources: entry.sources, outcome, lengthDiff: codePoints(textA) - codePoints(textB), left, votes });
  }
  const extra = sources.entries.filter((_, i) => !used[i]);
  if (records !== sources.entries.length || unmatched.length || extra.length) {
    const parts = [`${file} does not match its sidecar ${sidecarFile}: ${records} records in the file, ${sources.entries.length} entries in the sidecar; the win rate is not computed rather than guessed.`];
    parts.push(...unmatched.slice(0, 5));
    if (unmatched.length > 5) parts.push(`... and ${unmatched.length - 5} more records without an entry`);
    for (const e of extra.slice(0, 5)) parts.push(`${sidecarFile}: line ${e.sidecarLine}: no record in ${file} has pair key ${e.key} (record ${e.line} removed or edited?)`);
    if (extra.length > 5) parts.push(`... and ${extra.length - 5} more entries without a record`);
    throw new WinrateError(parts.join('\n'));
  }
  return out;
}

/** responses[0], responses[1] as generated: candidates as is; labeled records through `from_responses`. */
function responsesOf(rec: PreferenceRecord, at: string): [Turns, Turns] {
  if (rec.kind === 'candidates') return rec.responses;
  if (rec.kind !== 'paired') throw new Error('unreachable');
  const fr = rec.provenance?.from_responses;
  if (!fr) throw new WinrateError(`${at}: a chosen/rejected record without "rpo_label.from_responses": cannot tell which generated response became chosen`);
  const r: Turns[] = [];
  r[fr[0]] = rec.chosen;
  r[fr[1]] = rec.rejected;
  return [r[0]!, r[1]!];
}

/** Response index of a field name as the line has it now. */
function indexOf(rec: PreferenceRecord, field: string): number {
  if (field === 'responses.0') return 0;
  if (field === 'responses.1') return 1;
  const fr = rec.provenance?.from_responses ?? [0, 1];
  return field === 'chosen' ? fr[0] : fr[1];
}

function resolvedOutcome(rec: PreferenceRecord, modelOf: (k: number) => 'A' | 'B'): { outcome: Outcome; left: boolean | null } {
  const p = rec.provenance;
  if (!p) return { outcome: 'pending', left: null };
  if (p.status) return { outcome: p.status, left: null };
  if (rec.kind !== 'paired') return { outcome: 'pending', left: null };
  return { outcome: modelOf(indexOf(rec, 'chosen')), left: p.shown ? p.shown[0] === 'chosen' : null };
}

/**
 * A record an automatic judge voted on: the people's votes decide (majority; the judge's vote
 * never outvotes a person); with no person's vote yet, the judge's votes (majority). The file's
 * own label says the same under its `majority` policy; this holds whatever policy labeled it.
 */
function peopleFirst(rec: PreferenceRecord, all: Vote[], modelOf: (k: number) => 'A' | 'B'): { outcome: Outcome; left: boolean | null } {
  const r = resolveVotes(all, 'majority');
  if (r.judgement === null) return { outcome: 'pending', left: null };
  if (r.judgement === 'disputed' || r.judgement === 'tie' || r.judgement === 'both_bad' || r.judgement === 'skip' || r.judgement === 'excluded') return { outcome: r.judgement, left: null };
  const v = r.vote!;
  return { outcome: modelOf(indexOf(rec, r.judgement)), left: v.shown ? v.shown[0] === r.judgement : null };
}

function voteOutcome(rec: PreferenceRecord, v: Vote, modelOf: (k: number) => 'A' | 'B'): VoteOutcome | null {
  if (v.status) return { annotator: v.annotator, outcome: v.status, left: null };
  if (v.choice === null) return null;
  return { annotator: v.annotator, outcome: modelOf(indexOf(rec, v.choice)), left: v.shown ? v.shown[0] === v.choice : null };
}

/** A record's votes: `rpo_votes`, or the one vote a single annotator's `rpo_label` stands for. */
function votesOf(rec: PreferenceRecord): Vote[] {
  const votes = rec.object[VOTES_FIELD] as Vote[] | undefined;
  if (votes) return votes;
  const p = rec.provenance;
  if (!p || p.status === 'disputed') return [];
  if (!p.status && rec.kind !== 'paired') return [];
  return [{ annotator: p.annotator, time: p.time, choice: p.status ? null : 'chosen', strength: p.strength, status: p.status, note: p.note, shown: p.shown, adjudicator: false }];
}

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

// ------------------------------------------------------------------ the report

export interface Counts {
  wins: number;
  losses: number;
  /** Ties, both_bad included (each counts half). */
  ties: number;
  bothBad: number;
  skipped: number;
  excluded: number;
  /** Judged records: wins + losses + ties. */
  judged: number;
  /** (wins + ties / 2) / judged, or null when nothing was judged. */
  winRate: number | null;
  wilson: [number, number] | null;
}

export interface PositionBias {
  /** Preferences with a known display order. */
  picks: number;
  left: number;
  leftShare: number | null;
  /** Two-sided exact binomial p-value against 1/2 (scipy.stats.binomtest). */
  pValue: number | null;
}

export interface AnnotatorWinrate extends Counts {
  annotator: string;
  machine: boolean;
  position: PositionBias;
}

export interface WinrateReport extends Counts {
  models: { A: { id: string; name: string; info: Record<string, unknown> }; B: { id: string; name: string; info: Record<string, unknown> } };
  records: number;
  disputed: number;
  pending: number;
  identical: number;
  /** Judged records whose every vote is an automatic judge's (no person has judged them). */
  machineOnly: number;
  bootstrap: { resamples: number; seed: number; ci: [number, number] | null };
  lengthControlled: LengthControlled;
  position: PositionBias;
  perAnnotator: AnnotatorWinrate[];
}

export interface WinrateOptions {
  /** Bootstrap resamples (default 1000; 0: no bootstrap interval). */
  resamples?: number;
  seed?: number;
}

function emptyCounts(): Counts {
  return { wins: 0, losses: 0, ties: 0, bothBad: 0, skipped: 0, excluded: 0, judged: 0, winRate: null, wilson: null };
}

function add(c: Counts, o: Outcome): number | null {
  switch (o) {
    case 'A': c.wins++; return 1;
    case 'B': c.losses++; return 0;
    case 'tie': c.ties++; return 0.5;
    case 'both_bad': c.ties++; c.bothBad++; return 0.5;
    case 'skip': c.skipped++; return null;
    case 'excluded': c.excluded++; return null;
    default: return null;
  }
}

function finish(c: Counts): void {
  c.judged = c.wins + c.losses + c.ties;
  c.winRate = c.judged ? (c.wins + c.ties / 2) / c.judged : null;
  c.wilson = wilson(c.wins + c.ties / 2, c.judged);
}

function position(picks: number, left: number): PositionBias {
  return { picks, left, leftShare: picks ? left / picks : null, pValue: picks ? binomTestHalf(left, picks) : null };
}

/** The win rate of model A over model B and its intervals, position bias and per-annotator figures. */
export function winrateReport(judgements: readonly Judgement[], sources: Sources, options: WinrateOptions = {}): WinrateReport {
  const resamples = options.resamples ?? 1000;
  const seed = options.seed ?? 0;
  const [idA, idB] = Object.keys(sources.header.models) as [string, string];
  const c = emptyCounts();
  let disputed = 0, pending = 0, identical = 0, machineOnly = 0, picks = 0, left = 0;
  const ys: number[] = [];
  const ds: number[] = [];
  const per = new Map<string, { c: Counts; picks: number; left: number }>();
  for (const j of judgements) {
    if (j.outcome === 'disputed') disputed++;
    else if (j.outcome === 'pending') pending++;
    else if (j.outcome === 'identical') identical++;
    const y = add(c, j.outcome);
    if (y !== null) {
      ys.push(y);
      ds.push(j.lengthDiff);
      if (j.votes.length && j.votes.every((v) => isMachine(v.annotator))) machineOnly++;
    }
    if (j.left !== null) {
      picks++;
      if (j.left) left++;
    }
    for (const v of j.votes) {
      let a = per.get(v.annotator);
      if (!a) per.set(v.annotator, (a = { c: emptyCounts(), picks: 0, left: 0 }));
      add(a.c, v.outcome);
      if (v.left !== null) {
        a.picks++;
        if (v.left) a.left++;
      }
    }
  }
  finish(c);
  const models = sources.header.models;
  return {
    models: {
      A: { id: idA, name: modelName(idA, models[idA]), info: models[idA]! },
      B: { id: idB, name: modelName(idB, models[idB]), info: models[idB]! },
    },
    records: judgements.length,
    ...c,
    disputed,
    pending,
    identical,
    machineOnly,
    bootstrap: { resamples, seed, ci: bootstrapInterval(ys, resamples, seed) },
    lengthControlled: lengthControlled(ys, ds),
    position: position(picks, left),
    perAnnotator: [...per].map(([annotator, a]) => {
      finish(a.c);
      return { annotator, machine: isMachine(annotator), ...a.c, position: position(a.picks, a.left) };
    }),
  };
}

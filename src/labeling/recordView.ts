import { labelState, type LabelState, type ParsedLine, type PreferenceRecord, type Turns } from '../core/dataset/formats';
import { blindOrder } from '../core/dataset/blind';
import { displayOrder } from '../core/dataset/labeling';
import { VOTES_FIELD, type Vote } from '../core/dataset/votes';
import type { LabelAction, RecordDetail, RecordKind, ResponseView, RowStatus, RowSummary, Turn, VoteView } from '../protocol/labeling';

/**
 * From the core's parsed lines to what the labeling view shows: list rows, the detail of one
 * record, its display order and the actions that apply. Pure (no vscode): unit-tested in Node
 * and used by the scan worker as well as the host.
 */

export function rowStatus(rec: ParsedLine): RowStatus {
  return statusOfState(labelState(rec));
}

/** The core's label state as the view's row status. */
export function statusOfState(state: LabelState): RowStatus {
  switch (state) {
    case 'needs-label': return 'unlabeled';
    case 'unreviewed': return 'unreviewed';
    case 'labeled': return 'labeled';
    case 'both_bad': return 'bothBad';
    case 'tie': case 'skip': case 'excluded': case 'disputed': case 'invalid': case 'blank': return state;
    default: {
      const never: never = state;
      return never;
    }
  }
}

export function recordKind(rec: ParsedLine): RecordKind {
  switch (rec.kind) {
    case 'paired': case 'candidates': case 'invalid': case 'blank': return rec.kind;
    case 'unpaired': case 'completion': return 'unpaired';
  }
}

export function toTurns(value: Turns, role = 'user'): Turn[] {
  return typeof value === 'string' ? [{ role, content: value }] : value.map((m) => ({ role: m.role, content: m.content }));
}

const PREVIEW_CHARS = 160;

function oneLine(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > PREVIEW_CHARS ? t.slice(0, PREVIEW_CHARS - 1) + '…' : t;
}

/** The list preview: the last user turn of the prompt (where the question is), on one line. */
export function previewText(rec: ParsedLine): string {
  if (rec.kind === 'invalid') return rec.reason;
  if (rec.kind === 'blank') return '(blank line)';
  const p = rec.prompt;
  if (typeof p === 'string') {
    // HH-style flattened transcripts: show the last "Human:" turn.
    const at = p.lastIndexOf('Human:');
    return oneLine(at >= 0 ? p.slice(at + 6) : p) || '(empty prompt)';
  }
  for (let i = p.length - 1; i >= 0; i--) if (p[i]!.role === 'user') return oneLine(p[i]!.content) || '(empty prompt)';
  return oneLine(p.map((m) => m.content).join(' ')) || '(empty prompt)';
}

export function rowSummary(index: number, rec: ParsedLine): RowSummary {
  return { index, status: rowStatus(rec), kind: recordKind(rec), preview: previewText(rec) };
}

/**
 * Resolves a shown field name against a record. After labeling, a record that was candidates
 * holds chosen/rejected and `from_responses` says which response went where.
 */
function fieldTurns(rec: PreferenceRecord, field: string): { turns: Turns; isChosen: boolean | null } | null {
  if (rec.kind === 'candidates') {
    if (field === 'responses.0') return { turns: rec.responses[0], isChosen: null };
    if (field === 'responses.1') return { turns: rec.responses[1], isChosen: null };
    return null;
  }
  if (rec.kind !== 'paired') return null;
  if (field === 'chosen') return { turns: rec.chosen, isChosen: true };
  if (field === 'rejected') return { turns: rec.rejected, isChosen: false };
  const from = rec.provenance?.from_responses;
  const m = /^responses\.([01])$/.exec(field);
  if (m && from) {
    const i = Number(m[1]);
    if (from[0] === i) return { turns: rec.chosen, isChosen: true };
    if (from[1] === i) return { turns: rec.rejected, isChosen: false };
  }
  return null;
}

/** The record's votes (`rpo_votes`, validated by the parser), or none. */
export function votesOf(rec: ParsedLine): Vote[] {
  if (rec.kind === 'invalid' || rec.kind === 'blank') return [];
  return (rec.object[VOTES_FIELD] as Vote[] | undefined) ?? [];
}

export function actionsFor(rec: ParsedLine, status: RowStatus): LabelAction[] {
  const clear: LabelAction[] = rec.kind !== 'invalid' && rec.kind !== 'blank' && rec.provenance ? ['clear'] : [];
  // Adjudication keys apply where several votes may disagree.
  const adjudicate: LabelAction[] = (rec.kind === 'paired' || rec.kind === 'candidates') && votesOf(rec).length >= 2 ? ['adjudicateLeft', 'adjudicateRight', 'adjudicateTie'] : [];
  switch (rec.kind) {
    case 'candidates':
      return ['chooseLeft', 'chooseRight', 'chooseLeftSlightly', 'chooseRightSlightly', 'tie', 'skip', 'bothBad', ...adjudicate, ...clear];
    case 'paired':
      return ['chooseLeft', 'chooseRight', 'chooseLeftSlightly', 'chooseRightSlightly', 'confirm', 'flip', 'tie', 'skip', 'bothBad', 'exclude', ...adjudicate, ...clear];
    case 'unpaired':
    case 'completion':
      return ['thumbsUp', 'thumbsDown', 'skip', 'exclude', ...clear];
    default:
      void status;
      return [];
  }
}

const RAW_CHARS = 4000;

/** Everything the detail pane shows for one line. `raw` is the line's text (for invalid lines). */
/**
 * `blind`: as the "Blind" filter shows a record to a second annotator: the responses as Response
 * A / B in `blindOrder` for `seed` (the caller passes `blindSeed(...)`), no label, no votes, no
 * chosen/rejected, no preferred mark, so their judgement is independent.
 */
export function recordDetail(index: number, rec: ParsedLine, seed: string, raw: () => string, blind = false): RecordDetail {
  const status = rowStatus(rec);
  const base = { index, kind: recordKind(rec), status, actions: actionsFor(rec, status) };
  if (rec.kind === 'invalid' || rec.kind === 'blank') {
    const text = raw();
    return {
      ...base,
      prompt: [],
      reason: rec.kind === 'invalid' ? `${rec.reason}${rec.column ? ` (column ${rec.column})` : ''}` : 'A blank line: kept as it is, not a record.',
      raw: text.length > RAW_CHARS ? `${text.slice(0, RAW_CHARS)}… (${text.length.toLocaleString('en-US')} characters)` : text,
    };
  }
  const p = rec.provenance;
  const detail: RecordDetail = { ...base, prompt: toTurns(rec.prompt) };
  if (blind && (rec.kind === 'paired' || rec.kind === 'candidates')) return blindDetail(detail, index, rec, seed);
  if (p) {
    detail.label = {
      status,
      annotator: p.annotator,
      time: p.time,
      ...(p.strength ? { strength: p.strength } : {}),
      ...(p.note ? { note: p.note } : {}),
    };
  }
  if (rec.kind === 'unpaired' || rec.kind === 'completion') {
    const title = rec.kind === 'unpaired' ? (rec.label ? 'Completion (thumbs up)' : 'Completion (thumbs down)') : 'Completion';
    detail.left = { title, turns: toTurns(rec.completion, 'assistant') };
    if (rec.kind === 'unpaired') detail.label = { ...(detail.label ?? { status }), thumb: rec.label };
    return detail;
  }
  const order = displayOrder(rec, index, seed)!;
  const sides = order.map((f) => fieldTurns(rec, f));
  if (!sides[0] || !sides[1]) {
    // A recorded order that no longer matches the record: fall back to the file's order.
    const fallback = rec.kind === 'candidates' ? rec.responses : [rec.chosen, rec.rejected];
    sides[0] = { turns: fallback[0]!, isChosen: rec.kind === 'paired' ? true : null };
    sides[1] = { turns: fallback[1]!, isChosen: rec.kind === 'paired' ? false : null };
  }
  const view = (side: { turns: Turns; isChosen: boolean | null }, letter: string): ResponseView => ({
    title: side.isChosen === null ? `Response ${letter}` : side.isChosen ? `Response ${letter} (chosen)` : `Response ${letter} (rejected)`,
    turns: toTurns(side.turns, 'assistant'),
  });
  detail.left = view(sides[0], 'A');
  detail.right = view(sides[1], 'B');
  const votes = votesOf(rec);
  if (votes.length >= 2) {
    // A vote's choice names a field as the line has it now: the side showing that field's turns.
    const sideOf = (choice: string): 'left' | 'right' | null => {
      const f = fieldTurns(rec, choice);
      if (!f) return null;
      return f.turns === sides[0]!.turns ? 'left' : f.turns === sides[1]!.turns ? 'right' : null;
    };
    detail.votes = votes.map((v): VoteView => {
      const side = v.choice === null ? null : sideOf(v.choice);
      const judgement: VoteView['judgement'] = v.status ?? side ?? 'unknown';
      return {
        annotator: v.annotator, judgement, time: v.time, adjudicator: v.adjudicator,
        ...(v.strength ? { strength: v.strength } : {}), ...(v.note ? { note: v.note } : {}),
      };
    });
  }
  if (rec.kind === 'paired' && (status === 'labeled' || status === 'unreviewed')) {
    detail.label = { ...(detail.label ?? { status }), preferred: sides[0].isChosen ? 'left' : 'right' };
  }
  return detail;
}

/** The blind view of a paired or candidates record (see `recordDetail`). */
function blindDetail(detail: RecordDetail, index: number, rec: PreferenceRecord, seed: string): RecordDetail {
  const order = blindOrder(rec, index, seed)!;
  const sides = order.map((f) => fieldTurns(rec, f)!.turns);
  return {
    ...detail,
    // The row status would tell (labeled, disputed): the blind view says only that it is blind.
    status: 'unlabeled',
    actions: detail.actions.filter((a) => a !== 'confirm' && a !== 'flip' && a !== 'clear' && !a.startsWith('adjudicate')),
    left: { title: 'Response A', turns: toTurns(sides[0]!, 'assistant') },
    right: { title: 'Response B', turns: toTurns(sides[1]!, 'assistant') },
    blind: true,
  };
}

/** A response's text as the pair key reads it (docs/contracts.md §1, §8). */
function keyText(t: Turns): Buffer {
  return Buffer.from(typeof t === 'string' ? t : t.map((m) => `${m.role}: ${m.content}`).join('\n\n'), 'utf8');
}

/**
 * A run's `side` (docs/contracts.md §8) in the terms the detail shows now: which response (A / B,
 * in the display order for `seed`) the run took as chosen, or thumbs up / down for an unpaired
 * record. Side 0: the chosen text was the bytewise smaller of the two.
 */
export function sideLabel(rec: ParsedLine, index: number, seed: string, side: number): string {
  if (rec.kind === 'unpaired' || rec.kind === 'completion') return side === 1 ? 'thumbs up' : 'thumbs down';
  if (rec.kind !== 'paired' && rec.kind !== 'candidates') return '–';
  const order = displayOrder(rec, index, seed)!;
  const shown = order.map((f) => fieldTurns(rec, f)?.turns);
  const pair = rec.kind === 'paired' ? [rec.chosen, rec.rejected] : rec.responses;
  const left = shown[0] ?? pair[0]!;
  const right = shown[1] ?? pair[1]!;
  const cmp = Buffer.compare(keyText(left), keyText(right));
  if (cmp === 0) return 'either response as chosen (both are the same text)';
  // a = the smaller text; side 0: a was chosen.
  const leftIsA = cmp < 0;
  return (side === 0) === leftIsA ? 'Response A (left) as chosen' : 'Response B (right) as chosen';
}

import { classify, parseText, type ParsedLine, type PreferenceRecord } from './formats';
import { LABEL_FIELD, LABEL_STATUSES, makeLabel, type LabelStatus, type RpoLabel, type ShownOrder, type Strength } from './provenance';
import { VOTES_FIELD, makeVote, renameVotes, resolveVotes, type Choice, type ResolutionPolicy, type Vote } from './votes';

/**
 * Labeling edits: apply an annotator's intent to one line's text and return the new line text.
 * Pure and line-local: the document model swaps the line, every other byte of the file stays.
 *
 * Rules (docs/formats.md, "Labeling"):
 * - key order and unknown fields are kept; the edited object is re-serialised in the line's own
 *   style (`", "`/`": "` separators as Python's json.dumps writes them, or compact; `\uXXXX`
 *   escapes when the line used them for non-ASCII text);
 * - paired records: choosing a side keeps or swaps chosen/rejected (`flipped` remembers it);
 * - candidates `{prompt, responses: [a, b]}`: choosing writes `chosen`/`rejected` in place of
 *   `responses` (a TRL-ready record; `from_responses` remembers which was which so `clear`
 *   restores the candidates exactly);
 * - completions: thumbs up/down write `label: true/false` right after `completion`;
 * - statuses (tie, skip, both_bad, excluded) never touch the data fields;
 * - `clear` removes `rpo_label` and undoes what labeling changed in the data.
 * - several annotators: a judgement by an annotator other than the one in `rpo_label` (or on a
 *   record that has `rpo_votes`) is recorded as that annotator's vote in `rpo_votes`, the votes
 *   are resolved under the policy (`votes.ts`) and `rpo_label` with chosen/rejected become the
 *   resolved label; `note`, `strength` and `clear` then act on the annotator's own vote.
 */
export type LabelIntent =
  /** `strength` (optional) is recorded with the choice in the same edit. */
  | { type: 'choose'; side: 'left' | 'right'; strength?: Strength | null }
  | { type: 'status'; status: LabelStatus }
  | { type: 'confirm' }
  | { type: 'flip' }
  | { type: 'thumbs'; up: boolean }
  | { type: 'strength'; strength: Strength | null }
  | { type: 'note'; note: string | null }
  | { type: 'clear' };

export interface LabelContext {
  /** Written to `rpo_label.annotator`. */
  annotator: string;
  /** Written to `rpo_label.time` (ISO 8601); pass `new Date().toISOString()`. */
  time: string;
  /** What the annotator saw left to right: `displayOrder(...)` for this record. Required for `choose`. */
  shown?: ShownOrder | null;
  /** The annotator adjudicates: their vote wins under the `adjudicated` policy. */
  adjudicator?: boolean;
  /** How votes resolve when a record has several (default `majority`). */
  policy?: ResolutionPolicy;
}

/** An intent that does not apply to this line (e.g. thumbs on a paired record). */
export class LabelError extends Error {}

/** Applies `intent` to the line; returns the new line text (no line ending). Throws LabelError. */
export function applyLabel(lineText: string, intent: LabelIntent, ctx: LabelContext): string {
  const rec = parseText(lineText);
  if (rec.kind === 'blank') throw new LabelError('this line is blank: nothing to label');
  if (rec.kind === 'invalid') throw new LabelError(`this line is not a valid record (${rec.reason}); fix it as text first`);
  const next = labelObject(rec, intent, ctx);
  return serializeLike(next, lineText);
}

/** The same on an already parsed record; returns the new object (the record's object is not mutated). */
export function labelObject(rec: PreferenceRecord, intent: LabelIntent, ctx: LabelContext): Record<string, unknown> {
  const votes = (rec.object[VOTES_FIELD] as Vote[] | undefined) ?? null; // validated by classify
  const prev = rec.provenance;
  const judging = intent.type === 'choose' || intent.type === 'status' || intent.type === 'confirm' || intent.type === 'flip' || intent.type === 'thumbs';
  const another = prev !== null && prev.status !== 'disputed' && prev.annotator !== ctx.annotator;
  if (votes === null && !(judging && (another || ctx.adjudicator))) return labelOne(rec, intent, ctx);
  return labelWithVotes(rec, votes ?? legacyVotes(rec), intent, ctx);
}

/** The vote an `rpo_label` written without votes stands for (a file labeled by one annotator). */
function legacyVotes(rec: PreferenceRecord): Vote[] {
  const p = rec.provenance;
  if (!p || p.status === 'disputed') return [];
  return [makeVote({ annotator: p.annotator, time: p.time, choice: labelChoice(rec), strength: p.strength, status: p.status, note: p.note, shown: p.status || rec.kind === 'paired' ? p.shown : null })];
}

/** The choice the record's resolved label makes, in its current field names (null for a status or no label). */
function labelChoice(rec: PreferenceRecord): Choice | null {
  const p = rec.provenance;
  if (!p || p.status) return null;
  if (rec.kind === 'paired') return 'chosen';
  if (rec.kind === 'unpaired') return rec.label ? 'up' : 'down';
  return null;
}

function reparse(obj: Record<string, unknown>): PreferenceRecord {
  const rest = { ...obj };
  delete rest[VOTES_FIELD];
  const r = classify(rest);
  if (r.kind === 'invalid') throw new LabelError(`internal: a labeled record did not parse (${r.reason})`);
  return r;
}

function labelWithVotes(rec: PreferenceRecord, votes: Vote[], intent: LabelIntent, ctx: LabelContext): Record<string, unknown> {
  let mine: Vote | null = null;
  for (const v of votes) if (v.annotator === ctx.annotator) mine = v;
  let others = votes.filter((v) => v.annotator !== ctx.annotator);
  let current = rec;
  let vote: Vote | null;
  switch (intent.type) {
    case 'clear':
      if (!mine) throw new LabelError(`${ctx.annotator} has no vote on this record; the other votes stay (${others.map((v) => v.annotator).join(', ')})`);
      vote = null;
      break;
    case 'note':
      if (!mine) throw new LabelError('a note belongs to your vote on a record several people labeled: give your judgement first');
      vote = { ...mine, note: intent.note === '' ? null : intent.note, time: ctx.time };
      break;
    case 'strength':
      if (!mine || mine.choice === null || rec.kind !== 'paired') throw new LabelError('strength applies to your own preference for one side: choose a side first');
      vote = { ...mine, strength: intent.strength, time: ctx.time };
      break;
    default: {
      current = reparse(labelOne(rec, intent, ctx));
      const rename = termMap(rec, current);
      others = renameVotes(others, rename);
      const mineNow = mine ? renameVotes([mine], rename)[0]! : null;
      const choice = labelChoice(current);
      const status = (current.provenance?.status ?? null) as LabelStatus | null;
      const strength = rec.kind === 'unpaired' || rec.kind === 'completion' || choice === null ? null
        : intent.type === 'choose' && intent.strength !== undefined ? intent.strength
        : mineNow?.choice === choice ? mineNow.strength : null;
      vote = makeVote({ annotator: ctx.annotator, time: ctx.time, choice, strength, status, note: mineNow?.note ?? null, shown: current.provenance?.shown ?? null, adjudicator: ctx.adjudicator ?? false });
    }
  }
  // A new judgement is the newest vote (last); a note or strength keeps the vote's place.
  const all = vote && intent.type !== 'note' && intent.type !== 'strength' ? [...others, vote] : votes.map((v) => (v === mine ? vote : v)).filter((v): v is Vote => v !== null);
  return resolveRecord(current, all, ctx, rec);
}

/** Writes the resolution of `votes` into the record: data orientation, `rpo_label`, `rpo_votes` (in its field names). */
function resolveRecord(rec: PreferenceRecord, votes: Vote[], ctx: LabelContext, before: PreferenceRecord): Record<string, unknown> {
  if (votes.length > 0 && resolveVotes(votes, ctx.policy ?? 'majority').judgement === 'disputed' && rec !== before) {
    // A dispute leaves the data as it was before this edit.
    votes = renameVotes(votes, termMap(rec, before));
    rec = before;
  }
  if (votes.length === 0) {
    const out = clearLabel(rec, { ...rec.object });
    delete out[VOTES_FIELD];
    return out;
  }
  const res = resolveVotes(votes, ctx.policy ?? 'majority');
  const j = res.judgement!;
  const by: LabelContext = { annotator: res.vote?.annotator ?? ctx.annotator, time: res.vote?.time ?? ctx.time };
  let obj: Record<string, unknown>;
  if (j === 'disputed') {
    const p = rec.provenance;
    obj = withLabel({ ...rec.object }, makeLabel({ ...(p ?? {}), annotator: ctx.annotator, time: ctx.time, status: 'disputed', strength: null, note: null, shown: p?.shown ?? null }));
  } else if ((LABEL_STATUSES as readonly string[]).includes(j)) obj = labelOne(rec, { type: 'status', status: j as LabelStatus }, by);
  else if (j === 'chosen') obj = rec.provenance && !rec.provenance.status ? { ...rec.object } : labelOne(rec, { type: 'confirm' }, by);
  else if (j === 'rejected') obj = labelOne(rec, { type: 'flip' }, by);
  else if (j === 'up' || j === 'down') obj = labelOne(rec, { type: 'thumbs', up: j === 'up' }, by);
  else obj = labelOne(rec, { type: 'choose', side: j === 'responses.0' ? 'left' : 'right' }, { ...by, shown: ['responses.0', 'responses.1'] });
  const fin = reparse(obj);
  const rename = termMap(rec, fin);
  const finalVotes = renameVotes(votes, rename);
  const rep = res.vote ? renameVotes([res.vote], rename)[0]! : null;
  const label = fin.provenance!;
  if (rep && j !== 'disputed') {
    label.annotator = rep.annotator;
    label.time = rep.time;
    label.strength = fin.kind === 'paired' && rep.choice !== null ? rep.strength : null;
    label.note = rep.note;
    if (rep.shown) label.shown = rep.shown;
  }
  const out = withLabel({ ...fin.object }, makeLabel(label));
  if (VOTES_FIELD in out) out[VOTES_FIELD] = finalVotes;
  else return insertAfter(out, LABEL_FIELD, VOTES_FIELD, finalVotes);
  return out;
}

/** How field names of `before` read in `after`: chosen/rejected swapped, or candidates that became (or stopped being) a pair. */
function termMap(before: PreferenceRecord, after: PreferenceRecord): (name: string) => string {
  const same = (n: string) => n;
  const bp = before.provenance;
  const ap = after.provenance;
  if (before.kind === 'paired' && after.kind === 'paired') {
    const bf = bp?.from_responses;
    const af = ap?.from_responses;
    const swapped = bf && af ? bf[0] !== af[0] : (bp?.flipped ?? false) !== (ap?.flipped ?? false);
    return swapped ? otherSide : same;
  }
  if (before.kind === 'candidates' && after.kind === 'paired' && ap?.from_responses) {
    const [c, r] = ap.from_responses;
    return (n) => (n === `responses.${c}` ? 'chosen' : n === `responses.${r}` ? 'rejected' : n);
  }
  if (before.kind === 'paired' && after.kind === 'candidates' && bp?.from_responses) {
    const [c, r] = bp.from_responses;
    return (n) => (n === 'chosen' ? `responses.${c}` : n === 'rejected' ? `responses.${r}` : n);
  }
  return same;
}

/** One annotator's edit on a record without votes (the single-annotator rules). */
function labelOne(rec: PreferenceRecord, intent: LabelIntent, ctx: LabelContext): Record<string, unknown> {
  const obj: Record<string, unknown> = { ...rec.object };
  const prev = rec.provenance;
  const base = (extra: Partial<RpoLabel>): RpoLabel =>
    makeLabel({
      annotator: ctx.annotator,
      time: ctx.time,
      note: prev?.note ?? null,
      shown: prev?.shown ?? ctx.shown ?? null,
      ...(prev?.flipped !== undefined ? { flipped: prev.flipped } : {}),
      ...(prev?.original_label !== undefined ? { original_label: prev.original_label } : {}),
      ...(prev?.from_responses !== undefined ? { from_responses: prev.from_responses } : {}),
      ...extra,
    });
  const kindName = { paired: 'a chosen/rejected record', unpaired: 'an unpaired record', completion: 'a completion awaiting thumbs up/down', candidates: 'a candidates record' }[rec.kind];

  switch (intent.type) {
    case 'choose': {
      const shown = ctx.shown ?? prev?.shown ?? null;
      if (rec.kind === 'paired') {
        const order = shown ?? ['chosen', 'rejected'];
        const picked = order[intent.side === 'left' ? 0 : 1];
        const swap = picked === 'rejected';
        if (swap) swapPair(obj);
        const newShown = shown ? (swap ? (shown.map(otherSide) as ShownOrder) : shown) : null;
        const strength = intent.strength !== undefined ? intent.strength : prev?.status ? null : prev?.strength ?? null;
        return withLabel(obj, base({ status: null, strength, shown: newShown, ...pairFlags(prev, swap) }));
      }
      if (rec.kind === 'candidates') {
        const order = shown ?? ['responses.0', 'responses.1'];
        const left = responseIndex(order[0]);
        const right = responseIndex(order[1]);
        const [ci, ri] = intent.side === 'left' ? [left, right] : [right, left];
        const out = replaceKey(obj, 'responses', [['chosen', rec.responses[ci]], ['rejected', rec.responses[ri]]]);
        const newShown: ShownOrder = intent.side === 'left' ? ['chosen', 'rejected'] : ['rejected', 'chosen'];
        return withLabel(out, base({ status: null, strength: intent.strength ?? null, shown: newShown, from_responses: [ci, ri] }));
      }
      throw new LabelError(`choose left/right applies to paired and candidates records; this is ${kindName}: use thumbs up/down`);
    }
    case 'status':
      return withLabel(obj, base({ status: intent.status, strength: null }));
    case 'confirm':
      if (rec.kind !== 'paired' && rec.kind !== 'unpaired') throw new LabelError(`confirm applies to records that already carry a preference; this is ${kindName}`);
      return withLabel(obj, base({ status: null, strength: prev?.status ? null : prev?.strength ?? null, ...(rec.kind === 'paired' ? pairFlags(prev, false) : { original_label: prev?.original_label !== undefined ? prev.original_label : rec.label }) }));
    case 'flip': {
      if (rec.kind === 'paired') {
        swapPair(obj);
        const shown = prev?.shown ?? ctx.shown ?? null;
        return withLabel(obj, base({ status: null, strength: prev?.status ? null : prev?.strength ?? null, shown: shown ? (shown.map(otherSide) as ShownOrder) : null, ...pairFlags(prev, true) }));
      }
      if (rec.kind === 'unpaired') return thumbs(rec, obj, !rec.label, base);
      throw new LabelError(`flip applies to records that already carry a preference; this is ${kindName}`);
    }
    case 'thumbs':
      if (rec.kind !== 'unpaired' && rec.kind !== 'completion') throw new LabelError(`thumbs up/down apply to unpaired records; this is ${kindName}: choose left or right`);
      return thumbs(rec, obj, intent.up, base);
    case 'strength': {
      const state = prev?.status ?? null;
      if (state) throw new LabelError(`strength applies to a preference; this record is marked ${state}`);
      if (rec.kind !== 'paired') throw new LabelError(`strength applies to chosen/rejected records; this is ${kindName}`);
      return withLabel(obj, base({ status: null, strength: intent.strength, ...pairFlags(prev, false) }));
    }
    case 'note': {
      const note = intent.note === '' ? null : intent.note;
      if (!prev) {
        // A note alone on a record nobody labeled: for records that carry a preference it
        // counts as reviewing (confirming) them; candidates and completions stay unlabeled.
        const extra: Partial<RpoLabel> = { status: null, note };
        if (rec.kind === 'paired') extra.flipped = false;
        if (rec.kind === 'unpaired') extra.original_label = rec.label;
        if (rec.kind === 'unpaired' || rec.kind === 'completion') extra.shown = null;
        return withLabel(obj, base(extra));
      }
      return withLabel(obj, base({ status: prev.status, strength: prev.strength, note }));
    }
    case 'clear':
      return clearLabel(rec, obj);
    default: {
      const never: never = intent;
      throw new LabelError(`unknown intent ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Bookkeeping of a paired record whose chosen/rejected may be swapped now: `flipped` for a
 * record that came with chosen/rejected, `from_responses` (swapped along) for one labeled
 * from candidates, so `clear` can always restore the original line.
 */
function pairFlags(prev: RpoLabel | null, swap: boolean): Partial<RpoLabel> {
  if (prev?.from_responses) {
    const [c, r] = prev.from_responses;
    return { from_responses: swap ? [r, c] : [c, r] };
  }
  return { flipped: (prev?.flipped ?? false) !== swap };
}

function thumbs(rec: PreferenceRecord, obj: Record<string, unknown>, up: boolean, base: (extra: Partial<RpoLabel>) => RpoLabel): Record<string, unknown> {
  const prev = rec.provenance;
  const original = prev?.original_label !== undefined ? prev.original_label : rec.kind === 'unpaired' ? rec.label : null;
  const out = 'label' in obj ? { ...obj, label: up } : insertAfter(obj, 'completion', 'label', up);
  return withLabel(out, base({ status: null, strength: null, shown: null, original_label: original }));
}

function clearLabel(rec: PreferenceRecord, obj: Record<string, unknown>): Record<string, unknown> {
  const prev = rec.provenance;
  let out = { ...obj };
  delete out[LABEL_FIELD];
  if (!prev) return out;
  if (rec.kind === 'paired' && prev.from_responses) {
    const [ci, ri] = prev.from_responses;
    const responses: unknown[] = [];
    responses[ci] = obj.chosen;
    responses[ri] = obj.rejected;
    out = replaceKey(out, 'chosen', [['responses', responses]]);
    delete out.rejected;
  } else if (rec.kind === 'paired' && prev.flipped) {
    swapPair(out);
  } else if ((rec.kind === 'unpaired' || rec.kind === 'completion') && prev.original_label !== undefined) {
    if (prev.original_label === null) delete out.label;
    else out.label = prev.original_label;
  }
  return out;
}

/** Sets `rpo_label`, keeping its position if present, else appending it last. */
function withLabel(obj: Record<string, unknown>, label: RpoLabel): Record<string, unknown> {
  obj[LABEL_FIELD] = label;
  return obj;
}

function swapPair(obj: Record<string, unknown>): void {
  const c = obj.chosen;
  obj.chosen = obj.rejected;
  obj.rejected = c;
}

function otherSide(name: string): string {
  return name === 'chosen' ? 'rejected' : name === 'rejected' ? 'chosen' : name;
}

function responseIndex(name: string): number {
  const m = /^responses\.(\d+)$/.exec(name);
  if (!m) throw new LabelError(`display order names "${name}", expected responses.0 or responses.1`);
  return Number(m[1]);
}

/** Replaces key `key` by the given entries at the same position. */
function replaceKey(obj: Record<string, unknown>, key: string, entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === key) for (const [nk, nv] of entries) out[nk] = nv;
    else if (!entries.some(([nk]) => nk === k)) out[k] = v;
  }
  return out;
}

function insertAfter(obj: Record<string, unknown>, after: string, key: string, value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    out[k] = v;
    if (k === after) out[key] = value;
  }
  if (!(key in out)) out[key] = value;
  return out;
}

/**
 * Which field shows on the left, stable per record and seed, random across records (position
 * bias). A record labeled before keeps the order it was labeled in (`rpo_label.shown`).
 * Keyed by line number (edits never add or remove lines) so labeling does not reshuffle.
 */
export function displayOrder(rec: ParsedLine, line: number, seed: number | string): ShownOrder | null {
  if (rec.kind === 'paired') {
    const shown = rec.provenance?.shown;
    if (shown && shown.includes('chosen') && shown.includes('rejected')) return shown;
    return coin(seed, line) ? ['rejected', 'chosen'] : ['chosen', 'rejected'];
  }
  if (rec.kind === 'candidates') {
    const shown = rec.provenance?.shown;
    if (shown && shown.includes('responses.0') && shown.includes('responses.1')) return shown;
    return coin(seed, line) ? ['responses.1', 'responses.0'] : ['responses.0', 'responses.1'];
  }
  return null;
}

/** One seeded bit per line: FNV-1a over "seed:line", then a murmur3 finaliser. */
function coin(seed: number | string, line: number): boolean {
  const s = `${seed}:${line}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h & 1) === 1;
}

/** How a line was written, so an edited line keeps its neighbours' look. */
export interface JsonStyle {
  /** `", "` and `": "` (Python's json.dumps default) instead of `","` and `":"`. */
  spaced: boolean;
  /** Non-ASCII characters written as `\uXXXX` (Python's ensure_ascii default). */
  asciiOnly: boolean;
}

export function detectStyle(lineText: string): JsonStyle {
  // The first key is followed by `": ` in a spaced line; strings cannot contain a raw `"`.
  const m = /^\s*\{\s*"(?:[^"\\]|\\.)*"(\s*):(\s*)/.exec(lineText);
  const spaced = !!m && m[2] === ' ';
  // ASCII-only line containing a \u escape of a non-ASCII character.
  // eslint-disable-next-line no-control-regex
  const asciiOnly = /^[\x00-\x7f]*$/.test(lineText) && /\\u(?:00[89a-fA-F]|0[1-9a-fA-F]|[1-9a-fA-F])[0-9a-fA-F]{2}/.test(lineText);
  return { spaced, asciiOnly };
}

/** Serialises `value` as one JSON line in the style of `like` (another line's text). */
export function serializeLike(value: unknown, like: string): string {
  return serialize(value, detectStyle(like));
}

export function serialize(value: unknown, style: JsonStyle): string {
  let out = JSON.stringify(value);
  if (style.spaced) out = spaceSeparators(out);
  if (style.asciiOnly) out = out.replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  return out;
}

/**
 * Compact JSON to Python's default separators (`", "`, `": "`): one pass that jumps over string
 * literals with indexOf (the bulk of a record) and adds a space after each `,` and `:` outside
 * them. About as fast as JSON.stringify itself, unlike a recursive re-serialiser.
 */
export function spaceSeparators(json: string): string {
  const parts: string[] = [];
  let last = 0;
  let i = 0;
  const n = json.length;
  while (i < n) {
    const c = json.charCodeAt(i);
    if (c === 0x22) {
      let j = json.indexOf('"', i + 1);
      for (;;) {
        let k = j - 1;
        while (json.charCodeAt(k) === 0x5c) k--;
        if ((j - 1 - k) % 2 === 0) break; // an even number of backslashes: the quote closes
        j = json.indexOf('"', j + 1);
      }
      i = j + 1;
    } else {
      if (c === 0x2c || c === 0x3a) {
        parts.push(json.slice(last, i + 1), ' ');
        last = i + 1;
      }
      i++;
    }
  }
  parts.push(json.slice(last));
  return parts.join('');
}

// ------------------------------------------------------------------ votes for merging (src/core/merge)

/**
 * A record taken apart for a merge: its data as before any labeling (`clear` of every label:
 * chosen/rejected back in their original order, candidates restored, the original `label`) and
 * its votes named in that original record's fields. A single annotator's `rpo_label` counts as
 * their vote; a disputed label without votes has none.
 */
export function recordVotes(rec: PreferenceRecord): { original: PreferenceRecord; votes: Vote[]; hadVotes: boolean } {
  const own = (rec.object[VOTES_FIELD] as Vote[] | undefined) ?? null;
  const obj = clearLabel(rec, { ...rec.object });
  delete obj[VOTES_FIELD];
  const original = reparse(obj);
  const votes = renameVotes(own ?? legacyVotes(rec), termMap(rec, original));
  return { original, votes, hadVotes: own !== null };
}

/**
 * The line for an original record (from `recordVotes`) with these votes (in its field names)
 * resolved under `policy`, serialised like `likeLine`. `rpo_votes` is written when `keepVotesField`
 * or when there are two or more votes; no votes give the original line. `last`: keys written after
 * every other (the merge's `rpo_blind`).
 */
export function applyVotes(original: PreferenceRecord, votes: Vote[], policy: ResolutionPolicy, keepVotesField: boolean, likeLine: string, last?: Record<string, unknown>): string {
  if (votes.length === 0) return serializeLike(last ? { ...original.object, ...last } : original.object, likeLine);
  const newest = votes[votes.length - 1]!;
  const out = resolveRecord(original, votes, { annotator: newest.annotator, time: newest.time, policy }, original);
  if (votes.length < 2 && !keepVotesField) delete out[VOTES_FIELD];
  return serializeLike(last ? { ...out, ...last } : out, likeLine);
}

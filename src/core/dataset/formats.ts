import { isUtf8 } from 'node:buffer';
import { LABEL_FIELD, checkRpoLabel, jsonTypeName, type ResolvedStatus, type RpoLabel } from './provenance';
import { VOTES_FIELD, checkVotes } from './votes';

/**
 * One line of a preference JSONL file, parsed into a typed record. Formats (docs/formats.md):
 *
 * | kind         | shape                                                    |
 * | ------------ | -------------------------------------------------------- |
 * | `paired`     | `{prompt?, chosen, rejected}` (TRL paired preference)    |
 * | `unpaired`   | `{prompt, completion, label: bool}` (TRL unpaired)       |
 * | `completion` | `{prompt, completion}`: awaiting a thumbs up / down      |
 * | `candidates` | `{prompt, responses: [a, b]}`: awaiting a pairwise label |
 * | `invalid`    | anything else, with a reason, code and field name        |
 * | `blank`      | an empty (or whitespace-only) line                       |
 *
 * Each text value is either a string (style `standard`) or a list of `{role, content}` messages
 * (style `conversational`); one record uses one style. A paired record without `prompt` has an
 * implicit prompt: the longest common prefix of chosen and rejected, split off the way TRL's
 * `extract_prompt` does (message prefix; for strings, the character prefix minus a trailing
 * space).
 */
export interface Message {
  role: string;
  content: string;
}
export type Turns = string | Message[];
export type Style = 'standard' | 'conversational';

interface RecordBase {
  /** The parsed JSON object (key order as in the line; unknown fields included). */
  object: Record<string, unknown>;
  style: Style;
  /** The `rpo_label` provenance field, or null when the line has none. */
  provenance: RpoLabel | null;
}

export interface PairedRecord extends RecordBase {
  kind: 'paired';
  prompt: Turns;
  chosen: Turns;
  rejected: Turns;
  /** True when `prompt` was absent and was split off chosen/rejected (those are the remainders). */
  implicitPrompt: boolean;
  /** Raw Anthropic HH transcripts (`\n\nHuman: ...`): `rpo import-hh` makes them explicit. */
  hhTranscript: boolean;
}

export interface UnpairedRecord extends RecordBase {
  kind: 'unpaired';
  prompt: Turns;
  completion: Turns;
  label: boolean;
}

export interface CompletionRecord extends RecordBase {
  kind: 'completion';
  prompt: Turns;
  completion: Turns;
}

export interface CandidatesRecord extends RecordBase {
  kind: 'candidates';
  prompt: Turns;
  responses: [Turns, Turns];
}

export type InvalidCode =
  | 'utf8' // bytes that are not UTF-8
  | 'bom' // a byte order mark inside the file
  | 'json' // not valid JSON
  | 'not-object' // valid JSON but not an object
  | 'shape' // an object matching none of the record shapes
  | 'missing-field'
  | 'field-type'
  | 'label-field'; // a malformed rpo_label or rpo_votes

export interface InvalidRecord {
  kind: 'invalid';
  code: InvalidCode;
  /** One sentence for people, e.g. `field "chosen" must be a string or a list of messages, found a number`. */
  reason: string;
  /** The field at fault (dotted path, e.g. `rejected[2].content`), or null. */
  field: string | null;
  /** 1-based character column (JSON errors) or byte column (UTF-8 errors) in the line, or null. */
  column: number | null;
  /** The parsed object when the line was a JSON object. */
  object: Record<string, unknown> | null;
}

export interface BlankRecord {
  kind: 'blank';
}

export type PreferenceRecord = PairedRecord | UnpairedRecord | CompletionRecord | CandidatesRecord;
export type ParsedLine = PreferenceRecord | InvalidRecord | BlankRecord;
export type RecordKind = ParsedLine['kind'];

/**
 * Where a record stands for labeling:
 * - `needs-label`: candidates or a completion nobody labeled yet;
 * - `unreviewed`: carries a preference from the data (chosen/rejected, label) but no `rpo_label`;
 * - `labeled`: an annotator gave a preference (`rpo_label` with status null);
 * - a status: the annotator marked it tie / skip / both_bad / excluded, or `disputed`: the
 *   record's votes do not resolve (docs/formats.md, "Votes");
 * - `invalid`, `blank`: not a record.
 */
export type LabelState = 'needs-label' | 'unreviewed' | 'labeled' | ResolvedStatus | 'invalid' | 'blank';

export function labelState(rec: ParsedLine): LabelState {
  if (rec.kind === 'invalid' || rec.kind === 'blank') return rec.kind;
  const p = rec.provenance;
  if (p?.status) return p.status;
  if (rec.kind === 'candidates' || rec.kind === 'completion') return 'needs-label';
  return p ? 'labeled' : 'unreviewed';
}

/** Parses one line's content bytes (no line ending). Never throws. */
export function parseLine(bytes: Uint8Array): ParsedLine {
  if (isBlank(bytes)) return { kind: 'blank' };
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return invalid('bom', 'a byte order mark (U+FEFF) at the start of this line: only the first line of a file may start with one', null, 1);
  }
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    return invalid('utf8', 'a UTF-16 byte order mark: this file is UTF-16; JSON Lines files must be UTF-8', null, 1);
  }
  if (!isUtf8(bytes)) {
    const at = firstInvalidUtf8(bytes);
    return invalid('utf8', `invalid UTF-8 at byte ${at + 1} of the line`, null, at + 1);
  }
  return parseText(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}

/** Parses one line already decoded to a string (no line ending). Never throws. */
export function parseText(text: string): ParsedLine {
  if (/^[ \t]*$/.test(text)) return { kind: 'blank' };
  if (text.charCodeAt(0) === 0xfeff) {
    return invalid('bom', 'a byte order mark (U+FEFF) at the start of this line: only the first line of a file may start with one', null, 1);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // V8 messages quote the input ("... "{...}" is not valid JSON"), which for a 1 MB line is
    // noise; keep the first clause and compute the position ourselves when it is missing.
    const message = (err instanceof Error ? err.message : String(err)).replace(/, ".*" is not valid JSON$/s, '');
    const m = /position (\d+)/.exec(message);
    const position = m ? Number(m[1]) : jsonErrorPosition(text);
    const what = message.replace(/ in JSON at position \d+.*$/s, '').replace(/^JSON\.parse: /, '');
    return invalid('json', `not valid JSON: ${what} at column ${position + 1}`, null, position + 1);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return invalid('not-object', `each line must be a JSON object, found ${jsonTypeName(value)}`, null, null);
  }
  return classify(value as Record<string, unknown>);
}

/** Classifies a parsed JSON object as one of the record shapes (or invalid). */
export function classify(object: Record<string, unknown>): PreferenceRecord | InvalidRecord {
  const rec = classifyShape(object);
  if (rec.kind === 'invalid') return rec;
  // `rpo_blind` (blind.ts): the mark for blind re-annotation is `true` or absent.
  if ('rpo_blind' in object && object.rpo_blind !== true) return invalid('label-field', `field "rpo_blind" must be true (or absent), found ${JSON.stringify(object.rpo_blind)?.slice(0, 40)}`, 'rpo_blind', null, object);
  if (!(VOTES_FIELD in object)) return rec;
  const checked = checkVotes(object[VOTES_FIELD], rec.kind);
  if ('issue' in checked) return invalid('label-field', `field "${checked.issue.field}" ${checked.issue.reason}`, checked.issue.field, null, object);
  return rec;
}

function classifyShape(object: Record<string, unknown>): PreferenceRecord | InvalidRecord {
  const bad = (code: InvalidCode, reason: string, field: string | null) => invalid(code, reason, field, null, object);

  let provenance: RpoLabel | null = null;
  if (LABEL_FIELD in object) {
    const checked = checkRpoLabel(object[LABEL_FIELD]);
    if ('issue' in checked) return bad('label-field', `field "${checked.issue.field}" ${checked.issue.reason}`, checked.issue.field);
    provenance = checked.label;
  }

  // Fast path for the common all-strings paired shapes (most of any real file): no closures.
  const c0 = object.chosen;
  const r0 = object.rejected;
  if (typeof c0 === 'string' && typeof r0 === 'string') {
    const p0 = object.prompt;
    if (typeof p0 === 'string') return { kind: 'paired', object, style: 'standard', provenance, prompt: p0, chosen: c0, rejected: r0, implicitPrompt: false, hhTranscript: false };
    if (p0 === undefined) return new ImplicitStandardPair(object, provenance, c0, r0);
  }

  const has = (k: string) => Object.prototype.hasOwnProperty.call(object, k) && object[k] !== undefined;
  const turns = (k: string): { value: Turns; style: Style } | InvalidRecord => {
    const v = object[k];
    if (typeof v === 'string') return { value: v, style: 'standard' };
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const m = v[i] as unknown;
        if (typeof m !== 'object' || m === null || Array.isArray(m)) return bad('field-type', `field "${k}[${i}]" must be a message {role, content}, found ${jsonTypeName(m)}`, `${k}[${i}]`);
        const msg = m as Record<string, unknown>;
        if (typeof msg.role !== 'string') return bad('field-type', `field "${k}[${i}].role" must be a string, found ${jsonTypeName(msg.role)}`, `${k}[${i}].role`);
        if (typeof msg.content !== 'string') return bad('field-type', `field "${k}[${i}].content" must be a string, found ${jsonTypeName(msg.content)}`, `${k}[${i}].content`);
      }
      return { value: v as Message[], style: 'conversational' };
    }
    return bad('field-type', `field "${k}" must be a string or a list of messages, found ${jsonTypeName(v)}`, k);
  };
  /** Reads fields that must all share one style. */
  const read = (keys: string[]): { values: Turns[]; style: Style } | InvalidRecord => {
    const values: Turns[] = [];
    let style: Style | null = null;
    let styleKey = '';
    for (const k of keys) {
      const t = turns(k);
      if ('kind' in t) return t;
      if (style && t.style !== style) {
        return bad('field-type', `field "${k}" is ${t.style === 'standard' ? 'a string' : 'a message list'} but "${styleKey}" is ${style === 'standard' ? 'a string' : 'a message list'}: one record uses one style`, k);
      }
      style = t.style;
      styleKey = k;
      values.push(t.value);
    }
    return { values, style: style ?? 'standard' };
  };

  if (has('chosen') || has('rejected')) {
    for (const k of ['chosen', 'rejected']) if (!has(k)) return bad('missing-field', `a paired record needs both "chosen" and "rejected"; "${k}" is missing`, k);
    const explicit = has('prompt');
    const r = read(explicit ? ['prompt', 'chosen', 'rejected'] : ['chosen', 'rejected']);
    if ('kind' in r) return r;
    if (explicit) {
      const [prompt, chosen, rejected] = r.values as [Turns, Turns, Turns];
      return { kind: 'paired', object, style: r.style, provenance, prompt, chosen, rejected, implicitPrompt: false, hhTranscript: false };
    }
    const [chosen, rejected] = r.values as [Turns, Turns];
    const split = splitImplicitPrompt(chosen, rejected);
    const hhTranscript = typeof chosen === 'string' && typeof rejected === 'string' && chosen.startsWith('\n\nHuman:') && rejected.startsWith('\n\nHuman:');
    return { kind: 'paired', object, style: r.style, provenance, ...split, implicitPrompt: true, hhTranscript };
  }
  if (has('responses')) {
    if (!has('prompt')) return bad('missing-field', 'a candidates record needs "prompt" next to "responses"', 'prompt');
    const responses = object.responses;
    if (!Array.isArray(responses)) return bad('field-type', `field "responses" must be a list of two responses, found ${jsonTypeName(responses)}`, 'responses');
    if (responses.length !== 2) return bad('field-type', `field "responses" must hold exactly 2 responses, found ${responses.length}`, 'responses');
    const r = read(['prompt']);
    if ('kind' in r) return r;
    const one = (i: number): Turns | InvalidRecord => {
      const v = responses[i] as unknown;
      const field = `responses[${i}]`;
      if (typeof v === 'string') return r.style === 'standard' ? v : bad('field-type', `field "${field}" is a string but "prompt" is a message list: one record uses one style`, field);
      if (Array.isArray(v) && r.style === 'conversational') {
        for (let j = 0; j < v.length; j++) {
          const m = v[j] as Record<string, unknown> | null;
          if (typeof m !== 'object' || m === null || typeof m.role !== 'string' || typeof m.content !== 'string') {
            return bad('field-type', `field "${field}[${j}]" must be a message {role: string, content: string}`, `${field}[${j}]`);
          }
        }
        return v as Message[];
      }
      return bad('field-type', `field "${field}" must be ${r.style === 'standard' ? 'a string' : 'a list of messages'}, found ${jsonTypeName(v)}`, field);
    };
    const a = one(0);
    if (typeof a === 'object' && 'kind' in a) return a;
    const b = one(1);
    if (typeof b === 'object' && 'kind' in b) return b;
    return { kind: 'candidates', object, style: r.style, provenance, prompt: r.values[0]!, responses: [a as Turns, b as Turns] };
  }
  if (has('completion')) {
    if (!has('prompt')) return bad('missing-field', 'an unpaired record needs "prompt" next to "completion"', 'prompt');
    const r = read(['prompt', 'completion']);
    if ('kind' in r) return r;
    const [prompt, completion] = r.values as [Turns, Turns];
    if (!has('label') || object.label === null) return { kind: 'completion', object, style: r.style, provenance, prompt, completion };
    if (typeof object.label !== 'boolean') return bad('field-type', `field "label" must be true or false, found ${jsonTypeName(object.label)}`, 'label');
    return { kind: 'unpaired', object, style: r.style, provenance, prompt, completion, label: object.label };
  }
  const keys = Object.keys(object);
  return bad(
    'shape',
    `not a preference record: expected {prompt, chosen, rejected}, {prompt, completion, label}, {prompt, completion} or {prompt, responses}; found keys ${keys.length ? keys.slice(0, 8).map((k) => JSON.stringify(k.length > 40 ? k.slice(0, 39) + '…' : k)).join(', ') + (keys.length > 8 ? `, … (${keys.length} keys)` : '') : '(none)'}`,
    null,
  );
}

/**
 * A paired standard record without `prompt`: the implicit-prompt split (a character scan over
 * both texts, the slowest part of classifying an HH line) runs only when a field is read, so
 * counting a file does not pay for it.
 */
class ImplicitStandardPair implements PairedRecord {
  readonly kind = 'paired' as const;
  readonly style = 'standard' as const;
  readonly implicitPrompt = true;
  readonly hhTranscript: boolean;
  private split: { prompt: string; chosen: string; rejected: string } | undefined;

  constructor(
    readonly object: Record<string, unknown>,
    readonly provenance: RpoLabel | null,
    private readonly fullChosen: string,
    private readonly fullRejected: string,
  ) {
    this.hhTranscript = fullChosen.startsWith('\n\nHuman:') && fullRejected.startsWith('\n\nHuman:');
  }

  private parts() {
    return (this.split ??= splitImplicitPrompt(this.fullChosen, this.fullRejected) as { prompt: string; chosen: string; rejected: string });
  }
  get prompt(): string {
    return this.parts().prompt;
  }
  get chosen(): string {
    return this.parts().chosen;
  }
  get rejected(): string {
    return this.parts().rejected;
  }
}

/** chosen equals rejected (nothing to learn from the pair). Cheap: no split, no serialising. */
export function isIdenticalPair(rec: PairedRecord): boolean {
  const c = rec.object.chosen;
  const r = rec.object.rejected;
  if (typeof c === 'string' || typeof r === 'string') return c === r;
  const a = c as Message[];
  const b = r as Message[];
  return a.length === b.length && a.every((m, i) => m.role === b[i]!.role && m.content === b[i]!.content);
}

/** TRL's implicit prompt extraction: the longest common prefix of chosen and rejected. */
export function splitImplicitPrompt(chosen: Turns, rejected: Turns): { prompt: Turns; chosen: Turns; rejected: Turns } {
  if (typeof chosen === 'string' && typeof rejected === 'string') {
    const n = Math.min(chosen.length, rejected.length);
    let idx = 0;
    while (idx < n && chosen.charCodeAt(idx) === rejected.charCodeAt(idx)) idx++;
    // The prefix is counted in characters (code points), as Python's str does: never end it
    // between the two UTF-16 code units of one character (U+1F600 vs U+1F601 share D83D).
    if (idx < n && idx > 0 && isHighSurrogate(chosen.charCodeAt(idx - 1))) idx--;
    if (idx < n && idx > 0 && chosen[idx - 1] === ' ') idx--;
    return { prompt: chosen.slice(0, idx), chosen: chosen.slice(idx), rejected: rejected.slice(idx) };
  }
  const c = chosen as Message[];
  const r = rejected as Message[];
  let idx = 0;
  while (idx < c.length && idx < r.length && c[idx]!.role === r[idx]!.role && c[idx]!.content === r[idx]!.content) idx++;
  return { prompt: c.slice(0, idx), chosen: c.slice(idx), rejected: r.slice(idx) };
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function invalid(code: InvalidCode, reason: string, field: string | null, column: number | null, object: Record<string, unknown> | null = null): InvalidRecord {
  return { kind: 'invalid', code, reason, field, column, object };
}

function isBlank(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b !== 0x20 && b !== 0x09) return false;
  }
  return true;
}

/** Index of the first byte that starts an invalid UTF-8 sequence (only called on invalid lines). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need: number;
    let min: number;
    if (b < 0x80) { i++; continue; }
    else if (b >= 0xc2 && b <= 0xdf) { need = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; min = 0x10000; }
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return bytes.length;
}

/**
 * Offset of the first JSON syntax error in `text` (a small recursive-descent scan, used only on
 * lines JSON.parse rejected, to point at the column when V8's message has no position).
 */
export function jsonErrorPosition(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const lit = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail();
      i++;
    }
  };
  const str = () => {
    if (text[i] !== '"') fail();
    i++;
    for (;;) {
      if (i >= text.length) fail();
      const c = text.charCodeAt(i);
      if (c === 0x22) { i++; return; }
      if (c < 0x20) fail();
      if (c === 0x5c) {
        i++;
        const e = text[i];
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) { i += k; fail(); }
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else fail();
      } else i++;
    }
  };
  const num = () => {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || !m[0] || m[0] === '-') fail();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws(); str(); ws();
        if (text[i] !== ':') fail();
        i++; value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail();
      }
    }
    if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail();
      }
    }
    if (c === '"') return str();
    if (c === 't') return lit('true');
    if (c === 'f') return lit('false');
    if (c === 'n') return lit('null');
    return num();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return text.length;
  } catch (at) {
    if (typeof at === 'number') return Math.min(at, text.length);
    throw at;
  }
}

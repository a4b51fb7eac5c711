import { isUtf8 } from 'node:buffer';
import { classify, parseLine, type ParsedLine } from '../dataset/formats';

/**
 * A line parse for `rpo agreement` that skips what agreement does not read. Pure.
 *
 * `parseForAgreement` gives, for every line, the record kind, validity, `rpo_label` and
 * `rpo_votes` that `parseLine` gives, without JSON.parse of the whole record (most of a line is
 * its texts, and building the texts and the vote objects is most of JSON.parse's time):
 *
 * - one pass over the bytes checks the line is one JSON object as JSON.parse reads it (strings
 *   with their escapes, numbers, literals, nesting, nothing after the object);
 * - the top-level texts (`prompt`, `chosen`, `rejected`, `completion`, the two `responses`) are
 *   checked but not decoded: the record carries empty strings in their place;
 * - `rpo_label` and `rpo_votes` are read by a small reader that builds the same values JSON.parse
 *   builds (strings without escapes, integers, literals, lists, objects), repeated short strings
 *   (annotators, choices, field names) decoded once;
 * - other non-string values of the record's own fields (message lists, `label`, `rpo_blind`) go
 *   through JSON.parse on their own bytes; fields of no record shape are checked and left out;
 * - the object so built goes through the same `classify` as parseLine.
 *
 * Anything outside that (a blank line, a byte order mark, an escape in a key or in a label/vote
 * string, a number that is not a plain integer, a `__proto__` key, a line classify finds
 * invalid, or whose shape is none of the records) is handed to `parseLine` itself, so every
 * answer is parseLine's (test/unit/agreement/scan.test.ts holds both side by side).
 */
export function parseForAgreement(buf: Buffer, start: number, end: number, utf8Known = false): ParsedLine {
  const fast = fastRecord(buf, start, end, utf8Known);
  if (fast !== null) return fast;
  return parseLine(buf.subarray(start, end));
}

const FAIL = -1;
/** The line being read (module state: the reader is a handful of small functions over it). */
let B: Buffer = Buffer.alloc(0);
let E = 0;

// Top-level fields a record shape reads (values kept); others are checked and left out.
const KNOWN = ['prompt', 'chosen', 'rejected', 'responses', 'completion', 'label', 'rpo_label', 'rpo_votes', 'rpo_blind'];
const KNOWN_BYTES = KNOWN.map((k) => Buffer.from(k, 'latin1'));
const TEXT_FIELDS = new Set(['prompt', 'chosen', 'rejected', 'completion']);

function fastRecord(buf: Buffer, start: number, end: number, utf8Known: boolean): ParsedLine | null {
  if (!utf8Known && !isUtf8(buf.subarray(start, end))) return null;
  B = buf;
  E = end;
  let i = ws(start);
  if (i >= end || buf[i] !== 0x7b) return null; // '{' (blank lines, a BOM: parseLine)
  i = ws(i + 1);
  if (i < end && buf[i] === 0x7d) return null; // '{}': parseLine (shape error)
  const object: Record<string, unknown> = {};
  let hasShapeField = false;
  for (;;) {
    if (i >= end || buf[i] !== 0x22) return null;
    const keyStart = i + 1;
    let k = keyStart;
    let c = 0;
    while (k < end && (c = buf[k]!) !== 0x22 && c !== 0x5c && c >= 0x20 && c < 0x80) k++;
    if (k >= end || c !== 0x22) return null; // escapes or non-ASCII in a key: parseLine
    const known = knownKey(keyStart, k);
    if (known === '__proto__') return null;
    i = ws(k + 1);
    if (i >= end || buf[i] !== 0x3a) return null; // ':'
    i = ws(i + 1);
    if (i >= end) return null;
    const valueStart = i;
    if (known === null) {
      i = skipValue(i, 0);
      if (i === FAIL) return null;
    } else if (known === 'rpo_votes' || known === 'rpo_label') {
      const v = known === 'rpo_votes' ? readVotes(i) : readLabel(i);
      if (v === NO_VALUE || readEnd > end) return null;
      object[known] = v;
      i = readEnd;
    } else if (buf[i] === 0x22 && TEXT_FIELDS.has(known)) {
      i = skipString(i);
      if (i === FAIL) return null;
      object[known] = '';
      hasShapeField = true;
    } else if (known === 'responses' && buf[i] === 0x5b) {
      const r = stringList(i);
      if (r === null) return null;
      object[known] = r;
      i = readEnd;
      hasShapeField = true;
    } else {
      i = skipValue(i, 0);
      if (i === FAIL) return null;
      object[known] = JSON.parse(buf.toString('utf8', valueStart, i)) as unknown;
      hasShapeField = true;
    }
    i = ws(i);
    if (i >= end) return null;
    if (buf[i] === 0x2c) {
      i = ws(i + 1);
      continue;
    }
    if (buf[i] === 0x7d) break;
    return null;
  }
  if (ws(i + 1) !== end) return null;
  if (!hasShapeField) return null; // no record field: parseLine names the keys
  const rec = classify(object);
  return rec.kind === 'invalid' ? null : rec;
}

function knownKey(a: number, b: number): string | null {
  const buf_ = B;
  const len = b - a;
  if (len === 9 && buf_[a] === 0x5f && buf_[a + 1] === 0x5f && buf_.toString('latin1', a, b) === '__proto__') return '__proto__';
  for (let j = 0; j < KNOWN_BYTES.length; j++) {
    const kb = KNOWN_BYTES[j]!;
    if (kb.length !== len) continue;
    let same = true;
    for (let x = 0; x < len; x++) {
      if (buf_[a + x] !== kb[x]) {
        same = false;
        break;
      }
    }
    if (same) return KNOWN[j]!;
  }
  return null;
}

/** Skips JSON whitespace (space, tab, LF, CR). */
function ws(i: number): number {
  const buf_ = B;
  const end_ = E;
  let c: number;
  while (i < end_ && ((c = buf_[i]!) === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d)) i++;
  return i;
}

/** The end of the JSON string at i (B[i] is '"'), checked as JSON.parse checks it, or FAIL. */
function skipString(i: number): number {
  const buf_ = B;
  const end_ = E;
  i++;
  for (;;) {
    let c = 0;
    while (i < end_ && (c = buf_[i]!) >= 0x20 && c !== 0x22 && c !== 0x5c) i++;
    if (i >= end_) return FAIL;
    if (c === 0x22) return i + 1;
    if (c !== 0x5c) return FAIL; // a control character
    const e = buf_[i + 1];
    if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) i += 2;
    else if (e === 0x75) {
      for (let h = 2; h < 6; h++) if (!isHex(buf_[i + h])) return FAIL;
      i += 6;
    } else return FAIL;
  }
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

/** The end of the JSON number at i, or FAIL. */
function skipNumber(i: number): number {
  const buf_ = B;
  const end_ = E;
  if (buf_[i] === 0x2d) i++;
  if (i >= end_) return FAIL;
  if (buf_[i] === 0x30) i++;
  else if (buf_[i]! >= 0x31 && buf_[i]! <= 0x39) while (i < end_ && buf_[i]! >= 0x30 && buf_[i]! <= 0x39) i++;
  else return FAIL;
  if (i < end_ && buf_[i] === 0x2e) {
    i++;
    const d = i;
    while (i < end_ && buf_[i]! >= 0x30 && buf_[i]! <= 0x39) i++;
    if (i === d) return FAIL;
  }
  if (i < end_ && (buf_[i] === 0x65 || buf_[i] === 0x45)) {
    i++;
    if (i < end_ && (buf_[i] === 0x2b || buf_[i] === 0x2d)) i++;
    const d = i;
    while (i < end_ && buf_[i]! >= 0x30 && buf_[i]! <= 0x39) i++;
    if (i === d) return FAIL;
  }
  return i;
}

function literal(i: number, word: Buffer): number {
  const buf_ = B;
  const end_ = E;
  if (i + word.length > end_) return FAIL;
  for (let x = 0; x < word.length; x++) if (buf_[i + x] !== word[x]) return FAIL;
  return i + word.length;
}
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');
const MAX_DEPTH = 64;

/** The end of the JSON value at i (checked, not built), or FAIL. */
function skipValue(i: number, depth: number): number {
  const buf_ = B;
  const end_ = E;
  if (i >= end_) return FAIL;
  const c = buf_[i]!;
  if (c === 0x22) return skipString(i);
  if (c === 0x7b || c === 0x5b) {
    if (depth >= MAX_DEPTH) return FAIL;
    const close = c === 0x7b ? 0x7d : 0x5d;
    i = ws(i + 1);
    if (i < end_ && buf_[i] === close) return i + 1;
    for (;;) {
      if (c === 0x7b) {
        if (i >= end_ || buf_[i] !== 0x22) return FAIL;
        i = skipString(i);
        if (i === FAIL) return FAIL;
        i = ws(i);
        if (i >= end_ || buf_[i] !== 0x3a) return FAIL;
        i = ws(i + 1);
      }
      i = skipValue(i, depth + 1);
      if (i === FAIL) return FAIL;
      i = ws(i);
      if (i >= end_) return FAIL;
      if (buf_[i] === 0x2c) {
        i = ws(i + 1);
        continue;
      }
      if (buf_[i] === close) return i + 1;
      return FAIL;
    }
  }
  if (c === 0x74) return literal(i, TRUE);
  if (c === 0x66) return literal(i, FALSE);
  if (c === 0x6e) return literal(i, NULL);
  return skipNumber(i);
}

/** A list of strings at i (B[i] is '['), checked, as empty strings; null when it holds anything else. */
function stringList(i: number): string[] | null {
  const buf_ = B;
  const end_ = E;
  const out: string[] = [];
  i = ws(i + 1);
  if (i < end_ && buf_[i] === 0x5d) return null;
  for (;;) {
    if (i >= end_ || buf_[i] !== 0x22) return null;
    i = skipString(i);
    if (i === FAIL) return null;
    out.push('');
    i = ws(i);
    if (i >= end_) return null;
    if (buf_[i] === 0x2c) {
      i = ws(i + 1);
      continue;
    }
    if (buf_[i] === 0x5d) {
      readEnd = i + 1;
      return out;
    }
    return null;
  }
}

// ------------------------------------------------------------ votes and labels as their writers write them

const NO_VALUE = Symbol('no value');
/** Where the last read ended. */
let readEnd = 0;

const lit = (t: string) => Buffer.from(t, 'latin1');
const VOTE_KEYS = ['annotator', 'time', 'choice', 'strength', 'status', 'note', 'shown', 'adjudicator'].map((k) => lit(`"${k}"`));
const LABEL_KEYS = ['annotator', 'time', 'status', 'strength', 'note', 'shown'].map((k) => lit(`"${k}"`));
const K_FLIPPED = lit('"flipped"');
const K_ORIGINAL = lit('"original_label"');
const K_FROM = lit('"from_responses"');

/** i after the key `key` and its ':' (whitespace allowed around), or FAIL. */
function key(i: number, key: Buffer): number {
  const buf_ = B;
  i = ws(i);
  if (i + key.length > E) return FAIL;
  for (let x = 0; x < key.length; x++) if (buf_[i + x] !== key[x]) return FAIL;
  i = ws(i + key.length);
  if (buf_[i] !== 0x3a) return FAIL;
  return ws(i + 1);
}

/** After a member: i past ',' (more follow) or past '}' (last); FAIL otherwise. */
function next(i: number, last: boolean): number {
  i = ws(i);
  if (B[i] !== (last ? 0x7d : 0x2c)) return FAIL;
  return i + 1;
}

/** A string without escapes at i (decoded), or null for `null` when `nullable`; NO_VALUE otherwise. Sets readEnd. */
function str(i: number, nullable: boolean): string | null | typeof NO_VALUE {
  const buf_ = B;
  const end_ = E;
  if (nullable && buf_[i] === 0x6e) {
    const e = literal(i, NULL);
    if (e === FAIL) return NO_VALUE;
    readEnd = e;
    return null;
  }
  if (buf_[i] !== 0x22) return NO_VALUE;
  let k = i + 1;
  let ascii = true;
  let ch = 0;
  let h = 0;
  while (k < end_ && (ch = buf_[k]!) >= 0x20 && ch !== 0x22 && ch !== 0x5c) {
    if (ch >= 0x80) ascii = false;
    h = (h * 31 + ch) & 0xfffff;
    k++;
  }
  if (k >= end_ || ch !== 0x22) return NO_VALUE; // escapes (JSON.parse decodes them), control characters, no end
  readEnd = k + 1;
  return ascii ? interned(i + 1, k, h) : buf_.toString('utf8', i + 1, k);
}

/** null, or a list of two strings (`shown`). */
function pair(i: number): [string, string] | null | typeof NO_VALUE {
  const buf_ = B;
  if (buf_[i] === 0x6e) {
    const e = literal(i, NULL);
    if (e === FAIL) return NO_VALUE;
    readEnd = e;
    return null;
  }
  if (buf_[i] !== 0x5b) return NO_VALUE;
  const a = str(ws(i + 1), false);
  if (a === NO_VALUE) return NO_VALUE;
  i = ws(readEnd);
  if (buf_[i] !== 0x2c) return NO_VALUE;
  const b = str(ws(i + 1), false);
  if (b === NO_VALUE) return NO_VALUE;
  i = ws(readEnd);
  if (buf_[i] !== 0x5d) return NO_VALUE;
  readEnd = i + 1;
  return [a as string, b as string];
}

/** true or false. */
function bool(i: number): boolean | typeof NO_VALUE {
  const c = B[i];
  const e = literal(i, c === 0x74 ? TRUE : FALSE);
  if (e === FAIL) return NO_VALUE;
  readEnd = e;
  return c === 0x74;
}

/**
 * `rpo_votes` as the writers write it (docs/formats.md: a list of objects with the eight keys
 * in their order; any whitespace): the same values JSON.parse builds, or NO_VALUE.
 */
function readVotes(i: number): unknown[] | typeof NO_VALUE {
  const buf_ = B;
  if (buf_[i] !== 0x5b) return NO_VALUE;
  const votes: unknown[] = [];
  i = ws(i + 1);
  if (buf_[i] === 0x5d) {
    readEnd = i + 1;
    return votes;
  }
  for (;;) {
    if (buf_[i] !== 0x7b) return NO_VALUE;
    let at = key(i + 1, VOTE_KEYS[0]!);
    const annotator = at === FAIL ? NO_VALUE : str(at, false);
    if (annotator === NO_VALUE || (at = key(next(readEnd, false), VOTE_KEYS[1]!)) === FAIL) return NO_VALUE;
    const time = str(at, false);
    if (time === NO_VALUE || (at = key(next(readEnd, false), VOTE_KEYS[2]!)) === FAIL) return NO_VALUE;
    const choice = str(at, true);
    if (choice === NO_VALUE || (at = key(next(readEnd, false), VOTE_KEYS[3]!)) === FAIL) return NO_VALUE;
    const strength = str(at, true);
    if (strength === NO_VALUE || (at = key(next(readEnd, false), VOTE_KEYS[4]!)) === FAIL) return NO_VALUE;
    const status = str(at, true);
    if (status === NO_VALUE || (at = key(next(readEnd, false), VOTE_KEYS[5]!)) === FAIL) return NO_VALUE;
    const note = str(at, true);
    if (note === NO_VALUE || (at = key(next(readEnd, false), VOTE_KEYS[6]!)) === FAIL) return NO_VALUE;
    const shown = pair(at);
    if (shown === NO_VALUE || (at = key(next(readEnd, false), VOTE_KEYS[7]!)) === FAIL) return NO_VALUE;
    const adjudicator = bool(at);
    if (adjudicator === NO_VALUE || (at = next(readEnd, true)) === FAIL) return NO_VALUE;
    votes.push({ annotator, time, choice, strength, status, note, shown, adjudicator });
    i = ws(at);
    if (buf_[i] === 0x2c) {
      i = ws(i + 1);
      continue;
    }
    if (buf_[i] === 0x5d) {
      readEnd = i + 1;
      return votes;
    }
    return NO_VALUE;
  }
}

/**
 * `rpo_label` as the writers write it (makeLabel: annotator, time, status, strength, note, shown,
 * then flipped, original_label, from_responses when present, in that order): the same object
 * JSON.parse builds, or NO_VALUE.
 */
function readLabel(i: number): Record<string, unknown> | typeof NO_VALUE {
  if (B[i] !== 0x7b) return NO_VALUE;
  let at = key(i + 1, LABEL_KEYS[0]!);
  const annotator = at === FAIL ? NO_VALUE : str(at, false);
  if (annotator === NO_VALUE || (at = key(next(readEnd, false), LABEL_KEYS[1]!)) === FAIL) return NO_VALUE;
  const time = str(at, false);
  if (time === NO_VALUE || (at = key(next(readEnd, false), LABEL_KEYS[2]!)) === FAIL) return NO_VALUE;
  const status = str(at, true);
  if (status === NO_VALUE || (at = key(next(readEnd, false), LABEL_KEYS[3]!)) === FAIL) return NO_VALUE;
  const strength = str(at, true);
  if (strength === NO_VALUE || (at = key(next(readEnd, false), LABEL_KEYS[4]!)) === FAIL) return NO_VALUE;
  const note = str(at, true);
  if (note === NO_VALUE || (at = key(next(readEnd, false), LABEL_KEYS[5]!)) === FAIL) return NO_VALUE;
  const shown = pair(at);
  if (shown === NO_VALUE) return NO_VALUE;
  const label: Record<string, unknown> = { annotator, time, status, strength, note, shown };
  at = ws(readEnd);
  if (B[at] === 0x7d) {
    readEnd = at + 1;
    return label;
  }
  if (B[at] !== 0x2c) return NO_VALUE;
  at = ws(at + 1);
  if ((i = key(at, K_FLIPPED)) !== FAIL) {
    const f = bool(i);
    if (f === NO_VALUE) return NO_VALUE;
    label.flipped = f;
    if ((at = end(readEnd)) === FAIL) return NO_VALUE;
    if (at < 0) return label;
  }
  if ((i = key(at, K_ORIGINAL)) !== FAIL) {
    const o = B[i] === 0x6e ? (literal(i, NULL) === FAIL ? NO_VALUE : ((readEnd = i + 4), null)) : bool(i);
    if (o === NO_VALUE) return NO_VALUE;
    label.original_label = o;
    if ((at = end(readEnd)) === FAIL) return NO_VALUE;
    if (at < 0) return label;
  }
  if ((i = key(at, K_FROM)) !== FAIL) {
    if (B[i] !== 0x5b) return NO_VALUE;
    const a = digit(ws(i + 1));
    if (a < 0) return NO_VALUE;
    i = ws(readEnd);
    if (B[i] !== 0x2c) return NO_VALUE;
    const b = digit(ws(i + 1));
    if (b < 0) return NO_VALUE;
    i = ws(readEnd);
    if (B[i] !== 0x5d) return NO_VALUE;
    label.from_responses = [a, b];
    if ((at = end(readEnd)) === FAIL) return NO_VALUE;
    if (at < 0) return label;
  }
  return NO_VALUE;
}

/** After a label member: -2 - (index past '}') when the object ends (readEnd set), the next member's index after ',', or FAIL. */
function end(i: number): number {
  i = ws(i);
  if (B[i] === 0x7d) {
    readEnd = i + 1;
    return -2;
  }
  if (B[i] !== 0x2c) return FAIL;
  return ws(i + 1);
}

/** A single digit 0-9 not followed by another digit, '.', 'e' or 'E' (a response index), or -1. Sets readEnd. */
function digit(i: number): number {
  const c = B[i]!;
  if (c < 0x30 || c > 0x39) return -1;
  const n = B[i + 1];
  if (n !== undefined && ((n >= 0x30 && n <= 0x39) || n === 0x2e || n === 0x65 || n === 0x45)) return -1;
  readEnd = i + 1;
  return c - 0x30;
}

/** Short ASCII strings decoded once (annotators, choices, keys): a direct-mapped cache of 4096 slots. */
const cache: (string | undefined)[] = new Array<string | undefined>(4096).fill(undefined);
function interned(a: number, b: number, hash: number): string {
  const buf_ = B;
  const len = b - a;
  if (len > 40) return buf_.toString('latin1', a, b);
  const slot = (hash ^ (len << 7)) & 4095;
  const hit = cache[slot];
  if (hit !== undefined && hit.length === len) {
    let x = 0;
    while (x < len && hit.charCodeAt(x) === buf_[a + x]) x++;
    if (x === len) return hit;
  }
  const s = buf_.toString('latin1', a, b);
  cache[slot] = s;
  return s;
}

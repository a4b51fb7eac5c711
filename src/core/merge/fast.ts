import { isUtf8 } from 'node:buffer';
import { LABEL_STATUSES, RESOLVED_STATUSES, STRENGTHS } from '../dataset/provenance';
import { resolveVotes, type ResolutionPolicy } from '../dataset/votes';

/**
 * The merge's fast path for a record changed on both sides (docs/merge.md, "Speed"), on bytes:
 * the data (every key but `rpo_label`, `rpo_votes`, `rpo_blind`) is compared and copied as bytes,
 * never decoded; only the label and the votes are read, by a scanner of the exact layout this
 * tool writes (`makeLabel` / `makeVote` key order, compact or Python-spaced separators).
 *
 * It handles the common case: a paired record (`chosen` and `rejected` strings, `prompt` a string
 * or absent) whose line is canonical JSON (what `serializeLike` would write for it: no extra
 * whitespace, no `\u` escapes, numbers as JavaScript writes them, no duplicate or integer-like
 * keys), with labels that are not from candidates. For anything else it returns null and the
 * caller takes the general path (`mergeRecord` in index.ts, which parses the records into
 * objects): that path is the reference, and for every line this one accepts the output is the
 * same bytes (test/unit/merge/fast.test.ts checks it on generated records).
 */

const Q = 0x22;
const BS = 0x5c;
const LB = 0x7b;
const RB = 0x7d;
const LS = 0x5b;
const RS = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const SP = 0x20;

/** The index after the canonical JSON string starting at b[i] (a quote), or -1. */
function skipString(b: Buffer, i: number, n: number): number {
  let j = i + 1;
  while (j < n) {
    const c = b[j]!;
    if (c === Q) return j + 1;
    if (c === BS) {
      const e = b[j + 1];
      // the escapes JSON.stringify writes itself (\u escapes are ruled out for the whole line)
      if (e === Q || e === BS || e === 0x6e || e === 0x74 || e === 0x72 || e === 0x62 || e === 0x66) j += 2;
      else return -1;
    } else if (c < 0x20) return -1;
    else j++;
  }
  return -1;
}

/**
 * The index after the string at b[i] without checking its content (the data of a line compared
 * byte for byte with a checked one): the next quote not escaped.
 */
function skipStringUnchecked(b: Buffer, i: number, n: number): number {
  let q = b.indexOf(Q, i + 1);
  while (q > 0) {
    let k = q - 1;
    while (b[k] === BS) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    q = b.indexOf(Q, q + 1);
  }
  return q < 0 || q >= n ? -1 : q + 1;
}

/** A plain string's value (no escapes, ASCII), or null. `i` is at the opening quote; `end` after the closing one. */
function plainValue(b: Buffer, i: number, end: number): string | null {
  for (let j = i + 1; j < end - 1; j++) {
    const c = b[j]!;
    if (c === BS || c >= 0x80) return null;
  }
  return b.toString('latin1', i + 1, end - 1);
}

/**
 * The index after a plain key starting at b[i] (a quote): no escapes, no control characters,
 * not integer-like (JavaScript orders such keys first) and not `__proto__`; -1 otherwise.
 */
function plainKey(b: Buffer, i: number, n: number): number {
  if (b[i] !== Q) return -1;
  let digits = true;
  let j = i + 1;
  for (; j < n; j++) {
    const c = b[j]!;
    if (c === Q) break;
    if (c === BS || c < 0x20) return -1;
    if (c < 0x30 || c > 0x39) digits = false;
  }
  if (j >= n || (digits && j > i + 1) || is(b, i + 1, j, '__proto__')) return -1;
  return j + 1;
}

/** b[s, e) holds exactly `name` (ASCII). */
function is(b: Buffer, s: number, e: number, name: string): boolean {
  if (e - s !== name.length) return false;
  for (let k = 0; k < name.length; k++) if (b[s + k] !== name.charCodeAt(k)) return false;
  return true;
}

/** The same bytes at [xs, xe) of x and [ys, ye) of y. */
function sameBytes(x: Buffer, xs: number, xe: number, y: Buffer, ys: number, ye: number): boolean {
  if (xe - xs !== ye - ys) return false;
  if (xe - xs <= 32) {
    for (let k = 0; k < xe - xs; k++) if (x[xs + k] !== y[ys + k]) return false;
    return true;
  }
  return x.compare(y, ys, ye, xs, xe) === 0;
}

/** Whether the key at [s, e) (quotes included) repeats one of the keys at starts/ends. */
function repeats(b: Buffer, s: number, e: number, starts: number[], ends: number[]): boolean {
  for (let k = 0; k < starts.length; k++) if (sameBytes(b, starts[k]!, ends[k]!, b, s, e)) return true;
  return false;
}

class Scanner {
  /** `checked`: data strings are checked to be canonical (else only skipped). */
  constructor(readonly b: Buffer, readonly n: number, readonly spaced: boolean, readonly checked: boolean) {}

  private reader: Fields | null = null;
  /** The (one, reused) reader of label and vote objects, at i. */
  fields(i: number): Fields {
    this.reader ??= new Fields(this, i);
    this.reader.i = i;
    return this.reader;
  }

  str(i: number): number {
    return this.checked ? skipString(this.b, i, this.n) : skipStringUnchecked(this.b, i, this.n);
  }

  /** After a `,` or `:`: the style's space, if any. Returns the next index or -1. */
  sep(i: number, c: number): number {
    if (this.b[i] !== c) return -1;
    if (this.spaced) return this.b[i + 1] === SP ? i + 2 : -1;
    return i + 1;
  }

  key(i: number): number {
    return plainKey(this.b, i, this.n);
  }

  /** The index after the canonical value at i, or -1. */
  value(i: number, depth: number): number {
    const b = this.b;
    const c = b[i];
    if (c === Q) return this.str(i);
    if (c === LB || c === LS) {
      if (depth > 64) return -1;
      const close = c === LB ? RB : RS;
      let j = i + 1;
      if (b[j] === close) return j + 1;
      const ks: number[] = [];
      const kes: number[] = [];
      for (;;) {
        if (c === LB) {
          const ke = this.key(j);
          if (ke < 0 || repeats(b, j, ke, ks, kes)) return -1;
          ks.push(j);
          kes.push(ke);
          j = this.sep(ke, COLON);
          if (j < 0) return -1;
        }
        j = this.value(j, depth + 1);
        if (j < 0) return -1;
        if (b[j] === close) return j + 1;
        j = this.sep(j, COMMA);
        if (j < 0) return -1;
      }
    }
    if (c === 0x74) return lit(b, i, 'true');
    if (c === 0x66) return lit(b, i, 'false');
    if (c === 0x6e) return lit(b, i, 'null');
    if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < this.n) {
        const d = b[j]!;
        if ((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) j++;
        else break;
      }
      const text = latin1(b, i, j);
      return String(Number(text)) === text ? j : -1;
    }
    return -1;
  }
}

function latin1(b: Buffer, s: number, e: number): string {
  return b.toString('latin1', s, e);
}

function lit(b: Buffer, i: number, word: string): number {
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return -1;
  return i + word.length;
}

/** A vote in original field names: string values decoded, `annotator` and `note` kept as their JSON text. */
export interface FastVote {
  annotator: string;
  time: string;
  choice: string | null;
  strength: string | null;
  status: string | null;
  note: string;
  shown: [string, string] | null;
  adjudicator: boolean;
  /** Where the vote's bytes are, as they should be written (a vote read from a line and not renamed); src null otherwise. */
  src: Buffer | null;
  s: number;
  e: number;
}

interface FastLabel {
  annotator: string;
  time: string;
  status: string | null;
  strength: string | null;
  note: string;
  shown: [string, string] | null;
  flipped: boolean | undefined;
}

/** A line taken apart: its top-level members, the data members' positions, its label and votes. */
interface FastLine {
  b: Buffer;
  spaced: boolean;
  /** Data members, in order: the member's start (its key's quote), its key's end, its value's start and end. */
  keyEnds: number[];
  starts: number[];
  vs: number[];
  ve: number[];
  chosen: number;
  rejected: number;
  flipped: boolean;
  votes: FastVote[];
  hadVotes: boolean;
  /** `"rpo_blind": true` is in the line. */
  blind: boolean;
}

const otherSide = (s: string) => (s === 'chosen' ? 'rejected' : s === 'rejected' ? 'chosen' : s);
const CHOICES_PAIRED: readonly string[] = ['chosen', 'rejected'];

/** Reads the exact layout `{"k": v, ...}` of a label or vote object, keys in this order, with optional trailing keys. */
class Fields {
  i: number;
  constructor(readonly sc: Scanner, start: number) {
    this.i = start;
  }
  /** Expects `"name":` (after `{` for the first, `,` before the others); returns the value's start or -1. */
  field(name: string, first: boolean): boolean {
    const b = this.sc.b;
    let i = this.i;
    if (first) {
      if (b[i] !== LB) return false;
      i++;
    } else {
      i = this.sc.sep(i, COMMA);
      if (i < 0) return false;
    }
    if (b[i] !== Q) return false;
    for (let k = 0; k < name.length; k++) if (b[i + 1 + k] !== name.charCodeAt(k)) return false;
    if (b[i + 1 + name.length] !== Q) return false;
    i = this.sc.sep(i + 2 + name.length, COLON);
    if (i < 0) return false;
    this.i = i;
    return true;
  }
  /** A string's JSON text (any canonical string), or null on failure. */
  rawString(): string | null {
    const e = skipString(this.sc.b, this.i, this.sc.n);
    if (e < 0) return null;
    const s = this.sc.b.toString('utf8', this.i, e);
    this.i = e;
    return s;
  }
  /** One of `names` (plain strings) or JSON null; undefined otherwise. No allocation. */
  oneOf(names: readonly string[]): string | null | undefined {
    const b = this.sc.b;
    const i = this.i;
    if (b[i] === 0x6e) {
      const e = lit(b, i, 'null');
      if (e < 0) return undefined;
      this.i = e;
      return null;
    }
    if (b[i] !== Q) return undefined;
    for (const name of names) {
      const L = name.length;
      if (b[i + 1 + L] !== Q) continue;
      let k = 0;
      while (k < L && b[i + 1 + k] === name.charCodeAt(k)) k++;
      if (k === L) {
        this.i = i + 2 + L;
        return name;
      }
    }
    return undefined;
  }
  /** A plain string's value or JSON null; undefined on failure. */
  plainOrNull(): string | null | undefined {
    const b = this.sc.b;
    if (b[this.i] === 0x6e) {
      const e = lit(b, this.i, 'null');
      if (e < 0) return undefined;
      this.i = e;
      return null;
    }
    if (b[this.i] !== Q) return undefined;
    const e = skipString(b, this.i, this.sc.n);
    if (e < 0) return undefined;
    const v = plainValue(b, this.i, e);
    if (v === null) return undefined;
    this.i = e;
    return v;
  }
  rawStringOrNull(): string | null {
    const b = this.sc.b;
    if (b[this.i] === 0x6e) {
      const e = lit(b, this.i, 'null');
      if (e < 0) return null;
      this.i = e;
      return 'null';
    }
    if (b[this.i] !== Q) return null;
    return this.rawString();
  }
  shown(): [string, string] | null | undefined {
    const b = this.sc.b;
    if (b[this.i] === 0x6e) return this.plainOrNull() === null ? null : undefined;
    if (b[this.i] !== LS) return undefined;
    this.i++;
    const x = this.oneOf(CHOICES_PAIRED) ?? this.plainOrNull();
    if (typeof x !== 'string') return undefined;
    const j = this.sc.sep(this.i, COMMA);
    if (j < 0) return undefined;
    this.i = j;
    const y = this.oneOf(CHOICES_PAIRED) ?? this.plainOrNull();
    if (typeof y !== 'string' || b[this.i] !== RS) return undefined;
    this.i++;
    return [x, y];
  }
  bool(): boolean | undefined {
    const b = this.sc.b;
    if (b[this.i] === 0x74) {
      const e = lit(b, this.i, 'true');
      if (e < 0) return undefined;
      this.i = e;
      return true;
    }
    const e = lit(b, this.i, 'false');
    if (e < 0) return undefined;
    this.i = e;
    return false;
  }
  close(): boolean {
    if (this.sc.b[this.i] !== RB) return false;
    this.i++;
    return true;
  }
}

/** The label at s; its end in `at.end`. */
function parseLabel(sc: Scanner, s: number, at: { end: number }): FastLabel | null {
  const f = sc.fields(s);
  if (!f.field('annotator', true)) return null;
  const annotator = f.rawString();
  if (annotator === null || !f.field('time', false)) return null;
  const time = f.plainOrNull();
  if (typeof time !== 'string' || !f.field('status', false)) return null;
  const status = f.oneOf(RESOLVED_STATUSES);
  if (status === undefined || !f.field('strength', false)) return null;
  const strength = f.oneOf(STRENGTHS);
  if (strength === undefined || !f.field('note', false)) return null;
  const note = f.rawStringOrNull();
  if (note === null || !f.field('shown', false)) return null;
  const shown = f.shown();
  if (shown === undefined) return null;
  let flipped: boolean | undefined;
  if (sc.b[f.i] !== RB) {
    if (!f.field('flipped', false)) return null;
    flipped = f.bool();
    if (flipped === undefined) return null;
  }
  if (!f.close()) return null;
  at.end = f.i;
  return { annotator, time, status, strength, note, shown, flipped };
}

/** The votes at s; their end in `at.end`. */
function parseVotes(sc: Scanner, s: number, at: { end: number }): FastVote[] | null {
  const b = sc.b;
  if (b[s] !== LS) return null;
  const out: FastVote[] = [];
  let i = s + 1;
  if (b[i] === RS) {
    at.end = i + 1;
    return out;
  }
  for (;;) {
    const f = sc.fields(i);
    const start = i;
    if (!f.field('annotator', true)) return null;
    const annotator = f.rawString();
    if (annotator === null || annotator === '""' || !f.field('time', false)) return null;
    const time = f.plainOrNull();
    if (typeof time !== 'string' || !f.field('choice', false)) return null;
    const choice = f.oneOf(CHOICES_PAIRED);
    if (choice === undefined || !f.field('strength', false)) return null;
    const strength = f.oneOf(STRENGTHS);
    if (strength === undefined || !f.field('status', false)) return null;
    const status = f.oneOf(LABEL_STATUSES);
    if (status === undefined) return null;
    if ((choice === null) === (status === null) || !f.field('note', false)) return null;
    const note = f.rawStringOrNull();
    if (note === null || !f.field('shown', false)) return null;
    const shown = f.shown();
    if (shown === undefined || !f.field('adjudicator', false)) return null;
    const adjudicator = f.bool();
    if (adjudicator === undefined || !f.close()) return null;
    out.push({ annotator, time, choice, strength, status, note, shown, adjudicator, src: sc.b, s: start, e: f.i });
    i = f.i;
    if (b[i] === RS) {
      at.end = i + 1;
      return out;
    }
    i = sc.sep(i, COMMA);
    if (i < 0) return null;
  }
}

function renamed(v: FastVote): FastVote {
  return { ...v, choice: v.choice === null ? null : otherSide(v.choice), shown: v.shown ? [otherSide(v.shown[0]), otherSide(v.shown[1])] : null, src: null };
}


function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Takes a line apart, or null when it is outside the fast path. */
export function scanLine(bytes: Uint8Array, checked = true): FastLine | null {
  const b = asBuffer(bytes);
  const n = b.length;
  if (n < 2 || b[0] !== LB || b[n - 1] !== RB || b[1] !== Q) return null;
  // No \u escape gets through: checked strings refuse them, theirs' data equals our checked data,
  // and keys are plain. So the line is not in labeling's ASCII-only style (detectStyle).
  if (!isUtf8(b)) return null;
  const k0 = plainKey(b, 1, n);
  if (k0 < 0 || b[k0] !== COLON) return null;
  const sc = new Scanner(b, n, b[k0 + 1] === SP, checked);
  const keyEnds: number[] = [];
  const starts: number[] = [];
  const vs: number[] = [];
  const ve: number[] = [];
  let label: FastLabel | null = null;
  let votes: FastVote[] | null = null;
  let sawLabel = false;
  let chosen = -1;
  let rejected = -1;
  let prompt = -1;
  let blind = false;
  const at = { end: -1 };
  let i = 1;
  for (;;) {
    const ke = sc.key(i);
    if (ke < 0) return null;
    const v = sc.sep(ke, COLON);
    if (v < 0) return null;
    let e: number;
    if (is(b, i + 1, ke - 1, 'rpo_label')) {
      if (sawLabel) return null;
      sawLabel = true;
      label = parseLabel(sc, v, at);
      if (!label) return null;
      e = at.end;
    } else if (is(b, i + 1, ke - 1, 'rpo_votes')) {
      if (votes) return null;
      votes = parseVotes(sc, v, at);
      if (!votes) return null;
      e = at.end;
    } else if (is(b, i + 1, ke - 1, 'rpo_blind')) {
      // a label key (true or absent: anything else makes the line invalid)
      e = lit(b, v, 'true');
      if (e < 0 || blind) return null;
      blind = true;
    } else {
      e = sc.value(v, 0);
      if (e < 0 || repeats(b, i, ke, starts, keyEnds)) return null;
      const k = starts.length;
      if (is(b, i + 1, ke - 1, 'chosen')) chosen = k;
      else if (is(b, i + 1, ke - 1, 'rejected')) rejected = k;
      else if (is(b, i + 1, ke - 1, 'prompt')) prompt = k;
      starts.push(i);
      keyEnds.push(ke);
      vs.push(v);
      ve.push(e);
    }
    if (b[e] === RB) {
      if (e !== n - 1) return null;
      break;
    }
    i = sc.sep(e, COMMA);
    if (i < 0) return null;
  }
  if (chosen < 0 || rejected < 0 || b[vs[chosen]!] !== Q || b[vs[rejected]!] !== Q) return null;
  if (prompt >= 0 && b[vs[prompt]!] !== Q) return null;
  const flipped = label?.flipped === true;
  let own: FastVote[];
  if (votes) own = votes;
  else if (label && label.status !== 'disputed') {
    own = [{ annotator: label.annotator, time: label.time, choice: label.status ? null : 'chosen', strength: label.strength, status: label.status, note: label.note, shown: label.shown, adjudicator: false, src: null, s: 0, e: 0 }];
  } else own = [];
  return { b, spaced: sc.spaced, keyEnds, starts, vs, ve, chosen, rejected, flipped, votes: flipped ? own.map(renamed) : own, hadVotes: votes !== null, blind };
}

/** The two lines hold the same data (before any labeling), byte for byte. */
function sameData(x: FastLine, y: FastLine): boolean {
  if (x.spaced !== y.spaced || x.starts.length !== y.starts.length) return false;
  for (let k = 0; k < x.starts.length; k++) {
    if (!sameBytes(x.b, x.starts[k]!, x.keyEnds[k]!, y.b, y.starts[k]!, y.keyEnds[k]!)) return false;
    const mx = x.flipped ? (k === x.chosen ? x.rejected : k === x.rejected ? x.chosen : k) : k;
    const my = y.flipped ? (k === y.chosen ? y.rejected : k === y.rejected ? y.chosen : k) : k;
    if (!sameBytes(x.b, x.vs[mx]!, x.ve[mx]!, y.b, y.vs[my]!, y.ve[my]!)) return false;
  }
  return true;
}

export function sameVote(x: FastVote, y: FastVote): boolean {
  return x.annotator === y.annotator && x.time === y.time && x.choice === y.choice && x.strength === y.strength && x.status === y.status
    && x.note === y.note && x.adjudicator === y.adjudicator
    && (x.shown === null ? y.shown === null : y.shown !== null && x.shown[0] === y.shown[0] && x.shown[1] === y.shown[1]);
}

/** The vote of `annotator` in a list (the last one, as a Map built from the list keeps). */
function voteOf(list: FastVote[], annotator: string): FastVote | undefined {
  for (let k = list.length - 1; k >= 0; k--) if (list[k]!.annotator === annotator) return list[k];
  return undefined;
}

/** uniteVotes (index.ts) for the fast path's votes, without Maps: per annotator three-way, then oldest first. */
function unite(base: FastVote[], ours: FastVote[], theirs: FastVote[]): FastVote[] {
  const names: string[] = [];
  for (const list of [ours, theirs, base]) for (const v of list) if (!names.includes(v.annotator)) names.push(v.annotator);
  const same = (x: FastVote | undefined, y: FastVote | undefined) => (x === undefined ? y === undefined : y !== undefined && sameVote(x, y));
  const out: FastVote[] = [];
  for (const a of names) {
    const vb = voteOf(base, a);
    const vo = voteOf(ours, a);
    const vt = voteOf(theirs, a);
    let v: FastVote | undefined;
    if (same(vo, vt)) v = vo;
    else if (same(vo, vb)) v = vt;
    else if (same(vt, vb)) v = vo;
    else if (!vo || !vt) v = vo ?? vt;
    else v = vt.time > vo.time ? vt : vo;
    if (v) {
      // stable insertion by time
      let k = out.length;
      while (k > 0 && out[k - 1]!.time > v.time) k--;
      out.splice(k, 0, v);
    }
  }
  return out;
}

let scratch = Buffer.allocUnsafe(64 * 1024);

export interface FastMerge {
  /** Valid until the next call (a reused buffer): copy or write it out before. */
  bytes: Uint8Array;
  disputed: boolean;
}

/**
 * Merges a record changed on both sides, or returns null (outside the fast path, or a conflict:
 * the general path then decides and words it).
 */
export function fastMergeRecord(
  b: Uint8Array | null,
  o: Uint8Array,
  t: Uint8Array,
  policy: ResolutionPolicy,
  baseMayHoldVotes: (b: Uint8Array) => boolean,
): FastMerge | null {
  const lo = scanLine(o);
  if (!lo) return null;
  // theirs' (and the base's) data is compared with ours byte for byte: its strings need not be checked again
  const lt = scanLine(t, false);
  if (!lt || !sameData(lo, lt)) return null;
  let baseVotes: FastVote[] = [];
  if (b && baseMayHoldVotes(b)) {
    const lb = scanLine(b, false);
    if (!lb || lb.spaced !== lo.spaced) return null;
    if (sameData(lo, lb)) baseVotes = lb.votes;
  }
  const votes = unite(baseVotes, lo.votes, lt.votes);
  const S = lo.spaced ? ', ' : ',';
  const C = lo.spaced ? ': ' : ':';
  let tail = '';
  const pieces: (string | FastVote)[] = [];
  let outFlipped = false;
  let disputed = false;
  if (votes.length > 0) {
    const res = resolveVotes(votes as never, policy);
    const j = res.judgement!;
    const rep = res.vote as unknown as FastVote | null;
    const last = votes[votes.length - 1]!;
    let label: FastLabel;
    if (j === 'disputed') {
      disputed = true;
      label = { annotator: last.annotator, time: last.time, status: 'disputed', strength: null, note: 'null', shown: null, flipped: undefined };
    } else {
      outFlipped = j === 'rejected';
      if (j !== 'chosen' && !outFlipped && !(LABEL_STATUSES as readonly string[]).includes(j)) return null;
      const r = outFlipped ? renamed(rep!) : rep!;
      const isStatus = j !== 'chosen' && !outFlipped;
      label = {
        annotator: r.annotator,
        time: r.time,
        status: isStatus ? j : null,
        strength: r.choice !== null ? r.strength : null,
        note: r.note,
        shown: r.shown,
        flipped: isStatus ? undefined : outFlipped,
      };
    }
    const q = (v: string | null) => (v === null ? 'null' : `"${v}"`);
    const shown = (sh: [string, string] | null) => (sh === null ? 'null' : `["${sh[0]}"${S}"${sh[1]}"]`);
    tail = `${S}"rpo_label"${C}{"annotator"${C}${label.annotator}${S}"time"${C}"${label.time}"${S}"status"${C}${q(label.status)}${S}"strength"${C}${q(label.strength)}${S}"note"${C}${label.note}${S}"shown"${C}${shown(label.shown)}${label.flipped === undefined ? '' : `${S}"flipped"${C}${label.flipped}`}}`;
    if (votes.length >= 2 || lo.hadVotes || lt.hadVotes) {
      tail += `${S}"rpo_votes"${C}[`;
      for (let k = 0; k < votes.length; k++) {
        const v = outFlipped ? renamed(votes[k]!) : votes[k]!;
        if (k) tail += S;
        if (v.src) {
          // its bytes as read: the string so far goes first
          pieces.push(tail);
          pieces.push(v);
          tail = '';
        } else tail += `{"annotator"${C}${v.annotator}${S}"time"${C}"${v.time}"${S}"choice"${C}${q(v.choice)}${S}"strength"${C}${q(v.strength)}${S}"status"${C}${q(v.status)}${S}"note"${C}${v.note}${S}"shown"${C}${shown(v.shown)}${S}"adjudicator"${C}${v.adjudicator}}`;
      }
      tail += ']';
    }
  }
  if (lo.blind || lt.blind) tail += `${S}"rpo_blind"${C}true`;
  tail += '}';
  pieces.push(tail);
  // the data: our members in order, chosen/rejected as the outcome orients them
  const ob = lo.b;
  const swap = lo.flipped !== outFlipped;
  let size = 1;
  for (let k = 0; k < lo.starts.length; k++) size += (k ? S.length : 0) + (lo.ve[k]! - lo.starts[k]!);
  for (const x of pieces) size += typeof x === 'string' ? Buffer.byteLength(x) : x.e - x.s;
  if (scratch.length < size) scratch = Buffer.allocUnsafe(Math.max(size, scratch.length * 2));
  const out = scratch;
  out[0] = LB;
  let p = 1;
  for (let k = 0; k < lo.starts.length; k++) {
    if (k) p += out.write(S, p, 'latin1');
    const m = swap ? (k === lo.chosen ? lo.rejected : k === lo.rejected ? lo.chosen : k) : k;
    p += ob.copy(out, p, lo.starts[k]!, lo.vs[k]!);
    p += ob.copy(out, p, lo.vs[m]!, lo.ve[m]!);
  }
  for (const x of pieces) p += typeof x === 'string' ? out.write(x, p, 'utf8') : x.src!.copy(out, p, x.s, x.e);
  return { bytes: out.subarray(0, p), disputed };
}

import { classify, parseLine, type PreferenceRecord } from '../dataset/formats';
import { BLIND_FIELD } from '../dataset/blind';
import { applyVotes, recordVotes } from '../dataset/labeling';
import { resolveVotes, type ResolutionPolicy, type Vote } from '../dataset/votes';
import { fastMergeRecord } from './fast';

/**
 * Merging labeled preference files (docs/merge.md): two copies of one file that people labeled
 * apart (git branches, or copies outside git), optionally with their common ancestor. Pure: the
 * caller reads the files and writes the result (temporary file + rename).
 *
 * - Lines the same on both sides, or changed on one side only (three-way, with a base), are taken.
 * - A record changed on both sides in its labels only: the votes of both sides are united (per
 *   annotator, three-way against the base: a side that changed or removed its vote wins; changed
 *   on both sides, the later vote wins) and resolved under the policy, so disagreeing votes make
 *   the record disputed.
 * - A record whose data (anything but rpo_label/rpo_votes/rpo_blind, labeling's own swaps undone)
 *   differs between the sides is a conflict, as is a line that is not a record on both sides.
 * - `rpo_blind` merges as a label key: true when either side has it, written last.
 * - Same line counts: line i with line i (labeling never adds or removes lines). Otherwise lines
 *   are matched by their data, in our order; lines only theirs has are appended; a line deleted
 *   on one side and changed on the other is a conflict.
 */

export interface MergeSource {
  readonly lineCount: number;
  content(i: number): Uint8Array;
}

export interface MergeConflict {
  /** 1-based line in our file (or theirs, when `side` says so). */
  line: number;
  side: 'ours' | 'theirs';
  reason: string;
}

export interface MergeResult {
  /** The merged lines (content only); empty when there are conflicts. */
  lines: Uint8Array[];
  conflicts: MergeConflict[];
  aligned: boolean;
  /** Records whose votes were united, and how many of them ended disputed. */
  united: number;
  disputed: number;
}

export interface MergeOptions {
  policy?: ResolutionPolicy;
  /** Stop collecting conflicts after this many (default 20). */
  maxConflicts?: number;
  /**
   * Receives each merged line in order instead of `lines` (which stays empty): a writer can stream
   * them to a temporary file and drop it when `conflicts` is not empty at the end. The bytes may
   * live in a buffer reused for the next line: copy or write them before returning.
   */
  onLine?: (line: Uint8Array, aligned: boolean) => void;
  /**
   * Records changed on both sides take the byte-level fast path (./fast.ts) when it applies
   * (default true); false merges every such record through the general path, the reference the
   * fast path is tested against.
   */
  fastPath?: boolean;
}

const enc = new TextEncoder();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export function mergeFiles(base: MergeSource | null, ours: MergeSource, theirs: MergeSource, options: MergeOptions = {}): MergeResult {
  const policy = options.policy ?? 'majority';
  const max = options.maxConflicts ?? 20;
  const fast = options.fastPath ?? true;
  const res: MergeResult = { lines: [], conflicts: [], aligned: false, united: 0, disputed: 0 };
  // a line from the fast path lives in a reused buffer: onLine writes it out at once, `lines` keeps a copy
  const emit = options.onLine ? (l: Uint8Array) => options.onLine!(l, res.aligned) : (l: Uint8Array) => res.lines.push(Uint8Array.prototype.slice.call(l));
  const conflict = (line: number, side: 'ours' | 'theirs', reason: string) => {
    if (res.conflicts.length < max) res.conflicts.push({ line, side, reason });
  };
  const take = (b: Uint8Array | null, o: Uint8Array, t: Uint8Array, line: number) => {
    if (sameBytes(o, t)) return o;
    if (b && sameBytes(o, b)) return t;
    if (b && sameBytes(t, b)) return o;
    const m = (fast ? fastMergeRecord(b, o, t, policy, mayHoldVotes) : null) ?? mergeRecord(b, o, t, policy);
    if ('reason' in m) {
      conflict(line, 'ours', m.reason);
      return o;
    }
    res.united++;
    if (m.disputed) res.disputed++;
    return m.bytes;
  };
  const n = ours.lineCount;
  if (theirs.lineCount === n && (!base || base.lineCount === n)) {
    res.aligned = true;
    for (let i = 0; i < n; i++) emit(take(base ? base.content(i) : null, ours.content(i), theirs.content(i), i + 1));
  } else {
    const theirsBy = indexByData(theirs);
    const baseBy = base ? indexByData(base) : new Map<string, number[]>();
    const usedTheirs = new Uint8Array(theirs.lineCount);
    for (let i = 0; i < n; i++) {
      const o = ours.content(i);
      const k = dataKey(o);
      const j = theirsBy.get(k)?.shift();
      const bi = baseBy.get(k)?.shift();
      const b = bi !== undefined ? base!.content(bi) : null;
      if (j !== undefined) {
        usedTheirs[j] = 1;
        emit(take(b, o, theirs.content(j), i + 1));
      } else if (b) {
        if (!sameBytes(o, b)) conflict(i + 1, 'ours', 'deleted on their side, changed on ours');
      } else emit(o);
    }
    for (let j = 0; j < theirs.lineCount; j++) {
      if (usedTheirs[j]) continue;
      const t = theirs.content(j);
      const bi = baseBy.get(dataKey(t))?.shift();
      if (bi !== undefined) {
        if (!sameBytes(t, base!.content(bi))) conflict(j + 1, 'theirs', 'deleted on our side, changed on theirs');
      } else emit(t);
    }
  }
  if (res.conflicts.length) res.lines = [];
  return res;
}

/** A line's identity for matching: its data before any labeling, or its bytes when it is not a record. */
function dataKey(bytes: Uint8Array): string {
  const rec = parseLine(bytes);
  if (rec.kind === 'blank' || rec.kind === 'invalid') return 'raw:' + Buffer.from(bytes).toString('latin1');
  try {
    return 'rec:' + JSON.stringify(recordVotes(withoutBlind(rec)).original.object);
  } catch {
    return 'raw:' + Buffer.from(bytes).toString('latin1');
  }
}

function indexByData(src: MergeSource): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (let i = 0; i < src.lineCount; i++) {
    const k = dataKey(src.content(i));
    const list = m.get(k);
    if (list) list.push(i);
    else m.set(k, [i]);
  }
  return m;
}

/**
 * The record without its `rpo_blind` mark: the mark merges as a label key (true when either side
 * has it), not as data.
 */
function withoutBlind(rec: PreferenceRecord): PreferenceRecord {
  if (!(BLIND_FIELD in rec.object)) return rec;
  const object = { ...rec.object };
  delete object[BLIND_FIELD];
  return classify(object) as PreferenceRecord; // a valid record stays valid without the mark
}

function asRecord(bytes: Uint8Array): PreferenceRecord | string {
  const rec = parseLine(bytes);
  if (rec.kind === 'invalid') return `not a valid record (${rec.reason})`;
  if (rec.kind === 'blank') return 'a blank line';
  return rec;
}

/** The general path for a record changed on both sides: both parsed into objects, votes united and applied by labeling's rules. */
function mergeRecord(b: Uint8Array | null, o: Uint8Array, t: Uint8Array, policy: ResolutionPolicy): { bytes: Uint8Array; disputed: boolean } | { reason: string } {
  const ro = asRecord(o);
  const rt = asRecord(t);
  if (typeof ro === 'string' || typeof rt === 'string') {
    return { reason: `changed on both sides; ${typeof ro === 'string' ? `ours is ${ro}` : `theirs is ${rt as string}`}` };
  }
  const blind = ro.object[BLIND_FIELD] === true || rt.object[BLIND_FIELD] === true;
  const vo = recordVotes(withoutBlind(ro));
  const vt = recordVotes(withoutBlind(rt));
  const ko = JSON.stringify(vo.original.object);
  if (ko !== JSON.stringify(vt.original.object)) {
    const keys = new Set([...Object.keys(vo.original.object), ...Object.keys(vt.original.object)]);
    const differ = [...keys].filter((k) => JSON.stringify(vo.original.object[k]) !== JSON.stringify(vt.original.object[k]));
    return { reason: `the data changed on both sides, not only the labels (field${differ.length > 1 ? 's' : ''} ${differ.map((k) => JSON.stringify(k)).join(', ')} differ${differ.length > 1 ? '' : 's'})` };
  }
  let baseVotes: Vote[] = [];
  // A base line that cannot hold a label or votes gives none: no parse (the merge's worst case,
  // every line labeled on both sides of an unlabeled base, skips a third of its parsing).
  if (b && mayHoldVotes(b)) {
    const rb = asRecord(b);
    if (typeof rb !== 'string') {
      const vb = recordVotes(withoutBlind(rb));
      if (JSON.stringify(vb.original.object) === ko) baseVotes = vb.votes;
    }
  }
  const votes = uniteVotes(baseVotes, vo.votes, vt.votes);
  const text = applyVotes(vo.original, votes, policy, vo.hadVotes || vt.hadVotes, Buffer.from(o).toString('utf8'), blind ? { [BLIND_FIELD]: true } : undefined);
  const disputed = votes.length > 0 && resolveVotes(votes, policy).judgement === 'disputed';
  return { bytes: enc.encode(text), disputed };
}

const LABEL_KEY = Buffer.from('rpo_label');
const VOTES_KEY = Buffer.from('rpo_votes');
const UNICODE_ESCAPE = Buffer.from('\\u');

/**
 * Whether a line may hold `rpo_label` or `rpo_votes`: false only when neither name is in its bytes
 * and it has no \u escape (which could spell one in a key). Without them a record has no votes.
 */
function mayHoldVotes(bytes: Uint8Array): boolean {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.includes(LABEL_KEY) || buf.includes(VOTES_KEY) || buf.includes(UNICODE_ESCAPE);
}

/**
 * Per annotator, three-way: unchanged on one side -> the other side's (also a removal); changed on
 * both -> the later. `equal` compares two votes of one annotator (default: their JSON); the fast
 * path passes its own for its vote records.
 */
export function uniteVotes<V extends { annotator: string; time: string } = Vote>(base: V[], ours: V[], theirs: V[], equal: (x: V, y: V) => boolean = (x, y) => JSON.stringify(x) === JSON.stringify(y)): V[] {
  const by = (vs: V[]) => new Map(vs.map((v) => [v.annotator, v]));
  const b = by(base);
  const o = by(ours);
  const t = by(theirs);
  const same = (x: V | undefined, y: V | undefined) => (x === undefined ? y === undefined : y !== undefined && equal(x, y));
  const out: V[] = [];
  for (const a of new Set([...o.keys(), ...t.keys(), ...b.keys()])) {
    const vb = b.get(a);
    const vo = o.get(a);
    const vt = t.get(a);
    let v: V | undefined;
    if (same(vo, vt)) v = vo;
    else if (same(vo, vb)) v = vt;
    else if (same(vt, vb)) v = vo;
    else if (!vo || !vt) v = vo ?? vt;
    else v = vt.time > vo.time ? vt : vo;
    if (v) out.push(v);
  }
  // oldest first: resolution takes the latest vote as the newest
  return out.map((v, i) => [v, i] as const).sort((x, y) => (x[0].time < y[0].time ? -1 : x[0].time > y[0].time ? 1 : x[1] - y[1])).map(([v]) => v);
}

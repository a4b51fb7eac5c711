import crypto, { createHash } from 'node:crypto';
import { type Prompt, promptText } from '../contrast/promptText';
import { type UsableItem, type UsableMode, type UsableOptions, usableItems } from '../contrast/usable';
import type { ParsedLine } from '../dataset/formats';

/**
 * Pair keys (docs/contracts.md §8): a record of the usable list is identified by content, so the
 * identity survives flips, relabels and lines moved by editing the file as text.
 * - paired (and candidates `{prompt, responses: [r0, r1]}`): with (a, b) the two response texts
 *   in ascending order of their UTF-8 bytes, key = SHA-256(enc(prompt) ++ enc(a) ++ enc(b)),
 *   side = 0 when the chosen text is a, 1 when it is b (identical texts: 0);
 * - unpaired (completion, label): key = SHA-256(enc(prompt) ++ enc(completion)), side = label.
 * enc(s) = the UTF-8 byte length of s as u64 little-endian, then those bytes. Text of turns: §1.
 * The prompt is the record's prompt after the implicit-prompt split, as the usable list has it.
 */

export const KEY_BYTES = 32;
/** The side of a record that has no label (candidates, a tie / skip / ... status): never equal to a trained side. */
export const NO_SIDE = 255;

export type Turns = Prompt;

/**
 * What a pair key is computed from: a usable item, or a record: paired {prompt, chosen, rejected}
 * (prompt after the implicit-prompt split), unpaired {prompt, completion, label}, a completion
 * awaiting a label {prompt, completion}, candidates {prompt, responses: [r0, r1]}.
 */
export interface PairKeySource {
  prompt: Turns;
  chosen?: Turns;
  rejected?: Turns;
  completion?: Turns;
  label?: boolean;
  responses?: readonly Turns[];
}

export interface KeyAndSide {
  /** 32 raw bytes. */
  key: Uint8Array;
  /** 0 or 1 (the label), or null when the source has none (candidates, an unpaired item without label). */
  side: 0 | 1 | null;
}

type HashFn = (bytes: Uint8Array) => Uint8Array;
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer }).hash;
const sha256: HashFn = oneShot ? (b) => oneShot('sha256', b, 'buffer') : (b) => createHash('sha256').update(b).digest();

/**
 * One scratch buffer for the hashed bytes: enc(p) ++ enc(a) ++ enc(b) at [0, total), the two
 * responses written at [total, 2 total) first to compare them. Keys are computed one at a time
 * (synchronous), so sharing it is safe.
 */
let scratch = Buffer.allocUnsafe(1 << 16);
function room(bytes: number): Buffer {
  if (scratch.length < bytes) scratch = Buffer.allocUnsafe(Math.max(bytes, scratch.length * 2));
  return scratch;
}

function writeLength(buf: Buffer, at: number, n: number): void {
  buf.writeUInt32LE(n % 0x100000000, at);
  buf.writeUInt32LE(Math.floor(n / 0x100000000), at + 4);
}

/** Key and side of a prompt with its chosen and rejected responses (paired records). */
export function pairedKeyAndSide(prompt: Turns, chosen: Turns, rejected: Turns): { key: Uint8Array; side: 0 | 1 } {
  const p = promptText(prompt);
  const x = promptText(chosen);
  const y = promptText(rejected);
  const pl = Buffer.byteLength(p, 'utf8');
  const xl = Buffer.byteLength(x, 'utf8');
  const yl = Buffer.byteLength(y, 'utf8');
  const total = 24 + pl + xl + yl;
  const buf = room(2 * total);
  const t = total;
  buf.write(x, t, xl, 'utf8');
  buf.write(y, t + xl, yl, 'utf8');
  // Bytewise, a shorter prefix first.
  const side = buf.compare(buf, t + xl, t + xl + yl, t, t + xl) <= 0 ? 0 : 1;
  writeLength(buf, 0, pl);
  buf.write(p, 8, pl, 'utf8');
  let o = 8 + pl;
  const [aAt, al, bAt, bl] = side === 0 ? [t, xl, t + xl, yl] : [t + xl, yl, t, xl];
  writeLength(buf, o, al);
  buf.copy(buf, o + 8, aAt, aAt + al);
  o += 8 + al;
  writeLength(buf, o, bl);
  buf.copy(buf, o + 8, bAt, bAt + bl);
  return { key: sha256(buf.subarray(0, total)), side };
}

/** Key of one unpaired item (prompt, completion). */
export function itemKey(prompt: Turns, completion: Turns): Uint8Array {
  const p = promptText(prompt);
  const c = promptText(completion);
  const pl = Buffer.byteLength(p, 'utf8');
  const cl = Buffer.byteLength(c, 'utf8');
  const buf = room(16 + pl + cl);
  writeLength(buf, 0, pl);
  buf.write(p, 8, pl, 'utf8');
  writeLength(buf, 8 + pl, cl);
  buf.write(c, 16 + pl, cl, 'utf8');
  return sha256(buf.subarray(0, 16 + pl + cl));
}

/** Key and side of a usable item or a record (paired, unpaired, candidates). */
export function pairKeyAndSide(source: PairKeySource): KeyAndSide {
  if (source.chosen !== undefined && source.rejected !== undefined) return pairedKeyAndSide(source.prompt, source.chosen, source.rejected);
  if (Array.isArray(source.responses)) {
    if (source.responses.length !== 2) throw new Error(`a candidates record has 2 responses, found ${source.responses.length}`);
    return { key: pairedKeyAndSide(source.prompt, source.responses[0]!, source.responses[1]!).key, side: null };
  }
  if (source.completion !== undefined) {
    return { key: itemKey(source.prompt, source.completion), side: typeof source.label === 'boolean' ? (source.label ? 1 : 0) : null };
  }
  throw new Error('pairKey: the record has neither chosen and rejected, responses, nor a completion');
}

/** pairKeyAndSide for a parsed record (PreferenceRecord): side null for candidates and completions awaiting a label. */
export const recordPairKey: (record: PairKeySource) => KeyAndSide = pairKeyAndSide;

/** The 32-byte key of a usable item or a record (paired, unpaired, candidates). */
export function pairKey(source: PairKeySource): Uint8Array {
  return pairKeyAndSide(source).key;
}

export function keyHex(key: Uint8Array, offset = 0): string {
  return Buffer.from(key.buffer, key.byteOffset + offset, KEY_BYTES).toString('hex');
}

/**
 * `labels_sha256` of a usable list (contracts §8): SHA-256 over the items, in usable-list order,
 * of key ++ byte(side). Training and eval items alike (the usable list before the eval split).
 */
export function labelsSha256(items: Iterable<UsableItem>): string {
  const h = createHash('sha256');
  const side = new Uint8Array(1);
  for (const item of items) {
    const k = pairKeyAndSide(item);
    side[0] = k.side ?? NO_SIDE;
    h.update(k.key).update(side);
  }
  return h.digest('hex');
}

/** One keyed record of a file, as matched against a run's rows. */
export interface KeyedRecord {
  /** 0-based line in the file. */
  line: number;
  key: Uint8Array;
  /** The label it would train on now (0 / 1), or NO_SIDE: not usable now (a status, below min_agreement, unlabeled). */
  side: number;
}

/**
 * Every record of a file that a run of `mode` could have trained on, keyed, in file order:
 * the usable items (with the side they train on now, under the run's usable options: votes
 * policy, min_agreement) and the records that are not usable now but have a key (a status, a
 * disputed vote, candidates, below min_agreement; side NO_SIDE). In unpaired mode a paired
 * record gives two items (chosen, then rejected), as the usable list does.
 */
export function* keyedRecords(lines: Iterable<readonly [number, ParsedLine]>, mode: UsableMode, options: UsableOptions = {}): Generator<KeyedRecord> {
  const one: [number, ParsedLine][] = [[0, { kind: 'blank' }]];
  for (const [line, rec] of lines) {
    if (rec.kind === 'blank' || rec.kind === 'invalid') continue;
    one[0] = [line, rec];
    const usable = usableItems(one, mode, options);
    if (usable.length) {
      for (const item of usable) {
        const k = pairKeyAndSide(item);
        yield { line, key: k.key, side: k.side ?? NO_SIDE };
      }
      continue;
    }
    // Not usable now: still findable by content, without a side.
    if (mode === 'paired') {
      if (rec.kind === 'paired') yield { line, key: pairedKeyAndSide(rec.prompt, rec.chosen, rec.rejected).key, side: NO_SIDE };
      else if (rec.kind === 'candidates') yield { line, key: pairedKeyAndSide(rec.prompt, rec.responses[0], rec.responses[1]).key, side: NO_SIDE };
    } else {
      const completions = rec.kind === 'paired' ? [rec.chosen, rec.rejected] : rec.kind === 'candidates' ? rec.responses : [rec.completion];
      for (const c of completions) yield { line, key: itemKey(rec.prompt, c), side: NO_SIDE };
    }
  }
}

import { serializeLike } from './labeling';
import type { ParsedLine, PreferenceRecord } from './formats';
import type { ShownOrder } from './provenance';

/**
 * Blind re-annotation (docs/formats.md, "Blind re-annotation"): a seeded random share of labeled
 * records is marked `"rpo_blind": true` for a second annotator, whose view of a marked record
 * (the editor's "Blind" filter) hides the earlier votes, the label and which response is chosen,
 * and shows the two responses in an order re-randomised per annotator. Pure.
 */
export const BLIND_FIELD = 'rpo_blind';

/** The record is marked for blind re-annotation. */
export function isBlind(rec: ParsedLine): boolean {
  return rec.kind !== 'invalid' && rec.kind !== 'blank' && rec.object[BLIND_FIELD] === true;
}

/** Records a second annotator can re-judge: a preference or a tie / both-bad judgement, not yet marked. */
export function isBlindCandidate(rec: ParsedLine): boolean {
  if (rec.kind !== 'paired' && rec.kind !== 'candidates') return false;
  if (isBlind(rec) || !rec.provenance) return false;
  const s = rec.provenance.status;
  return s === null || s === 'tie' || s === 'both_bad';
}

/** 32-bit FNV-1a of a string: the seed of the generator. */
function hashSeed(seed: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small seeded generator of floats in [0, 1). */
function mulberry32(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Picks `round(share * candidates.length)` of the candidates, uniformly at random for the seed
 * (a partial Fisher-Yates shuffle): the same candidates, share and seed always pick the same
 * lines. Returns them in ascending order. `share` is a fraction in [0, 1].
 */
export function pickBlind(candidates: readonly number[], share: number, seed: string): number[] {
  if (!(share >= 0 && share <= 1)) throw new RangeError(`share must be between 0 and 1, found ${share}`);
  const a = [...candidates];
  const k = Math.round(share * a.length);
  const rand = mulberry32(hashSeed(seed));
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (a.length - i));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, k).sort((x, y) => x - y);
}

/** The line with `"rpo_blind": true` added (after every other key, in the line's JSON style). */
export function markBlindLine(rec: PreferenceRecord, lineText: string): string {
  return serializeLike({ ...rec.object, [BLIND_FIELD]: true }, lineText);
}

/** The display seed of a blind view: re-randomised per annotator. */
export function blindSeed(seed: string, annotator: string): string {
  return `${seed}\u0000blind\u0000${annotator}`;
}

/**
 * The left/right order a blind view shows: seeded per record like `displayOrder`, but never the
 * recorded `rpo_label.shown` (that would repeat what the first annotator saw).
 */
export function blindOrder(rec: ParsedLine, line: number, seed: string): ShownOrder | null {
  if (rec.kind !== 'paired' && rec.kind !== 'candidates') return null;
  const fields: ShownOrder = rec.kind === 'paired' ? ['chosen', 'rejected'] : ['responses.0', 'responses.1'];
  // FNV-1a's low bit is the parity of its input's low bits: mix (murmur3's finaliser) first.
  let h = hashSeed(`${seed}:${line}`);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 1 ? [fields[1], fields[0]] : fields;
}

import { createHash } from 'node:crypto';
import type { Turns } from '../dataset/formats';
import { promptText } from '../contrast/promptText';

/**
 * Pair key of a prompt and two responses, docs/contracts.md §8: SHA-256 of enc(text(prompt)) ++
 * enc(a) ++ enc(b), (a, b) the response texts in ascending order of their UTF-8 bytes, enc(s) the
 * byte length as u64 little-endian followed by the bytes. Hex.
 */
export function pairKeyHex(prompt: Turns, first: Turns, second: Turns): string {
  const p = Buffer.from(promptText(prompt), 'utf8');
  const x = Buffer.from(promptText(first), 'utf8');
  const y = Buffer.from(promptText(second), 'utf8');
  const [a, b] = Buffer.compare(x, y) <= 0 ? [x, y] : [y, x];
  const h = createHash('sha256');
  for (const part of [p, a, b]) {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(part.length));
    h.update(len).update(part);
  }
  return h.digest('hex');
}

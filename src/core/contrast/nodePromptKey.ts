import crypto, { createHash } from 'node:crypto';
import { type Prompt, promptText } from './promptText';

/** SHA-256 of the UTF-8 bytes of promptText (32 raw bytes): the embedding cache key. */
export function promptKey(prompt: Prompt): Buffer {
  return textKey(promptText(prompt));
}

export function textKey(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The key as 64 hex characters. crypto.hash (Node >= 20.12) is ~2-3x faster than createHash for short texts. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
export function textKeyHex(text: string): string {
  return oneShot ? oneShot('sha256', text, 'hex') : createHash('sha256').update(text, 'utf8').digest('hex');
}

const oneShotBytes = (crypto as { hash?: (algorithm: string, data: string | Uint8Array, encoding: 'buffer') => Buffer }).hash;

/** Writes the key of `text` (SHA-256 of its UTF-8) at `out[offset..offset+32)`. */
export function textKeyInto(text: string, out: Uint8Array, offset: number): void {
  out.set(oneShotBytes ? oneShotBytes('sha256', text, 'buffer') : createHash('sha256').update(text, 'utf8').digest(), offset);
}

/** The key of raw bytes (already the UTF-8 of a prompt text) at `out[offset..offset+32)`. */
export function bytesKeyInto(bytes: Uint8Array, out: Uint8Array, offset: number): void {
  out.set(oneShotBytes ? oneShotBytes('sha256', bytes, 'buffer') : createHash('sha256').update(bytes).digest(), offset);
}

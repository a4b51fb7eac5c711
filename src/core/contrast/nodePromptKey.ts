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

import { createHash } from 'node:crypto';
import { type Prompt, promptText } from './promptText';

/** SHA-256 of the UTF-8 bytes of promptText (32 raw bytes): the embedding cache key. */
export function promptKey(prompt: Prompt): Buffer {
  return textKey(promptText(prompt));
}

export function textKey(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

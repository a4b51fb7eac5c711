/**
 * The text embedded for a record's prompt (docs/contracts.md §1). Pure and browser-safe;
 * the SHA-256 key lives in nodePromptKey.ts (needs node:crypto).
 */

export interface PromptMessage {
  role: string;
  content: string;
}

export type Prompt = string | readonly PromptMessage[];

/** A string prompt as is; messages as "role: content" joined by blank lines (no chat template). */
export function promptText(prompt: Prompt): string {
  if (typeof prompt === 'string') return prompt;
  return prompt.map((m) => `${m.role}: ${m.content}`).join('\n\n');
}

import { type Choice, type ParsedLine, type ResolutionPolicy, type Turns, type Vote, VOTES_FIELD, resolveVotes, voteShares } from '../dataset';

/**
 * The records that train (docs/contracts.md §4), in file order: every parsed preference record
 * whose label status is not tie / skip / both_bad / excluded / disputed, and whose vote
 * agreement is at least `minAgreement`;
 * - paired methods: records with chosen and rejected;
 * - rpo-unpaired: unpaired records with a boolean label, plus paired records, which give their
 *   chosen (label true) and their rejected (label false), in that order.
 * Mirrors trainer/rpo_trainer/data.py (load_dataset, unpaired_items).
 */

export type UsableMode = 'paired' | 'unpaired';

export interface UsableItem {
  /** 0-based line number in the file. */
  line: number;
  prompt: Turns;
  /** Paired: both; unpaired: one of them, by label. */
  chosen?: Turns;
  rejected?: Turns;
  completion?: Turns;
  label?: boolean;
  /** Share of the record's counting votes that agree with its label (1 without votes). */
  agreement: number;
  /** Label smoothing of the record: min(0.5, labelSmoothing x the share of votes for the other side). */
  eps: number;
}

export interface UsableOptions {
  /** Leave out records whose agreement is below this (run config `min_agreement`, default 0). */
  minAgreement?: number;
  /** Run config `label_smoothing` (default 0: eps 0 everywhere). */
  labelSmoothing?: number;
  /**
   * Run config `votes` (default `resolved`: the file's rpo_label). A policy: records with votes
   * train by their votes resolved again under it, which may swap chosen and rejected (or flip
   * the label) or leave the record out (a status, or disputed).
   */
  votes?: 'resolved' | ResolutionPolicy;
}

export function usableItems(lines: Iterable<[number, ParsedLine]>, mode: UsableMode, options: UsableOptions = {}): UsableItem[] {
  const minAgreement = options.minAgreement ?? 0;
  const smoothing = options.labelSmoothing ?? 0;
  const out: UsableItem[] = [];
  for (const [line, rec] of lines) {
    if (rec.kind !== 'paired' && rec.kind !== 'unpaired') continue;
    // rpo_votes was checked when the line was parsed (a malformed one makes the line invalid).
    const votes = rec.object[VOTES_FIELD] as Vote[] | undefined;
    let { chosen, rejected, label } = rec.kind === 'paired' ? { chosen: rec.chosen, rejected: rec.rejected, label: undefined } : { chosen: undefined, rejected: undefined, label: rec.label };
    let [agree, other]: [Choice, Choice] = rec.kind === 'paired' ? (['chosen', 'rejected'] as const) : rec.label ? (['up', 'down'] as const) : (['down', 'up'] as const);
    if (options.votes && options.votes !== 'resolved' && Array.isArray(votes) && votes.length) {
      const j = resolveVotes(votes, options.votes).judgement;
      if (j === other) {
        if (rec.kind === 'paired') [chosen, rejected] = [rejected, chosen];
        else label = !label;
        [agree, other] = [other, agree];
      } else if (j !== agree) continue;
    } else if (rec.provenance?.status) continue;
    if (rec.kind === 'unpaired' && mode === 'paired') continue;
    const shares = Array.isArray(votes) ? voteShares(votes, agree, other) : { agreement: 1, dissent: 0 };
    if (shares.agreement < minAgreement) continue;
    const v = { agreement: shares.agreement, eps: Math.min(0.5, smoothing * shares.dissent) };
    if (rec.kind === 'paired') {
      if (mode === 'paired') out.push({ line, prompt: rec.prompt, chosen, rejected, ...v });
      else {
        out.push({ line, prompt: rec.prompt, completion: chosen, label: true, ...v });
        out.push({ line, prompt: rec.prompt, completion: rejected, label: false, ...v });
      }
    } else {
      out.push({ line, prompt: rec.prompt, completion: rec.completion, label, ...v });
    }
  }
  return out;
}

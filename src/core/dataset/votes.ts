import { jsonTypeName, LABEL_STATUSES, STRENGTHS, type LabelStatus, type ShownOrder, type Strength } from './provenance';

/**
 * Votes: every annotator's judgement of one record, kept in the record's `rpo_votes` field
 * (docs/formats.md, "Votes"). `rpo_label` stays the resolved label and chosen/rejected reflect it.
 *
 * Shape: a list of objects with the same eight keys, in this order and of the same JSON types,
 * in every vote of every record, so pandas and Hugging Face `datasets` (pyarrow) read the column
 * as one `list<struct>` type. A vote's `choice` and `shown` name the record's fields as they are
 * in the line now (`chosen` / `rejected`, `responses.0` / `responses.1` for candidates not yet
 * labeled, `up` / `down` for thumbs); when the resolved label swaps chosen and rejected, every
 * vote is rewritten with it, so `choice: "chosen"` always means "agrees with the current chosen".
 */
export const VOTES_FIELD = 'rpo_votes';

export const POLICIES = ['majority', 'unanimous', 'adjudicated'] as const;
/**
 * How votes resolve to `rpo_label`:
 * - `majority`: the judgement with strictly more votes than any other; a tie in the count is disputed;
 * - `unanimous`: every counting vote agrees, else disputed;
 * - `adjudicated`: the latest adjudicator vote wins; without one, as `unanimous`.
 * `skip` votes abstain (they do not count) unless every vote is a skip.
 */
export type ResolutionPolicy = (typeof POLICIES)[number];

export const CHOICES = ['chosen', 'rejected', 'responses.0', 'responses.1', 'up', 'down'] as const;
export type Choice = (typeof CHOICES)[number];

export interface Vote {
  annotator: string;
  /** ISO 8601 UTC. */
  time: string;
  /** The field picked (a preference), or null when `status` is set. */
  choice: Choice | null;
  strength: Strength | null;
  status: LabelStatus | null;
  note: string | null;
  /** The fields displayed left to right when the vote was given (current field names), or null. */
  shown: ShownOrder | null;
  /** An adjudicator's vote (wins under the `adjudicated` policy). */
  adjudicator: boolean;
}

export function makeVote(fields: Pick<Vote, 'annotator' | 'time'> & Partial<Vote>): Vote {
  return {
    annotator: fields.annotator,
    time: fields.time,
    choice: fields.choice ?? null,
    strength: fields.strength ?? null,
    status: fields.status ?? null,
    note: fields.note ?? null,
    shown: fields.shown ?? null,
    adjudicator: fields.adjudicator ?? false,
  };
}

/** Which choices a record kind takes. */
export function choicesFor(kind: 'paired' | 'candidates' | 'unpaired' | 'completion'): readonly Choice[] {
  if (kind === 'paired') return ['chosen', 'rejected'];
  if (kind === 'candidates') return ['responses.0', 'responses.1'];
  return ['up', 'down'];
}

/** Validates an `rpo_votes` value; returns the votes or the first problem (`rpo_votes[1].choice`). */
export function checkVotes(value: unknown, kind?: 'paired' | 'candidates' | 'unpaired' | 'completion'): { votes: Vote[] } | { issue: { field: string; reason: string } } {
  const bad = (field: string, reason: string) => ({ issue: { field, reason } });
  if (!Array.isArray(value)) return bad(VOTES_FIELD, `must be a list of votes, found ${jsonTypeName(value)}`);
  const allowed = kind ? choicesFor(kind) : CHOICES;
  for (let i = 0; i < value.length; i++) {
    const f = (k: string) => `${VOTES_FIELD}[${i}]${k ? '.' + k : ''}`;
    const v = value[i] as Record<string, unknown>;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad(f(''), `must be an object, found ${jsonTypeName(v)}`);
    if (typeof v.annotator !== 'string' || v.annotator === '') return bad(f('annotator'), `must be a non-empty string, found ${jsonTypeName(v.annotator)}`);
    if (typeof v.time !== 'string') return bad(f('time'), `must be an ISO 8601 string, found ${jsonTypeName(v.time)}`);
    if (v.choice !== null && !(allowed as readonly unknown[]).includes(v.choice)) {
      return bad(f('choice'), `must be one of ${allowed.join(', ')} or null, found ${v.choice === undefined ? 'nothing' : JSON.stringify(v.choice)}`);
    }
    if (v.strength !== null && !(STRENGTHS as readonly unknown[]).includes(v.strength)) {
      return bad(f('strength'), `must be one of ${STRENGTHS.join(', ')} or null, found ${v.strength === undefined ? 'nothing' : JSON.stringify(v.strength)}`);
    }
    if (v.status !== null && !(LABEL_STATUSES as readonly unknown[]).includes(v.status)) {
      return bad(f('status'), `must be one of ${LABEL_STATUSES.join(', ')} or null, found ${v.status === undefined ? 'nothing' : JSON.stringify(v.status)}`);
    }
    if ((v.choice === null) === (v.status === null)) return bad(f('choice'), 'a vote has either a choice or a status (exactly one of them is null)');
    if (v.note !== null && typeof v.note !== 'string') return bad(f('note'), `must be a string or null, found ${jsonTypeName(v.note)}`);
    if (v.shown !== null && !(Array.isArray(v.shown) && v.shown.length === 2 && v.shown.every((s) => typeof s === 'string'))) {
      return bad(f('shown'), 'must be a list of two field names or null');
    }
    if (typeof v.adjudicator !== 'boolean') return bad(f('adjudicator'), `must be true or false, found ${jsonTypeName(v.adjudicator)}`);
    const extra = Object.keys(v).find((k) => !VOTE_KEYS.includes(k));
    if (extra !== undefined) return bad(f(extra), `is not a vote key (keys: ${VOTE_KEYS.join(', ')})`);
  }
  return { votes: value as Vote[] };
}

const VOTE_KEYS = ['annotator', 'time', 'choice', 'strength', 'status', 'note', 'shown', 'adjudicator'];

/** What a vote says, for counting: its choice or status; null for a skip (an abstention). */
export function judgementOf(v: Vote): string | null {
  if (v.status === 'skip') return null;
  return v.status ?? v.choice;
}

export interface Resolution {
  /** The winning judgement (a choice or a status), `disputed`, or null when there are no votes. */
  judgement: string | null;
  /** The vote the resolved label takes its annotator, time, strength, note and shown from (the latest winning vote). */
  vote: Vote | null;
}

/** An annotator named `model:<name>` is an automatic judge (a reward model), never a person (docs/formats.md). */
export const MACHINE_PREFIX = 'model:';
export const isMachine = (annotator: string): boolean => annotator.startsWith(MACHINE_PREFIX);

/**
 * The votes that decide a record: the people's votes where any person voted, else all of them.
 * An automatic judge's vote is a suggestion that never outvotes (or disputes) a person's.
 */
export function decidingVotes(votes: readonly Vote[]): readonly Vote[] {
  let machines = 0;
  for (const v of votes) if (isMachine(v.annotator)) machines++;
  return machines === 0 || machines === votes.length ? votes : votes.filter((v) => !isMachine(v.annotator));
}

/**
 * Resolves votes (in list order: later is newer) under a policy: of the deciding votes
 * (`decidingVotes`), skips abstain; `majority` takes the judgement with the most votes (a tie in
 * the count is disputed), `unanimous` needs every vote to agree, `adjudicated` takes the latest
 * adjudicator's vote and is `unanimous` without one. Pure.
 */
export function resolveVotes(all: readonly Vote[], policy: ResolutionPolicy): Resolution {
  if (all.length === 0) return { judgement: null, vote: null };
  const votes = decidingVotes(all);
  const counting = votes.filter((v) => judgementOf(v) !== null);
  if (counting.length === 0) return { judgement: 'skip', vote: votes[votes.length - 1]! };
  const latestWith = (j: string) => {
    for (let i = counting.length - 1; i >= 0; i--) if (judgementOf(counting[i]!) === j) return counting[i]!;
    return null;
  };
  if (policy === 'adjudicated') {
    for (let i = counting.length - 1; i >= 0; i--) if (counting[i]!.adjudicator) return { judgement: judgementOf(counting[i]!), vote: counting[i]! };
  }
  if (policy === 'majority') {
    const counts = new Map<string, number>();
    for (const v of counting) counts.set(judgementOf(v)!, (counts.get(judgementOf(v)!) ?? 0) + 1);
    let best: string | null = null;
    let bestN = 0;
    let tied = false;
    for (const [j, n] of counts) {
      if (n > bestN) [best, bestN, tied] = [j, n, false];
      else if (n === bestN) tied = true;
    }
    return tied ? { judgement: 'disputed', vote: null } : { judgement: best, vote: latestWith(best!) };
  }
  const first = judgementOf(counting[0]!);
  return counting.every((v) => judgementOf(v) === first) ? { judgement: first, vote: latestWith(first!) } : { judgement: 'disputed', vote: null };
}

/** Renames the field names in votes (after chosen/rejected were swapped, or candidates became a pair). */
export function renameVotes(votes: readonly Vote[], rename: (name: string) => string): Vote[] {
  return votes.map((v) => ({
    ...v,
    choice: v.choice === null ? null : (rename(v.choice) as Choice),
    shown: v.shown ? [rename(v.shown[0]), rename(v.shown[1])] : null,
  }));
}

export function isPolicy(value: unknown): value is ResolutionPolicy {
  return (POLICIES as readonly unknown[]).includes(value);
}

/**
 * The shares of a record's counting votes (of its deciding votes, `decidingVotes`; a skip abstains) whose choice is `agree` (the record's
 * label: `chosen`, or `up`/`down` for thumbs) and its opposite `other`; status votes (tie,
 * both_bad, excluded) count in neither. No counting vote: agreement 1, dissent 0. Training uses
 * them (docs/contracts.md §4: `min_agreement`, `label_smoothing`); mirrored by
 * trainer/rpo_trainer/data.py vote_shares.
 */
export function voteShares(votes: readonly Vote[], agree: Choice, other: Choice): { agreement: number; dissent: number } {
  let n = 0;
  let a = 0;
  let o = 0;
  for (const v of decidingVotes(votes)) {
    if (v.status === 'skip') continue;
    n++;
    if (v.choice === agree) a++;
    else if (v.choice === other) o++;
  }
  return n === 0 ? { agreement: 1, dissent: 0 } : { agreement: a / n, dissent: o / n };
}

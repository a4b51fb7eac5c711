/**
 * Label provenance: the ONE extra field labeling writes, `rpo_label`. See docs/formats.md.
 *
 * Its shape is fixed so pandas / Hugging Face `datasets` (pyarrow) infer one struct type for
 * the column: the six core keys are always written (null when not applicable), in this order,
 * and each key always holds the same JSON type. Three optional keys appear only where they
 * apply (pyarrow fills missing struct fields with null).
 */
export const LABEL_FIELD = 'rpo_label';

export const LABEL_STATUSES = ['tie', 'skip', 'both_bad', 'excluded'] as const;
export type LabelStatus = (typeof LABEL_STATUSES)[number];

/**
 * Statuses of the resolved label: an annotator's statuses plus `disputed`, written when a record's
 * votes (`rpo_votes`, src/core/dataset/votes.ts) do not resolve under the policy. Disputed
 * records do not train.
 */
export const RESOLVED_STATUSES = [...LABEL_STATUSES, 'disputed'] as const;
export type ResolvedStatus = (typeof RESOLVED_STATUSES)[number];

export const STRENGTHS = ['slightly', 'clearly'] as const;
export type Strength = (typeof STRENGTHS)[number];

/** Names of the fields shown left to right, e.g. ["rejected", "chosen"] or ["responses.1", "responses.0"]. */
export type ShownOrder = [string, string];

export interface RpoLabel {
  /** Who labeled (setting `rpo.labeling.annotator`; default git user.name, else the OS user). */
  annotator: string;
  /** When, ISO 8601 UTC (`new Date().toISOString()`). */
  time: string;
  /** Set when the annotator gave no preference: tie, skip, both_bad, excluded; `disputed` when votes do not resolve. Null for a preference. */
  status: ResolvedStatus | null;
  /** How much better the chosen response is. Null when not given or not applicable. */
  strength: Strength | null;
  /** Free text. Null when none. */
  note: string | null;
  /** The two fields in the order they were displayed (position-bias audit). Null for unpaired records. */
  shown: ShownOrder | null;
  /** Paired records: true when the annotator's choice swapped the file's original chosen/rejected. */
  flipped?: boolean;
  /** Unpaired records: the `label` the record had before labeling (null: it had none). */
  original_label?: boolean | null;
  /** Records labeled from candidates: [index of the response that became chosen, index of rejected]. */
  from_responses?: [number, number];
}

/** A problem with the `rpo_label` field: which sub-field and why. */
export interface LabelFieldIssue {
  field: string;
  reason: string;
}

/** Validates a parsed `rpo_label` value. Returns the typed label or the first problem found. */
export function checkRpoLabel(value: unknown): { label: RpoLabel } | { issue: LabelFieldIssue } {
  const issue = findIssue(value);
  return issue ? { issue } : { label: value as RpoLabel };
}

function findIssue(value: unknown): LabelFieldIssue | null {
  const f = (name: string) => `${LABEL_FIELD}.${name}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { field: LABEL_FIELD, reason: `must be an object, found ${jsonTypeName(value)}` };
  }
  const v = value as Record<string, unknown>;
  if (typeof v.annotator !== 'string') return { field: f('annotator'), reason: `must be a string, found ${jsonTypeName(v.annotator)}` };
  if (typeof v.time !== 'string') return { field: f('time'), reason: `must be an ISO 8601 string, found ${jsonTypeName(v.time)}` };
  if (v.status != null && !(RESOLVED_STATUSES as readonly unknown[]).includes(v.status)) {
    return { field: f('status'), reason: `must be one of ${RESOLVED_STATUSES.join(', ')} or null, found ${JSON.stringify(v.status)}` };
  }
  if (v.strength != null && !(STRENGTHS as readonly unknown[]).includes(v.strength)) {
    return { field: f('strength'), reason: `must be one of ${STRENGTHS.join(', ')} or null, found ${JSON.stringify(v.strength)}` };
  }
  if (v.note != null && typeof v.note !== 'string') return { field: f('note'), reason: `must be a string or null, found ${jsonTypeName(v.note)}` };
  if (v.shown != null && !(Array.isArray(v.shown) && v.shown.length === 2 && v.shown.every((s) => typeof s === 'string'))) {
    return { field: f('shown'), reason: 'must be a list of two field names or null' };
  }
  if (v.flipped !== undefined && typeof v.flipped !== 'boolean') return { field: f('flipped'), reason: `must be a boolean, found ${jsonTypeName(v.flipped)}` };
  if (v.original_label !== undefined && v.original_label !== null && typeof v.original_label !== 'boolean') {
    return { field: f('original_label'), reason: `must be a boolean or null, found ${jsonTypeName(v.original_label)}` };
  }
  if (v.from_responses !== undefined && !(Array.isArray(v.from_responses) && v.from_responses.length === 2 && v.from_responses.every((n) => Number.isInteger(n) && n >= 0))) {
    return { field: f('from_responses'), reason: 'must be a list of two response indices' };
  }
  return null;
}

/** Builds a label object with the core keys in the documented order. */
export function makeLabel(fields: Pick<RpoLabel, 'annotator' | 'time'> & Partial<RpoLabel>): RpoLabel {
  const label: RpoLabel = {
    annotator: fields.annotator,
    time: fields.time,
    status: fields.status ?? null,
    strength: fields.strength ?? null,
    note: fields.note ?? null,
    shown: fields.shown ?? null,
  };
  if (fields.flipped !== undefined) label.flipped = fields.flipped;
  if (fields.original_label !== undefined) label.original_label = fields.original_label;
  if (fields.from_responses !== undefined) label.from_responses = fields.from_responses;
  return label;
}

export function jsonTypeName(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string': return 'a string';
    case 'number': return 'a number';
    case 'boolean': return 'a boolean';
    case 'object': return 'an object';
    default: return typeof v;
  }
}

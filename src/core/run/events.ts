import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import eventsSchema from '../../../trainer/rpo_trainer/schemas/events.schema.json';

/**
 * The trainer's event stream: one JSON object per line on stdout and in `events.jsonl`.
 * trainer/rpo_trainer/schemas/events.schema.json is the single source of truth; the types below
 * mirror it for the TypeScript side and every line is validated against the schema itself.
 */

export const EVENT_SCHEMA_VERSION = 1;

export type MetricValue = number | null;

/** Metrics as TRL names them; extra metrics may appear (numbers or null). */
export interface Metrics {
  loss: MetricValue;
  'rewards/chosen': MetricValue;
  'rewards/rejected': MetricValue;
  'rewards/margins': MetricValue;
  'rewards/accuracies': MetricValue;
  'logps/chosen': MetricValue;
  'logps/rejected': MetricValue;
  'contrast/diagonal_weight'?: MetricValue;
  'contrast/effective_beta'?: MetricValue;
  [name: string]: MetricValue | undefined;
}

interface EventBase {
  schema: number;
  time: string;
}

interface Progress {
  step: number;
  total_steps: number;
  epoch: number;
}

export interface StartEvent extends EventBase {
  type: 'start';
  run_dir: string;
  config: Record<string, unknown>;
  model: { name_or_path: string; architecture?: string | null; parameters: number; trainable_parameters: number; lora: boolean };
  dataset: {
    path: string;
    sha256: string;
    lines: number;
    usable: number;
    train: number;
    eval: number;
    left_out: Record<string, number>;
    truncated?: number;
    embeddings_computed?: number;
  };
  devices: { type: 'cuda' | 'cpu' | 'mps' | 'xpu' | 'other'; name: string; memory_bytes?: number | null }[];
  num_processes: number;
  total_steps: number;
  step: number;
  epoch: number;
  resumed: string | null;
  precision?: 'bf16' | 'fp16' | 'fp32';
  versions?: Record<string, string | null>;
  /** Not in schema v1's required set: the trainer's process id when it reports it. */
  pid?: number;
}

export interface StepEvent extends EventBase, Progress {
  type: 'step';
  metrics: Metrics;
  learning_rate: number;
  grad_norm: MetricValue;
  tokens_per_second: number;
  samples_per_second: number;
  elapsed_seconds: number;
  eta_seconds: MetricValue;
  memory: { allocated_bytes: number; reserved_bytes?: number; peak_bytes: number } | null;
}

export interface EvalEvent extends EventBase, Progress {
  type: 'eval';
  metrics: Metrics;
  samples: number;
  duration_seconds: number;
}

export interface CheckpointEvent extends EventBase, Progress {
  type: 'checkpoint';
  path: string;
  reason: 'periodic' | 'stop' | 'final';
}

export interface LogEvent extends EventBase {
  type: 'log';
  level: 'debug' | 'info' | 'warning' | 'error';
  message: string;
}

export type EndStatus = 'completed' | 'stopped' | 'failed';

export interface EndEvent extends EventBase {
  type: 'end';
  status: EndStatus;
  step: number;
  total_steps: number;
  epoch: number;
  elapsed_seconds: number;
  run_dir?: string | null;
  final_model?: string | null;
  checkpoint?: string | null;
  message?: string | null;
}

export interface ErrorEvent extends EventBase {
  type: 'error';
  message: string;
  error_type: string;
  traceback: string | null;
  hint: string | null;
  step?: number | null;
}

export type TrainerEvent = StartEvent | StepEvent | EvalEvent | CheckpointEvent | LogEvent | EndEvent | ErrorEvent;

/** `python -m rpo_trainer generate` (docs/formats.md, "Candidates from a run"): stdout only. */
export interface GenerateStartEvent extends EventBase {
  type: 'generate_start';
  out: string;
  sidecar: string;
  /** Records already complete (a continued file). */
  done: number;
  total: number;
  models: Record<string, Record<string, unknown>>;
  prompts: { file: string; sha256: string; split: string; count: number; skipped: number };
  settings: Record<string, unknown>;
  skipped?: Record<string, number>;
  num_processes: number;
  device?: string;
}

export interface GenerateProgressEvent extends EventBase {
  type: 'generate_progress';
  done: number;
  total: number;
  tokens: number;
  tokens_per_second: number;
  elapsed_seconds: number;
  eta_seconds: number | null;
}

export interface GenerateEndEvent extends EventBase {
  type: 'generate_end';
  status: EndStatus;
  done: number;
  total: number;
  out?: string | null;
  sidecar?: string | null;
  elapsed_seconds: number;
  message?: string | null;
}

export type GenerateEvent = GenerateStartEvent | GenerateProgressEvent | GenerateEndEvent | LogEvent | ErrorEvent;

const GENERATE_TYPES: ReadonlySet<string> = new Set<GenerateEvent['type']>(['generate_start', 'generate_progress', 'generate_end', 'log', 'error']);

/** A line of event output as a JSON object; a blank line is ignored, anything else not an object is malformed. */
function jsonObjectLine(line: string): { record: Record<string, unknown> } | { kind: 'ignored'; reason: string } | { kind: 'malformed'; error: string } {
  const text = line.trim();
  if (!text) return { kind: 'ignored', reason: 'blank line' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: 'malformed', error: `not JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'malformed', error: 'not a JSON object' };
  return { record: value as Record<string, unknown> };
}

/** One line of `generate`'s stdout, validated against the same schema (parseEventLine's rules). */
export function parseGenerateEventLine(line: string): { kind: 'event'; event: GenerateEvent } | { kind: 'ignored'; reason: string } | { kind: 'malformed'; error: string } {
  const parsed = jsonObjectLine(line);
  if ('kind' in parsed) return parsed;
  const record = parsed.record;
  if (typeof record.type !== 'string' || !GENERATE_TYPES.has(record.type)) return { kind: 'ignored', reason: `event type '${String(record.type)}'` };
  const error = check(typeof record.schema === 'number' && record.schema > EVENT_SCHEMA_VERSION ? { ...record, schema: EVENT_SCHEMA_VERSION } : record);
  if (error) return { kind: 'malformed', error };
  return { kind: 'event', event: record as unknown as GenerateEvent };
}
export type TrainerEventType = TrainerEvent['type'];

const KNOWN_TYPES: ReadonlySet<string> = new Set<TrainerEventType>(['start', 'step', 'eval', 'checkpoint', 'log', 'end', 'error']);
/** Types validated per definition for precise messages (training's and generate's). */
const DEFINED_TYPES: readonly string[] = [...KNOWN_TYPES, 'generate_start', 'generate_progress', 'generate_end'];

export type ParsedLine =
  | { kind: 'event'; event: TrainerEvent }
  /** Blank line, or an event type from a newer schema version: skipped silently (the schema says so). */
  | { kind: 'ignored'; reason: string }
  /** Not JSON, not an object, or not valid against the schema: report and skip. */
  | { kind: 'malformed'; error: string };

interface Validators {
  event: ValidateFunction;
  /** Per-type definitions, only to explain a failure precisely (the whole schema decides). */
  byType: Map<string, ValidateFunction>;
}

let validators: Validators | undefined;

/** Compiled once, on first use. */
function compiled(): Validators {
  if (!validators) {
    const ajv = new Ajv2020({ allErrors: false, strict: false });
    // RFC 3339 date-time, as Python's isoformat writes it (the `Z` or an offset is required).
    ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[zZ]|[+-]\d\d:\d\d)$/);
    const event = ajv.compile(eventsSchema);
    const byType = new Map<string, ValidateFunction>();
    for (const type of DEFINED_TYPES) {
      const def = ajv.getSchema(`${eventsSchema.$id}#/$defs/${type}`);
      if (def) byType.set(type, def);
    }
    validators = { event, byType };
  }
  return validators;
}

function formatErrors(errors: ErrorObject[]): string {
  const parts: string[] = [];
  for (const e of errors) {
    const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'event';
    const text = `${where}: ${e.message ?? e.keyword}`;
    if (!parts.includes(text)) parts.push(text);
    if (parts.length === 3) break;
  }
  return parts.join('; ');
}

/** Validates against the whole schema; on failure explains it from the event type's own definition. */
function check(record: Record<string, unknown>): string | undefined {
  const v = compiled();
  if (v.event(record as unknown)) return undefined;
  const type = typeof record.type === 'string' ? record.type : undefined;
  const def = type ? v.byType.get(type) : undefined;
  if (def && !def(record as unknown) && def.errors?.length) return `'${type}' event: ${formatErrors(def.errors)}`;
  const outer = (v.event.errors ?? []).filter((e) => !e.schemaPath.includes('$defs') && e.keyword !== 'oneOf');
  if (outer.length) return (type ? `'${type}' event: ` : '') + formatErrors(outer);
  if (type && !v.byType.has(type)) return `unknown event type '${type}'`;
  return type ? `'${type}' event does not match the event schema` : "missing or unknown event 'type'";
}

/**
 * One line of trainer output to a typed event. Never throws: malformed input comes back as
 * `malformed` with a reason for the log; the caller skips it and goes on.
 */
export function parseEventLine(line: string): ParsedLine {
  const parsed = jsonObjectLine(line);
  if ('kind' in parsed) return parsed;
  const record = parsed.record;
  if (typeof record.type === 'string' && record.type.startsWith('generate_')) return { kind: 'ignored', reason: `'${record.type}' is a generate event` };
  if (typeof record.schema === 'number' && record.schema > EVENT_SCHEMA_VERSION) {
    // A newer trainer: unknown types are skipped, known types are read with the keys we know.
    if (typeof record.type !== 'string' || !KNOWN_TYPES.has(record.type)) {
      return { kind: 'ignored', reason: `event type '${String(record.type)}' of schema ${record.schema}` };
    }
    const error = check({ ...record, schema: EVENT_SCHEMA_VERSION });
    if (error) return { kind: 'malformed', error };
    return { kind: 'event', event: record as unknown as TrainerEvent };
  }
  const error = check(record);
  if (error) return { kind: 'malformed', error };
  return { kind: 'event', event: record as unknown as TrainerEvent };
}

/** The longest line a reader of the trainer's output keeps (characters); longer ones are skipped. */
export const MAX_LINE_LENGTH = 1 << 20;

/** The message for a line over MAX_LINE_LENGTH, for logs and malformed-line reports. */
export function tooLongMessage(length: number, limit = MAX_LINE_LENGTH): string {
  return `a line of ${length.toLocaleString('en-US')} characters, over the ${limit.toLocaleString('en-US')}-character limit, was skipped`;
}
/** How much of a skipped line is kept to name it in a message. */
const TOO_LONG_HEAD = 200;

/** Where a LineSplitter delivers what it splits, in stream order. */
export interface LineSink {
  line(text: string): void;
  /**
   * A line longer than the limit (e.g. a progress bar redrawn with `\r` and no newline for a
   * whole run): it is not kept; `length` is its full length in characters, `head` its start.
   */
  tooLong(length: number, head: string): void;
}

/**
 * Splits a text stream into lines across chunk boundaries (`\n`, a trailing `\r` removed). Only
 * the new chunk is searched for line ends, and an unfinished line is held as a list of pieces
 * joined once at its end: linear in the stream, whatever the line lengths. A line longer than
 * `maxLineLength` is reported to `sink.tooLong` instead of being held: memory stays bounded by
 * the limit. `flush` delivers a last line without a newline (end of stream).
 */
export class LineSplitter {
  private pieces: string[] = [];
  private pendingLength = 0;
  /** The unfinished line passed the limit: its pieces are dropped, only its length is counted. */
  private overflowHead: string | undefined;

  constructor(
    private readonly sink: LineSink,
    private readonly maxLineLength = MAX_LINE_LENGTH,
  ) {}

  push(chunk: string): void {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      this.append(chunk, start, nl);
      this.endLine(true);
      start = nl + 1;
    }
    if (start < chunk.length) this.append(chunk, start, chunk.length);
  }

  flush(): void {
    if (this.pendingLength > 0) this.endLine(false);
  }

  /** Adds chunk[from, to) to the unfinished line. */
  private append(chunk: string, from: number, to: number): void {
    if (to <= from) return;
    this.pendingLength += to - from;
    if (this.overflowHead !== undefined) return;
    const piece = from === 0 && to === chunk.length ? chunk : chunk.slice(from, to);
    // A `\r` that ends the line is removed at its end: keep one of slack for it.
    if (this.pendingLength > this.maxLineLength + 1) {
      this.overflowHead = (this.pieces.join('') + piece.slice(0, TOO_LONG_HEAD)).slice(0, TOO_LONG_HEAD);
      this.pieces = [];
      return;
    }
    this.pieces.push(piece);
  }

  private endLine(newline: boolean): void {
    const head = this.overflowHead;
    let length = this.pendingLength;
    let text = head === undefined ? (this.pieces.length === 1 ? this.pieces[0] : this.pieces.join('')) : '';
    this.pieces = [];
    this.pendingLength = 0;
    this.overflowHead = undefined;
    if (head !== undefined) {
      this.sink.tooLong(length, head);
      return;
    }
    if (newline && text.endsWith('\r')) {
      text = text.slice(0, -1);
      length--;
    }
    if (length > this.maxLineLength) this.sink.tooLong(length, text.slice(0, TOO_LONG_HEAD));
    else this.sink.line(text);
  }
}

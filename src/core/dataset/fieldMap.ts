import { type Column, type ValueType, describeType, isMessageList, isTurnsType, recordJsonText, unsupportedPart } from './columns';
import { classify } from './formats';
import { LABEL_FIELD } from './provenance';

/**
 * Field mapping for importing tabular preference data (Parquet, Arrow, JSON): which source
 * column becomes which field of a preference record (docs/formats.md, "Import"). Pure.
 *
 * Targets:
 * - `prompt`, `chosen`, `rejected`: a TRL paired record (no prompt: an implicit prompt);
 * - `prompt`, `completion`, `label`: TRL unpaired (no label or a null label: awaiting a thumbs);
 * - `prompt`, `response_a`, `response_b`, optional `a_preferred` (1/true: A is chosen, 0/false: B):
 *   a paired record when `a_preferred` is mapped (SHP's `labels`), else candidates
 *   `{prompt, responses: [a, b]}` awaiting a pairwise label.
 * Every column not mapped is kept in the record as an extra field under its own name, except
 * names the record shape uses (`prompt`, `chosen`, ...), which are kept as `source_<name>`.
 */
export const TARGETS = ['prompt', 'chosen', 'rejected', 'completion', 'label', 'response_a', 'response_b', 'a_preferred'] as const;
export type Target = (typeof TARGETS)[number];
export type FieldMap = Partial<Record<Target, string>>;

/** Record keys an extra column may not use (they would change the record's shape). */
const RESERVED = new Set(['prompt', 'chosen', 'rejected', 'completion', 'label', 'responses']);

/** Common column names per target, best first (TRL's own names first). */
const SYNONYMS: Record<Target, string[]> = {
  prompt: ['prompt', 'question', 'instruction', 'history', 'input', 'query', 'context'],
  chosen: ['chosen', 'response_j', 'chosen_response', 'response_chosen', 'chosen_text'],
  rejected: ['rejected', 'response_k', 'rejected_response', 'response_rejected', 'rejected_text'],
  completion: ['completion'],
  label: ['label'],
  response_a: ['human_ref_A', 'response_a', 'response_A', 'response-1', 'response_1', 'response1'],
  response_b: ['human_ref_B', 'response_b', 'response_B', 'response-2', 'response_2', 'response2'],
  a_preferred: ['labels', 'a_preferred', 'preferred_a'],
};

export interface MappingProposal {
  map: FieldMap;
  /** What the columns look like (e.g. "SHP"), or null when nothing was recognised. */
  recognised: string | null;
  /** Things the user should know (a column renamed, a prompt left implicit). */
  notes: string[];
}

function find(columns: Column[], target: Target, ok: (t: ValueType) => boolean): string | undefined {
  for (const name of SYNONYMS[target]) {
    const c = columns.find((x) => x.name === name) ?? columns.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (c && ok(c.type)) return c.name;
  }
  return undefined;
}

/** Proposes a mapping for these columns (the user confirms or edits it). */
export function proposeMapping(columns: Column[]): MappingProposal {
  const notes: string[] = [];
  const turns = (t: ValueType) => isTurnsType(t);
  const has = (n: string) => columns.some((c) => c.name === n);
  const chosen = find(columns, 'chosen', turns);
  const rejected = find(columns, 'rejected', turns);
  let map: FieldMap = {};
  let recognised: string | null = null;
  if (chosen && rejected) {
    map = { chosen, rejected };
    recognised = chosen === 'chosen' && rejected === 'rejected' ? 'TRL paired preference' : 'question / response_j / response_k';
    if (has('score_chosen') && has('score_rejected')) recognised = 'UltraFeedback (binarized)';
    if (chosen === 'chosen_response') recognised = 'Argilla preference export';
  } else {
    const a = find(columns, 'response_a', turns);
    const b = find(columns, 'response_b', turns);
    const completion = find(columns, 'completion', turns);
    if (a && b) {
      map = { response_a: a, response_b: b };
      const pref = find(columns, 'a_preferred', (t) => t.kind === 'int' || t.kind === 'bool' || t.kind === 'json');
      if (pref) map.a_preferred = pref;
      recognised = a === 'human_ref_A' ? 'SHP' : pref ? 'pairwise with a preference column' : 'two responses awaiting a label';
    } else if (completion) {
      map = { completion };
      const label = find(columns, 'label', (t) => t.kind === 'bool' || t.kind === 'json');
      if (label) map.label = label;
      recognised = label ? 'TRL unpaired preference' : 'completions awaiting a thumbs up / down';
    }
  }
  if (recognised) {
    const prompt = find(columns, 'prompt', turns);
    if (prompt) {
      const promptType = columns.find((c) => c.name === prompt)!.type;
      const textCol = map.chosen ?? map.response_a ?? map.completion;
      const textType = columns.find((c) => c.name === textCol)?.type;
      if (textType && promptType.kind === 'string' && isMessageList(textType) && (map.chosen || map.response_a)) {
        // UltraFeedback: a string prompt next to chosen/rejected conversations that start with it.
        notes.push(`"${prompt}" is a string but "${textCol}" is a message list: the prompt is left implicit (the turns chosen and rejected share)`);
      } else {
        map = { prompt, ...map };
      }
    }
  }
  for (const c of columns) {
    if (Object.values(map).includes(c.name)) continue;
    if (RESERVED.has(c.name)) notes.push(`column "${c.name}" is not mapped: kept as "source_${c.name}"`);
  }
  return { map, recognised, notes };
}

/** Parses `chosen=response_j,rejected=response_k,prompt=question` (an empty value unmaps). */
export function parseMapSpec(spec: string, base: FieldMap = {}): FieldMap {
  const map: FieldMap = { ...base };
  for (const part of spec.split(',')) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    if (eq < 0) throw new Error(`--map: "${part}" is not TARGET=COLUMN (targets: ${TARGETS.join(', ')})`);
    const target = part.slice(0, eq).trim() as Target;
    const column = part.slice(eq + 1).trim();
    if (!TARGETS.includes(target)) throw new Error(`--map: unknown target "${target}" (targets: ${TARGETS.join(', ')})`);
    if (column) map[target] = column;
    else delete map[target];
  }
  return map;
}

/** `prompt=question, chosen=response_j, ...` in target order. */
export function formatMap(map: FieldMap): string {
  return TARGETS.filter((t) => map[t]).map((t) => `${t}=${map[t]}`).join(',');
}

/** The record shape a mapping produces, or a reason it produces none. */
export function mappingShape(map: FieldMap): { shape: 'paired' | 'unpaired' | 'pairwise' | 'candidates' } | { error: string } {
  const t = (k: Target) => map[k] !== undefined;
  const used = TARGETS.filter(t);
  const only = (allowed: Target[]) => used.filter((k) => !allowed.includes(k));
  const extra = (shape: string, allowed: Target[]) => {
    const bad = only(allowed);
    return bad.length ? { error: `a ${shape} mapping cannot also map ${bad.join(', ')}` } : null;
  };
  if (t('chosen') || t('rejected')) {
    if (!t('chosen') || !t('rejected')) return { error: `a paired mapping needs both chosen and rejected; ${t('chosen') ? 'rejected' : 'chosen'} is not mapped` };
    return extra('paired', ['prompt', 'chosen', 'rejected']) ?? { shape: 'paired' };
  }
  if (t('response_a') || t('response_b')) {
    if (!t('response_a') || !t('response_b')) return { error: `a pairwise mapping needs both response_a and response_b` };
    if (!t('prompt')) return { error: 'a pairwise mapping needs a prompt column' };
    return extra('pairwise', ['prompt', 'response_a', 'response_b', 'a_preferred']) ?? { shape: t('a_preferred') ? 'pairwise' : 'candidates' };
  }
  if (t('completion')) {
    if (!t('prompt')) return { error: 'an unpaired mapping needs a prompt column' };
    return extra('unpaired', ['prompt', 'completion', 'label']) ?? { shape: 'unpaired' };
  }
  return { error: 'nothing is mapped: map chosen and rejected, completion (and label), or response_a and response_b' };
}

export interface MappingProblem {
  /** The source column at fault, or null. */
  column: string | null;
  reason: string;
}

/**
 * A checked mapping over one table's columns: turns rows (objects keyed by column name) into
 * preference records. Build with `compileMapping`; it throws an Error naming the column when
 * the mapping cannot apply to these columns.
 */
export interface CompiledMapping {
  map: FieldMap;
  /** Extra columns kept: source name -> record key. */
  kept: { column: string; key: string }[];
  /** Types of the record's top-level fields, for `recordJsonText`. */
  types: Map<string, ValueType>;
  /** The record for a row, or the problem with it. */
  apply(row: Record<string, unknown>): { object: Record<string, unknown> } | { problem: MappingProblem };
}

export interface CompileOptions {
  /** Columns left out of the records. */
  drop?: string[];
  /** Where the columns come from, for messages (a file name). */
  where?: string;
  /** Untyped rows (JSON): keep every key a row has, not only the listed columns. */
  openColumns?: boolean;
}

export function compileMapping(map: FieldMap, columns: Column[], options: CompileOptions = {}): CompiledMapping {
  const where = options.where ? ` in ${options.where}` : '';
  const byName = new Map(columns.map((c) => [c.name, c]));
  const shape = mappingShape(map);
  if ('error' in shape) throw new Error(shape.error);
  for (const target of TARGETS) {
    const col = map[target];
    if (col === undefined) continue;
    const c = byName.get(col);
    if (!c) throw new Error(`the mapping ${target}=${col} names a column that is not${where} (columns: ${columns.map((x) => x.name).join(', ')})`);
    if (target === 'a_preferred' || target === 'label') {
      const ok = target === 'label' ? ['bool', 'json', 'null'] : ['bool', 'int', 'json', 'null'];
      if (!ok.includes(c.type.kind)) throw new Error(`column "${col}"${where} is ${describeType(c.type)}; ${target} needs ${target === 'label' ? 'a boolean' : 'a boolean or 0/1'}`);
    } else if (!isTurnsType(c.type)) {
      throw new Error(`column "${col}"${where} is ${describeType(c.type)}; ${target} needs a string or a list of {role, content} messages`);
    }
  }
  const drop = new Set(options.drop ?? []);
  for (const d of drop) if (!byName.has(d)) throw new Error(`--drop ${d}: no such column${where} (columns: ${columns.map((x) => x.name).join(', ')})`);
  const mapped = new Set(Object.values(map));
  const kept: { column: string; key: string }[] = [];
  const types = new Map<string, ValueType>();
  for (const c of columns) {
    if (mapped.has(c.name) || drop.has(c.name)) continue;
    const unsupported = unsupportedPart(c.type);
    if (unsupported) throw new Error(`column "${c.name}"${where} has type ${describeType(c.type)}, which has no JSON form here${unsupported !== describeType(c.type) ? ` (${unsupported})` : ''}; leave it out with --drop ${c.name}`);
    const key = RESERVED.has(c.name) ? `source_${c.name}` : c.name;
    kept.push({ column: c.name, key });
    types.set(key, c.type);
  }
  for (const t of ['prompt', 'chosen', 'rejected', 'completion'] as const) if (map[t]) types.set(t, byName.get(map[t]!)!.type);
  if (map.response_a) {
    const ta = byName.get(map.response_a)!.type;
    types.set(shape.shape === 'candidates' ? 'responses' : 'chosen', shape.shape === 'candidates' ? { kind: 'list', item: ta } : ta);
    if (shape.shape === 'pairwise') types.set('rejected', ta);
  }
  const fieldColumn = (field: string | null): string | null => {
    if (!field) return null;
    const root = /^[A-Za-z_]+/.exec(field)?.[0] ?? field;
    if (root === 'responses') return /^responses\[1\]/.test(field) ? map.response_b! : map.response_a!;
    if (shape.shape === 'pairwise' && (root === 'chosen' || root === 'rejected')) return `${map.response_a} or ${map.response_b}`;
    const t = root as Target;
    if (map[t]) return map[t]!;
    return kept.find((k) => k.key === root)?.column ?? root;
  };

  // String columns for every text field (and a boolean label): once nulls are ruled out the record
  // is valid by construction, so `classify` (the per-row check) is skipped unless an rpo_label is kept.
  const knownValid = (['prompt', 'chosen', 'rejected', 'completion', 'response_a', 'response_b'] as const).every((t) => !map[t] || byName.get(map[t]!)!.type.kind === 'string')
    && (!map.label || byName.get(map.label)!.type.kind === 'bool');
  return {
    map,
    kept,
    types,
    apply(row) {
      const object: Record<string, unknown> = {};
      const nullIn = (target: Target): MappingProblem | null => {
        const col = map[target];
        if (col === undefined) return null;
        const v = row[col];
        return v === null || v === undefined ? { column: col, reason: `null, but ${target} needs a value` } : null;
      };
      for (const target of ['prompt', 'chosen', 'rejected', 'completion', 'response_a', 'response_b', 'a_preferred'] as const) {
        const p = nullIn(target);
        if (p) return { problem: p };
      }
      if (map.prompt) object.prompt = row[map.prompt];
      if (shape.shape === 'paired') {
        object.chosen = row[map.chosen!];
        object.rejected = row[map.rejected!];
      } else if (shape.shape === 'unpaired') {
        object.completion = row[map.completion!];
        if (map.label) object.label = row[map.label] ?? null;
      } else if (shape.shape === 'candidates') {
        object.responses = [row[map.response_a!], row[map.response_b!]];
      } else {
        const pref = row[map.a_preferred!];
        const n = typeof pref === 'bigint' ? Number(pref) : pref;
        if (n !== 1 && n !== 0 && n !== true && n !== false) {
          return { problem: { column: map.a_preferred!, reason: `column "${map.a_preferred}" (a_preferred) must be 1/true (A preferred) or 0/false (B preferred), found ${JSON.stringify(typeof pref === 'bigint' ? n : pref)}` } };
        }
        const aWins = n === 1 || n === true;
        object.chosen = row[aWins ? map.response_a! : map.response_b!];
        object.rejected = row[aWins ? map.response_b! : map.response_a!];
      }
      let label: unknown;
      const keep = (column: string, key: string) => {
        if (key === LABEL_FIELD) label = cleanLabel(row[column]);
        else object[key] = row[column];
      };
      if (options.openColumns) {
        for (const column of Object.keys(row)) if (!mapped.has(column) && !drop.has(column)) keep(column, RESERVED.has(column) ? `source_${column}` : column);
      } else {
        for (const k of kept) keep(k.column, k.key);
      }
      if (label !== undefined && label !== null) object[LABEL_FIELD] = label;
      if (knownValid && label == null) return { object };
      const rec = classify(object);
      if (rec.kind === 'invalid') {
        const column = fieldColumn(rec.field);
        return { problem: { column, reason: column && rec.field ? `${rec.reason.replace(`field "${rec.field}"`, `field "${rec.field}" (from column "${column}")`)}` : rec.reason } };
      }
      return { object };
    },
  };
}

/** An `rpo_label` read back from a Parquet struct column: optional keys absent, not null. */
function cleanLabel(v: unknown): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if ((k === 'flipped' || k === 'original_label' || k === 'from_responses') && x == null) continue;
    out[k] = k === 'from_responses' && Array.isArray(x) ? x.map((n) => (typeof n === 'bigint' ? Number(n) : n)) : x;
  }
  return out;
}

/** The JSONL line (without newline) of a mapped record. */
export function recordLine(mapping: CompiledMapping, object: Record<string, unknown>): string {
  return recordJsonText(object, mapping.types);
}

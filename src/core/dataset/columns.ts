/**
 * Column types of tabular preference data (Parquet, Arrow, JSON) as import and export see them,
 * and the JSON text of values of a known type. Pure: the readers and writers over the libraries
 * live in src/node/ (tables.ts, importTables.ts, exportParquet.ts).
 *
 * Types matter for the round trip Parquet -> JSONL -> Parquet: JSON has one number type, so a
 * float column is written with a decimal point even for whole values (`7.0`, as Python's
 * `json.dumps` writes floats, so pyarrow and `datasets` read the JSONL back as float too) and a
 * 64-bit integer keeps all its digits (`bigint`, never rounded through a double).
 */
export type ValueType =
  | { kind: 'bool' }
  | { kind: 'int' }
  | { kind: 'float' }
  | { kind: 'string' }
  | { kind: 'list'; item: ValueType }
  | { kind: 'struct'; fields: { name: string; type: ValueType }[] }
  /** Values from JSON input: whatever JSON.parse gives, written back as JSON. */
  | { kind: 'json' }
  /** Only nulls seen (export): written as a nullable string column. */
  | { kind: 'null' }
  | { kind: 'unsupported'; what: string };

export interface Column {
  name: string;
  type: ValueType;
}

export const BOOL: ValueType = { kind: 'bool' };
export const INT: ValueType = { kind: 'int' };
export const FLOAT: ValueType = { kind: 'float' };
export const STRING: ValueType = { kind: 'string' };
export const JSON_VALUE: ValueType = { kind: 'json' };

/** `list<struct<content: string, role: string>>` style, for messages and previews. */
export function describeType(t: ValueType): string {
  switch (t.kind) {
    case 'list':
      return `list<${describeType(t.item)}>`;
    case 'struct':
      return `struct<${t.fields.map((f) => `${f.name}: ${describeType(f.type)}`).join(', ')}>`;
    case 'unsupported':
      return t.what;
    default:
      return t.kind;
  }
}

/** The first unsupported type inside `t` (e.g. `binary` in `list<binary>`), or null. */
export function unsupportedPart(t: ValueType): string | null {
  switch (t.kind) {
    case 'unsupported':
      return t.what;
    case 'list':
      return unsupportedPart(t.item);
    case 'struct':
      for (const f of t.fields) {
        const u = unsupportedPart(f.type);
        if (u) return u;
      }
      return null;
    default:
      return null;
  }
}

/** A list of `{role, content}` messages (other string fields allowed). */
export function isMessageList(t: ValueType): boolean {
  if (t.kind !== 'list' || t.item.kind !== 'struct') return false;
  const f = new Map(t.item.fields.map((x) => [x.name, x.type.kind]));
  return f.get('role') === 'string' && f.get('content') === 'string';
}

/** Can hold the text of a turn: a string, a message list, or untyped JSON. */
export function isTurnsType(t: ValueType): boolean {
  return t.kind === 'string' || t.kind === 'json' || isMessageList(t);
}

/** True when JSON.stringify writes values of this type exactly as `toJsonText` would. */
function plainJson(t: ValueType): boolean {
  switch (t.kind) {
    case 'string':
    case 'bool':
    case 'null':
    case 'json': // JSON.parse output or a Parquet JSON column: no bigints, numbers as they were
      return true;
    case 'list':
      return plainJson(t.item);
    case 'struct':
      return t.fields.every((f) => plainJson(f.type));
    default:
      return false;
  }
}

const plainCache = new WeakMap<ValueType, boolean>();
function isPlain(t: ValueType): boolean {
  let p = plainCache.get(t);
  if (p === undefined) plainCache.set(t, (p = plainJson(t)));
  return p;
}

/**
 * JSON text of `value` read from a column of type `t`: floats keep a decimal point, bigints all
 * their digits, non-finite floats (not JSON) become null. Struct keys in the type's order.
 */
export function toJsonText(value: unknown, t: ValueType | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (!t || isPlain(t)) return JSON.stringify(value, bigintReplacer);
  switch (t.kind) {
    case 'float': {
      const n = Number(value);
      if (!Number.isFinite(n)) return 'null';
      const s = String(n);
      return /[.e]/.test(s) ? s : `${s}.0`;
    }
    case 'int':
      return typeof value === 'bigint' ? value.toString() : JSON.stringify(value);
    case 'list': {
      if (!Array.isArray(value) && !ArrayBuffer.isView(value)) return JSON.stringify(value, bigintReplacer);
      const parts: string[] = [];
      for (const v of value as Iterable<unknown>) parts.push(toJsonText(v, t.item));
      return `[${parts.join(',')}]`;
    }
    case 'struct': {
      const obj = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const f of t.fields) if (f.name in obj) parts.push(`${JSON.stringify(f.name)}:${toJsonText(obj[f.name], f.type)}`);
      return `{${parts.join(',')}}`;
    }
    default:
      return JSON.stringify(value, bigintReplacer);
  }
}

function bigintReplacer(_key: string, v: unknown): unknown {
  // Only reached for bigints inside untyped values; exact digits need the typed path.
  return typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v;
}

/** JSON text of a record whose top-level fields have the given types (others: plain JSON). */
export function recordJsonText(object: Record<string, unknown>, types: ReadonlyMap<string, ValueType>): string {
  // Fast path (one native JSON.stringify): every value writes the same as `toJsonText` once
  // safe int64s are numbers: no whole or non-finite top-level float, no nested int/float.
  let copy: Record<string, unknown> | null = null;
  let fast = true;
  for (const key in object) {
    const t = types.get(key);
    if (!t || isPlain(t)) continue;
    const v = object[key];
    if (v === null || v === undefined) continue;
    if (t.kind === 'int' && typeof v === 'bigint' && v <= MAX_SAFE && v >= MIN_SAFE) {
      (copy ??= { ...object })[key] = Number(v);
    } else if (!((t.kind === 'int' && typeof v === 'number') || (t.kind === 'float' && typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v)))) {
      fast = false;
      break;
    }
  }
  if (fast) return JSON.stringify(copy ?? object);
  const parts: string[] = [];
  for (const key of Object.keys(object)) parts.push(`${JSON.stringify(key)}:${toJsonText(object[key], types.get(key))}`);
  return `{${parts.join(',')}}`;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

// ------------------------------------------------------------------ export: types from JSON values

/**
 * A float read from JSON text with a decimal point or exponent (`7.0`, `1e3`): the export keeps
 * such columns as float even when every value is whole.
 */
export class JsonFloat {
  constructor(readonly value: number) {}
}

/** Number parser for a JSON reader that keeps number text (lossless-json's parseNumber hook). */
export function parseJsonNumber(text: string): number | bigint | JsonFloat {
  if (/[.eE]/.test(text)) return new JsonFloat(Number(text));
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

export class TypeConflict extends Error {
  constructor(readonly path: string, readonly was: ValueType, readonly found: ValueType) {
    super(`field "${path}" holds ${describeType(found)} here but ${describeType(was)} in earlier records: a Parquet column has one type`);
  }
}

/** The type of one JSON value (numbers as `parseJsonNumber` gives them). */
export function typeOfJson(value: unknown, path: string): ValueType {
  if (value === null || value === undefined) return { kind: 'null' };
  if (typeof value === 'boolean') return BOOL;
  if (typeof value === 'bigint') return INT;
  if (typeof value === 'number') return Number.isInteger(value) ? INT : FLOAT;
  if (value instanceof JsonFloat) return FLOAT;
  if (typeof value === 'string') return STRING;
  if (Array.isArray(value)) {
    let item: ValueType = { kind: 'null' };
    value.forEach((v, i) => (item = mergeTypes(item, typeOfJson(v, `${path}[${i}]`), `${path}[${i}]`)));
    return { kind: 'list', item };
  }
  if (typeof value === 'object') {
    return { kind: 'struct', fields: Object.entries(value as Record<string, unknown>).map(([name, v]) => ({ name, type: typeOfJson(v, `${path}.${name}`) })) };
  }
  return { kind: 'unsupported', what: typeof value };
}

/** The type that holds values of both `a` and `b` (int and float: float; nulls fit anything). */
export function mergeTypes(a: ValueType, b: ValueType, path: string): ValueType {
  if (a.kind === 'null') return b;
  if (b.kind === 'null') return a;
  if (a.kind === 'list' && b.kind === 'list') {
    const item = mergeTypes(a.item, b.item, `${path}[]`);
    return item === a.item ? a : { kind: 'list', item };
  }
  if (a.kind === 'struct' && b.kind === 'struct') {
    let changed = false;
    const fields = a.fields.map((f) => {
      const other = b.fields.find((x) => x.name === f.name);
      if (!other) return f;
      const type = mergeTypes(f.type, other.type, `${path}.${f.name}`);
      if (type !== f.type) changed = true;
      return type === f.type ? f : { name: f.name, type };
    });
    for (const f of b.fields) {
      if (!a.fields.some((x) => x.name === f.name)) {
        fields.push(f);
        changed = true;
      }
    }
    return changed ? { kind: 'struct', fields } : a;
  }
  if (a.kind === b.kind) return a;
  if ((a.kind === 'int' && b.kind === 'float') || (a.kind === 'float' && b.kind === 'int')) return FLOAT;
  throw new TypeConflict(path, a, b);
}

// ------------------------------------------------------------------ export: Parquet schema

/** The Parquet schema element fields the export writes (hyparquet's SchemaElement subset). */
export interface ParquetElement {
  name: string;
  type?: 'BOOLEAN' | 'INT64' | 'DOUBLE' | 'BYTE_ARRAY';
  repetition_type?: 'OPTIONAL' | 'REPEATED' | 'REQUIRED';
  converted_type?: 'UTF8' | 'LIST';
  logical_type?: { type: 'STRING' } | { type: 'LIST' };
  num_children?: number;
}

/**
 * Flattened Parquet schema (depth-first, as the format stores it) of these columns: every field
 * nullable, lists in the standard three-level form (`list` > `element`), so pyarrow reads
 * `list<struct<...>>`, `int64`, `double`, `string`, `bool` back.
 */
export function parquetSchemaOf(columns: Column[]): ParquetElement[] {
  const out: ParquetElement[] = [{ name: 'root', num_children: columns.length }];
  const visit = (name: string, t: ValueType, repetition: 'OPTIONAL' | 'REPEATED') => {
    switch (t.kind) {
      case 'bool':
        out.push({ name, type: 'BOOLEAN', repetition_type: repetition });
        return;
      case 'int':
        out.push({ name, type: 'INT64', repetition_type: repetition });
        return;
      case 'float':
        out.push({ name, type: 'DOUBLE', repetition_type: repetition });
        return;
      case 'list':
        out.push({ name, repetition_type: repetition, converted_type: 'LIST', logical_type: { type: 'LIST' }, num_children: 1 });
        out.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
        visit('element', t.item, 'OPTIONAL');
        return;
      case 'struct':
        out.push({ name, repetition_type: repetition, num_children: t.fields.length });
        for (const f of t.fields) visit(f.name, f.type, 'OPTIONAL');
        return;
      default:
        // string, null-only columns, untyped JSON (written as its JSON text)
        out.push({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: repetition });
    }
  };
  for (const c of columns) visit(c.name, c.type, 'OPTIONAL');
  return out;
}

/** `value` (a JSON value as `parseJsonNumber` gives numbers) in the form the Parquet writer takes for type `t`. */
export function parquetValue(value: unknown, t: ValueType): unknown {
  if (value === null || value === undefined) return null;
  switch (t.kind) {
    case 'int':
      return typeof value === 'bigint' ? value : BigInt(value as number);
    case 'float':
      return value instanceof JsonFloat ? value.value : Number(value);
    case 'list':
      return (value as unknown[]).map((v) => parquetValue(v, t.item));
    case 'struct': {
      const obj = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of t.fields) out[f.name] = parquetValue(obj[f.name], f.type);
      return out;
    }
    case 'string':
    case 'bool':
      return value;
    case 'null':
      return null;
    default:
      return typeof value === 'string' ? value : JSON.stringify(value, (_k, v: unknown) => (v instanceof JsonFloat ? v.value : typeof v === 'bigint' ? v.toString() : v));
  }
}

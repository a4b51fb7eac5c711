import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { extname } from 'node:path';
import type { FileMetaData, SchemaTree } from 'hyparquet' with { 'resolution-mode': 'import' };
import type * as Arrow from 'apache-arrow';
import { type Column, type ValueType, BOOL, FLOAT, INT, JSON_VALUE, STRING } from '../core/dataset/columns';

/**
 * Readers of tabular files for import: Parquet (hyparquet, one row group at a time), Arrow IPC
 * files and streams (apache-arrow, one record batch at a time, as `datasets` writes them), JSON
 * arrays and JSON Lines. Each gives the columns with their types and the rows in batches, so a
 * file of any size is read with about one row group in memory.
 */
export type TableFormat = 'parquet' | 'arrow' | 'json' | 'jsonl';

export interface RowBatch {
  rows: Record<string, unknown>[];
  /** 0-based index of the first row of the batch in the file. */
  rowStart: number;
  /** JSON Lines: the 1-based line number of each row (blank lines are not rows). */
  lines?: number[];
  /** How far through the file (0..1) after this batch, or null when unknown (Arrow streams). */
  fraction: number | null;
}

export interface TableSource {
  path: string;
  format: TableFormat;
  columns: Column[];
  /** Number of rows when the file says (Parquet, Arrow files), else null. */
  rowCount: number | null;
  /** The rows in file order. Rows are objects keyed by column name. */
  batches(): AsyncIterable<RowBatch>;
  close(): Promise<void>;
}

/** A file that is not what its name says, or is damaged: the message names the file. */
export class TableError extends Error {}

export function tableFormat(path: string): TableFormat | null {
  const ext = extname(path).toLowerCase();
  if (ext === '.parquet') return 'parquet';
  if (ext === '.arrow' || ext === '.feather' || ext === '.ipc') return 'arrow';
  if (ext === '.json') return 'json';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  return null;
}

export async function openTable(path: string): Promise<TableSource> {
  const format = tableFormat(path);
  if (!format) throw new TableError(`${path}: unknown file type (import reads .parquet, .arrow, .json and .jsonl)`);
  await fs.promises.access(path, fs.constants.R_OK);
  switch (format) {
    case 'parquet':
      return openParquet(path);
    case 'arrow':
      return openArrow(path);
    case 'json':
      return openJsonArray(path);
    case 'jsonl':
      return openJsonLines(path);
  }
}

// ------------------------------------------------------------------ Parquet

/** The value type of a Parquet schema node (hyparquet's decoded form). */
export function parquetType(node: SchemaTree): ValueType {
  const e = node.element;
  const logical = e.logical_type?.type;
  const converted = e.converted_type;
  if (node.children.length || e.num_children) {
    if (converted === 'LIST' || logical === 'LIST') {
      const repeated = node.children[0];
      if (!repeated) return { kind: 'unsupported', what: 'list without an element' };
      // 3-level lists (list > element); a repeated leaf or a repeated group of several fields
      // is itself the element (legacy 2-level lists).
      const item = repeated.children.length === 1 && repeated.element.repetition_type === 'REPEATED' && !repeated.element.type ? parquetType(repeated.children[0]!) : parquetType({ ...repeated, element: { ...repeated.element, repetition_type: 'OPTIONAL' } });
      return { kind: 'list', item };
    }
    if (converted === 'MAP' || converted === 'MAP_KEY_VALUE' || logical === 'MAP') return { kind: 'unsupported', what: 'map' };
    if (logical === 'VARIANT') return { kind: 'unsupported', what: 'variant' };
    return { kind: 'struct', fields: node.children.map((c) => ({ name: c.element.name, type: fieldType(c) })) };
  }
  switch (e.type) {
    case 'BOOLEAN':
      return BOOL;
    case 'INT32':
    case 'INT64':
      if (logical === 'INTEGER' || !logical) {
        if (!converted || /^U?INT_/.test(converted)) return INT;
      }
      return { kind: 'unsupported', what: (logical ?? converted ?? e.type).toLowerCase() };
    case 'FLOAT':
    case 'DOUBLE':
      return FLOAT;
    case 'BYTE_ARRAY':
      if (converted === 'UTF8' || converted === 'ENUM' || logical === 'STRING' || logical === 'ENUM') return STRING;
      if (converted === 'JSON' || logical === 'JSON') return JSON_VALUE;
      return { kind: 'unsupported', what: converted || logical ? String(logical ?? converted).toLowerCase() : 'binary' };
    case 'FIXED_LEN_BYTE_ARRAY':
      if (logical === 'FLOAT16') return FLOAT;
      return { kind: 'unsupported', what: (logical ?? converted ?? 'fixed-size binary').toLowerCase() };
    default:
      return { kind: 'unsupported', what: String(e.type ?? 'unknown').toLowerCase() };
  }
}

/** A field's type, with a repeated field (no LIST annotation) read as a list. */
function fieldType(node: SchemaTree): ValueType {
  const t = parquetType(node);
  return node.element.repetition_type === 'REPEATED' ? { kind: 'list', item: t } : t;
}

async function openParquet(path: string): Promise<TableSource> {
  const hp = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  const file = await hp.asyncBufferFromFile(path);
  let metadata: FileMetaData;
  try {
    metadata = await hp.parquetMetadataAsync(file);
  } catch (err) {
    throw new TableError(`${path}: not a readable Parquet file (${(err as Error).message})`);
  }
  const schema = hp.parquetSchema(metadata);
  const columns = schema.children.map((c) => ({ name: c.element.name, type: fieldType(c) }));
  const rowCount = Number(metadata.num_rows);
  return {
    path,
    format: 'parquet',
    columns,
    rowCount,
    async *batches() {
      let rowStart = 0;
      for (let g = 0; g < metadata.row_groups.length; g++) {
        const n = Number(metadata.row_groups[g]!.num_rows);
        if (n === 0) continue;
        let rows: Record<string, unknown>[];
        try {
          rows = await hp.parquetReadObjects({ file, metadata, rowStart, rowEnd: rowStart + n, compressors, utf8: false });
        } catch (err) {
          throw new TableError(`${path}: row group ${g + 1} of ${metadata.row_groups.length} (rows ${rowStart + 1}-${rowStart + n}) could not be read: ${(err as Error).message}`);
        }
        yield { rows, rowStart, fraction: rowCount ? (rowStart + n) / rowCount : 1 };
        rowStart += n;
      }
    },
    async close() {},
  };
}

// ------------------------------------------------------------------ Arrow IPC

function arrowType(arrow: typeof Arrow, t: Arrow.DataType): ValueType {
  const D = arrow.DataType;
  if (D.isBool(t)) return BOOL;
  if (D.isInt(t)) return INT;
  if (D.isFloat(t)) return FLOAT;
  if (D.isUtf8(t) || D.isLargeUtf8(t)) return STRING;
  if (D.isDictionary(t)) return arrowType(arrow, t.dictionary);
  if (D.isList(t) || D.isFixedSizeList(t)) return { kind: 'list', item: arrowType(arrow, t.children[0]!.type) };
  if (D.isStruct(t)) return { kind: 'struct', fields: t.children.map((f) => ({ name: f.name, type: arrowType(arrow, f.type) })) };
  if (D.isNull(t)) return { kind: 'null' };
  return { kind: 'unsupported', what: String(t).toLowerCase() };
}

/** A plain JS value of an Arrow vector element of type `t`. */
function arrowValue(v: unknown, t: ValueType): unknown {
  if (v === null || v === undefined) return null;
  switch (t.kind) {
    case 'list': {
      const out: unknown[] = [];
      for (const x of v as Iterable<unknown>) out.push(arrowValue(x, t.item));
      return out;
    }
    case 'struct': {
      const row = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of t.fields) out[f.name] = arrowValue(row[f.name], f.type);
      return out;
    }
    default:
      return v;
  }
}

async function openArrow(path: string): Promise<TableSource> {
  const arrow = await import('apache-arrow');
  const handle = await fs.promises.open(path, 'r');
  let reader: Arrow.AsyncRecordBatchFileReader | Arrow.AsyncRecordBatchStreamReader;
  try {
    reader = await arrow.RecordBatchReader.from(handle);
    await reader.open();
    if (!reader.schema) throw new Error('no schema');
  } catch (err) {
    await handle.close();
    throw new TableError(`${path}: not a readable Arrow IPC file or stream (${(err as Error).message})`);
  }
  const fields: Arrow.Field[] = reader.schema.fields;
  const columns = fields.map((f) => ({ name: f.name, type: arrowType(arrow, f.type) }));
  const fileReader = reader.isFile() ? reader : null;
  return {
    path,
    format: 'arrow',
    columns,
    rowCount: null,
    async *batches() {
      let rowStart = 0;
      let index = 0;
      const total = fileReader?.numRecordBatches ?? 0;
      const it = reader[Symbol.asyncIterator]();
      for (;;) {
        let step: IteratorResult<Arrow.RecordBatch>;
        try {
          step = await it.next();
        } catch (err) {
          const message = (err as Error).message;
          const hint = /compressed but codec not found/.test(message) ? ' (LZ4/ZSTD-compressed Arrow IPC is not read here: write it uncompressed, e.g. pyarrow.feather.write_feather(table, path, compression="uncompressed"), or as Parquet)' : '';
          throw new TableError(`${path}: record batch ${index + 1} (from row ${rowStart + 1}) could not be read: ${message}${hint}`);
        }
        if (step.done) break;
        const batch = step.value;
        index++;
        const rows: Record<string, unknown>[] = new Array(batch.numRows);
        for (let i = 0; i < batch.numRows; i++) rows[i] = {};
        columns.forEach((c: Column, j: number) => {
          const vec = batch.getChildAt(j)!;
          for (let i = 0; i < batch.numRows; i++) rows[i]![c.name] = arrowValue(vec.get(i), c.type);
        });
        rowStart += batch.numRows;
        yield { rows, rowStart: rowStart - batch.numRows, fraction: total ? index / total : null };
      }
    },
    async close() {
      await reader.cancel().catch(() => undefined);
      await handle.close().catch(() => undefined);
    },
  };
}

// ------------------------------------------------------------------ JSON and JSON Lines

/** Columns of JSON rows: the keys of the first rows, untyped. */
function jsonColumns(rows: Record<string, unknown>[]): Column[] {
  const names = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) names.add(k);
  return [...names].map((name) => ({ name, type: JSON_VALUE }));
}

async function openJsonArray(path: string): Promise<TableSource> {
  let value: unknown;
  try {
    // A JSON array is one value: read whole (JSON Lines is the streaming form).
    value = JSON.parse(await fs.promises.readFile(path, 'utf8'));
  } catch (err) {
    throw new TableError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(value)) throw new TableError(`${path}: expected a JSON array of records, found ${value === null ? 'null' : typeof value}`);
  const bad = value.findIndex((r) => typeof r !== 'object' || r === null || Array.isArray(r));
  if (bad >= 0) throw new TableError(`${path}: element ${bad + 1} of the array is not an object`);
  const rows = value as Record<string, unknown>[];
  return {
    path,
    format: 'json',
    columns: jsonColumns(rows.slice(0, 1000)),
    rowCount: rows.length,
    async *batches() {
      for (let i = 0; i < rows.length; i += 10000) yield { rows: rows.slice(i, i + 10000), rowStart: i, fraction: Math.min(1, (i + 10000) / rows.length) };
    },
    async close() {},
  };
}

async function openJsonLines(path: string): Promise<TableSource> {
  const size = (await fs.promises.stat(path)).size;
  const sample: Record<string, unknown>[] = [];
  for await (const { value } of jsonLines(path)) {
    if (value === undefined) continue;
    sample.push(value);
    if (sample.length >= 1000) break;
  }
  return {
    path,
    format: 'jsonl',
    columns: jsonColumns(sample),
    rowCount: null,
    async *batches() {
      let rows: Record<string, unknown>[] = [];
      let lines: number[] = [];
      let rowStart = 0;
      let bytes = 0;
      for await (const { line, value, length } of jsonLines(path)) {
        bytes += length;
        if (value === undefined) continue;
        rows.push(value);
        lines.push(line);
        if (rows.length >= 10000) {
          yield { rows, lines, rowStart, fraction: size ? bytes / size : 1 };
          rowStart += rows.length;
          rows = [];
          lines = [];
        }
      }
      if (rows.length) yield { rows, lines, rowStart, fraction: 1 };
    },
    async close() {},
  };
}

/** Non-blank lines as objects; throws a TableError naming the line. Blank lines give `value: undefined`. */
async function* jsonLines(path: string): AsyncGenerator<{ line: number; value: Record<string, unknown> | undefined; length: number }> {
  const rl = readline.createInterface({ input: fs.createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const raw of rl) {
      line++;
      const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (!text.trim()) {
        yield { line, value: undefined, length: Buffer.byteLength(raw) + 1 };
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw new TableError(`${path}:${line}: not valid JSON (${(err as Error).message.replace(/, ".*" is not valid JSON$/s, '')})`);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TableError(`${path}:${line}: each line must be a JSON object`);
      yield { line, value: value as Record<string, unknown>, length: Buffer.byteLength(raw) + 1 };
    }
  } finally {
    rl.close();
  }
}

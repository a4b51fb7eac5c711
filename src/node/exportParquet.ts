import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { parse as parseLossless } from 'lossless-json';
import { type Column, type ValueType, BOOL, STRING, TypeConflict, mergeTypes, parquetSchemaOf, parquetValue, parseJsonNumber, typeOfJson } from '../core/dataset/columns';
import { type LabelState, classify, labelState } from '../core/dataset/formats';
import { LABEL_FIELD } from '../core/dataset/provenance';
import { outputTarget } from './importTables';

/**
 * `rpo export` and "RPO: Export Dataset as Parquet…": a preference JSONL file to Parquet in TRL's
 * column layout (prompt / chosen / rejected, or prompt / completion / label), every extra field as
 * a column, `rpo_label` as one struct column. Two passes over the file: the first finds each
 * column's type (ints stay int64, numbers written with a decimal point are double, message lists
 * are list<struct>), the second writes row groups of at most ROWS_PER_GROUP records.
 */
export const EXPORT_STATES_DEFAULT: LabelState[] = ['labeled', 'unreviewed'];
export const EXPORT_STATES: LabelState[] = ['labeled', 'unreviewed', 'needs-label', 'tie', 'skip', 'both_bad', 'excluded', 'disputed'];

const ROWS_PER_GROUP = 10_000;

/** `rpo_label`'s one struct type (docs/formats.md), whatever keys the records use. */
const LABEL_TYPE: ValueType = {
  kind: 'struct',
  fields: [
    { name: 'annotator', type: STRING },
    { name: 'time', type: STRING },
    { name: 'status', type: STRING },
    { name: 'strength', type: STRING },
    { name: 'note', type: STRING },
    { name: 'shown', type: { kind: 'list', item: STRING } },
    { name: 'flipped', type: BOOL },
    { name: 'original_label', type: BOOL },
    { name: 'from_responses', type: { kind: 'list', item: { kind: 'int' } } },
  ],
};

export interface ExportOptions {
  /** Label states to export (default: labeled and unreviewed, i.e. records carrying a preference). */
  states?: LabelState[];
  signal?: AbortSignal;
  /** Called with (pass 1 or 2, fraction of the file read). */
  onProgress?(pass: 1 | 2, fraction: number): void;
}

export interface ExportReport {
  input: string;
  output: string;
  /** Non-blank lines. */
  records: number;
  written: number;
  /** Records left out by state. */
  leftOut: Partial<Record<LabelState, number>>;
  columns: { name: string; type: string }[];
}

export class ExportError extends Error {}

export class ExportCancelled extends Error {
  constructor() {
    super('export cancelled: the output was not written');
  }
}

/** Each non-blank line parsed (numbers keep int / float / big int), with its state. */
async function* records(path: string, onFraction: (f: number) => void, signal?: AbortSignal): AsyncGenerator<{ line: number; object: Record<string, unknown>; state: LabelState }> {
  const size = (await fs.promises.stat(path)).size || 1;
  const rl = readline.createInterface({ input: fs.createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let line = 0;
  let bytes = 0;
  try {
    for await (const raw of rl) {
      line++;
      bytes += Buffer.byteLength(raw) + 1;
      if (line % 1000 === 0) {
        if (signal?.aborted) throw new ExportCancelled();
        onFraction(Math.min(1, bytes / size));
      }
      const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (!text.trim()) continue;
      let object: unknown;
      try {
        object = parseLossless(text, null, parseJsonNumber);
      } catch (err) {
        throw new ExportError(`${path}:${line}: not valid JSON (${(err as Error).message}); fix it (rpo validate lists such lines) before exporting`);
      }
      if (typeof object !== 'object' || object === null || Array.isArray(object)) throw new ExportError(`${path}:${line}: not a JSON object`);
      const rec = classify(object as Record<string, unknown>);
      if (rec.kind === 'invalid') throw new ExportError(`${path}:${line}: ${rec.reason}; fix it (rpo validate lists such lines) before exporting`);
      yield { line, object: object as Record<string, unknown>, state: labelState(rec) };
    }
  } finally {
    rl.close();
  }
}

export async function exportParquet(input: string, output: string, options: ExportOptions = {}): Promise<ExportReport> {
  const target = await outputTarget(output, [input]);
  const states = new Set(options.states ?? EXPORT_STATES_DEFAULT);
  const report: ExportReport = { input, output, records: 0, written: 0, leftOut: {}, columns: [] };

  // Pass 1: columns in first-seen order (rpo_label last) and their types.
  const types = new Map<string, ValueType>();
  let hasLabel = false;
  for await (const { line, object, state } of records(input, (f) => options.onProgress?.(1, f), options.signal)) {
    report.records++;
    if (!states.has(state)) {
      report.leftOut[state] = (report.leftOut[state] ?? 0) + 1;
      continue;
    }
    report.written++;
    for (const key of Object.keys(object)) {
      if (key === LABEL_FIELD) {
        hasLabel = true;
        continue;
      }
      try {
        const t = typeOfJson(object[key], key);
        const was = types.get(key);
        types.set(key, was ? mergeTypes(was, t, key) : t);
      } catch (err) {
        if (err instanceof TypeConflict) throw new ExportError(`${input}:${line}: ${err.message}`);
        throw err;
      }
    }
  }
  // `rpo import` keeps a source column whose name the record shape uses as `source_<name>`
  // (UltraFeedback's string `prompt` next to conversational chosen/rejected): give it its name
  // back when no record field has it.
  const outName = (name: string) => {
    const m = /^source_(prompt|chosen|rejected|completion|label|responses)$/.exec(name);
    return m && !types.has(m[1]!) ? m[1]! : name;
  };
  const columns: (Column & { key: string })[] = [...types].map(([key, type]) => ({ key, name: outName(key), type }));
  if (hasLabel) columns.push({ key: LABEL_FIELD, name: LABEL_FIELD, type: LABEL_TYPE });
  if (!columns.length) throw new ExportError(`${input}: no records to export (${report.records} records, none in the states ${[...states].join(', ')})`);
  report.columns = columns.map((c) => ({ name: c.name, type: describeForReport(c.type) }));

  // Pass 2: row groups.
  const { ParquetWriter, fileWriter } = await import('hyparquet-writer');
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.rpo-export.tmp`);
  const schema = parquetSchemaOf(columns);
  try {
    const writer = new ParquetWriter({ writer: fileWriter(tmp), schema, createdBy: 'RPO Studio (hyparquet-writer)' });
    let data: unknown[][] = columns.map(() => []);
    let rows = 0;
    const flush = () => {
      if (!rows) return;
      void writer.write({ columnData: columns.map((c, j) => ({ name: c.name, data: data[j]! as never })), rowGroupSize: rows });
      data = columns.map(() => []);
      rows = 0;
    };
    for await (const { object, state } of records(input, (f) => options.onProgress?.(2, f), options.signal)) {
      if (!states.has(state)) continue;
      columns.forEach((c, j) => data[j]!.push(parquetValue(object[c.key], c.type)));
      if (++rows >= ROWS_PER_GROUP) flush();
    }
    flush();
    writer.finish();
    const fd = await fs.promises.open(tmp, 'r+');
    await fd.sync();
    await fd.close();
    await fs.promises.rename(tmp, target);
  } catch (err) {
    await fs.promises.unlink(tmp).catch(() => undefined);
    throw err;
  }
  return report;
}

function describeForReport(t: ValueType): string {
  switch (t.kind) {
    case 'int':
      return 'int64';
    case 'float':
      return 'double';
    case 'list':
      return `list<${describeForReport(t.item)}>`;
    case 'struct':
      return `struct<${t.fields.map((f) => `${f.name}: ${describeForReport(f.type)}`).join(', ')}>`;
    case 'null':
    case 'json':
      return 'string';
    default:
      return t.kind === 'unsupported' ? t.what : t.kind;
  }
}

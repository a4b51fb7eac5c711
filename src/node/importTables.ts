import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { type CompiledMapping, type FieldMap, type MappingProposal, compileMapping, proposeMapping, recordLine } from '../core/dataset/fieldMap';
import type { Column } from '../core/dataset/columns';
import { realTarget, sameFile } from '../core/dataset/diskFile';
import { type TableSource, openTable } from './tables';

/**
 * `rpo import` and "RPO: Import Dataset…": tabular files (Parquet, Arrow, JSON, JSON Lines; several
 * shards into one) to a preference JSONL file through a field mapping. Reads a batch (a Parquet row
 * group, an Arrow record batch) at a time, writes to a temporary file next to the output and
 * renames it into place when everything was read; the output is never one of the inputs.
 */
export interface ImportProgress {
  file: string;
  /** 0-based index of the file being read. */
  fileIndex: number;
  files: number;
  /** Rows read so far, all files. */
  rows: number;
  /** How far through the current file (0..1), or null when unknown. */
  fraction: number | null;
}

export interface ImportOptions {
  /** The mapping; default: the one proposed for the first file's columns. */
  map?: FieldMap;
  drop?: string[];
  signal?: AbortSignal;
  onProgress?(p: ImportProgress): void;
}

export interface ImportProblem {
  file: string;
  /** 1-based row in the file (JSON Lines: the line number). */
  row: number;
  column: string | null;
  reason: string;
}

export interface ImportReport {
  inputs: { path: string; format: string; rows: number; written: number }[];
  output: string;
  map: FieldMap;
  /** Extra columns kept (record key), from the first file. */
  kept: string[];
  notes: string[];
  rows: number;
  written: number;
  /** The first 1000 problems; `problemCount` counts all. Rows with a problem are not written. */
  problems: ImportProblem[];
  problemCount: number;
}

export class ImportCancelled extends Error {
  constructor() {
    super('import cancelled: the output was not written');
  }
}

const MAX_PROBLEMS = 1000;

/**
 * Refuses an output that is one of the inputs (same file on disk by any path, link or hard link;
 * or the same path for an output that does not exist yet) and returns the file to replace: the
 * target of a symbolic link (diskFile.realTarget), so the link stays and its target gets the data.
 */
export async function outputTarget(output: string, inputs: string[]): Promise<string> {
  const target = await realTarget(resolve(output));
  for (const input of inputs) {
    if ((await sameFile(input, output)) || (await realTarget(resolve(input))) === target) {
      throw new SameInputError(`the output ${output} is the input ${input}: choose another output file (the input is never overwritten)`);
    }
  }
  return target;
}

export class SameInputError extends Error {}

/** The columns of the first file and the mapping proposed for them. */
export async function inspectTable(path: string): Promise<{ columns: Column[]; format: string; rowCount: number | null; proposal: MappingProposal }> {
  const table = await openTable(path);
  try {
    return { columns: table.columns, format: table.format, rowCount: table.rowCount, proposal: proposeMapping(table.columns) };
  } finally {
    await table.close();
  }
}

function compile(table: TableSource, map: FieldMap, drop: string[] | undefined): CompiledMapping {
  return compileMapping(map, table.columns, { drop, where: table.path, openColumns: table.format === 'json' || table.format === 'jsonl' });
}

/** The first `limit` records as they will be written (JSONL lines), and problems among them. */
export async function previewImport(path: string, map: FieldMap, options: { drop?: string[]; limit?: number } = {}): Promise<{ lines: string[]; problems: ImportProblem[] }> {
  const limit = options.limit ?? 5;
  const table = await openTable(path);
  try {
    const mapping = compile(table, map, options.drop);
    const lines: string[] = [];
    const problems: ImportProblem[] = [];
    for await (const batch of table.batches()) {
      for (let i = 0; i < batch.rows.length && lines.length < limit; i++) {
        const r = mapping.apply(batch.rows[i]!);
        if ('problem' in r) problems.push({ file: path, row: batch.lines?.[i] ?? batch.rowStart + i + 1, ...r.problem });
        else lines.push(recordLine(mapping, r.object));
      }
      if (lines.length >= limit) break;
    }
    return { lines, problems };
  } finally {
    await table.close();
  }
}

export async function importTables(inputs: string[], output: string, options: ImportOptions = {}): Promise<ImportReport> {
  if (!inputs.length) throw new Error('no input files');
  const target = await outputTarget(output, inputs);
  const tables: TableSource[] = [];
  try {
    for (const input of inputs) tables.push(await openTable(input));
    const proposal = proposeMapping(tables[0]!.columns);
    const map = options.map ?? proposal.map;
    const mappings = tables.map((t) => compile(t, map, options.drop));
    const report: ImportReport = {
      inputs: [],
      output,
      map,
      kept: mappings[0]!.kept.map((k) => k.key),
      notes: options.map ? [] : proposal.notes,
      rows: 0,
      written: 0,
      problems: [],
      problemCount: 0,
    };
    const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.rpo-import.tmp`);
    const handle = await fs.promises.open(tmp, 'wx');
    try {
      for (let f = 0; f < tables.length; f++) {
        const table = tables[f]!;
        const mapping = mappings[f]!;
        const entry = { path: table.path, format: table.format, rows: 0, written: 0 };
        report.inputs.push(entry);
        options.onProgress?.({ file: table.path, fileIndex: f, files: tables.length, rows: report.rows, fraction: 0 });
        for await (const batch of table.batches()) {
          if (options.signal?.aborted) throw new ImportCancelled();
          const out: string[] = [];
          for (let i = 0; i < batch.rows.length; i++) {
            const r = mapping.apply(batch.rows[i]!);
            if ('problem' in r) {
              report.problemCount++;
              if (report.problems.length < MAX_PROBLEMS) report.problems.push({ file: table.path, row: batch.lines?.[i] ?? batch.rowStart + i + 1, ...r.problem });
              continue;
            }
            out.push(recordLine(mapping, r.object));
          }
          if (out.length) await handle.write(out.join('\n') + '\n');
          entry.rows += batch.rows.length;
          entry.written += out.length;
          report.rows += batch.rows.length;
          report.written += out.length;
          options.onProgress?.({ file: table.path, fileIndex: f, files: tables.length, rows: report.rows, fraction: batch.fraction });
        }
      }
      if (options.signal?.aborted) throw new ImportCancelled();
      await handle.sync();
      await handle.close();
      await fs.promises.rename(tmp, target);
    } catch (err) {
      await handle.close().catch(() => undefined);
      await fs.promises.unlink(tmp).catch(() => undefined);
      throw err;
    }
    return report;
  } finally {
    for (const t of tables) await t.close();
  }
}

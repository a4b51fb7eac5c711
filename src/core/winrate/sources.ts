/**
 * The candidates file's sidecar `<name>.pref.jsonl.sources.jsonl` (docs/formats.md, "Candidates
 * from a run"): which model wrote which response, kept out of the records so that labeling is
 * blind. Pure: parses text, never reads files.
 *
 *   {"format": "rpo-candidates-sources", "version": 1, "models": {"A": {...}, "B": {...}}, "prompts": {...}, "settings": {...}}
 *   {"line": n, "key": "<pair key, hex>", "sources": ["A", "B"]}   (sources[k] wrote responses[k])
 */

export const SOURCES_FORMAT = 'rpo-candidates-sources';
export const SOURCES_SUFFIX = '.sources.jsonl';

/** A refusal: the win rate cannot be computed without guessing. The message names file, line and field. */
export class WinrateError extends Error {}

export interface SourcesHeader {
  format: typeof SOURCES_FORMAT;
  version: 1;
  models: Record<string, Record<string, unknown>>;
  prompts?: unknown;
  settings?: unknown;
  [key: string]: unknown;
}

export interface SourcesEntry {
  /** The record's line as the sidecar gives it (a hint; records are matched by key). */
  line: number;
  key: string;
  sources: [string, string];
  /** 1-based line in the sidecar. */
  sidecarLine: number;
}

export interface Sources {
  header: SourcesHeader;
  entries: SourcesEntry[];
}

/** The sidecar path of a candidates file. */
export function sourcesPathOf(candidatesPath: string): string {
  return candidatesPath + SOURCES_SUFFIX;
}

/** Parses a sidecar's text; throws WinrateError naming `file`, the line and the field. */
export function parseSources(text: string, file: string): Sources {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  // A last line without its newline is one being written (or torn by a stop): ignored unless whole.
  const last = lines.length - 1;
  if (lines[last] !== '') {
    try {
      JSON.parse(lines[last]!);
    } catch {
      lines[last] = '';
    }
  }
  const at = (i: number) => `${file}: line ${i + 1}`;
  let i = 0;
  while (i < lines.length && !lines[i]!.trim()) i++;
  if (i >= lines.length) throw new WinrateError(`${file}: empty: expected a header line {"format": "${SOURCES_FORMAT}", ...}`);
  const header = parseObject(lines[i]!, at(i));
  if (header.format !== SOURCES_FORMAT) throw new WinrateError(`${at(i)}: field "format" must be "${SOURCES_FORMAT}", found ${JSON.stringify(header.format)}`);
  if (header.version !== 1) throw new WinrateError(`${at(i)}: field "version": this version of RPO Studio reads version 1, found ${JSON.stringify(header.version)}`);
  const models = header.models;
  if (!models || typeof models !== 'object' || Array.isArray(models)) throw new WinrateError(`${at(i)}: field "models" must be an object naming the two models, e.g. {"A": {...}, "B": {...}}`);
  const ids = Object.keys(models);
  if (ids.length !== 2) throw new WinrateError(`${at(i)}: field "models" must name exactly two models, found ${ids.length}`);
  for (const id of ids) {
    const m = (models as Record<string, unknown>)[id];
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw new WinrateError(`${at(i)}: field "models.${id}" must be an object`);
  }
  const entries: SourcesEntry[] = [];
  for (i = i + 1; i < lines.length; i++) {
    if (!lines[i]!.trim()) continue;
    const o = parseObject(lines[i]!, at(i));
    if (!Number.isSafeInteger(o.line) || (o.line as number) < 0) throw new WinrateError(`${at(i)}: field "line" must be a whole number, found ${JSON.stringify(o.line)}`);
    if (typeof o.key !== 'string' || !/^[0-9a-f]{64}$/.test(o.key)) throw new WinrateError(`${at(i)}: field "key" must be a pair key (64 lowercase hex digits), found ${JSON.stringify(o.key)}`);
    const s = o.sources;
    if (!Array.isArray(s) || s.length !== 2 || s.some((x) => typeof x !== 'string' || !ids.includes(x)) || s[0] === s[1]) {
      throw new WinrateError(`${at(i)}: field "sources" must list the two models of "models" (${ids.map((x) => JSON.stringify(x)).join(', ')}) once each, found ${JSON.stringify(s)}`);
    }
    entries.push({ line: o.line as number, key: o.key, sources: [s[0] as string, s[1] as string], sidecarLine: i + 1 });
  }
  return { header: header as SourcesHeader, entries };
}

function parseObject(text: string, where: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new WinrateError(`${where}: not valid JSON: ${(e as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new WinrateError(`${where}: each line must be a JSON object`);
  return v as Record<string, unknown>;
}

/** A short human name of a model from its header entry (docs/formats.md: kind run / reference / dataset). */
export function modelName(id: string, entry: Record<string, unknown> | undefined): string {
  const str = (k: string) => (typeof entry?.[k] === 'string' && entry[k] ? (entry[k] as string) : null);
  const base = (p: string) => p.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || p;
  const kind = str('kind');
  if (kind === 'run' && str('run_dir')) return `${id} (run ${base(str('run_dir')!)}, ${str('checkpoint') ? base(str('checkpoint')!) : 'final'})`;
  if (kind === 'reference' && str('model')) return `${id} (reference model ${str('model')})`;
  if (kind === 'dataset') return `${id} (the dataset's chosen responses)`;
  for (const k of ['name', 'label', 'model', 'path']) if (str(k)) return `${id} (${str(k)})`;
  return id;
}

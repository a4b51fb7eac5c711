import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import { type Node as JsonNode, type ParseError, findNodeAtLocation, parseTree, printParseErrorCode } from 'jsonc-parser';
import methodsTable from '../../../trainer/rpo_trainer/schemas/methods.json';
import runConfigSchema from '../../../trainer/rpo_trainer/schemas/run-config.schema.json';
import type { ContrastSettings } from '../contrast/preview';
import type { EmbeddingsDefaultedKey, LoraDefaultedKey, RunConfigDefaultedKey, RunConfigFile } from './runConfig.generated';

/**
 * The run config (`*.rpo.json`): the one place that reads it, validates it against
 * trainer/rpo_trainer/schemas/run-config.schema.json (the schema the trainer and VS Code's
 * IntelliSense use), fills in the schema's defaults, and derives what callers need: resolved
 * paths (docs/contracts.md §6, pinned by test/golden/config-paths.json on both sides), the
 * preview's contrast settings and the launcher's plan. Types come from the schema
 * (runConfig.generated.ts, scripts/gen-run-config-types.mjs). No vscode; reads files only.
 */

export type { RunConfigFile } from './runConfig.generated';

type WithDefaults<T, K extends keyof T> = Omit<T, K> & Required<Pick<T, K>>;
type EmbeddingsFile = NonNullable<RunConfigFile['embeddings']>;
type LoraFile = NonNullable<RunConfigFile['lora']>;

/** A validated run config with every key the schema defaults filled in. */
export type RunConfig = WithDefaults<Omit<RunConfigFile, 'embeddings' | 'lora'>, Exclude<RunConfigDefaultedKey, 'embeddings' | 'lora'>> & {
  embeddings: WithDefaults<EmbeddingsFile, EmbeddingsDefaultedKey>;
  lora: WithDefaults<LoraFile, LoraDefaultedKey>;
};

export type RunMethod = NonNullable<RunConfigFile['method']>;

/** One row of the method table (trainer/rpo_trainer/schemas/methods.json, read by the trainer too). */
export interface MethodInfo {
  /** Which records train: chosen/rejected pairs, or completion/label items (docs/contracts.md §4). */
  data: 'paired' | 'unpaired';
  /** The loss weights pairs by prompt similarity, so the run reads the embedding cache. */
  embeddings: boolean;
}

export const METHODS: Readonly<Record<RunMethod, MethodInfo>> = methodsTable.methods as Record<RunMethod, MethodInfo>;
export const METHOD_NAMES = Object.keys(METHODS) as RunMethod[];

export function isRunMethod(name: unknown): name is RunMethod {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(METHODS, name);
}

/** Whether a run reads prompt embeddings: its method weights by similarity, or it batches by similarity. */
export function usesEmbeddings(config: Pick<RunConfig, 'method' | 'similarity_batching'>): boolean {
  return METHODS[config.method].embeddings || config.similarity_batching;
}

/** A problem with a run config, naming the file, the line when known, and the key. */
export class RunConfigError extends Error {
  constructor(
    readonly source: string,
    readonly detail: string,
    readonly field?: string,
    readonly line?: number,
  ) {
    super(`${source}${line ? `:${line}` : ''}: ${field ? `${field}: ` : ''}${detail}`);
  }
}

let validator: ValidateFunction | undefined;

function compiled(): ValidateFunction {
  // strict: false for the schema's `enumDescriptions` (VS Code's keyword); useDefaults fills in defaults.
  validator ??= new Ajv2020({ allErrors: true, strict: false, useDefaults: true, verbose: true }).compile(runConfigSchema);
  return validator;
}

/** Parses and validates the text of a run config; `source` names it in errors. */
export function parseRunConfig(text: string, source: string): RunConfig {
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (errors.length || !tree) {
    const e = errors[0];
    throw new RunConfigError(source, `not valid JSON (${e ? printParseErrorCode(e.error) : 'empty'}${e ? ` at column ${columnAt(text, e.offset)}` : ''})`, undefined, e ? lineAt(text, e.offset) : undefined);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new RunConfigError(source, `not valid JSON (${(err as Error).message})`);
  }
  return validateRunConfig(data, source, { tree, text });
}

/** Reads, parses and validates a run config file (a `*.rpo.json`, or a run folder's resolved `config.json`). */
export function readRunConfig(file: string): RunConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RunConfigError(file, code === 'ENOENT' ? 'no such file' : `cannot read the run config (${code ?? (err as Error).message})`);
  }
  return parseRunConfig(text, file);
}

/**
 * Validates a parsed run config against the schema and the rules the schema cannot express (as
 * the trainer does); returns a copy with the schema's defaults filled in. The first problem in
 * file order is reported, with how many more there are.
 */
export function validateRunConfig(data: unknown, source: string, located?: { tree: JsonNode; text: string }): RunConfig {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new RunConfigError(source, 'the run config must be a JSON object', undefined, located ? 1 : undefined);
  const copy = structuredClone(data) as Record<string, unknown>;
  // Ajv fills defaults only inside objects that exist.
  copy.embeddings ??= {};
  copy.lora ??= {};
  const validate = compiled();
  if (!validate(copy)) {
    const problems = explained(validate.errors ?? []).map((e) => describe(e, located));
    if (!problems.length) problems.push({ field: undefined, message: 'not valid against the run-config schema', offset: 0 });
    problems.sort((a, b) => a.offset - b.offset);
    const first = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    throw new RunConfigError(source, first.message + more, first.field, located ? lineAt(located.text, first.offset) : undefined);
  }
  const config = copy as unknown as RunConfig;
  const at = (field: string) => (located ? lineAt(located.text, findNodeAtLocation(located.tree, [field])?.offset ?? 0) : undefined);
  if (config.max_prompt_length >= config.max_length) {
    throw new RunConfigError(source, `must be less than max_length (${config.max_length}), got ${config.max_prompt_length}: leave room for the response`, 'max_prompt_length', at('max_prompt_length'));
  }
  if (config.eval_dataset && config.eval_split) throw new RunConfigError(source, 'eval_dataset and eval_split are both set; use one of them', 'eval_split', at('eval_split'));
  return config;
}

interface Problem {
  field: string | undefined;
  message: string;
  offset: number;
}

/** A oneOf/anyOf failure stands for its branches' errors: one problem saying what each branch wanted. */
function explained(errors: ErrorObject[]): ErrorObject[] {
  const unions = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  const inUnion = (e: ErrorObject, u: ErrorObject) => e !== u && e.instancePath.startsWith(u.instancePath) && e.schemaPath.startsWith(`${u.schemaPath}/`);
  return errors
    .filter((e) => !unions.some((u) => inUnion(e, u)))
    .map((e) => (unions.includes(e) ? { ...e, message: errors.filter((b) => inUnion(b, e)).map((b) => b.message).join(', or ') || e.message } : e));
}

function describe(e: ErrorObject, located: { tree: JsonNode; text: string } | undefined): Problem {
  const segments = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  let message = e.message ?? e.keyword;
  if (e.keyword === 'additionalProperties') {
    const key = (e.params as { additionalProperty: string }).additionalProperty;
    segments.push(key);
    const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {}).sort();
    message = `unknown key (allowed: ${allowed.join(', ')})`;
  } else if (e.keyword === 'required') {
    message = `missing required key "${(e.params as { missingProperty: string }).missingProperty}"`;
  } else if (e.keyword === 'enum') {
    message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(e.data)}`;
  } else if (e.data !== undefined && typeof e.data !== 'object') {
    message += `, got ${JSON.stringify(e.data)}`;
  }
  const node = located ? findNodeAtLocation(located.tree, segments) : undefined;
  // A key's node is its value; an unknown key is reported at its name (the property node's first child).
  const offset = node ? (e.keyword === 'additionalProperties' ? node.parent?.offset ?? node.offset : node.offset) : 0;
  return { field: segments.length ? segments.join('.') : undefined, message, offset };
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function columnAt(text: string, offset: number): number {
  return offset - text.lastIndexOf('\n', offset - 1);
}

// ---------------------------------------------------------------- paths (docs/contracts.md §6)

/** A model or tokenizer: a local folder (absolute path) or a Hugging Face Hub id. */
export type ModelRef = { kind: 'folder'; path: string } | { kind: 'hub'; id: string };

/** What path resolution asks of the machine; tests pass their own. */
export interface PathHost {
  exists(p: string): boolean;
  home(): string;
  path: path.PlatformPath;
}

export const NODE_PATH_HOST: PathHost = { exists: (p) => fs.existsSync(p), home: () => os.homedir(), path };

function expandHome(value: string, host: PathHost): string {
  return value === '~' || value.startsWith('~/') || value.startsWith('~\\') ? host.path.join(host.home(), value.slice(1)) : value;
}

/** A path key of the run config: `~/` is the home folder, a relative path is relative to the config's folder. */
export function resolveConfigPath(value: string, configDir: string, host: PathHost = NODE_PATH_HOST): string {
  return host.path.resolve(configDir, expandHome(value, host));
}

/**
 * A model, tokenizer or embedding model value is a local folder when it is an absolute path,
 * starts with `.`, `/` or `~`, or names a file or folder that exists relative to the config's
 * folder (`baseDir`); anything else is a Hugging Face Hub id. The trainer
 * (rpo_trainer/config.py) implements the same rule; test/golden/config-paths.json pins both.
 */
export function modelLocation(value: string, baseDir: string, host: PathHost = NODE_PATH_HOST): ModelRef {
  const full = resolveConfigPath(value, baseDir, host);
  if (host.path.isAbsolute(value) || /^[./~]/.test(value) || host.exists(full)) return { kind: 'folder', path: full };
  return { kind: 'hub', id: value };
}

export interface RunConfigPaths {
  dataset: string;
  evalDataset?: string;
  outputDir: string;
  accelerateConfig?: string;
  model: ModelRef;
  tokenizer?: ModelRef;
  embeddingsModel: ModelRef;
  embeddingsCacheDir: string;
}

/** Every path of a run config, resolved against its folder (a run folder's config.json has them absolute already). */
export function resolvedPaths(config: RunConfig, configDir: string, host: PathHost = NODE_PATH_HOST): RunConfigPaths {
  const p = (v: string) => resolveConfigPath(v, configDir, host);
  return {
    dataset: p(config.dataset),
    ...(config.eval_dataset ? { evalDataset: p(config.eval_dataset) } : {}),
    outputDir: p(config.output_dir),
    ...(config.accelerate_config ? { accelerateConfig: p(config.accelerate_config) } : {}),
    model: modelLocation(config.model, configDir, host),
    ...(config.tokenizer ? { tokenizer: modelLocation(config.tokenizer, configDir, host) } : {}),
    embeddingsModel: modelLocation(config.embeddings.model, configDir, host),
    embeddingsCacheDir: p(config.embeddings.cache_dir),
  };
}

// ---------------------------------------------------------------- derived views

/** The contrast the trainer forms (method, temperature, batch shape, sampler), for the preview and `rpo weights`. */
export function contrastSettingsOf(config: RunConfig): ContrastSettings {
  return {
    mode: METHODS[config.method].data,
    tau: config.tau,
    beta: config.beta,
    batchSize: config.batch_size,
    numProcesses: config.num_processes,
    globalContrast: config.global_contrast,
    similarityBatching: config.similarity_batching,
    seed: config.seed,
    epoch: 0,
    evalSplit: config.eval_dataset ? 0 : config.eval_split,
    minAgreement: config.min_agreement,
    votes: config.votes,
  };
}

/** What the launcher needs to start a run of this config. */
export interface LaunchPlan {
  name: string;
  numProcesses: number;
  /** Absolute accelerate config file, when the config names one. */
  accelerateConfig?: string;
  /** The folder holding the run folders (where the launch folder goes too). */
  outputDir: string;
}

export function launchPlanOf(config: RunConfig, configDir: string, host: PathHost = NODE_PATH_HOST): LaunchPlan {
  return {
    name: config.name,
    numProcesses: config.num_processes,
    ...(config.accelerate_config ? { accelerateConfig: resolveConfigPath(config.accelerate_config, configDir, host) } : {}),
    outputDir: resolveConfigPath(config.output_dir, configDir, host),
  };
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stderrLogger } from '../core/log';
import { type ContrastSettings, DEFAULT_SETTINGS, batchView, matrixNumbers, neighbourHistogram, planFor, trainCount } from '../core/contrast/preview';
import { toRows } from '../core/contrast/weights';
import { type ModelRef, RunConfigError, contrastSettingsOf, readRunConfig, resolvedPaths } from '../core/run/config';
import { type Precision, cacheFileName } from '../embeddings/cache';
import { joinContrastData } from '../embeddings/contrastData';
import { readDatasetPrompts } from '../embeddings/datasetPrompts';
import { embedPrompts } from '../embeddings/embedPrompts';
import { Embedder } from '../embeddings/embedder';
import { DEFAULT_MAX_TOKENS, DEFAULT_MODEL, DEFAULT_PRECISION, ModelError, modelSourceOf, resolveModel } from '../embeddings/modelSource';
import { CliError, type CliCommand } from './types';

/** `rpo weights FILE`: the RPO contrast matrix of one minibatch, as the trainer will form it. */
export const weightsCommand: CliCommand = {
  name: 'weights',
  summary: 'print the RPO contrast weights of a minibatch and the numbers that decide whether RPO helps',
  help: [
    'Usage: rpo weights FILE [--tau T] [--batch-size M] [--seed S] [--config RUN.json] [options]',
    '',
    'Forms minibatch K of epoch E exactly as the trainer does (same sampler and seed, docs/contracts.md',
    '§5) over the usable records of FILE and prints its prompt-cosine and softmax weight matrices,',
    'the effective beta of the same-prompt pairs (beta * w_ii), the share of weight off the diagonal',
    'and a histogram of each prompt\'s nearest-neighbour cosine in the dataset. Prompts missing from',
    'the embedding cache are embedded first (like rpo embed).',
    '',
    'Options (a run config supplies defaults; flags override it):',
    '  --config RUN.json    read method, tau, beta, batch_size, num_processes, global_contrast,',
    '                       similarity_batching, seed, eval_split and embeddings from a run config',
    `  --tau T              softmax temperature (default ${DEFAULT_SETTINGS.tau})`,
    `  --beta B             loss beta (default ${DEFAULT_SETTINGS.beta})`,
    `  --batch-size M       per-device batch size (default ${DEFAULT_SETTINGS.batchSize})`,
    '  --num-processes P    devices (default 1); --global-contrast: the matrix spans all P*M',
    '  --similarity         similarity-aware batching',
    `  --seed S             sampler seed (default ${DEFAULT_SETTINGS.seed}); --epoch E (default 0); --batch K (default 0)`,
    '  --unpaired           rpo-unpaired: chosen x rejected matrix',
    `  --model ID|PATH, --precision q8|fp32, --cache DIR   as in rpo embed (default ${DEFAULT_MODEL}, ${DEFAULT_PRECISION})`,
    '  --json               print one JSON object',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true, strict: true,
      options: {
        config: { type: 'string' }, tau: { type: 'string' }, beta: { type: 'string' }, 'batch-size': { type: 'string' },
        'num-processes': { type: 'string' }, 'global-contrast': { type: 'boolean' }, similarity: { type: 'boolean' },
        seed: { type: 'string' }, epoch: { type: 'string' }, batch: { type: 'string' }, unpaired: { type: 'boolean' },
        model: { type: 'string' }, precision: { type: 'string' }, cache: { type: 'string' }, json: { type: 'boolean', default: false },
      },
    });
    let s: ContrastSettings = { ...DEFAULT_SETTINGS };
    let model: ModelRef | string = DEFAULT_MODEL;
    let precision: string = DEFAULT_PRECISION;
    let cacheDir = path.join('.rpo', 'embeddings');
    let file = positionals[0];
    if (values.config) {
      let config;
      try {
        config = readRunConfig(values.config);
      } catch (err) {
        if (err instanceof RunConfigError) throw new CliError(err.message);
        throw err;
      }
      const paths = resolvedPaths(config, path.dirname(path.resolve(values.config)));
      s = contrastSettingsOf(config);
      model = paths.embeddingsModel;
      precision = config.embeddings.precision;
      cacheDir = paths.embeddingsCacheDir;
      file ??= paths.dataset;
    }
    const int = (name: string, v: string | undefined, min: number): number | undefined => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < min) throw new CliError(`--${name} must be an integer >= ${min}, got '${v}'`);
      return n;
    };
    const pos = (name: string, v: string | undefined): number | undefined => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!(n > 0) || !Number.isFinite(n)) throw new CliError(`--${name} must be a number > 0, got '${v}'`);
      return n;
    };
    s.tau = pos('tau', values.tau) ?? s.tau;
    s.beta = pos('beta', values.beta) ?? s.beta;
    s.batchSize = int('batch-size', values['batch-size'], 1) ?? s.batchSize;
    s.numProcesses = int('num-processes', values['num-processes'], 1) ?? s.numProcesses;
    s.seed = int('seed', values.seed, 0) ?? s.seed;
    s.epoch = int('epoch', values.epoch, 0) ?? s.epoch;
    if (values['global-contrast']) s.globalContrast = true;
    if (values.similarity) s.similarityBatching = true;
    if (values.unpaired) s.mode = 'unpaired';
    const k = int('batch', values.batch, 0) ?? 0;
    model = values.model ?? model;
    precision = values.precision ?? precision;
    cacheDir = values.cache ?? cacheDir;
    if (precision !== 'q8' && precision !== 'fp32') throw new CliError(`--precision must be q8 or fp32, got '${precision}'`);
    if (!file || positionals.length > 1) throw new CliError(`expected one FILE (or a --config with a dataset)\n\n${this.help}`);
    if (!fs.existsSync(file)) throw new CliError(`cannot read ${file}: ENOENT`);

    let source;
    try {
      const hubCache = path.join(process.env.RPO_CACHE_DIR || path.join(os.homedir(), '.cache', 'rpo-studio'), 'hub');
      source = typeof model === 'string' ? resolveModel(model, hubCache) : modelSourceOf(model, hubCache);
    } catch (err) {
      if (err instanceof ModelError) throw new CliError(err.message, 1);
      throw err;
    }
    const data = await readDatasetPrompts(file);
    let embedded;
    try {
      embedded = await embedPrompts({
        texts: data.prompts.map((p) => p.text),
        cacheFile: cacheFileName(cacheDir, source.name, precision as Precision),
        identity: { model: source.name, precision: precision as Precision, maxTokens: DEFAULT_MAX_TOKENS },
        log: stderrLogger('info'),
        startEmbedder: (signal) => {
          process.stderr.write(`embedding prompts missing from the cache with ${source.name} (${precision})...\n`);
          return Embedder.start({ model: source, precision: precision as Precision, maxTokens: DEFAULT_MAX_TOKENS, localModelHint: '`--model PATH`' }, signal);
        },
      });
    } catch (err) {
      throw new CliError((err as Error).message, 1);
    }
    const cd = joinContrastData(data, embedded.vectors, embedded.dim, s.mode, { minAgreement: s.minAgreement, votes: s.votes });
    const n = trainCount(cd.usable.length, s.evalSplit);
    const plan = planFor(n, cd.itemVectors, cd.dim, s);
    const view = batchView(plan, k, cd.itemVectors, cd.dim, s, cd.labels);
    const nums = matrixNumbers(view.cosine, s.tau, s.beta, s.mode === 'paired');
    const hist = neighbourHistogram(cd.distinctVectors, cd.dim);
    const g = s.batchSize * s.numProcesses;
    const lineOf = (i: number) => cd.usable[i]!.line + 1;
    const warnings: string[] = [];
    if (!n) warnings.push(`no usable ${s.mode} records in ${file}`);
    else if (plan.shortEpoch) warnings.push(`only ${n} training records, fewer than the global batch ${g}: the trainer makes one batch of all of them`);
    if (s.mode === 'unpaired' && n && (!view.rows.length || !view.cols.length)) warnings.push(`batch ${view.batchIndex} has no ${view.rows.length ? 'rejected' : 'chosen'} item: it contributes no loss`);
    const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

    if (values.json) {
      process.stdout.write(JSON.stringify({
        file, settings: s, usable: cd.usable.length, train: n, global_batch: g, batch: view.batchIndex, batches: view.batchCount,
        short_epoch: view.shortEpoch, row_lines: view.rows.map(lineOf), col_lines: view.cols.map(lineOf),
        cosine: toRows(view.cosine), weights: toRows(nums.weights),
        effective_beta: nums.effectiveBeta, mean_effective_beta: Number.isNaN(nums.meanEffectiveBeta) ? null : nums.meanEffectiveBeta,
        off_diagonal_mass: Number.isNaN(nums.offDiagonalMass) ? null : nums.offDiagonalMass,
        neighbour_histogram: hist, warnings,
      }) + '\n');
      return 0;
    }
    const out: string[] = [];
    out.push(`${file}: ${cd.usable.length} usable ${s.mode} records, ${n} for training; ${s.mode === 'paired' ? 'paired' : 'unpaired'} RPO, tau ${s.tau}, beta ${s.beta}`);
    out.push(`batch ${view.batchIndex + 1} of ${view.batchCount} in epoch ${s.epoch} (seed ${s.seed}, batch size ${s.batchSize} x ${s.numProcesses} process(es)${s.globalContrast ? ', global contrast' : ''}${s.similarityBatching ? ', similarity batching' : ''})`);
    for (const w of warnings) out.push(`warning: ${w}`);
    if (view.rows.length && view.cols.length) {
      const head = (label: string) => `${label.padEnd(8)}${view.cols.map((c) => `L${lineOf(c)}`.padStart(8)).join('')}`;
      const table = (label: string, m: typeof view.cosine) => {
        out.push('', `${label} (rows: ${s.mode === 'paired' ? 'prompt of chosen i' : 'chosen items'}, columns: ${s.mode === 'paired' ? 'prompt of rejected j' : 'rejected items'})`, head('line'));
        view.rows.forEach((r, i) => out.push(`${`L${lineOf(r)}`.padEnd(8)}${view.cols.map((_, j) => m.data[i * m.cols + j]!.toFixed(3).padStart(8)).join('')}`));
      };
      table('cosine', view.cosine);
      table(`weights softmax(cos / ${s.tau})`, nums.weights);
    }
    out.push('');
    if (s.mode === 'paired' && nums.effectiveBeta.length) {
      out.push(`effective beta of same-prompt pairs (beta * w_ii): mean ${nums.meanEffectiveBeta.toFixed(4)} (min ${Math.min(...nums.effectiveBeta).toFixed(4)}, max ${Math.max(...nums.effectiveBeta).toFixed(4)}) vs beta ${s.beta} in DPO`);
      out.push(`weight mass off the diagonal: ${(100 * nums.offDiagonalMass).toFixed(1)}%`);
    }
    out.push(`nearest-neighbour cosine of each prompt (${hist.sampled} of ${hist.total} distinct prompts): mean ${r4(hist.mean)}, median ${r4(hist.median)}`);
    const peak = Math.max(1, ...hist.counts);
    hist.counts.forEach((c, b) => {
      const lo = hist.lo + ((hist.hi - hist.lo) * b) / hist.counts.length;
      out.push(`  ${lo.toFixed(2)}-${(lo + (hist.hi - hist.lo) / hist.counts.length).toFixed(2)} ${String(c).padStart(6)} ${'#'.repeat(Math.round((40 * c) / peak))}`);
    });
    process.stdout.write(out.join('\n') + '\n');
    return 0;
  },
};

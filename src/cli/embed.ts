import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stderrLogger } from '../core/log';
import { type Precision, cacheFileName } from '../embeddings/cache';
import { scanDatasetPromptKeys } from '../embeddings/datasetPrompts';
import { embedPrompts } from '../embeddings/embedPrompts';
import { Embedder } from '../embeddings/embedder';
import { DEFAULT_MAX_TOKENS, DEFAULT_MODEL, DEFAULT_PRECISION, ModelError, checkModelFolder, resolveModel } from '../embeddings/modelSource';
import { CliError, type CliCommand, requireFile } from './types';

/** `rpo embed FILE`: fills the workspace embedding cache for every prompt of a preference file. */
export const embedCommand: CliCommand = {
  name: 'embed',
  summary: 'embed the prompts of a preference file into the embedding cache',
  help: [
    'Usage: rpo embed FILE [--model ID|PATH] [--precision q8|fp32] [--cache DIR] [--batch-size N] [--json]',
    '',
    'Embeds every record\'s prompt text (docs/contracts.md §1) with a sentence-embedding model',
    '(mean pooling, L2-normalised, prompts cut at 256 tokens) and stores the vectors in',
    'DIR/<model>.<precision>.safetensors, the cache the preview and the trainer read. Only prompts',
    'missing from the cache are embedded; Ctrl+C saves what was done.',
    '',
    'Options:',
    `  --model ID|PATH     Hugging Face model id (downloaded once) or a local model folder with`,
    `                      config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx`,
    `                      (fp32) or onnx/model_quantized.onnx (q8). Default: ${DEFAULT_MODEL}`,
    `  --precision P       q8 or fp32 (default ${DEFAULT_PRECISION})`,
    '  --cache DIR         cache folder (default: .rpo/embeddings in the current folder)',
    '  --batch-size N      prompts per model call (default 32)',
    '  --json              print a JSON summary on stdout',
    '',
    'Environment: RPO_CACHE_DIR (default ~/.cache/rpo-studio) holds downloaded models under hub/.',
    'Exit status: 0 done, 1 model or cache error, 2 usage error, 130 interrupted (cache saved).',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        model: { type: 'string', default: DEFAULT_MODEL },
        precision: { type: 'string', default: DEFAULT_PRECISION },
        cache: { type: 'string', default: path.join('.rpo', 'embeddings') },
        'batch-size': { type: 'string', default: '32' },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length !== 1) throw new CliError(`expected one FILE, got ${positionals.length}\n\n${this.help}`);
    const file = positionals[0] as string;
    const precision = values.precision as Precision;
    if (precision !== 'q8' && precision !== 'fp32') throw new CliError(`--precision must be q8 or fp32, got '${values.precision}'`);
    const batchSize = Number(values['batch-size']);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1024) throw new CliError(`--batch-size must be an integer from 1 to 1024, got '${values['batch-size']}'`);
    await requireFile(file);
    const hubDir = path.join(process.env.RPO_CACHE_DIR || path.join(os.homedir(), '.cache', 'rpo-studio'), 'hub');
    let model;
    try {
      model = resolveModel(values.model as string, hubDir);
      if (model.kind === 'folder') checkModelFolder(model.dir, precision);
    } catch (err) {
      if (err instanceof ModelError) throw new CliError(err.message, 1);
      throw err;
    }
    const data = await scanDatasetPromptKeys(file); // keys only: texts are read again for the prompts to embed
    const cacheFile = cacheFileName(values.cache as string, model.name, precision);
    const log = stderrLogger('info');
    const bar = new ProgressBar(process.stderr);
    const abort = new AbortController();
    const onSigint = () => abort.abort();
    process.once('SIGINT', onSigint);
    const t0 = performance.now();
    let result;
    try {
      result = await embedPrompts({
        texts: data,
        cacheFile,
        identity: { model: model.name, precision, maxTokens: DEFAULT_MAX_TOKENS },
        batchSize,
        vectors: false, // only the cache is filled: an unchanged dataset never reads its vectors
        signal: abort.signal,
        log,
        startEmbedder: (signal) => {
          bar.label(`loading ${model.name} (${precision})`);
          return Embedder.start({
            model, precision, maxTokens: DEFAULT_MAX_TOKENS, localModelHint: '`--model PATH`',
            onDownload: (f, loaded, total) => bar.label(`downloading ${f} ${(loaded / 1e6).toFixed(1)}/${(total / 1e6).toFixed(1)} MB`),
          }, signal);
        },
        onProgress: (done, total) => bar.update(done, total),
      });
    } catch (err) {
      bar.done();
      throw new CliError((err as Error).message, 1);
    } finally {
      process.off('SIGINT', onSigint);
    }
    bar.done();
    const seconds = (performance.now() - t0) / 1000;
    const lineList = (idx: number[]) => idx.slice(0, 10).map((i) => (data.lines[i] as number) + 1).join(', ') + (idx.length > 10 ? ', ...' : '');
    const summary = {
      file, cache: cacheFile, model: model.name, precision, dim: result.dim,
      prompts: data.lines.length, distinct: result.cached + result.embedded, cached: result.cached, embedded: result.embedded,
      cancelled: result.cancelled, seconds: round(seconds), embed_seconds: round(result.embedSeconds),
      prompts_per_second: result.embedSeconds > 0 ? round(result.embedded / result.embedSeconds) : null,
      max_tokens: result.maxTokens,
      truncated_lines: result.truncated.map((i) => (data.lines[i] as number) + 1),
      empty_lines: result.empty.map((i) => (data.lines[i] as number) + 1),
      invalid_lines: data.invalid.length,
      ...(result.cacheWarning ? { cache_warning: result.cacheWarning } : {}),
    };
    if (values.json) process.stdout.write(JSON.stringify(summary) + '\n');
    else {
      const out = process.stdout;
      out.write(`${result.cancelled ? 'interrupted: ' : ''}${summary.embedded} prompts embedded, ${summary.cached} already cached (${summary.prompts} records, ${summary.distinct} distinct prompts) in ${seconds.toFixed(1)} s` +
        `${summary.prompts_per_second ? `, ${summary.prompts_per_second} prompts/s` : ''}\n`);
      out.write(`cache: ${cacheFile} (${model.name}, ${precision}, ${result.dim} dims)\n`);
      if (result.truncated.length) out.write(`${result.truncated.length} prompts longer than ${result.maxTokens} tokens were cut to ${result.maxTokens} (lines ${lineList(result.truncated)})\n`);
      if (result.empty.length) out.write(`${result.empty.length} empty prompts (lines ${lineList(result.empty)}): their embeddings carry no meaning\n`);
      if (data.invalid.length) out.write(`${data.invalid.length} invalid lines skipped (see rpo validate ${file})\n`);
    }
    return result.cancelled ? 130 : 0;
  },
};

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** A redrawn bar on a TTY; a line every 5 s otherwise (logs, CI). */
class ProgressBar {
  private last = 0;
  private t0 = performance.now();
  constructor(private readonly out: NodeJS.WriteStream) {}

  label(text: string): void {
    if (this.out.isTTY) this.out.write(`\r\x1b[K${text}`);
    else if (Date.now() - this.last > 5000) {
      this.last = Date.now();
      this.out.write(`${text}\n`);
    }
  }

  update(done: number, total: number): void {
    if (done === 0) this.t0 = performance.now();
    const rate = done / Math.max((performance.now() - this.t0) / 1000, 1e-3);
    const eta = rate > 0 ? (total - done) / rate : 0;
    const pct = total ? (100 * done) / total : 100;
    const text = `${done}/${total} prompts ${pct.toFixed(0).padStart(3)}%  ${rate.toFixed(0)}/s  ETA ${eta.toFixed(0)} s`;
    if (this.out.isTTY) {
      const width = 30;
      const filled = Math.round((width * pct) / 100);
      this.out.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
    } else if (Date.now() - this.last > 5000 || done === total) {
      this.last = Date.now();
      this.out.write(`embed ${text}\n`);
    }
  }

  done(): void {
    if (this.out.isTTY) this.out.write('\r\x1b[K');
  }
}

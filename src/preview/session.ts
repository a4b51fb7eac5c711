import { type ContrastSettings, DEFAULT_SETTINGS, batchView, neighbourHistogram, planFor, trainCount } from '../core/contrast/preview';
import { TopKIndex } from '../core/contrast/topkIndex';
import type { EpochPlan } from '../core/contrast/sampler';
import { type ContrastData, joinContrastData } from '../embeddings/contrastData';
import type { DatasetPrompts } from '../embeddings/datasetPrompts';
import { type RunConfig, contrastSettingsOf } from '../core/run/config';
import { type BatchPayload, type HistogramPayload, MAX_BATCH, MAX_PROCESSES, type NeighboursPayload, PROMPT_SNIPPET, type PreviewSettings, TAU_RANGE } from '../protocol/preview';

/**
 * A run config's contrast settings within the ranges of the preview's own controls, and a note
 * for each value changed. The workspace's config is not trusted input: a huge batch_size or
 * num_processes would make the preview allocate without bound (an array per process, a G x G
 * matrix with global_contrast), in untrusted workspaces too.
 */
export function previewSettingsOf(config: RunConfig): { settings: ContrastSettings; notes: string[] } {
  const settings = contrastSettingsOf(config);
  const notes: string[] = [];
  const clamp = (key: 'batchSize' | 'numProcesses' | 'tau', configKey: string, min: number, max: number) => {
    const v = settings[key];
    const c = Math.min(max, Math.max(min, v));
    if (c !== v) {
      settings[key] = c;
      notes.push(`The run config's ${configKey} (${v}) is outside what the preview shows (${min} to ${max}): previewing ${configKey} ${c}. Training uses ${v}.`);
    }
  };
  clamp('batchSize', 'batch_size', 1, MAX_BATCH);
  clamp('numProcesses', 'num_processes', 1, MAX_PROCESSES);
  clamp('tau', 'tau', TAU_RANGE.min, TAU_RANGE.max);
  return { settings, notes };
}

/**
 * The preview's data for one file: records, their prompt vectors and the current sampler plan.
 * No vscode here: the panel (panel.ts) feeds it and posts what it returns, and tests drive it
 * directly.
 */
export class PreviewSession {
  private contrast: ContrastData;
  private plan: EpochPlan;
  private train: number;
  private readonly lineToPrompt = new Map<number, number>();
  private readonly distinctOfText = new Map<string, number>();
  private readonly meanVector: Float64Array;
  private readonly index: TopKIndex;
  readonly histogram: HistogramPayload;

  constructor(
    readonly data: DatasetPrompts,
    private readonly promptVectors: Float32Array,
    readonly dim: number,
    public settings: ContrastSettings = { ...DEFAULT_SETTINGS },
    /** Shown with the warnings while this file is previewed (e.g. config values clamped by previewSettingsOf). */
    private readonly notes: readonly string[] = [],
  ) {
    data.prompts.forEach((p, i) => this.lineToPrompt.set(p.line, i));
    this.contrast = joinContrastData(data, promptVectors, dim, settings.mode, { minAgreement: settings.minAgreement, votes: settings.votes });
    this.contrast.distinctLines.forEach((line, i) => this.distinctOfText.set(data.prompts[this.lineToPrompt.get(line)!]!.text, i));
    this.meanVector = new Float64Array(dim);
    const nDistinct = this.contrast.distinctLines.length;
    for (let i = 0; i < nDistinct; i++) for (let d = 0; d < dim; d++) this.meanVector[d]! += this.contrast.distinctVectors[i * dim + d]! / nDistinct;
    this.index = TopKIndex.create(this.contrast.distinctVectors, dim);
    const h = neighbourHistogram(this.contrast.distinctVectors, dim);
    this.histogram = { counts: h.counts, lo: h.lo, hi: h.hi, sampled: h.sampled, total: h.total, mean: h.mean, median: h.median };
    this.train = trainCount(this.contrast.usable.length, settings.evalSplit);
    this.plan = planFor(this.train, this.contrast.itemVectors, dim, settings);
  }

  get usable(): number {
    return this.contrast.usable.length;
  }

  get trainCount(): number {
    return this.train;
  }

  /** Applies new settings; re-plans the epoch when anything but tau/beta changed. */
  update(next: Partial<ContrastSettings>): void {
    const prev = this.settings;
    this.settings = { ...prev, ...next };
    if (this.settings.mode !== prev.mode || this.settings.minAgreement !== prev.minAgreement || this.settings.votes !== prev.votes) {
      this.contrast = joinContrastData(this.data, this.promptVectors, this.dim, this.settings.mode, { minAgreement: this.settings.minAgreement, votes: this.settings.votes });
    }
    const replan = (['mode', 'batchSize', 'numProcesses', 'similarityBatching', 'seed', 'epoch', 'evalSplit', 'minAgreement', 'votes'] as const).some((k) => this.settings[k] !== prev[k]);
    if (replan) {
      this.train = trainCount(this.contrast.usable.length, this.settings.evalSplit);
      this.plan = planFor(this.train, this.contrast.itemVectors, this.dim, this.settings);
    }
  }

  batchCount(): number {
    return this.plan.batches.length;
  }

  warnings(batch?: BatchPayload): string[] {
    const s = this.settings;
    const g = s.batchSize * s.numProcesses;
    const out: string[] = [...this.notes];
    if (!this.train) out.push(`No usable ${s.mode} records: nothing would train (records labeled tie, skip, both bad or excluded are left out).`);
    else if (this.plan.shortEpoch) out.push(`Only ${this.train} training records, fewer than the global batch of ${g}: the trainer makes one batch of all of them.`);
    if (batch && s.mode === 'unpaired' && this.train && (!batch.rowLines.length || !batch.colLines.length)) {
      out.push(`This batch has no ${batch.rowLines.length ? 'rejected' : 'chosen'} item: it contributes no loss.`);
    }
    return out;
  }

  batch(k: number): BatchPayload {
    const v = batchView(this.plan, k, this.contrast.itemVectors, this.dim, this.settings, this.contrast.labels);
    const line = (i: number) => this.contrast.usable[i]!.line;
    return {
      index: v.batchIndex,
      count: v.batchCount,
      shortEpoch: v.shortEpoch,
      rowLines: v.rows.map(line),
      colLines: v.cols.map(line),
      rowPrompts: v.rows.map((i) => this.snippet(line(i))),
      colPrompts: v.cols.map((i) => this.snippet(line(i))),
      cosine: Array.from(v.cosine.data),
    };
  }

  /** The k distinct prompts nearest to the record on `line` (its own prompt text excluded). */
  neighbours(line: number, k: number): NeighboursPayload | null {
    const p = this.lineToPrompt.get(line);
    if (p === undefined) return null;
    const text = this.data.prompts[p]!.text;
    const self = this.distinctOfText.get(text);
    const q = this.promptVectors.subarray(p * this.dim, (p + 1) * this.dim);
    const hits = this.index.query(q, k, { exclude: (i) => i === self });
    let mean = 0;
    for (let d = 0; d < this.dim; d++) mean += q[d]! * this.meanVector[d]!;
    return {
      line,
      prompt: cut(text),
      meanCosine: mean,
      items: hits.map((h) => {
        const l = this.contrast.distinctLines[h.index]!;
        return { line: l, cosine: h.cosine, prompt: this.snippet(l) };
      }),
    };
  }

  private snippet(line: number): string {
    const p = this.lineToPrompt.get(line);
    return p === undefined ? '' : cut(this.data.prompts[p]!.text);
  }

  view(): PreviewSettings {
    const { mode, tau, beta, batchSize, numProcesses, globalContrast, similarityBatching, seed, epoch } = this.settings;
    return { mode, tau, beta, batchSize, numProcesses, globalContrast, similarityBatching, seed, epoch };
  }
}

function cut(text: string): string {
  return text.length > PROMPT_SNIPPET ? text.slice(0, PROMPT_SNIPPET) + '…' : text;
}

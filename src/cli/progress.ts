import type { TrainerEvent } from '../core/run/events';
import { type RunState, formatDuration } from '../core/run/state';

/**
 * The terminal view of a run's event stream, shared by `rpo train` and `rpo tail`: a redrawn
 * progress bar on a TTY, one line per step (at most every 5 s) otherwise.
 */
export class ProgressPrinter {
  private lastPlainLine = 0;

  constructor(
    private readonly out: NodeJS.WriteStream | { isTTY?: boolean; columns?: number; write(s: string): boolean },
    private readonly plainEveryMs = 5000,
  ) {}

  onEvent(event: TrainerEvent, state: RunState): void {
    switch (event.type) {
      case 'start':
        this.line(
          `${event.resumed ? 'resumed' : 'started'} ${event.run_dir}\n` +
            `  ${String(event.config.method ?? '?')} on ${event.model.name_or_path} (${event.model.trainable_parameters.toLocaleString('en-US')} trainable parameters${event.model.lora ? ', LoRA' : ''}), ` +
            `${event.dataset.train} training records, ${event.total_steps} steps on ${event.devices.map((d) => d.name).join(', ') || 'cpu'}`,
        );
        break;
      case 'step':
        this.progress(state);
        break;
      case 'eval':
        this.line(`eval at step ${event.step}: loss ${fmt(event.metrics.loss)}, accuracy ${fmt(event.metrics['rewards/accuracies'])}, margin ${fmt(event.metrics['rewards/margins'])}`);
        break;
      case 'checkpoint':
        this.line(`checkpoint (${event.reason}) at step ${event.step}: ${event.path}`);
        break;
      case 'log':
        if (event.level !== 'debug') this.line(`${event.level}: ${event.message}`);
        break;
      case 'error':
        this.line(`error (${event.error_type}): ${event.message}${event.hint ? `\n  hint: ${event.hint}` : ''}`);
        break;
      case 'end':
        this.line(`${event.status} at step ${event.step}/${event.total_steps} after ${formatDuration(state.elapsedSeconds)}${event.final_model ? `; model: ${event.final_model}` : ''}${event.checkpoint ? `; resume from ${event.checkpoint}` : ''}${event.message ? `; ${event.message}` : ''}`);
        break;
    }
  }

  progress(state: RunState): void {
    const total = Math.max(1, state.totalSteps);
    const pct = Math.min(100, (100 * state.step) / total);
    const metrics = state.lastMetrics;
    const text = `${state.step}/${state.totalSteps} ${pct.toFixed(0).padStart(3)}%  loss ${fmt(metrics?.loss)}  acc ${fmt(metrics?.['rewards/accuracies'])}  margin ${fmt(metrics?.['rewards/margins'])}  ${state.tokensPerSecond != null ? `${Math.round(state.tokensPerSecond)} tok/s  ` : ''}ETA ${formatDuration(state.etaSeconds)}`;
    if (this.out.isTTY) {
      const width = Math.max(10, Math.min(30, (this.out.columns ?? 80) - text.length - 4));
      const filled = Math.round((width * pct) / 100);
      this.out.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
    } else {
      const now = Date.now();
      if (now - this.lastPlainLine >= this.plainEveryMs || state.step >= state.totalSteps) {
        this.lastPlainLine = now;
        this.out.write(`step ${text}\n`);
      }
    }
  }

  line(text: string): void {
    this.out.write(`${this.out.isTTY ? '\r\x1b[K' : ''}${text}\n`);
  }
}

function fmt(v: number | null | undefined): string {
  if (v == null) return '–';
  return Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(4);
}

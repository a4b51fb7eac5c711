import type { CheckpointEvent, EndEvent, ErrorEvent, EvalEvent, LogEvent, Metrics, StartEvent, StepEvent } from '../../src/core/run/events';

/**
 * Typed builders of trainer events, valid against events.schema.json unless a test breaks them
 * on purpose. Used where a recorded stream (test/fixtures/events/) does not have the case.
 */

let clock = Date.parse('2026-01-01T00:00:00.000Z');
function time(): string {
  clock += 1000;
  return new Date(clock).toISOString();
}

export function metrics(step: number, over: Partial<Metrics> = {}): Metrics {
  return {
    loss: 0.6931 - step * 0.001,
    'rewards/chosen': step * 0.01,
    'rewards/rejected': -step * 0.01,
    'rewards/margins': step * 0.02,
    'rewards/accuracies': Math.min(1, 0.5 + step * 0.01),
    'logps/chosen': -50,
    'logps/rejected': -55,
    'contrast/diagonal_weight': 0.4,
    'contrast/effective_beta': 0.04,
    ...over,
  };
}

export function startEvent(over: Partial<StartEvent> = {}): StartEvent {
  return {
    schema: 1,
    type: 'start',
    time: time(),
    run_dir: '/tmp/runs/rpo-run-20260101-000000',
    config: { method: 'rpo', beta: 0.1, tau: 0.5, batch_size: 4 },
    model: { name_or_path: '/models/tiny', architecture: 'LlamaForCausalLM', parameters: 1000, trainable_parameters: 1000, lora: false },
    dataset: { path: '/data/train.pref.jsonl', sha256: 'a'.repeat(64), lines: 10, usable: 8, train: 8, eval: 0, left_out: { tie: 2 } },
    devices: [{ type: 'cpu', name: 'cpu', memory_bytes: null }],
    num_processes: 1,
    total_steps: 100,
    step: 0,
    epoch: 0,
    resumed: null,
    precision: 'fp32',
    ...over,
  };
}

export function stepEvent(step: number, over: Partial<StepEvent> = {}): StepEvent {
  return {
    schema: 1,
    type: 'step',
    time: time(),
    step,
    total_steps: 100,
    epoch: step / 50,
    metrics: metrics(step),
    learning_rate: 5e-6,
    grad_norm: 1.5,
    tokens_per_second: 1200,
    samples_per_second: 8,
    elapsed_seconds: step * 0.5,
    eta_seconds: (100 - step) * 0.5,
    memory: null,
    ...over,
  };
}

export function evalEvent(step: number, over: Partial<EvalEvent> = {}): EvalEvent {
  return { schema: 1, type: 'eval', time: time(), step, total_steps: 100, epoch: step / 50, metrics: metrics(step), samples: 8, duration_seconds: 0.3, ...over };
}

export function checkpointEvent(step: number, reason: CheckpointEvent['reason'] = 'periodic'): CheckpointEvent {
  return { schema: 1, type: 'checkpoint', time: time(), step, total_steps: 100, epoch: step / 50, path: `/tmp/runs/x/checkpoint-${step}`, reason };
}

export function logEvent(message: string, level: LogEvent['level'] = 'info'): LogEvent {
  return { schema: 1, type: 'log', time: time(), level, message };
}

export function endEvent(status: EndEvent['status'], step: number, over: Partial<EndEvent> = {}): EndEvent {
  return { schema: 1, type: 'end', time: time(), status, step, total_steps: 100, epoch: step / 50, elapsed_seconds: step * 0.5, run_dir: null, final_model: null, checkpoint: null, message: null, ...over };
}

export function errorEvent(message: string, over: Partial<ErrorEvent> = {}): ErrorEvent {
  return { schema: 1, type: 'error', time: time(), message, error_type: 'internal', traceback: 'Traceback (most recent call last):\n  ...\nRuntimeError: boom', hint: null, step: null, ...over };
}

export function lines(...events: object[]): string {
  return events.map((e) => JSON.stringify(e)).join('\n') + '\n';
}

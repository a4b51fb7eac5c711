import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import { type GenerateOptions, buildGenerateArgv, checkGenerateOptions, generateProgressText } from '../core/run/generate';
import { trainerProcessOptions } from '../core/run/launch';
import { listRuns } from '../node/run/store';
import { GenerateProcess } from '../node/run/generate';
import { findPython } from './python';

/**
 * "RPO: Sample from Run…" (`rpo.run.sample`): the run's model and a baseline answer held-out
 * prompts into a blind candidates file (docs/evaluate.md), with a cancellable progress
 * notification; then offers to open the file in the preference editor. Thin glue over
 * src/node/run/generate.ts; the options are the CLI's (`rpo generate`).
 */
export interface SampleDeps {
  log: Logger;
  trainerRoot: string;
  runsDirs: () => string[];
  requireTrust: (what: string) => Promise<boolean>;
}

interface RunPick extends vscode.QuickPickItem {
  runDir: string;
}

/** A run folder with something to sample: its final model or a checkpoint. */
function sampleable(runDir: string): boolean {
  if (fs.existsSync(path.join(runDir, 'final', 'config.json')) || fs.existsSync(path.join(runDir, 'final', 'adapter_config.json'))) return true;
  try {
    return fs.readdirSync(path.join(runDir, 'checkpoints')).some((n) => /^step-\d+$/.test(n));
  } catch {
    return false;
  }
}

function runPicks(deps: SampleDeps, except?: string): RunPick[] {
  return deps
    .runsDirs()
    .flatMap((d) => listRuns(d))
    .filter((r) => r.runDir !== except && sampleable(r.runDir))
    .map((r) => ({ label: r.name, description: [r.method, r.status, `${r.step} steps`].filter(Boolean).join(' · '), runDir: r.runDir }));
}

function runDirOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  return (arg as { summary?: { runDir?: string } } | undefined)?.summary?.runDir;
}

async function positiveInt(title: string, prompt: string, value: string, allowEmpty: boolean): Promise<number | null | undefined> {
  const answer = await vscode.window.showInputBox({
    title,
    prompt,
    value,
    ignoreFocusOut: true,
    validateInput: (v) => ((allowEmpty && !v.trim()) || /^[1-9]\d*$/.test(v.trim()) ? undefined : 'A whole number of at least 1'),
  });
  if (answer === undefined) return undefined;
  return answer.trim() ? Number(answer.trim()) : null;
}

function checkpointsOf(runDir: string): string[] {
  try {
    return fs.readdirSync(path.join(runDir, 'checkpoints')).filter((n) => /^step-\d+$/.test(n)).sort((a, b) => Number(b.slice(5)) - Number(a.slice(5)));
  } catch {
    return [];
  }
}

/** Asks for the options; undefined when the user cancels a step. */
async function askOptions(deps: SampleDeps, runDir: string): Promise<GenerateOptions | undefined> {
  const title = `Sample from ${path.basename(runDir)}`;
  // Model A: the final model, or a checkpoint (asked only when the run has checkpoints).
  let checkpoint: string | undefined;
  const steps = checkpointsOf(runDir);
  if (steps.length) {
    const hasFinal = (fs.existsSync(path.join(runDir, 'final', 'config.json')) || fs.existsSync(path.join(runDir, 'final', 'adapter_config.json')));
    const model = await vscode.window.showQuickPick(
      [
        ...(hasFinal ? [{ label: 'Final model', description: 'final/', value: undefined as string | undefined }] : []),
        ...steps.map((s) => ({ label: `Checkpoint ${s}`, description: `step ${Number(s.slice(5))}`, value: s as string | undefined })),
      ],
      { title: `${title}: model A (the run)`, ignoreFocusOut: true },
    );
    if (!model) return undefined;
    checkpoint = model.value;
  }
  const baseline = await vscode.window.showQuickPick(
    [
      { label: 'Reference model', description: 'what the run started from (its config\'s model)', value: 'reference' },
      { label: 'Dataset responses', description: "each prompt record's own chosen response", value: 'dataset' },
      { label: 'Another run…', description: 'e.g. a DPO run against this RPO run', value: 'run' },
    ],
    { title: `${title} (1/4): baseline B to compare the run (A) with`, ignoreFocusOut: true },
  );
  if (!baseline) return undefined;
  let baselineValue = baseline.value;
  if (baseline.value === 'run') {
    const other = await vscode.window.showQuickPick(runPicks(deps, runDir), { title: `${title}: the baseline run`, ignoreFocusOut: true });
    if (!other) return undefined;
    baselineValue = other.runDir;
  }
  const source = await vscode.window.showQuickPick(
    [
      { label: "The run's eval split", description: 'the held-out records of its dataset', value: 'eval' },
      { label: 'A prompt or preference file…', description: 'JSONL; lines without a prompt are skipped and counted', value: 'file' },
    ],
    { title: `${title} (2/4): prompts`, ignoreFocusOut: true },
  );
  if (!source) return undefined;
  let prompts: string | undefined;
  if (source.value === 'file') {
    const picked = await vscode.window.showOpenDialog({ title: `${title}: prompt file`, canSelectMany: false, filters: { JSONL: ['jsonl'] }, openLabel: 'Use Prompts' });
    if (!picked?.[0]) return undefined;
    prompts = picked[0].fsPath;
  }
  const decoding = await vscode.window.showQuickPick(
    [
      { label: 'Sampled', description: 'temperature 0.7, top-p 0.9 (seed 0)', greedy: false },
      { label: 'Greedy', description: 'the most likely token each time', greedy: true },
    ],
    { title: `${title} (3/4): decoding`, ignoreFocusOut: true },
  );
  if (!decoding) return undefined;
  const numPrompts = await positiveInt(`${title} (4/4): number of prompts`, 'How many prompts to sample (empty: all of them)', '', true);
  if (numPrompts === undefined) return undefined;
  const maxNewTokens = await positiveInt(`${title}: max new tokens`, 'The longest answer, in tokens', '128', false);
  if (maxNewTokens === undefined || maxNewTokens === null) return undefined;
  return { runDir, checkpoint, baseline: baselineValue, prompts, greedy: decoding.greedy || undefined, numPrompts: numPrompts ?? undefined, maxNewTokens };
}

/** Runs one generation with a progress notification; resolves with the candidates file, or undefined. */
export async function sample(deps: SampleDeps, options: GenerateOptions): Promise<string | undefined> {
  const problems = checkGenerateOptions(options);
  if (problems.length) throw new Error(problems.join('; '));
  const python = await findPython();
  const argv = buildGenerateArgv(python.command, options);
  const title = `sampling ${path.basename(options.runDir)}`;
  deps.log.info(`${title}: ${argv.join(' ')}`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `RPO: Sampling ${path.basename(options.runDir)}`, cancellable: true },
    async (progress, token) => {
      let reported = 0;
      let proc: GenerateProcess;
      try {
        proc = await GenerateProcess.start(argv, trainerProcessOptions(process.env, deps.trainerRoot), {
          event: (e) => {
            if (e.type === 'generate_start') {
              reported = e.total ? (100 * e.done) / e.total : 0;
              progress.report({ increment: reported, message: `${e.done}/${e.total} records; loading the models…` });
              deps.log.info(`${title}: ${e.done > 0 ? `continuing ${e.out} at record ${e.done + 1}` : `writing ${e.out}`} (${e.total} prompts)`);
            } else if (e.type === 'generate_progress') {
              const pct = e.total ? (100 * e.done) / e.total : 100;
              progress.report({ increment: pct - reported, message: generateProgressText(e) });
              reported = pct;
            } else if (e.type === 'log') deps.log.info(`${title}: ${e.level}: ${e.message}`);
            else if (e.type === 'error') deps.log.error(`${title}: ${e.message}${e.hint ? ` (hint: ${e.hint})` : ''}${e.traceback ? `\n${e.traceback}` : ''}`);
          },
          malformed: (line, error) => deps.log.warn(`${title}: skipped a malformed event line (${error}): ${line.slice(0, 200)}`),
          stderr: (line) => deps.log.info(`${title}: ${line}`),
        });
      } catch (err) {
        return { status: 'failed' as const, failure: `could not start ${python.command}: ${(err as Error).message}. Set rpo.python.path or run "RPO: Check Training Environment".` };
      }
      token.onCancellationRequested(() => proc.stop());
      return proc.whenExited();
    },
  );
  if (result.status === 'failed') {
    const message = result.error?.message ?? result.failure ?? 'unknown reason';
    deps.log.error(`${title} failed: ${message}`);
    if (result.error?.error_type === 'config' && /cannot be continued/.test(message)) {
      const choice = await vscode.window.showWarningMessage(`RPO: ${message.split(':')[0]} was sampled with other settings.`, { modal: true, detail: `${message}\n\nStart again replaces the file and its sidecar (labels in it are lost).` }, 'Start Again');
      return choice ? sample(deps, { ...options, overwrite: true }) : undefined;
    }
    if (result.error?.error_type === 'out_of_memory' && (options.batchSize ?? 8) > 1) {
      const smaller = Math.max(1, Math.floor((options.batchSize ?? 8) / 2));
      const choice = await vscode.window.showErrorMessage(`RPO: out of memory while sampling; the records written are kept.`, `Continue with Batch Size ${smaller}`, 'Show Log');
      if (choice === 'Show Log') void vscode.commands.executeCommand('rpo.showLog');
      return choice?.startsWith('Continue') ? sample(deps, { ...options, batchSize: smaller }) : undefined;
    }
    void vscode.window.showErrorMessage(`RPO: sampling failed: ${message.split('\n')[0]}`, 'Show Log').then((c) => c && vscode.commands.executeCommand('rpo.showLog'));
    return undefined;
  }
  const end = result.end!;
  const file = end.out ?? result.start?.out;
  deps.log.info(`${title}: ${end.status}, ${end.done} of ${end.total} records in ${file}`);
  if (!file) return undefined;
  const text = end.status === 'stopped'
    ? `RPO: sampling stopped after ${end.done} of ${end.total} records; they are kept, and sampling again with the same options continues.`
    : `RPO: sampled ${end.total} prompts into ${path.basename(file)}. Judge them blind in the preference editor.`;
  // Not awaited: the command resolves with the file while the offer stays up.
  void vscode.window.showInformationMessage(text, 'Open in Preference Editor').then((choice) => choice && vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), 'rpo.labelingEditor'));
  return file;
}

export function registerSampleCommand(deps: SampleDeps): vscode.Disposable {
  return vscode.commands.registerCommand('rpo.run.sample', async (arg?: unknown, preset?: Partial<GenerateOptions>) => {
    if (!(await deps.requireTrust('Sampling from a run'))) return undefined;
    let runDir = runDirOf(arg);
    if (!runDir) {
      const picks = runPicks(deps);
      if (!picks.length) {
        void vscode.window.showInformationMessage('RPO: no run in this workspace has a final model or a checkpoint to sample yet.');
        return undefined;
      }
      runDir = (await vscode.window.showQuickPick(picks, { title: 'Sample from Run: the run (model A)' }))?.runDir;
      if (!runDir) return undefined;
    }
    // `preset` (a dashboard, another command, a test): the options without asking.
    const options = preset ? { runDir, ...preset } : await askOptions(deps, runDir);
    if (!options) return undefined;
    return sample(deps, options);
  });
}

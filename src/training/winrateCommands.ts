import { spawn } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import type { GenerateOptions } from '../core/run/generate';
import { trainerProcessOptions } from '../core/run/launch';
import { WinrateError } from '../core/winrate';
import { winrateText } from '../core/winrate/text';
import { listRuns } from '../node/run/store';
import { winrateOfFile } from '../node/winrate';
import { findPython } from './python';

/**
 * The win-rate commands (docs/evaluate.md): show a candidates file's win rate, compare two runs
 * (both answer run A's prompts into one file, through rpo.run.sample), pre-fill votes with a reward model. Thin glue over
 * src/node/winrate.ts and the trainer's `generate` / `judge` modules.
 */
export interface WinrateDeps {
  log: Logger;
  trainerRoot: string;
  runsDirs: () => string[];
  requireTrust: (what: string) => Promise<boolean>;
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);

async function pickCandidatesFile(arg: unknown, title: string): Promise<string | undefined> {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (typeof arg === 'string') return arg;
  const picked = await vscode.window.showOpenDialog({ title, canSelectMany: false, filters: { 'Candidates file': ['jsonl'] }, openLabel: 'Select' });
  return picked?.[0]?.fsPath;
}

/** Runs the trainer's Python module with a cancellable notification; resolves with the exit code and stdout. */
async function runTrainerModule(deps: WinrateDeps, title: string, args: string[], progressOf: (line: string) => string | null): Promise<{ code: number | null; stdout: string; cancelled: boolean }> {
  const python = await findPython();
  deps.log.info(`${title}: ${python.command} ${args.join(' ')}`);
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `RPO: ${title}`, cancellable: true }, (progress, token) =>
    new Promise((resolve) => {
      const child = spawn(python.command, args, { ...trainerProcessOptions(process.env, deps.trainerRoot), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let cancelled = false;
      token.onCancellationRequested(() => {
        cancelled = true;
        child.kill('SIGINT');
      });
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      let rest = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        rest += d;
        const lines = rest.split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          deps.log.info(`${title}: ${line}`);
          const message = progressOf(line);
          if (message) progress.report({ message });
        }
      });
      child.on('error', (err) => {
        deps.log.error(`${title}: ${err.message}`);
        resolve({ code: -1, stdout, cancelled });
      });
      child.on('close', (code) => resolve({ code, stdout, cancelled }));
    }),
  );
}

export function registerWinrateCommands(deps: WinrateDeps): vscode.Disposable[] {
  const { log } = deps;

  const show = async (arg?: unknown) => {
    const file = await pickCandidatesFile(arg, 'Win Rate of Candidates File');
    if (!file) return undefined;
    try {
      const { report: r } = await winrateOfFile(file);
      log.info(`win rate of ${file}:\n${winrateText(file, r)}`);
      const lc = r.lengthControlled.value === null ? '' : `, length-controlled ${pct(r.lengthControlled.value)}`;
      const ci = r.wilson ? ` [${pct(r.wilson[0])}, ${pct(r.wilson[1])}]` : '';
      void vscode.window.showInformationMessage(`RPO: ${path.basename(file)}: ${r.models.A.name} over ${r.models.B.name}: ${pct(r.winRate)}${ci} (${r.judged} judged${lc}).`, 'Show Details').then((c) => c && vscode.commands.executeCommand('rpo.showLog'));
      return r;
    } catch (err) {
      if (!(err instanceof WinrateError)) throw err;
      log.warn(err.message);
      void vscode.window.showErrorMessage(`RPO: ${err.message.split('\n')[0]}`, 'Show Log').then((c) => c && vscode.commands.executeCommand('rpo.showLog'));
      return undefined;
    }
  };

  // `preset` (a dashboard, a test): generation options for rpo.run.sample without asking (max new tokens, prompts, ...).
  const compare = async (arg?: unknown, argB?: unknown, preset?: Partial<GenerateOptions>) => {
    const runs = deps.runsDirs().flatMap((d) => listRuns(d)).filter((r) => r.status === 'completed');
    if (runs.length < 2) {
      void vscode.window.showInformationMessage('RPO: comparing by win rate needs two completed runs in this workspace.');
      return undefined;
    }
    const item = (r: (typeof runs)[number]) => ({ label: r.name, description: [r.method, `${r.step} steps`].filter(Boolean).join(' · '), runDir: r.runDir });
    // From the runs view (a RunItem), a dashboard or a test (a run folder).
    const argDir = typeof arg === 'string' ? arg : (arg as { summary?: { runDir?: string } } | undefined)?.summary?.runDir;
    const first = argDir ? runs.find((r) => path.resolve(r.runDir) === path.resolve(argDir)) : undefined;
    const a = first ? item(first) : await vscode.window.showQuickPick(runs.map(item), { title: 'Compare Runs by Win Rate (1/2)', placeHolder: 'Run A: the run whose win rate you want (e.g. the RPO run)' });
    if (!a) return undefined;
    const presetB = typeof argB === 'string' ? runs.find((r) => path.resolve(r.runDir) === path.resolve(argB) && r.runDir !== a.runDir) : undefined;
    const b = presetB ? item(presetB) : await vscode.window.showQuickPick(runs.filter((r) => r.runDir !== a.runDir).map(item), { title: 'Compare Runs by Win Rate (2/2)', placeHolder: `Run B: the baseline ${a.label} is judged against (e.g. the DPO run)` });
    if (!b) return undefined;
    // Sampling is rpo.run.sample's (src/training/sampleRun.ts): B's model as the baseline, A's eval prompts,
    // its progress, cancel and the offer to open the file; it asks for trust itself.
    return vscode.commands.executeCommand<string | undefined>('rpo.run.sample', a.runDir, { ...preset, baseline: b.runDir });
  };

  // `modelArg` (a test, another command): the reward model without asking.
  const judge = async (arg?: unknown, modelArg?: unknown) => {
    const file = await pickCandidatesFile(arg, 'Pre-fill Votes with a Reward Model');
    if (!file) return undefined;
    const model = typeof modelArg === 'string' ? modelArg : await vscode.window.showInputBox({
      title: 'Pre-fill Votes with a Reward Model',
      prompt: 'A sequence-classification reward model: a folder or a Hugging Face id. Its votes are marked model:<name>, never as a person\'s.',
      placeHolder: 'OpenAssistant/reward-model-deberta-v3-large-v2',
      ignoreFocusOut: true,
    });
    if (!model) return undefined;
    if (!(await deps.requireTrust('Scoring with a reward model'))) return undefined;
    const result = await runTrainerModule(deps, `judging ${path.basename(file)}`, ['-m', 'rpo_trainer.judge', file, '--model', model], (line) => (/^judged \d+\/\d+$/.test(line) ? line : null));
    if (result.cancelled) {
      void vscode.window.showInformationMessage('RPO: judging stopped; the file was not changed.');
      return undefined;
    }
    if (result.code !== 0) {
      void vscode.window.showErrorMessage(`RPO: judging failed (exit ${result.code}); the file was not changed.`, 'Show Log').then((c) => c && vscode.commands.executeCommand('rpo.showLog'));
      return undefined;
    }
    const out = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { voted?: number; annotator?: string; labeled?: number };
    void vscode.window.showInformationMessage(`RPO: ${out.annotator} voted on ${out.voted} records of ${path.basename(file)} (${out.labeled} already judged were left alone).`);
    return out;
  };

  return [
    vscode.commands.registerCommand('rpo.winrate.show', show),
    vscode.commands.registerCommand('rpo.run.compare', compare),
    vscode.commands.registerCommand('rpo.winrate.judge', judge),
  ];
}

import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import { buildDoctorArgv, trainerProcessOptions } from '../core/run/launch';
import { describePython, findPython } from './python';
import { SETTING, updateUserSetting } from '../settings';

/** The trainer's `doctor` JSON (trainer/rpo_trainer/doctor.py). */
export interface DoctorReport {
  ok: boolean;
  python: { version: string; executable: string };
  platform: string;
  cuda: { available: boolean; version: string | null; bf16: boolean; devices: { index: number; name: string; memory_bytes: number; free_bytes?: number; capability?: string }[] };
  packages: Record<string, string | null>;
  problems: { problem: string; fix: string }[];
}

/** Short-lived helper processes (doctor, venv, pip): killed when the extension deactivates. */
export class HelperProcesses implements vscode.Disposable {
  private readonly children = new Set<ChildProcess>();

  run(argv: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; onLine?: (line: string) => void; token?: vscode.CancellationToken }): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0], argv.slice(1), { env: options.env ?? process.env, cwd: options.cwd, detached: process.platform !== 'win32', stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
      this.children.add(child);
      let stdout = '';
      let stderr = '';
      const lines = (chunk: Buffer, sink: 'out' | 'err') => {
        const text = chunk.toString('utf8');
        if (sink === 'out') stdout += text;
        else stderr += text;
        for (const line of text.split(/\r?\n/)) if (line.trim()) options.onLine?.(line);
      };
      child.stdout!.on('data', (c: Buffer) => lines(c, 'out'));
      child.stderr!.on('data', (c: Buffer) => lines(c, 'err'));
      const cancel = options.token?.onCancellationRequested(() => this.kill(child));
      child.once('error', (err) => {
        this.children.delete(child);
        cancel?.dispose();
        reject(err);
      });
      child.once('close', (code) => {
        this.children.delete(child);
        cancel?.dispose();
        resolve({ code, stdout, stderr });
      });
    });
  }

  private kill(child: ChildProcess): void {
    try {
      if (process.platform === 'win32') child.kill();
      else process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // gone
    }
  }

  dispose(): void {
    for (const c of this.children) this.kill(c);
    this.children.clear();
  }
}

function gib(bytes: number | undefined): string {
  return bytes == null ? '?' : `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/** The report as Markdown, for the preview. */
export function doctorMarkdown(report: DoctorReport, pythonDescription: string): string {
  const out: string[] = ['# RPO Studio: training environment', ''];
  out.push(report.ok ? '**Ready to train.**' : '**Not ready to train:** see the problems below.', '');
  out.push(`- Python: ${report.python.version} (\`${report.python.executable}\`), chosen as ${pythonDescription}`);
  out.push(`- Platform: ${report.platform}`);
  out.push(`- CUDA: ${report.cuda.available ? `available (CUDA ${report.cuda.version ?? '?'}, bf16 ${report.cuda.bf16 ? 'yes' : 'no'})` : `not available${report.cuda.version ? ` (torch built for CUDA ${report.cuda.version})` : ''}`}`, '');
  if (report.cuda.devices.length) {
    out.push('## GPUs', '', '| # | name | memory | free | compute capability |', '| --- | --- | --- | --- | --- |');
    for (const d of report.cuda.devices) out.push(`| ${d.index} | ${d.name} | ${gib(d.memory_bytes)} | ${gib(d.free_bytes)} | ${d.capability ?? ''} |`);
    out.push('');
  }
  out.push('## Packages', '', '| package | version |', '| --- | --- |');
  for (const [name, version] of Object.entries(report.packages)) out.push(`| ${name} | ${version ?? '**missing**'} |`);
  out.push('');
  out.push('## Problems', '');
  if (!report.problems.length) out.push('None.');
  for (const p of report.problems) out.push(`- **${p.problem}**  `, `  Fix: ${p.fix}`);
  out.push('', 'Run **RPO: Check Training Environment** again after a fix. To use another interpreter, set `rpo.python.path` in your user settings.');
  return out.join('\n') + '\n';
}

export class Doctor {
  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly helpers: HelperProcesses,
    private readonly trainerRoot: string,
    private readonly log: Logger,
  ) {}

  private venvDir(): string {
    return path.join(this.context.globalStorageUri.fsPath, 'venv');
  }

  private venvPython(): string {
    return process.platform === 'win32' ? path.join(this.venvDir(), 'Scripts', 'python.exe') : path.join(this.venvDir(), 'bin', 'python');
  }

  /** Runs the doctor, shows the report; returns it (undefined when Python could not run it). */
  async check(): Promise<DoctorReport | undefined> {
    const python = await findPython();
    const argv = buildDoctorArgv(python.command);
    this.log.info(`doctor: ${JSON.stringify(argv)}`);
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'RPO: checking the training environment…' }, () =>
      this.helpers.run(argv, trainerProcessOptions(process.env, this.trainerRoot)).catch((err: Error) => ({ code: -1, stdout: '', stderr: err.message })),
    );
    let report: DoctorReport | undefined;
    try {
      report = JSON.parse(result.stdout) as DoctorReport;
    } catch {
      report = undefined;
    }
    if (!report || typeof report.ok !== 'boolean') {
      this.log.error(`doctor failed (exit ${result.code}): ${result.stderr.slice(-2000)}`);
      void vscode.window
        .showErrorMessage(
          `RPO: Python ${describePython(python)} could not run the trainer's environment check. ${result.stderr.split('\n').filter(Boolean).at(-1) ?? ''}`,
          'Create Environment…',
          'Set Python Path',
          'Show Log',
        )
        .then((choice) => {
          if (choice === 'Create Environment…') void this.createEnvironment(python.command);
          else if (choice === 'Set Python Path') void vscode.commands.executeCommand('workbench.action.openSettings', SETTING.pythonPath);
          else if (choice === 'Show Log') void vscode.commands.executeCommand('rpo.showLog');
        });
      return undefined;
    }
    const file = path.join(this.context.globalStorageUri.fsPath, 'training-environment.md');
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.writeFile(file, doctorMarkdown(report, describePython(python)));
    await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(file));
    if (!report.ok) {
      void vscode.window
        .showWarningMessage(`RPO: the training environment has ${report.problems.length} problem(s). Create a virtual environment with the trainer's requirements?`, 'Create Environment…')
        .then((choice) => choice && this.createEnvironment(python.command));
    }
    return report;
  }

  /**
   * Creates a venv in the extension's global storage and installs trainer/requirements.txt into
   * it, with progress; then offers to make it the `rpo.python.path` (user setting).
   */
  async createEnvironment(basePython: string): Promise<boolean> {
    const requirements = path.join(this.trainerRoot, 'requirements.txt');
    const ok = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'RPO: creating the training environment', cancellable: true },
      async (progress, token) => {
        progress.report({ message: `python -m venv ${this.venvDir()}` });
        const venv = await this.helpers.run([basePython, '-m', 'venv', this.venvDir()], { token, onLine: (l) => this.log.info(`venv: ${l}`) });
        if (venv.code !== 0) {
          void vscode.window.showErrorMessage(`RPO: could not create a virtual environment with ${basePython}: ${venv.stderr.trim().split('\n').at(-1) ?? ''}`);
          return false;
        }
        progress.report({ message: 'installing torch, transformers, peft, accelerate… (several GB with CUDA)' });
        const pip = await this.helpers.run([this.venvPython(), '-m', 'pip', 'install', '--progress-bar', 'off', '-r', requirements], {
          token,
          onLine: (l) => {
            this.log.info(`pip: ${l}`);
            const m = /^(Collecting|Downloading|Installing|Successfully)\s+(.{0,80})/.exec(l.trim());
            if (m) progress.report({ message: `${m[1]} ${m[2]}` });
          },
        });
        if (token.isCancellationRequested) return false;
        if (pip.code !== 0) {
          void vscode.window.showErrorMessage('RPO: installing the trainer requirements failed. See the log.', 'Show Log').then((c) => c && vscode.commands.executeCommand('rpo.showLog'));
          return false;
        }
        return true;
      },
    );
    if (!ok) return false;
    const use = await vscode.window.showInformationMessage(`RPO: the training environment is ready (${this.venvPython()}). Use it for training runs?`, 'Use It');
    if (use) await updateUserSetting(SETTING.pythonPath, this.venvPython());
    return true;
  }
}

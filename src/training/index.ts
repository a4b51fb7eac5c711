import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Feature, Services } from '../services';
import { testHooksOn } from '../testHooks';
import { interruptTrainer, pruneLaunches } from '../node/run/process';
import { StopRefusedError, verifyTrainer } from '../node/run/processInfo';
import { FINAL_STATUSES } from '../core/run/state';
import { isTrainerAlive, listRuns, loadRun } from '../node/run/store';
import { DASHBOARD_VIEW_TYPE, Dashboards } from './dashboard';
import { Doctor, HelperProcesses } from './doctor';
import { findPython } from './python';
import { type LiveRun, RunManager, RunStartError } from './runManager';
import { RUNS_VIEW_ID, RunItem, RunsTreeProvider } from './runsView';
import { chooseRunConfig } from './startRun';
import { TrainingStatusBar } from './statusBar';
import { registerWinrateCommands } from './winrateCommands';
import { registerSampleCommand } from './sampleRun';

/** Run commands execute Python: refused in an untrusted workspace, with the reason. */
async function requireTrust(what: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const choice = await vscode.window.showWarningMessage(
    `RPO: ${what} runs Python code, so it is disabled until you trust this workspace.`,
    'Manage Workspace Trust',
  );
  if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}

function runsDirs(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).map((f) => path.join(f.uri.fsPath, '.rpo', 'runs'));
}

/** A command argument from the runs view, the status bar, a dashboard or a test: to a run folder or live id. */
function targetOf(arg: unknown): string | undefined {
  if (arg instanceof RunItem) return arg.summary.runDir;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (typeof arg === 'string') return arg;
  return undefined;
}

export const trainingFeature: Feature = {
  id: 'training',
  register({ context, log }: Services): vscode.Disposable[] {
    const trainerRoot = path.join(context.extensionUri.fsPath, 'trainer');
    const helpers = new HelperProcesses();
    const manager = new RunManager(log, trainerRoot);
    const doctor = new Doctor(context, helpers, trainerRoot, log);

    const resolveLive = (target: string | undefined): LiveRun | undefined => (target ? manager.get(target) ?? manager.byRunDir(target) : undefined);

    const resume = async (runDir: string): Promise<LiveRun | undefined> => {
      if (!(await requireTrust('Resuming a training run'))) return undefined;
      const live = manager.byRunDir(runDir);
      if (live?.proc.running) {
        void vscode.window.showInformationMessage(`RPO: ${path.basename(runDir)} is already running.`);
        return live;
      }
      try {
        const run = await manager.start({ resumeRunDir: runDir });
        dashboards.followResumed(run, runDir);
        dashboards.open(run, true);
        return run;
      } catch (err) {
        void vscode.window.showErrorMessage(`RPO: ${(err as Error).message}`);
        return undefined;
      }
    };

    const stop = async (run: LiveRun) => {
      try {
        await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `RPO: stopping ${path.basename(run.runDir ?? run.label)} (saving a checkpoint)…` },
          () => manager.stop(run),
        );
      } catch (err) {
        if (!(err instanceof StopRefusedError)) throw err;
        log.warn(err.message);
        void vscode.window.showErrorMessage(`RPO: ${err.message}. Nothing was signalled.`);
      }
    };

    const dashboards = new Dashboards(context.extensionUri, manager, { stop, resume, runsDirs }, log);
    const tree = new RunsTreeProvider(manager, runsDirs);
    const treeView = vscode.window.createTreeView(RUNS_VIEW_ID, { treeDataProvider: tree, showCollapseAll: false });
    const statusBar = new TrainingStatusBar(manager);
    if (!vscode.workspace.isTrusted) {
      // Shown above the list even when runs exist (the welcome view only shows when it is empty).
      treeView.message = 'Restricted Mode: training runs Python code, so starting, stopping and resuming runs is disabled. Trust this workspace to enable them.';
    }
    const pruneAllLaunches = () => {
      for (const dir of runsDirs()) {
        const removed = pruneLaunches(dir);
        if (removed.length) log.info(`removed ${removed.length} launch record(s) of ended trainers under ${dir}: ${removed.join(', ')}`);
      }
    };
    const trustGranted = vscode.workspace.onDidGrantWorkspaceTrust(() => {
      treeView.message = undefined;
      pruneAllLaunches();
      manager.reattach(runsDirs());
      tree.refresh();
    });

    // Notifications when a run ends (only for runs this window follows).
    const endNotices = manager.onDidChange((n) => {
      if (!n.exited) return;
      const s = n.run.state;
      const name = path.basename(n.run.runDir ?? n.run.label);
      if (s.status === 'failed') {
        void vscode.window.showErrorMessage(`RPO: run ${name} failed: ${s.failure?.reason ?? 'unknown reason'}`, 'Open Dashboard', 'Show Log').then((c) => {
          if (c === 'Open Dashboard') dashboards.open(n.run);
          else if (c === 'Show Log') void vscode.commands.executeCommand('rpo.showLog');
        });
      } else if (s.status === 'completed') {
        void vscode.window.showInformationMessage(`RPO: run ${name} completed (${s.step} steps).`, 'Open Dashboard').then((c) => c && dashboards.open(n.run));
      }
    });

    // Following a run reads files only, but re-attaching means owning its process: trusted only.
    // Launch folders of trainers that ended while no window followed them are retired first
    // (their stderr goes to the run folder; see retireLaunch).
    if (vscode.workspace.isTrusted) pruneAllLaunches();
    const reattached = vscode.workspace.isTrusted ? manager.reattach(runsDirs()) : [];
    if (reattached.length) log.info(`re-attached ${reattached.length} running trainer(s)`);

    const commands = [
      vscode.commands.registerCommand('rpo.startTraining', async (arg?: vscode.Uri) => {
        if (!(await requireTrust('Starting a training run'))) return undefined;
        const chosen = await chooseRunConfig(arg instanceof vscode.Uri ? arg : undefined);
        if (!chosen) return undefined;
        try {
          const run = await manager.start({ configPath: chosen.configPath, resource: chosen.folder?.uri });
          dashboards.open(run, true);
          return run.id;
        } catch (err) {
          const message = err instanceof RunStartError ? err.message : String(err);
          log.error(`could not start the run: ${message}`);
          // Not awaited: the command returns while the message waits for the user.
          const fix = err instanceof RunStartError && err.fix === 'config' ? 'Open Run Config' : 'Check Training Environment';
          void vscode.window.showErrorMessage(`RPO: ${message}`, fix, 'Show Log').then((choice) => {
            if (choice === 'Check Training Environment') void vscode.commands.executeCommand('rpo.checkTrainingEnvironment');
            else if (choice === 'Open Run Config') void vscode.window.showTextDocument(vscode.Uri.file(chosen.configPath));
            else if (choice === 'Show Log') void vscode.commands.executeCommand('rpo.showLog');
          });
          return undefined;
        }
      }),
      vscode.commands.registerCommand('rpo.checkTrainingEnvironment', async () => {
        if (!(await requireTrust('Checking the training environment'))) return undefined;
        return doctor.check();
      }),
      vscode.commands.registerCommand('rpo.stopTraining', async (arg?: unknown) => {
        let target = targetOf(arg);
        if (!target) {
          const running = manager.all().filter((r) => r.proc.running);
          if (running.length === 1) target = running[0].id;
          else if (running.length > 1) {
            const pick = await vscode.window.showQuickPick(running.map((r) => ({ label: path.basename(r.runDir ?? r.label), description: `${r.state.step}/${r.state.totalSteps}`, id: r.id })), { title: 'Stop Training Run' });
            target = pick?.id;
          } else {
            void vscode.window.showInformationMessage('RPO: no training run is running in this window.');
            return;
          }
        }
        if (!target) return;
        const live = resolveLive(target);
        if (live) return stop(live);
        // A run started elsewhere on this machine (e.g. `rpo train` in a terminal).
        const loaded = loadRun(target);
        if (loaded.live && loaded.process) {
          const record = loaded.process;
          // process.json is a workspace file: its pid is signalled only if it is that trainer,
          // checked before asking and again after (the process may have ended meanwhile).
          const refuse = async () => {
            const check = await verifyTrainer(record);
            if (check.ok) return false;
            log.warn(`not stopping pid ${record.pid} named by ${target}/process.json: ${check.reason}`);
            void vscode.window.showErrorMessage(`RPO: not stopping pid ${record.pid}: ${check.reason}. Nothing was signalled.`);
            return true;
          };
          if (await refuse()) return;
          const ok = await vscode.window.showWarningMessage(`RPO: ${path.basename(target)} was not started by this window (pid ${record.pid}). Stop it?`, { modal: true }, 'Stop');
          if (ok && !(await refuse())) interruptTrainer(record.pid, record.argv);
          tree.refresh();
        }
      }),
      vscode.commands.registerCommand('rpo.resumeTraining', async (arg?: unknown) => {
        let target = targetOf(arg);
        if (!target) {
          const stopped = runsDirs().flatMap((d) => listRuns(d)).filter((r) => r.status === 'stopped');
          if (!stopped.length) {
            void vscode.window.showInformationMessage('RPO: there is no stopped run to resume.');
            return undefined;
          }
          const pick = await vscode.window.showQuickPick(stopped.map((r) => ({ label: r.name, description: `${r.method ?? ''} · ${r.step}/${r.totalSteps}`, runDir: r.runDir })), { title: 'Resume Training Run' });
          target = pick?.runDir;
        }
        if (!target) return undefined;
        const run = await resume(resolveLive(target)?.runDir ?? target);
        return run?.id;
      }),
      vscode.commands.registerCommand('rpo.openRunDashboard', async (arg?: unknown) => {
        let target = targetOf(arg);
        if (!target) {
          const items = tree.items();
          if (!items.length) {
            void vscode.window.showInformationMessage('RPO: there are no runs in this workspace yet. Start one with "RPO: Start Training Run…".');
            return;
          }
          const pick = await vscode.window.showQuickPick(items.map((i) => ({ label: i.summary.name, description: String(i.description ?? ''), runDir: i.summary.runDir })), { title: 'Open Run Dashboard' });
          target = pick?.runDir;
        }
        if (!target) return;
        const live = resolveLive(target);
        if (live) dashboards.open(live);
        else if (fs.existsSync(target)) dashboards.open(target);
      }),
      vscode.commands.registerCommand('rpo.openRunFolder', async (arg?: unknown) => {
        const target = targetOf(arg);
        if (target) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(target));
      }),
      vscode.commands.registerCommand('rpo.deleteRun', async (arg?: unknown) => {
        const target = targetOf(arg);
        if (!target) return;
        const live = resolveLive(target);
        const loaded = loadRun(target);
        if ((live && live.proc.running) || (loaded.process && !FINAL_STATUSES.has(loaded.state.status) && isTrainerAlive(loaded.process.pid))) {
          void vscode.window.showWarningMessage(`RPO: ${path.basename(target)} is still running. Stop it first.`);
          return;
        }
        const ok = await vscode.window.showWarningMessage(`Delete the run folder ${path.basename(target)} with its checkpoints and model?`, { modal: true, detail: target }, 'Delete');
        if (ok !== 'Delete') return;
        await vscode.workspace.fs.delete(vscode.Uri.file(target), { recursive: true, useTrash: true }).then(undefined, () => fs.promises.rm(target, { recursive: true, force: true }));
        if (live) manager.forget(live);
        tree.refresh();
      }),
      vscode.commands.registerCommand('rpo.refreshRuns', () => tree.refresh()),
      ...registerWinrateCommands({ log, trainerRoot, runsDirs, requireTrust }),
      registerSampleCommand({ log, trainerRoot, runsDirs, requireTrust }),
    ];
    if (RPO_TEST_HOOKS_BUILT && testHooksOn(context)) {
      commands.push(
        // For integration tests: which Python a run would use, and why. Not contributed to the palette.
        vscode.commands.registerCommand('_rpo.resolvePython', (resource?: vscode.Uri) => findPython(resource instanceof vscode.Uri ? resource : undefined)),
        // For integration tests: a snapshot of what the window follows. Not contributed to the palette.
        vscode.commands.registerCommand('_rpo.trainingSnapshot', () => ({
          runs: manager.all().map((r) => ({
            id: r.id,
            runDir: r.runDir,
            running: r.proc.running,
            pid: r.proc.pid,
            status: r.state.status,
            step: r.state.step,
            totalSteps: r.state.totalSteps,
            events: r.state.events,
            stepsLogged: r.state.steps.x.length,
            failure: r.state.failure,
          })),
          statusBar: statusBar.text,
          dashboards: dashboards.all().map((d) => ({ key: d.key, runDir: d.runDir, title: d.panel.title })),
          treeItems: tree.items().map((i) => ({ name: i.summary.name, status: i.summary.status, contextValue: i.contextValue })),
        })),
      );
    }

    const serializer = vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
      async deserializeWebviewPanel(panel, state: unknown) {
        const runDir = typeof state === 'object' && state !== null && typeof (state as { runDir?: unknown }).runDir === 'string' ? (state as { runDir: string }).runDir : undefined;
        dashboards.restore(panel, runDir && fs.existsSync(runDir) ? runDir : undefined);
      },
    });

    // Dispose order: dashboards and views first, then the runs (kept running or stopped per setting).
    return [...commands, serializer, endNotices, trustGranted, dashboards, treeView, tree, statusBar, helpers, manager];
  },
};

import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { extensionId, getApi, waitFor, workspaceFolder } from './helpers';
import { requireTestPython } from '../support/python.cjs';

/**
 * A real CPU training run of the Python trainer with a tiny model, through the commands:
 * start, receive events, stop (SIGINT -> checkpoint), resume, finish. Python: $RPO_TEST_PYTHON,
 * else .rpo-test/python (written by scripts/setup.sh), else the dev venv.
 */

interface Snapshot {
  runs: { id: string; runDir: string | null; running: boolean; pid: number; status: string; step: number; totalSteps: number; events: number; stepsLogged: number; failure: { reason: string; stderrTail?: string } | null }[];
  statusBar: string;
  dashboards: { key: string; runDir: string | null; title: string }[];
  treeItems: { name: string; status: string; contextValue: string }[];
}

const snapshot = () => vscode.commands.executeCommand<Snapshot>('_rpo.trainingSnapshot');

/** A file of the repository (the test bundle runs from .rpo-test/<run>/tests/ inside it). */
function repoFile(rel: string): string {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, rel))) return path.join(dir, rel);
  }
  throw new Error(`${rel} not found above ${__dirname}`);
}

const findPython = (): string => requireTestPython(__dirname);

suite('training: a real trainer run from VS Code', function () {
  this.timeout(240_000);
  let configUri: vscode.Uri;
  let runId: string;
  let runDir: string;

  suiteSetup(async function () {
    this.timeout(120_000);
    await getApi();
    const python = findPython();
    const ext = vscode.extensions.getExtension(extensionId)!;
    const trainerRoot = path.join(ext.extensionUri.fsPath, 'trainer');
    const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-tiny-model-'));
    // Async: a synchronous child would block the extension host.
    await promisify(execFile)(python, ['-m', 'rpo_trainer.testing.tiny_model', modelDir], { env: { ...process.env, PYTHONPATH: trainerRoot } });
    const ws = workspaceFolder().uri.fsPath;
    const fixtures = repoFile(path.join('test', 'fixtures', 'training'));
    const dataDir = path.join(ws, 'training-it');
    fs.mkdirSync(dataDir, { recursive: true });
    fs.copyFileSync(path.join(fixtures, 'tiny.pref.jsonl'), path.join(dataDir, 'tiny.pref.jsonl'));
    const config = JSON.parse(fs.readFileSync(path.join(fixtures, 'tiny-dpo.rpo.json'), 'utf8')) as Record<string, unknown>;
    delete config.$schema;
    Object.assign(config, { name: 'it-dpo', model: modelDir, max_steps: 40, output_dir: '../.rpo/runs' });
    const configPath = path.join(dataDir, 'it-dpo.rpo.json');
    fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
    configUri = vscode.Uri.file(configPath);
    await vscode.workspace.getConfiguration('rpo.python').update('path', python, vscode.ConfigurationTarget.Global);
  });

  test('the environment check runs the trainer doctor with the configured Python', async () => {
    const report = await vscode.commands.executeCommand<{ ok: boolean; python: { executable: string }; packages: Record<string, string | null> }>('rpo.checkTrainingEnvironment');
    assert.ok(report, 'no doctor report');
    assert.ok(report.packages.torch, 'torch missing from the report');
    assert.equal(typeof report.ok, 'boolean');
  });

  test('start: the run streams events, shows in the status bar, the runs view and a dashboard', async () => {
    runId = (await vscode.commands.executeCommand<string>('rpo.startTraining', configUri))!;
    assert.ok(runId, 'rpo.startTraining returned no run id');
    const running = await waitFor(async () => (await snapshot()).runs.find((r) => r.id === runId && r.stepsLogged >= 3), 120_000, '3 logged steps');
    assert.equal(running.status, 'running');
    assert.ok(running.runDir && fs.existsSync(path.join(running.runDir, 'events.jsonl')));
    runDir = running.runDir;
    assert.ok(fs.existsSync(path.join(runDir, 'process.json')), 'process.json was not written into the run folder');
    const s = await waitFor(async () => {
      const snap = await snapshot();
      return /RPO \d+\/40/.test(snap.statusBar) && snap.treeItems.some((i) => i.name === path.basename(runDir) && i.contextValue.includes('live')) ? snap : undefined;
    }, 10_000, 'status bar and runs view');
    assert.ok(s.dashboards.some((d) => d.runDir === runDir), 'no dashboard for the run');
  });

  test('stop: SIGINT to the process group, the trainer checkpoints and ends stopped', async () => {
    await vscode.commands.executeCommand('rpo.stopTraining', runDir);
    const run = (await snapshot()).runs.find((r) => r.id === runId)!;
    assert.equal(run.running, false, 'the trainer process is still running after stop returned');
    assert.equal(run.status, 'stopped', `status ${run.status}: ${JSON.stringify(run.failure)}`);
    assert.ok(run.step < 40);
    const checkpoints = fs.readdirSync(path.join(runDir, 'checkpoints'));
    assert.ok(checkpoints.length > 0, 'no checkpoint after stop');
    assert.throws(() => process.kill(run.pid, 0), 'the trainer pid is still alive');
    const item = await waitFor(async () => (await snapshot()).treeItems.find((i) => i.name === path.basename(runDir) && i.status === 'stopped'), 10_000, 'stopped in the runs view');
    assert.match(item.contextValue, /resumable/);
  });

  test('resume: continues from the checkpoint and runs to completion', async () => {
    const stoppedAt = (await snapshot()).runs.find((r) => r.id === runId)!.step;
    const resumedId = await vscode.commands.executeCommand<string>('rpo.resumeTraining', runDir);
    assert.ok(resumedId, 'rpo.resumeTraining returned no run id');
    const done = await waitFor(async () => (await snapshot()).runs.find((r) => r.id === resumedId && !r.running), 180_000, 'the resumed run to end');
    assert.equal(done.status, 'completed', `status ${done.status}: ${JSON.stringify(done.failure)}`);
    assert.equal(done.step, 40);
    assert.ok(done.stepsLogged >= 40 - 1, `the dashboard series should hold the whole history, got ${done.stepsLogged} points`);
    assert.ok(done.step > stoppedAt);
    assert.ok(fs.existsSync(path.join(runDir, 'final')), 'no final model');
    // Both launches (start, resume) were retired when their trainer exited: no launch folder
    // left, their stderr in the run folder, one header per launch.
    const launches = path.join(path.dirname(runDir), '.launches');
    assert.ok(!fs.existsSync(launches) || fs.readdirSync(launches).length === 0, `launch folders left: ${fs.existsSync(launches) ? fs.readdirSync(launches).join(', ') : ''}`);
    const stderr = fs.readFileSync(path.join(runDir, 'stderr.log'), 'utf8');
    assert.equal(stderr.match(/^==> launch /gm)?.length, 2, 'one stderr section per launch');
  });

  test('a run whose Python cannot start fails with a clear message, not a hang', async () => {
    await vscode.workspace.getConfiguration('rpo.python').update('path', '/nonexistent/python3', vscode.ConfigurationTarget.Global);
    try {
      const id = await vscode.commands.executeCommand<string | undefined>('rpo.startTraining', configUri);
      assert.equal(id, undefined);
    } finally {
      await vscode.workspace.getConfiguration('rpo.python').update('path', findPython(), vscode.ConfigurationTarget.Global);
    }
  });
});

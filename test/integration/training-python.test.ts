import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { getApi, waitFor, workspaceFolder } from './helpers';
import { requireTestPython } from '../support/python.cjs';

/**
 * Which Python runs the trainer: `rpo.python.path` (user/machine settings only) > the Python
 * extension's active interpreter through its public API > python3 on the PATH.
 *
 * The real Python extension (ms-python.python) cannot be installed here (no marketplace, no
 * network). The harness loads test/fixtures/vscode-extensions/ms-python.python-stub instead: same
 * extension id, same `exports.environments` API shape as @vscode/python-extension documents
 * (getActiveEnvironmentPath / resolveEnvironment / updateActiveEnvironmentPath). It stands in for
 * what cannot run here; everything else (our lookup, activation of the other extension, the
 * doctor process started with the chosen interpreter) is real.
 */

interface PythonChoice {
  command: string;
  source: 'setting' | 'python-extension' | 'path';
}

interface StubApi {
  environments: { updateActiveEnvironmentPath(p: string): Promise<void> };
  _calls: { method: string; path?: string }[];
}

const resolvePython = () => vscode.commands.executeCommand<PythonChoice>('_rpo.resolvePython');

const findTestPython = (): string => requireTestPython(__dirname);

suite('training: which Python runs the trainer', function () {
  this.timeout(120_000);
  const python = findTestPython();
  // A venv's folder: the Python extension reports environments by folder or executable.
  const envFolder = path.dirname(path.dirname(python));
  let stub: StubApi;
  let saved: string | undefined;
  let trap = '';
  let trapMarker = '';

  suiteSetup(async function () {
    await getApi();
    const ext = vscode.extensions.getExtension<StubApi>('ms-python.python');
    if (!ext) throw new Error('the ms-python.python stand-in is not loaded (test/harness/integration.mjs loads test/fixtures/vscode-extensions/*)');
    assert.equal(ext.packageJSON.version, '0.0.0-stub', 'this test expects the stand-in, not a real Python extension');
    saved = vscode.workspace.getConfiguration('rpo.python').inspect<string>('path')?.globalValue;
    await vscode.workspace.getConfiguration('rpo.python').update('path', undefined, vscode.ConfigurationTarget.Global);
    // The stand-in has no activation event (the real one activates on Python files): our lookup
    // must activate it.
    const wasActive = ext.isActive;
    await resolvePython();
    assert.ok(ext.isActive, `the Python extension was not activated by the lookup (active before: ${wasActive})`);
    stub = ext.exports;
    // An "interpreter" that must never run: it leaves a marker if it does.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-trap-'));
    trapMarker = path.join(dir, 'ran');
    trap = path.join(dir, 'python');
    fs.writeFileSync(trap, `#!/bin/sh\necho "$@" > '${trapMarker}'\nexit 1\n`, { mode: 0o755 });
  });

  suiteTeardown(async () => {
    await vscode.workspace.getConfiguration('rpo.python').update('path', saved, vscode.ConfigurationTarget.Global);
    await stub.environments.updateActiveEnvironmentPath('python');
    fs.rmSync(path.join(workspaceFolder().uri.fsPath, '.vscode', 'settings.json'), { force: true });
  });

  test('nothing selected in the Python extension (its default "python") and no setting: python3 on the PATH', async () => {
    await stub.environments.updateActiveEnvironmentPath('python');
    assert.deepEqual(await resolvePython(), { command: 'python3', source: 'path' });
    assert.ok(stub._calls.some((c) => c.method === 'getActiveEnvironmentPath'), 'the Python extension API was not asked');
  });

  test("the Python extension's interpreter (an environment folder, resolved to its executable) runs the trainer's doctor", async () => {
    await stub.environments.updateActiveEnvironmentPath(envFolder);
    stub._calls.length = 0;
    const choice = await resolvePython();
    assert.deepEqual(choice, { command: path.join(envFolder, 'bin', 'python'), source: 'python-extension' });
    assert.deepEqual(stub._calls.map((c) => c.method), ['getActiveEnvironmentPath', 'resolveEnvironment']);
    const report = await vscode.commands.executeCommand<{ ok: boolean; python: { executable: string }; packages: Record<string, string | null> } | undefined>('rpo.checkTrainingEnvironment');
    assert.ok(report, 'the doctor did not run with the Python extension interpreter');
    assert.equal(report.python.executable, path.join(envFolder, 'bin', 'python'));
    assert.ok(report.packages.torch, 'the environment chosen through the Python extension has torch');
  });

  test('an executable path from the Python extension is used when it does not resolve; a missing one is not', async () => {
    // resolveEnvironment of the stand-in answers undefined for paths that do not exist.
    await stub.environments.updateActiveEnvironmentPath('/nonexistent/env/bin/python');
    assert.deepEqual(await resolvePython(), { command: 'python3', source: 'path' });
    await stub.environments.updateActiveEnvironmentPath(python);
    assert.deepEqual(await resolvePython(), { command: python, source: 'python-extension' });
  });

  test('rpo.python.path (user setting) wins: the Python extension is not even asked', async () => {
    await stub.environments.updateActiveEnvironmentPath(trap);
    await vscode.workspace.getConfiguration('rpo.python').update('path', python, vscode.ConfigurationTarget.Global);
    try {
      stub._calls.length = 0;
      assert.deepEqual(await resolvePython(), { command: python, source: 'setting' });
      assert.deepEqual(stub._calls, []);
    } finally {
      await vscode.workspace.getConfiguration('rpo.python').update('path', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  test("the workspace's settings cannot choose the executable (rpo.python.path is machine-scoped)", async () => {
    await stub.environments.updateActiveEnvironmentPath(envFolder);
    const settingsFile = path.join(workspaceFolder().uri.fsPath, '.vscode', 'settings.json');
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    // A window-scoped setting next to it proves VS Code has read the file.
    fs.writeFileSync(settingsFile, JSON.stringify({ 'rpo.python.path': trap, 'rpo.training.stopTimeoutSeconds': 77 }));
    await waitFor(() => vscode.workspace.getConfiguration('rpo.training').get<number>('stopTimeoutSeconds') === 77, 15_000, 'the workspace settings to load');
    const choice = await resolvePython();
    assert.deepEqual(choice, { command: path.join(envFolder, 'bin', 'python'), source: 'python-extension' });
    const report = await vscode.commands.executeCommand<{ python: { executable: string } } | undefined>('rpo.checkTrainingEnvironment');
    assert.equal(report?.python.executable, path.join(envFolder, 'bin', 'python'));
    assert.ok(!fs.existsSync(trapMarker), 'the executable named by the workspace settings ran');
  });
});

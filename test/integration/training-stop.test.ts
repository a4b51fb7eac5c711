import * as assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { getApi, waitFor, workspaceFolder } from './helpers';

/**
 * RPO: Stop Training Run on a run folder whose process.json (a workspace file) names a pid that
 * is not the recorded trainer: nothing is signalled, nothing is asked. The foreign process
 * mentions rpo_trainer on its command line, so the liveness check alone takes it for a trainer
 * (as it would `tail -f rpo_trainer.log`).
 */
suite('training: Stop and a forged process.json', () => {
  let foreign: ChildProcess | undefined;
  let dir: string;

  suiteSetup(async () => {
    await getApi();
    dir = fs.mkdtempSync(path.join(workspaceFolder().uri.fsPath, 'stop-'));
  });

  suiteTeardown(() => {
    if (foreign && foreign.exitCode === null && foreign.signalCode === null) foreign.kill('SIGKILL');
  });

  test('a process.json naming a foreign pid: Stop does not signal it', async function () {
    if (process.platform === 'win32') this.skip();
    const marker = path.join(dir, 'sigint');
    const code = `process.on('SIGINT', () => { require('fs').writeFileSync(${JSON.stringify(marker)}, 'SIGINT'); process.exit(0); }); require('fs').writeFileSync(${JSON.stringify(marker + '.ready')}, ''); setInterval(() => {}, 1000);`;
    foreign = spawn(process.execPath, ['-e', code, '--', 'rpo_trainer'], { detached: true, stdio: 'ignore', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
    await waitFor(() => fs.existsSync(marker + '.ready'), 20_000, 'the foreign process to start');
    const runDir = path.join(dir, 'forged-run');
    fs.mkdirSync(runDir);
    fs.writeFileSync(path.join(runDir, 'process.json'), JSON.stringify({
      pid: foreign.pid,
      hostname: os.hostname(),
      startedAt: new Date().toISOString(),
      argv: ['python', '-m', 'rpo_trainer', 'train', '--config', 'x.rpo.json'],
    }));
    // Without the check this asks "Stop it?" in a modal and never returns here.
    await vscode.commands.executeCommand('rpo.stopTraining', runDir);
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(!fs.existsSync(marker), 'the foreign process got a SIGINT');
    assert.equal(foreign.exitCode, null, 'the foreign process is still running');
    assert.equal(foreign.signalCode, null);
  });
});

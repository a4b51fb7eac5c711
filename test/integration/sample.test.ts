import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import { extensionId, getApi, workspaceFolder } from './helpers';
import { requireTestPython } from '../support/python.cjs';

/**
 * RPO: Sample from Run… (rpo.run.sample) in a real VS Code over a real tiny run: the trainer
 * trains (CPU), then the command, given the options as a dashboard or another command gives
 * them, runs `python -m rpo_trainer generate` with the configured Python and resolves with the
 * candidates file, which holds blind records and a sidecar.
 */

function repoFile(rel: string): string {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, rel))) return path.join(dir, rel);
  }
  throw new Error(`${rel} not found above ${__dirname}`);
}

suite('Sample from Run: a real generation from VS Code', function () {
  this.timeout(240_000);
  let runDir: string;

  suiteSetup(async function () {
    this.timeout(180_000);
    await getApi();
    const python = requireTestPython(__dirname);
    const trainerRoot = path.join(vscode.extensions.getExtension(extensionId)!.extensionUri.fsPath, 'trainer');
    const env = { ...process.env, PYTHONPATH: trainerRoot, OMP_NUM_THREADS: '1', HF_HUB_OFFLINE: '1' };
    const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-sample-model-'));
    await promisify(execFile)(python, ['-m', 'rpo_trainer.testing.tiny_model', modelDir], { env });
    const ws = workspaceFolder().uri.fsPath;
    const dataDir = path.join(ws, 'sample-it');
    fs.mkdirSync(dataDir, { recursive: true });
    const fixtures = repoFile(path.join('test', 'fixtures', 'training'));
    fs.copyFileSync(path.join(fixtures, 'tiny.pref.jsonl'), path.join(dataDir, 'tiny.pref.jsonl'));
    const config = JSON.parse(fs.readFileSync(path.join(fixtures, 'tiny-dpo.rpo.json'), 'utf8')) as Record<string, unknown>;
    delete config.$schema;
    Object.assign(config, { name: 'sample-it', model: modelDir, max_steps: 2, eval_split: 0.25, output_dir: '../.rpo/runs' });
    const configPath = path.join(dataDir, 'sample-it.rpo.json');
    fs.writeFileSync(configPath, JSON.stringify(config));
    const { stdout } = await promisify(execFile)(python, ['-m', 'rpo_trainer', 'train', '--config', configPath], { env, cwd: trainerRoot });
    const end = JSON.parse(stdout.trim().split('\n').pop()!) as { status: string; run_dir: string };
    assert.equal(end.status, 'completed');
    runDir = end.run_dir;
    await vscode.workspace.getConfiguration('rpo.python').update('path', python, vscode.ConfigurationTarget.Global);
  });

  test('samples the final model and the reference into a blind candidates file and a sidecar', async () => {
    const file = await vscode.commands.executeCommand<string | undefined>('rpo.run.sample', runDir, { greedy: true, maxNewTokens: 4, numPrompts: 2, batchSize: 2 });
    assert.equal(file, path.join(runDir, 'samples', 'final-vs-reference.eval.pref.jsonl'));
    const records = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(records.length, 2);
    for (const r of records) assert.deepEqual(Object.keys(r), ['prompt', 'responses']);
    const side = fs.readFileSync(`${file}.sources.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(side.length, 3);
    assert.equal(side[0]!.format, 'rpo-candidates-sources');
    assert.deepEqual((side[0]!.settings as Record<string, unknown>).greedy, true);
    // Run again with the same options: the file is complete, nothing changes.
    const again = await vscode.commands.executeCommand<string | undefined>('rpo.run.sample', runDir, { greedy: true, maxNewTokens: 4, numPrompts: 2, batchSize: 2 });
    assert.equal(again, file);
    assert.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, 2);
  });
});

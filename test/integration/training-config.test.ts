import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { getApi, waitFor, workspaceUri } from './helpers';

/** *.rpo.json files are checked against the trainer's run-config schema (jsonValidation). */
suite('training: run config schema in the editor', function () {
  this.timeout(60_000);

  test('a wrong type and an unknown key in a *.rpo.json get diagnostics from the shared schema', async () => {
    await getApi();
    const uri = workspaceUri('schema-check.rpo.json');
    fs.writeFileSync(uri.fsPath, JSON.stringify({ model: 'm', dataset: 'd.jsonl', beta: 'high', learning_rte: 1e-5 }, null, 2));
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const diagnostics = await waitFor(() => {
      const d = vscode.languages.getDiagnostics(uri);
      return d.length >= 2 ? d : undefined;
    }, 45_000, 'schema diagnostics');
    const text = diagnostics.map((d) => d.message).join('\n');
    assert.match(text, /number/i, `no type error for beta: ${text}`);
    assert.match(text, /learning_rte|not allowed/i, `no unknown-key error: ${text}`);
  });

  test('the sample run config is valid', async () => {
    const uri = workspaceUri('sample.rpo.json');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual(vscode.languages.getDiagnostics(uri).map((d) => d.message), []);
  });
});

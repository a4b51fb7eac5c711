import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { webviewPoster } from '../../src/webviewHtml';
import { extensionId, getApi, workspaceFolder } from './helpers';

suite('foundation: activation and commands', () => {
  test('the extension activates and every feature starts', async () => {
    const api = await getApi();
    assert.deepEqual(api.failedFeatures, [], `features failed to start: ${api.failedFeatures.join(', ')}`);
    assert.ok(vscode.extensions.getExtension(extensionId)?.isActive);
  });

  test('the test workspace is a copy of sample-workspace', () => {
    const ws = workspaceFolder();
    assert.ok(fs.existsSync(path.join(ws.uri.fsPath, 'sample.rpo.json')), 'sample.rpo.json missing in the workspace');
  });

  test('every contributed command is registered and every registered rpo.* command is contributed', async () => {
    await getApi();
    const pkg = vscode.extensions.getExtension(extensionId)!.packageJSON as {
      contributes: { commands: { command: string }[]; views?: Record<string, { id: string }[]> };
    };
    const contributed = new Set(pkg.contributes.commands.map((c) => c.command));
    // VS Code itself registers <viewId>.open/.focus/.resetViewLocation/.toggleVisibility/.removeView
    const viewIds = Object.values(pkg.contributes.views ?? {}).flat().map((v) => v.id);
    const viewCommand = (c: string) => viewIds.some((v) => /^\.(open|focus|resetViewLocation|toggleVisibility|removeView)$/.test(c.slice(v.length)) && c.startsWith(v));
    const registered = new Set((await vscode.commands.getCommands(true)).filter((c) => c.startsWith('rpo.') && !viewCommand(c)));
    const notRegistered = [...contributed].filter((c) => !registered.has(c));
    const notContributed = [...registered].filter((c) => !contributed.has(c));
    assert.deepEqual(notRegistered, [], `contributed in package.json but not registered: ${notRegistered.join(', ')}`);
    assert.deepEqual(notContributed, [], `registered but not contributed in package.json: ${notContributed.join(', ')}`);
  });

  test('rpo.showLog runs', async () => {
    await vscode.commands.executeCommand('rpo.showLog');
  });

  test('a message for a closed panel (work that ended after the close) is dropped, not thrown', async () => {
    const panel = vscode.window.createWebviewPanel('rpo.test.closed', 'closed', vscode.ViewColumn.Active, {});
    const post = webviewPoster<{ type: string }>(panel);
    assert.equal(await post({ type: 'open' }), true);
    panel.dispose();
    // What every view did before: VS Code throws on a closed panel's webview.
    assert.throws(() => panel.webview.postMessage({ type: 'late' }), /disposed/);
    assert.equal(await post({ type: 'late' }), false);
  });
});

// Helpers for integration tests (run inside the VS Code extension host). Import from test files:
//   import { getApi, workspaceFolder, openInWorkspace } from './helpers';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../src/extension';

export const extensionId = 'rpo-studio.rpo-studio';

/** Activates RPO Studio (the harness already did) and returns what activate() returned. */
export async function getApi(): Promise<ExtensionApi> {
  const ext = vscode.extensions.getExtension<ExtensionApi>(extensionId);
  if (!ext) throw new Error(`${extensionId} is not loaded`);
  return ext.activate();
}

/** The test workspace folder: a fresh copy of sample-workspace/ for this run. */
export function workspaceFolder(): vscode.WorkspaceFolder {
  const f = vscode.workspace.workspaceFolders?.[0];
  if (!f) throw new Error('no workspace folder open');
  return f;
}

/** A URI inside the test workspace. */
export function workspaceUri(...segments: string[]): vscode.Uri {
  return vscode.Uri.joinPath(workspaceFolder().uri, ...segments);
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Closes every editor (between tests). */
export async function closeAllEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

import * as vscode from 'vscode';

/** Settings of the training feature, as constants with typed getters. */
export const SETTINGS = {
  pythonPath: 'rpo.python.path',
  stopTimeoutSeconds: 'rpo.training.stopTimeoutSeconds',
  keepRunningOnClose: 'rpo.training.keepRunningOnWindowClose',
  defaultModel: 'rpo.training.defaultModel',
} as const;

/**
 * `rpo.python.path` from the user's (or remote machine's) settings only. The setting is
 * machine-scoped, and the workspace's value is ignored even if one is present: nothing in a
 * workspace may choose the executable that runs.
 */
export function pythonPathSetting(): string | undefined {
  const inspected = vscode.workspace.getConfiguration('rpo.python').inspect<string>('path');
  return inspected?.globalValue || undefined;
}

export function stopTimeoutMs(): number {
  const s = vscode.workspace.getConfiguration('rpo.training').get<number>('stopTimeoutSeconds', 120);
  return Math.max(1, s) * 1000;
}

export function keepRunningOnWindowClose(): boolean {
  return vscode.workspace.getConfiguration('rpo.training').get<boolean>('keepRunningOnWindowClose', true);
}

export function defaultModel(): string {
  return vscode.workspace.getConfiguration('rpo.training').get<string>('defaultModel', 'Qwen/Qwen2.5-0.5B-Instruct');
}

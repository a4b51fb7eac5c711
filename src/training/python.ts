import * as vscode from 'vscode';
import { type PythonChoice, discoverPython } from '../core/run/launch';
import { pythonPathSetting } from './settings';

/**
 * The part of the Python extension's public API (ms-python.python `exports.environments`) that we
 * use, typed here because @vscode/python-extension is not a dependency. Every access is checked.
 */
interface PythonEnvironmentsApi {
  getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
  resolveEnvironment(env: { path: string } | string): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
}

async function pythonExtensionInterpreter(resource: vscode.Uri | undefined): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<{ environments?: PythonEnvironmentsApi }>('ms-python.python');
  if (!extension) return undefined;
  const api = extension.isActive ? extension.exports : await extension.activate();
  const environments = api?.environments;
  if (!environments || typeof environments.getActiveEnvironmentPath !== 'function') return undefined;
  const active = environments.getActiveEnvironmentPath(resource);
  if (!active?.path) return undefined;
  const resolved = typeof environments.resolveEnvironment === 'function' ? await environments.resolveEnvironment(active) : undefined;
  return resolved?.executable?.uri?.fsPath ?? active.path;
}

/** `rpo.python.path`, else the Python extension's interpreter, else python3 on the PATH. */
export function findPython(resource?: vscode.Uri): Promise<PythonChoice> {
  return discoverPython({ setting: pythonPathSetting, pythonExtension: () => pythonExtensionInterpreter(resource) });
}

export function describePython(choice: PythonChoice): string {
  switch (choice.source) {
    case 'setting':
      return `${choice.command} (setting rpo.python.path)`;
    case 'python-extension':
      return `${choice.command} (the Python extension's interpreter)`;
    case 'path':
      return `${choice.command} (from the PATH; set rpo.python.path to choose)`;
  }
}

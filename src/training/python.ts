import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { type PythonChoice, discoverPython, interpreterFromPythonApi } from '../core/run/launch';
import { pythonPath } from '../settings';

/**
 * The Python extension's selected interpreter through its public API (the shape
 * @vscode/python-extension documents; that package is not a dependency: interpreterFromPythonApi
 * checks every access). Activates the extension when it is installed and not active yet.
 */
async function pythonExtensionInterpreter(resource: vscode.Uri | undefined): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension('ms-python.python');
  if (!extension) return undefined;
  const api: unknown = extension.isActive ? extension.exports : await extension.activate();
  return interpreterFromPythonApi(api, resource, (p) => {
    try {
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

/** `rpo.python.path`, else the Python extension's interpreter, else python3 on the PATH. */
export function findPython(resource?: vscode.Uri): Promise<PythonChoice> {
  return discoverPython({ setting: pythonPath, pythonExtension: () => pythonExtensionInterpreter(resource), trusted: vscode.workspace.isTrusted });
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

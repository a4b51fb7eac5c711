import type * as vscode from 'vscode';
import type { Logger } from './core/log';

/**
 * The contract between activation (src/extension.ts) and the features it starts
 * (src/features.ts lists them): each feature receives the shared services and hands back its
 * disposables.
 */

/** What every feature receives. `log` is already tagged with the feature's id. */
export interface Services {
  context: vscode.ExtensionContext;
  log: Logger;
}

export interface Feature {
  id: string;
  register(services: Services): vscode.Disposable[] | Promise<vscode.Disposable[]>;
}

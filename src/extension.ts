import * as vscode from 'vscode';
import { tagged } from './core/log';
import { features } from './features';
import { type Services } from './services';

/**
 * Thin activation: build the shared services, then let each feature register itself and hand
 * back its disposables. A feature that fails to start is reported to the user and logged; the
 * others still start.
 */
export async function activate(context: vscode.ExtensionContext): Promise<ExtensionApi> {
  const log = vscode.window.createOutputChannel('RPO Studio', { log: true });
  context.subscriptions.push(log);
  context.subscriptions.push(vscode.commands.registerCommand('rpo.showLog', () => log.show(true)));
  const services: Services = { context, log };
  const failures: string[] = [];
  for (const feature of features) {
    try {
      const disposables = await feature.register({ ...services, log: tagged(log, feature.id) });
      context.subscriptions.push(...disposables);
    } catch (err) {
      failures.push(feature.id);
      log.error(`feature ${feature.id} failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
  }
  if (failures.length) {
    void vscode.window
      .showErrorMessage(`RPO Studio: ${failures.join(', ')} failed to start. See the log for details.`, 'Show Log')
      .then((choice) => choice && log.show());
  }
  log.info(`RPO Studio ${context.extension.packageJSON.version} activated (${features.length - failures.length}/${features.length} features)`);
  return { failedFeatures: failures };
}

export function deactivate(): void {
  // Every feature's disposables are in context.subscriptions; VS Code disposes them.
}

/** Returned from activate(); integration tests read it. */
export interface ExtensionApi {
  failedFeatures: string[];
}

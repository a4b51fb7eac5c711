import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Feature } from '../services';
import { driverCommand, GitSetupError, setUpGitMerge, type GitMergeSetup } from '../node/gitMerge';

/**
 * "RPO: Set Up Git Merge for Labels": `.gitattributes` (`*.pref.jsonl merge=rpo-labels`) and the
 * repository's git config, so branches that labeled the same file merge into votes (docs/merge.md).
 * The driver runs this extension's `rpo` CLI with VS Code's own Node. Argument (for tests):
 * `rpo.setUpGitMerge(folder?: Uri)`.
 */
export const gitMergeFeature: Feature = {
  id: 'gitMerge',
  register({ context, log }) {
    return [
      vscode.commands.registerCommand('rpo.setUpGitMerge', async (folderArg?: unknown): Promise<GitMergeSetup | undefined> => {
        if (!vscode.workspace.isTrusted) {
          void vscode.window.showWarningMessage('Setting up the git merge driver runs git and configures a command: trust this workspace first.', 'Manage Workspace Trust').then((pick) => {
            if (pick) void vscode.commands.executeCommand('workbench.trust.manage');
          });
          return undefined;
        }
        let folder = folderArg instanceof vscode.Uri ? folderArg : undefined;
        if (!folder) {
          const folders = vscode.workspace.workspaceFolders ?? [];
          if (folders.length === 0) {
            void vscode.window.showErrorMessage('Open a folder inside a git repository first.');
            return undefined;
          }
          folder = folders.length === 1 ? folders[0]!.uri : (await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Repository to set up for merging labels' }))?.uri;
          if (!folder) return undefined;
        }
        const cli = path.join(context.extensionPath, 'dist', 'cli.js');
        try {
          const r = await setUpGitMerge(folder.fsPath, driverCommand(process.execPath, cli, { electron: !!process.versions.electron }));
          log.info(`git merge for labels set up in ${r.repository}: ${r.attributesFile} (${r.attributes}), merge.rpo-labels.driver = ${r.driver}`);
          void vscode.window.showInformationMessage(`Git merge for labels set up in ${r.repository}: *.pref.jsonl files merge into votes (.gitattributes ${r.attributes === 'added' ? 'updated; commit it' : 'already had the line'}).`);
          return r;
        } catch (err) {
          const msg = err instanceof GitSetupError ? err.message : `could not set up the git merge: ${(err as Error).message}`;
          log.error(msg);
          void vscode.window.showErrorMessage(msg);
          return undefined;
        }
      }),
    ];
  },
};

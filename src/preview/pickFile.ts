import * as path from 'node:path';
import * as vscode from 'vscode';

/**
 * The contrast preview opened while no preference editor is active: which file to preview. Offers
 * the preference files open in editors first, then the workspace's `*.pref.jsonl` files, then a
 * file dialog. Undefined when the user cancels (the preview then opens nothing, not an empty panel).
 */

const LABELING_VIEW_TYPES = ['rpo.labelingEditor', 'rpo.labelingEditor.jsonl'];

const isPreference = (uri: vscode.Uri) => uri.scheme === 'file' && uri.fsPath.endsWith('.pref.jsonl');

/** Is the active tab a labeling editor (its selection is what the preview follows)? */
export function labelingEditorActive(): boolean {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputCustom && LABELING_VIEW_TYPES.includes(input.viewType);
}

/** Preference files open in any editor tab (labeling editors of any .jsonl, text editors of *.pref.jsonl), in tab order. */
export function openPreferenceFiles(): vscode.Uri[] {
  const seen = new Map<string, vscode.Uri>();
  for (const group of vscode.window.tabGroups.all) {
    for (const tab of group.tabs) {
      const input = tab.input;
      const uri = input instanceof vscode.TabInputCustom && LABELING_VIEW_TYPES.includes(input.viewType) ? input.uri
        : input instanceof vscode.TabInputText && isPreference(input.uri) ? input.uri : undefined;
      if (uri && !seen.has(uri.toString())) seen.set(uri.toString(), uri);
    }
  }
  return [...seen.values()];
}

type Item = vscode.QuickPickItem & { uri?: vscode.Uri; browse?: true };

export interface PickWords {
  title: string;
  placeHolder: string;
  openLabel: string;
}

const PREVIEW_WORDS: PickWords = {
  title: 'RPO Contrast Preview',
  placeHolder: 'Which preference file? The preview follows the record selected in its RPO Preference Editor.',
  openLabel: 'Preview This File',
};

/** Asks for a preference file (open ones first); `words` name the command asking (default: the contrast preview). */
export async function pickPreferenceFile(words: PickWords = PREVIEW_WORDS): Promise<vscode.Uri | undefined> {
  const open = openPreferenceFiles();
  const openKeys = new Set(open.map((u) => u.toString()));
  const inWorkspace = (await vscode.workspace.findFiles('**/*.pref.jsonl', '{**/node_modules/**,**/.rpo/**}', 200))
    .filter((u) => !openKeys.has(u.toString()))
    .sort((a, b) => a.fsPath.localeCompare(b.fsPath));
  const fileItem = (uri: vscode.Uri, description: string): Item => ({ label: `$(file) ${path.basename(uri.fsPath)}`, description, detail: vscode.workspace.asRelativePath(uri), uri });
  const items: Item[] = [];
  if (open.length) items.push({ label: 'Open', kind: vscode.QuickPickItemKind.Separator }, ...open.map((u) => fileItem(u, 'open in an editor')));
  if (inWorkspace.length) items.push({ label: 'In the workspace', kind: vscode.QuickPickItemKind.Separator }, ...inWorkspace.map((u) => fileItem(u, '')));
  items.push({ label: '', kind: vscode.QuickPickItemKind.Separator }, { label: '$(folder-opened) Choose a preference file…', browse: true });
  const pick = await vscode.window.showQuickPick(items, {
    title: words.title,
    placeHolder: words.placeHolder,
    matchOnDetail: true,
  });
  if (!pick) return undefined;
  if (pick.uri) return pick.uri;
  const chosen = await vscode.window.showOpenDialog({ canSelectMany: false, canSelectFolders: false, filters: { 'Preference data': ['jsonl'] }, openLabel: words.openLabel, title: `${words.title}: a preference file` });
  return chosen?.[0];
}

/** Opens (or reveals) the file in the labeling editor, whose selection the preview follows. */
export async function openInLabelingEditor(uri: vscode.Uri): Promise<void> {
  await vscode.commands.executeCommand('vscode.openWith', uri, isPreference(uri) ? LABELING_VIEW_TYPES[0] : LABELING_VIEW_TYPES[1], { preview: false, viewColumn: vscode.ViewColumn.One });
}

import { execFile } from 'node:child_process';
import * as os from 'node:os';
import * as vscode from 'vscode';
import type { Feature } from '../services';
import { testHooksOn } from '../testHooks';
import { parseShowRecordsArgs, type LabelAction, type NavAction } from '../protocol/labeling';
import { importHhCommand } from './importHh';
import { LabelingEditorProvider, reopenAsText, VIEW_TYPE } from './provider';
import { registerLabelingTestHooks } from './testHooks';

/**
 * Feature "labeling": the RPO Preference Editor (custom editor with its own document) for
 * `*.pref.jsonl` (default) and any `.jsonl` through Open With, its `rpo.label.*` commands and
 * keybindings, the HH import command and "Reopen as Text".
 */

/** Label commands: command id suffix -> action. Keybindings in package.json. */
export const LABEL_COMMANDS: Record<string, LabelAction> = {
  chooseLeft: 'chooseLeft',
  chooseRight: 'chooseRight',
  chooseLeftSlightly: 'chooseLeftSlightly',
  chooseRightSlightly: 'chooseRightSlightly',
  tie: 'tie',
  skip: 'skip',
  bothBad: 'bothBad',
  clear: 'clear',
  thumbsUp: 'thumbsUp',
  thumbsDown: 'thumbsDown',
  confirm: 'confirm',
  flip: 'flip',
  exclude: 'exclude',
  adjudicateLeft: 'adjudicateLeft',
  adjudicateRight: 'adjudicateRight',
  adjudicateTie: 'adjudicateTie',
};

export const NAV_COMMANDS: Record<string, NavAction> = {
  next: 'next',
  previous: 'previous',
  nextUnlabeled: 'nextUnlabeled',
  first: 'first',
  last: 'last',
  pageDown: 'pageDown',
  pageUp: 'pageUp',
};

/** Passed by `warmUpKeyCommands` only (a keybinding or a `command:` link cannot pass a Symbol): the command does nothing. */
const WARM_UP = Symbol('warm up');

/**
 * The workbench runs the first use of a contributed command in a window only after a round trip
 * to the extension host that marks its activation event (`onCommand:<id>`) done, and runs any
 * command whose event is done at once: keys pressed quickly on a fresh window reached the
 * extension out of order (1, 2, 1 arrived as 1, 1, 2: the 2 waited, the second 1 did not).
 * Executing each key command once here, from the extension host, fires those events now (the
 * extension host sends them to the workbench without awaiting them), so by the time a key is
 * pressed every key command runs at once, in the order the keys were pressed.
 */
function warmUpKeyCommands(ids: string[]): void {
  for (const id of ids) void vscode.commands.executeCommand(id, WARM_UP);
}

/** git's user.name (global config: no repository config, nothing runs), else the OS user. */
function defaultAnnotator(): Promise<string> {
  const fallback = (() => {
    try {
      return os.userInfo().username;
    } catch {
      return 'annotator';
    }
  })();
  return new Promise((resolve) => {
    execFile('git', ['config', '--global', '--get', 'user.name'], { timeout: 3000, cwd: os.homedir() }, (err, stdout) => {
      const name = err ? '' : stdout.trim();
      resolve(name || fallback);
    });
  });
}

export const labelingFeature: Feature = {
  id: 'labeling',
  async register({ context, log }) {
    const diagnostics = vscode.languages.createDiagnosticCollection('rpo-labeling');
    const annotator = await defaultAnnotator();
    const disposables: vscode.Disposable[] = [diagnostics];
    // Two view types: `*.pref.jsonl` opens here by default, any `*.jsonl` through Open With.
    // One provider instance each (edit events are routed per registration); views are shared.
    let provider!: LabelingEditorProvider;
    for (const viewType of [VIEW_TYPE, `${VIEW_TYPE}.jsonl`]) {
      provider = new LabelingEditorProvider(context, log, annotator, diagnostics);
      disposables.push(provider, vscode.window.registerCustomEditorProvider(viewType, provider, { supportsMultipleEditorsPerDocument: false }));
    }
    const noEditor = () => void vscode.window.showInformationMessage('RPO: open a preference file in the RPO Preference Editor first.');
    /** The editor's key commands (keybindings in package.json): `rpo.label.<name>`. */
    const keyCommand = (name: string, run: () => unknown) => vscode.commands.registerCommand(`rpo.label.${name}`, (arg?: unknown) => {
      if (arg === WARM_UP) return;
      return run();
    });
    for (const [name, action] of Object.entries(LABEL_COMMANDS)) {
      disposables.push(keyCommand(name, () => provider.active()?.label(action) ?? noEditor()));
    }
    for (const [name, action] of Object.entries(NAV_COMMANDS)) {
      disposables.push(keyCommand(name, () => provider.active()?.navigate(action) ?? noEditor()));
    }
    const toView = (type: 'focusNote' | 'focusSearch' | 'toggleHelp' | 'toggleDiff') => () => {
      const view = provider.active();
      if (!view) return noEditor();
      view.post({ type });
    };
    const viewCommands = { note: 'focusNote', search: 'focusSearch', help: 'toggleHelp', toggleDiff: 'toggleDiff' } as const;
    for (const [name, type] of Object.entries(viewCommands)) disposables.push(keyCommand(name, toView(type)));
    warmUpKeyCommands([...Object.keys(LABEL_COMMANDS), ...Object.keys(NAV_COMMANDS), ...Object.keys(viewCommands)].map((name) => `rpo.label.${name}`));
    disposables.push(
      vscode.commands.registerCommand('rpo.reopenAsText', async (uri?: vscode.Uri) => {
        const active = provider.active();
        const target = uri instanceof vscode.Uri ? uri : active?.document.uri;
        if (!target) return noEditor();
        await reopenAsText(target, active?.document.uri.toString() === target.toString() ? active.panel.viewColumn : undefined);
      }),
      vscode.commands.registerCommand('rpo.openInPreferenceEditor', async (uri?: vscode.Uri) => {
        const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
        if (!target) return;
        await vscode.commands.executeCommand('vscode.openWith', target, VIEW_TYPE);
      }),
      vscode.commands.registerCommand('rpo.label.markBlind', () => provider.active()?.markBlind() ?? noEditor()),
      vscode.commands.registerCommand('rpo.label.pickRun', () => {
        const view = provider.active();
        return view ? provider.pickRunFor(view.document) : noEditor();
      }),
      // For other views (the run dashboard's data map): arguments in provider.ts (ShowRecordsArgs).
      vscode.commands.registerCommand('rpo.label.showRecords', (arg?: unknown) => {
        const args = parseShowRecordsArgs(arg);
        if (typeof args === 'string') {
          log.warn(`rpo.label.showRecords: ${args}`);
          void vscode.window.showErrorMessage(`RPO: Show Records: ${args}`);
          return undefined;
        }
        return provider.showRecords(args);
      }),
      vscode.commands.registerCommand('rpo.importHh', (input?: unknown, output?: unknown) => importHhCommand(log, input, output)),
    );
    if (RPO_TEST_HOOKS_BUILT && testHooksOn(context)) disposables.push(...registerLabelingTestHooks(provider));
    return disposables;
  },
};

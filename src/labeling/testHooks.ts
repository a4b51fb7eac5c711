import * as vscode from 'vscode';
import type { LabelingEditorProvider } from './provider';
import { answerSaveQuestionsWith, type SaveChoice } from './saveQuestions';
import { hooks } from './testHookState';

/**
 * The labeling editor's test hooks (src/testHooks.ts: test builds, test mode only): commands the
 * integration tests call to read the editor's state, restore a hot-exit backup, answer the save
 * questions and hold a big file's whole read (the state they share with the editor: testHookState.ts).
 */

/** Questions answered through `_rpo.labeling.testSaveAnswers` since its last call. */
const savedQuestions: { kind: string; message: string; choices: SaveChoice[] }[] = [];

/**
 * Opens a document the way VS Code does when it restores an editor from a hot-exit backup
 * (openCustomDocument with the backup id), reports what it holds once scanned, and disposes it.
 */
async function restore(provider: LabelingEditorProvider, uri: string, backupId: string): Promise<unknown> {
  const source = new vscode.CancellationTokenSource();
  const document = await provider.openCustomDocument(vscode.Uri.parse(uri), { backupId, untitledDocumentData: undefined }, source.token);
  try {
    await document.model.whenScanned();
    const dirtyLines = document.model.doc.dirtyLineNumbers();
    return { dirty: document.isDirty, dirtyLines, lines: dirtyLines.map((l) => document.model.doc.lineText(l)), counts: document.model.counts };
  } finally {
    document.dispose();
    source.dispose();
  }
}

/** The active view's state (else the last opened). */
function state(provider: LabelingEditorProvider): unknown {
  const v = provider.active() ?? provider.openViews().at(-1);
  if (!v) return undefined;
  return {
    uri: v.document.uri.toString(),
    selected: v.selected,
    filter: v.filter,
    query: v.query,
    ready: v.ready,
    dirty: v.document.isDirty,
    counts: v.document.model.counts,
    scanMs: v.document.model.scanMs,
    backups: hooks.backups.filter((b) => b.uri === v.document.uri.toString()),
    memory: process.memoryUsage(),
  };
}

export function registerLabelingTestHooks(provider: LabelingEditorProvider): vscode.Disposable[] {
  hooks.on = true;
  return [
    vscode.commands.registerCommand('_rpo.labeling.testState', () => state(provider)),
    vscode.commands.registerCommand('_rpo.labeling.testRestore', (uri: string, backupId: string) => restore(provider, uri, backupId)),
    // Answers the save questions (saveQuestions.ts) in turn instead of the modal dialog (null:
    // dismissed); returns the questions asked since the last call. No answers: the dialog again.
    vscode.commands.registerCommand('_rpo.labeling.testSaveAnswers', (answers?: (SaveChoice | null)[]) => {
      const asked = savedQuestions.splice(0);
      answerSaveQuestionsWith(answers && ((q) => {
        savedQuestions.push({ kind: q.refusal.kind, message: q.message, choices: q.choices });
        return Promise.resolve(answers.shift() ?? undefined);
      }));
      return asked;
    }),
    vscode.commands.registerCommand('_rpo.labeling.testHoldWholeRead', (hold: boolean) => {
      hooks.wholeReadHold?.release();
      hooks.wholeReadHold = undefined;
      if (hold) {
        let release: () => void = () => undefined;
        const promise = new Promise<void>((resolve) => (release = resolve));
        hooks.wholeReadHold = { promise, release };
      }
    }),
    { dispose: () => { hooks.on = false; } },
  ];
}

import * as vscode from 'vscode';

/**
 * The labeling editor's selection, for other features (the contrast preview follows it and asks
 * the editor to jump to a record). The provider publishes on every selection change and
 * registers the reveal handler; readers never import the provider.
 */
export interface LabelingSelection {
  uri: vscode.Uri;
  /** 0-based line of the selected record. */
  line: number;
}

const changed = new vscode.EventEmitter<LabelingSelection>();
let current: LabelingSelection | undefined;
let revealHandler: ((uri: vscode.Uri, line: number) => Promise<void>) | undefined;

export const onDidChangeLabelingSelection = changed.event;

export function currentLabelingSelection(): LabelingSelection | undefined {
  return current;
}

export function publishLabelingSelection(selection: LabelingSelection): void {
  if (current && current.line === selection.line && current.uri.toString() === selection.uri.toString()) return;
  current = selection;
  changed.fire(selection);
}

export function setLabelingRevealHandler(handler: (uri: vscode.Uri, line: number) => Promise<void>): void {
  revealHandler = handler;
}

/** Selects a record in the file's labeling editor (opening it if needed). */
export async function revealInLabelingEditor(uri: vscode.Uri, line: number): Promise<void> {
  if (!revealHandler) throw new Error('the labeling editor is not available');
  await revealHandler(uri, line);
}

import * as vscode from 'vscode';
import type { SaveRefusal } from '../core/dataset/lineDocument';

/**
 * The questions a refused save asks (a modal dialog): what to do about a file that changed on
 * disk (overwrite it, reload it, or compare first), and whether to write a hard-linked file in
 * place. A read-only file is not asked about: the save fails with the reason.
 */
export type SaveChoice = 'overwrite' | 'reload' | 'compare' | 'inPlace';

export interface SaveQuestion {
  refusal: SaveRefusal;
  message: string;
  /** The choices offered (Cancel is always there: dismissing the dialog). */
  choices: SaveChoice[];
}

type Asker = (question: SaveQuestion) => Thenable<SaveChoice | undefined>;

const LABELS: Record<SaveChoice, string> = {
  overwrite: 'Overwrite',
  reload: 'Reload from Disk',
  compare: 'Compare',
  inPlace: 'Write Through Links',
};

function askModal(question: SaveQuestion): Thenable<SaveChoice | undefined> {
  const items = question.choices.map((c) => LABELS[c]);
  return vscode.window.showWarningMessage(question.message, { modal: true }, ...items).then((label) => question.choices.find((c) => LABELS[c] === label));
}

let asker: Asker = askModal;

/** Tests only (the `_rpo.labeling.testSaveAnswers` command): answers instead of the dialog; none restores it. */
export function answerSaveQuestionsWith(answer: Asker | undefined): void {
  asker = answer ?? askModal;
}

/** The question for a refused save of `name`, or undefined when there is nothing to ask (read-only). */
export function saveQuestion(refusal: SaveRefusal, name: string): SaveQuestion | undefined {
  switch (refusal.kind) {
    case 'changed-on-disk':
      return {
        refusal,
        message: `${name} changed on disk since it was opened or last saved (${refusal.change}). Overwrite it with your version (the change on disk is lost), reload it (your unsaved labels are lost), or compare the two first?`,
        choices: ['overwrite', 'reload', 'compare'],
      };
    case 'hard-links':
      return {
        refusal,
        message: `${name} has ${refusal.links - 1} other hard link${refusal.links === 2 ? '' : 's'}. Saving it the usual way (a new file renamed into place) would leave ${refusal.links === 2 ? 'that name' : 'those names'} with the old content. Write through the links (the file is rewritten in place; a complete copy is kept until it is done)?`,
        choices: ['inPlace'],
      };
    case 'read-only':
      return undefined;
  }
}

export function askAboutSave(question: SaveQuestion): Thenable<SaveChoice | undefined> {
  return asker(question);
}

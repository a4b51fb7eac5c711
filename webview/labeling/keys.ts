import { fieldValue, help, list, note } from './layout';
import { send, view } from './state';
import { toggleHelp } from './toolbar';

/**
 * Keys and focus. Label and navigation keys are VS Code keybindings (the webview forwards keydown
 * to the workbench); this view only keeps keys typed into its own text fields from reaching them.
 */

export function saveNote(): void {
  if (!view.selected) return;
  const value = fieldValue(note).slice(0, 10_000);
  if ((view.selected.label?.note ?? '') !== value) send({ type: 'note', index: view.selected.index, note: value });
}

// Keys typed into this view's own inputs stay here: stopping propagation at the document keeps
// them from the workbench, so "1" in the note field types "1" instead of labeling.
document.addEventListener('keydown', (e) => {
  const origin = e.composedPath()[0] as HTMLElement | undefined;
  const inInput = !!origin && (origin.tagName === 'INPUT' || origin.tagName === 'TEXTAREA' || origin.isContentEditable);
  if (e.key === 'Escape') {
    if (!help.hidden) { toggleHelp(false); e.stopPropagation(); return; }
    if (inInput) { if (e.target === note) saveNote(); list.focus(); e.stopPropagation(); return; }
  }
  if (inInput) {
    if (e.key === 'Enter' && e.target === note) { saveNote(); list.focus(); }
    if (!e.ctrlKey && !e.metaKey && !e.altKey) e.stopPropagation();
  }
});

/**
 * The list takes the keyboard focus when the view starts, but only if the view has it: a view
 * still loading while the user opened the Command Palette or a quick pick must not pull the focus
 * out of it (that closes the palette). The view gets the focus later through VS Code; the list
 * takes it then.
 */
export function focusListIfViewFocused(): void {
  if (document.hasFocus()) list.focus();
}

window.addEventListener('focus', () => {
  if (document.activeElement === document.body || document.activeElement === null) list.focus();
  send({ type: 'focus', focused: true });
});
window.addEventListener('blur', () => send({ type: 'focus', focused: false }));

/** Focuses a vscode-textfield's inner input (the element itself may not delegate focus). */
export function focusField(field: HTMLElement): void {
  const input = field.shadowRoot?.querySelector('input');
  (input ?? field).focus();
}

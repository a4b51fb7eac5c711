import type { Matrix } from '../../src/core/contrast/weights';
import type { BatchPayload, NeighboursPayload, PreviewSettings, PreviewState, ViewMessage } from '../../src/protocol/preview';
import { vscodeApi } from '../common/vscodeApi';

const vscode = vscodeApi<ViewMessage>();

export function post(m: ViewMessage): void {
  vscode.postMessage(m);
}

/** What the preview shows: the host's state and batch, the settings (with the view's own temperature), the weights computed here. */
export const preview = {
  state: undefined as PreviewState | undefined,
  settings: undefined as PreviewSettings | undefined,
  batch: null as BatchPayload | null,
  neighbours: null as NeighboursPayload | null,
  cosine: undefined as Matrix | undefined,
  weights: undefined as Matrix | undefined,
  /** The cell under the mouse or the keyboard cursor. */
  hover: undefined as { i: number; j: number } | undefined,
};

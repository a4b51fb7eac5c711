/**
 * The webview's handle on VS Code. `acquireVsCodeApi` may be called once per page; every module
 * of a view shares the one handle through `vscodeApi()`.
 */
export interface VsCodeApi<ToHost> {
  postMessage(message: ToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi<unknown>;

let api: VsCodeApi<unknown> | undefined;

/** The page's VS Code API, typed with the messages this view sends to its host. */
export function vscodeApi<ToHost>(): VsCodeApi<ToHost> {
  api ??= acquireVsCodeApi();
  return api as VsCodeApi<ToHost>;
}

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as vscode from 'vscode';

/**
 * The one place that builds webview HTML and options. Every view gets the same strict policy:
 * default-src 'none'; scripts only by a per-load nonce (no unsafe-inline, no unsafe-eval);
 * styles, images and fonts only from the extension's own webview resources. Views are the
 * browser bundles that scripts/build.mjs writes to dist/webview/<view>.js (+ .css).
 */

/** Options for createWebviewPanel / resolveCustomEditor: scripts on, resources limited. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: webviewResourceRoots(extensionUri),
  };
}

/** dist/webview (bundles) and media (icons). Nothing else is readable. */
export function webviewResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [
    vscode.Uri.joinPath(extensionUri, 'dist', 'webview'),
    vscode.Uri.joinPath(extensionUri, 'media'),
  ];
}

export interface WebviewHtmlOptions {
  /** Folder name under webview/ (bundle dist/webview/<view>.js). */
  view: string;
  /** Document title (screen readers). */
  title: string;
  /** Load dist/webview/<view>.css too (esbuild emits it when main.ts imports main.css). */
  css?: boolean;
  /**
   * Small, non-secret values for the view to read at start, written as data-* attributes on
   * <body> (escaped). Not a script: CSP forbids inline scripts.
   */
  data?: Record<string, string>;
  /**
   * Data the view reads at start (e.g. its first screen), as `<script type="application/json"
   * id="...">`: a data block, never executed (the CSP's script-src does not apply to it), with
   * every `<` escaped so dataset text cannot close the element. Read with JSON.parse(textContent).
   */
  json?: { id: string; value: unknown };
  /**
   * Put the bundle's script and stylesheet into the HTML (nonce'd) instead of linking them: the
   * view's first paint then waits for no resource fetch (each goes through VS Code's webview
   * service worker and the workbench, and over the network to a remote extension host). Falls
   * back to links when a bundle cannot be read or holds what would end its element early.
   */
  inline?: boolean;
}

/** Bundles read for `inline`, by path, reread when their mtime changes (npm run watch). */
const bundleCache = new Map<string, { mtimeMs: number; text: string }>();

function readBundle(file: string, closingTag: RegExp): string | undefined {
  try {
    const { mtimeMs } = fs.statSync(file);
    const hit = bundleCache.get(file);
    if (hit?.mtimeMs === mtimeMs) return hit.text;
    const text = fs.readFileSync(file, 'utf8').replace(/\n\/[/*]# sourceMappingURL=[^\n]*\s*$/, '\n');
    if (closingTag.test(text)) return undefined;
    bundleCache.set(file, { mtimeMs, text });
    return text;
  } catch {
    return undefined;
  }
}

/** JSON safe inside a <script> data block: `<` as \u003c (no `</script>`, no `<!--`). */
export function jsonForScriptElement(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/** A fresh 128-bit nonce per HTML load. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

/** The Content-Security-Policy for a webview with the given nonce. */
export function contentSecurityPolicy(webview: vscode.Webview, nonce: string, { inlineStyle = false } = {}): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource}${inlineStyle ? ` 'nonce-${nonce}'` : ''}`,
    `img-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The full HTML of a view: CSP meta, stylesheets (linked or inline), one nonce'd module-free script. */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, options: WebviewHtmlOptions): string {
  const nonce = makeNonce();
  const asset = (...segments: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...segments)).toString();
  const styles: string[] = [];
  const bundle = (ext: string) => vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${options.view}.${ext}`).fsPath;
  const inlineCss = options.inline && options.css ? readBundle(bundle('css'), /<\/style/i) : undefined;
  // Not inlined if it holds `</script` (would end the element) or `<script` (after a `<!--`, which
  // markdown-it's regexes hold, it would make the parser skip the closing tag).
  const inlineJs = options.inline ? readBundle(bundle('js'), /<\/?script/i) : undefined;
  if (inlineCss !== undefined) styles.push(`<style nonce="${nonce}">${inlineCss}</style>`);
  else if (options.css) styles.push(`<link rel="stylesheet" href="${escapeHtml(asset('dist', 'webview', `${options.view}.css`))}">`);
  const script = inlineJs !== undefined
    ? `<script nonce="${nonce}">${inlineJs}</script>`
    : `<script nonce="${nonce}" src="${escapeHtml(asset('dist', 'webview', `${options.view}.js`))}"></script>`;
  const data = Object.entries(options.data ?? {})
    .map(([k, v]) => ` data-${k.replace(/[^a-z0-9-]/gi, '')}="${escapeHtml(v)}"`)
    .join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(webview, nonce, { inlineStyle: inlineCss !== undefined })}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles.join('\n')}
<title>${escapeHtml(options.title)}</title>
</head>
<body${data}>
${options.json ? `<script type="application/json" id="${escapeHtml(options.json.id)}">${jsonForScriptElement(options.json.value)}</script>\n` : ''}${script}
</body>
</html>`;
}

/**
 * How every view posts to its panel. Work that ends after the user closed the panel (a prefetch,
 * an embedding, a data-map read, a win-rate refresh) has its message dropped: reading a closed
 * panel's `webview` throws "Webview is disposed", which would surface as an uncaught error.
 * Resolves false for a dropped message, as postMessage does for one that was not delivered.
 */
export function webviewPoster<M>(panel: vscode.WebviewPanel): (message: M) => Thenable<boolean> {
  let open = true;
  panel.onDidDispose(() => {
    open = false;
  });
  return (message) => (open ? panel.webview.postMessage(message) : Promise.resolve(false));
}

// UI layer: each test/ui/**/*.ui.mjs is one test. It exports
//   export default async function (h) { ... }          the test (throw / assert to fail)
//   export const options = {                             all optional
//     timeoutMs: 120000,          whole-test limit
//     workspaceTrust: false,      true: leave workspace trust on (code-server asks; for trust tests)
//     waitForActivation: true,    false: do not wait for RPO Studio to activate before the test
//     setup: async (workspacePath) => {},   prepare files in the workspace copy before VS Code opens it
//   };
// and gets its own code-server, Chromium and copy of sample-workspace/. The helpers `h`:
//   h.page                  the playwright Page of the workbench
//   h.workspace             absolute path of the workspace copy (assert on files here)
//   h.runDir                the run folder (.rpo-test/ui-...), with code-server.log, browser-console.log
//   h.log(...args)          print a line prefixed with the test name
//   h.runCommand(title)     run a command from the palette by its full title, e.g. 'RPO: Show Log'
//   h.openFile(relPath)     open a workspace file with its default editor (Quick Open)
//   h.openWith(relPath, editorName?)  open with a custom editor; editorName is the label shown by
//                           "Reopen Editor With..." (e.g. 'RPO Preference Editor'); returns h.webview()
//   h.webview()             FrameLocator of the visible webview's content (nested iframes)
//   h.frameWith(selector, {what?, timeoutMs?})  the Frame (not a locator: attributes, evaluate) of the
//                           webview whose content has `selector`; for views shown side by side
//   h.pickQuickItem(label)  choose an item in an open quick pick / quick input
//   h.fillFileDialog(value, {lists?})  type a path into code-server's simple open/save dialog so that it
//                           stays (the dialog resets its input while it lists its first folder)
//   h.notification(text)    wait for a notification toast containing text (returns its Locator)
//   h.screenshot(name)      save test-results/<test>/<name>.png
//   h.waitForFile(relOrAbs, predicate?, timeoutMs?)  wait until the file exists (and predicate(text) holds); returns the text
//   h.readFile(relOrAbs)    read a workspace file
//   h.waitUntil(fn, opts)   poll helper
//   h.extensionLog()        text of RPO Studio's own log channel file (what services.log wrote)
//   h.declineWorkspaceTrust()  (workspaceTrust: true) answer the trust prompt "No, I don't trust
//                           the authors" and wait for RPO Studio to activate in Restricted Mode
// Set-up helpers for options.setup (workspace and user settings, the test Python, the tiny
// model): test/harness/workspace.mjs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  buildExtensionInto, consoleText, copyWorkspace, launchBrowser, listFiles, makeRunDir,
  matchesFilter, repoRoot, resultsDir, startCodeServer, tidyRun, waitUntil,
} from './lib.mjs';

const extensionId = (() => { const p = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')); return `${p.publisher}.${p.name}`; })();

/** Runs the UI tests whose path matches `filter`. Returns { passed, failed, failures, tests }. */
export async function runUi({ filter, grep } = {}) {
  const files = listFiles(path.join(repoRoot, 'test', 'ui'), (rel) => rel.endsWith('.ui.mjs'))
    .filter((f) => matchesFilter(f, filter))
    .filter((f) => !grep || new RegExp(grep).test(path.basename(f)));
  const results = { passed: 0, failed: 0, pending: 0, failures: [], tests: [] };
  if (!files.length) { console.log(`ui: no test files${filter ? ` match '${filter}'` : ''}`); return results; }
  const buildDir = makeRunDir('ui');
  const ext = buildExtensionInto(buildDir);
  for (const file of files) {
    const name = path.relative(path.join(repoRoot, 'test', 'ui'), file).replace(/\.ui\.mjs$/, '');
    const t0 = Date.now();
    try {
      await runOne(file, name, ext);
      results.passed++;
      console.log(`  ✔ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      results.failed++;
      results.failures.push({ title: name, error: e?.stack ?? String(e) });
      console.log(`  ✖ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n${indent(e?.stack ?? String(e))}`);
    }
    results.tests.push({ name, seconds: (Date.now() - t0) / 1000 });
  }
  tidyRun(buildDir, true);
  return results;
}

/**
 * Runs one module written like a UI test (default export + options) from anywhere, e.g. a
 * benchmark under bench/: its own build, code-server, Chromium and workspace copy. Throws on failure.
 */
export async function runUiModule(file, name = path.basename(file).replace(/\.m?js$/, '')) {
  const buildDir = makeRunDir('ui');
  const ext = buildExtensionInto(buildDir);
  await runOne(file, name, ext);
  tidyRun(buildDir, true);
}

const indent = (s) => s.split('\n').map((l) => '      ' + l).join('\n');

async function runOne(file, name, ext) {
  const mod = await import(pathToFileURL(file).href);
  if (typeof mod.default !== 'function') throw new Error(`${file} must export a default async function (h)`);
  const options = { timeoutMs: 120_000, workspaceTrust: false, waitForActivation: true, ...(mod.options ?? {}) };
  const runDir = makeRunDir('ui');
  const ws = copyWorkspace(runDir);
  if (options.setup) await options.setup(ws);
  // RPO_TEST_HOOKS=1: the extension registers its test hooks (src/testHooks.ts) in this VS Code.
  const server = await startCodeServer(runDir, { workspaceTrust: options.workspaceTrust, env: { RPO_TEST_HOOKS: '1' } });
  let ctx;
  let page;
  const shotDir = path.join(resultsDir, name);
  try {
    ctx = await launchBrowser(runDir);
    page = ctx.pages()[0] ?? (await ctx.newPage());
    const consoleLog = fs.createWriteStream(path.join(runDir, 'browser-console.log'));
    page.on('console', async (m) => { consoleLog.write((await consoleText(m)) + '\n'); });
    page.on('pageerror', (e) => consoleLog.write(`pageerror: ${e.message}\n`));
    const h = makeHelpers({ page, ws, runDir, name, shotDir, server });
    const body = async () => {
      await page.goto(server.urlFor(ws, [['extensionDevelopmentPath', ext]]));
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      if (options.workspaceTrust) {
        // trust tests decide themselves what to click in the trust dialog
      } else {
        await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });
      }
      if (options.waitForActivation) await h.waitForActivation();
      await mod.default(h);
    };
    let timer;
    await Promise.race([
      body(),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`UI test timed out after ${options.timeoutMs} ms`)), options.timeoutMs); }),
    ]).finally(() => clearTimeout(timer));
  } catch (e) {
    if (page) {
      fs.mkdirSync(shotDir, { recursive: true });
      await page.screenshot({ path: path.join(shotDir, 'failure.png') }).catch(() => {});
    }
    const where = `screenshot: ${path.relative(repoRoot, path.join(shotDir, 'failure.png'))}; logs: ${path.relative(repoRoot, runDir)}/`;
    const err = new Error(`${e?.message ?? e}\n(${where})`);
    err.stack = `${e?.stack ?? e}\n(${where})`;
    throw err;
  } finally {
    await ctx?.close().catch(() => {});
    server.stop();
  }
  tidyRun(runDir, true); // reached only when the test passed
}

function makeHelpers({ page, ws, runDir, name, shotDir, server }) {
  const abs = (p) => (path.isAbsolute(p) ? p : path.join(ws, p));
  const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const quickInput = page.locator('.quick-input-widget');
  const quickRows = page.locator('.quick-input-widget .quick-input-list .monaco-list-row');

  /** Opens the quick input with F1 and types `text` (retrying when focus was elsewhere). */
  async function openQuickInput(text) {
    for (let attempt = 0; ; attempt++) {
      if (await quickInput.isVisible()) await page.keyboard.press('Escape');
      if (attempt > 0) {
        // focus may sit in a webview iframe or a widget that eats F1: move it back to the workbench
        await page.evaluate(() => { const a = globalThis.document.activeElement; if (a && a !== globalThis.document.body && 'blur' in a) a.blur(); }).catch(() => {});
      }
      await page.keyboard.press('F1');
      try {
        await quickInput.locator('input.input').waitFor({ state: 'visible', timeout: 5000 });
        await quickInput.locator('input.input').fill(text);
        return;
      } catch (e) { if (attempt > 3) throw e; }
    }
  }

  /** The row of the open quick pick whose label is exactly `label` (or starts with it). */
  const rowFor = (label) => quickRows.filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRe(label)}`) }) }).first();

  const h = {
    page, workspace: ws, runDir, name,
    log: (...a) => console.log(`    [${name}]`, ...a),
    waitUntil,
    async waitForActivation(timeoutMs = 60_000) {
      const r = await waitUntil(() => server.extensionLog(extensionId, /activated/), { timeoutMs, what: `${extensionId} to activate` });
      if (r instanceof Error) throw r;
    },
    async declineWorkspaceTrust() {
      const no = page.getByRole('button', { name: /No, I don.t trust the authors/ });
      await no.waitFor({ timeout: 60_000 });
      await no.click();
      await h.waitForActivation();
    },
    extensionLog() {
      const files = listFiles(path.join(server.userDataDir, 'logs'), (rel) => rel.includes(`${extensionId}${path.sep}`));
      return files.map((f) => fs.readFileSync(f, 'utf8')).join('');
    },
    async runCommand(title, { timeoutMs = 30_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      // Retry: the palette's list is computed when it opens; contributions may arrive later.
      for (;;) {
        await openQuickInput('>' + title);
        const row = rowFor(title);
        try {
          await row.waitFor({ timeout: 3000 });
          // short click timeout: if the palette closes under us (focus moved), open it again
          await row.click({ timeout: 3000 });
        } catch (e) {
          if (Date.now() > deadline) throw new Error(`command '${title}' could not be run from the palette: ${e.message}`);
          continue;
        }
        await quickInput.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => {});
        return;
      }
    },
    async pickQuickItem(label, { timeoutMs = 15_000 } = {}) {
      const row = rowFor(label);
      await row.waitFor({ timeout: timeoutMs });
      await row.click();
    },
    async openFile(relPath, { timeoutMs = 30_000 } = {}) {
      const base = path.basename(relPath);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await openQuickInput(relPath);
        const row = quickRows.filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRe(base)}\\s*$`) }) }).first();
        try {
          await row.waitFor({ timeout: 5000 });
          await row.click({ timeout: 3000 });
        } catch (e) {
          if (Date.now() > deadline) throw new Error(`file '${relPath}' could not be opened by Quick Open: ${e.message}`);
          continue;
        }
        await page.locator('.tabs-container .tab.active', { hasText: base }).waitFor({ timeout: 15_000 });
        return;
      }
    },
    async openWith(relPath, editorName) {
      await h.openFile(relPath);
      if (editorName) {
        await h.runCommand('View: Reopen Editor With...');
        await h.pickQuickItem(editorName);
      }
      const wv = h.webview();
      await page.locator('iframe.webview.ready >> visible=true').first().waitFor({ timeout: 30_000 });
      // VS Code gives a webview editor the focus asynchronously once its content has loaded; a
      // quick pick opened before that closes when it does (microsoft/vscode#101181). Wait for it.
      await waitUntil(() => wv.locator('body').evaluate(() => globalThis.document.hasFocus(), undefined, { timeout: 2000 }).catch(() => false), { timeoutMs: 15_000, what: `the editor of ${relPath} to take the focus` });
      return wv;
    },
    webview() {
      return page.frameLocator('iframe.webview.ready >> visible=true').first().frameLocator('#active-frame');
    },
    async fillFileDialog(value, { lists } = {}) {
      // code-server's simple file dialog fills in its starting folder and lists it asynchronously
      // after it opens, replacing what was typed before: wait for its listing, type, and retype
      // until the value stays (and the folder typed is listed, when `lists` names an entry).
      const input = page.locator('.quick-input-widget input.input');
      await input.waitFor({ timeout: 15_000 });
      await page.locator('.quick-input-widget .monaco-list-row').first().waitFor({ timeout: 15_000 });
      await waitUntil(async () => {
        if ((await input.inputValue()) !== value) await input.fill(value);
        if (lists) await page.locator('.quick-input-widget .monaco-list-row', { hasText: lists }).first().waitFor({ timeout: 5_000 }).catch(() => {});
        return (await input.inputValue()) === value;
      }, { timeoutMs: 30_000, what: `${value} to stay in the file dialog` });
      if (lists) await page.locator('.quick-input-widget .monaco-list-row', { hasText: lists }).first().waitFor({ timeout: 15_000 });
    },
    async frameWith(selector, { what = `a webview showing ${selector}`, timeoutMs = 60_000 } = {}) {
      return waitUntil(async () => {
        for (const f of page.frames()) if (await f.$(selector).catch(() => null)) return f;
        return null;
      }, { timeoutMs, what });
    },
    async notification(text, { timeoutMs = 15_000 } = {}) {
      const toast = page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
      await toast.waitFor({ timeout: timeoutMs });
      return toast;
    },
    async screenshot(shot) {
      fs.mkdirSync(shotDir, { recursive: true });
      const file = path.join(shotDir, `${shot}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    readFile: (p) => fs.readFileSync(abs(p), 'utf8'),
    async waitForFile(p, predicate = () => true, timeoutMs = 15_000) {
      const file = abs(p);
      let last = null;
      try {
        return await waitUntil(() => {
          if (!fs.existsSync(file)) return null;
          last = fs.readFileSync(file, 'utf8');
          return predicate(last) ? last : null;
        }, { timeoutMs, what: `file ${file}` });
      } catch (e) {
        throw new Error(`${e.message}${last === null ? ' (it does not exist)' : ` (last content, ${last.length} chars: ${JSON.stringify(last.slice(0, 400))})`}`);
      }
    },
    assert,
  };
  return h;
}

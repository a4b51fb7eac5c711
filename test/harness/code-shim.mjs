#!/usr/bin/env node
// A stand-in "VS Code executable" for @vscode/test-electron's runTests({ vscodeExecutablePath }),
// used where no desktop VS Code can be downloaded (offline machines, CI without a display).
// It takes the arguments runTests passes (--extensionDevelopmentPath=, --extensionTestsPath=,
// --user-data-dir=, --extensions-dir=, <folder>), starts code-server (= VS Code 1.100 with a Node
// extension host) and headless Chromium, loads the extension and the tests through the web
// `payload` URL parameter, prints the extension host's console, and exits with the test run's
// exit code (the workbench calls window.codeAutomationExit(code) when the tests end).
// Env: RPO_TEST_RUN_DIR (run folder; default: a new one), RPO_TEST_TIMEOUT_MS (default 600000).
import fs from 'node:fs';
import path from 'node:path';
import { consoleNoise, consoleText, launchBrowser, makeRunDir, startCodeServer } from './lib.mjs';

const argv = process.argv.slice(2);
const opts = (name) => argv.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.slice(name.length + 3));
const folder = argv.find((a) => !a.startsWith('-'));
const devPaths = opts('extensionDevelopmentPath');
const testsPath = opts('extensionTestsPath')[0];
const runDir = process.env.RPO_TEST_RUN_DIR ?? makeRunDir('integration');
const timeoutMs = Number(process.env.RPO_TEST_TIMEOUT_MS ?? 600_000);
const t0 = Date.now();

const server = await startCodeServer(runDir);
let code = 1;
let ctx;
try {
  ctx = await launchBrowser(runDir);
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const consoleLog = fs.createWriteStream(path.join(runDir, 'browser-console.log'));
  let onCrash = () => {};
  page.on('console', async (m) => {
    const text = await consoleText(m);
    consoleLog.write(text + '\n');
    if (!consoleNoise.test(text)) console.log(text);
    // the workbench never reports an exit code when the extension host dies: fail fast instead
    if (/Extension host .*terminated unexpectedly/i.test(text)) onCrash();
  });
  page.on('pageerror', (e) => consoleLog.write(`pageerror: ${e.message}\n`));
  const payload = [...devPaths.map((d) => ['extensionDevelopmentPath', d]), ...(testsPath ? [['extensionTestsPath', testsPath]] : [])];
  code = await new Promise((resolve) => {
    const timer = setTimeout(() => { console.error(`[shim] no result after ${timeoutMs} ms`); resolve(124); }, timeoutMs);
    onCrash = () => setTimeout(() => { clearTimeout(timer); console.error('[shim] the extension host crashed'); resolve(1); }, 3000);
    page.exposeFunction('codeAutomationExit', (c) => { clearTimeout(timer); resolve(c); })
      .then(() => page.goto(server.urlFor(folder, payload)))
      .catch((e) => { clearTimeout(timer); console.error(`[shim] ${e.message}`); resolve(1); });
  });
} finally {
  await ctx?.close().catch(() => {});
  server.stop();
}
console.log(`[shim] extension host exited with ${code} after ${((Date.now() - t0) / 1000).toFixed(1)} s (run folder ${runDir})`);
process.exit(typeof code === 'number' ? code : 1);

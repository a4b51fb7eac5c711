// Shared pieces of the test harness: run folders, an isolated build of the extension,
// code-server, Chromium. Everything a run writes lives in .rpo-test/<run>/ (gitignored), so
// several people can run tests in the same working tree at the same time.
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
export const require = createRequire(path.join(repoRoot, 'package.json'));
export const testRoot = path.join(repoRoot, '.rpo-test');
export const resultsDir = path.join(repoRoot, 'test-results');
export const sampleWorkspace = path.join(repoRoot, 'sample-workspace');
export const sharedDir = path.resolve(repoRoot, '..', 'shared');
export const codeServerBin = process.env.CODE_SERVER ?? path.join(repoRoot, 'node_modules', '.bin', 'code-server');
export const chromiumPath = process.env.CHROMIUM ?? firstExisting(['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']);

/** Chromium flags that work headless, offline, as root, in a container. */
export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

function firstExisting(paths) {
  return paths.find((p) => fs.existsSync(p)) ?? paths[0];
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns a truthy value (returned) or `timeoutMs` passes (throws `what`). */
export async function waitUntil(fn, { timeoutMs = 30_000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** A free TCP port on 127.0.0.1 (asked from the OS). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** A fresh folder .rpo-test/<kind>-<time>-<pid>-<n>/. */
let runCounter = 0;
export function makeRunDir(kind) {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const dir = path.join(testRoot, `${kind}-${stamp}-${process.pid}-${runCounter++}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Deletes run folders older than `maxAgeHours` (default 12) so .rpo-test does not grow forever. */
export function pruneOldRuns(maxAgeHours = 12) {
  if (!fs.existsSync(testRoot)) return;
  const cutoff = Date.now() - maxAgeHours * 3600_000;
  for (const name of fs.readdirSync(testRoot)) {
    const full = path.join(testRoot, name);
    try {
      const st = fs.statSync(full);
      if (st.isDirectory() && st.mtimeMs < cutoff && /^(integration|ui|sample|static)-/.test(name)) fs.rmSync(full, { recursive: true, force: true });
    } catch { /* someone else removed it */ }
  }
}

/**
 * After a passing run, drops the bulky parts of its folder (workspace copy, browser profile,
 * build, bundled tests) and keeps the logs. A failing run keeps everything for inspection.
 */
export function tidyRun(runDir, passed) {
  if (!passed || !runDir || process.env.RPO_TEST_KEEP === '1') return;
  for (const name of ['ws', 'chromium-profile', 'ext', 'tests', 'extensions', 'xdg-data', 'xdg-cache']) {
    fs.rmSync(path.join(runDir, name), { recursive: true, force: true });
  }
}

/** Copies sample-workspace/ to <runDir>/<name> and returns the absolute path. */
export function copyWorkspace(runDir, name = 'ws') {
  const ws = path.join(runDir, name);
  fs.cpSync(sampleWorkspace, ws, { recursive: true, filter: (src) => !src.includes(`${path.sep}.rpo${path.sep}`) && !src.endsWith(`${path.sep}.rpo`) });
  fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
  const settingsFile = path.join(ws, '.vscode', 'settings.json');
  const settings = fs.existsSync(settingsFile) ? JSON.parse(fs.readFileSync(settingsFile, 'utf8')) : {};
  Object.assign(settings, {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'extensions.ignoreRecommendations': true,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'git.enabled': false,
  }, settings);
  fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2) + '\n');
  return ws;
}

/**
 * Builds the extension into <runDir>/ext, a private extension root (package.json copy, its own
 * dist/, links to media, trainer and node_modules), so a concurrent `npm run build` in the
 * working tree cannot pull files out from under a running test. Returns the extension root.
 */
export function buildExtensionInto(runDir, { production = false } = {}) {
  const ext = path.join(runDir, 'ext');
  fs.mkdirSync(ext, { recursive: true });
  fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(ext, 'package.json'));
  for (const name of ['media', 'node_modules', 'trainer', 'README.md', 'LICENSE', 'docs']) {
    const src = path.join(repoRoot, name);
    if (fs.existsSync(src)) fs.symlinkSync(src, path.join(ext, name));
  }
  const args = [path.join(repoRoot, 'scripts', 'build.mjs'), '--outdir', path.join(ext, 'dist'), '--quiet'];
  if (production) args.push('--production');
  execFileSync(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  return ext;
}

/**
 * Starts code-server on a free port with user data, extensions, XDG folders and TMPDIR inside
 * `runDir`, in its own process group. Returns { port, base, urlFor(folder, payload), stop(), logFile,
 * child, userDataDir, extensionLog(id, re) }. Also used by `npm start` (scripts/run-sample.mjs)
 * with a persistent folder, workspace trust on, `host` and `port`.
 * `workspaceTrust: true` leaves workspace trust on (for tests about trust).
 */
export async function startCodeServer(runDir, { workspaceTrust = false, env = {}, host = '127.0.0.1', port } = {}) {
  port ??= await freePort();
  const connectHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  const dirs = ['user-data', 'extensions', 'xdg-config', 'xdg-data', 'xdg-cache'].map((d) => path.join(runDir, d));
  for (const d of dirs) fs.mkdirSync(d, { recursive: true }); // code-server mkdirs non-recursively
  // User settings: no welcome walkthrough (it opens a moment after start and steals focus, e.g.
  // from an open Command Palette), no prompt about a git repository around the workspace.
  const userSettings = path.join(dirs[0], 'User', 'settings.json');
  if (!fs.existsSync(userSettings)) {
    fs.mkdirSync(path.dirname(userSettings), { recursive: true });
    fs.writeFileSync(userSettings, JSON.stringify({
      'workbench.startupEditor': 'none',
      'workbench.welcomePage.walkthroughs.openOnInstall': false,
      'git.openRepositoryInParentFolders': 'never',
      'telemetry.telemetryLevel': 'off',
    }, null, 2) + '\n');
  }
  // A short TMPDIR: VS Code puts IPC sockets there and a socket path may not exceed 107 bytes.
  dirs.push(shortTmpDir('rpo-cs-'));
  const logFile = path.join(runDir, 'code-server.log');
  const out = fs.openSync(logFile, 'a');
  const args = ['--auth', 'none', '--bind-addr', `${host}:${port}`, '--disable-telemetry', '--disable-update-check',
    '--disable-getting-started-override', '--user-data-dir', dirs[0], '--extensions-dir', dirs[1], '--config', path.join(runDir, 'code-server.yaml')];
  if (!workspaceTrust) args.push('--disable-workspace-trust');
  const child = spawn(codeServerBin, args, {
    env: { ...process.env, XDG_CONFIG_HOME: dirs[2], XDG_DATA_HOME: dirs[3], XDG_CACHE_HOME: dirs[4], TMPDIR: dirs[5], ...env },
    detached: true, // own process group: kill(-pid) also stops the file watcher and extension host
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  let exited = null;
  child.on('exit', (code, signal) => { exited = code ?? signal; });
  const base = `http://${connectHost}:${port}`;
  const stop = () => { try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ } };
  registerCleanup(stop);
  try {
    await waitUntil(async () => {
      if (exited !== null) throw new Error(`code-server exited (${exited}); see ${logFile}`);
      try { return (await fetch(`${base}/healthz`)).ok; } catch { return false; }
    }, { timeoutMs: 60_000, what: `code-server on port ${port} (log: ${logFile})` });
  } catch (e) { stop(); throw e; }
  const remote = (p) => `vscode-remote://${connectHost}:${port}${path.resolve(p)}`;
  /** URL that opens `folder` with the payload entries, e.g. [['extensionDevelopmentPath', dir]]. */
  const urlFor = (folder, payload = []) => {
    const params = [folder ? `folder=${encodeURIComponent(path.resolve(folder))}` : 'ew=true'];
    if (payload.length) params.push(`payload=${encodeURIComponent(JSON.stringify(payload.map(([k, v]) => [k, remote(v)])))}`);
    return `${base}/?${params.join('&')}`;
  };
  return { port, base, urlFor, stop, logFile, child, userDataDir: dirs[0], extensionLog: (id, re) => findExtensionLog(dirs[0], id, re) };
}

/**
 * Reads code-server's logs under `userDataDir`: returns 'activated' once the extension `id` has
 * written a line matching `re` to its own log channel, an Error when the extension host logged
 * that activating it failed, else null.
 */
export function findExtensionLog(userDataDir, id, re) {
  const logs = path.join(userDataDir, 'logs');
  if (!fs.existsSync(logs)) return null;
  for (const file of listFiles(logs, (rel) => rel.endsWith('.log'))) {
    const text = fs.readFileSync(file, 'utf8');
    if (file.includes(`${path.sep}${id}${path.sep}`) && re.test(text)) return 'activated';
    const failed = new RegExp(`Activating extension '?${id.replace('.', '\\.')}'? failed[^\n]*(\n[^\n]*){0,2}`, 'i').exec(text);
    if (failed) return new Error(`${failed[0]} (see ${file})`);
  }
  return null;
}

/**
 * A new folder with a short path (under /tmp), removed when the harness exits: Unix socket paths
 * (VS Code's IPC, Chromium's singleton socket) may not exceed 107 bytes, and run folders are deep.
 */
export function shortTmpDir(prefix) {
  const dir = fs.mkdtempSync(path.join(fs.existsSync('/tmp') ? '/tmp' : os.tmpdir(), prefix));
  registerCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Launches Debian's Chromium (headless) with its profile, XDG and TMPDIR inside `runDir`. */
export async function launchBrowser(runDir, { headless = process.env.RPO_TEST_HEADED !== '1' } = {}) {
  const { chromium } = require('playwright-core');
  if (!fs.existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath}: run scripts/setup.sh (apt-get install chromium) or set CHROMIUM`);
  const ctx = await chromium.launchPersistentContext(path.join(runDir, 'chromium-profile'), {
    executablePath: chromiumPath,
    headless,
    args: chromiumArgs,
    viewport: { width: 1400, height: 900 },
    env: { ...process.env, TMPDIR: shortTmpDir('rpo-cr-'), XDG_CONFIG_HOME: path.join(runDir, 'chromium-xdg'), XDG_CACHE_HOME: path.join(runDir, 'chromium-xdg') },
  });
  registerCleanup(() => ctx.close().catch(() => {}));
  return ctx;
}

/** Turns a page console message's printf-style argument list back into one line. */
export async function consoleText(msg) {
  const a = await Promise.all(msg.args().map((x) => x.jsonValue().catch(() => '?')));
  if (!a.length) return msg.text();
  let out = '';
  while (a.length) {
    out += String(a.shift()).replace(/%[csdioO]/g, (t) => { const v = a.shift(); return t === '%c' ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v); }) + ' ';
  }
  return out.replace(/^\s*INFO\s*/, '').trimEnd();
}

/** Browser console noise that says nothing about our extension. */
export const consoleNoise = /Resolving connection token|Resolved connection token|Creating a socket|web worker extension host|Updating additional builtin|\[Service Worker\]|ChatSessionStore|Overwriting extension <<|Started local extension host|iframe which has both|service worker|Failed to load resource|open-vsx|marketplace|An iframe which|was preloaded using link preload|Content Security Policy of your site blocks the use of 'eval'|\[Extension Host\] \(node:\d+\) \[DEP|^\s*$/;

// Cleanup on exit and on Ctrl+C, so no code-server or Chromium outlives the harness.
const cleanups = new Set();
export function registerCleanup(fn) { cleanups.add(fn); return () => cleanups.delete(fn); }
function runCleanups() { for (const fn of cleanups) { try { fn(); } catch { /* best effort */ } } cleanups.clear(); }
process.on('exit', runCleanups);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { runCleanups(); process.exit(130); });
}

/** Files under `dir` (recursive) whose path relative to `dir` satisfies `match`, sorted. */
export function listFiles(dir, match) {
  const out = [];
  const walk = (d) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (match(path.relative(dir, full))) out.push(full);
    }
  };
  walk(dir);
  return out.sort();
}

/** Does `file` match the user's filter (substring of its repo-relative path, or a /regex/)? */
export function matchesFilter(file, filter) {
  if (!filter) return true;
  const rel = path.relative(repoRoot, file);
  const m = /^\/(.*)\/([a-z]*)$/.exec(filter);
  return m ? new RegExp(m[1], m[2]).test(rel) : rel.includes(filter);
}

// `npm start`: builds the extension and opens the sample workspace with it loaded.
//   - desktop VS Code when `code` is on the PATH: code --extensionDevelopmentPath=<repo> <workspace>
//   - otherwise code-server from the dev dependencies (VS Code in the browser): prints the URL and
//     keeps running until Ctrl+C.
// The workspace is a copy of sample-workspace/ in .rpo-sample/workspace (gitignored), made on the
// first run, so your labels and runs never dirty the repository. Delete it to start over.
// Env: RPO_PORT (code-server port; default: a free one), RPO_HOST (default 127.0.0.1),
//      RPO_USE_CODE_SERVER=1 (use code-server even when `code` exists), RPO_SAMPLE_DIR.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { codeServerBin, freePort, repoRoot, sampleWorkspace, waitUntil } from '../test/harness/lib.mjs';

const sampleDir = path.resolve(process.env.RPO_SAMPLE_DIR ?? path.join(repoRoot, '.rpo-sample'));
const ws = path.join(sampleDir, 'workspace');

execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs')], { cwd: repoRoot, stdio: 'inherit' });

if (!fs.existsSync(ws)) {
  fs.mkdirSync(sampleDir, { recursive: true });
  fs.cpSync(sampleWorkspace, ws, { recursive: true });
  console.log(`Copied sample-workspace/ to ${path.relative(repoRoot, ws)} (your labels and runs stay there; delete it to start over).`);
} else {
  console.log(`Using ${path.relative(repoRoot, ws)} (delete it to start again from sample-workspace/).`);
}

const hasCode = process.env.RPO_USE_CODE_SERVER !== '1' && spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0;
if (hasCode) {
  console.log('Opening desktop VS Code with RPO Studio loaded from this folder...');
  const r = spawnSync('code', ['--new-window', `--extensionDevelopmentPath=${repoRoot}`, ws], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const host = process.env.RPO_HOST ?? '127.0.0.1';
const port = Number(process.env.RPO_PORT ?? (await freePort()));
const data = path.join(sampleDir, 'code-server');
const dirs = Object.fromEntries(['user-data', 'extensions', 'xdg-config', 'xdg-data', 'xdg-cache'].map((d) => [d, path.join(data, d)]));
for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
// First run: user settings without the welcome walkthrough and without the prompt about the
// repository around .rpo-sample/ (the sample copy lives inside this clone).
const userSettings = path.join(dirs['user-data'], 'User', 'settings.json');
if (!fs.existsSync(userSettings)) {
  fs.mkdirSync(path.dirname(userSettings), { recursive: true });
  fs.writeFileSync(userSettings, JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'git.openRepositoryInParentFolders': 'never',
  }, null, 2) + '\n');
}
const server = spawn(codeServerBin, [
  '--auth', 'none', '--bind-addr', `${host}:${port}`, '--disable-telemetry', '--disable-update-check',
  '--disable-getting-started-override', '--user-data-dir', dirs['user-data'], '--extensions-dir', dirs.extensions,
  '--config', path.join(data, 'config.yaml'),
], {
  env: { ...process.env, XDG_CONFIG_HOME: dirs['xdg-config'], XDG_DATA_HOME: dirs['xdg-data'], XDG_CACHE_HOME: dirs['xdg-cache'] },
  detached: true, // own process group: stopping it also stops its file watcher and extension host
  stdio: ['ignore', 'pipe', 'pipe'],
});
const log = fs.createWriteStream(path.join(data, 'code-server.log'), { flags: 'a' });
server.stdout.pipe(log);
server.stderr.pipe(log);
const stop = () => { try { process.kill(-server.pid, 'SIGTERM'); } catch { /* already gone */ } };
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { stop(); process.exit(0); });
process.on('exit', stop);
server.on('exit', (code) => { console.error(`code-server exited (${code}); log: ${path.join(data, 'code-server.log')}`); process.exit(code ?? 1); });

const base = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
await waitUntil(async () => { try { return (await fetch(`${base}/healthz`)).ok; } catch { return false; } }, { timeoutMs: 60_000, what: 'code-server' });
const payload = JSON.stringify([['extensionDevelopmentPath', `vscode-remote://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}${repoRoot}`]]);
const url = `${base}/?folder=${encodeURIComponent(ws)}&payload=${encodeURIComponent(payload)}`;
console.log(`\nRPO Studio (code-server, VS Code in the browser) is running. Open:\n\n  ${url}\n`);
console.log('Over SSH, forward the port first: ssh -L ' + `${port}:127.0.0.1:${port} <host>. Press Ctrl+C to stop.`);

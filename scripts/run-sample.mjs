// `npm start`: builds the extension and opens the sample workspace with it loaded.
//   - desktop VS Code when `code` is on the PATH: code --extensionDevelopmentPath=<repo>
//     --user-data-dir=.rpo-sample/vscode <workspace> (a VS Code profile of its own: your own
//     settings are never changed, your installed extensions still load)
//   - otherwise code-server from the dev dependencies (VS Code in the browser): prints the URL and
//     keeps running until Ctrl+C.
// Before it opens VS Code it writes what scripts/setup.sh made into that VS Code's user settings
// (code-server: also its machine settings), never the workspace's: rpo.python.path = the trainer's
// venv, rpo.embeddings.model = the local all-MiniLM-L6-v2 export (scripts/sample.mjs).
// The workspace is a copy of sample-workspace/ in .rpo-sample/workspace (gitignored), made on the
// first run, so your labels and runs never dirty the repository; later runs add sample files it
// lacks and never overwrite one. Delete it to start over.
// Env: RPO_PORT (code-server port; default: a free one), RPO_HOST (default 127.0.0.1),
//      RPO_USE_CODE_SERVER=1 (use code-server even when `code` exists), RPO_SAMPLE_DIR,
//      RPO_CACHE_DIR (as for setup.sh), RPO_SKIP_BUILD=1 (dist/ is already built: the tests).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { mergeSettingsFile, prepareSampleWorkspace, repoRoot, setupOutputs, studioSettings } from './sample.mjs';

const sampleDir = path.resolve(process.env.RPO_SAMPLE_DIR ?? path.join(repoRoot, '.rpo-sample'));
const ws = path.join(sampleDir, 'workspace');
const rel = (p) => (p.startsWith(repoRoot + path.sep) ? path.relative(repoRoot, p) : p);

if (process.env.RPO_SKIP_BUILD !== '1') execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs')], { cwd: repoRoot, stdio: 'inherit' });

const fresh = !fs.existsSync(ws);
fs.mkdirSync(ws, { recursive: true });
const copied = prepareSampleWorkspace(ws);
if (fresh) console.log(`Copied sample-workspace/ to ${rel(ws)} (your labels and runs stay there; delete it to start over).`);
else console.log(`Using ${rel(ws)}${copied.length ? `; added ${copied.join(', ')} from sample-workspace/` : ''} (delete it to start again from sample-workspace/).`);

const outputs = setupOutputs();
const settings = studioSettings(outputs);
/** Writes the settings into the user settings file (and rpo.python.path into the machine settings file) and says what it set. */
function writeSettings(user, machine) {
  mergeSettingsFile(user, settings);
  if (machine && settings['rpo.python.path']) mergeSettingsFile(machine, { 'rpo.python.path': settings['rpo.python.path'] });
  console.log(`Settings written to ${rel(user)}${machine ? ` (rpo.python.path also to ${rel(machine)})` : ''}:`);
  for (const [k, v] of Object.entries(settings)) console.log(`  ${k} = ${v}`);
  if (!outputs.python) console.log('  (no trainer venv: scripts/setup.sh made none; rpo.python.path is left as it is)');
  if (!outputs.minilm) console.log('  (no local all-MiniLM-L6-v2 export: the preview downloads the model from the Hugging Face Hub once)');
  if (!outputs.tinyModel || !outputs.minilmTorch) console.log('  (the offline sample models are missing: offline-demo.rpo.json will not run; run scripts/setup.sh)');
}

const hasCode = process.env.RPO_USE_CODE_SERVER !== '1' && spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0;
if (hasCode) {
  const userData = path.join(sampleDir, 'vscode');
  writeSettings(path.join(userData, 'User', 'settings.json'));
  console.log('Opening desktop VS Code with RPO Studio loaded from this folder (its own user data folder: your settings stay as they are)...');
  const r = spawnSync('code', ['--new-window', `--user-data-dir=${userData}`, `--extensionDevelopmentPath=${repoRoot}`, ws], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const { startCodeServer } = await import('../test/harness/lib.mjs');
const host = process.env.RPO_HOST ?? '127.0.0.1';
const data = path.join(sampleDir, 'code-server');
const server = await startCodeServer(data, { workspaceTrust: true, host, port: process.env.RPO_PORT ? Number(process.env.RPO_PORT) : undefined });
// User settings, and the machine settings for rpo.python.path: code-server's extension host is a
// "remote" one, which takes machine-scoped settings from there. rpo.embeddings.model stays in the
// user settings only, so that choosing another folder there (the preview's Choose Folder…) wins.
writeSettings(path.join(server.userDataDir, 'User', 'settings.json'), path.join(server.userDataDir, 'Machine', 'settings.json'));
server.child.on('exit', (code) => { console.error(`code-server exited (${code}); log: ${server.logFile}`); process.exit(code ?? 1); });
const url = server.urlFor(ws, [['extensionDevelopmentPath', repoRoot]]);
console.log(`\nRPO Studio (code-server, VS Code in the browser) is running. Open:\n\n  ${url}\n`);
console.log(`Over SSH, forward the port first: ssh -L ${server.port}:127.0.0.1:${server.port} <host>. Press Ctrl+C to stop.`);

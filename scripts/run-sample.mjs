// `npm start`: builds the extension and opens the sample workspace with it loaded.
//   - desktop VS Code when `code` is on the PATH: code --extensionDevelopmentPath=<repo> <workspace>
//   - otherwise code-server from the dev dependencies (VS Code in the browser): prints the URL and
//     keeps running until Ctrl+C.
// The workspace is a copy of sample-workspace/ in .rpo-sample/workspace (gitignored), made on the
// first run, so your labels and runs never dirty the repository. Delete it to start over.
// Env: RPO_PORT (code-server port; default: a free one), RPO_HOST (default 127.0.0.1),
//      RPO_USE_CODE_SERVER=1 (use code-server even when `code` exists), RPO_SAMPLE_DIR.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, sampleWorkspace, startCodeServer } from '../test/harness/lib.mjs';

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
const data = path.join(sampleDir, 'code-server');
const server = await startCodeServer(data, { workspaceTrust: true, host, port: process.env.RPO_PORT ? Number(process.env.RPO_PORT) : undefined });
server.child.on('exit', (code) => { console.error(`code-server exited (${code}); log: ${server.logFile}`); process.exit(code ?? 1); });
const url = server.urlFor(ws, [['extensionDevelopmentPath', repoRoot]]);
console.log(`\nRPO Studio (code-server, VS Code in the browser) is running. Open:\n\n  ${url}\n`);
console.log(`Over SSH, forward the port first: ssh -L ${server.port}:127.0.0.1:${server.port} <host>. Press Ctrl+C to stop.`);

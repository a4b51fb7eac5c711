// `npm run package`: production build + a VSIX per target platform with @vscode/vsce (offline).
// The bundles carry all JavaScript dependencies except onnxruntime (native, kept external by
// scripts/build.mjs), so the VSIX ships node_modules/onnxruntime-{node,common} with the native
// binaries of its target only (~40 MB unpacked instead of ~210 MB).
// .vscodeignore is the allowlist of shipped files. After packaging, the VSIX is checked: it must
// hold the entry points and no sources, tests or source maps.
// Usage: node scripts/package.mjs [--target linux-x64|linux-arm64|darwin-x64|darwin-arm64|win32-x64|win32-arm64|all] [--smoke]
//   For this machine's target it also runs the unpacked VSIX (rpo --version, the onnxruntime binding);
//   --smoke installs it into a fresh code-server and waits until it activates with every feature.
//        default target: this machine's platform. Output: rpo-studio-<target>-<version>.vsix
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const ALL = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'win32-arm64'];
const { values } = parseArgs({ options: { target: { type: 'string' }, 'skip-build': { type: 'boolean' }, smoke: { type: 'boolean' } } });
const here = `${process.platform}-${process.arch}`;
const targets = values.target === 'all' ? ALL : [values.target ?? here];
for (const t of targets) if (!ALL.includes(t)) { console.error(`unknown target '${t}'; one of ${ALL.join(', ')}, all`); process.exit(2); }

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
if (!values['skip-build']) execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--production'], { cwd: root, stdio: 'inherit' });

const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const baseIgnore = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-package-'));
let failed = false;
try {
  for (const target of targets) {
    const [plat, arch] = target.split('-');
    const ignoreFile = path.join(tmp, `vscodeignore-${target}`);
    const bin = `node_modules/onnxruntime-node/bin/napi-v3/${plat}/${arch}`;
    // Linux: the binding loads libonnxruntime.so.1 (its SONAME); libonnxruntime.so.1.21.0 is a
    // second 21 MB copy of the same file, so leave it out.
    const binaries = plat === 'linux' ? [`!${bin}/*.node`, `!${bin}/libonnxruntime.so.1`, `!${bin}/libonnxruntime_providers_shared.so`] : [`!${bin}/**`];
    fs.writeFileSync(ignoreFile, `${baseIgnore}\n${binaries.join('\n')}\n`);
    const out = path.join(root, `${pkg.name}-${target}-${pkg.version}.vsix`);
    fs.rmSync(out, { force: true });
    // relative links in README.md point into the repository
    const repo = String(pkg.repository?.url ?? pkg.repository ?? '').replace(/\.git$/, '');
    const base = repo ? ['--baseContentUrl', `${repo}/blob/HEAD`, '--baseImagesUrl', `${repo}/raw/HEAD`] : [];
    const t0 = Date.now();
    try {
      execFileSync(process.execPath, [vsce, 'package', '--target', target, '--ignoreFile', ignoreFile, '--out', out, ...base], { cwd: root, stdio: 'inherit' });
    } catch {
      console.error(`vsce package failed for ${target} (see above)`);
      failed = true;
      continue;
    }
    console.log(`vsce package ${target}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const problems = check(out, plat, arch);
    const size = fs.statSync(out).size;
    console.log(`${path.basename(out)}: ${(size / 1024 / 1024).toFixed(1)} MiB (${size} bytes)`);
    if (problems.length) {
      failed = true;
      console.error(`${path.basename(out)} is not clean:\n${problems.map((p) => '  ' + p).join('\n')}`);
    }
    if (target === here) {
      try {
        runFromVsix(out);
        if (values.smoke) await smokeTest(out);
      } catch (e) {
        failed = true;
        console.error(`${path.basename(out)} does not run: ${e.message}`);
      }
    }
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

/** Lists the VSIX (a zip) and returns what is wrong with it. */
function check(vsix, plat, arch) {
  const listing = execFileSync('python3', ['-c', 'import sys, zipfile, json; print(json.dumps([[i.filename, i.file_size] for i in zipfile.ZipFile(sys.argv[1]).infolist()]))', vsix], { encoding: 'utf8' });
  const entries = JSON.parse(listing);
  const files = entries.map(([f]) => f);
  const problems = [];
  const forbidden = [
    [/^extension\/(src|test|webview|scripts|bench|sample-workspace|docs|\.ci|\.rpo-test|\.rpo-sample|test-results|out)\//, 'source, test or dev folder'],
    [/\.map$/, 'source map'],
    [/(?<!\.d)\.ts$/, 'TypeScript source'],
    [/^extension\/trainer\/tests\//, 'trainer tests'],
    [/__pycache__|\.pyc$/, 'Python bytecode'],
    [/^extension\/node_modules\/(?!onnxruntime-node\/|onnxruntime-common\/)/, 'a node module that is bundled already'],
    [new RegExp(`^extension/node_modules/onnxruntime-node/bin/napi-v3/(?!${plat}/${arch}/)`), 'a native binary of another platform'],
  ];
  for (const f of files) for (const [re, why] of forbidden) if (re.test(f)) problems.push(`${f}: ${why}`);
  const required = ['extension/package.json', `extension/${pkg.main.replace(/^\.\//, '')}`, `extension/${pkg.bin.rpo.replace(/^\.\//, '')}`,
    'extension/README.md', 'extension/LICENSE.txt', `extension/node_modules/onnxruntime-node/bin/napi-v3/${plat}/${arch}/`];
  const lower = files.map((f) => f.toLowerCase());
  for (const r of required.map((x) => x.toLowerCase())) if (!lower.some((f) => f === r || (r.endsWith('/') && f.startsWith(r)))) problems.push(`missing ${r}`);
  const unpacked = entries.reduce((s, [, n]) => s + n, 0);
  console.log(`  ${files.length} files, ${(unpacked / 1024 / 1024).toFixed(1)} MiB unpacked; largest:`);
  for (const [f, n] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, 5)) console.log(`    ${(n / 1024 / 1024).toFixed(1).padStart(6)} MiB  ${f}`);
  return problems;
}

/** Unpacks the VSIX and runs what it ships: the CLI, and the onnxruntime native binding. */
function runFromVsix(vsix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-vsix-'));
  try {
    execFileSync('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', vsix, dir]);
    const ext = path.join(dir, 'extension');
    const version = execFileSync(process.execPath, [path.join(ext, pkg.bin.rpo), '--version'], { encoding: 'utf8' }).trim();
    if (version !== pkg.version) throw new Error(`rpo --version from the VSIX printed '${version}'`);
    const ort = execFileSync(process.execPath, ['-e', `const o = require(${JSON.stringify(path.join(ext, 'node_modules', 'onnxruntime-node'))}); process.stdout.write(typeof o.InferenceSession.create)`], { encoding: 'utf8' });
    if (ort !== 'function') throw new Error('onnxruntime-node from the VSIX did not load');
    console.log(`  runs: rpo --version = ${version}; onnxruntime-node native binding loads`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** --smoke: installs the VSIX into a fresh code-server and waits until the extension activates. */
async function smokeTest(vsix) {
  const { codeServerBin, copyWorkspace, launchBrowser, makeRunDir, startCodeServer, waitUntil } = await import('../test/harness/lib.mjs');
  const runDir = makeRunDir('package');
  fs.mkdirSync(path.join(runDir, 'extensions'), { recursive: true });
  execFileSync(codeServerBin, ['--user-data-dir', path.join(runDir, 'user-data'), '--extensions-dir', path.join(runDir, 'extensions'), '--install-extension', vsix], { stdio: 'ignore' });
  const ws = copyWorkspace(runDir);
  const server = await startCodeServer(runDir);
  const ctx = await launchBrowser(runDir);
  try {
    const t0 = Date.now();
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(server.urlFor(ws));
    const id = `${pkg.publisher}.${pkg.name}`;
    const r = await waitUntil(() => server.extensionLog(id, /activated \((\d+)\/\1 features\)/), { timeoutMs: 90_000, what: `the installed VSIX to activate (logs: ${runDir})` });
    if (r instanceof Error) throw r;
    console.log(`  smoke: installed into code-server, activated with every feature in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await ctx.close().catch(() => {});
    server.stop();
  }
}

// Integration layer: Mocha (TDD UI) tests in test/integration/**/*.test.ts, run INSIDE a real
// VS Code extension host through @vscode/test-electron's runTests:
//   - default: vscodeExecutablePath = test/harness/code-shim.mjs (code-server + headless Chromium),
//   - RPO_TEST_VSCODE=desktop: runTests downloads desktop VS Code (needs internet and a display).
// Each run gets .rpo-test/integration-*/ with a private build of the extension (ext/), the bundled
// tests (tests/), a fresh copy of sample-workspace/ (ws/) and code-server's data.
import fs from 'node:fs';
import path from 'node:path';
import { buildExtensionInto, copyWorkspace, listFiles, makeRunDir, matchesFilter, repoRoot, require, tidyRun } from './lib.mjs';

/**
 * Stand-ins for extensions that cannot be installed here (no marketplace), e.g. the Python
 * extension's public API: every folder under test/fixtures/vscode-extensions/ with a package.json
 * is copied into the run's extensions folder as an installed extension
 * (`<publisher>.<name>-<version>/`). They cannot be extra development paths: the web workbench
 * keeps one value per payload key.
 */
function installStandInExtensions(extensionsDir) {
  const root = path.join(repoRoot, 'test', 'fixtures', 'vscode-extensions');
  if (!fs.existsSync(root)) return [];
  const installed = [];
  for (const d of fs.readdirSync(root)) {
    const manifest = path.join(root, d, 'package.json');
    if (!fs.existsSync(manifest)) continue;
    const { publisher, name, version } = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    fs.cpSync(path.join(root, d), path.join(extensionsDir, `${publisher}.${name}-${version}`), { recursive: true });
    installed.push(`${publisher}.${name}`);
  }
  return installed;
}

/**
 * Runs the integration tests whose file path matches `filter` (substring or /regex/) and whose
 * full title matches `grep` (regex). Returns { passed, failed, pending, failures, runDir }.
 */
export async function runIntegration({ filter, grep, timeoutMs } = {}) {
  const files = listFiles(path.join(repoRoot, 'test', 'integration'), (rel) => rel.endsWith('.test.ts'))
    .filter((f) => matchesFilter(f, filter));
  if (!files.length) {
    console.log(`integration: no test files${filter ? ` match '${filter}'` : ''}`);
    return { passed: 0, failed: 0, pending: 0, failures: [], runDir: null };
  }
  const runDir = makeRunDir('integration');
  const ext = buildExtensionInto(runDir);
  const testsDir = path.join(runDir, 'tests');
  const esbuild = require('esbuild');
  const integrationRoot = path.join(repoRoot, 'test', 'integration');
  await esbuild.build({
    entryPoints: Object.fromEntries(files.map((f) => [path.relative(integrationRoot, f).replace(/\.ts$/, ''), f])),
    outdir: testsDir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    external: ['vscode', 'mocha', 'onnxruntime-node', 'onnxruntime-common'],
    define: { RPO_TEST_HOOKS_BUILT: 'true' },
    logLevel: 'warning',
  });
  fs.copyFileSync(path.join(repoRoot, 'test', 'harness', 'mocha-index.cjs'), path.join(testsDir, 'index.js'));
  const resultsFile = path.join(runDir, 'results.json');
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  fs.writeFileSync(path.join(testsDir, 'harness-config.json'), JSON.stringify({
    files: files.map((f) => path.join(testsDir, path.relative(integrationRoot, f).replace(/\.ts$/, '.js'))),
    grep: grep ?? null,
    resultsFile,
    extensionId: `${pkg.publisher}.${pkg.name}`,
    timeoutMs: Number(process.env.RPO_TEST_MOCHA_TIMEOUT_MS ?? 30_000),
  }, null, 2));
  const ws = copyWorkspace(runDir);
  console.log(`integration: ${files.length} file(s), workspace ${path.relative(repoRoot, ws)}`);

  const standIns = installStandInExtensions(path.join(runDir, 'extensions'));
  if (standIns.length) console.log(`integration: stand-in extensions ${standIns.join(', ')}`);

  const { runTests } = require('@vscode/test-electron');
  const desktop = process.env.RPO_TEST_VSCODE === 'desktop';
  let exitError = null;
  try {
    await runTests({
      ...(desktop ? { version: pkg.engines.vscode.replace(/^\^/, '') } : { vscodeExecutablePath: path.join(repoRoot, 'test', 'harness', 'code-shim.mjs') }),
      extensionDevelopmentPath: ext,
      extensionTestsPath: path.join(testsDir, 'index.js'),
      launchArgs: [ws, `--user-data-dir=${path.join(runDir, 'user-data')}`, `--extensions-dir=${path.join(runDir, 'extensions')}`],
      extensionTestsEnv: {
        RPO_TEST_RUN_DIR: runDir,
        ...(timeoutMs ? { RPO_TEST_TIMEOUT_MS: String(timeoutMs) } : {}),
      },
    });
  } catch (e) {
    exitError = e;
  }
  let results;
  try {
    results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  } catch {
    results = { passed: 0, failed: 1, pending: 0, failures: [{ title: 'integration run', error: `no results written (${exitError?.message ?? 'extension host did not run the tests'}); see ${runDir}` }] };
  }
  if (exitError && results.failed === 0) {
    results.failed = 1;
    results.failures.push({ title: 'integration run', error: exitError.message });
  }
  tidyRun(runDir, results.failed === 0);
  return { ...results, runDir };
}

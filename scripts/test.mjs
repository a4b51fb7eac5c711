// The test runner behind `npm test` (after scripts/setup.sh). Layers, in order:
//   static       eslint, import rules (dependency-cruiser: cycles, layers), tsc (host), tsc (webviews),
//                esbuild build (into the run folder), the production build without test hooks
//                (scripts/check-production-bundle.mjs)
//   unit         node --test over test/unit/**/*.test.ts (tsx)
//   integration  Mocha in a real VS Code extension host (code-server, or desktop VS Code with
//                RPO_TEST_VSCODE=desktop) over test/integration/**/*.test.ts
//   ui           playwright-core + Chromium against code-server: test/ui/**/*.ui.mjs
//   python       pytest in trainer/ with the venv that scripts/setup.sh made
// Usage: node scripts/test.mjs [layer[,layer...]] [file filter] [--grep REGEX]
//   file filter: a substring of the test file's path (or /regex/); --grep: test titles
//   e.g. node scripts/test.mjs unit cli        node scripts/test.mjs integration labeling
//        node scripts/test.mjs ui,integration   node scripts/test.mjs integration --grep 'registered'
// Ends with one line per layer and `N passed, N failed`; exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { listFiles, makeRunDir, matchesFilter, pruneOldRuns, repoRoot } from '../test/harness/lib.mjs';

const LAYERS = ['static', 'unit', 'integration', 'ui', 'python'];
const { values, positionals } = parseArgs({ allowPositionals: true, options: { grep: { type: 'string', short: 'g' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) { console.log(fs.readFileSync(new URL(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n')); process.exit(0); }
let [layerArg, filter] = positionals;
if (layerArg && !layerArg.split(',').every((l) => LAYERS.includes(l))) {
  console.error(`unknown layer '${layerArg}'; layers: ${LAYERS.join(', ')}`);
  process.exit(2);
}
const layers = layerArg ? layerArg.split(',') : LAYERS;
const grep = values.grep;
pruneOldRuns();

/** Runs a command, streaming its output; returns its exit status. */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: repoRoot, stdio: 'inherit', ...opts });
  if (r.error) { console.error(`${cmd}: ${r.error.message}`); return 1; }
  return r.status ?? 1;
}

function npxBin(name) { return path.join(repoRoot, 'node_modules', '.bin', name); }

const runners = {
  static() {
    const steps = [
      ['eslint', npxBin('eslint'), ['.', '--max-warnings=0']],
      ['import rules', npxBin('depcruise'), ['src', 'webview', '--config', '.dependency-cruiser.cjs']],
      ['tsc host', npxBin('tsc'), ['-p', 'tsconfig.json']],
      ['tsc webview', npxBin('tsc'), ['-p', 'tsconfig.webview.json']],
      ['build', process.execPath, ['scripts/build.mjs', '--outdir', path.join(makeRunDir('static'), 'dist')]],
      ['no test hooks in the production bundle', process.execPath, ['scripts/check-production-bundle.mjs', '--outdir', path.join(makeRunDir('static'), 'production')]],
    ];
    const r = { passed: 0, failed: 0, failures: [] };
    for (const [name, cmd, args] of steps) {
      console.log(`-- ${name}`);
      if (run(cmd, args) === 0) r.passed++; else { r.failed++; r.failures.push({ title: name, error: 'see output above' }); }
    }
    return r;
  },

  unit() {
    const files = listFiles(path.join(repoRoot, 'test', 'unit'), (rel) => rel.endsWith('.test.ts')).filter((f) => matchesFilter(f, filter));
    if (!files.length) return { passed: 0, failed: 0, failures: [], note: 'no unit test files' };
    const tap = path.join(makeRunDir('unit'), 'unit.tap');
    // files run in parallel (many wait on child processes); node's default is one at a time on 2 cores (measured here: 153 s at 1, 119 s at 4)
    const args = ['--import', 'tsx', '--test', `--test-concurrency=${Math.max(4, os.availableParallelism())}`, '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tap}`];
    if (grep) args.push(`--test-name-pattern=${grep}`);
    const status = run(process.execPath, [...args, ...files]);
    const text = fs.existsSync(tap) ? fs.readFileSync(tap, 'utf8') : '';
    const count = (k) => Number(new RegExp(`^# ${k} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    const r = { passed: count('pass'), failed: count('fail') + count('cancelled'), failures: [] };
    for (const m of text.matchAll(/^\s*not ok \d+ - (.*)$/gm)) r.failures.push({ title: m[1], error: '' });
    if (status !== 0 && r.failed === 0) { r.failed = 1; r.failures.push({ title: 'node --test', error: `exit status ${status}` }); }
    return r;
  },

  async integration() {
    const { runIntegration } = await import('../test/harness/integration.mjs');
    return runIntegration({ filter, grep });
  },

  async ui() {
    const { runUi } = await import('../test/harness/ui.mjs');
    return runUi({ filter, grep });
  },

  python() {
    const tests = path.join(repoRoot, 'trainer', 'tests');
    if (!fs.existsSync(tests) || !listFiles(tests, (rel) => /(^|\/)test_.*\.py$|_test\.py$/.test(rel)).length) {
      return { passed: 0, failed: 0, failures: [], note: 'skipped: no trainer/tests/test_*.py found' };
    }
    const pyFile = path.join(repoRoot, '.rpo-test', 'python');
    const python = process.env.RPO_TEST_PYTHON ?? (fs.existsSync(pyFile) ? fs.readFileSync(pyFile, 'utf8').trim() : null);
    if (!python || !fs.existsSync(python)) {
      return { passed: 0, failed: 1, failures: [{ title: 'python', error: 'no project venv: run `bash scripts/setup.sh` (or set RPO_TEST_PYTHON)' }] };
    }
    const junit = path.join(makeRunDir('python'), 'pytest.xml');
    const args = ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', `--junitxml=${junit}`, 'tests'];
    const k = [filter, grep].filter(Boolean);
    if (k.length) args.push('-k', k.map((x) => `(${x})`).join(' and '));
    const env = { ...process.env, PYTHONPATH: [path.join(repoRoot, 'trainer'), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter), PYTHONDONTWRITEBYTECODE: '1' };
    const status = run(python, args, { cwd: path.join(repoRoot, 'trainer'), env });
    const xml = fs.existsSync(junit) ? fs.readFileSync(junit, 'utf8') : '';
    const attr = (k) => Number(new RegExp(`<testsuite [^>]*\\b${k}="(\\d+)"`).exec(xml)?.[1] ?? 0);
    const total = attr('tests'), failed = attr('failures') + attr('errors'), skipped = attr('skipped');
    const r = { passed: total - failed - skipped, failed, pending: skipped, failures: [] };
    // 5 = no tests collected (e.g. a filter that matches nothing): not a failure
    if (status !== 0 && status !== 5 && r.failed === 0) { r.failed = 1; r.failures.push({ title: 'pytest', error: `exit status ${status}` }); }
    return r;
  },
};

const summary = [];
for (const layer of layers) {
  console.log(`\n==== ${layer}${filter ? ` (files matching '${filter}')` : ''}${grep ? ` (titles matching /${grep}/)` : ''}`);
  const t0 = Date.now();
  let r;
  try {
    r = await runners[layer]();
  } catch (e) {
    console.error(e?.stack ?? String(e));
    r = { passed: 0, failed: 1, failures: [{ title: layer, error: e?.message ?? String(e) }] };
  }
  r.seconds = (Date.now() - t0) / 1000;
  summary.push([layer, r]);
  for (const f of r.failures ?? []) console.log(`  FAILED ${layer}: ${f.title}${f.error ? `\n${f.error.split('\n').slice(0, 8).map((l) => '    ' + l).join('\n')}` : ''}`);
}

console.log('\n==== summary');
let passed = 0, failed = 0;
for (const [layer, r] of summary) {
  passed += r.passed; failed += r.failed;
  const extra = [r.pending ? `${r.pending} skipped` : '', r.note ?? ''].filter(Boolean).join(', ');
  console.log(`${layer.padEnd(12)} ${String(r.passed).padStart(4)} passed ${String(r.failed).padStart(4)} failed ${r.seconds.toFixed(1).padStart(7)} s${extra ? `  (${extra})` : ''}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;

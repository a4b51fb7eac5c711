// Mocha entry point loaded by the VS Code extension host (extensionTestsPath). The harness copies
// it next to the bundled test files together with harness-config.json:
//   { "files": [abs paths of bundled *.test.js], "grep": "regex or null", "resultsFile": "abs path",
//     "extensionId": "publisher.name", "timeoutMs": 20000 }
// It activates the extension first (an activation error fails the run), runs Mocha (TDD UI),
// writes a results JSON the harness reads, and rejects when anything failed, so the workbench
// exits with a non-zero code.
const fs = require('fs');
const path = require('path');
const Mocha = require('mocha');

exports.run = async function run() {
  const config = JSON.parse(fs.readFileSync(path.join(__dirname, 'harness-config.json'), 'utf8'));
  const results = { passed: 0, failed: 0, pending: 0, failures: [], activationError: null, failedFeatures: null };
  const write = () => fs.writeFileSync(config.resultsFile, JSON.stringify(results, null, 2));
  const vscode = require('vscode');
  const ext = vscode.extensions.getExtension(config.extensionId);
  try {
    if (!ext) throw new Error(`extension ${config.extensionId} is not loaded in this extension host`);
    const api = await ext.activate();
    results.failedFeatures = api && Array.isArray(api.failedFeatures) ? api.failedFeatures : null;
    if (results.failedFeatures && results.failedFeatures.length) {
      console.error(`[harness] features that failed to start: ${results.failedFeatures.join(', ')}`);
    }
  } catch (err) {
    results.activationError = err && err.stack ? err.stack : String(err);
    results.failed = 1;
    results.failures.push({ title: `activate ${config.extensionId}`, error: results.activationError });
    console.error(`[harness] ACTIVATION FAILED: ${results.activationError}`);
    write();
    throw new Error('extension failed to activate');
  }

  const mocha = new Mocha({ ui: 'tdd', color: false, reporter: 'spec', timeout: config.timeoutMs || 20000 });
  if (config.grep) mocha.grep(new RegExp(config.grep));
  for (const f of config.files) mocha.addFile(f);
  const failures = await new Promise((resolve) => {
    const runner = mocha.run((n) => resolve(n));
    runner.on('pass', () => { results.passed++; });
    runner.on('pending', () => { results.pending++; });
    runner.on('fail', (t, err) => {
      results.failed++;
      results.failures.push({ title: t.fullTitle(), error: err && err.stack ? err.stack : String(err) });
    });
  });
  write();
  if (failures > 0) throw new Error(`${failures} test(s) failed`);
};

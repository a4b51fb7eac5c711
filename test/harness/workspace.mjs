// Set-up helpers for UI tests and UI benchmarks (their `options.setup(ws)`), one copy of what
// every test needs before VS Code opens its workspace copy:
//   workspaceSettings(ws, values)        merge into <ws>/.vscode/settings.json
//   userSettings(ws, values, scopes?)    merge into the test's user (and machine) settings
//   useTestPython(ws)                    rpo.python.path = the project venv, in user and machine
//                                        settings (a machine-scoped setting: never the workspace's)
//   makeTinyModel(ws)                    the trainer's tiny model, next to the workspace copy
// The UI harness (ui.mjs) gives the test body h.declineWorkspaceTrust() for trust tests.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, require } from './lib.mjs';

const { requireTestPython } = require('./test/support/python.cjs');

/** Merges `values` into the JSON object in `file` (created with its folder when missing). */
function mergeJsonFile(file, values) {
  const current = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8') || '{}') : {};
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ ...current, ...values }, null, 2) + '\n');
}

/** Workspace settings of the workspace copy `ws`. */
export function workspaceSettings(ws, values) {
  mergeJsonFile(path.join(ws, '.vscode', 'settings.json'), values);
}

/**
 * Settings of the code-server that opens `ws` (its user data folder is next to the workspace
 * copy): 'User' settings, and 'Machine' (remote) settings for machine-scoped keys.
 */
export function userSettings(ws, values, scopes = ['User']) {
  for (const scope of scopes) mergeJsonFile(path.join(ws, '..', 'user-data', scope, 'settings.json'), values);
}

/** Points rpo.python.path at the test Python (user and machine settings). Returns its path. */
export function useTestPython(ws) {
  const python = requireTestPython(repoRoot);
  userSettings(ws, { 'rpo.python.path': python }, ['User', 'Machine']);
  return python;
}

/** Builds the trainer's tiny model (rpo_trainer.testing.tiny_model) next to `ws`. Returns its folder. */
export function makeTinyModel(ws, python = requireTestPython(repoRoot)) {
  const model = path.join(ws, '..', 'tiny-model');
  execFileSync(python, ['-m', 'rpo_trainer.testing.tiny_model', model], { env: { ...process.env, PYTHONPATH: path.join(repoRoot, 'trainer') }, stdio: 'pipe' });
  return model;
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * `npm start` (scripts/run-sample.mjs) on the desktop path, with a stand-in `code` on the PATH
 * that records its arguments: what it writes into the settings of the VS Code it opens (never the
 * workspace's), with which user data folder it opens it, and that a second start keeps the
 * user's edits (settings comments and keys, labels) and adds sample files the copy lacks.
 */
const root = path.resolve(__dirname, '../../..');

function fixture() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-start-'));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'code'), `#!/bin/sh\n[ "$1" = --version ] && exit 0\nprintf '%s\\n' "$@" > "${path.join(dir, 'code-args')}"\n`, { mode: 0o755 });
  // A set-up cache elsewhere than ~/.cache/rpo-studio (RPO_CACHE_DIR), with the models set-up makes.
  const cache = path.join(dir, 'cache');
  fs.mkdirSync(path.join(cache, 'models', 'all-MiniLM-L6-v2', 'onnx'), { recursive: true });
  fs.writeFileSync(path.join(cache, 'models', 'all-MiniLM-L6-v2', 'onnx', 'model_quantized.onnx'), '');
  fs.mkdirSync(path.join(cache, 'models', 'tiny-random-llama'), { recursive: true });
  fs.writeFileSync(path.join(cache, 'models', 'tiny-random-llama', 'config.json'), '{}');
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, RPO_SAMPLE_DIR: path.join(dir, 'sample'), RPO_CACHE_DIR: cache };
  delete env.RPO_USE_CODE_SERVER;
  env.RPO_SKIP_BUILD = '1'; // what it opens is not started here: no build needed
  const start = () => execFileSync(process.execPath, [path.join(root, 'scripts', 'run-sample.mjs')], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { dir, cache, start, ws: path.join(dir, 'sample', 'workspace'), userSettings: path.join(dir, 'sample', 'vscode', 'User', 'settings.json') };
}

test('npm start (desktop): user settings of its own VS Code profile get the venv and the local MiniLM; the workspace gets none', { timeout: 120_000 }, () => {
  const f = fixture();
  const out = f.start();
  const args = fs.readFileSync(path.join(f.dir, 'code-args'), 'utf8').trim().split('\n');
  assert.deepEqual(args, ['--new-window', `--user-data-dir=${path.join(f.dir, 'sample', 'vscode')}`, `--extensionDevelopmentPath=${root}`, f.ws]);
  const settings = JSON.parse(fs.readFileSync(f.userSettings, 'utf8'));
  assert.equal(settings['rpo.embeddings.model'], path.join(f.cache, 'models', 'all-MiniLM-L6-v2'));
  const python = fs.existsSync(path.join(root, '.rpo-test', 'python')) ? fs.readFileSync(path.join(root, '.rpo-test', 'python'), 'utf8').trim() : undefined;
  assert.equal(settings['rpo.python.path'], python && fs.existsSync(python) ? python : undefined);
  assert.match(out, /rpo\.embeddings\.model = /, 'says what it set');
  assert.ok(!fs.existsSync(path.join(f.ws, '.vscode', 'settings.json')), 'no workspace settings');
  // The offline run config points at the models in this cache (RPO_CACHE_DIR), not ~/.cache.
  const offline = JSON.parse(fs.readFileSync(path.join(f.ws, 'offline-demo.rpo.json'), 'utf8'));
  assert.equal(offline.model, path.join(f.cache, 'models', 'tiny-random-llama'));
  assert.equal(offline.embeddings.model, path.join(f.cache, 'models', 'all-MiniLM-L6-v2-sentence-transformers'));
  assert.equal(fs.readFileSync(path.join(f.ws, 'hh-harmless.pref.jsonl'), 'utf8'), fs.readFileSync(path.join(root, 'sample-workspace', 'hh-harmless.pref.jsonl'), 'utf8'));
});

test('npm start again: keeps comments and other settings, never overwrites a workspace file, adds the sample files it lacks', { timeout: 120_000 }, () => {
  const f = fixture();
  f.start();
  fs.writeFileSync(f.userSettings, '{\n  // my theme\n  "workbench.colorTheme": "Default Light Modern",\n  "rpo.embeddings.model": "/elsewhere",\n}\n');
  fs.appendFileSync(path.join(f.ws, 'hh-harmless.pref.jsonl'), '{"prompt":"mine","chosen":"a","rejected":"b"}\n');
  const labeled = fs.readFileSync(path.join(f.ws, 'hh-harmless.pref.jsonl'), 'utf8');
  fs.rmSync(path.join(f.ws, 'offline-demo.rpo.json'));
  const out = f.start();
  const text = fs.readFileSync(f.userSettings, 'utf8');
  assert.match(text, /\/\/ my theme/);
  assert.match(text, /"workbench.colorTheme": "Default Light Modern"/);
  assert.match(text, new RegExp(`"rpo.embeddings.model": "${path.join(f.cache, 'models', 'all-MiniLM-L6-v2').replace(/[/\\]/g, '.')}"`));
  assert.equal(fs.readFileSync(path.join(f.ws, 'hh-harmless.pref.jsonl'), 'utf8'), labeled, 'the labeled file is kept');
  assert.ok(fs.existsSync(path.join(f.ws, 'offline-demo.rpo.json')), 'the missing sample file is added');
  assert.match(out, /added .*offline-demo\.rpo\.json/);
});

test('npm start refuses to rewrite a settings file it cannot parse, naming it', { timeout: 120_000 }, () => {
  const f = fixture();
  fs.mkdirSync(path.dirname(f.userSettings), { recursive: true });
  fs.writeFileSync(f.userSettings, '{ "a": [1, }');
  assert.throws(() => f.start(), (e: Error & { stderr?: string }) => (e.stderr ?? '').includes(`${f.userSettings}: not a JSON object`));
  assert.equal(fs.readFileSync(f.userSettings, 'utf8'), '{ "a": [1, }', 'left as it was');
});

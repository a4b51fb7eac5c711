import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';

/** `rpo runs`, `rpo tail`, `rpo train` argument errors, through the real entry point (tsx). */
const ROOT = path.resolve(__dirname, '../../..');
// tsx by absolute URL: the CLI runs with the temp folder as its working directory.
const TSX = pathToFileURL(require.resolve('tsx')).href;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-cli-runs-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function rpo(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', TSX, path.join(ROOT, 'src/cli/main.ts'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, RPO_PYTHON: '/nonexistent/python3' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function runFolder(name: string, fixture: string): string {
  const run = path.join(dir, '.rpo', 'runs', name);
  fs.mkdirSync(run, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'test', 'fixtures', 'events', fixture), path.join(run, 'events.jsonl'));
  return run;
}

const completed = runFolder('a-completed', 'rpo-tiny.events.jsonl');
const stopped = runFolder('b-stopped', 'rpo-tiny-stopped.events.jsonl');
const failed = runFolder('c-failed', 'rpo-tiny-failed.events.jsonl');

test('rpo runs: a table of the runs in .rpo/runs with their final status', () => {
  const r = rpo('runs');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^RUN\s+STATUS\s+STEP/m);
  assert.match(r.stdout, /a-completed\s+completed/);
  assert.match(r.stdout, /b-stopped\s+stopped/);
  assert.match(r.stdout, /c-failed\s+failed/);
  const json = JSON.parse(rpo('runs', '--json').stdout) as { name: string; status: string }[];
  assert.deepEqual(json.map((x) => x.status).sort(), ['completed', 'failed', 'stopped']);
});

test('rpo tail: prints the run and exits with its outcome (0 completed, 3 stopped, 1 failed)', () => {
  const ok = rpo('tail', completed);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^started /m);
  assert.match(ok.stdout, /^completed at step \d+\/\d+/m);
  assert.equal(rpo('tail', stopped).code, 3);
  const bad = rpo('tail', failed);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /error \(data\):/);
});

test('rpo tail: not a run folder is a usage error naming the folder', () => {
  const r = rpo('tail', dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not a run folder/);
});

test('rpo train: a missing config, bad JSON and a bad num_processes name the file and key', () => {
  assert.match(rpo('train', 'missing.rpo.json').stderr, /missing\.rpo\.json: no such file/);
  fs.writeFileSync(path.join(dir, 'bad.rpo.json'), '{"model": ');
  assert.match(rpo('train', 'bad.rpo.json').stderr, /bad\.rpo\.json:1: not valid JSON/);
  fs.writeFileSync(path.join(dir, 'n.rpo.json'), JSON.stringify({ model: 'm', dataset: 'd', num_processes: 0 }));
  const r = rpo('train', 'n.rpo.json');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /n\.rpo\.json:1: num_processes: must be >= 1, got 0/);
  fs.writeFileSync(path.join(dir, 'k.rpo.json'), '{\n  "model": "m",\n  "dataset": "d",\n  "num_proceses": 2\n}\n');
  assert.match(rpo('train', 'k.rpo.json').stderr, /k\.rpo\.json:4: num_proceses: unknown key \(allowed: .*num_processes/, 'a misspelt key is caught before the trainer starts');
});

test('rpo train: an output_dir that is a file (or below one) names the folder and the fix, not Python', () => {
  fs.writeFileSync(path.join(dir, 'taken'), 'a file where the runs folder should be\n');
  for (const outputDir of ['taken', 'taken/runs']) {
    fs.writeFileSync(path.join(dir, 'file-out.rpo.json'), JSON.stringify({ model: 'm', dataset: 'd', output_dir: outputDir }));
    const r = rpo('train', 'file-out.rpo.json');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot write the runs folder ${path.join(dir, outputDir).replace(/[/.]/g, '\\$&')}: it, or a folder on its path, is a file, not a folder`));
    assert.match(r.stderr, /Set "output_dir" in .*file-out\.rpo\.json to a folder you can write/);
    assert.doesNotMatch(r.stderr, /could not start|python|ENOENT/i, 'the Python is not the problem');
  }
  assert.equal(fs.readFileSync(path.join(dir, 'taken'), 'utf8'), 'a file where the runs folder should be\n', 'the file is left alone');
});

test('rpo train: a read-only output_dir names the folder and the fix', { skip: process.getuid?.() === 0 ? 'root writes to read-only folders' : false }, () => {
  const ro = path.join(dir, 'read-only');
  fs.mkdirSync(ro, { mode: 0o555 });
  fs.writeFileSync(path.join(dir, 'ro.rpo.json'), JSON.stringify({ model: 'm', dataset: 'd', output_dir: 'read-only/runs' }));
  const r = rpo('train', 'ro.rpo.json');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot write the runs folder .*read-only\/runs: permission denied \(the folder is not writable\)/);
  assert.doesNotMatch(r.stderr, /could not start/);
});

test('rpo train: a Python that cannot start is a clear error, exit 1', () => {
  fs.writeFileSync(path.join(dir, 'ok.rpo.json'), JSON.stringify({ model: 'm', dataset: 'd' }));
  const r = rpo('train', 'ok.rpo.json');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /could not start \/nonexistent\/python3/);
  assert.match(r.stderr, /RPO_PYTHON/);
});

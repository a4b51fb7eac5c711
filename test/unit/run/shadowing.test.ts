import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { buildTrainArgv, trainerProcessOptions } from '../../../src/core/run/launch';
import { TrainerProcess } from '../../../src/node/run/process';
import { readEventsFile } from '../../../src/node/run/store';
import { testPython } from '../../support/python.cjs';

/**
 * A `json.py` and an `rpo_trainer/` package next to a run config (a workspace can hold anything)
 * must not replace the standard library or the shipped trainer: the real trainer (tiny model,
 * CPU) runs from `rpo train` in the config's folder, from TrainerProcess as the extension starts
 * it, and through accelerate's launcher; each shadowing module would end the process with a
 * marker on stderr. Python: $RPO_TEST_PYTHON, .rpo-test/python or the dev venv.
 */
const repo = path.resolve(__dirname, '..', '..', '..');
const trainerRoot = path.join(repo, 'trainer');
const TSX = pathToFileURL(require.resolve('tsx')).href;
const python = testPython(repo);
const skip = python ? false : 'no Python with the trainer requirements (set RPO_TEST_PYTHON)';
let accelerateSkip: string | false = skip;
if (python) {
  try {
    execFileSync(python, ['-c', 'import accelerate, torch.distributed'], { stdio: 'pipe' });
  } catch {
    accelerateSkip = `${python} has no accelerate`;
  }
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-shadow-'));
const configs = path.join(tmp, 'configs');
const children: ChildProcess[] = [];
const MARKER = 'SHADOWED:';

before(() => {
  if (!python) return;
  fs.mkdirSync(path.join(configs, 'rpo_trainer'), { recursive: true });
  execFileSync(python, ['-m', 'rpo_trainer.testing.tiny_model', path.join(configs, 'model')], { env: { ...process.env, PYTHONPATH: trainerRoot }, stdio: 'pipe' });
  fs.copyFileSync(path.join(repo, 'test', 'fixtures', 'training', 'tiny.pref.jsonl'), path.join(configs, 'tiny.pref.jsonl'));
  const config = JSON.parse(fs.readFileSync(path.join(repo, 'test', 'fixtures', 'training', 'tiny-dpo.rpo.json'), 'utf8'));
  delete config.$schema;
  for (const [name, n] of [['one', 1], ['two', 2]] as const) {
    fs.writeFileSync(path.join(configs, `${name}.rpo.json`), JSON.stringify({ ...config, name, model: 'model', num_processes: n, max_steps: 2 }));
  }
  const shadow = (what: string) => `import sys\nsys.stderr.write(${JSON.stringify(`${MARKER} ${what}\n`)})\nsys.exit(97)\n`;
  fs.writeFileSync(path.join(configs, 'json.py'), shadow('json.py next to the run config replaced the standard library'));
  fs.writeFileSync(path.join(configs, 'rpo_trainer', '__init__.py'), shadow('rpo_trainer/ next to the run config replaced the shipped trainer'));
  fs.writeFileSync(path.join(configs, 'rpo_trainer', '__main__.py'), shadow('rpo_trainer/ next to the run config replaced the shipped trainer'));
});

after(() => {
  for (const c of children) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

function rpo(args: string[]): Promise<{ code: number | null; stderr: string }> {
  // Run from the config's folder, as a user in a terminal would.
  const child = spawn(process.execPath, ['--import', TSX, path.join(repo, 'src', 'cli', 'main.ts'), ...args], { cwd: configs, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

function completedRun(name: string): void {
  const runs = path.join(configs, '.rpo', 'runs');
  const runDir = fs.readdirSync(runs).find((d) => d.startsWith(`${name}-`));
  assert.ok(runDir, `a run folder for ${name}`);
  const last = readEventsFile(path.join(runs, runDir, 'events.jsonl')).events.at(-1);
  assert.ok(last?.type === 'end' && last.status === 'completed', `${name}: last event ${JSON.stringify(last)}`);
}

test('rpo train from the config folder: a json.py and an rpo_trainer/ there shadow nothing', { skip, timeout: 120_000 }, async () => {
  const { code, stderr } = await rpo(['train', 'one.rpo.json', '--python', python!]);
  assert.doesNotMatch(stderr, new RegExp(MARKER));
  assert.equal(code, 0, stderr.slice(-3000));
  completedRun('one');
});

test('the extension\'s launch (TrainerProcess with trainerProcessOptions) shadows nothing, even where Python ignores PYTHONSAFEPATH (3.10)', { skip, timeout: 120_000 }, async () => {
  const options = trainerProcessOptions(process.env, trainerRoot);
  assert.equal(options.env.PYTHONSAFEPATH, '1');
  assert.equal(options.cwd, trainerRoot, 'a neutral working directory: the shipped trainer\'s folder');
  // Python 3.10 has no PYTHONSAFEPATH: the working directory alone must keep the config's folder off sys.path.
  const { PYTHONSAFEPATH: _dropped, ...asPython310 } = options.env;
  const configPath = path.join(configs, 'one.rpo.json');
  const proc = await TrainerProcess.start({
    argv: buildTrainArgv({ python: python!, configPath }),
    env: asPython310,
    cwd: options.cwd,
    runsDir: path.join(configs, '.rpo', 'runs'),
    configPath,
    pollMs: 50,
  });
  const stderr: string[] = [];
  proc.onDidChange({ stderr: (l) => stderr.push(l) });
  await proc.whenExited();
  assert.equal(stderr.filter((l) => l.includes(MARKER)).join('\n'), '');
  assert.equal(proc.state.status, 'completed', proc.state.failure?.reason);
});

test('accelerate launch (num_processes 2) from the config folder: the launcher and both ranks shadow nothing', { skip: accelerateSkip, timeout: 180_000 }, async () => {
  const { code, stderr } = await rpo(['train', 'two.rpo.json', '--python', python!]);
  assert.doesNotMatch(stderr, new RegExp(MARKER));
  assert.equal(code, 0, stderr.slice(-3000));
  completedRun('two');
});

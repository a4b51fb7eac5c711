import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { PATH_PYTHON, buildTrainArgv, discoverPython, launchFields, trainerEnv } from '../../../src/core/run/launch';

const none = async () => undefined;

test('python: the setting wins over the Python extension and PATH', async () => {
  let asked = false;
  const choice = await discoverPython({ setting: () => '/opt/venv/bin/python', pythonExtension: async () => ((asked = true), '/ext/python') });
  assert.deepEqual(choice, { command: '/opt/venv/bin/python', source: 'setting' });
  assert.equal(asked, false, 'the Python extension is not consulted when the setting is set');
});

test('python: the Python extension interpreter when no setting', async () => {
  assert.deepEqual(await discoverPython({ setting: () => '  ', pythonExtension: async () => '/ext/python' }), { command: '/ext/python', source: 'python-extension' });
});

test('python: python3 on PATH last, also when the Python extension throws', async () => {
  assert.deepEqual(await discoverPython({ setting: () => undefined, pythonExtension: none }), { command: PATH_PYTHON, source: 'path' });
  assert.deepEqual(
    await discoverPython({ setting: () => undefined, pythonExtension: async () => { throw new Error('not activated'); } }),
    { command: PATH_PYTHON, source: 'path' },
  );
});

test('argv: one process runs the module directly', () => {
  assert.deepEqual(buildTrainArgv({ python: '/v/python', configPath: '/w/a b.rpo.json' }), ['/v/python', '-m', 'rpo_trainer', 'train', '--config', '/w/a b.rpo.json']);
});

test('argv: resume passes the run folder only (the trainer reads its saved config)', () => {
  assert.deepEqual(buildTrainArgv({ python: 'p', resumeRunDir: '/r/x' }), ['p', '-m', 'rpo_trainer', 'train', '--resume', '/r/x']);
  assert.throws(() => buildTrainArgv({ python: 'p' }), /required/);
});

test('argv: several processes start through accelerate launch with the same interpreter', () => {
  assert.deepEqual(buildTrainArgv({ python: 'p', configPath: 'c', numProcesses: 4, accelerateConfig: '/w/acc.yaml' }), [
    'p', '-m', 'accelerate.commands.launch', '--num_processes', '4', '--config_file', '/w/acc.yaml', '-m', 'rpo_trainer', 'train', '--config', 'c',
  ]);
});

test('argv: a file name with shell characters stays one argument', () => {
  const argv = buildTrainArgv({ python: 'p', configPath: '/w/$(rm -rf ~);x.rpo.json' });
  assert.equal(argv[argv.length - 1], '/w/$(rm -rf ~);x.rpo.json');
});

test('argv: invalid process counts are rejected', () => {
  assert.throws(() => buildTrainArgv({ python: 'p', configPath: 'c', numProcesses: 0 }), /num_processes/);
});

test('env: PYTHONPATH starts with the shipped trainer, keeps the existing path, unbuffered output', () => {
  const env = trainerEnv({ PYTHONPATH: '/x', HOME: '/h' }, '/ext/trainer', ':');
  assert.equal(env.PYTHONPATH, '/ext/trainer:/x');
  assert.equal(env.PYTHONUNBUFFERED, '1');
  assert.equal(env.HOME, '/h');
  assert.equal(trainerEnv({}, '/ext/trainer', ':').PYTHONPATH, '/ext/trainer');
});

test('launch fields: defaults and relative paths', () => {
  const f = launchFields({ model: 'm', dataset: 'd', accelerate_config: 'acc.yaml' }, '/w/cfg', path.join);
  assert.deepEqual(f, { numProcesses: 1, accelerateConfig: '/w/cfg/acc.yaml', name: undefined, outputDir: '/w/cfg/.rpo/runs' });
  assert.equal(launchFields({ accelerate_config: null, output_dir: '/abs/runs' }, '/w', path.join).accelerateConfig, undefined);
  assert.throws(() => launchFields({ num_processes: 'two' }, '/w', path.join), /num_processes/);
  assert.throws(() => launchFields([], '/w', path.join), /JSON object/);
});

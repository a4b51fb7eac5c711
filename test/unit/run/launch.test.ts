import assert from 'node:assert/strict';
import * as net from 'node:net';
import { test } from 'node:test';
import { PATH_PYTHON, buildTrainArgv, discoverPython, interpreterFromPythonApi, trainerEnv } from '../../../src/core/run/launch';
import { freeLocalPort } from '../../../src/node/run/freePort';

const none = async () => undefined;

test('python: the setting wins over the Python extension and PATH', async () => {
  let asked = false;
  const choice = await discoverPython({ setting: () => '/opt/venv/bin/python', pythonExtension: async () => ((asked = true), '/ext/python'), trusted: true });
  assert.deepEqual(choice, { command: '/opt/venv/bin/python', source: 'setting' });
  assert.equal(asked, false, 'the Python extension is not consulted when the setting is set');
});

test('python: the Python extension interpreter when no setting', async () => {
  assert.deepEqual(await discoverPython({ setting: () => '  ', pythonExtension: async () => '/ext/python', trusted: true }), { command: '/ext/python', source: 'python-extension' });
});

test('python: python3 on PATH last, also when the Python extension throws', async () => {
  assert.deepEqual(await discoverPython({ setting: () => undefined, pythonExtension: none, trusted: true }), { command: PATH_PYTHON, source: 'path' });
  assert.deepEqual(
    await discoverPython({ setting: () => undefined, pythonExtension: async () => { throw new Error('not activated'); }, trusted: true }),
    { command: PATH_PYTHON, source: 'path' },
  );
});

test('python: an untrusted workspace never gets the Python extension interpreter (it can come from the workspace)', async () => {
  let asked = false;
  const ext = async () => ((asked = true), '/workspace/.venv/bin/python');
  assert.deepEqual(await discoverPython({ setting: () => undefined, pythonExtension: ext, trusted: false }), { command: PATH_PYTHON, source: 'path' });
  assert.equal(asked, false, 'the Python extension was asked in an untrusted workspace');
  // The user's own setting still applies (it is never read from the workspace).
  assert.deepEqual(await discoverPython({ setting: () => '/home/me/venv/bin/python', pythonExtension: ext, trusted: false }), { command: '/home/me/venv/bin/python', source: 'setting' });
});

/** The Python extension's exports, in the shape @vscode/python-extension documents. */
function pythonApi(active: unknown, resolve?: (env: { path: string }) => unknown) {
  const calls: string[] = [];
  return {
    calls,
    api: {
      ready: Promise.resolve(),
      environments: {
        getActiveEnvironmentPath(resource?: unknown) {
          calls.push(`active(${String(resource)})`);
          return active;
        },
        ...(resolve ? { async resolveEnvironment(env: { path: string }) { calls.push(`resolve(${env.path})`); return resolve(env); } } : {}),
      },
    },
  };
}

test('python extension API: the resolved executable of the active environment', async () => {
  const { api, calls } = pythonApi({ id: 'x', path: '/envs/conda-env' }, (env) => ({ executable: { uri: { fsPath: `${env.path}/bin/python` } } }));
  assert.equal(await interpreterFromPythonApi(api, 'file:///ws', () => false), '/envs/conda-env/bin/python');
  assert.deepEqual(calls, ['active(file:///ws)', 'resolve(/envs/conda-env)']);
});

test('python extension API: unresolved paths are used only when they are absolute files', async () => {
  const files = new Set(['/usr/bin/python3.11']);
  const isFile = (p: string) => files.has(p);
  // Not resolvable (e.g. still discovering): the active path when it is an executable file.
  assert.equal(await interpreterFromPythonApi(pythonApi({ id: 'a', path: '/usr/bin/python3.11' }, () => undefined).api, undefined, isFile), '/usr/bin/python3.11');
  // An environment without Python (executable.uri undefined), an environment folder, the default "python".
  assert.equal(await interpreterFromPythonApi(pythonApi({ id: 'b', path: '/envs/empty' }, () => ({ executable: { uri: undefined } })).api, undefined, isFile), undefined);
  assert.equal(await interpreterFromPythonApi(pythonApi({ id: 'c', path: '/envs/folder' }).api, undefined, isFile), undefined);
  assert.equal(await interpreterFromPythonApi(pythonApi({ id: 'DEFAULT_PYTHON', path: 'python' }, () => undefined).api, undefined, () => true), undefined);
});

test('python extension API: shapes that are not the API give nothing, never throw', async () => {
  for (const api of [undefined, null, 42, {}, { environments: null }, { environments: {} }, { environments: { getActiveEnvironmentPath: 'x' } }]) {
    assert.equal(await interpreterFromPythonApi(api, undefined, () => true), undefined, JSON.stringify(api));
  }
  for (const active of [undefined, null, {}, { path: 3 }, { path: '  ' }]) {
    assert.equal(await interpreterFromPythonApi(pythonApi(active, () => ({ executable: { uri: { fsPath: '/x' } } })).api, undefined, () => true), undefined, JSON.stringify(active));
  }
  // A resolved environment with a malformed executable falls back to the (file) path.
  assert.equal(await interpreterFromPythonApi(pythonApi({ path: '/v/bin/python' }, () => ({ executable: { uri: 'not-a-uri' } })).api, undefined, () => true), '/v/bin/python');
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

test('argv: several processes without an accelerate config ask for data parallelism explicitly (else accelerate runs ONE process without GPUs)', () => {
  assert.deepEqual(buildTrainArgv({ python: 'p', configPath: 'c', numProcesses: 2, mainProcessPort: 40123 }), [
    'p', '-m', 'accelerate.commands.launch', '--num_processes', '2', '--multi_gpu', '--num_machines', '1', '--mixed_precision', 'no', '--dynamo_backend', 'no',
    '--main_process_port', '40123', '-m', 'rpo_trainer', 'train', '--config', 'c',
  ]);
  assert.deepEqual(buildTrainArgv({ python: 'p', resumeRunDir: '/r/x', numProcesses: 2 }).slice(-4), ['rpo_trainer', 'train', '--resume', '/r/x']);
  assert.ok(!buildTrainArgv({ python: 'p', resumeRunDir: '/r/x', numProcesses: 2 }).includes('--main_process_port'));
});

test('freeLocalPort: a port that can be bound', async () => {
  const port = await freeLocalPort();
  assert.ok(port > 0 && port < 65536);
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  await new Promise((r) => server.close(r));
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

// The `rpo` command-line front end, run as a real process (node + tsx over src/cli/main.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { version } from '../../package.json';

const main = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.ts');
const rpo = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8' });

test('rpo --help prints usage and exits 0', () => {
  const r = rpo('--help');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^rpo \d+\.\d+\.\d+: RPO Studio on the command line/);
  assert.match(r.stdout, /Usage: rpo <command> \[options\]/);
  assert.match(r.stdout, /--version/);
});

test('rpo --version prints the package version', () => {
  const r = rpo('--version');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${version}\n`);
});

test('rpo with an unknown command exits 2 and names it on stderr', () => {
  const r = rpo('no-such-command');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command 'no-such-command'/);
  assert.equal(r.stdout, '');
});

test('rpo with no arguments prints usage and exits 2', () => {
  const r = rpo();
  assert.equal(r.status, 2);
  assert.match(r.stdout, /Usage: rpo/);
});

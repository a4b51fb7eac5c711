// The `rpo` command-line front end, run as a real process (node + tsx over src/cli/main.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { version } from '../../package.json';
import { rpoCli } from '../support/cli';

const rpo = rpoCli();

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

test('an unknown option, a missing value or an extra argument is a usage error: message, usage line, exit 2, no stack trace', () => {
  const cases: [string[], RegExp, RegExp][] = [
    [['weights', 'data.pref.jsonl', '--bogus'], /^rpo weights: Unknown option '--bogus'/, /^Usage: rpo weights FILE /m],
    [['weights', 'data.pref.jsonl', '--tau'], /^rpo weights: Option '--tau <value>' argument missing/, /^Usage: rpo weights FILE /m],
    [['train', 'run.rpo.json', '--stop-timeout'], /^rpo train: Option '--stop-timeout <value>' argument missing/, /^Usage: rpo train RUN\.rpo\.json \[options\]$/m],
    [['runs', '--nope'], /^rpo runs: Unknown option '--nope'/, /^Usage: rpo runs /m],
    [['validate', 'a.jsonl', '--json=3'], /^rpo validate: Option '--json' does not take an argument/, /^Usage: rpo validate FILE/m],
  ];
  for (const [args, message, usage] of cases) {
    const r = rpo(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.match(r.stderr, usage, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${args.join(' ')}: a stack trace`);
    assert.equal(r.stdout, '');
  }
});

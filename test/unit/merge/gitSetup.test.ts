// The node layer of "RPO: Set Up Git Merge for Labels": .gitattributes appended (never rewritten),
// the repository's git config set, and a real `git merge` through the configured driver.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { applyLabel } from '../../../src/core/dataset/labeling';
import { ATTRIBUTES_LINE, driverCommand, GitSetupError, setUpGitMerge, shellQuote } from '../../../src/node/gitMerge';
import { cliMain, tsxLoader } from '../../support/cli';

const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' };
const git = (cwd: string, ...args: string[]) => {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env });
  assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

test('shell quoting and the driver command line', () => {
  assert.equal(shellQuote('/usr/bin/node'), '/usr/bin/node');
  assert.equal(shellQuote("/a b/it's"), `'/a b/it'\\''s'`);
  assert.equal(driverCommand('/x/Code Helper', '/ext/dist/cli.js', { electron: true }), "ELECTRON_RUN_AS_NODE=1 '/x/Code Helper' /ext/dist/cli.js merge-driver %O %A %B");
});

test('set up: appends to .gitattributes once, keeps what was there, configures git; a merge then unites votes', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rpo git setup '));
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(path.join(dir, '.gitattributes'), '*.png binary'); // no final newline
  mkdirSync(path.join(dir, 'sub'));
  const driver = driverCommand(process.execPath, cliMain, { nodeArgs: ['--import', tsxLoader] });
  const r = await setUpGitMerge(path.join(dir, 'sub'), driver);
  assert.equal(r.attributes, 'added');
  assert.equal(readFileSync(path.join(dir, '.gitattributes'), 'utf8'), `*.png binary\n${ATTRIBUTES_LINE}\n`);
  const again = await setUpGitMerge(dir, driver);
  assert.equal(again.attributes, 'present');
  assert.equal(readFileSync(path.join(dir, '.gitattributes'), 'utf8'), `*.png binary\n${ATTRIBUTES_LINE}\n`);
  assert.equal(git(dir, 'config', '--local', 'merge.rpo-labels.driver').trim(), driver);

  const file = path.join(dir, 'd.pref.jsonl');
  const line = JSON.stringify({ prompt: 'Q', chosen: 'A', rejected: 'B' });
  writeFileSync(file, line + '\n');
  git(dir, 'add', '.'); git(dir, 'commit', '-q', '-m', 'base');
  git(dir, 'checkout', '-q', '-b', 'ada');
  writeFileSync(file, applyLabel(line, { type: 'choose', side: 'left' }, { annotator: 'ada', time: 'T1', shown: ['chosen', 'rejected'] }) + '\n');
  git(dir, 'commit', '-q', '-am', 'ada');
  git(dir, 'checkout', '-q', 'main');
  writeFileSync(file, applyLabel(line, { type: 'choose', side: 'left' }, { annotator: 'bo', time: 'T2', shown: ['rejected', 'chosen'] }) + '\n');
  git(dir, 'commit', '-q', '-am', 'bo');
  git(dir, 'merge', '--no-edit', 'ada');
  const merged = JSON.parse(readFileSync(file, 'utf8')) as { rpo_label: { status: string }; rpo_votes: { annotator: string }[] };
  assert.equal(merged.rpo_label.status, 'disputed');
  assert.deepEqual(merged.rpo_votes.map((v) => v.annotator), ['ada', 'bo']);
});

test('outside a git repository: a clear error, nothing written', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rpo-no-git-'));
  await assert.rejects(setUpGitMerge(dir, 'x'), (e: unknown) => e instanceof GitSetupError && /git rev-parse/.test((e as Error).message));
});

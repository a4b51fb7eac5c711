import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { applyLabel } from '../../src/core/dataset/labeling';
import type { GitMergeSetup } from '../../src/node/gitMerge';
import { getApi } from './helpers';

suite('RPO: Set Up Git Merge for Labels (in the real extension host)', () => {
  test('writes .gitattributes and git config; git merge then runs the shipped rpo merge-driver', async () => {
    await getApi();
    const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' };
    const dir = mkdtempSync(path.join(tmpdir(), 'rpo-int-git-'));
    const git = (...args: string[]) => {
      const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8', env });
      assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    git('init', '-q', '-b', 'main');
    const setup = await vscode.commands.executeCommand<GitMergeSetup | undefined>('rpo.setUpGitMerge', vscode.Uri.file(dir));
    assert.ok(setup, 'the command returned no result (untrusted workspace or an error)');
    assert.equal(readFileSync(path.join(dir, '.gitattributes'), 'utf8'), '*.pref.jsonl merge=rpo-labels\n');
    assert.match(git('config', '--local', 'merge.rpo-labels.driver'), /dist\/cli\.js'? merge-driver %O %A %B/);

    const file = path.join(dir, 'd.pref.jsonl');
    const line = JSON.stringify({ prompt: 'Q', chosen: 'A', rejected: 'B' });
    writeFileSync(file, line + '\n');
    git('add', '.');
    git('commit', '-q', '-m', 'base');
    git('checkout', '-q', '-b', 'ada');
    writeFileSync(file, applyLabel(line, { type: 'choose', side: 'left' }, { annotator: 'ada', time: 'T1', shown: ['chosen', 'rejected'] }) + '\n');
    git('commit', '-q', '-am', 'ada');
    git('checkout', '-q', 'main');
    writeFileSync(file, applyLabel(line, { type: 'choose', side: 'left' }, { annotator: 'bo', time: 'T2', shown: ['chosen', 'rejected'] }) + '\n');
    git('commit', '-q', '-am', 'bo');
    git('merge', '--no-edit', 'ada');
    const merged = JSON.parse(readFileSync(file, 'utf8')) as { rpo_label: { status: string | null }; rpo_votes: { annotator: string; choice: string }[] };
    assert.deepEqual(merged.rpo_votes.map((v) => `${v.annotator}:${v.choice}`), ['ada:chosen', 'bo:chosen']);
    assert.equal(merged.rpo_label.status, null);
  });
});

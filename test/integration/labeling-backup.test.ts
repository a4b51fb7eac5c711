import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { closeAllEditors, getApi, waitFor, workspaceFolder } from './helpers';

/**
 * Hot exit in a real extension host: VS Code backs up a dirty labeling document through our
 * backupCustomDocument (the workbench's own backup tracker calls it, nothing here does); opening
 * the file from that backup id (what VS Code does when it restores the editor after a restart:
 * openCustomDocument with the backup id) brings the unsaved labels back, dirty; a file changed on
 * disk since the backup opens as saved (the edits are not replayed onto other bytes).
 * A file over HEAD_OPEN_BYTES opens in two steps (its first lines read-only, then the whole file):
 * once read, the editor holds every line and labels, saves and reverts as usual.
 */

interface Backup {
  uri: string;
  id: string;
  edits: number;
}
interface TestState {
  uri: string;
  ready: boolean;
  dirty: boolean;
  selected: number;
  counts: { complete: boolean; labeled: number; tieSkip: number; records: number; lines: number; reading?: unknown };
  backups: Backup[];
}
interface Restored {
  dirty: boolean;
  dirtyLines: number[];
  lines: string[];
  counts: { labeled: number; tieSkip: number; complete: boolean };
}

const state = async () => (await vscode.commands.executeCommand('_rpo.labeling.testState')) as TestState | undefined;

async function openInEditor(uri: vscode.Uri): Promise<TestState> {
  await vscode.commands.executeCommand('vscode.openWith', uri, 'rpo.labelingEditor');
  return waitFor(async () => {
    const s = await state();
    return s && s.uri === uri.toString() && s.ready && s.counts.complete ? s : undefined;
  }, 30_000, 'the preference editor to open and scan the file');
}

suite('labeling editor: hot exit backup, two-step open', () => {
  suiteSetup(async () => {
    await getApi();
    await vscode.workspace.getConfiguration('files').update('autoSave', 'off', vscode.ConfigurationTarget.Global);
  });

  teardown(async () => {
    await vscode.commands.executeCommand('workbench.action.files.revert').then(undefined, () => undefined);
    await closeAllEditors();
  });

  test('VS Code backs up unsaved labels; opening from the backup id restores them', async () => {
    const file = path.join(workspaceFolder().uri.fsPath, 'backup-test.pref.jsonl');
    const original = Array.from({ length: 50 }, (_, i) => JSON.stringify({ prompt: `q${i}`, responses: [`a${i}`, `b${i}`] }));
    fs.writeFileSync(file, original.join('\n') + '\n');
    const uri = vscode.Uri.file(file);
    await openInEditor(uri);
    await vscode.commands.executeCommand('rpo.label.chooseLeft'); // line 0
    await vscode.commands.executeCommand('rpo.label.tie'); // line 1
    const s = await waitFor(async () => {
      const x = (await state())!;
      return x.dirty && x.backups.some((b) => b.edits === 2) ? x : undefined;
    }, 20_000, "VS Code's backup of the dirty document (backupCustomDocument)");
    const backup = s.backups.filter((b) => b.edits === 2).at(-1)!;
    const labeled = fs.readFileSync(file, 'utf8');
    assert.equal(labeled, original.join('\n') + '\n', 'nothing saved yet');

    const restored = (await vscode.commands.executeCommand('_rpo.labeling.testRestore', uri.toString(), backup.id)) as Restored;
    assert.equal(restored.dirty, true, 'restored edits are unsaved');
    assert.deepEqual(restored.dirtyLines, [0, 1]);
    assert.equal(restored.counts.labeled, 1);
    assert.equal(restored.counts.tieSkip, 1);
    assert.equal(JSON.parse(restored.lines[0]!).rpo_label.annotator.length > 0, true);
    assert.equal(JSON.parse(restored.lines[1]!).rpo_label.status, 'tie');

    // The file changed on disk after the backup: the file opens as saved, nothing replayed.
    fs.writeFileSync(file, [original[0], ...original.slice(1).map((l) => l.replace('"q', '"Q'))].join('\n') + '\n');
    const stale = (await vscode.commands.executeCommand('_rpo.labeling.testRestore', uri.toString(), backup.id)) as Restored;
    assert.equal(stale.dirty, false, 'edits of a backup made against other bytes are not applied');
    assert.deepEqual(stale.dirtyLines, []);
    assert.equal(stale.counts.labeled, 0);
  });

  test('a file over 64 MB: first lines first, then the whole file, which labels and saves', async () => {
    const file = path.join(workspaceFolder().uri.fsPath, 'huge.pref.jsonl');
    const pad = 'y'.repeat(1900);
    const lines = Array.from({ length: 36_000 }, (_, i) => JSON.stringify({ prompt: `q${i}`, responses: [`a${i} ${pad}`, `b${i}`] }));
    fs.writeFileSync(file, lines.join('\n') + '\n');
    assert.ok(fs.statSync(file).size > 64 * 1024 * 1024, 'fixture must exceed HEAD_OPEN_BYTES');
    const uri = vscode.Uri.file(file);
    // Label keys pressed while only the first lines are in (read-only) wait for the whole file,
    // then apply in the order they were pressed. The whole model is held back until both keys are
    // in (on a fast disk it would otherwise replace the head before the test sees it).
    await vscode.commands.executeCommand('_rpo.labeling.testHoldWholeRead', true);
    let labels: Promise<unknown[]>;
    try {
      await vscode.commands.executeCommand('vscode.openWith', uri, 'rpo.labelingEditor');
      const head = await waitFor(async () => {
        const st = await state();
        return st && st.uri === uri.toString() && st.counts.reading ? st : undefined;
      }, 30_000, 'the read-only first lines');
      assert.ok(head.counts.lines < 36_000, `only the first lines are in (${head.counts.lines})`);
      labels = Promise.all([vscode.commands.executeCommand('rpo.label.chooseLeft'), vscode.commands.executeCommand('rpo.label.tie')]);
      await new Promise((r) => setTimeout(r, 300));
      const held = (await state())!;
      assert.equal(held.counts.labeled + held.counts.tieSkip, 0, 'nothing applied to the read-only first lines');
      assert.equal(held.dirty, false);
    } finally {
      await vscode.commands.executeCommand('_rpo.labeling.testHoldWholeRead', false);
    }
    await labels;
    const s = await openInEditor(uri);
    assert.equal(s.counts.lines, 36_000, 'the whole file replaced the first lines');
    assert.equal(s.counts.reading, undefined);
    assert.equal(s.counts.labeled, 1, 'the label pressed while reading was applied');
    assert.equal(s.counts.tieSkip, 1, 'and the tie after it, on the next record');
    assert.equal(s.selected, 2);
    await vscode.commands.executeCommand('rpo.label.last');
    await waitFor(async () => (await state())!.selected === 35_999, 10_000, 'the last line selected');
    await vscode.commands.executeCommand('rpo.label.chooseRight');
    const after = (await state())!;
    assert.equal(after.counts.labeled, 2);
    assert.equal(after.dirty, true);
    await vscode.commands.executeCommand('workbench.action.files.save');
    await waitFor(async () => !(await state())!.dirty, 30_000, 'save');
    const saved = fs.readFileSync(file, 'utf8').split('\n');
    assert.equal(saved.length, 36_001);
    assert.equal(JSON.parse(saved[35_999]!).rpo_label.annotator.length > 0, true);
    assert.equal(JSON.parse(saved[0]!).rpo_label.strength, 'clearly');
    assert.equal(JSON.parse(saved[1]!).rpo_label.status, 'tie');
    assert.equal(saved[2], lines[2]);
    fs.rmSync(file);
  });
});

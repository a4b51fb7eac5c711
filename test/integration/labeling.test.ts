import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { closeAllEditors, getApi, waitFor, workspaceFolder } from './helpers';

/**
 * The RPO Preference Editor in a real extension host: a file over VS Code's 50 MB limit for
 * extension text documents opens in the custom editor; labels through the rpo.label.* commands,
 * VS Code undo / redo / save / revert; bytes on disk checked; external changes while clean and
 * while dirty.
 */

interface TestState {
  uri: string;
  selected: number;
  ready: boolean;
  dirty: boolean;
  counts: { lines: number; complete: boolean; labeled: number; unlabeled: number; tieSkip: number; invalid: number; records: number };
}

const state = async () => (await vscode.commands.executeCommand('_rpo.labeling.testState')) as TestState | undefined;

function candidate(i: number, pad: string): string {
  return JSON.stringify({ prompt: `question ${i}`, responses: [`answer ${i} A ${pad}`, `answer ${i} B ${pad}`], id: i });
}

/** ~55 MB of candidates: over VS Code's 50 MB extension text-document limit. */
function writeBigFile(file: string): string[] {
  const pad = 'x'.repeat(1800);
  const lines: string[] = [];
  for (let i = 0; i < 30_000; i++) lines.push(candidate(i, pad));
  lines[5] = '{"prompt": "broken", "responses": ['; // one invalid line, kept byte for byte
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return lines;
}

async function openInEditor(uri: vscode.Uri): Promise<TestState> {
  await vscode.commands.executeCommand('vscode.openWith', uri, 'rpo.labelingEditor');
  return waitFor(async () => {
    const s = await state();
    return s && s.uri === uri.toString() && s.ready && s.counts.complete ? s : undefined;
  }, 60_000, 'the preference editor to open and scan the file');
}

function diskLines(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return text.slice(0, -1).split('\n');
}

suite('labeling editor', () => {
  let bigFile: string;
  let original: string[];

  suiteSetup(async () => {
    await getApi();
    // code-server defaults to auto save after a delay: these tests are about dirty state.
    await vscode.workspace.getConfiguration('files').update('autoSave', 'off', vscode.ConfigurationTarget.Global);
    bigFile = path.join(workspaceFolder().uri.fsPath, 'big.pref.jsonl');
    original = writeBigFile(bigFile);
    assert.ok(fs.statSync(bigFile).size > 50 * 1024 * 1024, 'fixture must exceed 50 MB');
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.files.revert').then(undefined, () => undefined);
    await closeAllEditors();
  });

  test('a file over 50 MB opens in the custom editor with counts and invalid lines in Problems', async () => {
    const uri = vscode.Uri.file(bigFile);
    const s = await openInEditor(uri);
    assert.equal(s.counts.lines, 30_000);
    assert.equal(s.counts.invalid, 1);
    assert.equal(s.counts.records, 29_999);
    assert.equal(s.counts.unlabeled, 29_999);
    const diags = await waitFor(() => vscode.languages.getDiagnostics(uri).length ? vscode.languages.getDiagnostics(uri) : undefined, 10_000, 'diagnostics');
    assert.equal(diags.length, 1);
    assert.equal(diags[0]!.range.start.line, 5);
    assert.match(diags[0]!.message, /Line 6: not valid JSON/);
  });

  test('label through commands, undo, redo, save: only the labeled lines change on disk', async () => {
    const s0 = (await state())!;
    assert.equal(s0.selected, 0);
    await vscode.commands.executeCommand('rpo.label.chooseLeft'); // line 0, then advances
    let s = (await state())!;
    assert.equal(s.selected, 1, 'advances to the next unlabeled record');
    assert.equal(s.counts.labeled, 1);
    assert.equal(s.dirty, true);
    await vscode.commands.executeCommand('rpo.label.tie'); // line 1
    await vscode.commands.executeCommand('rpo.label.chooseRightSlightly'); // line 2
    s = (await state())!;
    assert.equal(s.counts.labeled, 2);
    assert.equal(s.counts.tieSkip, 1);
    assert.equal(s.selected, 3);

    // VS Code runs the custom document's undo/redo callbacks asynchronously.
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    await vscode.commands.executeCommand('undo'); // undoes line 2
    await waitFor(async () => (await state())!.counts.labeled === 1, 10_000, 'undo');
    await vscode.commands.executeCommand('redo');
    await waitFor(async () => (await state())!.counts.labeled === 2, 10_000, 'redo');

    await vscode.commands.executeCommand('workbench.action.files.save');
    await waitFor(async () => !(await state())!.dirty, 20_000, 'save');
    const after = diskLines(bigFile);
    assert.equal(after.length, original.length);
    const changed = after.map((l, i) => (l !== original[i] ? i : -1)).filter((i) => i >= 0);
    assert.deepEqual(changed, [0, 1, 2]);
    const r0 = JSON.parse(after[0]!);
    assert.equal(r0.rpo_label.strength, 'clearly');
    // "Left is better": the response shown on the left became chosen.
    assert.deepEqual(r0.rpo_label.shown, ['chosen', 'rejected']);
    assert.equal(r0.chosen, JSON.parse(original[0]!).responses[r0.rpo_label.from_responses[0]]);
    assert.equal(JSON.parse(after[1]!).rpo_label.status, 'tie');
    const r2 = JSON.parse(after[2]!);
    assert.equal(r2.rpo_label.strength, 'slightly');
    assert.equal(after[5], original[5], 'the invalid line is kept byte for byte');
  });

  test('revert drops unsaved labels', async () => {
    await vscode.commands.executeCommand('rpo.label.skip');
    let s = (await state())!;
    assert.equal(s.dirty, true);
    assert.equal(s.counts.tieSkip, 2);
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    await vscode.commands.executeCommand('workbench.action.files.revert');
    s = await waitFor(async () => {
      const x = (await state())!;
      return !x.dirty && x.counts.complete && x.counts.tieSkip === 1 ? x : undefined;
    }, 30_000, 'revert');
    assert.equal(s.counts.labeled, 2);
  });

  test('an external change while clean reloads the editor', async () => {
    const lines = diskLines(bigFile);
    lines[10] = JSON.stringify({ prompt: 'external', chosen: 'a', rejected: 'b', rpo_label: { annotator: 'someone', time: '2026-01-01T00:00:00Z', status: 'skip', strength: null, note: null, shown: null } });
    fs.writeFileSync(bigFile, lines.join('\n') + '\n');
    const s = await waitFor(async () => {
      const x = (await state())!;
      return x.counts.complete && x.counts.tieSkip === 2 ? x : undefined;
    }, 30_000, 'reload after the external change');
    assert.equal(s.dirty, false);
  });

  test('an external change while dirty keeps the unsaved labels (the user is asked)', async () => {
    await vscode.commands.executeCommand('rpo.label.bothBad');
    let s = (await state())!;
    assert.equal(s.dirty, true);
    const tieSkip = s.counts.tieSkip;
    const lines = diskLines(bigFile);
    lines[20] = lines[20]!.replace('question 20', 'question twenty');
    fs.writeFileSync(bigFile, lines.join('\n') + '\n');
    await new Promise((r) => setTimeout(r, 3000));
    s = (await state())!;
    assert.equal(s.dirty, true, 'still dirty: nothing reloaded without asking');
    assert.equal(s.counts.tieSkip, tieSkip, 'the unsaved label is still there');
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await waitFor(async () => !(await state())!.dirty, 30_000, 'revert');
  });
});

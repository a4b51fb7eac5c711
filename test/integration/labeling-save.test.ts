import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { closeAllEditors, getApi, waitFor, workspaceFolder } from './helpers';

/**
 * Saving from the RPO Preference Editor in a real VS Code never loses data: an external change
 * made before the save leads to the question (overwrite / reload / compare) instead of being
 * overwritten; a symbolic link is saved through; hard links are asked about; a read-only file is
 * refused. And the import command never replaces its input. The questions are answered through
 * the test-only `_rpo.labeling.testSaveAnswers` command instead of the modal dialog.
 */

interface TestState {
  uri: string;
  ready: boolean;
  dirty: boolean;
  counts: { complete: boolean; labeled: number };
}
interface Asked {
  kind: string;
  message: string;
  choices: string[];
}

const state = async () => (await vscode.commands.executeCommand('_rpo.labeling.testState')) as TestState | undefined;
const answer = async (answers?: (string | null)[]) => (await vscode.commands.executeCommand('_rpo.labeling.testSaveAnswers', answers)) as Asked[];

function record(i: number): string {
  return JSON.stringify({ prompt: `question ${i}`, chosen: `good ${i}`, rejected: `bad ${i}` });
}

let dir: string;
let n = 0;
function writeFile(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function openInEditor(file: string): Promise<void> {
  const uri = vscode.Uri.file(file);
  await vscode.commands.executeCommand('vscode.openWith', uri, 'rpo.labelingEditor');
  await waitFor(async () => {
    const s = await state();
    return s && s.uri === uri.toString() && s.ready && s.counts.complete;
  }, 30_000, `the preference editor to open ${path.basename(file)}`);
}

/** Labels the selected record and waits for the document to be dirty. */
async function labelOne(): Promise<void> {
  await vscode.commands.executeCommand('rpo.label.chooseLeft');
  await waitFor(async () => (await state())?.dirty, 10_000, 'the label to make the document dirty');
}

/** VS Code's Save; resolves whether or not the save succeeded (a failure is a notification). */
async function save(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
  await vscode.commands.executeCommand('workbench.action.files.save');
}

async function revertAndClose(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
  await vscode.commands.executeCommand('workbench.action.files.revert').then(undefined, () => undefined);
  await closeAllEditors();
}

const labeledLines = (file: string) => fs.readFileSync(file, 'utf8').trimEnd().split('\n').filter((l) => l.includes('"rpo_label"')).length;

suite('labeling editor: saves that never lose data', () => {
  suiteSetup(async () => {
    await getApi();
    await vscode.workspace.getConfiguration('files').update('autoSave', 'off', vscode.ConfigurationTarget.Global);
    dir = path.join(workspaceFolder().uri.fsPath, 'save-safety');
    fs.mkdirSync(dir, { recursive: true });
  });

  teardown(async () => {
    await answer(undefined);
    await revertAndClose();
  });

  test('an external change before save leads to the question; Cancel keeps both, Overwrite writes ours', async () => {
    const file = writeFile(`conflict${n++}.pref.jsonl`, [record(0), record(1), record(2)]);
    await openInEditor(file);
    await labelOne();
    const external = [record(0), record(1), record(2), record(3)].join('\n') + '\n';
    fs.writeFileSync(file, external);
    await answer([null]); // dismissed
    await save();
    let asked = await waitFor(async () => {
      const a = await answer([null]);
      return a.length ? a : undefined;
    }, 20_000, 'the save question');
    assert.equal(asked.length, 1);
    assert.equal(asked[0]!.kind, 'changed-on-disk');
    assert.match(asked[0]!.message, /conflict\d+\.pref\.jsonl changed on disk since it was opened or last saved/);
    assert.deepEqual(asked[0]!.choices, ['overwrite', 'reload', 'compare']);
    assert.equal(fs.readFileSync(file, 'utf8'), external, 'the external change is still on disk');
    assert.equal((await state())!.dirty, true, 'the unsaved label is kept');

    await answer(['overwrite']);
    await save();
    await waitFor(async () => !(await state())!.dirty, 20_000, 'the overwriting save');
    asked = await answer(undefined);
    assert.deepEqual(asked.map((a) => a.kind), ['changed-on-disk']);
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 3, 'our version replaced the external one');
    assert.equal(labeledLines(file), 1);
  });

  test('Reload from Disk drops the unsaved labels and shows the file as changed', async () => {
    const file = writeFile(`reload${n++}.pref.jsonl`, [record(0), record(1)]);
    await openInEditor(file);
    await labelOne();
    const external = [record(0), record(1), record(2)].join('\n') + '\n';
    fs.writeFileSync(file, external);
    await answer(['reload']);
    await save();
    await waitFor(async () => {
      const s = await state();
      return s && !s.dirty && s.counts.complete && s.counts.labeled === 0;
    }, 30_000, 'the reload');
    assert.deepEqual((await answer(undefined)).map((a) => a.kind), ['changed-on-disk']);
    assert.equal(fs.readFileSync(file, 'utf8'), external);
  });

  test('Compare opens a diff of the file on disk and the unsaved version; nothing is saved', async () => {
    const file = writeFile(`compare${n++}.pref.jsonl`, [record(0), record(1)]);
    await openInEditor(file);
    await labelOne();
    const external = [record(0), record(1), record(2)].join('\n') + '\n';
    fs.writeFileSync(file, external);
    await answer(['compare']);
    await save();
    const diff = await waitFor(() => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputTextDiff), 20_000, 'the diff editor');
    const input = diff.input as vscode.TabInputTextDiff;
    assert.equal(fs.readFileSync(input.original.fsPath, 'utf8'), external, 'the left side is the file on disk');
    assert.equal(labeledLines(input.modified.fsPath), 1, 'the right side is the unsaved version');
    assert.equal(fs.readFileSync(file, 'utf8'), external, 'nothing saved');
    assert.deepEqual((await answer(undefined)).map((a) => a.kind), ['changed-on-disk']);
    fs.rmSync(path.dirname(input.modified.fsPath), { recursive: true, force: true });
    // back to the preference editor (teardown reverts the active editor)
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), 'rpo.labelingEditor');
    assert.equal((await state())!.dirty, true, 'the label is still unsaved');
  });

  test('a symbolic link is saved through without a question: the target gets the label', async () => {
    const real = writeFile(`real${n++}.pref.jsonl`, [record(0), record(1)]);
    const link = path.join(dir, `link${n++}.pref.jsonl`);
    fs.symlinkSync(real, link);
    await openInEditor(link);
    await labelOne();
    await answer([]);
    await save();
    await waitFor(async () => !(await state())!.dirty, 20_000, 'save');
    assert.deepEqual(await answer(undefined), []);
    assert.ok(fs.lstatSync(link).isSymbolicLink(), 'still a link');
    assert.equal(labeledLines(real), 1);
  });

  test('hard links are asked about; Write Through Links saves for every name', async () => {
    const a = writeFile(`hard${n++}.pref.jsonl`, [record(0), record(1)]);
    const b = path.join(dir, `hard${n++}.pref.jsonl`);
    fs.linkSync(a, b);
    await openInEditor(a);
    await labelOne();
    await answer(['inPlace']);
    await save();
    await waitFor(async () => !(await state())!.dirty, 20_000, 'save');
    const asked = await answer(undefined);
    assert.deepEqual(asked.map((q) => [q.kind, q.choices]), [['hard-links', ['inPlace']]]);
    assert.equal(labeledLines(b), 1, 'the other name has the label');
    assert.equal(fs.statSync(a).ino, fs.statSync(b).ino);
  });

  test('a read-only file is refused without a question and left as it was', async () => {
    const file = writeFile(`readonly${n++}.pref.jsonl`, [record(0), record(1)]);
    const before = fs.readFileSync(file);
    fs.chmodSync(file, 0o444);
    await openInEditor(file);
    await labelOne();
    await answer([]);
    await save();
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await state())!.dirty, true, 'not saved: the labels stay unsaved');
    assert.deepEqual(await answer(undefined), []);
    assert.deepEqual(fs.readFileSync(file), before);
    assert.equal(fs.statSync(file).mode & 0o777, 0o444);
  });

  test('the import command refuses its input as output through a linked folder', async () => {
    const sub = path.join(dir, `import${n++}`);
    fs.mkdirSync(sub);
    const hh = JSON.stringify({ chosen: '\n\nHuman: hi\n\nAssistant: hello', rejected: '\n\nHuman: hi\n\nAssistant: go away' });
    const input = path.join(sub, 'a.jsonl');
    fs.writeFileSync(input, hh + '\n' + hh + '\n');
    const original = fs.readFileSync(input);
    fs.symlinkSync(sub, path.join(sub, 'same'));
    const refused = await vscode.commands.executeCommand('rpo.importHh', vscode.Uri.file(input), vscode.Uri.file(path.join(sub, 'same', 'a.jsonl')));
    assert.equal(refused, undefined, 'nothing imported');
    assert.deepEqual(fs.readFileSync(input), original, 'the input is untouched');
    assert.deepEqual(fs.readdirSync(sub).sort(), ['a.jsonl', 'same']);
    const report = (await vscode.commands.executeCommand('rpo.importHh', vscode.Uri.file(input), vscode.Uri.file(path.join(sub, 'a.pref.jsonl')))) as { written: number } | undefined;
    assert.equal(report?.written, 2);
  });
});

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { testPython } from '../support/python.cjs';
import { getApi, workspaceFolder } from './helpers';

/**
 * "RPO: Import Dataset…" and "RPO: Export Dataset as Parquet…" in the real extension host, with
 * arguments in place of the dialogs: a Parquet file written by pyarrow is imported through a
 * mapping, opens in the preference editor, and exports back to Parquet that pyarrow reads.
 */
suite('dataio: import and export commands', function () {
  this.timeout(120_000);
  const python = testPython(__dirname);
  let dir = '';

  suiteSetup(async function () {
    if (!python) {
      console.log('dataio: skipped: no Python with pyarrow (run bash scripts/setup.sh or set RPO_TEST_PYTHON)');
      this.skip();
    }
    await getApi();
    dir = fs.mkdtempSync(path.join(workspaceFolder().uri.fsPath, 'dataio-'));
    const r = spawnSync(python!, ['-c', `
import pyarrow as pa, pyarrow.parquet as pq, sys
pq.write_table(pa.table({"qid": pa.array([1, 2], pa.int64()), "question": ["q1", "q2"], "response_j": ["good 1", "good 2"], "response_k": ["bad 1", None]}), sys.argv[1])
`, path.join(dir, 'stack.parquet')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  test('import with a mapping: records written, the null row reported; the result opens in the preference editor', async () => {
    const input = vscode.Uri.file(path.join(dir, 'stack.parquet'));
    const output = vscode.Uri.file(path.join(dir, 'stack.pref.jsonl'));
    const report = await vscode.commands.executeCommand<{ written: number; problemCount: number; problems: { row: number; column: string }[] }>(
      'rpo.importDataset', [input], output, 'prompt=question,chosen=response_j,rejected=response_k',
    );
    assert.ok(report, 'the command returns its report');
    assert.equal(report.written, 1);
    assert.deepEqual(report.problems.map((p) => [p.row, p.column]), [[2, 'response_k']]);
    assert.equal(fs.readFileSync(output.fsPath, 'utf8'), '{"prompt":"q1","chosen":"good 1","rejected":"bad 1","qid":1}\n');
    await vscode.commands.executeCommand('vscode.openWith', output, 'rpo.labelingEditor');
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    assert.ok(tab?.input instanceof vscode.TabInputCustom && tab.input.viewType === 'rpo.labelingEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('export to Parquet: pyarrow reads the TRL columns and the extra int64 column', async () => {
    const input = vscode.Uri.file(path.join(dir, 'stack.pref.jsonl'));
    const output = vscode.Uri.file(path.join(dir, 'out.parquet'));
    const report = await vscode.commands.executeCommand<{ written: number }>('rpo.exportDatasetParquet', input, output, ['labeled', 'unreviewed']);
    assert.equal(report?.written, 1);
    const r = spawnSync(python!, ['-c', 'import pyarrow.parquet as pq, sys; t = pq.read_table(sys.argv[1]); print([f"{f.name}:{f.type}" for f in t.schema], t.to_pylist())', output.fsPath], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "['prompt:string', 'chosen:string', 'rejected:string', 'qid:int64'] [{'prompt': 'q1', 'chosen': 'good 1', 'rejected': 'bad 1', 'qid': 1}]");
  });

  test('a file that is not Parquet: no output, the command returns nothing', async () => {
    const bad = path.join(dir, 'bad.parquet');
    fs.writeFileSync(bad, 'not parquet');
    const output = path.join(dir, 'bad.pref.jsonl');
    const report = await vscode.commands.executeCommand('rpo.importDataset', [vscode.Uri.file(bad)], vscode.Uri.file(output), '');
    assert.equal(report, undefined);
    assert.ok(!fs.existsSync(output));
  });
});

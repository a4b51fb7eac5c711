// "RPO: Import Dataset…" as a user runs it: the file dialog, the mapping quick pick (a target's
// column changed through its own pick, the preview of the first records as written), the save
// dialog, the result notification and the file. The Parquet file is written by pyarrow from the
// trainer's venv; without it the test says so and passes without running.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { testPython } = require('../support/python.cjs');
const python = testPython(path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..'));

export const options = {
  timeoutMs: 180_000,
  setup: async (ws) => {
    if (!python) return;
    const r = spawnSync(python, ['-c', `
import pyarrow as pa, pyarrow.parquet as pq, sys
pq.write_table(pa.table({"question": ["q1", "q2"], "response_j": ["good 1", "good 2"], "response_k": ["bad 1", "bad 2"], "extra": [1, 2]}), sys.argv[1])
`, path.join(ws, 'pairs.parquet')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  },
};

export default async function (h) {
  if (!python) {
    h.log('skipped: no Python with pyarrow (run bash scripts/setup.sh or set RPO_TEST_PYTHON)');
    return;
  }
  const { page } = h;
  const input = page.locator('.quick-input-widget input.input');
  await h.runCommand('RPO: Import Dataset…');
  // The (simple) open dialog: type the file's path.
  await h.fillFileDialog(path.join(h.workspace, 'pairs.parquet'));
  await page.keyboard.press('Enter');

  // The mapping quick pick: swap chosen to response_k through its column pick.
  await page.locator('.quick-input-widget', { hasText: 'looks like question / response_j / response_k' }).waitFor({ timeout: 20_000 });
  await h.pickQuickItem('chosen');
  await page.locator('.quick-input-widget', { hasText: 'Column for chosen' }).waitFor({ timeout: 10_000 });
  await h.pickQuickItem('response_k');
  await h.pickQuickItem('rejected', { timeoutMs: 10_000 });
  await page.locator('.quick-input-widget', { hasText: 'Column for rejected' }).waitFor({ timeout: 10_000 });
  await h.pickQuickItem('response_j');

  // Preview: the first records as they will be written, beside.
  await h.pickQuickItem('Preview the first records', { timeoutMs: 10_000 });
  await page.locator('.monaco-editor .view-lines', { hasText: /"chosen":\s"bad\s1"/ }).first().waitFor({ timeout: 20_000 });
  await h.screenshot('preview');

  await h.pickQuickItem('Import with this mapping', { timeoutMs: 15_000 });
  // The save dialog proposes pairs.pref.jsonl next to the input.
  // (The simple save dialog shows a folder first and fills in the proposed name once it has listed it.)
  await page.locator('.quick-input-widget input.input').waitFor({ timeout: 15_000 });
  await h.waitUntil(async () => /pairs\.pref\.jsonl$/.test(await input.inputValue()), { timeoutMs: 15_000, what: 'the save dialog to propose pairs.pref.jsonl' });
  await page.keyboard.press('Enter');

  await h.notification('Imported 2 of 2 rows (extra fields kept: extra)', { timeoutMs: 30_000 });
  const text = await h.waitForFile('pairs.pref.jsonl', (t) => t.split('\n').length === 3);
  h.assert.equal(text, '{"prompt":"q1","chosen":"bad 1","rejected":"good 1","extra":1}\n{"prompt":"q2","chosen":"bad 2","rejected":"good 2","extra":2}\n');
}

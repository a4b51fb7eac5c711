// RPO: Sample from Run… in the browser: a real tiny run (trained on the CPU in setup) is opened in
// its dashboard; the dashboard's Sample… button starts the command; its quick picks are answered
// by KEYBOARD (reference baseline, the eval split, greedy, 2 prompts, 4 new tokens); the progress
// notification ends with "Open in Preference Editor", which opens the blind candidates file in the
// preference editor. The files on disk: 2 records, no model name, a sidecar with the header. The
// runs view's context menu of the run offers Sample from Run….
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeTinyModel, useTestPython } from '../harness/workspace.mjs';

const repo = path.resolve(new URL('../..', import.meta.url).pathname);
let runDir = '';

export const options = {
  timeoutMs: 300_000,
  setup: async (ws) => {
    const python = useTestPython(ws);
    const model = makeTinyModel(ws, python);
    const dir = path.join(ws, 'sample-ui');
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(repo, 'test', 'fixtures', 'training', 'tiny.pref.jsonl'), path.join(dir, 'tiny.pref.jsonl'));
    const config = JSON.parse(fs.readFileSync(path.join(repo, 'test', 'fixtures', 'training', 'tiny-dpo.rpo.json'), 'utf8'));
    delete config.$schema;
    Object.assign(config, { name: 'ui-sample', model, max_steps: 2, eval_split: 0.25, output_dir: '../.rpo/runs' });
    const configPath = path.join(dir, 'ui-sample.rpo.json');
    fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
    const trainer = path.join(repo, 'trainer');
    const out = execFileSync(python, ['-m', 'rpo_trainer', 'train', '--config', configPath], { cwd: trainer, env: { ...process.env, PYTHONPATH: trainer, OMP_NUM_THREADS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    runDir = JSON.parse(out.toString().trim().split('\n').pop()).run_dir;
  },
};

export default async function (h) {
  const { page, assert } = h;
  await h.runCommand('RPO: Open Run Dashboard');
  await h.pickQuickItem('ui-sample', { timeoutMs: 30_000 });
  const frame = await h.frameWith('#sample', { what: "the dashboard's Sample… button" });
  await frame.waitForSelector('#sample:not([hidden])', { timeout: 30_000 });
  await frame.click('#sample');

  const input = page.locator('.quick-input-widget input.input');
  const title = (t) => page.locator('.quick-input-widget .quick-input-title', { hasText: t }).waitFor({ timeout: 20_000 });
  await title('baseline B');
  await page.keyboard.press('Enter'); // Reference model (first)
  await title('prompts');
  await page.keyboard.press('Enter'); // the run's eval split (first)
  await title('decoding');
  await page.keyboard.press('ArrowDown'); // Greedy
  await page.keyboard.press('Enter');
  await title('number of prompts');
  await input.fill('2');
  await page.keyboard.press('Enter');
  await title('max new tokens');
  await input.fill('4');
  await page.keyboard.press('Enter');

  const toast = await h.notification('Judge them blind', { timeoutMs: 180_000 });
  await h.screenshot('sample-done');
  const file = path.join(runDir, 'samples', 'final-vs-reference.eval.pref.jsonl');
  const records = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(records.length, 2);
  for (const r of records) assert.deepEqual(Object.keys(r), ['prompt', 'responses']);
  const side = fs.readFileSync(`${file}.sources.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(side[0].format, 'rpo-candidates-sources');
  assert.equal(side[0].settings.greedy, true);
  assert.equal(side[0].settings.max_new_tokens, 4);
  assert.equal(side.length, 3);

  await toast.locator('a.monaco-button, .monaco-button', { hasText: 'Open in Preference Editor' }).first().click();
  await page.locator('.tabs-container .tab.active', { hasText: 'final-vs-reference.eval.pref.jsonl' }).waitFor({ timeout: 30_000 });
  await h.screenshot('sample-opened');

  // The runs view offers it in a finished run's context menu.
  await page.locator('.activitybar [aria-label^="RPO Studio"]').first().click();
  const row = page.locator('.pane-body .monaco-list-row', { hasText: 'ui-sample' }).first();
  await row.waitFor({ timeout: 20_000 });
  await row.click({ button: 'right' });
  await page.locator('.context-view .action-label', { hasText: 'Sample from Run…' }).first().waitFor({ timeout: 10_000 });
  await h.screenshot('runs-view-menu');
  await page.keyboard.press('Escape');
}

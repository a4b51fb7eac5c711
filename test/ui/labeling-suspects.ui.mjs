// The model's view of each record in the preference editor, on a real run: the set-up trains the
// tiny model with the real trainer (CPU, DPO, 3 epochs) on a learnable preference file where 4 of
// 32 pairs have chosen and rejected swapped. Opening the file shows the newest run on it (found
// by its config), the "Suspect" filter lists the run's suspects most suspect first, the detail
// shows the margin and confidence, flipping a suspect marks it "label changed since run" in the
// detail and the list, and the run bar's "labels changed since run X" count follows the label
// and its undo. Picking a run folder without dynamics.safetensors (an older run) says so.
// Screenshots in test-results/labeling-suspects/.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeTinyModel, useTestPython, workspaceSettings } from '../harness/workspace.mjs';

const repo = path.resolve(new URL('../..', import.meta.url).pathname);
const FILE = 'suspects.pref.jsonl';
/** 0-based lines whose labels go against the rule the other pairs teach. */
const FLIPPED = [2, 10, 18, 26];

export const options = {
  timeoutMs: 900_000, // the set-up's run takes ~20 s of CPU, minutes on a busy machine
  setup: async (ws) => {
    const python = useTestPython(ws);
    const model = makeTinyModel(ws, python);
    const lines = fs.readFileSync(path.join(repo, 'test', 'fixtures', 'training', 'tiny.pref.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    for (const i of FLIPPED) [lines[i].chosen, lines[i].rejected] = [lines[i].rejected, lines[i].chosen];
    fs.writeFileSync(path.join(ws, FILE), lines.map((o) => JSON.stringify(o)).join('\n') + '\n');
    const config = JSON.parse(fs.readFileSync(path.join(repo, 'test', 'fixtures', 'training', 'tiny-dpo.rpo.json'), 'utf8'));
    delete config.$schema;
    Object.assign(config, { name: 'ui-suspects', model, dataset: FILE, max_steps: 48, output_dir: '.rpo/runs' });
    fs.writeFileSync(path.join(ws, 'ui-suspects.rpo.json'), JSON.stringify(config, null, 2));
    // The real trainer, as `rpo train` runs it.
    execFileSync(python, ['-m', 'rpo_trainer', 'train', '--config', 'ui-suspects.rpo.json'], { cwd: ws, env: { ...process.env, PYTHONPATH: path.join(repo, 'trainer') }, stdio: 'pipe', timeout: 600_000 });
    const runs = fs.readdirSync(path.join(ws, '.rpo', 'runs'));
    const run = path.join(ws, '.rpo', 'runs', runs[0]);
    if (!fs.existsSync(path.join(run, 'dynamics.safetensors'))) throw new Error(`the run wrote no dynamics.safetensors: ${fs.readdirSync(run)}`);
    // An older run: the same folder without the dynamics file (a trainer from before it existed).
    const old = path.join(ws, '.rpo', 'runs', 'old-run-20200101-000000');
    fs.mkdirSync(old);
    for (const f of ['events.jsonl', 'config.json']) fs.copyFileSync(path.join(run, f), path.join(old, f));
    workspaceSettings(ws, { 'files.autoSave': 'off', 'rpo.labeling.annotator': 'checker', 'rpo.labeling.advanceAfterLabel': true });
  },
};

export default async function (h) {
  const { page, assert } = h;
  await h.openFile(FILE);
  const wv = h.webview();
  await wv.locator('#progress-text').filter({ hasText: /\/ 32 labeled/ }).waitFor({ timeout: 30_000 });
  // The newest run on this file is shown by itself: 4 suspects, nothing changed yet.
  const runText = wv.locator('#run-text');
  await runText.filter({ hasText: /^Run ui-suspects-\d{8}-\d{6}: \d+ suspects · labels changed since run ui-suspects-\d{8}-\d{6}: 0$/ }).waitFor({ timeout: 60_000 });
  const bar = await runText.innerText();
  h.log('run bar:', bar);
  const suspects = Number(/: (\d+) suspects/.exec(bar)[1]);
  assert.ok(suspects >= 1 && suspects <= 8, `a few suspects: ${suspects}`);
  const radio = wv.locator('vscode-radio[data-filter="suspect"]');
  assert.equal(await radio.getAttribute('label'), `Suspect ${suspects}`);
  await h.screenshot('01-run-shown');

  // The Suspect filter: the run's ranking, most suspect first; its first records are flipped ones.
  await radio.click();
  const rows = wv.locator('#list .row[data-index]');
  await h.waitUntil(async () => (await rows.count()) === suspects, { what: `${suspects} rows in the Suspect filter` });
  const listed = (await rows.evaluateAll((els) => els.map((e) => Number(e.dataset.index))));
  h.log('suspect lines (0-based):', JSON.stringify(listed), 'flipped:', JSON.stringify(FLIPPED));
  assert.ok(FLIPPED.includes(listed[0]), `the most suspect record is a flipped one: line ${listed[0] + 1}`);
  assert.ok(listed.filter((l) => FLIPPED.includes(l)).length >= 3, 'the flipped records are among the suspects');

  // Its detail: suspect #1, the margin (negative) and the confidence.
  await rows.first().click();
  const dyn = wv.locator('#dynamics');
  await dyn.filter({ hasText: 'suspect #1' }).waitFor({ timeout: 15_000 });
  const figures = await dyn.locator('.dyn-figures').innerText();
  h.log('figures:', figures.replace(/\s+/g, ' '));
  const aum = Number(/margin \(AUM\)\s+(-?[\d.]+)/.exec(figures)[1]);
  const confidence = Number(/confidence\s+([\d.]+)/.exec(figures)[1]);
  assert.ok(aum < 0, `negative margin: ${aum}`);
  assert.ok(confidence > 0 && confidence < 0.5, `confidence below one half: ${confidence}`);
  assert.match(await dyn.innerText(), /Trained on: Response [AB] \((left|right)\) as chosen \(line \d+ of the file it read\)/);
  assert.equal(await dyn.locator('.dyn-changed').count(), 0, 'not changed yet');
  await h.screenshot('02-suspect-detail');

  // Relabel: F flips it and goes on to the next suspect (a review filter keeps to its records);
  // the row says "label changed since run"; the count follows. K goes back: the detail says so too.
  await page.keyboard.press('f');
  await runText.filter({ hasText: /labels changed since run ui-suspects-\d{8}-\d{6}: 1 \(1 flipped, 0 no longer labeled\)$/ }).waitFor({ timeout: 15_000 });
  await wv.locator(`#list .row.changed[data-index="${listed[0]}"] .changed-mark`).waitFor({ timeout: 15_000 });
  await dyn.filter({ hasText: 'suspect #2' }).waitFor({ timeout: 15_000 });
  assert.equal(await rows.count(), suspects, 'a relabeled suspect stays listed (the run\'s view)');
  await page.keyboard.press('k');
  await dyn.filter({ hasText: 'suspect #1' }).waitFor({ timeout: 15_000 });
  await dyn.locator('.dyn-changed', { hasText: 'label changed since run' }).waitFor({ timeout: 15_000 });
  await h.screenshot('03-label-changed');
  // Undo: back to the run's label.
  await page.keyboard.press('Control+Z');
  await runText.filter({ hasText: /labels changed since run ui-suspects-\d{8}-\d{6}: 0$/ }).waitFor({ timeout: 15_000 });
  assert.equal(await dyn.locator('.dyn-changed').count(), 0);

  // An older run without the dynamics file: a clear message, the shown run stays.
  await wv.locator('#run-pick').click();
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'old-run-20200101-000000' }).first().waitFor({ timeout: 15_000 });
  await h.screenshot('04-pick-run');
  await h.pickQuickItem('old-run-20200101-000000');
  await h.notification('has no dynamics.safetensors');
  assert.match(await runText.innerText(), /^Run ui-suspects-/);
  await h.screenshot('05-older-run');
}

// Win rate end to end in the browser: a run folder with a candidates file + sidecar in its
// samples/ (written from docs/formats.md by test/builders/candidates.mjs, model A = the run,
// B = the reference), labeled BY KEYBOARD in the preference editor: for each record the test reads
// which answer is on the left (A's answers start "alpha", B's "beta") and presses 1 or 2 by a plan,
// t for a tie; saves; then the run's dashboard shows the win rate next to the reward accuracy,
// equal to the hand count: 5 A, 2 B, 1 tie of 8 -> (5 + 0.5) / 8 = 68.75%; and RPO: Show Win Rate of
// Candidates File… on the same file says so in a notification.
import fs from 'node:fs';
import path from 'node:path';
import { workspaceSettings } from '../harness/workspace.mjs';
import { writeCandidates } from '../builders/candidates.mjs';

const RUN = path.join('.rpo', 'runs', 'winrate-run-20261201-000000');
const SAMPLES = path.join(RUN, 'samples', 'final-vs-reference.eval.pref.jsonl');
const PLAN = ['A', 'B', 'A', 'tie', 'A', 'A', 'B', 'A']; // hand count: 5 A, 2 B, 1 tie

function events(runDir) {
  const t = (s) => new Date(Date.parse('2026-12-01T00:00:00.000Z') + s * 1000).toISOString();
  const metrics = (step) => ({ loss: 0.69 - step * 0.01, 'rewards/chosen': 0.1, 'rewards/rejected': -0.1, 'rewards/margins': 0.2, 'rewards/accuracies': 0.75, 'logps/chosen': -50, 'logps/rejected': -55 });
  const ev = [
    { schema: 1, type: 'start', time: t(0), run_dir: runDir, config: { method: 'rpo', beta: 0.1 }, model: { name_or_path: '/models/tiny', architecture: 'LlamaForCausalLM', parameters: 1000, trainable_parameters: 1000, lora: false }, dataset: { path: '/data/train.pref.jsonl', sha256: 'a'.repeat(64), lines: 10, usable: 10, train: 8, eval: 2, left_out: {} }, devices: [{ type: 'cpu', name: 'cpu', memory_bytes: null }], num_processes: 1, total_steps: 2, step: 0, epoch: 0, resumed: null, precision: 'fp32' },
    ...[1, 2].map((step) => ({ schema: 1, type: 'step', time: t(step), step, total_steps: 2, epoch: step / 2, metrics: metrics(step), learning_rate: 5e-6, grad_norm: 1, tokens_per_second: 100, samples_per_second: 2, elapsed_seconds: step, eta_seconds: 2 - step, memory: null })),
    { schema: 1, type: 'end', time: t(3), status: 'completed', step: 2, total_steps: 2, epoch: 1, elapsed_seconds: 3, run_dir: runDir, final_model: path.join(runDir, 'final'), checkpoint: null, message: null },
  ];
  return ev.map((e) => JSON.stringify(e)).join('\n') + '\n';
}

export const options = {
  timeoutMs: 200_000,
  setup: async (ws) => {
    const runDir = path.join(ws, RUN);
    fs.mkdirSync(path.join(runDir, 'samples'), { recursive: true });
    fs.writeFileSync(path.join(runDir, 'events.jsonl'), events(runDir));
    const answers = PLAN.map((_, i) => ({ prompt: `Question ${i}: what do you say?`, a: `alpha answer ${i}${' more'.repeat(i % 3)}`, b: `beta answer ${i}${' longer text'.repeat((i + 1) % 3)}` }));
    writeCandidates(path.join(ws, SAMPLES), answers, {
      seed: 7,
      models: {
        A: { kind: 'run', run_dir: runDir, checkpoint: null, model: path.join(runDir, 'final'), base_model: null, lora: false },
        B: { kind: 'reference', run_dir: null, checkpoint: null, model: '/models/tiny', base_model: null, lora: false },
      },
    });
    workspaceSettings(ws, { 'files.autoSave': 'off', 'rpo.labeling.annotator': 'ui-judge', 'rpo.labeling.advanceAfterLabel': false });
  },
};

export default async function (h) {
  const { page, assert } = h;
  await h.openFile(SAMPLES);
  const wv = h.webview();
  const header = wv.locator('#detail-header');
  await wv.locator('#progress-text').filter({ hasText: `0 / ${PLAN.length} labeled` }).waitFor({ timeout: 30_000 });
  await wv.locator('#list').click({ position: { x: 5, y: 5 } }); // line 1; keys go to VS Code
  for (let i = 0; i < PLAN.length; i++) {
    await header.filter({ hasText: new RegExp(`^Line ${i + 1} · `) }).waitFor({ timeout: 15_000 });
    const left = (await wv.locator('#left').innerText()).includes('alpha') ? 'A' : 'B';
    assert.ok((await wv.locator(left === 'A' ? '#right' : '#left').innerText()).includes('beta'), `line ${i + 1}: the other side is B's answer`);
    const key = PLAN[i] === 'tie' ? 't' : PLAN[i] === left ? '1' : '2';
    await page.keyboard.press(key);
    await wv.locator('#progress-text').filter({ hasText: `${i + 1} / ${PLAN.length} labeled` }).waitFor({ timeout: 15_000 });
    if (i + 1 < PLAN.length) await page.keyboard.press('j');
  }
  await h.screenshot('labeled');
  await page.keyboard.press('Control+S');
  await h.waitForFile(SAMPLES, (t) => t.split('\n').filter((l) => l.includes('"rpo_label"')).length === PLAN.length, 20_000);

  // The run's dashboard: the win rate of this run over the reference, next to its reward accuracy.
  await h.runCommand('RPO: Open Run Dashboard');
  await h.pickQuickItem('winrate-run');
  await page.locator('iframe.webview.ready >> visible=true').first().waitFor({ timeout: 30_000 });
  const dash = h.webview();
  const row = dash.locator('#winrate tr.winrate-row');
  await row.first().waitFor({ timeout: 30_000 });
  const text = await row.first().innerText();
  h.log('win-rate row:', JSON.stringify(text));
  assert.match(text, /final-vs-reference\.eval\.pref\.jsonl/);
  assert.match(text, /B \(reference model \/models\/tiny\)/);
  assert.match(text, /8 of 8/);
  assert.match(text, /5 \/ 2 \/ 1/);
  assert.match(text, /68\.8%/); // (5 + 1/2) / 8 = 0.6875
  assert.match(await dash.locator('#winrate-accuracy').innerText(), /Reward accuracy 0\.750/);
  await h.screenshot('dashboard-winrate');

  // The same file through the command palette: the headline in a notification.
  await h.runCommand('RPO: Show Win Rate of Candidates File…');
  await h.fillFileDialog(path.join(h.workspace, SAMPLES));
  await page.keyboard.press('Enter');
  await h.notification('A (run winrate-run-20261201-000000, final) over B (reference model /models/tiny): 68.8%', { timeoutMs: 30_000 });
  await h.screenshot('show-winrate');
}

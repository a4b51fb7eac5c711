// Workspace trust: in Restricted Mode the training commands are not offered in the palette, the
// Runs view explains why (with a link to manage trust), and runs in the folder are still listed.
import fs from 'node:fs';
import path from 'node:path';

export const options = {
  workspaceTrust: true,
  waitForActivation: false,
  setup: async (ws) => {
    // A finished run in the workspace: listing it runs no code.
    const run = path.join(ws, '.rpo', 'runs', 'listed-run-20260101-000000');
    fs.mkdirSync(run, { recursive: true });
    const repo = path.resolve(new URL('../..', import.meta.url).pathname);
    fs.copyFileSync(path.join(repo, 'test', 'fixtures', 'events', 'rpo-tiny.events.jsonl'), path.join(run, 'events.jsonl'));
    const failed = path.join(ws, '.rpo', 'runs', 'failed-run-20260101-000000');
    fs.mkdirSync(failed, { recursive: true });
    fs.copyFileSync(path.join(repo, 'test', 'fixtures', 'events', 'rpo-tiny-failed.events.jsonl'), path.join(failed, 'events.jsonl'));
  },
};

export default async function (h) {
  const { page, assert } = h;
  await h.declineWorkspaceTrust();

  await page.locator('.activitybar [aria-label^="RPO Studio"]').first().click();
  // The finished run is listed, and the explanation shows above it.
  await page.locator('.pane-body .monaco-list-row', { hasText: 'listed-run' }).first().waitFor({ timeout: 20_000 });
  await page.getByText('Restricted Mode: training runs Python code', { exact: false }).first().waitFor({ timeout: 20_000 });
  // Its context menu offers no Stop/Resume (and the palette none of the run commands, below).
  await page.locator('.pane-body .monaco-list-row', { hasText: 'listed-run' }).first().click({ button: 'right' });
  const menu = page.locator('.monaco-menu-container, .context-view .monaco-menu').first();
  await menu.getByText('Open Run Dashboard').waitFor({ timeout: 10_000 });
  assert.equal(await menu.getByText('Resume Training Run').count(), 0, 'Resume offered in an untrusted workspace');
  await page.keyboard.press('Escape');
  await h.screenshot('runs-view-untrusted');

  // The palette does not offer the run commands.
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible' });
  await input.fill('>RPO: Show Log');
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Show Log' }).first().waitFor({ timeout: 20_000 });
  for (const title of ['Start Training Run', 'Check Training Environment', 'Resume Training Run', 'Stop Training Run']) {
    await input.fill(`>RPO: ${title}`);
    await page.waitForTimeout(500);
    const rows = await page.locator('.quick-input-widget .monaco-list-row .label-name', { hasText: title }).count();
    assert.equal(rows, 0, `"RPO: ${title}" is offered in an untrusted workspace`);
  }
  await page.keyboard.press('Escape');

  // Reading a finished run needs no trust: a failed run's dashboard shows the trainer's error and hint.
  // Move away from the tree first: the previous row's hover would cover this one.
  await page.mouse.move(900, 700);
  await page.locator('.monaco-hover').first().waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => {});
  await page.locator('.pane-body .monaco-list-row', { hasText: 'failed-run' }).first().click({ position: { x: 40, y: 8 } });
  const wv = h.webview();
  await page.locator('iframe.webview.ready >> visible=true').first().waitFor({ timeout: 30_000 });
  const panel = wv.locator('.error-panel');
  await panel.locator('h2', { hasText: 'Run failed (data)' }).waitFor({ timeout: 20_000 });
  assert.match((await panel.textContent()) ?? '', /max_prompt_length/);
  assert.match((await panel.locator('.hint').textContent()) ?? '', /^Hint: /);
  assert.equal(await wv.locator('#resume').isVisible(), false, 'nothing to resume');
  await h.screenshot('failed-run-dashboard');
}

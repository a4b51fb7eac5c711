// The run dashboard's data map, end to end: the sample's offline run (offline-demo.rpo.json, the
// real trainer on the tiny model, as sample-offline.ui.mjs runs it) writes dynamics.safetensors;
// its dashboard shows one point per visited training pair with the easy / ambiguous / hard counts
// (checked against the file, read here); the map takes the keyboard (focus, arrows, a tooltip with
// the prompt's first line, checked against the dataset line of that point); a click on a point
// opens that record in the preference editor (Picked filter, the run's figures); relabeling it
// (f: flip) marks it "label changed since run". Then a box dragged over the whole map picks every
// point. Screenshots in test-results/data-map/.
import fs from 'node:fs';
import path from 'node:path';
import { options as sample } from './sample-offline.ui.mjs';

export const options = { timeoutMs: 900_000, setup: sample.setup };

/** The columns of dynamics.safetensors the test checks (docs/contracts.md §8), read by hand. */
function readDynamics(file) {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const col = (name, Ctor) => {
    const t = header[name];
    const bytes = buf.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]);
    return new Ctor(Uint8Array.from(bytes).buffer);
  };
  return {
    meta: header.__metadata__,
    line: col('line', Int32Array),
    split: col('split', Uint8Array),
    visits: col('visits', Int32Array),
    confidence: col('confidence', Float32Array),
    variability: col('variability', Float32Array),
  };
}

export default async function (h) {
  const { page, assert } = h;
  await h.runCommand('RPO: Start Training Run…');
  await h.pickQuickItem('offline-demo.rpo.json', { timeoutMs: 20_000 });
  const dash = await h.frameWith('#compare', { what: 'the run dashboard' });
  await dash.locator('.badge', { hasText: /Starting|Running|Completed/ }).first().waitFor({ timeout: 60_000 });
  await dash.locator('.badge', { hasText: 'Completed' }).waitFor({ timeout: 720_000 });

  // The file the trainer wrote, read here.
  const runs = path.join(h.workspace, '.rpo', 'runs');
  const runName = fs.readdirSync(runs).find((d) => d.startsWith('offline-demo-'));
  assert.ok(runName, 'the run folder');
  const d = readDynamics(path.join(runs, runName, 'dynamics.safetensors'));
  assert.equal(d.meta.complete, 'true');
  const points = [];
  for (let r = 0; r < d.split.length; r++) if (d.split[r] === 0 && d.visits[r] > 0) points.push(r);
  assert.ok(points.length > 10, `visited training rows: ${points.length}`);
  const regions = { easy: 0, ambiguous: 0, hard: 0 };
  for (const r of points) regions[d.variability[r] >= 0.2 ? 'ambiguous' : d.confidence[r] >= 0.5 ? 'easy' : 'hard']++;

  // The map: every visited training pair, drawn one by one (few), the regions counted.
  const canvas = dash.locator('.data-map-canvas');
  await canvas.scrollIntoViewIfNeeded();
  await dash.waitForSelector(`.data-map-canvas[data-visible="${points.length}"]`, { timeout: 30_000 });
  assert.equal(await canvas.getAttribute('data-mode'), 'points');
  const summary = dash.locator('#data-map-summary');
  assert.match((await summary.textContent()) ?? '', new RegExp(`^${points.length} training pairs`));
  assert.deepEqual(
    { easy: Number(await summary.getAttribute('data-easy')), ambiguous: Number(await summary.getAttribute('data-ambiguous')), hard: Number(await summary.getAttribute('data-hard')) },
    regions,
    'region counts as computed from the file',
  );
  await h.screenshot('01-data-map');

  // Keyboard: the map takes focus; a cursor lands on a point, its tooltip shows the prompt's first
  // line (read by the host from that point's dataset line) and the margin.
  const datasetLines = fs.readFileSync(path.join(h.workspace, 'hh-harmless.pref.jsonl'), 'utf8').split('\n');
  const firstLineOf = (point) => {
    const rec = JSON.parse(datasetLines[d.line[points[point]] - 1]);
    return `${rec.prompt[0].role}: ${rec.prompt[0].content}`.split('\n').find((l) => l.trim()).trim().slice(0, 199);
  };
  const tooltip = dash.locator('#data-map-tooltip');
  await canvas.focus();
  await tooltip.waitFor({ state: 'visible', timeout: 10_000 });
  const shownPoint = async () => Number(await tooltip.getAttribute('data-point'));
  const first = await shownPoint();
  await tooltip.locator('.first', { hasText: firstLineOf(first).slice(0, 40) }).waitFor({ timeout: 20_000 });
  assert.match((await tooltip.textContent()) ?? '', /margin \(AUM\) -?\d/);
  assert.match((await dash.locator('#data-map-live').textContent()) ?? '', /margin \(AUM\)/, 'the live region says it too');
  let moved = false;
  for (const key of ['ArrowRight', 'ArrowLeft', 'ArrowUp', 'ArrowDown']) {
    await page.keyboard.press(key);
    if ((await shownPoint()) !== first) {
      moved = true;
      break;
    }
  }
  assert.ok(moved, 'an arrow key moved the cursor to another point');
  const point = await shownPoint();
  await tooltip.locator('.first', { hasText: firstLineOf(point).slice(0, 40) }).waitFor({ timeout: 20_000 });
  await h.screenshot('02-keyboard-cursor');

  // The mouse: hover the cursor's point, then click it.
  const ring = await dash.locator('.data-map-cursor').boundingBox();
  assert.ok(ring, 'the cursor ring is shown');
  const at = { x: ring.x + ring.width / 2, y: ring.y + ring.height / 2 };
  await page.mouse.move(at.x, at.y);
  await h.waitUntil(async () => (await shownPoint()) === point, { timeoutMs: 5_000, what: 'the hovered point in the tooltip' });
  await h.screenshot('03-hover');
  await page.mouse.click(at.x, at.y);

  // The preference editor opens on that record: the Picked filter, the run's figures.
  const row = points[point];
  const ed = await h.frameWith('#detail-header', { what: 'the preference editor' });
  await ed.locator('#detail-header', { hasText: new RegExp(`^Line ${d.line[row]} · `) }).waitFor({ timeout: 60_000 });
  await ed.locator('#prompt', { hasText: firstLineOf(point).replace(/^user: /, '').slice(0, 40) }).first().waitFor({ timeout: 10_000 });
  await ed.locator('#dynamics .dyn-run', { hasText: runName }).waitFor({ timeout: 30_000 });
  assert.equal(await ed.locator('#dynamics .dyn-changed').count(), 0, 'no label change yet');
  const picked = ed.locator('vscode-radio[data-filter="picked"]');
  assert.equal(await picked.getAttribute('label'), 'Picked 1', 'one record picked');
  await h.screenshot('04-editor-picked');

  // Relabel it (flip): the list marks it and the run bar counts it, the editor moves on (as after
  // any label); selected again, its detail says "label changed since run".
  await ed.locator('#list').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('f');
  const pickedRow = ed.locator('.row:not(.loading)').first(); // the one row of the Picked filter
  await pickedRow.locator('.changed-mark').waitFor({ timeout: 15_000 });
  await ed.locator('#run-text', { hasText: /labels changed since run [^:]+: 1 \(1 flipped/ }).first().waitFor({ timeout: 10_000 });
  await pickedRow.click();
  await ed.locator('#detail-header', { hasText: new RegExp(`^Line ${d.line[row]} · `) }).waitFor({ timeout: 15_000 });
  await ed.locator('#dynamics .dyn-changed', { hasText: 'label changed since run' }).waitFor({ timeout: 15_000 });
  await h.screenshot('05-label-changed');

  // A box over the whole map picks every point.
  await page.locator('.tabs-container .tab', { hasText: 'Run: offline-demo' }).first().click();
  const box = await canvas.boundingBox();
  assert.ok(box);
  await page.mouse.move(box.x + 2, box.y + 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 4 });
  await page.mouse.move(box.x + box.width - 2, box.y + box.height - 2, { steps: 4 });
  await page.mouse.up();
  // (the editor's webview was hidden, so it is a new frame)
  await h.waitUntil(async () => {
    const f = await h.frameWith('vscode-radio[data-filter="picked"]', { what: 'the preference editor' });
    return (await f.getAttribute('vscode-radio[data-filter="picked"]', 'label').catch(() => null)) === `Picked ${points.length}`;
  }, { timeoutMs: 60_000, what: `${points.length} picked records` });
  await h.screenshot('06-box-picked');
}

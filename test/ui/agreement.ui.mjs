// RPO: Show Annotator Agreement on a real file: 80 records voted on by three annotators (written
// here from a seeded generator; one annotator is named with markup) and one line with a malformed
// vote. The panel's Fleiss' kappa and both Krippendorff's alphas equal what the built
// `rpo agreement --json` prints for the same file; the heatmap has one cell per annotator pair, each
// with the CLI's Cohen's kappa; the odd name is text (no <img> in the panel); the invalid line is
// named with its line and field. Then the file changes on disk (the bad line fixed, as a save
// would): the panel recomputes by itself and the invalid-line notice goes away.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, waitUntil } from '../harness/lib.mjs';
import { workspaceSettings } from '../harness/workspace.mjs';

const FILE = 'ui-agreement.pref.jsonl';
const ODD = '<img src=x onerror=alert(1)>';
const NAMES = ['ada', 'bo', ODD];
const BAD_LINE = 6; // 1-based

/** mulberry32 (docs/contracts.md §5): a small seeded generator, so the file is the same every run. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function lines({ withBadLine }) {
  const rnd = mulberry32(2026);
  const clock = Object.fromEntries(NAMES.map((n, k) => [n, Date.parse('2026-12-01T09:00:00.000Z') + k * 1000]));
  const out = [];
  for (let i = 0; i < 80; i++) {
    const truth = rnd() < 0.5 ? 'chosen' : 'rejected';
    const votes = [];
    for (const [k, name] of NAMES.entries()) {
      if (k > 0 && rnd() < 0.12) continue; // a missing vote (ada always votes: every record keeps two or more)
      clock[name] += Math.round(5_000 + rnd() * 40_000);
      const shown = rnd() < 0.5 ? ['chosen', 'rejected'] : ['rejected', 'chosen'];
      const u = rnd();
      const skill = [0.95, 0.85, 0.6][k];
      const base = { annotator: name, time: new Date(clock[name]).toISOString(), choice: null, strength: null, status: null, note: null, shown, adjudicator: false };
      if (u < 0.08) votes.push({ ...base, status: 'tie' });
      else if (u < 0.11) votes.push({ ...base, status: 'skip' });
      else {
        const right = rnd() < skill;
        votes.push({ ...base, choice: right ? truth : truth === 'chosen' ? 'rejected' : 'chosen', strength: rnd() < 0.5 ? 'slightly' : 'clearly' });
      }
    }
    if (votes.length < 2) votes.push({ annotator: 'bo', time: new Date((clock.bo += 9_000)).toISOString(), choice: truth, strength: 'clearly', status: null, note: null, shown: ['chosen', 'rejected'], adjudicator: false });
    const record = {
      prompt: `Question ${i}: which answer is better?`, chosen: `first answer ${i}`, rejected: `second answer ${i}`,
      rpo_label: { annotator: votes[0].annotator, time: votes[0].time, status: null, strength: null, note: null, shown: ['chosen', 'rejected'], flipped: false },
      rpo_votes: votes,
    };
    if (withBadLine && i === BAD_LINE - 1) record.rpo_votes = [votes[0], { ...votes[1], choice: 'left', status: null }];
    out.push(JSON.stringify(record));
  }
  return out.join('\n') + '\n';
}

let cliJs;

export const options = {
  timeoutMs: 200_000,
  setup: async (ws) => {
    fs.writeFileSync(path.join(ws, FILE), lines({ withBadLine: true }));
    workspaceSettings(ws, { 'files.autoSave': 'off' });
    // The CLI as users run it: built (with its worker threads) into this test's own folder.
    const out = path.join(path.dirname(ws), 'cli-build');
    execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs'), '--outdir', out, '--quiet'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
    cliJs = path.join(out, 'cli.js');
  },
};

const cliReport = (file) => JSON.parse(execFileSync(process.execPath, [cliJs, 'agreement', file, '--json'], { encoding: 'utf8' }));

export default async function (h) {
  const { assert } = h;
  const file = path.join(h.workspace, FILE);
  const cli = cliReport(file);
  h.log('cli:', JSON.stringify({ items: cli.items, fleiss: cli.fleiss, alphaNominal: cli.alphaNominal, alphaOrdinal: cli.alphaOrdinal, invalidLines: cli.invalidLines }));
  assert.equal(cli.annotators, 3);
  assert.equal(cli.invalidLines, 1);
  assert.notEqual(cli.alphaNominal.value, cli.alphaOrdinal.value, 'the file tells the two alphas apart');

  await h.openFile(FILE);
  await h.webview().locator('#progress-text').filter({ hasText: /labeled/ }).waitFor({ timeout: 30_000 });
  // The preference editor's title bar offers the command (run here from the palette).
  await h.page.locator('.editor-actions [aria-label*="Show Annotator Agreement"]').first().waitFor({ timeout: 15_000 });
  await h.runCommand('RPO: Show Annotator Agreement');
  const wv = await h.frameWith('#heatmap');
  const value = async (sel) => Number(await wv.locator(`${sel} .value`).getAttribute('data-value'));

  assert.equal(await value('#fleiss'), cli.fleiss.kappa.value, "Fleiss' kappa as the CLI prints it");
  assert.equal(await value('#alpha-nominal'), cli.alphaNominal.value, 'nominal alpha');
  assert.equal(await value('#alpha-ordinal'), cli.alphaOrdinal.value, 'ordinal alpha');
  assert.equal(await value('#percent'), cli.percentAgreement.value, 'percent agreement');
  const ci = (e) => `${e.ci[0].toFixed(3)} to ${e.ci[1].toFixed(3)}`;
  assert.equal(await wv.locator('#fleiss .ci').innerText(), ci(cli.fleiss.kappa), 'bootstrap interval');
  assert.equal(await wv.locator('#alpha-ordinal .ci').innerText(), ci(cli.alphaOrdinal));
  assert.match(await wv.locator('#summary').innerText(), new RegExp(`^${cli.items} items with two or more votes, 3 annotators`));
  assert.match(await wv.locator('#interpretation').innerText(), /Landis & Koch/);

  // The heatmap: one cell per pair, each the CLI's kappa for that pair.
  const cells = wv.locator('#heatmap td.pair');
  assert.equal(await cells.count(), 3, 'three annotators: three pairs');
  assert.equal(cli.cohen.length, 3);
  for (let i = 0; i < 3; i++) {
    const a = await cells.nth(i).getAttribute('data-a');
    const b = await cells.nth(i).getAttribute('data-b');
    const pair = cli.cohen.find((c) => (c.a === a && c.b === b) || (c.a === b && c.b === a));
    assert.ok(pair, `pair ${a} / ${b} is one of the CLI's`);
    assert.equal(Number(await cells.nth(i).getAttribute('data-value')), pair.kappa.value, `kappa of ${a} / ${b}`);
    assert.ok(await cells.nth(i).evaluate((e) => e.ownerDocument.defaultView.getComputedStyle(e).backgroundColor !== 'rgba(0, 0, 0, 0)'), 'the cell is coloured');
  }

  // The odd name is text, in the heatmap and the per-annotator table.
  assert.equal(await wv.locator('#content img').count(), 0, 'an annotator name is never markup');
  assert.ok((await wv.locator('#heatmap th.name').allInnerTexts()).includes(ODD));
  const rows = wv.locator('#annotator-table tr.annotator');
  assert.equal(await rows.count(), 3);
  assert.deepEqual(await wv.locator('#annotator-table tr.annotator th').allInnerTexts(), cli.perAnnotator.map((p) => p.annotator));
  const oddRow = (await rows.allInnerTexts()).find((t) => t.startsWith(ODD));
  const odd = cli.perAnnotator.find((p) => p.annotator === ODD);
  assert.match(oddRow, new RegExp(`^${ODD.replace(/[()]/g, '\\$&')}\\s+${odd.votes}\\s`));

  const invalid = await wv.locator('#invalid').innerText();
  assert.match(invalid, new RegExp(`^1 invalid line left out; the first: line ${BAD_LINE}, field "rpo_votes\\[1\\]\\.choice"`));
  await h.screenshot('agreement');

  // The file changes on disk (the bad line fixed): the panel recomputes by itself.
  fs.writeFileSync(file, lines({ withBadLine: false }));
  const fixed = cliReport(file);
  assert.equal(fixed.invalidLines, 0);
  await wv.locator('#invalid').waitFor({ state: 'detached', timeout: 30_000 });
  await wv.locator('#status.status-ready').waitFor({ timeout: 30_000 });
  assert.equal(await value('#fleiss'), fixed.fleiss.kappa.value, "Fleiss' kappa of the changed file");
  await h.screenshot('agreement-after-change');

  // Refresh (by keyboard) computes again: one more computation in the log.
  const computed = () => (h.extensionLog().match(/\[agreement\] agreement of .*ui-agreement\.pref\.jsonl: \d+ items/g) ?? []).length;
  await waitUntil(() => computed() >= 2, { timeoutMs: 30_000, what: 'the first two computations in the log' });
  const before = computed();
  await wv.locator('#refresh').focus();
  await h.page.keyboard.press('Enter');
  await waitUntil(() => computed() > before, { timeoutMs: 30_000, what: 'a computation after Refresh' });
  await wv.locator('#status.status-ready').waitFor({ timeout: 30_000 });
}

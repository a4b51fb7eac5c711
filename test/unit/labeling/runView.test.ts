import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { buildSync } from 'esbuild';
import { parseText } from '../../../src/core/dataset/formats';
import { encodeDynamics, keyedRecords, matchDynamics, NO_SIDE, parseDynamics, rankSuspects, ROW_LABEL_CHANGED, ROW_NOT_FOUND, ROW_UNLABELED, type Dynamics } from '../../../src/core/dynamics';
import { DynamicsError } from '../../../src/core/dynamics';
import type { KeyOptions } from '../../../src/labeling/lineKeys';
import { LabelingModel } from '../../../src/labeling/model';
import { runNotes, runProblem } from '../../../src/labeling/runNotes';
import { NoDynamicsError } from '../../../src/node/dynamics';
import { sideLabel } from '../../../src/labeling/recordView';
import { parseShowRecordsArgs, type LabelAction } from '../../../src/protocol/labeling';

/**
 * The editor's view of a run (Suspect filter, "labels changed since run", the detail's figures)
 * against the core's batch matchDynamics + rankSuspects on the same file, as the reference: after
 * the file was edited as text since the run (lines moved, removed, added, relabeled), and after
 * every label / undo / redo in the editor (the counts kept incrementally).
 */

const T = '2026-11-01T00:00:00.000Z';
const dir = mkdtempSync(join(tmpdir(), 'rpo-run-view-'));
const workerPath = join(dir, 'labelingScan.js');
buildSync({ entryPoints: [resolve(__dirname, '../../../src/labeling/labelingScan.worker.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: workerPath, logLevel: 'error' });

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const paired = (i: number) => JSON.stringify({ prompt: `question ${i}`, chosen: `answer ${i} good`, rejected: `answer ${i} bad` });

/** The run's file: 200 paired records, 2 of them duplicates of record 5 (same content), a blank line. */
function runFile(): string[] {
  const lines: string[] = [];
  for (let i = 0; i < 200; i++) lines.push(paired(i));
  lines.push(paired(5), paired(5), '');
  return lines;
}

/** A dynamics file for the run's file: training rows first (the first 180 usable records), then eval rows; seeded AUM, some never visited. */
function dynamicsFor(lines: string[], seed = 1): Dynamics {
  const r = rng(seed);
  const recs = [...keyedRecords(lines.map((l, i) => [i, parseText(l)] as const), 'paired')];
  const train = recs.slice(0, 180);
  const evalRows = recs.slice(180);
  const rows = [...train, ...evalRows];
  const n = rows.length;
  const key = new Uint8Array(n * 32);
  rows.forEach((x, i) => key.set(x.key, i * 32));
  const visits = rows.map((_, i) => (i < 180 && i % 37 === 3 ? 0 : 3));
  const aum = rows.map((_, i) => (visits[i] ? r() * 2 - 0.7 : NaN));
  return parseDynamics(encodeDynamics({
    key, line: rows.map((x) => x.line + 1), side: rows.map((x) => x.side), split: rows.map((_, i) => (i < 180 ? 0 : 1)),
    visits, aum, confidence: aum.map((a) => 1 / (1 + Math.exp(-a))), variability: aum.map(() => 0.1), correctness: aum.map((a) => (a > 0 ? 1 : 0)), lastMargin: aum,
    metadata: { run: 'run-a', method: 'rpo', beta: '0.1', step: '30', epoch: '1', dataset: 'x.pref.jsonl', dataset_sha256: 'aa', labels_sha256: 'bb', complete: 'true' },
  }));
}

/** The reference: the core's batch match of the model's current lines, and the suspects it implies, in rank order. */
function reference(model: LabelingModel, d: Dynamics) {
  const lines: [number, ReturnType<typeof parseText>][] = [];
  for (let i = 0; i < model.lineCount; i++) lines.push([i, model.parse(i)]);
  const m = matchDynamics(d, keyedRecords(lines, 'paired'));
  const suspects = [...rankSuspects(d)].filter((r) => m.rowLine[r]! >= 0).map((r) => m.rowLine[r]!);
  let changed = 0;
  let flipped = 0;
  for (let r = 0; r < d.rows; r++) {
    const f = m.rowFlags[r]!;
    if (f & ROW_NOT_FOUND) continue;
    if (f & (ROW_LABEL_CHANGED | ROW_UNLABELED)) changed++;
    if (f & ROW_LABEL_CHANGED) flipped++;
  }
  return { match: m, suspects, changed, flipped, matched: m.counts.matched };
}

async function check(model: LabelingModel, d: Dynamics, what: string): Promise<void> {
  const ref = reference(model, d);
  const run = model.counts.run!;
  assert.equal(run.complete, true, what);
  assert.equal(run.matched, ref.matched, `${what}: matched`);
  assert.equal(run.changed, ref.changed, `${what}: labels changed since the run`);
  assert.equal(run.flipped, ref.flipped, `${what}: flipped`);
  // Identical records (one content on several lines) may pair with the run's rows in another
  // order than the whole-file match: the lists are compared by content (key), lines elsewhere.
  const keyOf = (line: number) => Buffer.from(keyedRecords([[line, model.parse(line)]], 'paired').next().value!.key).toString('hex');
  assert.deepEqual(Array.from((await model.matching('suspect', ''))!).map(keyOf), ref.suspects.map(keyOf), `${what}: Suspect filter in rank order`);
  assert.equal(run.suspects, ref.suspects.length, `${what}: suspect count`);
  const copies = new Map<string, number>();
  for (let r = 0; r < d.rows; r++) {
    const k = Buffer.from(d.key.subarray(r * 32, r * 32 + 32)).toString('hex');
    copies.set(k, (copies.get(k) ?? 0) + 1);
  }
  // Per line: the row mark and the detail say the same as the reference.
  for (let r = 0; r < d.rows; r++) {
    const line = ref.match.rowLine[r]!;
    if (line < 0 || copies.get(Buffer.from(d.key.subarray(r * 32, r * 32 + 32)).toString('hex'))! > 1) continue;
    const changed = (ref.match.rowFlags[r]! & (ROW_LABEL_CHANGED | ROW_UNLABELED)) !== 0;
    assert.equal(model.row(line).changed === true, changed, `${what}: row mark of line ${line + 1}`);
    const dyn = model.detail(line, 's').dynamics!;
    assert.equal(dyn.labelChanged, changed, `${what}: detail of line ${line + 1}`);
    assert.equal(dyn.visits, d.visits[r], `${what}: visits of line ${line + 1}`);
  }
}

// keys: 'pass' a keys pass after the scan (the run's options unknown to the scan); 'scan' keyed
// in the scan (ModelOptions.scanKeys), the run shown after it; 'early' the same, shown while the scan runs.
for (const workers of [0, 2]) for (const keys of ['pass', 'scan', 'early'] as const) {
  test(`a run's view after the file was edited as text, then relabeled in the editor (${workers ? `${workers} scan workers` : 'this thread'}, keys ${keys === 'pass' ? 'in a pass after the scan' : keys === 'scan' ? 'in the scan' : 'in the scan, run shown during it'})`, async () => {
    const before = runFile();
    const d = dynamicsFor(before);
    // The file since the run: shuffled (lines moved), 10 removed, 5 new, 6 flipped, 3 set to tie, one edited text.
    const r = rng(7);
    let now = before.filter((l) => l !== '');
    now.splice(40, 10);
    for (let i = 0; i < 6; i++) {
      const k = 60 + i;
      now[k] = JSON.stringify({ prompt: `question ${k + 10}`, chosen: `answer ${k + 10} bad`, rejected: `answer ${k + 10} good` });
    }
    for (let i = 0; i < 3; i++) {
      const o = JSON.parse(now[80 + i]!);
      o.rpo_label = { annotator: 'ada', time: T, status: 'tie', strength: null, note: null, shown: ['chosen', 'rejected'] };
      now[80 + i] = JSON.stringify(o);
    }
    now[90] = JSON.stringify({ prompt: 'question 100 (edited)', chosen: 'answer 100 good', rejected: 'answer 100 bad' });
    for (let i = 0; i < 5; i++) now.push(paired(1000 + i));
    now = now.map((l) => [r(), l] as const).sort((a, b) => a[0] - b[0]).map(([, l]) => l);
    const file = join(dir, `edited-${workers}-${keys}.pref.jsonl`);
    writeFileSync(file, now.join('\n') + '\n');

    const options: KeyOptions = { mode: 'paired', usable: {} };
    const model = await LabelingModel.open(file, { ...(workers ? { workerPath, scanWorkers: workers } : {}), ...(keys !== 'pass' ? { scanKeys: options } : {}) });
    try {
      if (keys !== 'early') await model.whenScanned();
      // An edit in the editor before the keys come: counted from its text now, once.
      const settings = { annotator: 'bo', seed: 's' };
      model.label(3, 'tie', settings, T);
      await model.attachRun(d, { name: 'run-a', runDir: '/runs/run-a', notes: [] }, options);
      if (keys === 'early') await model.whenScanned();
      assert.equal(model.runKeyedInScan, keys !== 'pass', 'keys from the scan itself');
      await check(model, d, 'after matching');
      const run = model.counts.run!;
      assert.ok(run.suspects > 10 && run.changed >= 9, `a view worth testing: ${JSON.stringify(run)}`);
      assert.ok(run.matched < d.rows, 'removed and edited records are not found');

      // Relabel in the editor: flips, statuses, clears, undo and redo, each checked against the reference.
      const actions: LabelAction[] = ['flip', 'tie', 'chooseLeft', 'chooseRight', 'clear', 'skip', 'confirm', 'exclude'];
      const edits = [];
      const suspects = Array.from((await model.matching('suspect', ''))!);
      for (let k = 0; k < 40; k++) {
        const line = k < 10 ? suspects[k]! : Math.floor(r() * model.lineCount);
        if (model.parse(line).kind !== 'paired') continue;
        edits.push(model.label(line, actions[k % actions.length]!, settings, T));
        await check(model, d, `after label ${k} on line ${line + 1}`);
      }
      for (const e of edits.slice(-5).reverse()) model.undo(e);
      await check(model, d, 'after undo');
      for (const e of edits.slice(-5)) model.redo(e);
      await check(model, d, 'after redo');
      // A relabeled suspect stays in the Suspect filter (the run's view), marked as changed.
      const s0 = suspects[0]!;
      assert.ok(model.counts.run!.suspects === suspects.length);
      assert.equal(await model.position('suspect', '', s0), 0);
      // A search within the Suspect filter keeps the rank order.
      const q = 'question 1';
      const within = Array.from((await model.matching('suspect', q))!);
      assert.deepEqual(within, Array.from((await model.matching('suspect', ''))!).filter((l) => model.doc.lineText(l).includes(q)));
    } finally {
      model.dispose();
    }
  });
}

test('the detail: figures, suspect rank, what the run trained on in the view\'s terms; records never seen or not in the run', async () => {
  const before = runFile();
  const d = dynamicsFor(before);
  const file = join(dir, 'same.pref.jsonl');
  writeFileSync(file, [...before, paired(5000)].join('\n') + '\n');
  const model = await LabelingModel.open(file);
  try {
    await model.whenScanned();
    await model.attachRun(d, { name: 'run-a', runDir: '/runs/run-a', notes: [] }, { mode: 'paired', usable: {} });
    const run = model.counts.run!;
    assert.equal(run.changed, 0);
    assert.equal(run.matched, d.rows, 'the same file: every row found');
    assert.deepEqual(run.notes, ['5 of the run\'s training pairs were never in a batch (it stopped before reaching them): they have no figures and are not ranked.']);
    const top = (await model.matching('suspect', ''))![0]!;
    const dyn = model.detail(top, 's').dynamics!;
    const row = rankSuspects(d)[0]!;
    assert.equal(dyn.suspectRank, 1);
    assert.equal(dyn.split, 'training');
    assert.ok(Math.abs(dyn.aum! - d.aum[row]!) < 1e-6 && dyn.aum! < 0);
    assert.equal(dyn.runLine, d.line[row]);
    // Trained on the chosen response ("answer N good"): the side the view shows it on.
    const detail = model.detail(top, 's');
    const chosenSide = detail.left!.title.includes('chosen') ? 'Response A (left) as chosen' : 'Response B (right) as chosen';
    assert.equal(dyn.trainedOn, chosenSide);
    assert.equal(sideLabel(model.parse(top), top, 's', 1 - d.side[row]!), chosenSide === 'Response A (left) as chosen' ? 'Response B (right) as chosen' : 'Response A (left) as chosen');
    // Never visited: no figures, not a suspect.
    const unseen = d.line[3]! - 1;
    const u = model.detail(unseen, 's').dynamics!;
    assert.equal(u.visits, 0);
    assert.equal(u.aum, undefined);
    assert.equal(u.suspectRank, undefined);
    // Eval rows are never suspects.
    const evalLine = d.line[d.trainRows]! - 1;
    assert.equal(model.detail(evalLine, 's').dynamics!.split, 'eval');
    assert.equal(await model.position('suspect', '', evalLine), -1);
    // A record added after the run; a blank line has no dynamics.
    assert.equal(model.detail(model.lineCount - 1, 's').dynamics!.split, 'absent');
    assert.equal(model.detail(202, 's').dynamics, undefined);
    // The blind view shows nothing of the run.
    assert.equal(model.detail(top, 's', true).dynamics, undefined);
    // Duplicates: record 5 three times in the run's file, three rows, three lines, each its own (the line the run read).
    const dupLines = [5, 200, 201];
    assert.deepEqual(dupLines.map((l) => model.detail(l, 's').dynamics!.runLine), [6, 201, 202]);
    // Rows -> lines (the data map's command) and keys -> lines.
    assert.deepEqual(model.linesOfRows([row, 3, d.rows + 5]), [top, unseen]);
    assert.deepEqual(model.linesOfKeys([d.key.slice(row * 32, row * 32 + 32)]), [top]);
    assert.equal(model.setPicked([top, unseen, 99_999]), 2);
    assert.deepEqual(Array.from((await model.matching('picked', ''))!), [top, unseen]);
    assert.equal(model.counts.picked, 2);
    // Detached: no Suspect list, no marks.
    model.detachRun();
    assert.equal(model.counts.run, undefined);
    assert.equal((await model.matching('suspect', ''))!.length, 0);
    assert.equal(model.detail(top, 's').dynamics, undefined);
  } finally {
    model.dispose();
  }
});

test('a run of another file: nothing matches, no wrong match by line number', async () => {
  const d = dynamicsFor(runFile());
  const other: string[] = [];
  for (let i = 0; i < 205; i++) other.push(JSON.stringify({ prompt: `another ${i}`, chosen: 'x', rejected: 'y' }));
  const file = join(dir, 'other.pref.jsonl');
  writeFileSync(file, other.join('\n') + '\n');
  const model = await LabelingModel.open(file);
  try {
    await model.whenScanned();
    await model.attachRun(d, { name: 'run-a', runDir: '/runs/run-a', notes: [] }, { mode: 'paired', usable: {} });
    const run = model.counts.run!;
    assert.equal(run.matched, 0);
    assert.equal(run.suspects, 0);
    assert.equal(run.changed, 0);
    assert.match(run.notes[0]!, /No record of this file matches run run-a/);
    assert.equal(model.detail(10, 's').dynamics!.split, 'absent');
    assert.equal(NO_SIDE, 255);
  } finally {
    model.dispose();
  }
});

test('what the editor says about a run: another file, the file changed since, unfinished, no dynamics file, unreadable', () => {
  const d = dynamicsFor(runFile());
  const run = { runDir: '/ws/.rpo/runs/r1', file: '/ws/.rpo/runs/r1/dynamics.safetensors', dynamics: d, config: null, configProblem: null, dataset: '/ws/a.pref.jsonl', mode: 'paired' as const, usable: {} };
  // The same file, the same bytes, finished: nothing to say.
  assert.deepEqual(runNotes(run, '/ws/a.pref.jsonl', d.meta.datasetSha256), []);
  // The same file, edited since.
  assert.match(runNotes(run, '/ws/a.pref.jsonl', 'ff').join(' '), /This file changed since run r1 trained on it .*matched by their content/);
  // Another file.
  assert.match(runNotes(run, '/ws/b.pref.jsonl', 'ff').join(' '), /Run r1 trained on \/ws\/a\.pref\.jsonl, not on this file/);
  // Unfinished, unpaired.
  const partial = { ...run, mode: 'unpaired' as const, dynamics: { ...d, meta: { ...d.meta, complete: false, step: 12 } } };
  const notes = runNotes(partial, '/ws/a.pref.jsonl', d.meta.datasetSha256).join(' ');
  assert.match(notes, /has not finished \(figures from step 12/);
  assert.match(notes, /rpo-unpaired/);
  // Problems.
  assert.match(runProblem('/ws/.rpo/runs/old', new NoDynamicsError('/ws/.rpo/runs/old')), /^Run old has no dynamics\.safetensors: it was trained before/);
  assert.match(runProblem('/ws/.rpo/runs/bad', new DynamicsError('x: tensor aum is missing')), /^Run bad: x: tensor aum is missing/);
  assert.match(runProblem('/nope', Object.assign(new Error('ENOENT'), { code: 'ENOENT' })), /Run folder \/nope does not exist/);
});

test('an rpo-unpaired run: a paired record is two rows, its line matched by the first (chosen) item; a flip shows as changed', async () => {
  const lines = Array.from({ length: 20 }, (_, i) => paired(i));
  lines.push(JSON.stringify({ prompt: 'thumbs?', completion: 'fine', label: true }));
  const items = [...keyedRecords(lines.map((l, i) => [i, parseText(l)] as const), 'unpaired')];
  assert.equal(items.length, 41);
  const key = new Uint8Array(items.length * 32);
  items.forEach((x, i) => key.set(x.key, i * 32));
  const aum = items.map((x) => (x.side === 1 ? 0.5 : -0.2));
  const d = parseDynamics(encodeDynamics({
    key, line: items.map((x) => x.line + 1), side: items.map((x) => x.side), split: items.map(() => 0), visits: items.map(() => 2), aum,
    metadata: { run: 'u', method: 'rpo-unpaired', beta: '0.1', step: '4', epoch: '1', dataset: 'x', dataset_sha256: '', labels_sha256: '', complete: 'true' },
  }));
  const file = join(dir, 'unpaired.pref.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  const model = await LabelingModel.open(file);
  try {
    await model.whenScanned();
    await model.attachRun(d, { name: 'u', runDir: '/runs/u', notes: [], itemsPerRecord: true }, { mode: 'unpaired', usable: {} });
    const run = model.counts.run!;
    assert.equal(run.matched, 21, 'every line matched by its first item');
    assert.equal(run.changed, 0);
    assert.equal(run.suspectsMissing, 0, 'the rejected items are not records missing from the file');
    assert.ok(!run.notes.some((n) => /no longer in this file/.test(n)), JSON.stringify(run.notes));
    assert.equal(model.detail(0, 's').dynamics!.trainedOn, 'the chosen response as a thumbs up');
    assert.equal(model.detail(20, 's').dynamics!.trainedOn, 'the completion as a thumbs up');
    model.label(0, 'flip', { annotator: 'a', seed: 's' }, T);
    // Its first item is now the old rejected response: the run trained that one as a thumbs down.
    assert.equal(model.counts.run!.changed, 1);
    assert.equal(model.detail(0, 's').dynamics!.trainedOn, 'the chosen response as a thumbs down');
    assert.equal(model.row(0).changed, true);
  } finally {
    model.dispose();
  }
});

test('an rpo-unpaired run: the data map opens a paired record by either of its items, found by content after a flip and in an edited file', async () => {
  const lines = Array.from({ length: 30 }, (_, i) => paired(i));
  lines.push(JSON.stringify({ prompt: 'thumbs?', completion: 'fine', label: true }));
  const items = [...keyedRecords(lines.map((l, i) => [i, parseText(l)] as const), 'unpaired')];
  // rows in a shuffled order, as a run writes its training items (the two items of a record apart)
  const order = items.map((_, i) => i).sort((a, b) => ((a * 7919) % 61) - ((b * 7919) % 61));
  const rowsOf = order.map((i) => items[i]!);
  const key = new Uint8Array(rowsOf.length * 32);
  rowsOf.forEach((x, i) => key.set(x.key, i * 32));
  const d = parseDynamics(encodeDynamics({
    key, line: rowsOf.map((x) => x.line + 1), side: rowsOf.map((x) => x.side), split: rowsOf.map(() => 0), visits: rowsOf.map(() => 2),
    aum: rowsOf.map((x) => (x.side === 1 ? 0.5 : -0.2)),
    metadata: { run: 'u', method: 'rpo-unpaired', beta: '0.1', step: '4', epoch: '1', dataset: 'x', dataset_sha256: '', labels_sha256: '', complete: 'true' },
  }));
  const every = rowsOf.map((_, r) => r);
  const check = async (fileLines: string[], name: string, edit?: (m: LabelingModel) => void) => {
    const file = join(dir, name);
    writeFileSync(file, fileLines.join('\n') + '\n');
    const model = await LabelingModel.open(file);
    try {
      await model.whenScanned();
      await model.attachRun(d, { name: 'u', runDir: '/runs/u', notes: [], itemsPerRecord: true }, { mode: 'unpaired', usable: {} });
      await model.whenRunMatched();
      edit?.(model);
      const now = Array.from({ length: model.lineCount }, (_, i) => [i, model.parse(i)] as const);
      const ref = matchDynamics(d, keyedRecords(now, 'unpaired')).rowLine; // the core's whole-file match: every item by content
      const got = every.map((r) => model.linesOfRows([r])[0] ?? -1);
      assert.deepEqual(got, [...ref], name);
      return got;
    } finally {
      model.dispose();
    }
  };
  const same = await check(lines, 'unpaired-same.pref.jsonl');
  assert.ok(same.every((l) => l >= 0), 'every item of every record found');
  await check(lines, 'unpaired-flip.pref.jsonl', (m) => { m.label(0, 'flip', { annotator: 'a', seed: 's' }, T); m.label(7, 'flip', { annotator: 'a', seed: 's' }, T); });
  // edited as text since the run: two lines added on top, record 3 moved to the end, record 4's rejected response rewritten
  const edited = [paired(100), paired(101), ...lines.filter((_, i) => i !== 3 && i !== 4), JSON.stringify({ prompt: 'question 4', chosen: 'answer 4 good', rejected: 'answer 4 worse' }), lines[3]!];
  const got = await check(edited, 'unpaired-edited.pref.jsonl');
  const rowOf = (line: number, side: number) => rowsOf.findIndex((x) => x.line === line && x.side === side);
  assert.equal(got[rowOf(3, 0)], edited.length - 1, 'record 3 moved: its rejected item found on its new line');
  assert.equal(got[rowOf(4, 1)], edited.length - 2, 'record 4: its chosen item is still there');
  assert.equal(got[rowOf(4, 0)], -1, 'record 4: its rejected item is gone (its text changed)');
  assert.equal(got[rowOf(1, 0)], 3, 'a rejected item found although the line the run read holds another record');
});

test('rpo.label.showRecords arguments are checked (a command argument is untrusted)', () => {
  assert.deepEqual(parseShowRecordsArgs({ runDir: '/r', rows: [0, 5] }), { runDir: '/r', rows: [0, 5] });
  assert.deepEqual(parseShowRecordsArgs({ runDir: '/r', keys: ['ab'.repeat(32)], file: '/f.pref.jsonl' }), { runDir: '/r', keys: ['ab'.repeat(32)], file: '/f.pref.jsonl' });
  assert.match(parseShowRecordsArgs(undefined) as string, /expected \{ runDir/);
  assert.match(parseShowRecordsArgs({ rows: [1] }) as string, /^runDir/);
  assert.match(parseShowRecordsArgs({ runDir: '/r', rows: [-1] }) as string, /^rows/);
  assert.match(parseShowRecordsArgs({ runDir: '/r', rows: [1.5] }) as string, /^rows/);
  assert.match(parseShowRecordsArgs({ runDir: '/r', keys: ['xyz'] }) as string, /^keys/);
  assert.match(parseShowRecordsArgs({ runDir: '/r', file: 3 }) as string, /^file/);
});

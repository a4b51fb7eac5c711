import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { testPython } from '../../support/python.cjs';
import { ImportCancelled, importTables } from '../../../src/node/importTables';
import { ExportCancelled, exportParquet } from '../../../src/node/exportParquet';
import { applyLabel, displayOrder } from '../../../src/core/dataset/labeling';
import { parseText } from '../../../src/core/dataset/formats';

/**
 * `rpo import` / `rpo export` over Parquet and Arrow files that pyarrow and datasets write (in the
 * trainer's venv; make_tables.py lists the schemas), checked record by record against what Python
 * says the records are, and the export read back with pyarrow (check_parquet.py).
 */
const ROOT = resolve(__dirname, '../../..');
const python = testPython(ROOT);
const skip = python ? false : 'no Python with pyarrow: run `bash scripts/setup.sh` (records the venv in .rpo-test/python) or set RPO_TEST_PYTHON';
const dir = mkdtempSync(join(tmpdir(), 'rpo-import-'));
const T = (name: string) => join(dir, name);
test.after(() => rmSync(dir, { recursive: true, force: true }));

test.before(() => {
  if (!python) return;
  const r = spawnSync(python, [join(__dirname, 'make_tables.py'), dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

function rpo(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function checkParquet(original: string, exported: string, ...columns: string[]) {
  const r = spawnSync(python!, [join(__dirname, 'check_parquet.py'), original, exported, ...columns], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout.trim() + r.stderr };
}

/** Files in `dir` that are temporaries of an import or export. */
const temporaries = () => readdirSync(dir).filter((f) => /\.rpo-(import|export)\.tmp$/.test(f));

for (const [name, recognised, mapping] of [
  ['ultrafeedback', 'UltraFeedback (binarized)', 'chosen=chosen,rejected=rejected'],
  ['shp', 'SHP', 'prompt=history,response_a=human_ref_A,response_b=human_ref_B,a_preferred=labels'],
  ['stack', 'question / response_j / response_k', 'prompt=question,chosen=response_j,rejected=response_k'],
  ['kto', 'TRL unpaired preference', 'prompt=prompt,completion=completion,label=label'],
  ['argilla', 'Argilla preference export', 'prompt=instruction,chosen=chosen_response,rejected=rejected_response'],
] as const) {
  test(`import ${name}.parquet: proposed mapping, every record as Python expects it`, { skip }, () => {
    const out = T(`${name}.pref.jsonl`);
    const r = rpo('import', T(`${name}.parquet`), '-o', out);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, new RegExp(`recognised: ${recognised.replace(/[()/]/g, '\\$&')}\n`));
    assert.match(r.stdout, new RegExp(`mapping: ${mapping}\n`));
    const got = readFileSync(out, 'utf8').split('\n');
    const want = readFileSync(T(`${name}.expected.jsonl`), 'utf8').split('\n');
    assert.equal(got.length, want.length);
    // Line by line: the same text as Python's json.dumps (floats keep ".0", int64 all digits).
    got.forEach((line, i) => assert.equal(line, want[i], `record ${i + 1}`));
    for (const line of got.filter(Boolean)) assert.notEqual(parseText(line).kind, 'invalid', line.slice(0, 200));
  });
}

test('UltraFeedback: the string prompt next to conversations is left implicit and kept as source_prompt; zstd and Arrow IPC file give the same records', { skip }, () => {
  const r = rpo('import', T('ultrafeedback.parquet'), '-o', T('uf1.pref.jsonl'));
  assert.match(r.stdout, /note: "prompt" is a string but "chosen" is a message list/);
  assert.match(r.stdout, /note: column "prompt" is not mapped: kept as "source_prompt"/);
  const want = readFileSync(T('ultrafeedback.expected.jsonl'), 'utf8');
  for (const src of ['ultrafeedback-zstd.parquet', 'ultrafeedback.arrow']) {
    const out = T(`${src}.pref.jsonl`);
    const x = rpo('import', T(src), '-o', out);
    assert.equal(x.code, 0, x.stderr);
    assert.equal(readFileSync(out, 'utf8'), want, src);
  }
});

test('datasets save_to_disk shards (Arrow streaming format): two shards into one file, in order', { skip }, () => {
  const out = T('stack-ds.pref.jsonl');
  const shards = readdirSync(T('stack-ds')).filter((f) => f.endsWith('.arrow')).sort().map((f) => join(T('stack-ds'), f));
  assert.equal(shards.length, 2);
  const r = rpo('import', ...shards, '-o', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(report.inputs.map((i: { rows: number }) => i.rows), [2, 1]);
  assert.equal(readFileSync(out, 'utf8'), readFileSync(T('stack.expected.jsonl'), 'utf8'));
});

test('--map edits the proposal; unmapped columns stay as extra fields', { skip }, () => {
  const out = T('stack-swapped.pref.jsonl');
  const r = rpo('import', T('stack.parquet'), '-o', out, '--map', 'chosen=response_k,rejected=response_j');
  assert.equal(r.code, 0, r.stderr);
  const first = JSON.parse(readFileSync(out, 'utf8').split('\n')[0]!);
  assert.equal(first.chosen, 'You cannot.');
  assert.equal(first.rejected, 'Use `lst[::-1]` or `reversed(lst)`.');
  assert.deepEqual(Object.keys(first), ['prompt', 'chosen', 'rejected', 'qid', 'date', 'metadata']);
  // --dry-run: the mapping and the first records as they would be written; no file.
  const dry = rpo('import', T('stack.parquet'), '--dry-run', '--map', 'prompt=');
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /mapping: chosen=response_j,rejected=response_k\n\{"chosen":"Use `lst\[::-1\]` or `reversed\(lst\)`\.","rejected":"You cannot\.","qid":1152921504606846977,"question":/);
  assert.ok(!readdirSync(dir).some((f) => f.startsWith('stack.parquet.')));
});

test('round trip: import then export gives the original columns, values and types (pyarrow)', { skip }, () => {
  const cases: [string, string[], string[]][] = [
    ['ultrafeedback', [], []],
    ['kto', [], ['--states', 'labeled,unreviewed,needs-label']],
    ['stack', ['question=prompt', 'response_j=chosen', 'response_k=rejected', 'qid', 'date', 'metadata'], []],
    ['argilla', ['instruction=prompt', 'chosen_response=chosen', 'rejected_response=rejected', 'chosen_rating', 'rejected_rating', 'status'], []],
    ['shp', ['history=prompt', 'post_id', 'domain', 'upvote_ratio', 'c_root_id_A', 'c_root_id_B', 'created_at_utc_A', 'created_at_utc_B', 'score_A', 'score_B', 'seconds_difference', 'score_ratio'], []],
  ];
  for (const [name, columns, options] of cases) {
    const jsonl = T(`${name}.rt.pref.jsonl`);
    assert.equal(rpo('import', T(`${name}.parquet`), '-o', jsonl).code, 0);
    const out = T(`${name}.rt.parquet`);
    const r = rpo('export', jsonl, '-o', out, ...options);
    assert.equal(r.code, 0, r.stderr);
    const check = checkParquet(T(`${name}.parquet`), out, ...columns);
    assert.equal(check.code, 0, `${name}: ${check.out}`);
  }
  // SHP's mapped pair: chosen is the reference the label preferred.
  const shp = readFileSync(T('shp.rt.pref.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(shp.map((r) => r.chosen), ['Rayleigh scattering.', 'It depends on the definition of wet.']);
});

test('export: labels as one rpo_label struct column, state filters, and a re-import gives the labeled records back', { skip }, async () => {
  const src = T('labels.pref.jsonl');
  const lines = [0, 1, 2, 3, 4].map((i) => JSON.stringify({ prompt: `p${i}`, chosen: `a${i}`, rejected: `b${i}`, n: i, w: i + 0.5 }));
  const label = (i: number, intent: Parameters<typeof applyLabel>[1]) => {
    const rec = parseText(lines[i]!);
    lines[i] = applyLabel(lines[i]!, intent, { annotator: 'ada', time: '2026-12-01T10:00:00.000Z', shown: displayOrder(rec, i, 'seed') });
  };
  label(0, { type: 'choose', side: 'right' });
  label(1, { type: 'status', status: 'tie' });
  label(2, { type: 'status', status: 'skip' });
  label(3, { type: 'choose', side: 'left', strength: 'clearly' });
  writeFileSync(src, lines.join('\n') + '\n');

  const out = T('labels.parquet');
  const r = rpo('export', src, '-o', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.written, 3); // labeled 0 and 3, unreviewed 4
  assert.deepEqual(report.leftOut, { tie: 1, skip: 1 });
  assert.deepEqual(report.columns.map((c: { name: string }) => c.name), ['prompt', 'chosen', 'rejected', 'n', 'w', 'rpo_label']);
  assert.equal(report.columns.find((c: { name: string }) => c.name === 'rpo_label').type,
    'struct<annotator: string, time: string, status: string, strength: string, note: string, shown: list<string>, flipped: bool, original_label: bool, from_responses: list<int64>>');
  const py = spawnSync(python!, ['-c', `import pyarrow.parquet as pq, json; t = pq.read_table(${JSON.stringify(out)}); print(json.dumps({"schema": [str(f.type) for f in t.schema], "rows": t.to_pylist()}))`], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  const read = JSON.parse(py.stdout);
  assert.deepEqual(read.schema.slice(0, 5), ['string', 'string', 'string', 'int64', 'double']);
  assert.match(read.schema[5], /^struct<annotator: string, time: string, status: string, strength: string, note: string, shown: list<element: string>, flipped: bool/);
  assert.equal(read.rows[1].rpo_label.strength, 'clearly');
  assert.equal(read.rows[2].rpo_label, null);

  // And as TRL users load it: datasets.load_dataset("parquet", ...).
  const hf = spawnSync(python!, ['-c', `import datasets, sys; ds = datasets.load_dataset("parquet", data_files=sys.argv[1], split="train", cache_dir=sys.argv[2]); print(len(ds), ds.features["rpo_label"]["strength"], ds.features["n"], ds[1]["rpo_label"]["strength"])`, out, T('hf-cache')], { encoding: 'utf8', env: { ...process.env, HF_DATASETS_OFFLINE: '1', HF_HUB_OFFLINE: '1' } });
  assert.equal(hf.status, 0, hf.stderr);
  assert.equal(hf.stdout.trim(), "3 Value('string') Value('int64') clearly");

  const only = rpo('export', src, '-o', T('labeled-only.parquet'), '--labeled-only', '--json');
  assert.equal(JSON.parse(only.stdout).written, 2);

  // Re-import: the same records as the labeled lines (rpo_label's absent optional keys stay absent).
  const back = T('labels.back.pref.jsonl');
  assert.equal(rpo('import', out, '-o', back).code, 0);
  const want = [lines[0], lines[3], lines[4]].map((l) => JSON.parse(l!));
  assert.deepEqual(readFileSync(back, 'utf8').trim().split('\n').map((l) => JSON.parse(l)), want);
  await exportParquet(src, T('all.parquet'), { states: ['labeled', 'unreviewed', 'tie', 'skip'] });
  assert.equal(checkParquet(out, T('all.parquet'), 'n').code, 1); // 5 rows against 3: the checker sees a difference
});

test('bad input: not Parquet, truncated, a missing column, an unsupported type: clear messages, no output', { skip }, () => {
  const out = T('bad.pref.jsonl');
  const cases: [string[], RegExp][] = [
    [[T('not-parquet.parquet')], /not-parquet\.parquet: not a readable Parquet file/],
    [[T('truncated.parquet')], /truncated\.parquet: not a readable Parquet file/],
    [[T('stack.parquet'), '--map', 'chosen=answer'], /the mapping chosen=answer names a column that is not in .*stack\.parquet \(columns: qid, question, date, metadata, response_j, response_k\)/],
    [[T('unsupported.parquet')], /column "blob" in .*unsupported\.parquet has type binary.*--drop blob/],
    [[T('unsupported.parquet'), '--drop', 'blob'], /column "when" .* has type timestamp.*--drop when/],
    [[T('stack.parquet'), '--map', 'label=qid'], /a paired mapping cannot also map label/],
    [[T('ultrafeedback-lz4.arrow')], /ultrafeedback-lz4\.arrow: record batch 1 \(from row 1\) could not be read: .*compressed.*write it uncompressed/],
  ];
  for (const [args, message] of cases) {
    const r = rpo('import', ...args, '-o', out);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
    assert.ok(!existsSync(out), 'no output');
  }
  assert.equal(rpo('import', T('unsupported.parquet'), '--drop', 'blob,when', '-o', out).code, 0);
  assert.deepEqual(temporaries(), []);
});

test('null mapped fields: each row named with its column, the other rows written, exit 1', { skip }, () => {
  const out = T('nulls.pref.jsonl');
  const r = rpo('import', T('nulls.parquet'), '-o', out);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /2 of 4 rows written/);
  assert.match(r.stdout, /nulls\.parquet: row 2, column "response_k": null, but rejected needs a value/);
  assert.match(r.stdout, /nulls\.parquet: row 3, column "question": null, but prompt needs a value/);
  assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l).prompt), ['q1', 'q4']);
});

test('a failure in the middle of a file leaves an existing output as it was; the output may not be an input', { skip }, () => {
  const out = T('keep.pref.jsonl');
  writeFileSync(out, 'the user\'s file\n');
  for (const inputs of [[T('stack.parquet'), T('truncated.parquet')], [T('ultrafeedback.parquet'), T('damaged.parquet')], [T('damaged.parquet')]]) {
    const r = rpo('import', ...inputs, '-o', out);
    assert.equal(r.code, 2);
    assert.equal(readFileSync(out, 'utf8'), 'the user\'s file\n');
  }
  assert.match(rpo('import', T('damaged.parquet'), '-o', out).stderr, /damaged\.parquet: row group 2 of 2 \(rows 3-3\) could not be read/);

  const jsonl = T('self.jsonl');
  writeFileSync(jsonl, '{"prompt":"p","chosen":"a","rejected":"b"}\n');
  const self = rpo('import', jsonl, '-o', join(dir, '.', 'self.jsonl'));
  assert.equal(self.code, 2);
  assert.match(self.stderr, /is the input/);
  assert.equal(readFileSync(jsonl, 'utf8'), '{"prompt":"p","chosen":"a","rejected":"b"}\n');
  const exp = rpo('export', jsonl, '-o', jsonl);
  assert.equal(exp.code, 2);
  assert.equal(readFileSync(jsonl, 'utf8'), '{"prompt":"p","chosen":"a","rejected":"b"}\n');
  // A link to the input is the input; a link to another file: that file gets the records, the link stays.
  symlinkSync(jsonl, T('link-to-input.jsonl'));
  assert.match(rpo('import', T('link-to-input.jsonl'), '-o', jsonl).stderr, /is the input/);
  assert.match(rpo('import', jsonl, '-o', T('link-to-input.jsonl')).stderr, /is the input/);
  writeFileSync(T('target.pref.jsonl'), 'old\n');
  symlinkSync(T('target.pref.jsonl'), T('link.pref.jsonl'));
  assert.equal(rpo('import', T('stack.parquet'), '-o', T('link.pref.jsonl')).code, 0);
  assert.ok(lstatSync(T('link.pref.jsonl')).isSymbolicLink());
  assert.equal(readFileSync(T('target.pref.jsonl'), 'utf8'), readFileSync(T('stack.expected.jsonl'), 'utf8'));
  assert.equal(readFileSync(jsonl, 'utf8'), '{"prompt":"p","chosen":"a","rejected":"b"}\n');
  assert.deepEqual(temporaries(), []);
});

test('cancel: an import stopped after its first row group writes nothing', { skip }, async () => {
  const out = T('cancelled.pref.jsonl');
  const controller = new AbortController();
  let batches = 0;
  await assert.rejects(
    importTables([T('ultrafeedback.parquet')], out, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.rows > 0) {
          batches++;
          controller.abort();
        }
      },
    }),
    ImportCancelled,
  );
  assert.equal(batches, 1);
  assert.ok(!existsSync(out));
  assert.deepEqual(temporaries(), []);
});

test('JSON and JSON Lines inputs; every key kept, even ones the first rows lack', async () => {
  const json = T('rows.json');
  writeFileSync(json, JSON.stringify([{ question: 'q', response_j: 'a', response_k: 'b', x: 1 }, { question: 'q2', response_j: 'a2', response_k: 'b2', y: [1, 2] }]));
  const jsonl = T('rows.jsonl');
  writeFileSync(jsonl, '{"prompt":"p","completion":"c","label":true}\n\n{"prompt":"p2","completion":"c2","label":null,"late":"kept"}\n');
  const out = T('rows.pref.jsonl');
  const a = await importTables([json], out);
  assert.deepEqual(a.map, { prompt: 'question', chosen: 'response_j', rejected: 'response_k' });
  assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l)), [
    { prompt: 'q', chosen: 'a', rejected: 'b', x: 1 },
    { prompt: 'q2', chosen: 'a2', rejected: 'b2', y: [1, 2] },
  ]);
  const b = await importTables([jsonl], out);
  assert.equal(b.written, 2);
  assert.equal(JSON.parse(readFileSync(out, 'utf8').trim().split('\n')[1]!).late, 'kept');
  // A bad line names its line number.
  writeFileSync(jsonl, '{"prompt":"p","completion":"c"}\n{"prompt": \n');
  await assert.rejects(importTables([jsonl], T('x.pref.jsonl')), /rows\.jsonl:2: not valid JSON/);
});

test('export: a field whose type changes between records is named with its line', async () => {
  const src = T('mixed.pref.jsonl');
  writeFileSync(src, '{"prompt":"p","chosen":"a","rejected":"b","id":1}\n{"prompt":"p","chosen":"a","rejected":"b","id":"two"}\n');
  await assert.rejects(exportParquet(src, T('mixed.parquet')), /mixed\.pref\.jsonl:2: field "id" holds string here but int in earlier records/);
  assert.ok(!existsSync(T('mixed.parquet')));
  writeFileSync(src, '{"prompt":"p","chosen":"a","rejected":"b"}\n{"prompt":"p","chosen":"a"}\n');
  await assert.rejects(exportParquet(src, T('mixed.parquet')), /mixed\.pref\.jsonl:2: a paired record needs both "chosen" and "rejected"/);
  assert.ok(!existsSync(T('mixed.parquet')));
});

test('export: cancelled while writing, nothing under the output name', async () => {
  const src = T('many.pref.jsonl');
  writeFileSync(src, Array.from({ length: 3000 }, (_, i) => JSON.stringify({ prompt: `p${i}`, chosen: 'a', rejected: 'b' })).join('\n') + '\n');
  const controller = new AbortController();
  await assert.rejects(
    exportParquet(src, T('many.parquet'), { signal: controller.signal, onProgress: (pass) => { if (pass === 2) controller.abort(); } }),
    ExportCancelled,
  );
  assert.ok(!existsSync(T('many.parquet')));
  assert.deepEqual(temporaries(), []);
});

import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LabelError } from '../../../src/core/dataset/labeling';
import type { LineEdit } from '../../../src/core/dataset/lineDocument';
import { LineSet } from '../../../src/labeling/lineSet';
import { LabelingModel } from '../../../src/labeling/model';
import { FILTERS, LABEL_ACTIONS, type LabelAction } from '../../../src/protocol/labeling';

/**
 * The labeling model updates its filter lists, counts and the current search incrementally on
 * each label, note, undo and redo (O(changed lines)). Property: after random sequences of those
 * edits, every list, count, position and "next unlabeled" equals what a fresh scan of the same
 * bytes gives.
 */

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('LineSet answers like a sorted array of the matching lines under random updates', () => {
  const rand = rng(7);
  for (const n of [0, 1, 255, 256, 257, 1000, 3 * LineSet.BLOCK + 17]) {
    const bits = new Uint8Array(n);
    for (let i = 0; i < n; i++) bits[i] = rand() < 0.3 ? 1 : 0;
    const set = LineSet.build(n, (i) => bits[i] === 1);
    for (let round = 0; round < 60; round++) {
      if (n) {
        for (let k = 0; k < 5; k++) {
          const i = Math.floor(rand() * n);
          const was = bits[i] === 1;
          bits[i] = rand() < 0.5 ? 1 : 0;
          set.update(i, was, bits[i] === 1);
        }
      }
      const expected: number[] = [];
      for (let i = 0; i < n; i++) if (bits[i]) expected.push(i);
      assert.equal(set.length, expected.length);
      assert.deepEqual(set.slice(0, n + 1), expected);
      for (let p = 0; p < expected.length; p += 7) {
        assert.equal(set.at(p), expected[p]);
        assert.deepEqual(set.slice(p, 9), expected.slice(p, p + 9));
      }
      for (let line = -1; line <= n; line += 5) {
        const lb = expected.filter((x) => x < line).length;
        assert.equal(set.lowerBound(line), lb, `lowerBound(${line}) n=${n}`);
        assert.equal(set.positionOf(line), expected.indexOf(line));
      }
    }
  }
});

const PROMPTS = ['apple pie', 'Banana split', 'cherry', 'GOOD question', 'plain'];

function line(rand: () => number, i: number): string {
  const p = `${PROMPTS[i % PROMPTS.length]} ${i}`;
  const r = rand();
  if (r < 0.45) return JSON.stringify({ prompt: p, responses: [`answer A ${i}`, `good answer B ${i}`] });
  if (r < 0.65) return JSON.stringify({ prompt: p, chosen: `good ${i}`, rejected: `bad ${i}` });
  if (r < 0.75) return JSON.stringify({ prompt: p, completion: `completion ${i}` });
  if (r < 0.82) return JSON.stringify({ prompt: p, completion: `c ${i}`, label: rand() < 0.5 });
  if (r < 0.87) return JSON.stringify({ prompt: p, chosen: 'x', rejected: 'y', rpo_label: { annotator: 'earlier', time: '2025-01-01T00:00:00Z', status: 'tie', strength: null, note: null, shown: null } });
  if (r < 0.92) return `{"prompt": "broken ${i}"`;
  if (r < 0.95) return '';
  return JSON.stringify({ prompt: p, responses: [`apple ${i}`, `apple ${i}`], note: 'apple' });
}

/** The search kept active (updated in place by edits); the others are searched afresh. */
const ACTIVE = 'apple';
const QUERIES = [ACTIVE, 'good', 'BANANA', 'note-', 'zzz-none'];

async function activateSearch(m: LabelingModel): Promise<void> {
  for (const f of FILTERS) await m.list(f, ACTIVE);
}

async function snapshot(m: LabelingModel) {
  await m.whenScanned();
  const lists: Record<string, number[] | null> = {};
  // The active search first: asking for another query replaces it.
  const rows = await m.rows('unlabeled', ACTIVE, 3, 20);
  for (const q of ['', ...QUERIES]) {
    for (const f of FILTERS) {
      const list = await m.matching(f, q);
      lists[`${f}/${q}`] = list ? [...list] : null;
    }
  }
  const next: number[] = [];
  const positions: number[] = [];
  for (let l = 0; l < m.lineCount; l += 37) {
    next.push(m.nextUnlabeled(l));
    for (const f of FILTERS) positions.push(await m.position(f, 'good', l), await m.position(f, '', l));
  }
  return { counts: m.counts, lists, next, positions, rows, invalid: [...m.invalid.keys()].sort((a, b) => a - b) };
}

for (const seed of [1, 2, 3, 4, 5, 6]) {
  test(`random label / note / undo / redo sequences: incremental lists and counts equal a fresh scan (seed ${seed})`, async () => {
    const rand = rng(seed * 1000 + 11);
    const n = 700 + Math.floor(rand() * 900); // several LineSet blocks, a partial last one
    const dir = mkdtempSync(join(tmpdir(), 'rpo-incremental-'));
    const file = join(dir, 'x.pref.jsonl');
    writeFileSync(file, Array.from({ length: n }, (_, i) => line(rand, i)).join('\n') + '\n');
    const m = await LabelingModel.open(file);
    // Some edits land before the scan (the batch corrects them), then the search is active
    // (its sets are updated in place) for most of the sequence.
    const done: LineEdit[] = [];
    let undone: LineEdit[] = [];
    const annotators = ['ann', 'bob', 'cy'];
    const edit = (i: number) => {
      const l = Math.floor(rand() * n);
      const settings = { annotator: annotators[i % 3]!, seed: 's' };
      try {
        const e = rand() < 0.15
          ? m.note(l, rand() < 0.3 ? '' : `note-${i} ${rand() < 0.5 ? 'apple' : 'kiwi'}`, settings)
          : m.label(l, LABEL_ACTIONS[Math.floor(rand() * LABEL_ACTIONS.length)] as LabelAction, settings);
        done.push(e);
        undone = [];
      } catch (err) {
        if (!(err instanceof LabelError)) throw err;
      }
    };
    for (let i = 0; i < 5; i++) edit(i);
    await m.whenScanned();
    await activateSearch(m);
    for (let i = 5; i < 400; i++) {
      const r = rand();
      if (r < 0.2 && done.length) {
        const e = done.pop()!;
        m.undo(e);
        undone.push(e);
      } else if (r < 0.3 && undone.length) {
        const e = undone.pop()!;
        m.redo(e);
        done.push(e);
      } else edit(i);
      if (i % 97 === 0 && i < 200) {
        // Another search for a while, then back: the active one is rebuilt, then kept up to date.
        await m.list(FILTERS[i % FILTERS.length]!, QUERIES[1 + (i % 4)]!);
        edit(i);
        await activateSearch(m);
      }
    }
    const incremental = await snapshot(m);
    const copy = join(dir, 'copy.pref.jsonl');
    await m.save(copy);
    const fresh = await LabelingModel.open(copy);
    const expected = await snapshot(fresh);
    assert.deepEqual(incremental.counts, expected.counts);
    for (const key of Object.keys(expected.lists)) assert.deepEqual(incremental.lists[key], expected.lists[key], `list ${key}`);
    assert.deepEqual(incremental.next, expected.next);
    assert.deepEqual(incremental.positions, expected.positions);
    assert.deepEqual(incremental.rows, expected.rows);
    assert.deepEqual(incremental.invalid, expected.invalid);
    assert.ok(incremental.counts.labeled > 0 && incremental.counts.tieSkip > 0, 'the sequence labeled something');
    m.dispose();
    fresh.dispose();
  });
}

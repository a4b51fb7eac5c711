// The synthetic vote files of the agreement and merge benchmarks (bench/agreement.ts, bench/merge.ts):
// N paired records of about 450 bytes, written once into a cache folder and reused.
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export type VoteFileKind = 'votes' | 'base' | 'ours' | 'theirs';

const T0 = Date.UTC(2026, 11, 1, 9);
const iso = (ms: number) => new Date(ms).toISOString();
const vote = (annotator: string, t: number, choice: string | null, strength: string | null, status: string | null, shown: string[]) =>
  ({ annotator, time: iso(t), choice, strength, status, note: null, shown, adjudicator: false });

function records(n: number, kind: VoteFileKind, emit: (line: string) => void): void {
  let x = 12345;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296);
  const filler = 'An ordinary sentence of preference data, repeated to a realistic length. ';
  for (let i = 0; i < n; i++) {
    const rec: Record<string, unknown> = { prompt: `Question ${i}: ${filler}`, chosen: `Answer A ${i}. ${filler}${filler}`, rejected: `Answer B ${i}. ${filler}${filler}` };
    const t = T0 + i * 20000;
    const shown = rnd() < 0.5 ? ['chosen', 'rejected'] : ['rejected', 'chosen'];
    if (kind === 'votes') {
      const d = rnd() < 0.25;
      const vs = [vote('ada', t, 'chosen', 'clearly', null, shown), vote('bo', t + 5000, 'chosen', null, null, shown), d ? vote('cy', t + 9000, 'rejected', 'slightly', null, shown) : vote('cy', t + 9000, null, null, 'tie', shown)];
      rec.rpo_label = { annotator: 'bo', time: iso(t + 5000), status: null, strength: null, note: null, shown, flipped: false };
      rec.rpo_votes = vs;
    } else if (kind === 'ours') {
      rec.rpo_label = { annotator: 'ada', time: iso(t), status: null, strength: null, note: null, shown, flipped: false };
    } else if (kind === 'theirs') {
      rec.rpo_label = { annotator: 'cy', time: iso(t + 9000), status: null, strength: null, note: null, shown, flipped: false };
      rec.rpo_votes = [vote('bo', t + 5000, 'chosen', null, null, shown), vote('cy', t + 9000, 'chosen', 'slightly', null, shown)];
    }
    emit(JSON.stringify(rec));
  }
}

/**
 * `<cache>/<kind>-<n>.pref.jsonl`, written when missing: 'votes' has 3 votes a record (ada, bo, cy;
 * cy dissents on a quarter); 'base' no labels; 'ours' labeled by ada; 'theirs' voted by bo and cy
 * (the merge's worst case: every line labeled on both sides).
 */
export function ensureVoteFile(cache: string, n: number, kind: VoteFileKind): string {
  const path = join(cache, `${kind}-${n}.pref.jsonl`);
  if (existsSync(path)) return path;
  mkdirSync(cache, { recursive: true });
  const fd = openSync(path + '.part', 'w');
  let batch: string[] = [];
  records(n, kind, (l) => {
    batch.push(l);
    if (batch.length === 10000) {
      writeSync(fd, batch.join('\n') + '\n');
      batch = [];
    }
  });
  if (batch.length) writeSync(fd, batch.join('\n') + '\n');
  closeSync(fd);
  renameSync(path + '.part', path);
  return path;
}

import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { agreementReport, drawsPatterns, mergePartials, resampleCounts, VoteCollector, type AgreementOptions, type AgreementReport, type VotePartial } from '../core/agreement';
import { parseLine } from '../core/dataset/formats';

/**
 * `rpo agreement` over a file (docs/agreement.md, "Performance"): the file is cut at line starts
 * into one byte range per worker thread; each worker reads its range straight from the file,
 * parses its lines (parseLine) and collects their votes; the partials are merged in file order. The bootstrap's resamples, when drawn item by item (many
 * patterns for the items), are then split into ranges across the same workers (resampleCounts:
 * each resample starts from its own generator state); drawn as multinomial pattern counts
 * (drawsPatterns), they run in this thread. Every split gives
 * the numbers one thread gives (test/unit/agreement/file.test.ts).
 *
 * Lines follow LineIndex's model (a BOM at the start of the file is not part of line 0; `\r\n`
 * endings; a last line without an ending; blank lines are lines).
 */

/** An invalid line (parseLine's answer), with its field and reason. */
export interface InvalidLine {
  /** 1-based line number in the file (in a RangeResult: 0-based within the range). */
  line: number;
  field: string | null;
  reason: string;
}

export interface RangeResult {
  partial: VotePartial;
  /** Lines in the range, and how many of them are invalid (parseLine's answer). */
  lines: number;
  invalid: number;
  /** The range's first invalid line, or null. */
  firstInvalid: InvalidLine | null;
}

const PIECE = 16 * 1024 * 1024;

/** Parses and collects the lines that start in bytes [from, to) of the file (from and to: line starts or the file's end). */
export function collectRange(path: string, from: number, to: number): RangeResult {
  const fd = openSync(path, 'r');
  try {
    const collector = new VoteCollector();
    let buf = Buffer.allocUnsafe(Math.min(PIECE, Math.max(to - from, 1)));
    let have = 0; // bytes in buf, starting at file offset pos - have
    let pos = from;
    let line = 0;
    let invalid = 0;
    let firstInvalid: InvalidLine | null = null;
    const add = (rec: ReturnType<typeof parseLine>) => {
      if (rec.kind === 'invalid') {
        invalid++;
        firstInvalid ??= { line, field: rec.field, reason: rec.reason };
      }
      collector.add(line++, rec);
    };
    let first = from === 0;
    const handle = (start: number, end: number) => {
      if (first) {
        first = false;
        if (end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
      }
      let e = end;
      if (e > start && buf[e - 1] === 0x0d) e--;
      add(parseLine(buf.subarray(start, e)));
    };
    for (;;) {
      if (have === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2); // a line longer than the buffer
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      const want = Math.min(buf.length - have, to - pos);
      const got = want > 0 ? readSync(fd, buf, have, want, pos) : 0;
      if (want > 0 && got === 0) throw new Error(`${path}: the file shrank while it was being read`);
      pos += got;
      have += got;
      const done = pos >= to;
      const lastNl = buf.lastIndexOf(0x0a, have - 1);
      const complete = lastNl + 1; // bytes of whole lines
      let start = 0;
      while (start < complete) {
        const nl = buf.indexOf(0x0a, start);
        // a final '\r' before '\n' belongs to the ending
        handle(start, nl);
        start = nl + 1;
      }
      if (done) {
        // The file's last line when it has no ending (its '\r', if any, stays in its content); a
        // file that is only a BOM has no line.
        let start = complete;
        if (first && have - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
        first = false;
        if (start < have) add(parseLine(buf.subarray(start, have)));
        break;
      }
      buf.copy(buf, 0, complete, have);
      have -= complete;
    }
    return { partial: collector.partial(), lines: line, invalid, firstInvalid };
  } finally {
    closeSync(fd);
  }
}

/** Byte offsets that cut the file into `parts` ranges at line starts: [0, ..., size]. */
export function splitFile(path: string, parts: number): number[] {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const cuts = [0];
    const probe = Buffer.allocUnsafe(64 * 1024);
    for (let p = 1; p < parts; p++) {
      const at = Math.max(Math.floor((size * p) / parts), cuts[cuts.length - 1]!);
      // the first line start at or after `at`: just past the first '\n' at or after at - 1
      let cut = size;
      for (let off = Math.max(at - 1, 0); off < size; off += probe.length) {
        const got = readSync(fd, probe, 0, probe.length, off);
        const nl = probe.subarray(0, got).indexOf(0x0a);
        if (nl >= 0) {
          cut = off + nl + 1;
          break;
        }
      }
      if (cut > cuts[cuts.length - 1]! && cut < size) cuts.push(cut);
    }
    cuts.push(size);
    return cuts;
  } finally {
    closeSync(fd);
  }
}

export type AgreementWorkerRequest =
  | { type: 'collect'; path: string; from: number; to: number }
  | { type: 'resample'; itemPattern: Int32Array; patterns: number; seed: number; from: number; to: number };
export type AgreementWorkerReply = { type: 'collected'; result: RangeResult } | { type: 'resampled'; counts: Int32Array } | { type: 'failed'; message: string };

/** What a worker does with one request (also run in-process when there are no workers). */
export function agreementWork(m: AgreementWorkerRequest): AgreementWorkerReply {
  if (m.type === 'collect') return { type: 'collected', result: collectRange(m.path, m.from, m.to) };
  return { type: 'resampled', counts: resampleCounts(m.itemPattern, m.patterns, m.seed, m.from, m.to) };
}

export interface FileAgreement {
  report: AgreementReport;
  lines: number;
  invalidLines: number;
  /** The file's first invalid line (1-based), or null. */
  firstInvalid: InvalidLine | null;
  /** Worker threads used (0: in this thread). */
  workers: number;
}

export interface FileAgreementOptions extends AgreementOptions {
  /** The built worker (dist/workers/agreement.js); without it (or with threads: 0) everything runs in this thread. */
  workerPath?: string;
  /** Worker threads (default: the machine's parallelism, at most 8). */
  threads?: number;
}

/** The agreement report of a preference file, parsed and resampled in worker threads when a worker is available. */
export async function fileAgreement(path: string, options: FileAgreementOptions = {}): Promise<FileAgreement> {
  const B = options.resamples ?? 1000;
  const seed = options.seed ?? 0;
  const threads = options.workerPath && existsSync(options.workerPath) ? Math.max(0, Math.min(options.threads ?? Math.min(availableParallelism(), 8), 64)) : 0;
  if (threads === 0) {
    const r = collectRange(path, 0, fstatSize(path));
    const table = mergePartials([{ partial: r.partial, lineOffset: 0 }]);
    return { report: agreementReport(table, { resamples: B, seed }), lines: r.lines, invalidLines: r.invalid, firstInvalid: inFile(r.firstInvalid, 0), workers: 0 };
  }
  const workers = Array.from({ length: threads }, () => new Worker(options.workerPath!));
  const ask = (w: Worker, m: AgreementWorkerRequest) =>
    new Promise<AgreementWorkerReply>((resolve, reject) => {
      const onMessage = (reply: AgreementWorkerReply) => {
        w.off('error', onError);
        if (reply.type === 'failed') reject(new Error(reply.message));
        else resolve(reply);
      };
      const onError = (err: Error) => {
        w.off('message', onMessage);
        reject(err);
      };
      w.once('message', onMessage);
      w.once('error', onError);
      w.postMessage(m);
    });
  try {
    const cuts = splitFile(path, threads);
    const ranges = cuts.slice(1).map((to, i) => ({ from: cuts[i]!, to }));
    const results = (await Promise.all(ranges.map((r, i) => ask(workers[i]!, { type: 'collect', path, from: r.from, to: r.to })))).map((r) => (r as { result: RangeResult }).result);
    let offset = 0;
    let invalid = 0;
    let firstInvalid: InvalidLine | null = null;
    const parts = results.map((r) => {
      const part = { partial: r.partial, lineOffset: offset };
      firstInvalid ??= inFile(r.firstInvalid, offset);
      offset += r.lines;
      invalid += r.invalid;
      return part;
    });
    const table = mergePartials(parts);
    const K = table.patterns.length;
    const n = table.itemPattern.length;
    let counts: Int32Array | undefined;
    // Item draws (few items a pattern): counts of every resample at once in the workers unless they
    // would be large (many distinct patterns): then in this thread, block by block. Multinomial
    // draws of the pattern counts (drawsPatterns) are K binomials a resample: in this thread.
    if (B > 0 && n > 0 && !drawsPatterns(n, K) && B * K <= 50_000_000) {
      const per = Math.ceil(B / threads);
      const jobs = workers.map((w, i) => ({ w, from: Math.min(B, i * per), to: Math.min(B, (i + 1) * per) })).filter((j) => j.to > j.from);
      const got = await Promise.all(jobs.map((j) => ask(j.w, { type: 'resample', itemPattern: table.itemPattern, patterns: K, seed, from: j.from, to: j.to })));
      counts = new Int32Array(B * K);
      got.forEach((g, i) => counts!.set((g as { counts: Int32Array }).counts, jobs[i]!.from * K));
    }
    return { report: agreementReport(table, { resamples: B, seed }, counts), lines: offset, invalidLines: invalid, firstInvalid, workers: threads };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** A range's first invalid line as a 1-based line of the file, the range starting after `offset` lines. */
function inFile(bad: InvalidLine | null, offset: number): InvalidLine | null {
  return bad && { ...bad, line: offset + bad.line + 1 };
}

function fstatSize(path: string): number {
  const fd = openSync(path, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

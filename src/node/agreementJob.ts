import { closeSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { AgreementReport } from '../core/agreement';
import { parseLine } from '../core/dataset/formats';
import { fileAgreement } from './agreementFile';

/**
 * The agreement of a file for the VS Code panel, computed off the extension host's thread: one
 * worker (dist/workers/agreementJob.js) runs `fileAgreement` (which spreads the file over its own
 * worker threads, dist/workers/agreement.js) and, when some lines are invalid, finds the first of
 * them. Cancelling terminates that worker and, with it, the threads it started.
 */

export interface InvalidLine {
  /** 1-based line number. */
  line: number;
  field: string | null;
  reason: string;
}

export interface AgreementJobResult {
  report: AgreementReport;
  lines: number;
  invalidLines: number;
  firstInvalid: InvalidLine | null;
}

export interface AgreementJobRequest {
  path: string;
  /** dist/workers/agreement.js (fileAgreement's workers). */
  agreementWorker: string;
}

export type AgreementJobReply = { type: 'done'; result: AgreementJobResult } | { type: 'failed'; message: string };

/** The job itself (what the worker runs; also callable in this thread). */
export async function agreementJob(req: AgreementJobRequest): Promise<AgreementJobResult> {
  const { report, lines, invalidLines } = await fileAgreement(req.path, { workerPath: req.agreementWorker });
  return { report, lines, invalidLines, firstInvalid: invalidLines > 0 ? firstInvalidLine(req.path) : null };
}

const PIECE = 4 * 1024 * 1024;

/**
 * The first line parseLine calls invalid (1-based), with its field and reason, or null. Lines as
 * LineIndex counts them: a BOM at the start of the file is not part of line 1, `\r\n` endings, a
 * last line without an ending. Reads until the first invalid line only.
 */
export function firstInvalidLine(path: string): InvalidLine | null {
  const fd = openSync(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(PIECE);
    let have = 0;
    let pos = 0;
    let line = 0;
    const check = (bytes: Buffer): InvalidLine | null => {
      line++;
      const rec = parseLine(bytes);
      return rec.kind === 'invalid' ? { line, field: rec.field, reason: rec.reason } : null;
    };
    for (;;) {
      if (have === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      const got = readSync(fd, buf, have, buf.length - have, pos);
      const start0 = pos === 0 && got >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
      pos += got;
      have += got;
      let start = start0;
      for (;;) {
        const nl = buf.indexOf(0x0a, start);
        if (nl < 0 || nl >= have) break;
        const end = nl > start && buf[nl - 1] === 0x0d ? nl - 1 : nl;
        const bad = check(buf.subarray(start, end));
        if (bad) return bad;
        start = nl + 1;
      }
      if (got === 0) {
        if (start < have) return check(buf.subarray(start, have));
        return null;
      }
      buf.copy(buf, 0, start, have);
      have -= start;
    }
  } finally {
    closeSync(fd);
  }
}

/** Runs the job in a worker thread; rejects with an AbortError when `signal` aborts (the worker is terminated). */
export function agreementJobInWorker(jobWorker: string, req: AgreementJobRequest, signal?: AbortSignal): Promise<AgreementJobResult> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const worker = new Worker(jobWorker);
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      fn();
    };
    const onAbort = () => finish(() => reject(abortError()));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: AgreementJobReply) => finish(() => (reply.type === 'done' ? resolve(reply.result) : reject(new Error(reply.message)))));
    worker.once('error', (err) => finish(() => reject(err)));
    worker.once('exit', (code) => finish(() => reject(new Error(`the agreement worker stopped (exit code ${code})`))));
    worker.postMessage(req);
  });
}

function abortError(): Error {
  const e = new Error('cancelled');
  e.name = 'AbortError';
  return e;
}

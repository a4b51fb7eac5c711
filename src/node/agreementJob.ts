import { Worker } from 'node:worker_threads';
import type { AgreementReport } from '../core/agreement';
import { fileAgreement, type InvalidLine } from './agreementFile';

/**
 * The agreement of a file for the VS Code panel, computed off the extension host's thread: one
 * worker (dist/workers/agreementJob.js) runs `fileAgreement`, which spreads the file over its own
 * worker threads (dist/workers/agreement.js) and names the first invalid line. Cancelling
 * terminates that worker and, with it, the threads it started.
 */

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
  const { report, lines, invalidLines, firstInvalid } = await fileAgreement(req.path, { workerPath: req.agreementWorker });
  return { report, lines, invalidLines, firstInvalid };
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

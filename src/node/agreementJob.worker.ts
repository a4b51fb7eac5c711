import { parentPort } from 'node:worker_threads';
import { agreementJob, type AgreementJobReply, type AgreementJobRequest } from './agreementJob';

/** Worker thread of the agreement panel (src/node/agreementJob.ts): one job, one reply. */
const port = parentPort!;
port.once('message', (m: AgreementJobRequest) => {
  agreementJob(m).then(
    (result): AgreementJobReply => ({ type: 'done', result }),
    (err: unknown): AgreementJobReply => ({ type: 'failed', message: err instanceof Error ? err.message : String(err) }),
  ).then((reply) => port.postMessage(reply));
});

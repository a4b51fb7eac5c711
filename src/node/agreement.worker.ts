import { parentPort } from 'node:worker_threads';
import { agreementWork, type AgreementWorkerReply, type AgreementWorkerRequest } from './agreementFile';

/**
 * Worker thread of `rpo agreement` (src/node/agreementFile.ts): reads and collects one byte
 * range of a file, or counts one range of bootstrap resamples.
 */
const port = parentPort!;
port.on('message', (m: AgreementWorkerRequest) => {
  let reply: AgreementWorkerReply;
  try {
    reply = agreementWork(m);
  } catch (err) {
    reply = { type: 'failed', message: err instanceof Error ? err.message : String(err) };
  }
  const transfer: ArrayBuffer[] = [];
  if (reply.type === 'resampled') transfer.push(reply.counts.buffer as ArrayBuffer);
  if (reply.type === 'collected') {
    const p = reply.result.partial;
    transfer.push(p.itemPattern.buffer as ArrayBuffer, p.itemLine.buffer as ArrayBuffer, ...p.tallies.map((t) => t.times.buffer as ArrayBuffer));
  }
  port.postMessage(reply, transfer);
});

import { parentPort } from 'node:worker_threads';
import { BlockReader, type MergeWorkerReply, type MergeWorkerRequest } from './mergeFile';

/** Worker thread of a parallel merge (src/node/mergeFile.ts): reads and merges blocks of lines of the three files. */
const port = parentPort!;
let reader: BlockReader | null = null;
port.on('message', (m: MergeWorkerRequest) => {
  let reply: MergeWorkerReply;
  try {
    if (m.type === 'init') {
      reader = new BlockReader(m);
      return;
    }
    reply = reader!.merge(m.block, m.start, m.end, m.reuse);
  } catch (err) {
    reply = { type: 'failed', message: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply, reply.type === 'merged' ? [reply.bytes.buffer as ArrayBuffer] : []);
});

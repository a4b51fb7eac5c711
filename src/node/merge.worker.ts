import { parentPort } from 'node:worker_threads';
import { LineIndex } from '../core/dataset/lineIndex';
import { mergeBlock, type MergeInputs, type MergeWorkerReply, type MergeWorkerRequest } from './mergeFile';

/** Worker thread of a parallel merge (src/node/mergeFile.ts): merges blocks of lines of the shared inputs. */
const port = parentPort!;
let inputs: MergeInputs | null = null;
port.on('message', (m: MergeWorkerRequest) => {
  if (m.type === 'init') {
    inputs = { base: m.base ? LineIndex.fromShared(m.base) : null, ours: LineIndex.fromShared(m.ours), theirs: LineIndex.fromShared(m.theirs), policy: m.policy, fastPath: m.fastPath };
    return;
  }
  let reply: MergeWorkerReply;
  try {
    reply = mergeBlock(inputs!, m.block, m.start, m.end, m.reuse);
  } catch (err) {
    reply = { type: 'failed', message: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply, reply.type === 'merged' ? [reply.bytes.buffer as ArrayBuffer] : []);
});

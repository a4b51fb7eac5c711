import { parentPort } from 'node:worker_threads';
import { keyLines } from './lineKeys';
import { LineIndex, SCAN_BATCH, scanAll, searchLines, type ScanReply, type ScanRequest } from './scanWork';

/**
 * Worker thread of the labeling editor: parses every line of a file (counts, filters, Problems)
 * and runs text searches, over the document's shared bytes, so the extension host's main thread
 * never stalls on a big file.
 */
const port = parentPort!;
const post = (m: ScanReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

port.on('message', (m: ScanRequest) => {
  try {
    const index = LineIndex.fromShared(m.data);
    const t0 = performance.now();
    if (m.type === 'scan') {
      scanAll(
        index,
        (from, to, codes, stats, invalid, keys) => post({ type: 'scanned', generation: m.generation, from, to, codes, stats, invalid, ...(keys ? { keys } : {}) }, keys ? [codes.buffer as ArrayBuffer, keys.keys.buffer as ArrayBuffer, keys.sides.buffer as ArrayBuffer] : [codes.buffer as ArrayBuffer]),
        { n: 0 },
        m.from,
        m.to,
        m.keys,
      );
      post({ type: 'scanDone', generation: m.generation, ms: performance.now() - t0 });
    } else if (m.type === 'keys') {
      for (let from = m.from; from < m.to; from += SCAN_BATCH) {
        const to = Math.min(from + SCAN_BATCH, m.to);
        const { keys, sides } = keyLines(index, from, to, m.options);
        post({ type: 'keyed', generation: m.generation, run: m.run, from, keys, sides }, [keys.buffer as ArrayBuffer, sides.buffer as ArrayBuffer]);
      }
      post({ type: 'keysDone', generation: m.generation, run: m.run });
    } else {
      const lines = searchLines(index, m.query);
      post({ type: 'found', generation: m.generation, id: m.id, lines, ms: performance.now() - t0 }, [lines.buffer as ArrayBuffer]);
    }
  } catch (err) {
    post({ type: 'failed', generation: m.generation, ...(m.type === 'search' ? { id: m.id } : {}), ...(m.type === 'keys' ? { run: m.run } : {}), message: err instanceof Error ? err.message : String(err) });
  }
});

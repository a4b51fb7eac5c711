import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Embedder } from '../../../src/embeddings/embedder';
import { HubUnreachableError, probeHub } from '../../../src/embeddings/hub';
import { resolveModel } from '../../../src/embeddings/modelSource';

/**
 * The Hub unreachable: the embedder finds out once, within a few seconds, and says what to do
 * (model id, downloads once, the setting or flag for a local folder), never a bare "fetch failed".
 * Real networking: a closed port, a server that accepts and never answers, one that drops the
 * download, and the real huggingface.co where this machine cannot reach it.
 */
const root = path.resolve(__dirname, '../../..');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-hub-'));
const DEFAULT = 'sentence-transformers/all-MiniLM-L6-v2';

before(() => {
  if (!fs.existsSync(path.join(root, 'dist/workers/embed.js'))) execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
});

const servers: { close: () => void }[] = [];
after(() => { for (const s of servers) s.close(); delete process.env.HF_ENDPOINT; });

/** Listens on a free port; returns its endpoint URL. */
async function listen(server: net.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push({ close: () => server.close() });
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

async function closedPort(): Promise<string> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

function start(cacheDir: string, localModelHint?: string) {
  return Embedder.start({ model: resolveModel(DEFAULT, cacheDir), precision: 'q8', maxTokens: 256, threads: 1, ...(localModelHint ? { localModelHint } : {}) });
}

function assertAdvice(err: unknown, reason: RegExp, hint = 'the setting `rpo.embeddings.model`'): true {
  assert.ok(err instanceof HubUnreachableError, `expected HubUnreachableError, got ${(err as Error)?.stack ?? err}`);
  const m = err.message;
  assert.match(m, reason);
  assert.ok(m.includes(DEFAULT), 'names the model');
  assert.ok(m.includes('Xenova/all-MiniLM-L6-v2'), 'names the repository it downloads from');
  assert.match(m, /downloads once/);
  assert.ok(m.includes(hint), `names where a local folder goes (${hint}): ${m}`);
  assert.match(m, /onnx\/model_quantized\.onnx/, 'names the files a local folder needs');
  assert.notEqual(m.trim(), 'fetch failed');
  return true;
}

test('a refused connection: HubUnreachableError with the reason and what to do', async () => {
  process.env.HF_ENDPOINT = await closedPort();
  await assert.rejects(start(tmp()), (e) => assertAdvice(e, /ECONNREFUSED/));
});

test('a Hub that accepts and never answers: given up after the probe timeout, not retried', { timeout: 60_000 }, async () => {
  let connections = 0;
  const server = net.createServer((socket) => { connections++; socket.on('error', () => undefined); });
  process.env.HF_ENDPOINT = await listen(server);
  const t0 = Date.now();
  await assert.rejects(start(tmp(), '`--model PATH`'), (e) => assertAdvice(e, /no answer within 5 s/, '`--model PATH`'));
  console.log(`    gave up after ${Date.now() - t0} ms, ${connections} connection(s)`);
  assert.equal(connections, 1, 'one request, no retries');
});

test('a download that breaks after the check: the same advice, with the cause instead of "fetch failed" alone', async () => {
  const server = http.createServer((req, res) => {
    if (req.method === 'HEAD') { res.writeHead(200); res.end(); return; }
    req.socket.destroy(); // the connection drops mid-download
  });
  process.env.HF_ENDPOINT = await listen(server);
  await assert.rejects(start(tmp()), (e) => assertAdvice(e, /fetch failed \(.+\)/));
});

test('a model already downloaded loads without asking the Hub', async () => {
  const cache = tmp();
  // Transformers.js' file cache layout: <cacheDir>/<repo id>/<file>
  fs.cpSync(path.join(root, 'test/fixtures/models/tiny-bert-q8'), path.join(cache, 'Xenova', 'all-MiniLM-L6-v2'), { recursive: true });
  let requests = 0;
  const server = net.createServer((socket) => { requests++; socket.destroy(); });
  process.env.HF_ENDPOINT = await listen(server);
  const e = await start(cache);
  try {
    assert.equal(e.dim, 32);
    assert.equal(requests, 0, 'no request to the Hub');
  } finally {
    await e.dispose();
  }
});

test('the real Hub, where this machine cannot reach it (skipped where it can)', async (t) => {
  delete process.env.HF_ENDPOINT;
  const t0 = Date.now();
  const reason = await probeHub('Xenova/all-MiniLM-L6-v2');
  if (!reason) return t.skip('huggingface.co is reachable from here');
  await assert.rejects(start(tmp()), (e) => assertAdvice(e, /huggingface\.co/));
  console.log(`    huggingface.co: ${reason}; found out in ${Date.now() - t0} ms`);
});

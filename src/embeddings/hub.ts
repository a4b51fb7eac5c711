import fs from 'node:fs';
import path from 'node:path';
import type { Precision } from './cache';
import { MODEL_FILES, ModelError, onnxFile } from './modelSource';

/**
 * The Hugging Face Hub side of the embedder: where models download from, whether a model is
 * already downloaded, and finding out once and fast that the Hub cannot be reached (a machine
 * offline, behind a firewall that drops packets, or with no DNS), with a message that says what to
 * do instead of Transformers.js' bare "fetch failed".
 */

/** The Hub, or the mirror named by HF_ENDPOINT (the variable huggingface_hub reads too). */
export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT?.trim() || 'https://huggingface.co').replace(/\/+$/, '');
}

/** How long the reachability check waits for an answer before it calls the Hub unreachable. */
export const HUB_PROBE_TIMEOUT_MS = 5000;

/**
 * True when every file the worker loads for `id` is in Transformers.js' download cache
 * (`<cacheDir>/<id>/<file>`): loading then needs no network.
 */
export function hubFilesCached(cacheDir: string, id: string, precision: Precision): boolean {
  return [...MODEL_FILES, onnxFile(precision)].every((f) => fs.existsSync(path.join(cacheDir, id, f)));
}

/** A network failure as one line: "getaddrinfo ENOTFOUND huggingface.co", "connect ECONNREFUSED 127.0.0.1:9". */
export function describeNetworkError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string; errors?: { message?: string }[] } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${HUB_PROBE_TIMEOUT_MS / 1000} s`;
  const cause = e?.cause;
  const inner = cause?.message || cause?.errors?.[0]?.message || cause?.code;
  return inner ? String(inner) : String(e?.message ?? err);
}

/** Node's and undici's error codes of a request that never reached a server. */
const NETWORK_CODES = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|UND_ERR_CONNECT_TIMEOUT|UND_ERR_SOCKET|CERT_|SELF_SIGNED|UNABLE_TO_VERIFY)|fetch failed/;

/** Does a load error (the worker's message) say that the Hub could not be reached mid-download? */
export function isNetworkFailure(message: string): boolean {
  return NETWORK_CODES.test(message);
}

/**
 * Asks the Hub for the model's config.json (a HEAD request, no retries), giving up after
 * `timeoutMs`. Resolves to undefined when any HTTP answer came back (a 401 or 404 is reported
 * by the download itself, with its status), else to the reason the Hub is unreachable.
 */
export async function probeHub(id: string, { endpoint = hubEndpoint(), timeoutMs = HUB_PROBE_TIMEOUT_MS, signal }: { endpoint?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string | undefined> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    await fetch(`${endpoint}/${id}/resolve/main/config.json`, { method: 'HEAD', redirect: 'manual', signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    return undefined;
  } catch (err) {
    if (signal?.aborted) throw err;
    if (timeout.aborted) return `no answer within ${timeoutMs / 1000} s`;
    return describeNetworkError(err);
  }
}

/**
 * The Hub could not be reached to download a model that is not downloaded yet. `localSetting`
 * names where a local folder goes instead (the VS Code setting or the CLI flag); the VS Code
 * glue offers a "Choose Folder…" button on this error.
 */
export class HubUnreachableError extends ModelError {
  constructor(
    /** The model as configured, e.g. sentence-transformers/all-MiniLM-L6-v2. */
    readonly modelName: string,
    /** The Hub repository the files come from, e.g. Xenova/all-MiniLM-L6-v2. */
    readonly downloadId: string,
    readonly endpoint: string,
    readonly reason: string,
    readonly precision: Precision,
    readonly cacheDir: string,
    readonly localSetting: string,
  ) {
    const from = downloadId !== modelName ? ` (its ONNX files from ${downloadId})` : '';
    const files = [...MODEL_FILES, onnxFile(precision)].join(', ');
    super(
      `Cannot reach the Hugging Face Hub (${endpoint}: ${reason}) to download the embedding model ${modelName}${from}. ` +
      `It downloads once, into ${cacheDir}, and then works offline. ` +
      `Without the Hub, set ${localSetting} to a local folder that holds the model: ${files}.`,
    );
    this.name = 'HubUnreachableError';
  }
}

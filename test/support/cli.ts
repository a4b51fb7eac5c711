// The `rpo` CLI from source as a real process, for the tests.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const repoRoot = path.resolve(__dirname, '..', '..');
/** The CLI's entry point in the source tree. */
export const cliMain = path.join(repoRoot, 'src', 'cli', 'main.ts');
/** tsx's loader by absolute URL, so that the CLI runs from any working folder (a bare 'tsx' resolves from the cwd). */
export const tsxLoader = pathToFileURL(path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** Runs `rpo ARGS` from source to completion (utf8 output), with `env` when given. */
export function rpoCli(env?: NodeJS.ProcessEnv): (...args: string[]) => SpawnSyncReturns<string> {
  return (...args) => spawnSync(process.execPath, ['--import', tsxLoader, cliMain, ...args], { encoding: 'utf8', ...(env ? { env } : {}) });
}

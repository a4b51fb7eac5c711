// Builds the production bundle (scripts/build.mjs --production, what `npm run package` ships) into a
// folder and checks that no test or benchmark hook is in it (src/testHooks.ts): no `_rpo.*` test
// command, no test-mode switch, no hook state, no probe the view sends only for a benchmark.
// Usage: node scripts/check-production-bundle.mjs [--outdir DIR]   (exit status 1 names what it found)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
const outdir = path.resolve(values.outdir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-production-')));

/** What must not be in a production bundle, and why it would be there. */
const HOOKS = [
  [/_rpo\./, 'a `_rpo.*` test command'],
  [/RPO_TEST_HOOKS/, 'the test-mode switch (testHooksOn) or the build flag left undefined'],
  [/wholeReadHold|holdWhole/, "the labeling editor's hold on a big file's whole read"],
  [/__rpoDashboardStats/, "the dashboard's benchmark statistics"],
  [/type:\s*["'](painted|timing)["']/, 'a timing probe a webview sends after every frame'],
  [/labelToPaintMs/, 'a timings array that grows for the life of the window'],
];

execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--production', '--outdir', outdir, '--quiet'], { cwd: root, stdio: 'inherit' });

const files = [];
(function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) walk(full);
    else if (/\.(c|m)?js$/.test(e.name)) files.push(full);
  }
})(outdir);

const found = [];
for (const file of files) {
  const text = fs.readFileSync(file, 'utf8');
  for (const [re, what] of HOOKS) {
    const m = re.exec(text);
    if (m) found.push(`${path.relative(outdir, file)}: ${what} (${JSON.stringify(text.slice(Math.max(0, m.index - 40), m.index + 60))})`);
  }
}
if (found.length) {
  console.error(`test hooks in the production bundle (${outdir}):\n  ${found.join('\n  ')}`);
  process.exit(1);
}
console.log(`production bundle: ${files.length} files, none of ${HOOKS.length} test-hook patterns`);

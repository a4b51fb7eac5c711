// Builds every bundle with esbuild and prints their sizes.
//   dist/extension.js        extension host (Node, CommonJS; vscode and native modules external)
//   dist/cli.js              the `rpo` command-line front end (Node, CommonJS)
//   dist/workers/<name>.js   worker threads: every src/**/<name>.worker.ts
//   dist/webview/<view>.js   one browser bundle per folder webview/<view>/main.ts (+ main.css if present)
// Usage: node scripts/build.mjs [--watch] [--production] [--outdir DIR] [--quiet]
//   --outdir DIR  write the bundles to DIR instead of dist/ (the test harness builds a private copy
//                 per run so a concurrent build in the working tree cannot disturb a running test)
//   --quiet       print one summary line instead of the size table
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const argValue = (name) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const dist = path.resolve(argValue('--outdir') ?? path.join(root, 'dist'));
const quiet = process.argv.includes('--quiet');

// Native or runtime-resolved modules stay outside the bundles and ship in node_modules.
const nodeExternal = ['vscode', 'onnxruntime-node', 'onnxruntime-common'];
// @huggingface/transformers imports sharp for image pipelines we never use; a stand-in keeps
// the bundle free of libvips (a null stand-in breaks its import).
const sharpStub = path.join(root, 'scripts', 'sharp-stub.cjs');

function walk(dir, match, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, match, out);
    else if (match(entry.name)) out.push(full);
  }
  return out;
}

// Test and benchmark hooks (`if (RPO_TEST_HOOKS_BUILT) ...`, src/testHooks.ts) are built in for
// development and tests; a production build defines the flag false and esbuild drops them.
const buildFlags = { RPO_TEST_HOOKS_BUILT: production ? 'false' : 'true' };

const common = {
  bundle: true,
  define: buildFlags,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  metafile: true,
  legalComments: 'none',
};

const nodeCommon = {
  ...common,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: nodeExternal,
  // jsonc-parser's main entry is UMD, whose require('./impl/...') calls esbuild cannot follow: bundle its ES module build.
  alias: { sharp: sharpStub, 'jsonc-parser': path.join(root, 'node_modules', 'jsonc-parser', 'lib', 'esm', 'main.js') },
  // transformers.js reads import.meta.url; give CommonJS bundles a real value.
  define: { ...buildFlags, 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

const builds = [
  { ...nodeCommon, entryPoints: { extension: path.join(root, 'src/extension.ts') }, outdir: dist },
  {
    ...nodeCommon,
    entryPoints: { cli: path.join(root, 'src/cli/main.ts') },
    outdir: dist,
    banner: { js: '#!/usr/bin/env node\n' + nodeCommon.banner.js },
  },
];

const workers = walk(path.join(root, 'src'), (n) => n.endsWith('.worker.ts'));
if (workers.length) {
  builds.push({
    ...nodeCommon,
    entryPoints: Object.fromEntries(workers.map((w) => [path.basename(w, '.worker.ts'), w])),
    outdir: path.join(dist, 'workers'),
  });
}

const views = fs.existsSync(path.join(root, 'webview'))
  ? fs.readdirSync(path.join(root, 'webview')).filter((v) => fs.existsSync(path.join(root, 'webview', v, 'main.ts')))
  : [];
if (views.length) {
  builds.push({
    ...common,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    entryPoints: Object.fromEntries(views.map((v) => [v, path.join(root, 'webview', v, 'main.ts')])),
    outdir: path.join(dist, 'webview'),
    loader: { '.ttf': 'file', '.woff2': 'file' },
  });
}

function printSizes(metafiles) {
  const rows = [];
  for (const meta of metafiles) {
    for (const [file, info] of Object.entries(meta.outputs)) {
      if (file.endsWith('.map')) continue;
      const abs = path.resolve(root, file);
      const rel = path.relative(root, abs);
      rows.push([rel.startsWith('..') ? abs : rel, info.bytes]);
    }
  }
  rows.sort((a, b) => a[0].localeCompare(b[0]));
  const width = Math.max(...rows.map((r) => r[0].length));
  for (const [file, bytes] of rows) console.log(`  ${file.padEnd(width)}  ${(bytes / 1024).toFixed(1).padStart(8)} KiB`);
  console.log(`  ${'total'.padEnd(width)}  ${(rows.reduce((s, r) => s + r[1], 0) / 1024).toFixed(1).padStart(8)} KiB`);
}

if (watch) {
  for (const options of builds) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
  }
  console.log('esbuild: watching for changes');
} else {
  fs.rmSync(dist, { recursive: true, force: true });
  const t0 = Date.now();
  const results = await Promise.all(builds.map((b) => esbuild.build(b)));
  fs.chmodSync(path.join(dist, 'cli.js'), 0o755);
  console.log(`esbuild: ${builds.length} builds in ${Date.now() - t0} ms${production ? ' (production)' : ''}${quiet ? ` -> ${path.relative(root, dist)}` : ''}`);
  if (!quiet) printSizes(results.map((r) => r.metafile));
}

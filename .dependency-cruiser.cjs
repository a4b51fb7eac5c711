// Architecture checks of the static layer (`node scripts/test.mjs static`), on resolved import
// paths, type-only imports included (they couple modules as much as value imports):
//   - no import cycles anywhere in src/ and webview/;
//   - src/core is pure: no vscode, no src/node, no features, no child processes;
//   - src/protocol is shared by host and webviews: it imports only src/protocol;
//   - webview/ code runs in the browser sandbox: it may import only webview/, src/protocol/,
//     the contrast math it shares with the host (SHARED_WITH_WEBVIEWS) and npm packages.
// ESLint (eslint.config.mjs) keeps the name-based rules (no `vscode`, no Node built-ins).
/** Host modules a webview may bundle: pure, browser-safe, no imports outside this list. */
const SHARED_WITH_WEBVIEWS = ['^src/core/contrast/weights\\.ts$', '^src/core/dataMap/index\\.ts$'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'Import cycles make modules impossible to understand, test or move on their own: break the cycle (move the shared part into its own module).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-pure',
      severity: 'error',
      comment: 'src/core runs in plain Node, workers, the CLI and tests: no vscode, no node layer (processes, atomic writes, run store), no features.',
      from: { path: '^src/core/' },
      to: { path: ['^src/(node|training|labeling|preview|embeddings|cli)/', '^src/(extension|features|services|webviewHtml)\\.ts$', '^vscode$', '^node_modules/@types/vscode/'] },
    },
    {
      name: 'core-starts-no-process',
      severity: 'error',
      comment: 'Processes, threads and sockets belong to src/node (core code runs anywhere, in-process).',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['core'], path: '^(node:)?(child_process|cluster|worker_threads|net|dgram|http|https|tls)$' },
    },
    {
      name: 'protocol-is-a-leaf',
      severity: 'error',
      comment: 'src/protocol owns the message types shared with webviews: it imports nothing but src/protocol.',
      from: { path: '^src/protocol/' },
      to: { pathNot: ['^src/protocol/'] },
    },
    {
      name: 'webview-allow-list',
      severity: 'error',
      comment: 'Webviews run in a browser sandbox and talk to the host through src/protocol messages: import only webview/, src/protocol/, the shared contrast math and npm packages.',
      from: { path: '^webview/' },
      to: { pathNot: ['^webview/', '^src/protocol/', '^node_modules/', ...SHARED_WITH_WEBVIEWS] },
    },
    {
      name: 'shared-with-webviews-is-self-contained',
      severity: 'error',
      comment: 'A host module shared with webviews is bundled into the browser: it may import only other shared modules and src/protocol.',
      from: { path: SHARED_WITH_WEBVIEWS },
      to: { pathNot: ['^src/protocol/', ...SHARED_WITH_WEBVIEWS] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve.',
      from: { path: '^(src|webview)/' },
      to: { couldNotResolve: true, pathNot: ['^vscode$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.(css|svg|png)$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'] },
    cache: false,
  },
};

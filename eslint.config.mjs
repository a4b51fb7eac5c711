// Lint rules whose main job is to keep the architecture honest:
// src/core and src/protocol never import a value from `vscode` (they run in plain Node, the CLI,
// workers and tests); webview/ code runs in a browser sandbox: no `vscode`, no Node built-ins.
// Rules on resolved paths (import cycles, src/core not importing src/node, the allow-list of what
// webviews may import) are in .dependency-cruiser.cjs, also run by the static test layer.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises',
  'http', 'https', 'net', 'os', 'path', 'process', 'readline', 'stream', 'tls', 'url', 'util', 'v8', 'vm',
  'worker_threads', 'zlib',
];

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'trainer/**', 'test-results/**', '.rpo-test/**', 'sample-workspace/**', 'scripts/sharp-stub.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    files: ['src/core/**/*.ts', 'src/protocol/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'src/core and src/protocol are pure: no vscode (type-only imports are allowed).', allowTypeImports: true }],
      }],
    },
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'src/protocol is shared with webviews: no vscode.', allowTypeImports: true }],
        patterns: [{ group: ['node:*', ...nodeBuiltins], message: 'src/protocol is shared with webviews: no Node modules.' }],
      }],
    },
  },
  {
    files: ['webview/**/*.ts'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly' } },
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'Webviews run in a browser sandbox: talk to the host through src/protocol messages.' }],
        patterns: [
          { group: ['node:*', ...nodeBuiltins], message: 'Webviews run in a browser sandbox: no Node modules.' },
        ],
      }],
    },
  },
  {
    files: ['scripts/**/*.mjs', 'test/**/*.mjs', 'bench/**/*.mjs', '*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly' } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly', __filename: 'readonly', process: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);

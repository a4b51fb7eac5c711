import * as vscode from 'vscode';

/**
 * Test and benchmark hooks: `_rpo.*` commands that report a feature's state to the integration
 * tests, and what only they read. They exist only
 * - in development and test builds (`RPO_TEST_HOOKS_BUILT`, src/buildFlags.d.ts: the production
 *   bundle has none of them; the static test layer checks it), and
 * - when the extension runs for tests: the integration tests' extension host
 *   (`ExtensionMode.Test`), or a VS Code the test harness started with `RPO_TEST_HOOKS=1` (UI tests
 *   and benchmarks).
 * A feature registers its hooks with `if (RPO_TEST_HOOKS_BUILT && testHooksOn(context))`.
 */
export function testHooksOn(context: vscode.ExtensionContext): boolean {
  return context.extensionMode === vscode.ExtensionMode.Test || process.env.RPO_TEST_HOOKS === '1';
}

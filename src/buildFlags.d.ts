/**
 * Defined by scripts/build.mjs: true in development and test builds, false in the production
 * build (`--production`, what `npm run package` ships), where esbuild drops every
 * `if (RPO_TEST_HOOKS_BUILT) ...` branch and what only it uses. See src/testHooks.ts.
 */
declare const RPO_TEST_HOOKS_BUILT: boolean;

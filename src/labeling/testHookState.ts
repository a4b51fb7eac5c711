/**
 * What the labeling editor keeps for its test hooks (testHooks.ts), only once they are registered:
 * the provider and the document call these behind `RPO_TEST_HOOKS_BUILT` (absent from the
 * production bundle).
 */
export const hooks = {
  /** True while the test hooks are registered. */
  on: false,
  /** Backups VS Code asked for (hot exit), newest last. */
  backups: [] as { uri: string; id: string; edits: number }[],
  /** While set, a big file's whole model waits before it replaces the head (`_rpo.labeling.testHoldWholeRead`). */
  wholeReadHold: undefined as { promise: Promise<void>; release: () => void } | undefined,
};

export function recordBackup(backup: { uri: string; id: string; edits: number }): void {
  if (hooks.on) hooks.backups.push(backup);
}

/** What a big file's whole read waits for before it replaces the head (nothing unless a test holds it). */
export function heldWholeRead(): Promise<void> | undefined {
  return hooks.wholeReadHold?.promise;
}

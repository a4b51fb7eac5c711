/**
 * Training dynamics of a run, read back against the labels (docs/contracts.md §8): pair keys,
 * the dynamics.safetensors file, matching its rows to the current file, the suspect ranking.
 * Pure (node:crypto for SHA-256, no fs); the node layer reads run folders (src/node/dynamics.ts).
 */
export * from './pairKey';
export * from './format';
export * from './match';
export * from './suspects';
export * from './encode';

/** Pure contrast math and the sampler, shared by the preview, the CLI and the golden tests. */
export * from './weights';
export * from './losses';
export * from './prng';
export * from './sampler';
export * from './topk';
export * from './topkIndex';
export * from './promptText';
export * from './preview';

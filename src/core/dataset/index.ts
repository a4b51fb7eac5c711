/** The dataset core: formats, labeling edits, the line document model, stats, HH import. See docs/formats.md. */
export * from './provenance';
export * from './formats';
export * from './lineIndex';
export * from './labeling';
export * from './votes';
export * from './lineDocument';
export * from './stats';
export * from './hh';

import type { Feature } from './services';
import { labelingFeature } from './labeling';
import { previewFeature } from './preview';
import { trainingFeature } from './training';
import { dataioFeature } from './dataio';
import { gitMergeFeature } from './gitMerge';
import { agreementFeature } from './agreement';

/**
 * Every feature of the extension, in start order. A feature lives in its own folder under src/
 * and exports one `Feature` (id + register). Add new features here.
 */
export const features: Feature[] = [labelingFeature, previewFeature, trainingFeature, dataioFeature, gitMergeFeature, agreementFeature];

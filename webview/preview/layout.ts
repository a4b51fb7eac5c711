import { MAX_BATCH, MAX_PROCESSES, TAU_RANGE } from '../../src/protocol/preview';
import { el } from '../common/dom';

/** The preview's elements, built once: header, batch settings, numbers, the heatmap, the side panels. */

export const root = el('main', { id: 'preview' });
export const header = el('header');
export const title = el('h1', {}, 'RPO Contrast Preview');
export const status = el('p', { id: 'status', role: 'status', 'aria-live': 'polite' });
export const source = el('p', { id: 'source', class: 'muted' });
export const retry = el('button', { id: 'retry', type: 'button', hidden: '' }, 'Embed again');
header.append(title, status, retry, source);

export const controls = el('section', { id: 'controls', 'aria-label': 'Batch settings' });
export const tauInput = el('input', { id: 'tau', type: 'range', min: String(TAU_RANGE.min), max: String(TAU_RANGE.max), step: String(TAU_RANGE.step), 'aria-label': 'Temperature tau' });
export const tauValue = el('output', { id: 'tau-value', for: 'tau' });
export const batchInput = el('input', { id: 'batch-size', type: 'number', min: '1', max: String(MAX_BATCH), 'aria-label': 'Per-device batch size' });
export const procInput = el('input', { id: 'num-processes', type: 'number', min: '1', max: String(MAX_PROCESSES), 'aria-label': 'Processes (GPUs)' });
export const seedInput = el('input', { id: 'seed', type: 'number', min: '0', 'aria-label': 'Sampler seed' });
export const simInput = el('input', { id: 'similarity', type: 'checkbox' });
export const globalInput = el('input', { id: 'global', type: 'checkbox' });
export const unpairedInput = el('input', { id: 'unpaired', type: 'checkbox' });
export const resample = el('button', { id: 'resample', type: 'button', title: 'Show another minibatch of this epoch' }, 'Resample');
const field = (label: string, input: HTMLElement, extra?: HTMLElement) => {
  const l = el('label', { class: 'field' });
  l.append(el('span', {}, label), input);
  if (extra) l.append(extra);
  return l;
};
controls.append(
  field('Temperature τ', tauInput, tauValue), field('Batch size', batchInput), field('Processes', procInput), field('Seed', seedInput),
  field('Similarity batching', simInput), field('Global contrast', globalInput), field('Unpaired (chosen × rejected)', unpairedInput), resample,
);

export const warnings = el('ul', { id: 'warnings' });
export const numbers = el('section', { id: 'numbers', 'aria-label': 'Numbers' });
export const matrixSection = el('section', { id: 'matrix' });
export const batchTitle = el('h2', {}, 'Minibatch');
export const canvasWrap = el('div', { class: 'canvas-wrap' });
export const canvas = el('canvas', { id: 'heatmap', tabindex: '0', role: 'img', 'aria-label': 'Contrast weight heatmap' });
export const tooltip = el('div', { id: 'tooltip', role: 'tooltip', hidden: '' });
canvasWrap.append(canvas, tooltip);
export const legend = el('p', { class: 'muted' }, 'Rows: chosen response i (its prompt). Columns: rejected response j. Colour: weight w_ij = softmax_j(cos_ij / τ); the diagonal is the same-prompt pair.');
matrixSection.append(batchTitle, canvasWrap, legend);

export const side = el('section', { id: 'side' });
export const histTitle = el('h2', {}, 'Nearest-neighbour cosine of each prompt');
export const histCanvas = el('canvas', { id: 'histogram', role: 'img' });
export const histNote = el('p', { class: 'muted' });
export const nbTitle = el('h2', {}, 'Nearest prompts of the selected record');
export const nbPrompt = el('p', { id: 'nb-prompt', class: 'prompt' });
export const nbList = el('ol', { id: 'neighbours' });
side.append(histTitle, histCanvas, histNote, nbTitle, nbPrompt, nbList);

const body = el('div', { class: 'body' });
body.append(matrixSection, side);
root.append(header, controls, warnings, numbers, body);
document.body.append(root);

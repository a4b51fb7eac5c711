import { type EditableSettings, MAX_BATCH, MAX_PROCESSES } from '../../src/protocol/preview';
import { update } from './heatmap';
import { batchInput, globalInput, procInput, resample, retry, seedInput, simInput, tauInput, unpairedInput } from './layout';
import { post, preview } from './state';

/** The batch settings: the temperature is applied here; every other setting goes to the host, which forms the batch. */

retry.addEventListener('click', () => post({ type: 'embed' }));
tauInput.addEventListener('input', () => {
  if (!preview.settings) return;
  preview.settings = { ...preview.settings, tau: Number(tauInput.value) };
  update();
});
const sendSettings = (patch: Partial<EditableSettings>) => post({ type: 'settings', settings: patch });
const intFrom = (input: HTMLInputElement, min: number, max: number): number | undefined => {
  const n = Number(input.value);
  if (!Number.isInteger(n) || n < min || n > max) {
    input.setAttribute('aria-invalid', 'true');
    return undefined;
  }
  input.removeAttribute('aria-invalid');
  return n;
};
batchInput.addEventListener('change', () => { const v = intFrom(batchInput, 1, MAX_BATCH); if (v !== undefined) sendSettings({ batchSize: v }); });
procInput.addEventListener('change', () => { const v = intFrom(procInput, 1, MAX_PROCESSES); if (v !== undefined) sendSettings({ numProcesses: v }); });
seedInput.addEventListener('change', () => { const v = intFrom(seedInput, 0, 4294967295); if (v !== undefined) sendSettings({ seed: v }); });
simInput.addEventListener('change', () => sendSettings({ similarityBatching: simInput.checked }));
globalInput.addEventListener('change', () => sendSettings({ globalContrast: globalInput.checked }));
unpairedInput.addEventListener('change', () => sendSettings({ mode: unpairedInput.checked ? 'unpaired' : 'paired' }));
resample.addEventListener('click', () => post({ type: 'resample' }));

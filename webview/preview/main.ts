import './main.css';
import type { HostMessage } from '../../src/protocol/preview';
import './controls';
import { applyBatch, draw, update } from './heatmap';
import { renderNeighbours, renderState, renderWarnings, syncControls } from './panels';
import { post, preview } from './state';

/**
 * The contrast preview. The host sends a minibatch's cosine matrix; this view computes the
 * softmax weights itself on every temperature change (a 64 x 64 update takes well under a
 * millisecond) and draws them on a canvas (heatmap.ts). Settings that change the batch (size,
 * seed, similarity batching, ...) go to the host (controls.ts), which forms the batch with the
 * trainer's sampler.
 */

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const m = event.data;
  switch (m.type) {
    case 'state':
      // keep the user's temperature while the same file reloads; a new file starts from its config
      preview.settings = { ...m.state.settings, tau: preview.settings && preview.state?.fileName === m.state.fileName ? preview.settings.tau : m.state.settings.tau };
      preview.state = m.state;
      preview.neighbours = m.state.neighbours;
      applyBatch(m.state.batch);
      renderState();
      update();
      break;
    case 'batch':
      preview.settings = { ...m.settings, tau: preview.settings?.tau ?? m.settings.tau };
      if (preview.state) preview.state = { ...preview.state, warnings: m.warnings };
      applyBatch(m.batch);
      renderWarnings(m.warnings);
      syncControls();
      update();
      break;
    case 'neighbours':
      preview.neighbours = m.neighbours;
      renderNeighbours();
      break;
  }
});

window.addEventListener('resize', () => draw());
post({ type: 'ready' });

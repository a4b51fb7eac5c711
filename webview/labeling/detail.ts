import { diffWords } from 'diff';
import type { DynamicsView, LabelAction, RecordDetail, ResponseView, Turn, VoteView } from '../../src/protocol/labeling';
import { el } from '../common/dom';
import { actions, detail, detailHeader, dynamicsBox, invalidBox, leftBox, note, noteRow, promptBox, responses, rightBox, setFieldValue, STATUS_LABELS, votesBox } from './layout';
import { renderMarkdown } from './markdown';
import { send, view } from './state';

/** The selected record: prompt, the two responses (or a word diff of them), label actions, note. */

const ACTION_LABELS: Record<LabelAction, [string, string]> = {
  chooseLeft: ['Left better', '1'],
  chooseRight: ['Right better', '2'],
  chooseLeftSlightly: ['Left slightly', '⇧1'],
  chooseRightSlightly: ['Right slightly', '⇧2'],
  tie: ['Tie', 'T'],
  skip: ['Skip', 'S'],
  bothBad: ['Both bad', 'X'],
  clear: ['Clear', '⌫'],
  thumbsUp: ['Thumbs up', 'U'],
  thumbsDown: ['Thumbs down', 'D'],
  confirm: ['Confirm', 'C'],
  flip: ['Flip', 'F'],
  exclude: ['Exclude', 'E'],
  adjudicateLeft: ['Resolve: left', 'A 1'],
  adjudicateRight: ['Resolve: right', 'A 2'],
  adjudicateTie: ['Resolve: tie', 'A T'],
};

const JUDGEMENT_TEXT: Record<VoteView['judgement'], string> = {
  left: 'left (A)', right: 'right (B)', tie: 'tie', skip: 'skip', both_bad: 'both bad', excluded: 'excluded', unknown: 'a field not in the record',
};

/** The votes table: annotator names and notes are data, set as text (never markup). */
function renderVotes(votes: VoteView[] | undefined): void {
  votesBox.hidden = !votes;
  if (!votes) { votesBox.replaceChildren(); return; }
  const table = el('table', { class: 'votes' });
  const head = el('tr');
  for (const h of ['Annotator', 'Picked', 'Strength', 'Note', 'Time']) head.append(el('th', { scope: 'col' }, h));
  table.append(head);
  for (const v of votes) {
    const tr = el('tr', { class: `vote judgement-${v.judgement}` });
    tr.dataset.annotator = v.annotator;
    tr.dataset.judgement = v.judgement;
    tr.append(
      el('td', {}, v.adjudicator ? `${v.annotator} (adjudicator)` : v.annotator),
      el('td', {}, JUDGEMENT_TEXT[v.judgement]),
      el('td', {}, v.strength ?? ''),
      el('td', {}, v.note ?? ''),
      el('td', {}, v.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z')),
    );
    table.append(tr);
  }
  votesBox.replaceChildren(el('h3', {}, `Votes (${votes.length}): resolve with A then 1 / 2 / T`), table);
}

const fmt = (x: number | undefined, digits = 3) => (x === undefined ? '–' : x.toFixed(digits));

/** The picked run's figures for the record; "label changed since run" when it did. */
export function renderDynamics(d: DynamicsView | undefined): void {
  dynamicsBox.hidden = !d;
  if (!d) {
    dynamicsBox.replaceChildren();
    return;
  }
  const parts: (string | Node)[] = [];
  const head = el('div', { class: 'dyn-head' });
  if (d.split === 'absent') {
    head.append(el('span', {}, `Not in run ${d.run}: added or edited since the run, or left out of its training data.`));
    dynamicsBox.className = 'absent';
    dynamicsBox.replaceChildren(head);
    return;
  }
  dynamicsBox.className = d.suspectRank ? 'suspect' : '';
  head.append(el('span', { class: 'dyn-run' }, `Run ${d.run}`));
  if (d.suspectRank) head.append(el('span', { class: 'dyn-suspect' }, `suspect #${d.suspectRank.toLocaleString()}: the model prefers the other response`));
  if (d.split === 'eval') head.append(el('span', {}, 'eval record'));
  if (d.labelChanged) head.append(el('span', { class: 'dyn-changed' }, 'label changed since run'));
  parts.push(head);
  if (!d.visits) {
    parts.push(el('p', { class: 'dyn-unseen' }, d.split === 'eval' ? 'No eval ran on it yet: no figures.' : 'Seen 0 times in training (the run stopped before reaching it): no figures, not ranked.'));
  } else {
    const dl = el('dl', { class: 'dyn-figures' });
    const add = (term: string, value: string, title: string) => {
      const dt = el('dt', { title }, term);
      dl.append(dt, el('dd', { title }, value));
    };
    add('margin (AUM)', fmt(d.aum), 'mean implicit reward margin of the trained label over its visits; < 0: the model prefers the other response');
    add('confidence', fmt(d.confidence), 'mean of sigmoid(margin) over visits');
    add('variability', fmt(d.variability), 'standard deviation of sigmoid(margin) over visits');
    add('correctness', fmt(d.correctness, 2), 'share of visits with margin > 0');
    add('last margin', fmt(d.lastMargin), 'margin at its latest visit');
    add(d.split === 'eval' ? 'evals' : 'visits', String(d.visits), d.split === 'eval' ? 'evals run' : 'times in a training batch');
    parts.push(dl);
  }
  if (d.trainedOn) parts.push(el('p', { class: 'dyn-trained' }, `Trained on: ${d.trainedOn}${d.runLine ? ` (line ${d.runLine} of the file it read)` : ''}.`));
  dynamicsBox.replaceChildren(...parts);
}

function turnsText(turns: Turn[]): string {
  return turns.map((t) => (turns.length > 1 ? `${t.role}: ${t.content}` : t.content)).join('\n\n');
}

function renderTurns(turns: Turn[], target: HTMLElement): void {
  target.replaceChildren();
  for (const t of turns) {
    const box = el('div', { class: `turn role-${/^[\w-]{1,20}$/.test(t.role) ? t.role : 'other'}` });
    box.append(el('div', { class: 'role' }, t.role));
    const body = el('div', { class: 'md' });
    renderMarkdown(t.content, body);
    box.append(body);
    target.append(box);
  }
}

function renderDiff(left: ResponseView, right: ResponseView, leftBodyBox: Element | null, rightBodyBox: Element | null): void {
  const a = turnsText(left.turns);
  const b = turnsText(right.turns);
  const parts = diffWords(a, b, { maxEditLength: 20_000 });
  const leftBody = el('pre', { class: 'diff' });
  const rightBody = el('pre', { class: 'diff' });
  if (!parts) {
    leftBody.textContent = a;
    rightBody.textContent = b;
  } else {
    for (const p of parts) {
      if (p.added) rightBody.append(el('ins', {}, p.value));
      else if (p.removed) leftBody.append(el('del', {}, p.value));
      else {
        leftBody.append(document.createTextNode(p.value));
        rightBody.append(document.createTextNode(p.value));
      }
    }
  }
  leftBodyBox?.replaceChildren(leftBody);
  rightBodyBox?.replaceChildren(rightBody);
}

/** A response's heading and body, built detached from the document. */
function buildResponse(response: ResponseView, key: string, preferred: boolean): HTMLElement[] {
  const h = el('h3');
  h.append(el('kbd', {}, key), document.createTextNode(` ${response.title}`));
  if (preferred) h.append(el('span', { class: 'pref-mark' }, ' ✓ preferred'));
  const body = el('div', { class: 'body' });
  renderTurns(response.turns, body);
  return [h, body];
}

/**
 * The DOM of a record's prompt and responses, built before it is shown: the host sends the record
 * a label would advance to ('prefetch'), the view builds it while idle, and when the host's
 * 'selected' names exactly that record (same JSON, same word-diff setting) it is swapped in
 * instead of rendered. The host's 'selected' stays the truth: anything else renders from scratch.
 */
interface Built {
  json: string;
  wordDiff: boolean;
  prompt: HTMLElement;
  left?: HTMLElement[];
  right?: HTMLElement[];
}

function preferredSides(d: RecordDetail): [boolean, boolean] {
  return [d.label?.preferred === 'left' || d.label?.thumb === true, d.label?.preferred === 'right'];
}

function buildRecord(d: RecordDetail, json: string): Built {
  const prompt = el('div');
  renderTurns(d.prompt, prompt);
  const keys = d.kind === 'unpaired' ? ['', ''] : ['1', '2'];
  const [lp, rp] = preferredSides(d);
  const left = d.left && buildResponse(d.left, keys[0]!, lp);
  const right = d.right && buildResponse(d.right, keys[1]!, rp);
  if (view.wordDiff && d.left && d.right && left && right) renderDiff(d.left, d.right, left[1]!, right[1]!);
  return { json, wordDiff: view.wordDiff, prompt, left, right };
}

function showResponse(box: HTMLElement, nodes: HTMLElement[] | undefined, preferred: boolean): void {
  box.hidden = !nodes;
  box.classList.toggle('preferred', preferred && !!nodes);
  box.replaceChildren(...(nodes ?? []));
}

class DetailView {
  private prebuilt: Built | undefined;
  private prebuildTimer: ReturnType<typeof setTimeout> | undefined;
  private prefetchSeq = 0;
  /** The record whose note the note field shows. */
  private noteFor = -1;
  /** The actions the buttons were built for. */
  private actionsKey = '';

  prefetch(d: RecordDetail): void {
    clearTimeout(this.prebuildTimer);
    const seq = ++this.prefetchSeq;
    if (d.kind === 'invalid' || d.kind === 'blank') return;
    // After the frame that shows the current record, when the view is idle: building it must not
    // delay that paint, nor the next key.
    this.prebuildTimer = setTimeout(() => requestIdleCallback(() => {
      if (seq !== this.prefetchSeq || view.selected?.index === d.index) return;
      this.prebuilt = buildRecord(d, JSON.stringify(d));
    }, { timeout: 100 }), 0);
  }

  render(): void {
    const d = view.selected;
    invalidBox.hidden = true;
    detail.dataset.render = 'rendered';
    if (!d) {
      const counts = view.counts;
      detailHeader.textContent = counts && counts.complete && counts.lines === 0 ? 'The file is empty.' : 'No record selected.';
      promptBox.replaceChildren();
      leftBox.hidden = rightBox.hidden = true;
      renderVotes(undefined);
      renderDynamics(undefined);
      actions.replaceChildren();
      this.actionsKey = '';
      noteRow.hidden = true;
      return;
    }
    const label = d.label;
    const bits = [`Line ${d.index + 1}`, d.kind, d.blind ? 'blind re-annotation: earlier votes hidden' : STATUS_LABELS[d.status] ?? d.status];
    if (label?.strength) bits.push(label.strength);
    if (label?.annotator) bits.push(`by ${label.annotator}`);
    if (label?.time) bits.push(label.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));
    detailHeader.textContent = bits.join(' · ');
    detailHeader.className = `status-${d.status}`;
    renderDynamics(d.dynamics);
    if (d.kind === 'invalid' || d.kind === 'blank') {
      invalidBox.hidden = false;
      invalidBox.replaceChildren(el('p', { class: 'reason' }, d.reason ?? 'Not a preference record.'), el('pre', { class: 'raw' }, d.raw ?? ''));
      promptBox.replaceChildren();
      leftBox.hidden = rightBox.hidden = true;
    } else {
      const json = JSON.stringify(d);
      const prebuilt = this.prebuilt;
      const built = prebuilt && prebuilt.json === json && prebuilt.wordDiff === view.wordDiff ? prebuilt : buildRecord(d, json);
      // Which path showed it (the UI test checks that the prefetched record is the one swapped in).
      detail.dataset.render = built === prebuilt ? 'prefetched' : 'rendered';
      if (built === prebuilt) this.prebuilt = undefined;
      promptBox.replaceChildren(...Array.from(built.prompt.childNodes));
      const [lp, rp] = preferredSides(d);
      showResponse(leftBox, built.left, lp);
      showResponse(rightBox, built.right, rp);
    }
    responses.classList.toggle('single', !d.right);
    renderVotes(d.kind === 'invalid' || d.kind === 'blank' ? undefined : d.votes);
    // The buttons (custom elements, each with a shadow root) are rebuilt only when the set of
    // actions changes, not for every record: they act on the record selected when clicked.
    const key = d.actions.join(',');
    if (key !== this.actionsKey) {
      this.actionsKey = key;
      actions.replaceChildren();
      for (const a of d.actions) {
        const b = document.createElement('vscode-button');
        b.setAttribute('secondary', '');
        const [label, keyName] = ACTION_LABELS[a];
        b.textContent = `${label} (${keyName})`;
        b.dataset.action = a;
        b.addEventListener('click', () => { if (view.selected) send({ type: 'label', index: view.selected.index, action: a }); });
        actions.append(b);
      }
    }
    noteRow.hidden = d.kind === 'invalid' || d.kind === 'blank';
    // A refresh of the same record (counts, another view's edit) must not wipe a note being typed.
    const typing = this.noteFor === d.index && note.shadowRoot?.activeElement?.tagName === 'INPUT';
    if (!typing) setFieldValue(note, label?.note ?? '');
    this.noteFor = d.index;
  }
}

export const detailView = new DetailView();

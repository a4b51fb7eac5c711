/**
 * Messages between the labeling editor's host (src/labeling) and its webview (webview/labeling).
 * The host owns the document, the selection and every label; the webview renders windows of
 * rows and one record's detail, and sends intents. Everything the webview sends is untrusted:
 * `parseViewMessage` validates it before the host looks at it.
 */

/** List filters (the toolbar's radio group). */
export const FILTERS = ['all', 'unlabeled', 'labeled', 'tieSkip', 'disputed', 'blind', 'invalid', 'suspect', 'picked'] as const;
export type Filter = (typeof FILTERS)[number];

/** Label intents. Which ones apply depends on the record's kind (see `actionsFor`). */
export const LABEL_ACTIONS = [
  'chooseLeft', 'chooseRight', 'chooseLeftSlightly', 'chooseRightSlightly',
  'tie', 'skip', 'bothBad', 'clear',
  'thumbsUp', 'thumbsDown',
  'confirm', 'flip', 'exclude',
  'adjudicateLeft', 'adjudicateRight', 'adjudicateTie',
] as const;
export type LabelAction = (typeof LABEL_ACTIONS)[number];

export const NAV_ACTIONS = ['next', 'previous', 'nextUnlabeled', 'first', 'last', 'pageDown', 'pageUp'] as const;
export type NavAction = (typeof NAV_ACTIONS)[number];

/**
 * What a line is, for the list and the counts.
 *  unlabeled:  candidates awaiting a pairwise label, or a completion awaiting thumbs up / down.
 *  unreviewed: carries a preference from the data (chosen/rejected, label) no annotator confirmed.
 *  labeled:    an annotator gave a preference (the `rpo_label` field, no tie/skip status).
 *  tie, skip, bothBad, excluded: labeled with that status.
 *  disputed:  the annotators' votes (`rpo_votes`) do not resolve; does not train.
 *  invalid:   not a record (bad JSON, wrong field types, invalid UTF-8, not preference data...).
 *  blank:     an empty line (kept as is; not a record; not counted).
 */
export const ROW_STATUSES = ['unlabeled', 'unreviewed', 'labeled', 'tie', 'skip', 'bothBad', 'excluded', 'disputed', 'invalid', 'blank'] as const;
export type RowStatus = (typeof ROW_STATUSES)[number];

/** The record's shape, which decides the available actions. */
export type RecordKind = 'candidates' | 'paired' | 'unpaired' | 'invalid' | 'blank';

export interface Counts {
  /** Lines in the file (records + invalid + blank). */
  lines: number;
  /** Lines classified so far (== lines when `complete`). */
  scanned: number;
  complete: boolean;
  records: number;
  labeled: number;
  /** Awaiting a decision: unlabeled + unreviewed (the "Unlabeled" filter, "next unlabeled"). */
  unlabeled: number;
  /** tie + skip + bothBad + excluded */
  tieSkip: number;
  /** Records whose annotators' votes do not resolve (the "Disputed" filter; they do not train). */
  disputed: number;
  /** Records marked for blind re-annotation (the "Blind" filter, which shows them without votes or chosen/rejected). */
  blind: number;
  invalid: number;
  /** Labeled records per annotator (records labeled before provenance existed: ""). */
  byAnnotator: Record<string, number>;
  /** While a huge file is still being read (the counts are of its first lines only): bytes read / total. */
  reading?: { read: number; total: number };
  /** The run whose view of the records the editor shows (its "Suspect" filter), when one is picked. */
  run?: RunCounts;
  /** Records another view asked the editor to show (`rpo.label.showRecords`: the "Picked" filter). */
  picked?: number;
}

/**
 * The picked run's view of this file (docs/contracts.md §8): its training dynamics matched to
 * the file's records by pair key, never by line number.
 */
export interface RunCounts {
  /** The run folder's name. */
  name: string;
  runDir: string;
  /** False while the file's records are still being matched (keys computed). */
  complete: boolean;
  /** Rows in the run's dynamics file (training and eval). */
  rows: number;
  /** Rows matched to a record of the file (by content). */
  matched: number;
  /** Matched suspects (training rows seen at least once with a negative mean margin): the "Suspect" filter. */
  suspects: number;
  /** Suspects the file no longer holds (removed or edited since the run). */
  suspectsMissing: number;
  /** Matched records whose label differs from the one the run trained on (flipped + unlabeled). */
  changed: number;
  /** Of those: the other response (or thumb) now. */
  flipped: number;
  /** Of those: no longer training (unlabeled, tie, skip, both bad, excluded, disputed...). */
  unlabeled: number;
  /** Problems the user should know of (another file, a file changed since the run, an unfinished run): plain text. */
  notes: string[];
}

export interface RowSummary {
  /** 0-based line index in the file: the record's identity. */
  index: number;
  status: RowStatus;
  kind: RecordKind;
  /** Plain text, at most ~160 characters: the last user turn of the prompt, or the reason. */
  preview: string;
  /** With a picked run: the record's label differs from the one the run trained on. */
  changed?: true;
}

/** The picked run's figures for one record (docs/contracts.md §8). */
export interface DynamicsView {
  run: string;
  /** 'training' or 'eval' row of the run; 'absent': the run has no row with this record's content. */
  split: 'training' | 'eval' | 'absent';
  /** Training rows: times in a batch; eval rows: evals run. 0: never seen (statistics absent). */
  visits?: number;
  /** Mean margin over visits (AUM); negative: the model prefers the other response. */
  aum?: number;
  confidence?: number;
  variability?: number;
  correctness?: number;
  lastMargin?: number;
  /** 1-based rank in the run's suspect list (training rows with aum < 0), when it is one. */
  suspectRank?: number;
  /** 1-based line the run read the record from (a hint; the match is by content). */
  runLine?: number;
  /** The label the run trained on, in the terms the view shows now. */
  trainedOn?: string;
  /** The record's label now differs from the one the run trained on. */
  labelChanged?: boolean;
}

export interface Turn {
  role: string;
  content: string;
}

export interface ResponseView {
  /** "A" / "B" for candidates; "Chosen" / "Rejected" once labeled; "Completion" for unpaired. */
  title: string;
  turns: Turn[];
}

export type Strength = 'slightly' | 'clearly';

export interface LabelView {
  status: RowStatus;
  /** Which side the user preferred ('left' | 'right'), when the record carries a choice. */
  preferred?: 'left' | 'right';
  /** Unpaired: true = thumbs up. */
  thumb?: boolean;
  strength?: Strength;
  annotator?: string;
  time?: string;
  note?: string;
}

/** One annotator's vote on the record (`rpo_votes`), in terms of what the view shows now. */
export interface VoteView {
  /** Plain text: rendered as text, never markup. */
  annotator: string;
  /** The side the vote picked as displayed now, or its status; `unknown`: its choice names no field of the record now. */
  judgement: 'left' | 'right' | 'tie' | 'skip' | 'both_bad' | 'excluded' | 'unknown';
  strength?: Strength;
  note?: string;
  time: string;
  adjudicator: boolean;
}

export interface RecordDetail {
  index: number;
  kind: RecordKind;
  status: RowStatus;
  /** The prompt as turns (a string prompt is one `user` turn). */
  prompt: Turn[];
  /** Paired and candidates: the two responses in display order. Unpaired: left only. */
  left?: ResponseView;
  right?: ResponseView;
  label?: LabelView;
  /** Invalid lines: the reason and the start of the raw text (shown as text). */
  reason?: string;
  raw?: string;
  /** Which label actions apply to this record (buttons and the help overlay). */
  actions: LabelAction[];
  /** Every vote when the record has two or more (adjudication); absent otherwise. */
  votes?: VoteView[];
  /** Shown for blind re-annotation (the "Blind" filter): no label, votes or chosen/rejected. */
  blind?: boolean;
  /** With a picked run (not in the Blind filter): what the run learned about this record. */
  dynamics?: DynamicsView;
}

export interface ViewSettings {
  wordDiff: boolean;
  annotator: string;
}

// ---------------------------------------------------------------- host -> webview

export type HostMessage =
  /** The view's start; `filter` and `query` are the host's (a view reloaded after being hidden takes them up again). */
  | { type: 'init'; fileName: string; counts: Counts; settings: ViewSettings; selected: number; filter: Filter; query: string; readonly: boolean }
  | { type: 'counts'; counts: Counts }
  /** A window of the filtered list, answering `rows` (same requestId). */
  | { type: 'rows'; requestId: number; filter: Filter; query: string; start: number; matching: number; complete: boolean; rows: RowSummary[] }
  /** The selected record and its position in the current filter (-1 when filtered out). */
  | { type: 'selected'; detail: RecordDetail | null; position: number }
  /**
   * The record a label of the selected one would advance to ("next unlabeled"), sent after
   * 'selected' so the view can build it ahead. A hint only: the view shows it when a later
   * 'selected' carries exactly this detail, and renders what 'selected' says otherwise.
   */
  | { type: 'prefetch'; detail: RecordDetail }
  /** Rows or filter membership changed (an edit, undo, reload, scan progress): refetch the visible window. */
  | { type: 'invalidate' }
  /** The file holds no preference records: explain, offer to reopen as text. */
  | { type: 'notPreference'; reason: string }
  | { type: 'focusNote' }
  | { type: 'focusSearch' }
  | { type: 'toggleHelp' }
  | { type: 'toggleDiff' }
  | { type: 'error'; message: string };

/**
 * The first screen, embedded in the webview's HTML (a JSON data block with this id, not a script)
 * so the view paints it as its script runs, with no ready -> init -> rows round trip. `id` is
 * new per HTML: a view reloaded with the same HTML (shown again after being hidden) has already
 * used it and starts empty instead. The view says in 'ready' whether it painted it; the host then
 * sends only what changed since it was built (else 'init' and 'selected', as for a view without it).
 */
export interface InitialState {
  id: string;
  init: Extract<HostMessage, { type: 'init' }>;
  selected: Extract<HostMessage, { type: 'selected' }>;
  /** A window of the list around the selection, for the filter and search of the view's start. */
  rows: Omit<Extract<HostMessage, { type: 'rows' }>, 'type' | 'requestId'>;
}
export const INITIAL_STATE_ELEMENT_ID = 'rpo-initial-state';
/** Rows in the initial state: more than a tall window shows. */
export const INITIAL_ROWS = 80;

// ---------------------------------------------------------------- webview -> host

export type ViewMessage =
  /** The view's script ran; `embedded`: the id of the initial state it painted (absent: none). */
  | { type: 'ready'; embedded?: string }
  | { type: 'rows'; requestId: number; filter: Filter; query: string; start: number; count: number }
  | { type: 'select'; index: number }
  | { type: 'setFilter'; filter: Filter; query: string }
  | { type: 'label'; index: number; action: LabelAction }
  | { type: 'navigate'; action: NavAction }
  | { type: 'note'; index: number; note: string }
  | { type: 'reopenAsText' }
  /** The webview gained or lost keyboard focus (drives the keybindings' `rpo.labeling.focused`). */
  | { type: 'focus'; focused: boolean }
  /** The view painted its first rows (once per page load): a big file's scan waits for it. */
  | { type: 'firstRows' }
  /** "Pick run…": the host asks which run's view of the records to show. */
  | { type: 'pickRun' };

const MAX_WINDOW = 500;
const MAX_QUERY = 1000;
const MAX_NOTE = 10_000;

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function oneOf<T extends string>(values: readonly T[], v: unknown): v is T {
  return typeof v === 'string' && (values as readonly string[]).includes(v);
}

/**
 * Validates a message from the webview. Returns the typed message, or a string saying what is
 * wrong (the host logs it and ignores the message).
 */
export function parseViewMessage(data: unknown): ViewMessage | string {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'not an object';
  const m = data as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      if (m.embedded === undefined) return { type: 'ready' };
      if (typeof m.embedded !== 'string' || m.embedded.length > 100) return 'ready: bad embedded';
      return { type: 'ready', embedded: m.embedded };
    case 'reopenAsText':
    case 'firstRows':
    case 'pickRun':
      return { type: m.type };
    case 'rows':
      if (!isIndex(m.requestId)) return 'rows: bad requestId';
      if (!oneOf(FILTERS, m.filter)) return 'rows: bad filter';
      if (typeof m.query !== 'string' || m.query.length > MAX_QUERY) return 'rows: bad query';
      if (!isIndex(m.start)) return 'rows: bad start';
      if (!isIndex(m.count) || m.count > MAX_WINDOW) return 'rows: bad count';
      return { type: 'rows', requestId: m.requestId, filter: m.filter, query: m.query, start: m.start, count: m.count };
    case 'select':
      if (!isIndex(m.index)) return 'select: bad index';
      return { type: 'select', index: m.index };
    case 'setFilter':
      if (!oneOf(FILTERS, m.filter)) return 'setFilter: bad filter';
      if (typeof m.query !== 'string' || m.query.length > MAX_QUERY) return 'setFilter: bad query';
      return { type: 'setFilter', filter: m.filter, query: m.query };
    case 'label':
      if (!isIndex(m.index)) return 'label: bad index';
      if (!oneOf(LABEL_ACTIONS, m.action)) return 'label: bad action';
      return { type: 'label', index: m.index, action: m.action };
    case 'navigate':
      if (!oneOf(NAV_ACTIONS, m.action)) return 'navigate: bad action';
      return { type: 'navigate', action: m.action };
    case 'note':
      if (!isIndex(m.index)) return 'note: bad index';
      if (typeof m.note !== 'string' || m.note.length > MAX_NOTE) return 'note: bad note';
      return { type: 'note', index: m.index, note: m.note };
    case 'focus':
      if (typeof m.focused !== 'boolean') return 'focus: bad focused';
      return { type: 'focus', focused: m.focused };
    default:
      return `unknown message type ${JSON.stringify(String(m.type)).slice(0, 40)}`;
  }
}

// ---------------------------------------------------------------- other views -> the editor

/**
 * Arguments of the command `rpo.label.showRecords` (the run dashboard's data map calls it when
 * points are clicked or boxed): `{ runDir, rows?, keys?, file? }`.
 * - runDir: the run folder (absolute path) whose `dynamics.safetensors` the rows come from;
 * - rows: 0-based row indices of that file (training or eval rows), in the order to list them;
 * - keys: or pair keys, 64 hex characters each (docs/contracts.md §8);
 * - file: the dataset to open (a path or a URI string); default: the file the run trained on.
 * The editor opens the file, shows the run's view of it, and lists the records found by key in
 * the "Picked" filter with the first selected. Resolves to what it did; records not found
 * (removed or edited since the run) are counted in `missing`, never matched by line.
 */
export interface ShowRecordsArgs {
  runDir: string;
  rows?: number[];
  keys?: string[];
  file?: string;
}

export interface ShowRecordsResult {
  shown: number;
  missing: number;
  message?: string;
}

/** Validates `rpo.label.showRecords` arguments (a command argument is untrusted); a string says what is wrong. */
export function parseShowRecordsArgs(arg: unknown): ShowRecordsArgs | string {
  if (typeof arg !== 'object' || arg === null || Array.isArray(arg)) return 'expected { runDir, rows?, keys?, file? }';
  const a = arg as Record<string, unknown>;
  if (typeof a.runDir !== 'string' || !a.runDir) return 'runDir: a run folder path is required';
  if (a.rows !== undefined && !(Array.isArray(a.rows) && a.rows.every((r) => Number.isSafeInteger(r) && (r as number) >= 0))) return 'rows: a list of row indices (integers >= 0)';
  if (a.keys !== undefined && !(Array.isArray(a.keys) && a.keys.every((k) => typeof k === 'string' && /^[0-9a-f]{64}$/i.test(k)))) return 'keys: a list of pair keys (64 hex characters)';
  if (a.file !== undefined && typeof a.file !== 'string') return 'file: a path or URI string';
  return { runDir: a.runDir, ...(a.rows ? { rows: a.rows as number[] } : {}), ...(a.keys ? { keys: a.keys as string[] } : {}), ...(a.file ? { file: a.file as string } : {}) };
}

/** Keyboard help: one row per key, shared by the help overlay and the README. */
export const KEY_HELP: ReadonlyArray<{ keys: string; what: string }> = [
  { keys: '1 / 2', what: 'left / right response is clearly better' },
  { keys: 'Shift+1 / Shift+2', what: 'left / right response is slightly better' },
  { keys: 'T', what: 'tie' },
  { keys: 'S', what: 'skip' },
  { keys: 'X', what: 'both bad' },
  { keys: 'Backspace', what: 'clear the label' },
  { keys: 'U / D', what: 'thumbs up / down (unpaired records)' },
  { keys: 'C / F / E', what: 'confirm / flip / exclude (existing chosen/rejected)' },
  { keys: 'A then 1 / 2 / T', what: 'adjudicate: resolve a record several people voted on (left / right / tie)' },
  { keys: 'J or ↓ / K or ↑', what: 'next / previous record' },
  { keys: 'N', what: 'next unlabeled record' },
  { keys: 'M', what: 'write a note (Enter saves, Escape leaves)' },
  { keys: 'W', what: 'word diff on / off' },
  { keys: '/', what: 'search' },
  { keys: '?', what: 'this help' },
];

/**
 * Messages between the agreement panel's host (src/agreement) and its webview (webview/agreement).
 * The host computes the agreement of one preference file (src/node/agreementFile.ts, in worker
 * threads) and sends the report as it is (the shapes below are src/core/agreement's
 * AgreementReport, restated here: the protocol imports nothing). Annotator names are data: the
 * view writes them as text, never as markup. Everything the webview sends is untrusted:
 * `parseViewMessage` validates it.
 */

export interface Estimate {
  value: number | null;
  /** Bootstrap 95% percentile interval, or null when no resample gave a value. */
  ci: [number, number] | null;
}

export interface AnnotatorRow {
  annotator: string;
  votes: number;
  agreeWithResolved: number;
  resolvedCompared: number;
  picks: number;
  leftPicks: number;
  leftShare: number | null;
  leftPValue: number | null;
  ties: number;
  skips: number;
  medianSeconds: number | null;
}

export interface AgreementReportPayload {
  items: number;
  annotators: number;
  recordsWithVotes: number;
  percentAgreement: Estimate;
  cohen: { a: string; b: string; items: number; kappa: Estimate }[];
  fleiss: { raters: number; items: number; kappa: Estimate };
  alphaNominal: Estimate;
  alphaOrdinal: Estimate;
  bootstrap: { resamples: number; seed: number };
  perAnnotator: AnnotatorRow[];
}

/** The first invalid line of the file (1-based line), as the preference editor and the CLI name it. */
export interface InvalidLineInfo {
  line: number;
  field: string | null;
  reason: string;
}

export interface AgreementResult {
  report: AgreementReportPayload;
  lines: number;
  invalidLines: number;
  firstInvalid: InvalidLineInfo | null;
  /** Seconds the computation took, and when it finished (ISO time). */
  seconds: number;
  computedAt: string;
}

export type AgreementState =
  | { status: 'computing'; fileName: string; message: string; previous: AgreementResult | null }
  | { status: 'ready'; fileName: string; result: AgreementResult }
  | { status: 'error'; fileName: string; message: string; previous: AgreementResult | null };

export type HostMessage = { type: 'state'; state: AgreementState };

export type ViewMessage = { type: 'ready' } | { type: 'refresh' };

export function parseViewMessage(data: unknown): ViewMessage | string {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'not an object';
  const m = data as Record<string, unknown>;
  if (Object.keys(m).some((k) => k !== 'type')) return `${String(m.type)}: unexpected fields`;
  switch (m.type) {
    case 'ready':
    case 'refresh':
      return { type: m.type };
    default:
      return `unknown message type ${JSON.stringify(m.type)?.slice(0, 40)}`;
  }
}

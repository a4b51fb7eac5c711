/**
 * The win-rate panel of a run's dashboard (docs/evaluate.md): for each candidates file of the run
 * (`<run>/samples/*.pref.jsonl` whose sidecar names the run), the run's win rate against the
 * other model, from the run's side (a run that is model B has 1 - the file's win rate of A).
 */
export interface WinrateEntry {
  /** The candidates file (absolute path) and its name. */
  file: string;
  name: string;
  /** The other model, as the sidecar names it (e.g. "reference model /models/tiny"). */
  opponent: string;
  records: number;
  judged: number;
  /** Of the judged: this run's wins, its losses, ties (both_bad included). */
  wins: number;
  losses: number;
  ties: number;
  /** Not labeled yet. */
  pending: number;
  winRate: number | null;
  wilson: [number, number] | null;
  bootstrap: [number, number] | null;
  lengthControlled: number | null;
  lengthControlledCi: [number, number] | null;
  leftShare: number | null;
  /** Why the win rate is not computed (the sidecar does not match, ...): the refusal's first line. */
  error: string | null;
}

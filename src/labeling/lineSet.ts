/**
 * The lines 0..n-1 that satisfy a predicate (a filter over the per-line codes, a search), as an
 * ordered list the virtual list reads by position, without materialising it: per-block counts
 * of matching lines plus a Fenwick tree over them.
 *
 * - `length`, `at(p)` (the p-th matching line), `positionOf(line)`, `lowerBound(line)`:
 *   O(log(n / B) + B) each;
 * - `update(line, wasIn, isIn)` after one line's code changed (a label, undo, redo):
 *   O(log(n / B)), so a label costs O(changed lines), never O(records);
 * - `recount(from, to)` after a range of codes arrived (a scan batch): O(to - from + n / B).
 *
 * The predicate reads the caller's current arrays: the set is a view of them, kept exact by
 * calling `update` / `recount` whenever a line's membership may have changed.
 */
export class LineSet {
  /** Lines per block: the cost of a lookup inside a block. */
  static readonly BLOCK = 256;
  private readonly counts: Int32Array;
  /** Fenwick tree (1-based) over `counts`. */
  private readonly tree: Int32Array;
  private readonly topBit: number;
  private total = 0;

  constructor(readonly n: number, readonly has: (line: number) => boolean) {
    const blocks = Math.ceil(n / LineSet.BLOCK);
    this.counts = new Int32Array(blocks);
    this.tree = new Int32Array(blocks + 1);
    let top = 1;
    while (top * 2 <= blocks) top *= 2;
    this.topBit = blocks ? top : 0;
  }

  /** A set over every line already matching (counts all blocks once). */
  static build(n: number, has: (line: number) => boolean): LineSet {
    const s = new LineSet(n, has);
    s.recount(0, n);
    return s;
  }

  get length(): number {
    return this.total;
  }

  /** Recounts the blocks overlapping [from, to) and rebuilds the tree. */
  recount(from: number, to: number): void {
    const B = LineSet.BLOCK;
    const has = this.has;
    for (let b = Math.floor(from / B); b * B < Math.min(to, this.n); b++) {
      let c = 0;
      const end = Math.min((b + 1) * B, this.n);
      for (let i = b * B; i < end; i++) if (has(i)) c++;
      this.counts[b] = c;
    }
    this.rebuildTree();
  }

  private rebuildTree(): void {
    const t = this.tree;
    t.fill(0);
    let total = 0;
    for (let b = 0; b < this.counts.length; b++) {
      const i = b + 1;
      t[i]! += this.counts[b]!;
      total += this.counts[b]!;
      const parent = i + (i & -i);
      if (parent < t.length) t[parent]! += t[i]!;
    }
    this.total = total;
  }

  /** One line's membership changed from `wasIn` to `isIn`. */
  update(line: number, wasIn: boolean, isIn: boolean): void {
    if (wasIn === isIn) return;
    const d = isIn ? 1 : -1;
    const b = Math.floor(line / LineSet.BLOCK);
    this.counts[b]! += d;
    this.total += d;
    for (let i = b + 1; i < this.tree.length; i += i & -i) this.tree[i]! += d;
  }

  /** Matching lines in blocks before block b. */
  private before(b: number): number {
    let s = 0;
    for (let i = b; i > 0; i -= i & -i) s += this.tree[i]!;
    return s;
  }

  /** Number of matching lines < line (= the position `line` has or would have). */
  lowerBound(line: number): number {
    if (line <= 0) return 0;
    if (line >= this.n) return this.total;
    const B = LineSet.BLOCK;
    const b = Math.floor(line / B);
    let r = this.before(b);
    for (let i = b * B; i < line; i++) if (this.has(i)) r++;
    return r;
  }

  /** Position of `line` in the list, -1 when it does not match. */
  positionOf(line: number): number {
    if (line < 0 || line >= this.n || !this.has(line)) return -1;
    return this.lowerBound(line);
  }

  /** The p-th matching line (0-based); p must be in [0, length). */
  at(p: number): number {
    if (!(p >= 0 && p < this.total)) throw new RangeError(`position ${p} is outside the list (length ${this.total})`);
    // Fenwick descent: the last block whose prefix count is <= p.
    let idx = 0;
    let rest = p;
    for (let step = this.topBit; step > 0; step >>= 1) {
      const next = idx + step;
      if (next < this.tree.length && this.tree[next]! <= rest) {
        idx = next;
        rest -= this.tree[next]!;
      }
    }
    // idx blocks precede; the line is the rest-th match in block idx.
    const B = LineSet.BLOCK;
    const end = Math.min((idx + 1) * B, this.n);
    for (let i = idx * B; i < end; i++) {
      if (this.has(i)) {
        if (rest === 0) return i;
        rest--;
      }
    }
    throw new Error(`LineSet out of sync with its predicate at block ${idx}`);
  }

  /** Up to `count` matching lines from position p on, in order (skips empty blocks). */
  slice(p: number, count: number): number[] {
    const out: number[] = [];
    if (p < 0 || p >= this.total || count <= 0) return out;
    const first = this.at(p);
    const B = LineSet.BLOCK;
    let i = first;
    while (out.length < count && i < this.n) {
      const b = Math.floor(i / B);
      if (this.counts[b] === 0) {
        i = (b + 1) * B;
        continue;
      }
      const end = Math.min((b + 1) * B, this.n);
      for (; i < end && out.length < count; i++) if (this.has(i)) out.push(i);
    }
    return out;
  }

  /** Every matching line (tests and small lists only). */
  toArray(): Uint32Array {
    return Uint32Array.from(this.slice(0, this.total));
  }
}

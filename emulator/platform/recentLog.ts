// A list that keeps only its most recent entries: the TDX call timeline and the platform notes.
// A guest that loops TDCALL millions of times must not grow memory without bound, so the log
// holds the last `limit` entries in full (a ring), counts every entry ever added by a short key
// (the call's title) so the dropped ones stay summarised, and remembers the distinct addresses
// calls were made from (reverse searches step every call site; these are bounded by the guest's
// code, and capped at MAX_SITES). Indexes are absolute: entry k is the (k+1)-th ever added.

/** Entries kept in full by default (the `callHistory` launch attribute changes it). */
export const DEFAULT_RECENT = 10_000;
/** Distinct call-site addresses remembered (beyond it a new site is not added). */
export const MAX_SITES = 65_536;
/** Distinct keys counted (beyond it the rest count under OTHER_KEY). */
const MAX_KEYS = 256;
const OTHER_KEY = 'other';

/** The counts a log holds at one moment (for restoring a checkpoint's prefix). */
export interface RecentLogSnapshot {
  readonly length: number;
  readonly counts: ReadonlyMap<string, number>;
}

export class RecentLog<T> implements Iterable<T> {
  private ring: (T | undefined)[] = [];
  private total = 0;
  private start = 0;
  private counts = new Map<string, number>();
  private readonly siteSet = new Set<bigint>();

  constructor(readonly limit: number, private readonly keyOf: (x: T) => string, private readonly siteOf?: (x: T) => bigint) {
    if (!(limit >= 1)) throw new RangeError(`a recent log keeps at least one entry (got ${limit})`);
  }

  /** Entries ever added (the next entry's index). */
  get length(): number {
    return this.total;
  }

  /** Index of the oldest entry kept; the ones before it were dropped. */
  get first(): number {
    return this.start;
  }

  /** Entries no longer kept in full (the oldest ones). */
  get dropped(): number {
    return this.start;
  }

  /** Entries kept in full. */
  get kept(): number {
    return this.total - this.start;
  }

  push(x: T): void {
    if (this.total - this.start === this.limit) this.start++;
    this.ring[this.total % this.limit] = x;
    this.total++;
    this.count(this.keyOf(x), 1);
    if (this.siteOf && this.siteSet.size < MAX_SITES) this.siteSet.add(this.siteOf(x));
  }

  /** Entry `i` (absolute), or undefined when it was dropped or does not exist. */
  at(i: number): T | undefined {
    return i >= this.start && i < this.total ? this.ring[i % this.limit] : undefined;
  }

  last(): T | undefined {
    return this.at(this.total - 1);
  }

  /** Replaces kept entry `i` (the same event, another object: replays adopt the originals). */
  replace(i: number, x: T): void {
    if (i >= this.start && i < this.total) this.ring[i % this.limit] = x;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.start; i < this.total; i++) yield this.ring[i % this.limit] as T;
  }

  /** The kept entries, oldest first. */
  toArray(): T[] {
    return [...this];
  }

  map<U>(f: (x: T) => U): U[] {
    const out: U[] = [];
    for (const x of this) out.push(f(x));
    return out;
  }

  filter(f: (x: T) => boolean): T[] {
    const out: T[] = [];
    for (const x of this) if (f(x)) out.push(x);
    return out;
  }

  some(f: (x: T) => boolean): boolean {
    for (const x of this) if (f(x)) return true;
    return false;
  }

  /** Distinct call-site addresses of every entry ever added (a superset after a truncation). */
  sites(): ReadonlySet<bigint> {
    return this.siteSet;
  }

  /** How many entries of each key were dropped (key, count), most frequent first. */
  droppedCounts(): { key: string; count: number }[] {
    const left = new Map(this.counts);
    for (const x of this) {
      const k = this.bounded(left, this.keyOf(x));
      left.set(k, (left.get(k) ?? 0) - 1);
    }
    return [...left].filter(([, n]) => n > 0).map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
  }

  snapshot(): RecentLogSnapshot {
    return { length: this.total, counts: new Map(this.counts) };
  }

  /**
   * Keeps the first `n` entries (a restore to an earlier position). `snap` gives the counts at
   * `n` (a checkpoint's); without it the removed kept entries are subtracted.
   */
  truncate(n: number, snap?: RecentLogSnapshot): void {
    if (n >= this.total && !snap) return;
    for (let i = Math.max(n, this.start); i < this.total; i++) {
      if (!snap) this.count(this.keyOf(this.ring[i % this.limit] as T), -1);
      this.ring[i % this.limit] = undefined;
    }
    this.total = Math.min(this.total, n);
    this.start = Math.min(this.start, this.total);
    if (snap) this.counts = new Map(snap.counts);
  }

  /** Drops everything. */
  clear(): void {
    this.ring = [];
    this.total = this.start = 0;
    this.counts = new Map();
    this.siteSet.clear();
  }

  /** Becomes the first `n` entries of `src` (its kept ones among them); keeps its own counts. */
  copyFrom(src: RecentLog<T>, n: number): void {
    const counts = this.counts;
    this.ring = [];
    this.total = this.start = Math.min(n, Math.max(src.first, n - this.limit, 0));
    for (let i = this.total; i < n && i < src.length; i++) this.pushRaw(src.at(i) as T);
    if (this.total < n) this.total = this.start = n; // `src` does not hold them: none kept
    this.counts = counts;
    for (const a of src.siteSet) if (this.siteSet.size < MAX_SITES) this.siteSet.add(a);
  }

  /** Appends the entries `src` has beyond this log's end (the same history, further on). */
  extendFrom(src: RecentLog<T>): void {
    if (this.total < src.first) {
      this.counts = new Map(src.counts);
      this.copyFrom(src, src.length);
      return;
    }
    for (let i = this.total; i < src.length; i++) this.push(src.at(i) as T);
  }

  /** A copy (a branch forked from this history). */
  clone(): RecentLog<T> {
    const c = new RecentLog<T>(this.limit, this.keyOf, this.siteOf);
    c.counts = new Map(this.counts);
    c.copyFrom(this, this.total);
    return c;
  }

  private pushRaw(x: T): void {
    if (this.total - this.start === this.limit) this.start++;
    this.ring[this.total % this.limit] = x;
    this.total++;
  }

  private bounded(m: Map<string, number>, key: string): string {
    return m.has(key) || m.size < MAX_KEYS ? key : OTHER_KEY;
  }

  private count(key: string, d: number): void {
    const k = this.bounded(this.counts, key);
    this.counts.set(k, (this.counts.get(k) ?? 0) + d);
  }
}

// Seeded deterministic random numbers for the instruction-case generator, with pickers biased
// toward the values where x86 semantics have edges (0, 1, -1, sign boundaries, maxima).
// The same (form name, input index, seed) always yields the same case.

const MASKS: Record<number, bigint> = { 8: 0xffn, 16: 0xffffn, 32: 0xffffffffn, 64: 0xffffffffffffffffn };

export function mask(width: number): bigint {
  return MASKS[width] ?? (1n << BigInt(width)) - 1n;
}

/** FNV-1a over a string, for seeding per form. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for test inputs. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  u32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 0x100000000) * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }

  /** Uniform random value of `width` bits. */
  bits(width: number): bigint {
    let v = this.u64();
    for (let w = 64; w < width; w += 64) v = (v << 64n) | this.u64();
    return v & mask(width);
  }

  /** A value of `width` bits, biased toward edges, small numbers and short bit lengths. */
  edge(width: number): bigint {
    const m = mask(width);
    const r = this.u32() % 100;
    if (r < 35) return this.pick(edgeValues(width));
    if (r < 50) return BigInt(this.int(17)) & m;
    if (r < 60) return (m - BigInt(this.int(17))) & m;
    if (r < 75) return this.bits(1 + this.int(width));
    return this.bits(width);
  }

  /** A signed edge-biased value of `width` bits, returned as a JS number (width ≤ 32). */
  signed(width: number): number {
    const v = this.edge(width);
    const sign = 1n << BigInt(width - 1);
    return Number(v & sign ? v - (sign << 1n) : v);
  }
}

const edgeCache = new Map<number, bigint[]>();

/** 0, 1, 2, all ones, the sign boundaries of every narrower width, and a few neighbours. */
export function edgeValues(width: number): bigint[] {
  let list = edgeCache.get(width);
  if (list) return list;
  const m = mask(width);
  const set = new Set<bigint>([0n, 1n, 2n, 3n, m, m - 1n]);
  for (const w of [8, 16, 32, 64]) {
    if (w > width) break;
    const sign = 1n << BigInt(w - 1);
    for (const v of [sign, sign - 1n, sign + 1n, sign - 2n, mask(w), mask(w) - 1n, mask(w) + 1n]) set.add(v & m);
  }
  list = [...set];
  edgeCache.set(width, list);
  return list;
}

export function signExtend(value: bigint, width: number): bigint {
  const sign = 1n << BigInt(width - 1);
  const v = value & mask(width);
  return v & sign ? v - (sign << 1n) : v;
}

export function hex(v: bigint | number): string {
  const n = typeof v === 'bigint' ? v : BigInt(v);
  return n < 0n ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

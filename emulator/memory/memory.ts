// Sparse paged memory (4 KiB pages) with read/write/execute permissions, software TLBs for
// the fast path, a per-instruction access log (data breakpoints, the UI, tests) and watch
// ranges. Addresses are signed canonical doubles; faults are thrown as CpuFault.

import { CpuFault, Vector } from '../cpu/fault';
import { WIDE } from '../cpu/cpu';

export const enum Perm { R = 1, W = 2, X = 4 }

export const PAGE_SIZE = 4096;

/** A mapped page; `code` caches decoded instructions by page offset once something executes here. */
export class Page {
  readonly data: Uint8Array<ArrayBuffer>;
  readonly dv: DataView;
  /** Aligned 32-bit view (the host is little-endian, checked at load): the fastest path for aligned accesses. */
  readonly i32: Int32Array;
  code: unknown[] | null = null;
  /** While `code` is set: 1 for each byte some decoded instruction covers (writes elsewhere keep the code). */
  codeMap: Uint8Array | null = null;
  /** True while a watch range overlaps the page: its accesses take the slow path. */
  watched = false;
  /** Possibly written since Memory.cleanPages() (a new page counts as written): what a checkpoint must compare. */
  dirty = true;
  /** `data`: the page's bytes, PAGE_SIZE of them (a new zeroed buffer by default). */
  constructor(public perms: number, public region: string, data = new Uint8Array(PAGE_SIZE)) {
    this.data = data;
    this.dv = new DataView(data.buffer, data.byteOffset, PAGE_SIZE);
    this.i32 = new Int32Array(data.buffer, data.byteOffset, PAGE_SIZE / 4);
  }
}

/**
 * Pages a map() creates share buffers of up to this many pages: one allocation for a whole
 * region instead of one per page (a C program's .bss maps thousands; each buffer is memory
 * outside the JS heap that the engine's collector tracks, and thousands of them made it collect
 * during the runs that followed). A buffer lives while any of its pages does.
 */
const PAGES_PER_BUFFER = 256;

/** A data watch (data breakpoint): accesses overlapping [start, end) of the given kinds. */
export interface Watch {
  id: number;
  start: number;
  end: number;
  read: boolean;
  write: boolean;
}

/** One logged access. */
export interface Access {
  address: number;
  size: number;
  write: boolean;
  /** The value read or written, little-endian, as an unsigned bigint. */
  value: bigint;
}

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('the emulator needs a little-endian host');

/**
 * Entries of each software TLB (direct-mapped by page number): 16 MiB of pages, so a workload's
 * data (qsort's 8 MiB of keys, sha256's 1 MiB buffer) stays in it beside its stack and code.
 */
const TLB = 4096;
/** 1/4096: multiplying by it is exact and cheaper than dividing. */
const INV_PAGE = 1 / 4096;
const LOG_MAX = 64;

function parsePerms(p: string): number {
  let v = 0;
  for (const ch of p) {
    if (ch === 'r') v |= Perm.R;
    else if (ch === 'w') v |= Perm.W;
    else if (ch === 'x') v |= Perm.X;
    else if (ch !== '-') throw new Error(`bad permission letter '${ch}' in '${p}' (use r, w, x)`);
  }
  return v;
}

/** What empty TLB entries hold (their key is NaN, which no lookup matches): keeps the arrays packed, of one kind. */
const NO_PAGE = new Page(0, '');

export class Memory {
  readonly pages = new Map<number, Page>();
  /**
   * Software TLBs: page key → page for reads and for writes. Watched pages are never in them and
   * pages holding decoded code are never in the write TLB, so a hit may be accessed directly
   * (the block compiler inlines exactly that); a miss takes the checked path.
   */
  readonly rKey = new Float64Array(TLB).fill(NaN);
  readonly rPage: Page[] = new Array<Page>(TLB).fill(NO_PAGE);
  readonly wKey = new Float64Array(TLB).fill(NaN);
  readonly wPage: Page[] = new Array<Page>(TLB).fill(NO_PAGE);
  /** High half of the last 64-bit read (created as a double: see WIDE). */
  hi = WIDE;
  /** Current privilege level for the #PF error code's U/S bit. */
  user = false;

  // Access log of the current instruction (reset by the machine before each one).
  logN = 0;
  readonly logAddr = new Float64Array(LOG_MAX);
  readonly logSize = new Uint8Array(LOG_MAX);
  readonly logWrite = new Uint8Array(LOG_MAX);
  readonly logLo = new Int32Array(LOG_MAX);
  readonly logHi = new Int32Array(LOG_MAX);
  /**
   * Whether accesses are logged. Machine.step() turns it on for its instruction; runs leave it
   * off unless a client wants every instruction's accesses (it costs ~15% of run speed).
   */
  logging = false;

  readonly watches: Watch[] = [];
  /** Watches hit by the current instruction. */
  watchHits: { watch: Watch; access: Access }[] = [];
  /** Called when an access hits a watch (the machine stops after the instruction). */
  onWatchHit: () => void = () => {};
  /** Called when a write lands on decoded code of a page (before the page's decoded code is dropped). */
  onCodeWrite: (pageKey: number) => void = () => {};

  constructor() {
    this.hi = 0;
  }

  /** Maps [address, address+size) with permissions like 'rwx'; pages already mapped get the new permissions. */
  map(address: number, size: number, perms: string | number, region = ''): void {
    const p = typeof perms === 'number' ? perms : parsePerms(perms);
    const first = Math.floor(address / PAGE_SIZE);
    const last = Math.floor((address + Math.max(size, 1) - 1) / PAGE_SIZE);
    let buf: Uint8Array<ArrayBuffer> | undefined, used = 0;
    for (let k = first; k <= last; k++) {
      const page = this.pages.get(k);
      if (page) { page.perms = p; if (region) page.region = region; continue; }
      if (buf === undefined || used === buf.length) {
        let n = 0;
        for (let j = k; j <= last && n < PAGES_PER_BUFFER; j++) if (!this.pages.has(j)) n++;
        buf = new Uint8Array(n * PAGE_SIZE);
        used = 0;
      }
      this.pages.set(k, new Page(p, region, buf.subarray(used, used + PAGE_SIZE)));
      used += PAGE_SIZE;
    }
    this.flushTlb();
  }

  /**
   * Marks every page clean and empties the write TLB, so the next write to a page marks it
   * dirty again (checkpoints compare only dirty pages with their last copy).
   */
  cleanPages(): void {
    for (const p of this.pages.values()) p.dirty = false;
    this.wKey.fill(NaN);
  }

  unmap(address: number, size: number): void {
    const first = Math.floor(address / PAGE_SIZE);
    const last = Math.floor((address + Math.max(size, 1) - 1) / PAGE_SIZE);
    for (let k = first; k <= last; k++) {
      if (this.pages.get(k)?.code) this.invalidateCode(k);
      this.pages.delete(k);
    }
    this.flushTlb();
  }

  isMapped(address: number): boolean {
    return this.pages.has(Math.floor(address / PAGE_SIZE));
  }

  pageAt(address: number): Page | undefined {
    return this.pages.get(Math.floor(address / PAGE_SIZE));
  }

  flushTlb(): void {
    this.rKey.fill(NaN);
    this.wKey.fill(NaN);
  }

  /** Drops a page from the write TLB (it now holds code whose writes must be seen). */
  protectCode(pageKey: number): void {
    const i = pageKey & (TLB - 1);
    if (this.wKey[i] === pageKey) this.wKey[i] = NaN;
  }

  // ---- fault helpers -------------------------------------------------------------------

  private pf(address: number, present: boolean, write: boolean, fetch: boolean): CpuFault {
    const code = (present ? 1 : 0) | (write ? 2 : 0) | (this.user ? 4 : 0) | (fetch ? 16 : 0);
    const what = fetch ? 'instruction fetch from' : write ? 'write to' : 'read from';
    const why = !present ? 'unmapped address' : write ? 'read-only page' : fetch ? 'non-executable page' : 'unreadable page';
    return new CpuFault(Vector.PF, code, `page fault: ${what} ${why} 0x${BigInt.asUintN(64, BigInt(address)).toString(16)}`, address);
  }

  private fillR(k: number, address: number): Page {
    const p = this.pages.get(k);
    if (!p || !(p.perms & Perm.R)) throw this.pf(address, !!p, false, false);
    if (!p.watched) {
      const i = k & (TLB - 1);
      this.rKey[i] = k;
      this.rPage[i] = p;
    }
    return p;
  }

  private fillW(k: number, address: number): Page {
    const p = this.pages.get(k);
    if (!p || !(p.perms & Perm.W)) throw this.pf(address, !!p, true, false);
    if (!p.watched && p.code === null) {
      const i = k & (TLB - 1);
      this.wKey[i] = k;
      this.wPage[i] = p;
    }
    return p;
  }

  /** Page for an instruction fetch at `address`: throws #PF when unmapped or not executable. */
  fetchPage(address: number): Page {
    const p = this.pages.get(Math.floor(address / PAGE_SIZE));
    if (!p || !(p.perms & Perm.X)) throw this.pf(address, !!p, false, true);
    return p;
  }

  // ---- logging and watches ----------------------------------------------------------------

  private log(a: number, size: number, write: boolean, lo: number, hi: number): void {
    const n = this.logN++;
    if (n < LOG_MAX) {
      this.logAddr[n] = a; this.logSize[n] = size; this.logWrite[n] = write ? 1 : 0;
      this.logLo[n] = lo; this.logHi[n] = hi;
    }
  }

  private checkWatch(a: number, size: number, write: boolean, lo: number, hi: number): void {
    for (const w of this.watches) {
      if (a < w.end && a + size > w.start && (write ? w.write : w.read)) {
        this.watchHits.push({ watch: w, access: { address: a, size, write, value: joinBig(lo, hi, size) } });
        this.onWatchHit();
      }
    }
  }

  /** The accesses of the current instruction (at most 64 are kept). */
  accesses(): Access[] {
    const out: Access[] = [];
    for (let i = 0; i < Math.min(this.logN, LOG_MAX); i++) {
      out.push({ address: this.logAddr[i], size: this.logSize[i], write: this.logWrite[i] === 1,
        value: joinBig(this.logLo[i], this.logHi[i], this.logSize[i]) });
    }
    return out;
  }

  addWatch(w: Watch): void {
    this.watches.push(w);
    this.refreshWatched();
  }

  removeWatch(id: number): void {
    const i = this.watches.findIndex((w) => w.id === id);
    if (i >= 0) this.watches.splice(i, 1);
    this.refreshWatched();
  }

  clearWatches(): void {
    this.watches.length = 0;
    this.refreshWatched();
  }

  private refreshWatched(): void {
    for (const p of this.pages.values()) p.watched = false;
    for (const w of this.watches) {
      for (let k = Math.floor(w.start / PAGE_SIZE); k <= Math.floor((w.end - 1) / PAGE_SIZE); k++) {
        const p = this.pages.get(k);
        if (p) p.watched = true;
      }
    }
    this.flushTlb();
  }

  // ---- emulated accesses (permissions, log, watches) --------------------------------------
  //
  // Each access is a small hit path — a TLB hit, aligned (or, for 16 bits, inside the page),
  // not logging — that the engine inlines where a compiled block or a handler calls it (keep it
  // small: a block makes many such calls and the engine's inlining budget is per function), and
  // a separate slow path for everything else (a TLB miss, a fault, a watched page, decoded code,
  // a page-crossing or unaligned access, the access log). A TLB hit needs no other check: watched
  // pages are never in the TLBs, nor pages holding decoded code in the write TLB.

  read8(a: number): number {
    const off = a & 4095, k = (a - off) * INV_PAGE, i = k & (TLB - 1);
    if (this.rKey[i] === k && !this.logging) return this.rPage[i].data[off];
    return this.read8Slow(a);
  }

  read16(a: number): number {
    const off = a & 4095, k = (a - off) * INV_PAGE, i = k & (TLB - 1);
    if (this.rKey[i] === k && off <= 4094 && !this.logging) return this.rPage[i].dv.getUint16(off, true);
    return this.read16Slow(a);
  }

  read32(a: number): number {
    const off = a & 4095, k = (a - off) * INV_PAGE, i = k & (TLB - 1);
    if (this.rKey[i] === k && (off & 3) === 0 && !this.logging) return this.rPage[i].i32[off >> 2];
    return this.read32Slow(a);
  }

  /** Returns the low half; the high half is left in `this.hi`. */
  read64(a: number): number {
    const off = a & 4095, k = (a - off) * INV_PAGE, i = k & (TLB - 1);
    if (this.rKey[i] === k && (off & 7) === 0 && !this.logging) {
      const d = this.rPage[i].i32, j = off >> 2;
      this.hi = d[j + 1];
      return d[j];
    }
    return this.read64Slow(a);
  }

  write8(a: number, v: number): void {
    const off = a & 4095, k = (a - off) * INV_PAGE, i = k & (TLB - 1);
    if (this.wKey[i] === k && !this.logging) this.wPage[i].data[off] = v;
    else this.write8Slow(a, v);
  }

  write16(a: number, v: number): void {
    const off = a & 4095, k = (a - off) * INV_PAGE, i = k & (TLB - 1);
    if (this.wKey[i] === k && off <= 4094 && !this.logging) this.wPage[i].dv.setUint16(off, v & 0xffff, true);
    else this.write16Slow(a, v);
  }

  write32(a: number, v: number): void {
    const off = a & 4095, k = (a - off) * INV_PAGE, i = k & (TLB - 1);
    if (this.wKey[i] === k && (off & 3) === 0 && !this.logging) this.wPage[i].i32[off >> 2] = v;
    else this.write32Slow(a, v);
  }

  write64(a: number, lo: number, hi: number): void {
    const off = a & 4095, k = (a - off) * INV_PAGE, i = k & (TLB - 1);
    if (this.wKey[i] === k && (off & 7) === 0 && !this.logging) {
      const d = this.wPage[i].i32, j = off >> 2;
      d[j] = lo; d[j + 1] = hi;
    } else this.write64Slow(a, lo, hi);
  }

  // The slow paths: every case, the hit path's included.

  private read8Slow(a: number): number {
    const off = a & 4095, k = (a - off) * INV_PAGE, i = k & (TLB - 1);
    const p = this.rKey[i] === k ? this.rPage[i] : this.fillR(k, a);
    const v = p.data[off];
    if (this.logging) this.log(a, 1, false, v, 0);
    if (p.watched) this.checkWatch(a, 1, false, v, 0);
    return v;
  }

  private read16Slow(a: number): number {
    const off = a & 4095, k = (a - off) * INV_PAGE, i = k & (TLB - 1);
    const p = this.rKey[i] === k ? this.rPage[i] : this.fillR(k, a);
    let v: number;
    if (off <= 4094) v = p.dv.getUint16(off, true);
    else v = this.crossRead(a, 2);
    if (this.logging) this.log(a, 2, false, v, 0);
    if (p.watched || off > 4094) this.checkWatchIf(a, 2, false, v, 0);
    return v;
  }

  private read32Slow(a: number): number {
    const off = a & 4095, k = (a - off) * INV_PAGE, i = k & (TLB - 1);
    const p = this.rKey[i] === k ? this.rPage[i] : this.fillR(k, a);
    let v: number;
    if ((off & 3) === 0) v = p.i32[off >> 2];
    else if (off <= 4092) v = p.dv.getInt32(off, true);
    else v = this.crossRead(a, 4) | 0;
    if (this.logging) this.log(a, 4, false, v, 0);
    if (p.watched || off > 4092) this.checkWatchIf(a, 4, false, v, 0);
    return v;
  }

  private read64Slow(a: number): number {
    const off = a & 4095, k = (a - off) * INV_PAGE, i = k & (TLB - 1);
    const p = this.rKey[i] === k ? this.rPage[i] : this.fillR(k, a);
    let lo: number, hi: number;
    if ((off & 7) === 0) { lo = p.i32[off >> 2]; hi = p.i32[(off >> 2) + 1]; }
    else if (off <= 4088) { lo = p.dv.getInt32(off, true); hi = p.dv.getInt32(off + 4, true); }
    else { lo = this.crossRead(a, 4) | 0; hi = this.crossRead(a + 4, 4) | 0; }
    this.hi = hi;
    if (this.logging) this.log(a, 8, false, lo, hi);
    if (p.watched || off > 4088) this.checkWatchIf(a, 8, false, lo, hi);
    return lo;
  }

  private write8Slow(a: number, v: number): void {
    const off = a & 4095, k = (a - off) * INV_PAGE, i = k & (TLB - 1);
    const p = this.wKey[i] === k ? this.wPage[i] : this.slowWritePage(k, a, 1);
    p.data[off] = v;
    if (this.logging) this.log(a, 1, true, v & 0xff, 0);
    if (p.watched) this.checkWatch(a, 1, true, v & 0xff, 0);
  }

  private write16Slow(a: number, v: number): void {
    const off = a & 4095, k = (a - off) * INV_PAGE, i = k & (TLB - 1);
    if (off > 4094) { this.crossWrite(a, 2, v, 0); return; }
    const p = this.wKey[i] === k ? this.wPage[i] : this.slowWritePage(k, a, 2);
    p.dv.setUint16(off, v & 0xffff, true);
    if (this.logging) this.log(a, 2, true, v & 0xffff, 0);
    if (p.watched) this.checkWatch(a, 2, true, v & 0xffff, 0);
  }

  private write32Slow(a: number, v: number): void {
    const off = a & 4095, k = (a - off) * INV_PAGE, i = k & (TLB - 1);
    if (off > 4092) { this.crossWrite(a, 4, v, 0); return; }
    const p = this.wKey[i] === k ? this.wPage[i] : this.slowWritePage(k, a, 4);
    if ((off & 3) === 0) p.i32[off >> 2] = v; else p.dv.setInt32(off, v | 0, true);
    if (this.logging) this.log(a, 4, true, v | 0, 0);
    if (p.watched) this.checkWatch(a, 4, true, v | 0, 0);
  }

  private write64Slow(a: number, lo: number, hi: number): void {
    const off = a & 4095, k = (a - off) * INV_PAGE, i = k & (TLB - 1);
    if (off > 4088) { this.crossWrite(a, 8, lo, hi); return; }
    const p = this.wKey[i] === k ? this.wPage[i] : this.slowWritePage(k, a, 8);
    if ((off & 7) === 0) { p.i32[off >> 2] = lo; p.i32[(off >> 2) + 1] = hi; }
    else { p.dv.setInt32(off, lo | 0, true); p.dv.setInt32(off + 4, hi | 0, true); }
    if (this.logging) this.log(a, 8, true, lo | 0, hi | 0);
    if (p.watched) this.checkWatch(a, 8, true, lo | 0, hi | 0);
  }

  /** Faults unless every byte of [a, a+size) is writable; used before multi-part writes. */
  probeWrite(a: number, size: number): void {
    const k1 = Math.floor(a / PAGE_SIZE), k2 = Math.floor((a + size - 1) / PAGE_SIZE);
    // A page in the write TLB is writable and already dirty (the TLB is flushed when permissions
    // change or dirty marks are cleared). A probed page is about to be written: it is marked
    // dirty here because the write itself may then take the TLB path.
    if (this.wKey[k1 & (TLB - 1)] !== k1) this.fillW(k1, a).dirty = true;
    if (k2 !== k1 && this.wKey[k2 & (TLB - 1)] !== k2) this.fillW(k2, k2 * PAGE_SIZE).dirty = true;
  }

  private slowWritePage(k: number, a: number, size: number): Page {
    const p = this.fillW(k, a);
    // Every write reaches a page through here or through the write TLB, which only this fills.
    p.dirty = true;
    if (p.code !== null && touchesCode(p, a & 4095, size)) this.invalidateCode(k);
    return p;
  }

  /**
   * Drops the decoded code of page `k` (the machine also drops what straddles in from the page
   * before). Only writes that land on decoded bytes come here: data beside code keeps it.
   */
  invalidateCode(k: number): void {
    this.onCodeWrite(k);
    const p = this.pages.get(k);
    if (p) { p.code = null; p.codeMap = null; }
  }

  private checkWatchIf(a: number, size: number, write: boolean, lo: number, hi: number): void {
    if (this.watches.length) this.checkWatch(a, size, write, lo, hi);
  }

  private crossRead(a: number, size: number): number {
    let v = 0;
    for (let j = 0; j < size; j++) {
      const b = a + j, off = b & 4095, k = (b - off) / 4096;
      const p = this.fillR(k, b);
      v += p.data[off] * 2 ** (8 * j);
    }
    return v;
  }

  private crossWrite(a: number, size: number, lo: number, hi: number): void {
    this.probeWrite(a, size);
    for (let j = 0; j < size; j++) {
      const b = a + j, off = b & 4095, k = (b - off) / 4096;
      const p = this.slowWritePage(k, b, 1);
      p.data[off] = j < 4 ? (lo >>> (8 * j)) & 0xff : (hi >>> (8 * (j - 4))) & 0xff;
    }
    if (this.logging) this.log(a, size, true, lo | 0, hi | 0);
    this.checkWatchIf(a, size, true, lo, hi);
  }

  // ---- debugger access (no permissions, no log) -------------------------------------------

  /** Reads bytes for the debugger; throws a plain Error naming the first unmapped address. */
  readBytes(a: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let j = 0; j < length; j++) {
      const b = a + j, p = this.pages.get(Math.floor(b / PAGE_SIZE));
      if (!p) throw new Error(`address 0x${BigInt.asUintN(64, BigInt(b)).toString(16)} is not mapped`);
      out[j] = p.data[b & 4095];
    }
    return out;
  }

  /** How many bytes from `a` on are readable by the debugger (mapped), up to `length`. */
  mappedLength(a: number, length: number): number {
    let j = 0;
    while (j < length && this.pages.has(Math.floor((a + j) / PAGE_SIZE))) j += PAGE_SIZE - ((a + j) & 4095);
    return Math.min(j, length);
  }

  /** Writes bytes for the debugger or a loader, ignoring permissions; decoded code is invalidated. */
  writeBytes(a: number, bytes: Uint8Array): void {
    for (let j = 0; j < bytes.length; j++) {
      const b = a + j, k = Math.floor(b / PAGE_SIZE), p = this.pages.get(k);
      if (!p) throw new Error(`address 0x${BigInt.asUintN(64, BigInt(b)).toString(16)} is not mapped`);
      if (p.code !== null && touchesCode(p, b & 4095, 1)) this.invalidateCode(k);
      p.dirty = true;
      p.data[b & 4095] = bytes[j];
    }
  }
}

/** Whether [off, off+size) of a page with decoded code overlaps a decoded instruction. */
function touchesCode(p: Page, off: number, size: number): boolean {
  const m = p.codeMap;
  if (m === null) return true;
  const end = Math.min(off + size, PAGE_SIZE);
  for (let j = off; j < end; j++) if (m[j] !== 0) return true;
  return false;
}

function joinBig(lo: number, hi: number, size: number): bigint {
  const v = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return BigInt.asUintN(size * 8, v);
}

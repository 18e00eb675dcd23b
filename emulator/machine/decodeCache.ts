// The decode cache of a Machine: decoded instructions per code page, the blocks compiled from
// them, the current-page fast path of the run loop, and the invalidation that keeps all of it
// true when code is rewritten, unmapped, re-permissioned or gets a breakpoint.

import { decodeRun } from '../decode/decoder';
import { K, type Block, type Insn } from '../decode/insn';
import { RECORDS } from '../exec/index';
import { compileBlock } from '../exec/jit';
import { Memory, PAGE_SIZE, Page, Perm } from '../memory/memory';

/** Instructions decoded ahead in one go at most, and the bytes given to the decoder for them. */
const RUN_MAX = 64;
const RUN_WINDOW = 512;
/** Instructions in a block at most (a loop body up to this long becomes one looping block). */
const BLOCK_MAX = 64;
/** Decoding ahead stops after these: the records that never fall through, and undecodable bytes. */
const RUN_ENDS = new Set(['(bad)', ...RECORDS.filter((r) => r.noFallThrough).flatMap((r) => r.mnemonics)]);

/**
 * Where a block goes on after control transfer `x` (see InsnRecord.trace), or undefined where
 * it ends: a direct jump or call goes to its target, a plain `ret` to the return address of the
 * innermost call the block went through (`returns`, which the caller then pops).
 */
function traced(x: Insn, returns: readonly number[]): number | undefined {
  switch (x.trace) {
    case 'jump': case 'call': return x.k0 === K.IMM ? x.target : undefined;
    case 'return': return x.nops === 0 && returns.length > 0 ? returns[returns.length - 1] : undefined;
  }
  return undefined;
}

/** Decoded code of one page: its instructions by offset and the blocks that run through it. */
interface CodePage {
  page: Page;
  code: (Insn | undefined)[];
  blocks: Block[];
  /** An instruction of the page before ends in this one. */
  straddleIn: boolean;
}

export class DecodeCache {
  /** Decode cache of the page RIP is in. */
  private cBase = NaN;
  private cCode: (Insn | undefined)[] = [];
  /** Pages with decoded code, by page number: what to kill when one changes. */
  private readonly codePages = new Map<number, CodePage>();

  /** Blocks are compiled as if their status flags were never read outside them (MachineOptions.allFlagsDead). */
  allFlagsDead = false;

  /** `finish` gives a freshly decoded instruction its handler, breakpoint flag and block role. */
  constructor(private readonly mem: Memory, private readonly finish: (ins: Insn) => void) {}

  /** Forgets the current page (its mapping or its code may have changed). */
  leavePage(): void {
    this.cBase = NaN;
  }

  /** The decoded instruction at an address (decoding and caching it); throws CpuFault for #PF on fetch. */
  insnAt(address: number): Insn {
    const page = this.mem.fetchPage(address);
    const cp = this.codePage(Math.floor(address / PAGE_SIZE), page);
    return cp.code[address & 4095] ?? this.decodeAt(address, cp);
  }

  /** The instruction already decoded at an address, if any (no decoding, no fetch check). */
  cachedInsn(a: number): Insn | undefined {
    const page = this.mem.pageAt(a);
    return page?.code ? (page.code[a & 4095] as Insn | undefined) : undefined;
  }

  /** Decoded instruction at RIP through the current-page cache. */
  lookup(rip: number): Insn {
    const off = rip & 4095;
    if (rip - off !== this.cBase) this.enterPage(rip);
    const ins = this.cCode[off];
    return ins !== undefined ? ins : this.insnAt(rip);
  }

  private enterPage(rip: number): void {
    const page = this.mem.fetchPage(rip);
    this.cCode = this.codePage(Math.floor(rip / PAGE_SIZE), page).code;
    this.cBase = rip - (rip & 4095);
  }

  /** Drops the decoded code of pages [first, last] that have any. */
  dropPages(first: number, last: number): void {
    for (let k = first; k <= last; k++) if (this.codePages.has(k)) this.dropCode(k);
  }

  /** Drops the decoded code of page `k`, and of the page before when an instruction of it reaches into `k`. */
  dropCode(k: number): void {
    const cp = this.codePages.get(k);
    if (cp === undefined) return;
    this.kill(k, cp);
    const prev = cp.straddleIn ? this.codePages.get(k - 1) : undefined;
    if (prev !== undefined) this.kill(k - 1, prev);
  }

  /** Drops all decoded code. */
  dropAll(): void {
    for (const [k, cp] of [...this.codePages]) this.kill(k, cp);
  }

  /** Drops the code of pages replaced, removed, no longer executable or dropped from outside. */
  dropStale(): void {
    for (const [k, cp] of [...this.codePages]) {
      if (this.mem.pages.get(k) !== cp.page || !(cp.page.perms & Perm.X) || cp.page.code !== cp.code) this.kill(k, cp);
    }
  }

  /** Ends the blocks that run through address `a` (a breakpoint came or went there). */
  killBlocks(a: number): void {
    const cp = this.codePages.get(Math.floor(a / PAGE_SIZE));
    if (cp === undefined) return;
    for (const b of cp.blocks) b.dead = true;
    cp.blocks = [];
    // A block cut short by a breakpoint may now be longer.
    for (const ins of cp.code) if (ins !== undefined) ins.noBlock = false;
  }

  /**
   * Links the run of instructions starting at `head` into a block: it goes on through direct
   * jumps and calls and through returns predicted by a call earlier in the block (the record's
   * `trace`), and ends after any other control transfer, before a breakpoint, an instruction
   * that must run alone or `returnAddress`, or after BLOCK_MAX.
   */
  buildBlock(head: Insn, returnAddress: number | undefined): Block | null {
    // A breakpoint at the head: the block would run past it when it loops or is chained to.
    if (head.bp) return null;
    const insns: Insn[] = [head];
    /** Return addresses of the calls the block went through, innermost last. */
    const returns: number[] = [];
    let x = head;
    while (insns.length < BLOCK_MAX) {
      let to = x.next;
      if (x.endsBlock) {
        const t = traced(x, returns);
        if (t === undefined) break;
        to = t;
      }
      let nx: Insn;
      try { nx = this.insnAt(to); } catch { break; } // the fetch faults only when it is reached
      if (nx.bp || nx.solo || nx.addr === returnAddress) break;
      if (x.endsBlock && x.trace === 'call') returns.push(x.next);
      else if (x.endsBlock) returns.pop();
      insns.push(nx);
      x = nx;
    }
    if (insns.length < 2) { head.noBlock = true; return null; }
    const b: Block = { insns, n: insns.length, dead: false, run: compileBlock(insns, this.allFlagsDead), next1: null, next2: null };
    // Registered with every page it spans: a change there kills it.
    const pages = new Set<number>();
    for (const i of insns) for (let k = Math.floor(i.addr / PAGE_SIZE); k <= Math.floor((i.next - 1) / PAGE_SIZE); k++) pages.add(k);
    for (const k of pages) this.codePages.get(k)?.blocks.push(b);
    head.block = b;
    return b;
  }

  /** The decoded code of page `k` (fetchable, already checked), created empty when the page has none. */
  private codePage(k: number, page: Page): CodePage {
    let cp = this.codePages.get(k);
    if (cp !== undefined && cp.page === page && page.code === cp.code) return cp;
    if (cp !== undefined) this.kill(k, cp);
    const code: (Insn | undefined)[] = new Array(PAGE_SIZE);
    page.code = code;
    page.codeMap = new Uint8Array(PAGE_SIZE);
    this.mem.protectCode(k);
    cp = { page, code, blocks: [], straddleIn: false };
    this.codePages.set(k, cp);
    return cp;
  }

  /** Marks a page's instructions and blocks dead (links to them are not followed again) and forgets them. */
  private kill(k: number, cp: CodePage): void {
    for (const ins of cp.code) if (ins !== undefined) { ins.dead = true; ins.block = null; }
    for (const b of cp.blocks) b.dead = true;
    this.codePages.delete(k);
    if (cp.page.code === cp.code) { cp.page.code = null; cp.page.codeMap = null; }
    this.cBase = NaN;
  }

  /**
   * Decodes the straight-line run of instructions from `address` (one decoder for all of them)
   * into the page's cache and returns the first. Decoding stops at an unconditional transfer,
   * an instruction already decoded, or the end of the page.
   */
  private decodeAt(address: number, cp: CodePage): Insn {
    const mem = this.mem, page = cp.page, off = address & 4095, base = address - off;
    const k = Math.floor(address / PAGE_SIZE);
    let bytes = page.data.subarray(off, Math.min(off + RUN_WINDOW, PAGE_SIZE));
    let next: Page | undefined;
    if (off + bytes.length === PAGE_SIZE) {
      next = mem.pageAt(base + PAGE_SIZE);
      if (next && next.perms & Perm.X) {
        const joined = new Uint8Array(bytes.length + 15);
        joined.set(bytes);
        joined.set(next.data.subarray(0, 15), bytes.length);
        bytes = joined;
      } else next = undefined;
    }
    const r = decodeRun(bytes, address, RUN_MAX, (i) => RUN_ENDS.has(i.mnemonic) || i.next - base >= PAGE_SIZE);
    if (r.incomplete) {
      // The instruction continues into a page we may not fetch from.
      mem.fetchPage(base + PAGE_SIZE);
      throw new Error('unreachable: incomplete decode on a mapped page');
    }
    const first = r.insns[0];
    const map = page.codeMap!;
    for (const ins of r.insns) {
      const o = ins.addr - base;
      if (o >= PAGE_SIZE || (ins !== first && cp.code[o] !== undefined)) break;
      this.finish(ins);
      cp.code[o] = ins;
      for (let j = o; j < Math.min(o + ins.len, PAGE_SIZE); j++) map[j] = 1;
      if (o + ins.len > PAGE_SIZE && next) {
        // The instruction ends in the next page: writes there must drop it too.
        const ncp = this.codePage(k + 1, next);
        ncp.straddleIn = true;
        for (let j = 0; j < o + ins.len - PAGE_SIZE; j++) next.codeMap![j] = 1;
      }
    }
    return first;
  }
}

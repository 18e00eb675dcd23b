// Machine: one x86-64 processor and its memory, with step / run-with-budget, typed stop
// reasons, breakpoints checked in O(1) per instruction, watch ranges, and complete-state
// snapshots. Usable from a plain Node script: no DAP and no VS Code here.

import { Cpu, MSR, GPR_NAMES, addrToBig, bigToAddr, Fl } from './cpu/cpu';
import { getRflags, setArith } from './cpu/flags';
import { CpuFault, VECTOR_NAMES } from './cpu/fault';
import { MachineStop, PlatformInsn, SystemHooks } from './cpu/system';
import { decodeRun } from './decode/decoder';
import { Insn } from './decode/insn';
import { resolveHandler, recordOf, isaCpuid } from './exec/index';
import { compileBlock } from './exec/jit';
import { Memory, PAGE_SIZE, Page, Perm, Access } from './memory/memory';

/** A straight-line run of decoded instructions executed without the per-instruction checks. */
export interface Block {
  insns: Insn[];
  n: number;
  /** Set when code, permissions or breakpoints of a page it spans change: it is rebuilt. */
  dead: boolean;
  /** Runs the block; returns how many instructions completed (fewer when one raised attention). */
  run: (c: Cpu) => number;
}

/** Why a run or step ended. */
export type StopKind =
  | 'breakpoint' | 'fault' | 'halt' | 'returned' | 'budget' | 'not-emulated' | 'int3' | 'platform' | 'watch';

export interface StopReason {
  kind: StopKind;
  /** RIP at the stop (for faults and not-emulated: the instruction that did not complete). */
  address: bigint;
  message: string;
  vector?: number;
  errorCode?: number;
  /** #PF: the linear address (CR2). */
  faultAddress?: bigint;
  /** Watch hits (kind 'watch'). */
  watches?: { id: number; access: Access }[];
  /** Platform stops carry their own data. */
  detail?: unknown;
}

/** Fault delivery hook: return true when the fault was handled (e.g. an exception-table fixup set RIP). */
export type FaultHandler = (fault: CpuFault, insn: Insn | undefined) => boolean;

export interface MachineOptions {
  /**
   * Visits of an instruction before the straight-line code from it is compiled into a block
   * (0: before its first execution; Infinity: never, pure interpretation). Default: HOT_BLOCK
   * after a warm-up of WARM_UP instructions (see there); an explicit value has no warm-up.
   */
  blockThreshold?: number;
  /** Instructions retired before any block is compiled (default: WARM_UP with the default threshold, 0 with an explicit one). */
  warmUp?: number;
  /** Only the records' generic handlers, never their specialised forms (differential testing; blocks then call the handlers). */
  genericHandlers?: boolean;
  /** CPUID answers by `leaf` or `leaf:subleaf` (leaf in hex as the SDM writes it, `0x` optional; subleaf decimal), as [eax, ebx, ecx, edx]. */
  cpuid?: Record<string, [number, number, number, number]>;
}

type Cpuid = [number, number, number, number];

/** Decoded code of one page: its instructions by offset and the blocks that run through it. */
interface CodePage {
  page: Page;
  code: (Insn | undefined)[];
  blocks: Block[];
  /** An instruction of the page before ends in this one. */
  straddleIn: boolean;
}

/**
 * The default tiers: everything is interpreted until the machine has retired WARM_UP
 * instructions — a debugging session's short runs never pay for compiling blocks and for the
 * engine optimising them — and then a block head is compiled once it has been visited
 * HOT_BLOCK times, so only code that keeps running pays for its block function. Measured with
 * `npm run bench -- --tiers` and `--workloads` (each threshold against the interpreter in the
 * same run): compiling blocks during a run of ~1M instructions always lost (a 1.3M qsort: 48 ms
 * interpreted, 590 ms with blocks after 500k — the engine's compilation of the block functions
 * dominates), so short runs stay interpreted. After that, 5000 visits was level with or ahead
 * of 50 and 1000 on qsort, sha256 and crc32 at 10-15M instructions; against the interpreter the
 * block tier wins clearly only on crc32 (×2.5), and on qsort and sha256 it measured slower in
 * some runs (single samples on a loaded 2-core machine: not yet explained, see the bench).
 */
export const HOT_BLOCK = 5000;
export const WARM_UP = 2_000_000;

/** Instructions decoded ahead in one go at most, and the bytes given to the decoder for them. */
const RUN_MAX = 64;
const RUN_WINDOW = 512;
/** Decoding ahead stops after these (what follows them is not reached by falling through). */
const RUN_ENDS = new Set(['jmp', 'ret', 'retf', 'iret', 'iretd', 'iretq', 'hlt', 'ud2', 'int3', '(bad)', 'sysret', 'sysretq']);

/** Register names accepted by getReg/setReg beyond the GPRs. */
const SUB_REGS: Record<string, [number, number, number]> = {}; // name → [gpr, size, high-byte]
(() => {
  const legacy = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
  legacy.forEach((n, i) => { SUB_REGS['e' + n] = [i, 4, 0]; SUB_REGS[n] = [i, 2, 0]; });
  ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil'].forEach((n, i) => { SUB_REGS[n] = [i, 1, 0]; });
  ['ah', 'ch', 'dh', 'bh'].forEach((n, i) => { SUB_REGS[n] = [i, 1, 1]; });
  for (let i = 8; i < 16; i++) {
    SUB_REGS[`r${i}d`] = [i, 4, 0]; SUB_REGS[`r${i}w`] = [i, 2, 0];
    SUB_REGS[`r${i}b`] = [i, 1, 0]; SUB_REGS[`r${i}l`] = [i, 1, 0];
  }
})();

/** Default CPUID: a Sapphire Rapids-like Intel part with VMX, POPCNT, BMI1, LZCNT, long mode. */
function defaultCpuid(): Map<string, Cpuid> {
  const m = new Map<string, Cpuid>();
  m.set('0', [0x21, 0x756e6547, 0x6c65746e, 0x49656e69]); // "GenuineIntel"
  m.set('1', [0x000806f8, 0x00000800, 0x77fafbff & ~(1 << 31), 0xbfebfbff]);
  m.set('7:0', [0, (1 << 3) | (1 << 8), 0, 0]);
  m.set('80000000', [0x80000008, 0, 0, 0]);
  m.set('80000001', [0, 0, (1 << 5) | 1, (1 << 29) | (1 << 20) | (1 << 11)]);
  m.set('80000008', [0x3034, 0, 0, 0]);
  return m;
}

function parseKey(k: string): string {
  const [leaf, sub] = k.split(':');
  const norm = (s: string) => parseInt(s.replace(/^0x/i, ''), 16).toString(16);
  return sub === undefined ? norm(leaf) : `${norm(leaf)}:${Number(sub)}`;
}

export class Machine implements SystemHooks {
  readonly cpu = new Cpu();
  readonly mem = new Memory();
  /** Replaced by the platform layer (TDX module, VMX); until then these stop with a clear reason. */
  platformHook: ((c: Cpu, i: Insn, kind: PlatformInsn) => void) | undefined;
  /** Exception delivery (kernel exception tables); without it every fault stops the run. */
  faultHandler: FaultHandler | undefined;
  /** Where a `ret` from the entry function lands: execution there stops with 'returned'. */
  returnAddress: number | undefined;
  /** Handlers that replace the instruction at an address (stubs for undefined kernel symbols). */
  private readonly addressHooks = new Map<number, (c: Cpu, i: Insn) => void>();

  private readonly cpuidTable: Map<string, Cpuid>;
  private readonly blockThreshold: number;
  /** Instructions retired before any block is compiled. */
  private readonly warmUp: number;
  private readonly generic: boolean;
  private readonly breakpoints = new Set<number>();
  /** Decode cache of the page RIP is in. */
  private cBase = NaN;
  private cCode: (Insn | undefined)[] = [];
  /** Pages with decoded code, by page number: what to kill when one changes. */
  private readonly codePages = new Map<number, CodePage>();
  private nextWatchId = 1;

  constructor(opts: MachineOptions = {}) {
    this.cpu.mem = this.mem;
    this.cpu.sys = this;
    this.cpuidTable = defaultCpuid();
    isaCpuid(this.cpuidTable); // instruction-set features: exactly what the instruction table implements
    this.blockThreshold = opts.blockThreshold ?? HOT_BLOCK;
    this.warmUp = opts.warmUp ?? (opts.blockThreshold === undefined ? WARM_UP : 0);
    this.generic = opts.genericHandlers ?? false;
    for (const [k, v] of Object.entries(opts.cpuid ?? {})) this.cpuidTable.set(parseKey(k), v);
    this.mem.onCodeWrite = (k) => { this.dropCode(k); this.cpu.attention = true; };
    this.mem.onWatchHit = () => { this.cpu.attention = true; };
    this.cpu.r[9] = 0;
  }

  // ---- memory -------------------------------------------------------------------------------

  /** Maps [address, address+size) (page granular) with permissions such as 'rx' or 'rw'. */
  map(address: bigint, size: number, perms: string, name = ''): void {
    const a = this.addr(address);
    this.mem.map(a, size, perms, name);
    // Permissions may have changed: decoded code there (and links into it) is dropped.
    for (let k = Math.floor(a / PAGE_SIZE); k <= Math.floor((a + Math.max(size, 1) - 1) / PAGE_SIZE); k++) {
      if (this.codePages.has(k)) this.dropCode(k);
    }
    this.cBase = NaN;
  }

  unmap(address: bigint, size: number): void {
    this.mem.unmap(this.addr(address), size);
    this.cBase = NaN;
  }

  /** Debugger/loader write: ignores permissions; decoded code there is invalidated. */
  writeBytes(address: bigint, bytes: Uint8Array): void {
    this.mem.writeBytes(this.addr(address), bytes);
  }

  readBytes(address: bigint, length: number): Uint8Array {
    return this.mem.readBytes(this.addr(address), length);
  }

  private addr(a: bigint): number {
    const v = bigToAddr(a);
    if (v === undefined) throw new Error(`0x${BigInt.asUintN(64, a).toString(16)} is not a canonical address`);
    return v;
  }

  // ---- registers ----------------------------------------------------------------------------

  getReg(name: string): bigint {
    const n = name.toLowerCase().replace(/^[$%]/, '');
    const c = this.cpu;
    const g = (GPR_NAMES as readonly string[]).indexOf(n);
    if (g >= 0) return c.getGpr(g);
    const sub = SUB_REGS[n];
    if (sub) {
      const v = c.getGpr(sub[0]);
      return sub[2] ? (v >> 8n) & 0xffn : BigInt.asUintN(sub[1] * 8, v);
    }
    switch (n) {
      case 'rip': return addrToBig(c.rip);
      case 'rflags': case 'eflags': return BigInt(getRflags(c) >>> 0);
      case 'cr0': return c.cr0;
      case 'cr2': return c.cr2;
      case 'cr3': return c.cr3;
      case 'cr4': return c.cr4;
      case 'efer': return c.efer;
      case 'fs_base': case 'fsbase': return addrToBig(c.fsBase);
      case 'gs_base': case 'gsbase': return addrToBig(c.gsBase);
      case 'cpl': return BigInt(c.cpl);
      case 'mxcsr': return BigInt(c.mxcsr >>> 0);
    }
    const x = /^xmm(\d|1[0-5])$/.exec(n);
    if (x) return c.getXmm(Number(x[1]));
    throw new Error(`unknown register '${name}'`);
  }

  setReg(name: string, value: bigint): void {
    const n = name.toLowerCase().replace(/^[$%]/, '');
    const c = this.cpu;
    const g = (GPR_NAMES as readonly string[]).indexOf(n);
    if (g >= 0) { c.setGpr(g, value); return; }
    const sub = SUB_REGS[n];
    if (sub) {
      const [r, size, high] = sub;
      const old = c.getGpr(r);
      if (size === 4) c.setGpr(r, BigInt.asUintN(32, value));
      else {
        const shift = high ? 8n : 0n, mask = ((1n << BigInt(size * 8)) - 1n) << shift;
        c.setGpr(r, (old & ~mask) | ((BigInt.asUintN(size * 8, value) << shift) & mask));
      }
      return;
    }
    switch (n) {
      case 'rip': c.rip = this.addr(value); return;
      case 'rflags': case 'eflags': {
        const v = Number(BigInt.asUintN(32, value));
        setArith(c, v);
        c.flags = (v & ~0x30000) | Fl.FIXED;
        return;
      }
      case 'cr0': c.cr0 = value; return;
      case 'cr2': c.cr2 = value; return;
      case 'cr3': c.cr3 = value; return;
      case 'cr4': c.cr4 = value; return;
      case 'efer': c.efer = value; return;
      case 'fs_base': case 'fsbase': c.fsBase = this.addr(value); return;
      case 'gs_base': case 'gsbase': c.gsBase = this.addr(value); return;
      case 'cpl': c.cpl = Number(value) & 3; this.mem.user = c.cpl === 3; return;
      case 'mxcsr':
        if (value < 0n || value > 0xffffn) throw new Error(`mxcsr 0x${value.toString(16)}: only bits 0-15 exist (a value above 0xffff would #GP in LDMXCSR)`);
        c.mxcsr = Number(value); return;
    }
    const x = /^xmm(\d|1[0-5])$/.exec(n);
    if (x) { c.setXmm(Number(x[1]), value); return; }
    throw new Error(`unknown register '${name}'`);
  }

  // ---- breakpoints and watches ------------------------------------------------------------

  addBreakpoint(address: bigint): void {
    const a = this.addr(address);
    this.breakpoints.add(a);
    const ins = this.cachedInsn(a);
    if (ins) ins.bp = true;
    this.killBlocks(a); // blocks that ran through this address must end before it now
  }

  removeBreakpoint(address: bigint): void {
    const a = this.addr(address);
    this.breakpoints.delete(a);
    const ins = this.cachedInsn(a);
    if (ins) ins.bp = false;
    this.killBlocks(a);
  }

  clearBreakpoints(): void {
    for (const a of [...this.breakpoints]) this.removeBreakpoint(addrToBig(a));
  }

  hasBreakpoint(address: bigint): boolean {
    return this.breakpoints.has(this.addr(address));
  }

  /** Watches accesses to [address, address+size); returns an id for removeWatch. */
  addWatch(address: bigint, size: number, kind: 'read' | 'write' | 'readWrite'): number {
    const id = this.nextWatchId++;
    const start = this.addr(address);
    this.mem.addWatch({ id, start, end: start + size, read: kind !== 'write', write: kind !== 'read' });
    return id;
  }

  removeWatch(id: number): void {
    this.mem.removeWatch(id);
  }

  private cachedInsn(a: number): Insn | undefined {
    const page = this.mem.pageAt(a);
    return page?.code ? (page.code[a & 4095] as Insn | undefined) : undefined;
  }

  /** Runs `handler` instead of whatever instruction sits at `address` (it must be mapped executable). */
  hookAddress(address: bigint, handler: (c: Cpu, i: Insn) => void): void {
    const a = this.addr(address);
    this.addressHooks.set(a, handler);
    const k = Math.floor(a / PAGE_SIZE);
    if (this.codePages.has(k)) this.dropCode(k);
    this.cBase = NaN;
  }

  // ---- decoding -----------------------------------------------------------------------------

  /** The decoded instruction at an address (decoding and caching it); throws CpuFault for #PF on fetch. */
  insnAt(address: number): Insn {
    const page = this.mem.fetchPage(address);
    const cp = this.codePage(Math.floor(address / PAGE_SIZE), page);
    return cp.code[address & 4095] ?? this.decodeAt(address, cp);
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

  /** Drops the decoded code of page `k`, and of the page before when an instruction of it reaches into `k`. */
  private dropCode(k: number): void {
    const cp = this.codePages.get(k);
    if (cp === undefined) return;
    this.kill(k, cp);
    const prev = cp.straddleIn ? this.codePages.get(k - 1) : undefined;
    if (prev !== undefined) this.kill(k - 1, prev);
  }

  /** Ends the blocks that run through address `a` (a breakpoint came or went there). */
  private killBlocks(a: number): void {
    const cp = this.codePages.get(Math.floor(a / PAGE_SIZE));
    if (cp === undefined) return;
    for (const b of cp.blocks) b.dead = true;
    cp.blocks = [];
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

  /** Handler, breakpoint flag and block role of a freshly decoded instruction. */
  private finish(ins: Insn): void {
    const address = ins.addr;
    const hook = this.addressHooks.get(address);
    if (hook) {
      ins.exec = hook;
    } else if (address === this.returnAddress) {
      ins.exec = () => { throw new MachineStop('returned', 'the entry function returned', true); };
    } else {
      ins.exec = resolveHandler(ins, this.generic);
    }
    ins.bp = this.breakpoints.has(address);
    classify(ins, hook !== undefined || address === this.returnAddress);
  }

  // ---- execution ----------------------------------------------------------------------------

  /** Executes one whole instruction (a REP string instruction runs to completion). Null when it completed normally. */
  step(): StopReason | null {
    const start = this.cpu.rip;
    const mem = this.mem, logging = mem.logging;
    // Single steps always record their memory accesses (for the UI and tests); runs only when asked.
    mem.logging = true;
    mem.logN = 0;
    try {
      for (;;) {
        const r = this.execute(1);
        if (r.kind !== 'budget') return r;
        if (!(this.cpu.repPending && this.cpu.rip === start)) return null;
      }
    } finally {
      mem.logging = logging;
    }
  }

  /** Runs until a stop or until `budget` instructions have executed. A breakpoint at the starting RIP does not stop it. */
  run(budget: number): StopReason {
    return this.execute(budget);
  }

  private execute(budget: number): StopReason {
    const c = this.cpu, mem = this.mem;
    const end = c.icount + budget;
    let first = true;
    for (;;) {
      // The instruction being executed; undefined while fetching (a fetch fault has no instruction).
      let inflight: Insn | undefined;
      // The block being executed: an exception inside it names its instruction through c.bk.
      let inBlock: Block | undefined;
      try {
        let ins = this.lookup(c.rip);
        while (c.icount < end) {
          if (ins.bp && !first && !c.repPending) return this.stop('breakpoint', `breakpoint at ${hex(c.rip)}`);
          first = false;
          let last: Insn;
          let b = ins.block;
          if ((b === null || b.dead) && !ins.solo && ins.heat++ >= this.blockThreshold && c.icount >= this.warmUp) b = this.buildBlock(ins);
          if (b !== null && !b.dead && end - c.icount >= b.n && !mem.logging) {
            // A straight-line block: no breakpoint inside, no instruction that reads the
            // instruction count; stops early only when something needs attention.
            inBlock = b;
            const done = b.run(c);
            inBlock = undefined;
            c.icount += done;
            last = b.insns[done - 1];
          } else {
            if (mem.logging) mem.logN = 0;
            c.rip = ins.next;
            inflight = ins;
            ins.exec(c, ins);
            inflight = undefined;
            c.icount++;
            last = ins;
          }
          if (c.attention) { c.attention = false; if (mem.watchHits.length !== 0) return this.watchStop(); }
          // Follow the cached successor when it is still valid; else look the target up.
          const rip = c.rip;
          let nx = last.succ;
          if (nx === null || nx.addr !== rip || nx.dead) {
            nx = last.succ2;
            if (nx === null || nx.addr !== rip || nx.dead) {
              nx = this.lookup(rip);
              if (last.succ === null || last.succ.dead) last.succ = nx; else last.succ2 = nx;
            }
          }
          ins = nx;
        }
        return this.stop('budget', `instruction budget of ${budget} exhausted`);
      } catch (e) {
        if (inBlock) { inflight = inBlock.insns[c.bk]; c.icount += c.bk; inBlock = undefined; }
        // A fault while fetching has no instruction of its own: RIP is already the fetch address.
        const at = inflight ? inflight.addr : c.rip;
        if (e instanceof CpuFault) {
          c.rip = at;
          c.repPending = false;
          c.attention = false;
          if (e.address !== undefined && e.vector === 14) c.cr2 = addrToBig(e.address);
          if (this.faultHandler && this.faultHandler(e, inflight)) { c.icount++; first = false; continue; }
          const where = c.rip;
          return {
            kind: 'fault', address: addrToBig(where), vector: e.vector, errorCode: e.errorCode,
            faultAddress: e.address !== undefined ? addrToBig(e.address) : undefined,
            message: `${VECTOR_NAMES[e.vector] ?? `vector ${e.vector}`}${e.errorCode !== undefined ? `(${e.errorCode})` : ''}: ${e.message} at ${hex(where)}`,
          };
        }
        if (e instanceof MachineStop) {
          c.attention = false;
          if (e.rewind) c.rip = at; else c.icount++;
          return { kind: e.kind, address: addrToBig(c.rip), message: e.message, detail: e.detail };
        }
        throw e;
      }
    }
  }

  /**
   * Links the straight-line run of instructions starting at `head` into a block: it ends after
   * a control transfer, before a breakpoint or an instruction that must run alone, or after 32.
   */
  private buildBlock(head: Insn): Block | null {
    const insns: Insn[] = [head];
    let x = head;
    while (!x.endsBlock && insns.length < 32) {
      let nx: Insn;
      try { nx = this.insnAt(x.next); } catch { break; } // the fetch faults only when it is reached
      if (nx.bp || nx.solo || nx.addr === this.returnAddress) break;
      insns.push(nx);
      x = nx;
    }
    if (insns.length < 2) { head.solo = true; return null; }
    const b: Block = { insns, n: insns.length, dead: false, run: compileBlock(insns) };
    // Registered with every page it spans: a change there kills it.
    const k0 = Math.floor(head.addr / PAGE_SIZE), k1 = Math.floor((x.next - 1) / PAGE_SIZE);
    for (let k = k0; k <= k1; k++) this.codePages.get(k)?.blocks.push(b);
    head.block = b;
    return b;
  }

  /** Decoded instruction at RIP through the current-page cache. */
  private lookup(rip: number): Insn {
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

  private stop(kind: StopKind, message: string): StopReason {
    return { kind, address: addrToBig(this.cpu.rip), message };
  }

  private watchStop(): StopReason {
    const hits = this.mem.watchHits;
    this.mem.watchHits = [];
    const h = hits[0];
    return {
      kind: 'watch', address: addrToBig(this.cpu.rip),
      message: `data breakpoint: ${h.access.write ? 'write to' : 'read from'} ${hex(h.access.address)} (${h.access.size} bytes, value 0x${h.access.value.toString(16)})`,
      watches: hits.map((x) => ({ id: x.watch.id, access: x.access })),
    };
  }

  /** Memory accesses of the last executed instruction. */
  lastAccesses(): Access[] {
    return this.mem.accesses();
  }

  get instructionCount(): number {
    return this.cpu.icount;
  }

  // ---- SystemHooks: CPUID, MSRs, platform -------------------------------------------------

  cpuid(leaf: number, subleaf: number): Cpuid {
    const k = leaf.toString(16);
    return this.cpuidTable.get(`${k}:${subleaf}`) ?? this.cpuidTable.get(k) ?? [0, 0, 0, 0];
  }

  /** Sets a CPUID answer (the platform uses this for leaf 0x21 in a TD guest). */
  setCpuid(leaf: number, subleaf: number | undefined, value: Cpuid): void {
    this.cpuidTable.set(subleaf === undefined ? leaf.toString(16) : `${leaf.toString(16)}:${subleaf}`, value);
  }

  rdmsr(c: Cpu, msr: number): bigint | undefined {
    switch (msr) {
      case MSR.IA32_EFER: return c.efer;
      case MSR.IA32_FS_BASE: return addrToBig(c.fsBase);
      case MSR.IA32_GS_BASE: return addrToBig(c.gsBase);
      case MSR.IA32_TSC: return BigInt(c.icount) * 4n + (c.msrs.get(MSR.IA32_TSC) ?? 0n);
    }
    return c.msrs.get(msr);
  }

  wrmsr(c: Cpu, msr: number, value: bigint): boolean {
    switch (msr) {
      case MSR.IA32_EFER:
        if (value & ~0xd01n) return false; // SCE, LME, LMA, NXE only
        c.efer = value | 0x500n; return true; // long mode stays active
      case MSR.IA32_FS_BASE: case MSR.IA32_GS_BASE: {
        const a = bigToAddr(value);
        if (a === undefined) return false;
        if (msr === MSR.IA32_FS_BASE) c.fsBase = a; else c.gsBase = a;
        return true;
      }
      case MSR.IA32_TSC: c.msrs.set(MSR.IA32_TSC, value - BigInt(c.icount) * 4n); return true;
    }
    if (!c.msrs.has(msr)) return false;
    c.msrs.set(msr, value);
    return true;
  }

  /** Declares an MSR the machine models (readable and writable). */
  defineMsr(msr: number, value: bigint): void {
    this.cpu.msrs.set(msr, value);
  }

  platform(c: Cpu, i: Insn, kind: PlatformInsn): void {
    if (this.platformHook) { this.platformHook(c, i, kind); return; }
    throw new MachineStop('platform', `${kind} at ${hex(i.addr)}: the TDX/VMX platform is not modelled in this machine (no platform attached)`, true);
  }

  // ---- snapshots ----------------------------------------------------------------------------

  /** The complete state: registers, flags, control registers, MSRs, memory and its permissions. */
  snapshot(): MachineSnapshot {
    const pages = new Map<number, { data: Uint8Array; perms: number; region: string }>();
    for (const [k, p] of this.mem.pages) pages.set(k, { data: p.data.slice(), perms: p.perms, region: p.region });
    return { ...this.captureCpu(), pages };
  }

  restore(s: MachineSnapshot): void {
    for (const [k, cp] of [...this.codePages]) this.kill(k, cp);
    this.restoreCpu(s);
    this.mem.pages.clear();
    for (const [k, p] of s.pages) {
      const page = new Page(p.perms, p.region);
      page.data.set(p.data);
      this.mem.pages.set(k, page);
    }
    const watches = [...this.mem.watches];
    this.mem.clearWatches();
    for (const w of watches) this.mem.addWatch(w);
    this.mem.flushTlb();
    this.cBase = NaN;
  }

  // ---- time travel (emulator/timetravel pairs these with its own page copies) ---------------

  /** The processor state alone, without memory: cheap enough for a checkpoint every few ms. */
  captureCpu(): CpuState {
    const c = this.cpu, n = Math.min(c.ssN, c.ssRet.length);
    return {
      r: c.r.slice(), rip: c.rip, flags: c.flags, fop: c.fop, fsz: c.fsz,
      lazy: [c.faLo, c.faHi, c.fbLo, c.fbHi, c.frLo, c.frHi, c.fcf],
      fsBase: c.fsBase, gsBase: c.gsBase, cr: [c.cr0, c.cr2, c.cr3, c.cr4, c.efer], cpl: c.cpl,
      icount: c.icount, stiShadowUntil: c.stiShadowUntil, repPending: c.repPending,
      xmm: c.x8.slice(), mxcsr: c.mxcsr, rngState: c.rngState, dtr: [c.gdtrBase, BigInt(c.gdtrLimit), c.idtrBase, BigInt(c.idtrLimit)],
      sel: c.sel.slice(), msrs: new Map(c.msrs), shadow: [c.ssRet.slice(0, n), c.ssTarget.slice(0, n), c.ssSp.slice(0, n)], ssN: c.ssN,
    };
  }

  /** Restores what captureCpu() took; memory is the caller's business (see memoryChanged). */
  restoreCpu(s: CpuState): void {
    const c = this.cpu;
    c.r.set(s.r); c.rip = s.rip; c.flags = s.flags; c.fop = s.fop; c.fsz = s.fsz;
    [c.faLo, c.faHi, c.fbLo, c.fbHi, c.frLo, c.frHi, c.fcf] = s.lazy;
    c.fsBase = s.fsBase; c.gsBase = s.gsBase;
    [c.cr0, c.cr2, c.cr3, c.cr4, c.efer] = s.cr;
    c.cpl = s.cpl; this.mem.user = c.cpl === 3;
    c.icount = s.icount; c.stiShadowUntil = s.stiShadowUntil; c.repPending = s.repPending;
    c.x8.set(s.xmm); c.mxcsr = s.mxcsr; c.rngState = s.rngState;
    c.gdtrBase = s.dtr[0]; c.gdtrLimit = Number(s.dtr[1]); c.idtrBase = s.dtr[2]; c.idtrLimit = Number(s.dtr[3]);
    c.sel.set(s.sel);
    c.msrs.clear(); for (const [k, v] of s.msrs) c.msrs.set(k, v);
    c.ssRet.set(s.shadow[0]); c.ssTarget.set(s.shadow[1]); c.ssSp.set(s.shadow[2]); c.ssN = s.ssN;
    c.attention = false;
    this.mem.watchHits = [];
  }

  /**
   * Pages were added, removed, re-permissioned or had code rewritten behind the machine's back
   * (a time-travel restore): drops the TLBs, the current-page cache and the successor links.
   * Not needed when only data pages changed in place.
   */
  memoryChanged(): void {
    this.mem.flushTlb();
    this.cBase = NaN;
    // Code of pages replaced, removed, no longer executable or dropped from outside dies.
    for (const [k, cp] of [...this.codePages]) {
      if (this.mem.pages.get(k) !== cp.page || !(cp.page.perms & Perm.X) || cp.page.code !== cp.code) this.kill(k, cp);
    }
  }

  /** Human-readable fault or stop message for a CpuFault vector. */
  static vectorName(v: number): string {
    return VECTOR_NAMES[v] ?? `vector ${v}`;
  }
}

/** Processor state of Machine.captureCpu(): MachineSnapshot without the pages (shadow stack trimmed to its depth). */
export type CpuState = Omit<MachineSnapshot, 'pages'>;

export interface MachineSnapshot {
  r: Int32Array; rip: number; flags: number; fop: number; fsz: number; lazy: number[];
  fsBase: number; gsBase: number; cr: bigint[]; cpl: number; icount: number; stiShadowUntil: number;
  repPending: boolean; xmm: Uint8Array; mxcsr: number; rngState: bigint; dtr: bigint[]; sel: Int32Array; msrs: Map<number, bigint>; shadow: Float64Array[]; ssN: number;
  pages: Map<number, { data: Uint8Array; perms: number; region: string }>;
}

/** Block role from the instruction's record (exec/table.ts); unknown instructions stop the run, so run alone. */
function classify(i: Insn, special: boolean): void {
  const r = recordOf(i.mnemonic);
  i.endsBlock = r?.endsBlock === true;
  i.solo = special || r === undefined || r.solo === true || (i.rep !== 0 && r.soloWithRep === true);
}

function hex(a: number): string {
  return '0x' + addrToBig(a).toString(16);
}

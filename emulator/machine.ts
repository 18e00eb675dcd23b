// Machine: one x86-64 processor and its memory, with step / run-with-budget, typed stop
// reasons, breakpoints checked in O(1) per instruction, watch ranges, and complete-state
// snapshots. Usable from a plain Node script: no DAP and no VS Code here.
// Size (over 450 lines): the run loop, the block tier's entry and exits, breakpoints and watches
// share the Machine's hot state and stay in one class for speed; decoding, CPUID, MSRs,
// register access and snapshots already live in machine/.

import { Cpu, addrToBig, bigToAddr } from './cpu/cpu';
import { CpuFault, VECTOR_NAMES } from './cpu/fault';
import { MachineStop, PlatformInsn, SystemHooks } from './cpu/system';
import type { Block, Insn } from './decode/insn';
import { resolveHandler, recordOf, isaCpuid } from './exec/index';
import type { CpuidFeature } from './exec/table';
import { Memory, PAGE_SIZE, Access } from './memory/memory';
import { Cpuid, cpuidKey, defaultCpuid, lookupCpuid, parseKey } from './machine/cpuid';
import { DecodeCache } from './machine/decodeCache';
import { readMsr, writeMsr } from './machine/msrs';
import { readRegister, writeRegister } from './machine/registerAccess';
import { CpuState, MachineSnapshot, captureCpu, capturePages, restoreCpu, restorePages } from './machine/snapshot';

export type { Block } from './decode/insn';
export type { CpuState, MachineSnapshot } from './machine/snapshot';

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
   * Instructions interpreted from a block head (summed over its visits) before the straight-line
   * code from it is compiled into a block (0: before its first execution; Infinity: never, pure
   * interpretation). Default: HOT_BLOCK (see there).
   */
  blockThreshold?: number;
  /** Instructions retired before any block is compiled (default: WARM_UP with the default threshold, 0 with an explicit one). */
  warmUp?: number;
  /** Only the records' generic handlers, never their specialised forms (differential testing; blocks then call the handlers). */
  genericHandlers?: boolean;
  /**
   * Blocks treat the status flags as never read outside them (after the block, at a fault or
   * a watch hit), so every form that can leave them alone does unless an instruction later in
   * the block reads them (differential testing of that code; the flags after a run are then
   * meaningless).
   */
  allFlagsDead?: boolean;
  /** CPUID answers by `leaf` or `leaf:subleaf` (leaf in hex as the SDM writes it, `0x` optional; subleaf decimal), as [eax, ebx, ecx, edx]. */
  cpuid?: Record<string, [number, number, number, number]>;
}

/**
 * The default tiers: a block head is compiled once the straight-line code from it has run
 * HOT_BLOCK instructions interpreted (its heat: the instructions interpreted from the head up
 * to the next one, summed over its visits). Compiling costs the engine far more than the block
 * saves at first: it optimises each block function on a background thread, 10–60 ms of CPU per
 * block on this project's workloads (bigger blocks cost more), and until then the block runs
 * slower than the interpreter; once optimised it runs its instructions 1.5–3× faster than the
 * interpreter's ~20 ns (main-thread time of 100M-instruction runs). Taking the instructions a head
 * has run as those still to come, a block repays itself from about 2M instructions of heat; a
 * debugging session's short runs (up to 2M instructions) never compile anything.
 * Measured with `npm run bench -- --tiers` (each run the first of a fresh process, as a
 * session's is; process CPU time, which includes the background compilation): counting visits
 * instead (the earlier default, 5,000 visits after 2M instructions) compiled 22 qsort blocks by
 * 4.5M instructions and took 85% more CPU than the interpreter there (crc32 at 4M: +60%); with
 * 2M of heat qsort compiles none before 10M (1 by 11.5M, 5 by 37M), sha256 2, crc32 1. Lower
 * thresholds compiled more and lost more (10k: qsort's 22 blocks at 1.3M). No threshold tried
 * made blocks pay in a fresh process on all three workloads before about 30M instructions
 * (sha256 at 10–15M and qsort at 24–49M still lose 15–25%): that cost is the engine's, and
 * what is left to win is in cheaper block functions. Heat is counted only where blocks begin
 * (after a control transfer): counting it at every instruction made blocks start in the middle
 * of loops whenever a budget ran out inside one, dozens of overlapping block functions for one
 * loop (sha256: 73 blocks).
 */
export const HOT_BLOCK = 2_000_000;
/** Instructions the machine retires before any block is compiled, by default (the heat threshold already keeps short runs interpreted). */
export const WARM_UP = 0;

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
  private readonly code = new DecodeCache(this.mem, (ins) => this.finish(ins));
  private nextWatchId = 1;
  /** Where the last run's budget ran out inside straight-line code (no block begins there), else NaN. */
  private midBlockRip = NaN;
  /** Blocks compiled so far (see blocksCompiled). */
  private compiled = 0;

  constructor(opts: MachineOptions = {}) {
    this.cpu.mem = this.mem;
    this.cpu.sys = this;
    this.cpuidTable = defaultCpuid();
    isaCpuid(this.cpuidTable); // instruction-set features: exactly what the instruction table implements
    this.blockThreshold = opts.blockThreshold ?? HOT_BLOCK;
    this.warmUp = opts.warmUp ?? (opts.blockThreshold === undefined ? WARM_UP : 0);
    this.generic = opts.genericHandlers ?? false;
    this.code.allFlagsDead = opts.allFlagsDead ?? false;
    for (const [k, v] of Object.entries(opts.cpuid ?? {})) this.cpuidTable.set(parseKey(k), v);
    this.mem.onCodeWrite = (k) => { this.code.dropCode(k); this.cpu.attention = true; };
    this.mem.onWatchHit = () => { this.cpu.attention = true; };
    this.cpu.r[9] = 0;
  }

  // ---- memory -------------------------------------------------------------------------------

  /** Maps [address, address+size) (page granular) with permissions such as 'rx' or 'rw'. */
  map(address: bigint, size: number, perms: string, name = ''): void {
    const a = this.addr(address);
    this.mem.map(a, size, perms, name);
    // Permissions may have changed: decoded code there (and links into it) is dropped.
    this.code.dropPages(Math.floor(a / PAGE_SIZE), Math.floor((a + Math.max(size, 1) - 1) / PAGE_SIZE));
    this.code.leavePage();
  }

  unmap(address: bigint, size: number): void {
    this.mem.unmap(this.addr(address), size);
    this.code.leavePage();
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
    return readRegister(this.cpu, name);
  }

  setReg(name: string, value: bigint): void {
    writeRegister(this.cpu, this.mem, name, value, (a) => this.addr(a));
  }

  // ---- breakpoints and watches ------------------------------------------------------------

  addBreakpoint(address: bigint): void {
    const a = this.addr(address);
    this.breakpoints.add(a);
    const ins = this.code.cachedInsn(a);
    if (ins) ins.bp = true;
    this.code.killBlocks(a); // blocks that ran through this address must end before it now
  }

  removeBreakpoint(address: bigint): void {
    const a = this.addr(address);
    this.breakpoints.delete(a);
    const ins = this.code.cachedInsn(a);
    if (ins) ins.bp = false;
    this.code.killBlocks(a);
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

  /** Runs `handler` instead of whatever instruction sits at `address` (it must be mapped executable). */
  hookAddress(address: bigint, handler: (c: Cpu, i: Insn) => void): void {
    const a = this.addr(address);
    this.addressHooks.set(a, handler);
    const k = Math.floor(a / PAGE_SIZE);
    this.code.dropPages(k, k);
    this.code.leavePage();
  }

  // ---- decoding -----------------------------------------------------------------------------

  /** The decoded instruction at an address (decoding and caching it); throws CpuFault for #PF on fetch. */
  insnAt(address: number): Insn {
    return this.code.insnAt(address);
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
      ins.exec = resolveHandler(ins, this.generic, this.hasFeature);
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
      // The block being executed: an exception inside it names its instruction through c.blockIndex.
      let inBlock: Block | undefined;
      // Whether RIP is where a block may begin (see below): at the start of a run, unless the
      // last run's budget ran out in the middle of straight-line code and this one resumes there.
      let atHead = c.rip !== this.midBlockRip;
      this.midBlockRip = NaN;
      // The block head whose straight-line code is being interpreted, and the count it began at:
      // its heat grows by the instructions interpreted from it when the next head is reached.
      let heated: Insn | null = null, heatFrom = 0;
      try {
        let ins = this.code.lookup(c.rip);
        while (c.icount < end) {
          if (ins.bp && !first && !c.repPending) return this.stop('breakpoint', `breakpoint at ${hex(c.rip)}`);
          first = false;
          let b = ins.block;
          // Heat is counted where blocks begin: at the target of a control transfer (or after an
          // instruction that runs alone), never in the middle of straight-line code, where a
          // block would overlap the one already covering it. It is the instructions interpreted
          // from that head up to the next one (see HOT_BLOCK).
          if (atHead) {
            if (heated !== null) { heated.heat += c.icount - heatFrom; heated = null; }
            if ((b === null || b.dead) && !ins.solo && !ins.noBlock) {
              if (ins.heat >= this.blockThreshold && c.icount >= this.warmUp && (b = this.code.buildBlock(ins, this.returnAddress)) !== null) this.compiled++;
              if (b === null || b.dead) { heated = ins; heatFrom = c.icount; }
            }
          }
          if (b !== null && !b.dead && end - c.icount >= b.n && !mem.logging) {
            if (heated !== null) { heated.heat += c.icount - heatFrom; heated = null; }
            let blk: Block = b;
            // Straight-line blocks, one after another while each is followed by a live block
            // (no breakpoint inside or at its head, no instruction that reads the instruction
            // count); leaves when something needs attention or the budget is short of a block.
            for (;;) {
              inBlock = blk;
              const done = blk.run(c, end);
              inBlock = undefined;
              c.icount += done;
              if (c.attention) break;
              const rip = c.rip;
              let nb: Block | null = blk.next1;
              if (nb === null || nb.dead || nb.insns[0].addr !== rip) {
                nb = blk.next2;
                if (nb === null || nb.dead || nb.insns[0].addr !== rip) {
                  const nx = this.code.lookup(rip);
                  nb = nx.block;
                  if (nb === null || nb.dead) { ins = nx; nb = null; break; }
                  if (blk.next1 === null || blk.next1.dead) blk.next1 = nb; else blk.next2 = nb;
                }
              }
              if (nb.insns[0].bp || end - c.icount < nb.n) { ins = nb.insns[0]; nb = null; break; }
              blk = nb;
            }
            atHead = true;
            if (c.attention) {
              c.attention = false;
              if (mem.watchHits.length !== 0) return this.watchStop();
              ins = this.code.lookup(c.rip);
              atHead = false; // stopped inside the block
            }
            continue;
          }
          if (mem.logging) mem.logN = 0;
          c.rip = ins.next;
          inflight = ins;
          ins.exec(c, ins);
          inflight = undefined;
          c.icount++;
          atHead = ins.endsBlock || ins.solo;
          if (c.attention) { c.attention = false; if (mem.watchHits.length !== 0) return this.watchStop(); }
          // Follow the cached successor when it is still valid; else the other one, or look the target up.
          const rip = c.rip, nx = ins.succ;
          ins = nx !== null && nx.addr === rip && !nx.dead ? nx : this.successor(ins, rip);
        }
        if (!atHead) this.midBlockRip = c.rip;
        if (heated !== null) heated.heat += c.icount - heatFrom;
        return this.stop('budget', `instruction budget of ${budget} exhausted`);
      } catch (e) {
        if (inBlock) { inflight = inBlock.insns[c.blockIndex]; c.icount += c.blockIndex; c.rip = inflight.next; inBlock = undefined; }
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
   * The instruction at `rip` after `ins` when its first cached successor is not it: the second
   * one, or a lookup that becomes one of them. Apart from the run loop, whose engine-optimised
   * code is then not thrown away the first time an instruction has two successors.
   */
  private successor(ins: Insn, rip: number): Insn {
    let nx = ins.succ2;
    if (nx === null || nx.addr !== rip || nx.dead) {
      nx = this.code.lookup(rip);
      if (ins.succ === null || ins.succ.dead) ins.succ = nx; else ins.succ2 = nx;
    }
    return nx;
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

  /** Blocks the tier policy has compiled on this machine: each is a function the engine must optimise. */
  get blocksCompiled(): number {
    return this.compiled;
  }

  // ---- SystemHooks: CPUID, MSRs, platform -------------------------------------------------

  cpuid(leaf: number, subleaf: number): Cpuid {
    return lookupCpuid(this.cpuidTable, leaf, subleaf);
  }

  /** Sets a CPUID answer (the platform uses this for leaf 0x21 in a TD guest). */
  setCpuid(leaf: number, subleaf: number | undefined, value: Cpuid): void {
    this.cpuidTable.set(cpuidKey(leaf, subleaf), value);
    // Instructions whose feature bit changed resolve to other handlers (see resolveHandler).
    this.code.dropAll();
  }

  /** Whether CPUID announces an instruction-set feature. */
  private readonly hasFeature = (f: CpuidFeature): boolean => {
    const v = lookupCpuid(this.cpuidTable, f.leaf, f.subleaf ?? 0);
    return ((v[{ eax: 0, ebx: 1, ecx: 2, edx: 3 }[f.reg]] >>> f.bit) & 1) === 1;
  };

  rdmsr(c: Cpu, msr: number): bigint | undefined {
    return readMsr(c, msr);
  }

  wrmsr(c: Cpu, msr: number, value: bigint): boolean {
    return writeMsr(c, msr, value);
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
    return { ...this.captureCpu(), pages: capturePages(this.mem) };
  }

  restore(s: MachineSnapshot): void {
    this.code.dropAll();
    this.restoreCpu(s);
    restorePages(this.mem, s.pages);
    this.code.leavePage();
  }

  // ---- time travel (emulator/timetravel pairs these with its own page copies) ---------------

  /** The processor state alone, without memory: cheap enough for a checkpoint every few ms. */
  captureCpu(): CpuState {
    return captureCpu(this.cpu);
  }

  /** Restores what captureCpu() took; memory is the caller's business (see memoryChanged). */
  restoreCpu(s: CpuState): void {
    restoreCpu(this.cpu, this.mem, s);
  }

  /**
   * Pages were added, removed, re-permissioned or had code rewritten behind the machine's back
   * (a time-travel restore): drops the TLBs, the current-page cache and the successor links.
   * Not needed when only data pages changed in place.
   */
  memoryChanged(): void {
    this.mem.flushTlb();
    this.code.leavePage();
    this.code.dropStale();
  }

  /** Human-readable fault or stop message for a CpuFault vector. */
  static vectorName(v: number): string {
    return VECTOR_NAMES[v] ?? `vector ${v}`;
  }
}

/** Block role from the instruction's record (exec/table.ts); unknown instructions stop the run, so run alone. */
function classify(i: Insn, special: boolean): void {
  const r = recordOf(i.mnemonic);
  i.endsBlock = r?.endsBlock === true;
  i.trace = r?.trace ?? '';
  i.solo = special || r === undefined || r.solo === true || (i.rep !== 0 && r.soloWithRep === true);
}

function hex(a: number): string {
  return '0x' + addrToBig(a).toString(16);
}

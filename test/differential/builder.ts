// The case builder: the small API instruction forms use to pick registers, memory operands,
// flags and inputs. One form × one input index gives one Case: a labelled GAS block for the
// native program plus the input record (GPRs, RFLAGS, buffer seed and patches) both sides load.

import { BUF_ADDR, BUF_SIZE, DF, GPR16, GPR32, GPR64, GPR8, GPR8HIGH, RFLAGS_FIXED, RSP, STATUS } from './layout';
import { Rng, hashString, hex, mask } from './rng';

export type Width = 8 | 16 | 32 | 64;

/** A register operand. `high` marks AH/CH/DH/BH (bits 8..15 of register `idx`). */
export interface RegOp {
  name: string;
  idx: number;
  width: Width;
  high: boolean;
}

/** A memory operand: its AT&T text and where in the data buffer it points. */
export interface MemOp {
  text: string;
  off: number;
  addr: bigint;
}

/** One instruction form: a name unique in the catalogue and a builder of one random case. */
export interface Form {
  name: string;
  /** The mnemonic the form exercises (used to check catalogue coverage). */
  mnemonic: string;
  build(b: CaseBuilder): void;
}

export interface Patch {
  off: number;
  bytes: Uint8Array;
}

/** One generated case: code, inputs, and what the comparison must ignore. */
export interface Case {
  id: number;
  form: Form;
  index: number;
  /** The case's GAS text as placed in the native program (labels included). */
  asm: string[];
  regs: bigint[];
  rflags: bigint;
  /** XMM0–15 (128-bit each) and MXCSR. */
  xmm: bigint[];
  mxcsr: number;
  seed: number;
  patches: Patch[];
  /** RFLAGS bits the SDM leaves undefined for these inputs. */
  undefFlags: number;
  /** GPR indices whose final value the SDM leaves undefined. */
  undefRegs: number[];
  /** MXCSR bits not compared (none unless a form says so). */
  undefMxcsr: number;
  /** The case may legitimately fault (#DE, or a #GP the form provokes on purpose). */
  mayFault: boolean;
  hasEnd1: boolean;
}

export interface RegOpts {
  /** For 8-bit: 'legacy' = al..bl and ah..bh (no REX); 'rex' = spl..dil, r8b..r15b; default any low byte. */
  kind8?: 'legacy' | 'rex' | 'low';
  /** A fixed register (implicit operands). */
  idx?: number;
  high?: boolean;
  /** Only registers 0..7 (the instruction also encodes AH..BH, so no REX is allowed). */
  noRex?: boolean;
  noRsp?: boolean;
  /** The operand's input value (default: edge-biased random). */
  value?: bigint;
}

export interface MemOpts {
  value?: bigint;
  /** lea: the address is computed, never accessed (so it may point anywhere). */
  noAccess?: boolean;
  noRex?: boolean;
  /** Buffer offset of the access (default: random in [lo, hi)). */
  off?: number;
  align?: number;
  lo?: number;
  hi?: number;
  mode?: AddrMode;
}

export const ADDR_MODES = [
  'base', 'disp8', 'disp32', 'bisd8', 'bisd32', 'bis', 'rip', 'rsp', 'rbp', 'r12', 'r13', 'abs', 'index', 'addr32',
] as const;
export type AddrMode = (typeof ADDR_MODES)[number];

const DATA_LO = 0x1000;
const DATA_HI = 0x3000;
const NAMES: Record<number, readonly string[]> = { 8: GPR8, 16: GPR16, 32: GPR32, 64: GPR64 };

export function regName(idx: number, width: Width, high = false): string {
  return '%' + (high ? GPR8HIGH[idx] : NAMES[width][idx]);
}

/** An XMM register operand. */
export interface XmmOp {
  name: string;
  idx: number;
}

/** MXCSR at power-on: every exception masked, round to nearest, no flags. */
export const MXCSR_DEFAULT = 0x1f80;

export class CaseBuilder {
  readonly regs: bigint[] = [];
  rflags: bigint;
  readonly xmm: bigint[] = [];
  mxcsr = MXCSR_DEFAULT;
  undefMxcsr = 0;
  private readonly xmmOwned = new Set<number>();
  readonly patches: Patch[] = [];
  undefFlags = 0;
  readonly undefRegs: number[] = [];
  mayFault = false;
  /** Lay the END1 exit before the case start (for backward branches). */
  end1First = false;
  private hasEnd1 = false;
  private readonly body: string[] = [];
  private readonly tailLines: string[] = [];
  /** 'full' = the whole register belongs to an operand; 'legacy' = only AL/AH-style bytes do. */
  private readonly owner = new Map<number, 'full' | 'legacy'>();
  private readonly legacyUsed = new Set<string>();
  private readonly seedBase: number;
  stackUsed = false;

  constructor(readonly id: number, readonly formName: string, readonly index: number, readonly rng: Rng) {
    this.seedBase = hashString(formName);
    for (let i = 0; i < 16; i++) this.regs.push(rng.edge(64));
    // RSP points into the buffer unless a form takes it as a plain operand.
    this.regs[RSP] = BUF_ADDR + 0x3800n;
    this.rflags = RFLAGS_FIXED | this.randomStatus() | (rng.chance(0.15) ? BigInt(DF) : 0n);
    // XMM contents come from their own generator, so the GPR forms draw the inputs they always did.
    const xr = new Rng(hashString(formName) ^ Math.imul(index + 7, 0x85ebca6b));
    for (let i = 0; i < 16; i++) {
      let v = 0n;
      for (let k = 0; k < 4; k++) v |= xr.edge(32) << BigInt(32 * k);
      this.xmm.push(v);
    }
  }

  /** Picks an XMM register not used yet; `value` (128-bit) sets its input. */
  xreg(value?: bigint, idx?: number): XmmOp {
    const free: number[] = [];
    for (let i = 0; i < 16; i++) if (!this.xmmOwned.has(i) && (idx === undefined || idx === i)) free.push(i);
    if (free.length === 0) throw new Error(`${this.formName}: no XMM register left`);
    const r = this.rng.pick(free);
    this.xmmOwned.add(r);
    if (value !== undefined) this.xmm[r] = value & mask(128);
    return { name: `%xmm${r}`, idx: r };
  }

  setXmm(idx: number, value: bigint): void {
    this.xmm[idx] = value & mask(128);
  }

  get END0(): string {
    return `c${this.id}_end0`;
  }

  get END1(): string {
    this.hasEnd1 = true;
    return `c${this.id}_end1`;
  }

  local(name: string): string {
    return `c${this.id}_${name}`;
  }

  emit(...lines: string[]): void {
    this.body.push(...lines);
  }

  /** Code placed after the exit jumps (subroutines of call forms). */
  tail(...lines: string[]): void {
    this.tailLines.push(...lines);
  }

  undef(flags: number): void {
    this.undefFlags |= flags;
  }

  randomStatus(): bigint {
    return BigInt(this.rng.u32() & STATUS);
  }

  setDF(on: boolean): void {
    this.rflags = on ? this.rflags | BigInt(DF) : this.rflags & ~BigInt(DF);
  }

  val(width: number): bigint {
    return this.rng.edge(width);
  }

  /** Picks a register operand not used yet and gives it an input value. */
  reg(width: Width, opts: RegOpts = {}): RegOp {
    const op = this.pickReg(width, opts);
    this.setOperand(op, opts.value ?? this.rng.edge(width));
    return op;
  }

  /** Sets an operand's value, merging into the 64-bit register (upper bits stay random). */
  setOperand(op: RegOp, value: bigint): void {
    const shift = op.high ? 8n : 0n;
    const m = mask(op.width) << shift;
    this.regs[op.idx] = (this.regs[op.idx] & ~m) | ((value << shift) & m);
  }

  setReg(idx: number, value: bigint): void {
    this.regs[idx] = value & mask(64);
  }

  /** Claims a specific register for implicit use (e.g. RCX of rep, RDX:RAX of div). */
  claim(idx: number): void {
    this.owner.set(idx, 'full');
  }

  isFree(idx: number): boolean {
    return !this.owner.has(idx);
  }

  private pickReg(width: Width, opts: RegOpts): RegOp {
    if (width === 8 && opts.kind8 === 'legacy') {
      const cands: [number, boolean][] = [];
      for (let i = 0; i < 4; i++) for (const high of [false, true]) cands.push([i, high]);
      const ok = cands.filter(([i, h]) => (opts.idx === undefined || opts.idx === i) && (opts.high === undefined || opts.high === h)
        && this.owner.get(i) !== 'full' && !this.legacyUsed.has(`${i}${h}`) && !(i === RSP && this.stackUsed));
      if (ok.length === 0) throw new Error(`${this.formName}: no legacy byte register left`);
      const [idx, high] = this.rng.pick(ok);
      this.owner.set(idx, 'legacy');
      this.legacyUsed.add(`${idx}${high}`);
      return { name: regName(idx, 8, high), idx, width, high };
    }
    let cands: number[];
    if (opts.idx !== undefined) cands = [opts.idx];
    else {
      cands = [];
      const lo = width === 8 && opts.kind8 === 'rex' ? 4 : 0;
      const hi = opts.noRex ? 8 : 16;
      for (let i = lo; i < hi; i++) cands.push(i);
    }
    const ok = cands.filter((i) => !this.owner.has(i) && !(i === RSP && (opts.noRsp || this.stackUsed)));
    if (ok.length === 0) throw new Error(`${this.formName}: no register left (${cands.join(',')})`);
    const idx = this.rng.pick(ok);
    this.owner.set(idx, 'full');
    return { name: regName(idx, width), idx, width, high: false };
  }

  /** Writes bytes of `value` (little endian) into the buffer's initial contents. */
  poke(off: number, value: bigint, bytes: number): void {
    if (off < 0 || off + bytes > BUF_SIZE) throw new Error(`${this.formName}: poke outside buffer at ${hex(off)}`);
    const out = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
    this.patches.push({ off, bytes: out });
  }

  /** A buffer offset for an access of `bytes`, sometimes unaligned or crossing a page. */
  pickOff(bytes: number, opts: { align?: number; lo?: number; hi?: number } = {}): number {
    const lo = opts.lo ?? DATA_LO;
    const hi = opts.hi ?? DATA_HI;
    const align = opts.align ?? bytes;
    const r = this.rng.int(100);
    if (r < 15 && bytes > 1 && opts.align === undefined && lo < 0x2000 && hi > 0x2000 + bytes) return 0x2000 - this.rng.range(1, bytes - 1);
    if (r < 40 && opts.align === undefined) return this.rng.range(lo, hi - bytes);
    const slots = Math.floor((hi - lo - bytes) / align);
    return Math.ceil(lo / align) * align + this.rng.int(slots) * align;
  }

  /** Sets RSP to a stack inside the buffer and reserves it. Returns the buffer offset of RSP. */
  stack(opts: { aligned?: boolean } = {}): number {
    if (this.owner.has(RSP)) throw new Error(`${this.formName}: rsp already used as an operand`);
    this.owner.set(RSP, 'full');
    this.stackUsed = true;
    let off = 0x3200 + this.rng.int(0x100) * 8;
    if (!opts.aligned && this.rng.chance(0.1)) off += this.rng.range(1, 7);
    this.regs[RSP] = BUF_ADDR + BigInt(off);
    return off;
  }

  /** A memory operand. The addressing mode cycles with the input index so every form sees many. */
  mem(bytes: number, opts: MemOpts = {}): MemOp {
    const off = opts.off ?? this.pickOff(bytes, opts);
    let addr = BUF_ADDR + BigInt(off);
    if (opts.noAccess && opts.mode !== 'rip' && this.rng.chance(0.5)) addr = this.rng.edge(opts.mode === 'addr32' ? 32 : 64);
    if (!opts.noAccess) this.poke(off, opts.value ?? this.rng.edge(bytes * 8), bytes);
    const start = (this.index + this.seedBase) % ADDR_MODES.length;
    for (let k = 0; k < ADDR_MODES.length; k++) {
      const mode = opts.mode ?? ADDR_MODES[(start + k) % ADDR_MODES.length];
      const text = this.address(mode, addr, opts);
      if (text !== null) return { text, off, addr };
      if (opts.mode) throw new Error(`${this.formName}: addressing mode ${mode} not available`);
    }
    throw new Error(`${this.formName}: no addressing mode available`);
  }

  private freeRegs(noRex: boolean | undefined, except: number[] = []): number[] {
    const out: number[] = [];
    for (let i = 0; i < (noRex ? 8 : 16); i++) if (!this.owner.has(i) && !except.includes(i)) out.push(i);
    return out;
  }

  private takeBase(noRex: boolean | undefined): number | null {
    const free = this.freeRegs(noRex, [RSP]);
    if (free.length === 0) return null;
    const r = this.rng.pick(free);
    this.owner.set(r, 'full');
    return r;
  }

  private disp8(): number {
    return this.rng.chance(0.2) ? this.rng.pick([-128, 127, 0, -1]) : this.rng.range(-128, 127);
  }

  private disp32(): number {
    const d = this.rng.chance(0.2) ? this.rng.pick([-0x80000000, 0x7fffffff, 0x1000, -0x1000]) : (this.rng.u32() | 0);
    // Keep disp32 forms long: GAS picks disp8 when the value fits.
    return d >= -128 && d <= 127 ? d + 0x1000 : d;
  }

  private scaledIndex(): { iv: bigint; scale: number } {
    const scale = this.rng.pick([1, 2, 4, 8]);
    const iv = this.rng.chance(0.6) ? BigInt(this.rng.range(-2048, 2048)) : this.rng.u64();
    return { iv, scale };
  }

  /** Renders `addr` in `mode`, setting base/index registers; null if the mode is unavailable. */
  private address(mode: AddrMode, addr: bigint, opts: MemOpts): string | null {
    const m64 = mask(64);
    const noRex = opts.noRex;
    const fixedBase = (r: number, dispOk: boolean): string | null => {
      if (this.owner.has(r) || (r === RSP && this.stackUsed)) return null;
      this.owner.set(r, 'full');
      const d = dispOk && this.rng.chance(0.6) ? this.disp8() : 0;
      this.regs[r] = (addr - BigInt(d)) & m64;
      return `${d === 0 ? '' : d}(${regName(r, 64)})`;
    };
    switch (mode) {
      case 'base':
      case 'disp8':
      case 'disp32': {
        const b = this.takeBase(noRex);
        if (b === null) return null;
        const d = mode === 'base' ? 0 : mode === 'disp8' ? this.disp8() : this.disp32();
        this.regs[b] = (addr - BigInt(d)) & m64;
        return `${d === 0 ? '' : d}(${regName(b, 64)})`;
      }
      case 'bisd8':
      case 'bisd32':
      case 'bis': {
        const b = this.takeBase(noRex);
        if (b === null) return null;
        const i = this.takeBase(noRex);
        if (i === null) return null;
        const { iv, scale } = this.scaledIndex();
        const d = mode === 'bis' ? 0 : mode === 'bisd8' ? this.disp8() : this.disp32();
        this.regs[i] = iv & m64;
        this.regs[b] = (addr - BigInt(d) - iv * BigInt(scale)) & m64;
        return `${d === 0 ? '' : d}(${regName(b, 64)},${regName(i, 64)},${scale})`;
      }
      case 'rip':
      case 'abs': {
        const off = addr - BUF_ADDR;
        if (off < 0n || off >= BigInt(BUF_SIZE)) return null;
        return mode === 'rip' ? `DATABUF+${hex(off)}(%rip)` : `DATABUF+${hex(off)}`;
      }
      case 'rsp':
        return fixedBase(RSP, true);
      case 'rbp':
        return fixedBase(5, true);
      case 'r12':
        return noRex ? null : fixedBase(12, true);
      case 'r13':
        return noRex ? null : fixedBase(13, true);
      case 'index': {
        const i = this.takeBase(noRex);
        if (i === null) return null;
        const scale = this.rng.pick([1, 2, 4, 8]);
        const iv = BigInt(this.rng.range(-4096, 4096));
        const d = addr - iv * BigInt(scale);
        if (d < -0x80000000n || d > 0x7fffffffn) {
          this.owner.delete(i);
          return null;
        }
        this.regs[i] = iv & m64;
        return `${hex(d)}(,${regName(i, 64)},${scale})`;
      }
      case 'addr32': {
        if (addr > 0xffffffffn) return null;
        const b = this.takeBase(noRex);
        if (b === null) return null;
        const junk = () => this.rng.bits(32) << 32n;
        if (this.rng.chance(0.3)) {
          this.regs[b] = junk() | addr;
          return `(${regName(b, 32)})`;
        }
        const i = this.takeBase(noRex);
        if (i === null) return null;
        const scale = this.rng.pick([1, 2, 4, 8]);
        const iv = this.rng.bits(32);
        const d = this.disp8();
        this.regs[i] = junk() | iv;
        this.regs[b] = junk() | ((addr - BigInt(d) - iv * BigInt(scale)) & 0xffffffffn);
        return `${d === 0 ? '' : d}(${regName(b, 32)},${regName(i, 32)},${scale})`;
      }
    }
  }

  finish(form: Form, seed: number): Case {
    const id = this.id;
    const asm: string[] = [];
    const end1 = `c${id}_end1:\tjmp harness_exit1`;
    if (this.hasEnd1 && this.end1First) asm.push(end1);
    asm.push(`c${id}_start:`, ...this.body.map((l) => (l.endsWith(':') ? l : '\t' + l)), `c${id}_end0:\tjmp harness_exit0`);
    if (this.hasEnd1 && !this.end1First) asm.push(end1);
    asm.push(...this.tailLines.map((l) => (l.endsWith(':') ? l : '\t' + l)));
    return {
      id, form, index: this.index, asm,
      regs: this.regs.map((r) => r & mask(64)),
      rflags: this.rflags,
      xmm: this.xmm.slice(),
      mxcsr: this.mxcsr,
      undefMxcsr: this.undefMxcsr,
      seed,
      patches: this.patches,
      undefFlags: this.undefFlags,
      undefRegs: this.undefRegs,
      mayFault: this.mayFault,
      hasEnd1: this.hasEnd1,
    };
  }
}

/** Builds case `index` of `form`. Deterministic in (form name, index, seed). */
export function buildCase(form: Form, id: number, index: number, seed: number): Case {
  const rng = new Rng(hashString(form.name) ^ Math.imul(index + 1, 0x9e3779b9) ^ seed);
  const b = new CaseBuilder(id, form.name, index, rng);
  form.build(b);
  return b.finish(form, rng.u32() | 1);
}

// The register file of one x86-64 logical processor, shaped for speed: 64-bit values live as
// two 32-bit halves in a typed array (BigInt arithmetic costs 10x more in the hot path), and
// addresses as signed doubles (a canonical address fits a double exactly, ±2^47).

import { FlagOp } from './flags';
import type { Memory } from '../memory/memory';
import type { SystemHooks } from './system';

/**
 * The first value of a field that may hold more than the engine's small integers (31 bits):
 * addresses, 32-bit halves, counts. Such a field created with a small integer changes
 * representation the first time a bigger value arrives, which changes the shape of every
 * object of the class and throws away the optimised code of every function that touched one
 * (at a session's first run: dozens of handlers, compiled again). Created as a double, it never
 * changes; the constructor then sets the real initial value.
 */
export const WIDE = 0.5;

/** General-purpose registers in x86 encoding order; `r[2*i]` is the low half, `r[2*i+1]` the high. */
export const enum Gpr { RAX = 0, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 }

export const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;

/** RFLAGS bits. */
export const enum Fl {
  CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400, OF = 0x800,
  /** The six status flags computed by arithmetic. */
  ARITH = 0x8d5,
  /** Bit 1 always reads as one. */
  FIXED = 0x2,
}

/** Model-specific registers the machine knows by number (their home: the x86 register module). */
export { MSR } from '../x86/registers';

/** Frames the shadow call stack keeps; deeper calls are counted but not recorded. */
export const SHADOW_DEPTH = 4096;

export class Cpu {
  /** GPR halves: lo at 2*i, hi at 2*i+1. */
  readonly r = new Int32Array(32);
  /** RIP as a signed canonical address. */
  rip = WIDE;
  /** RFLAGS bits that are not pending in the lazy state below (DF, IF, TF, and the status flags when fop is NONE). */
  flags = Fl.FIXED as number;
  /** Lazy status flags: the last flag-setting operation, its width in bits, operands and result. */
  fop: FlagOp = FlagOp.NONE;
  fsz = 64;
  faLo = WIDE; faHi = WIDE;
  fbLo = WIDE; fbHi = WIDE;
  frLo = WIDE; frHi = WIDE;
  /** Carry into ADC/SBB, or the preserved CF for INC/DEC. */
  fcf = 0;

  /** The memory this processor accesses, and the machine services that system instructions reach. */
  mem!: Memory;
  sys!: SystemHooks;

  /** Scratch: high half returned by 64-bit operand reads, and the effective address of the memory operand. */
  readHigh = WIDE;
  ea = WIDE;

  /** FS and GS segment bases as signed canonical addresses (MSRs 0xC0000100/0xC0000101). */
  fsBase = WIDE;
  gsBase = WIDE;
  cr0 = 0x80050033n; // PG, WP, NE, ET, MP, PE: long-mode kernel defaults
  cr2 = 0n;
  cr3 = 0n;
  cr4 = 0x000006a0n; // PAE, PGE, OSFXSR, OSXMMEXCPT (VMXE off until the platform turns it on)
  efer = 0xd01n; // SCE, LME, LMA, NXE
  /**
   * Set by the platform: the control-register restrictions of VMX operation (IA32_VMX_CR0/CR4_FIXED0/1).
   * Returns why a MOV to CR0/CR4 of `v` violates them, or undefined. Called after the architectural checks.
   */
  crFixedCheck: ((cr: 0 | 4, v: bigint) => string | undefined) | undefined;
  cpl = 0;
  /** Instructions retired; also the source of the deterministic TSC. */
  icount = WIDE;
  /** Index of the instruction in flight within the executing block. */
  blockIndex = 0;
  /** Something needs the run loop's attention after this instruction (a watch hit). */
  attention = false;
  /** Set by a REP string instruction that re-executes (so a breakpoint on it does not fire mid-way). */
  repPending = false;
  /** icount at which the STI interrupt shadow ends (one instruction after STI). */
  stiShadowUntil = WIDE;
  /**
   * Shadow call stack (CALL pushes, RET pops to the matching entry): return address, callee,
   * and RSP after the push. Feeds the debugger's frames and step-out.
   */
  readonly ssRet = new Float64Array(SHADOW_DEPTH);
  readonly ssTarget = new Float64Array(SHADOW_DEPTH);
  readonly ssSp = new Float64Array(SHADOW_DEPTH);
  ssN = 0;
  /**
   * XMM0–XMM15, 16 bytes each (register i at byte 16*i, little endian), seen through typed views
   * of one buffer; and MXCSR (its power-on value: all exceptions masked, round to nearest).
   */
  readonly xmm = new ArrayBuffer(256);
  readonly x8 = new Uint8Array(this.xmm);
  readonly x16 = new Uint16Array(this.xmm);
  readonly x32 = new Int32Array(this.xmm);
  readonly xf32 = new Float32Array(this.xmm);
  readonly xf64 = new Float64Array(this.xmm);
  mxcsr = 0x1f80;
  /** State of the RDRAND/RDSEED generator (seeded from the launch `seed`; part of snapshots). */
  rngState = 0n;
  /** GDTR and IDTR (LGDT/LIDT, SGDT/SIDT, VERW's descriptor lookup). */
  gdtrBase = 0n;
  gdtrLimit = 0;
  idtrBase = 0n;
  idtrLimit = 0;
  /** The hidden part of LDTR (LLDT): the LDT's base and byte-granular limit. */
  ldtrBase = 0n;
  ldtrLimit = 0;
  /**
   * Segment selectors ES CS SS DS FS GS, TR, LDTR (exec/segment.ts); -1 until the program loads
   * one (the machine starts without selectors and has no descriptor caches).
   */
  readonly sel = new Int32Array([-1, -1, -1, -1, -1, -1, -1, -1]);
  /**
   * The hidden part of ES CS SS DS FS GS that the machine keeps: bits 15:8 and 23:20 of the
   * loaded descriptor's high dword (type, S, DPL, P; AVL, L, D/B, G) shifted down 8, 0 for a
   * null selector (unusable), -1 while unknown (exec/segment.ts). FS/GS bases are fsBase/gsBase.
   */
  readonly segAttr = new Int32Array([-1, -1, -1, -1, -1, -1]);
  /** MSRs modelled beyond the ones with fields above; reading or writing any other MSR raises #GP(0). */
  readonly msrs = new Map<number, bigint>();

  constructor() {
    this.rip = this.fsBase = this.gsBase = this.faLo = this.faHi = this.fbLo = this.fbHi = this.frLo = this.frHi = 0;
    this.readHigh = this.ea = this.icount = 0;
    this.stiShadowUntil = -1;
  }

  getGpr(i: number): bigint {
    return (BigInt(this.r[2 * i + 1] >>> 0) << 32n) | BigInt(this.r[2 * i] >>> 0);
  }

  /** XMM register i as an unsigned 128-bit value. */
  getXmm(i: number): bigint {
    let v = 0n;
    for (let k = 3; k >= 0; k--) v = (v << 32n) | BigInt(this.x32[4 * i + k] >>> 0);
    return v;
  }

  setXmm(i: number, v: bigint): void {
    v = BigInt.asUintN(128, v);
    for (let k = 0; k < 4; k++) { this.x32[4 * i + k] = Number(v & 0xffffffffn) | 0; v >>= 32n; }
  }

  setGpr(i: number, v: bigint): void {
    v = BigInt.asUintN(64, v);
    this.r[2 * i] = Number(v & 0xffffffffn) | 0;
    this.r[2 * i + 1] = Number(v >> 32n) | 0;
  }
}

/** Converts a signed-canonical address double to the 64-bit unsigned bigint users see. */
export function addrToBig(a: number): bigint {
  return BigInt.asUintN(64, BigInt(a));
}

/** Converts a 64-bit bigint address to the signed double used inside; undefined when not canonical. */
export function bigToAddr(v: bigint): number | undefined {
  const s = BigInt.asIntN(64, v);
  if (s < -(1n << 47n) || s >= 1n << 47n) return undefined;
  return Number(s);
}


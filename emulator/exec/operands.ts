// Operand access shared by every instruction family: effective addresses, and reads and
// writes of register/memory/immediate operands at any width. A read returns the low 32 bits
// and leaves the high half in `c.readHigh`; values narrower than 32 bits are zero-extended.

import { Cpu, SHADOW_DEPTH } from '../cpu/cpu';
import { CpuFault, Vector } from '../cpu/fault';
import { Insn, K } from '../decode/insn';

const TWO32 = 4294967296;

/** Masks by operand size in bytes. */
export const MASK = [0, 0xff, 0xffff, 0, 0xffffffff] as const;

/**
 * Canonical addresses an access may start at without linear()'s checks: [-2^47, 2^47 - 64).
 * Above that an access may run past the canonical range, which linear() checks (#GP/#SS).
 */
export const CANON_LO = -(2 ** 47), CANON_HI = 2 ** 47 - 64;

/** Effective address of the instruction's memory operand, as a signed canonical double. */
export function ea(c: Cpu, i: Insn): number {
  const r = c.r;
  let lo = i.mDispLo >>> 0, hi = i.mDispHi;
  const b = i.mBase;
  if (b >= 0) { lo += r[2 * b] >>> 0; hi += r[2 * b + 1]; }
  const x = i.mIndex;
  if (x >= 0) { lo += (r[2 * x] >>> 0) * i.mScale; hi += r[2 * x + 1] * i.mScale; }
  if (i.mSeg === 0 && !i.mA32) {
    // The common case, as a block computes it inline (template.ts blockOps): the sum of the
    // halves is exact as a double; a non-canonical or wrapped sum falls outside the range.
    const a = hi * TWO32 + lo;
    if (a >= CANON_LO && a < CANON_HI) return a;
  }
  return segLinear(c, i, lo, hi);
}

/**
 * The linear address from the sums of the low and high halves of base + index × scale +
 * displacement: the FS/GS base added, then linear(). Blocks call it with the sums of their own
 * registers (ea() would read c.r, which a block keeping registers in locals has not written).
 */
export function segLinear(c: Cpu, i: Insn, lo: number, hi: number): number {
  if (i.mSeg !== 0) {
    const base = i.mSeg === 1 ? c.fsBase : c.gsBase;
    const bl = base % TWO32;
    lo += bl < 0 ? bl + TWO32 : bl;
    hi += Math.floor(base / TWO32);
  }
  return linear(i, lo, hi);
}

/**
 * The linear address from the sums of the low halves (unsigned, may exceed 2^32) and of the
 * high halves of base + index × scale + displacement (+ segment base): wrapped to 64 bits (32
 * with an address-size prefix and no segment), #GP (#SS for RSP/RBP-based) when non-canonical
 * or when the access runs past the canonical range.
 */
export function linear(i: Insn, lo: number, hi: number): number {
  const b = i.mBase;
  if (lo >= TWO32) { const carry = Math.floor(lo / TWO32); lo -= carry * TWO32; hi += carry; }
  hi |= 0;
  if (i.mA32) {
    // 32-bit address size: the address wraps at 4 GiB (a segment base still applies).
    if (i.mSeg === 0) return lo;
  }
  if ((hi >> 15) !== 0 && (hi >> 15) !== -1) {
    const stack = b === 4 || b === 5;
    throw new CpuFault(stack ? Vector.SS : Vector.GP, 0, `non-canonical address 0x${(BigInt(hi >>> 0) << 32n | BigInt(lo)).toString(16)}`);
  }
  // An access that starts canonical and runs past 0x7fffffffffff is non-canonical too (#GP
  // before any page is looked at), not a #PF on the top page.
  if (hi === 0x7fff && lo > 0xffffffc0) {
    const size = i.memOp === 0 ? i.s0 : i.memOp === 1 ? i.s1 : i.s2;
    if (lo + size > TWO32) throw new CpuFault(b === 4 || b === 5 ? Vector.SS : Vector.GP, 0, `access of ${size} bytes at 0x7fff${lo.toString(16)} runs past the canonical range`);
  }
  return hi * TWO32 + lo;
}

/** Canonical address from halves, or #GP. */
export function addrOf(lo: number, hi: number): number {
  if ((hi >> 15) !== 0 && (hi >> 15) !== -1) throw new CpuFault(Vector.GP, 0, 'non-canonical address');
  return hi * TWO32 + (lo >>> 0);
}

/** Low half of a signed canonical address. */
export function loOf(a: number): number {
  return (a % TWO32) | 0;
}

/** High half of a signed canonical address. */
export function hiOf(a: number): number {
  return Math.floor(a / TWO32) | 0;
}

export function readReg(c: Cpu, r: number, size: number): number {
  const R = c.r;
  switch (size) {
    case 8: c.readHigh = R[2 * r + 1]; return R[2 * r];
    case 4: c.readHigh = 0; return R[2 * r];
    case 2: c.readHigh = 0; return R[2 * r] & 0xffff;
    default:
      c.readHigh = 0;
      return r >= 16 ? (R[2 * (r - 16)] >> 8) & 0xff : R[2 * r] & 0xff;
  }
}

export function writeReg(c: Cpu, r: number, size: number, lo: number, hi: number): void {
  const R = c.r;
  switch (size) {
    case 8: R[2 * r] = lo; R[2 * r + 1] = hi; return;
    case 4: R[2 * r] = lo; R[2 * r + 1] = 0; return;
    case 2: R[2 * r] = (R[2 * r] & ~0xffff) | (lo & 0xffff); return;
    default:
      if (r >= 16) { const j = 2 * (r - 16); R[j] = (R[j] & ~0xff00) | ((lo & 0xff) << 8); }
      else R[2 * r] = (R[2 * r] & ~0xff) | (lo & 0xff);
  }
}

export function readMem(c: Cpu, a: number, size: number): number {
  const m = c.mem;
  switch (size) {
    case 8: { const lo = m.read64(a); c.readHigh = m.hi; return lo; }
    case 4: c.readHigh = 0; return m.read32(a);
    case 2: c.readHigh = 0; return m.read16(a);
    default: c.readHigh = 0; return m.read8(a);
  }
}

export function writeMem(c: Cpu, a: number, size: number, lo: number, hi: number): void {
  const m = c.mem;
  switch (size) {
    case 8: m.write64(a, lo, hi); return;
    case 4: m.write32(a, lo); return;
    case 2: m.write16(a, lo); return;
    default: m.write8(a, lo);
  }
}

/** Reads operand 0 (for read-modify-write: the effective address is kept in `c.ea`). */
export function rd0(c: Cpu, i: Insn): number {
  if (i.k0 === K.REG) return readReg(c, i.r0, i.s0);
  const a = ea(c, i);
  c.ea = a;
  return readMem(c, a, i.s0);
}

/**
 * Reads operand 0 of a read-modify-write: a memory operand is first checked for writing, so a
 * page that cannot be written faults with the W bit in the #PF error code (as the CPU does).
 */
export function rd0w(c: Cpu, i: Insn): number {
  if (i.k0 === K.REG) return readReg(c, i.r0, i.s0);
  const a = ea(c, i);
  c.ea = a;
  c.mem.probeWrite(a, i.s0);
  return readMem(c, a, i.s0);
}

/** Writes operand 0; a memory destination uses `c.ea` from a preceding `rd0`, or computes it. */
export function wr0(c: Cpu, i: Insn, lo: number, hi: number, haveEa: boolean): void {
  if (i.k0 === K.REG) { writeReg(c, i.r0, i.s0, lo, hi); return; }
  writeMem(c, haveEa ? c.ea : ea(c, i), i.s0, lo, hi);
}

/** Reads operand 1 (register, memory or immediate). */
export function rd1(c: Cpu, i: Insn): number {
  switch (i.k1) {
    case K.REG: return readReg(c, i.r1, i.s1);
    case K.IMM: c.readHigh = i.immHi; return i.immLo;
    default: return readMem(c, ea(c, i), i.s1);
  }
}

/** Reads operand 2 (register, memory or immediate). */
export function rd2(c: Cpu, i: Insn): number {
  switch (i.k2) {
    case K.REG: return readReg(c, i.r2, i.s2);
    case K.IMM: c.readHigh = i.immHi; return i.immLo;
    default: return readMem(c, ea(c, i), i.s2);
  }
}

// ---- stack ------------------------------------------------------------------------------

/** Pushes a 64-bit value (or 16-bit with an operand-size prefix). The write happens before RSP changes. */
export function push64(c: Cpu, lo: number, hi: number): void {
  const R = c.r;
  let sLo = R[8], sHi = R[9];
  sLo = (sLo >>> 0) - 8;
  if (sLo < 0) { sLo += TWO32; sHi = (sHi - 1) | 0; }
  const a = addrOfStack(sLo, sHi);
  c.mem.write64(a, lo, hi);
  R[8] = sLo | 0; R[9] = sHi;
}

/** Pushes a 16-bit value (operand-size prefix). */
export function push16(c: Cpu, v: number): void {
  const R = c.r;
  let sLo = (R[8] >>> 0) - 2, sHi = R[9];
  if (sLo < 0) { sLo += TWO32; sHi = (sHi - 1) | 0; }
  c.mem.write16(addrOfStack(sLo, sHi), v);
  R[8] = sLo | 0; R[9] = sHi;
}

export function pop16(c: Cpu): number {
  const R = c.r;
  const v = c.mem.read16(addrOfStack(R[8], R[9]));
  addRsp(c, 2);
  return v;
}

export function pop64(c: Cpu): number {
  const R = c.r;
  const a = addrOfStack(R[8], R[9]);
  const lo = c.mem.read64(a);
  c.readHigh = c.mem.hi;
  let sLo = (R[8] >>> 0) + 8, sHi = R[9];
  if (sLo >= TWO32) { sLo -= TWO32; sHi = (sHi + 1) | 0; }
  R[8] = sLo | 0; R[9] = sHi;
  return lo;
}

/** Address of RSP-relative accesses: non-canonical raises #SS(0). */
export function addrOfStack(lo: number, hi: number): number {
  if ((hi >> 15) !== 0 && (hi >> 15) !== -1) throw new CpuFault(Vector.SS, 0, 'stack pointer is non-canonical');
  return hi * TWO32 + (lo >>> 0);
}

/** Adds a signed delta to RSP. */
export function addRsp(c: Cpu, delta: number): void {
  const R = c.r;
  let lo = (R[8] >>> 0) + delta, hi = R[9];
  if (lo >= TWO32) { lo -= TWO32; hi = (hi + 1) | 0; } else if (lo < 0) { lo += TWO32; hi = (hi - 1) | 0; }
  R[8] = lo | 0; R[9] = hi;
}

/** Sets RIP to a 64-bit target given in halves (#GP when non-canonical; RIP is rewound by the machine). */
export function jumpTo(c: Cpu, lo: number, hi: number): void {
  if ((hi >> 15) !== 0 && (hi >> 15) !== -1) throw new CpuFault(Vector.GP, 0, 'branch to a non-canonical address');
  c.rip = hi * TWO32 + (lo >>> 0);
}

/** Pops the shadow call stack to the frame whose return address was just taken (longjmp-style unwinds too). */
export function popShadow(c: Cpu, to: number): void {
  let n = Math.min(c.ssN, SHADOW_DEPTH);
  if (n > 0 && c.ssRet[n - 1] === to) { c.ssN = n - 1; return; }
  while (n > 0) {
    n--;
    if (c.ssRet[n] === to) { c.ssN = n; return; }
  }
  if (c.ssN > SHADOW_DEPTH) c.ssN--;
}

// MUL IMUL (one, two and three operands) DIV IDIV. Products are exact on 32-bit halves
// (mul64.ts); division, rarer in compiled code, goes through BigInt. #DE on a zero divisor and
// on a quotient that does not fit.

import { Cpu } from '../cpu/cpu';
import { CpuFault, Vector } from '../cpu/fault';
import { Insn, K } from '../decode/insn';
import { rec, type Form, type InsnRecord } from './table';
import { loadSource } from './template';
import { rd0, rd1, rd2, readReg, writeReg } from './operands';
import { mulU64, mulS64, mulhiU, mulhiS, W, mulFlagsN } from './mul64';

function big(lo: number, hi: number, size: number): bigint {
  const v = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return BigInt.asUintN(size * 8, v);
}

function sbig(lo: number, hi: number, size: number): bigint {
  return BigInt.asIntN(size * 8, big(lo, hi, size));
}

function lo32(v: bigint): number { return Number(BigInt.asUintN(32, v)) | 0; }
function hi32(v: bigint): number { return Number(BigInt.asUintN(32, v >> 32n)) | 0; }

/** Writes `v` (truncated to size) into register r. */
function put(c: Cpu, r: number, size: number, v: bigint): void {
  const u = BigInt.asUintN(size * 8, v);
  writeReg(c, r, size, lo32(u), size === 8 ? hi32(u) : 0);
}

const AX = 0, DX = 2;

/** Flags after a multiply: CF = OF = overflow; SF ZF PF from the low result as hardware does (the SDM leaves them undefined); AF clear. */
function sext(v: number, size: number): number {
  return size === 1 ? (v << 24) >> 24 : size === 2 ? (v << 16) >> 16 : v | 0;
}

/** MUL: unsigned AX = AL*src, DX:AX, EDX:EAX or RDX:RAX = accumulator * src; CF = OF = upper half non-zero. */
function mul(c: Cpu, i: Insn): void {
  const size = i.s0;
  const sLo = rd0(c, i), sHi = c.readHigh;
  const aLo = readReg(c, AX, size), aHi = c.readHigh;
  if (size === 8) {
    mulU64(aLo, aHi, sLo, sHi);
    const w0 = W[0], w1 = W[1], w2 = W[2], w3 = W[3];
    writeReg(c, AX, 8, w0, w1); writeReg(c, DX, 8, w2, w3);
    mulFlagsN(c, (w2 | w3) !== 0, w0, w1, 8);
    return;
  }
  if (size === 4) {
    const lo = Math.imul(aLo, sLo), hi = mulhiU(aLo >>> 0, sLo >>> 0) | 0;
    writeReg(c, AX, 4, lo, 0); writeReg(c, DX, 4, hi, 0);
    mulFlagsN(c, hi !== 0, lo, 0, 4);
    return;
  }
  const p = aLo * sLo; // at most 32 bits: exact
  if (size === 1) { writeReg(c, AX, 2, p & 0xffff, 0); mulFlagsN(c, (p >>> 8) !== 0, p & 0xff, 0, 1); return; }
  writeReg(c, AX, 2, p & 0xffff, 0); writeReg(c, DX, 2, p >>> 16, 0);
  mulFlagsN(c, (p >>> 16) !== 0, p & 0xffff, 0, 2);
}

/** IMUL in its three forms: one operand (accumulator, double width), two and three operands (truncated). */
function imul(c: Cpu, i: Insn): void {
  const size = i.s0;
  let aLo: number, aHi: number, bLo: number, bHi: number, dst: number;
  if (i.nops === 1) {
    bLo = rd0(c, i); bHi = c.readHigh;
    aLo = readReg(c, AX, size); aHi = c.readHigh;
    dst = -1;
  } else if (i.nops === 2) {
    aLo = readReg(c, i.r0, size); aHi = c.readHigh;
    bLo = rd1(c, i); bHi = c.readHigh;
    dst = i.r0;
  } else {
    aLo = rd1(c, i); aHi = c.readHigh;
    bLo = rd2(c, i); bHi = c.readHigh;
    dst = i.r0;
  }
  if (size === 8 && aHi === aLo >> 31 && bHi === bLo >> 31) {
    // Both factors are sign-extended 32-bit values: the product always fits in 64 bits.
    const lo = Math.imul(aLo, bLo), hi = mulhiS(aLo, bLo);
    if (dst < 0) { writeReg(c, AX, 8, lo, hi); writeReg(c, DX, 8, hi >> 31, hi >> 31); }
    else writeReg(c, dst, 8, lo, hi);
    mulFlagsN(c, false, lo, hi, 8);
    return;
  }
  if (size === 8) {
    mulS64(aLo, aHi, bLo, bHi);
    const w0 = W[0], w1 = W[1], w2 = W[2], w3 = W[3];
    const ext = w1 >> 31;
    const overflow = w2 !== ext || w3 !== ext;
    if (dst < 0) { writeReg(c, AX, 8, w0, w1); writeReg(c, DX, 8, w2, w3); }
    else writeReg(c, dst, 8, w0, w1);
    mulFlagsN(c, overflow, w0, w1, 8);
    return;
  }
  const a = sext(aLo, size), b = sext(bLo, size);
  if (size === 4) {
    const lo = Math.imul(a, b), hi = mulhiS(a, b);
    const overflow = hi !== (lo >> 31);
    if (dst < 0) { writeReg(c, AX, 4, lo, 0); writeReg(c, DX, 4, hi, 0); } else writeReg(c, dst, 4, lo, 0);
    mulFlagsN(c, overflow, lo, 0, 4);
    return;
  }
  const p = a * b; // |p| < 2^31: exact
  const low = sext(p & (size === 1 ? 0xff : 0xffff), size);
  const overflow = low !== p;
  if (dst >= 0) writeReg(c, dst, size, p & 0xffff, 0);
  else if (size === 1) writeReg(c, AX, 2, p & 0xffff, 0);
  else { writeReg(c, AX, 2, p & 0xffff, 0); writeReg(c, DX, 2, (p >> 16) & 0xffff, 0); }
  mulFlagsN(c, overflow, p, 0, size);
}

const TWO32 = 4294967296, TWO53 = 9007199254740992;

/** A value of (lo, hi) of `size` bytes as an exact double, or NaN beyond ±2^53. */
function exact(lo: number, hi: number, size: number, signed: boolean): number {
  if (size < 8) {
    const bits = size * 8;
    const u = size === 4 ? lo >>> 0 : lo & ((1 << bits) - 1);
    return signed && u >= 2 ** (bits - 1) ? u - 2 ** bits : u;
  }
  const v = signed ? hi * TWO32 + (lo >>> 0) : (hi >>> 0) * TWO32 + (lo >>> 0);
  return v > -TWO53 && v < TWO53 ? v : NaN;
}

/**
 * DIV/IDIV when dividend and divisor fit in doubles exactly (nearly always): `%` on doubles is
 * exact and truncates like IDIV, so the quotient (n - r) / d is exact too. False: take BigInt.
 */
function divideSmall(c: Cpu, i: Insn, signed: boolean, dLo: number, dHi: number): boolean {
  const size = i.s0;
  const d = exact(dLo, dHi, size, signed);
  if (d !== d || d === 0) return false;
  let n: number;
  if (size === 1) n = exact(readReg(c, AX, 2), 0, 2, signed);
  else {
    const aLo = readReg(c, AX, size), aHi = c.readHigh, xLo = readReg(c, DX, size), xHi = c.readHigh;
    // The high half must be the extension of the low one (zero, or the sign).
    const low = exact(aLo, aHi, size, signed);
    if (low !== low) return false;
    const ext = signed && low < 0 ? -1 : 0;
    const xm = size === 2 ? xLo & 0xffff : xLo;
    if ((size === 8 ? xHi : ext) !== ext || (size === 2 ? (ext & 0xffff) : ext) !== xm) return false;
    n = low;
  }
  if (n !== n) return false;
  const r = n % d, q = (n - r) / d;
  const bits = size * 8;
  const fits = signed ? q >= -(2 ** (bits - 1)) && q < 2 ** (bits - 1) : q < 2 ** bits;
  if (!fits) return false; // #DE: reported by the exact path
  const put2 = (reg: number, v: number) => {
    if (size === 8) writeReg(c, reg, 8, v | 0 /* low 32 bits of an exact integer */ , Math.floor(v / TWO32) | 0);
    else writeReg(c, reg, size, v | 0, 0);
  };
  if (size === 1) writeReg(c, AX, 2, (q & 0xff) | ((r & 0xff) << 8), 0);
  else { put2(AX, q); put2(DX, r); }
  return true;
}

function divide(c: Cpu, i: Insn, signed: boolean): void {
  const size = i.s0;
  const dLo = rd0(c, i), dHi = c.readHigh;
  if (divideSmall(c, i, signed, dLo, dHi)) return;
  const bits = BigInt(size * 8);
  const d = signed ? sbig(dLo, dHi, size) : big(dLo, dHi, size);
  if (d === 0n) throw new CpuFault(Vector.DE, undefined, `divide error: ${i.mnemonic} by zero`);
  let n: bigint;
  if (size === 1) n = big(readReg(c, AX, 2), 0, 2);
  else n = (big(readReg(c, DX, size), c.readHigh, size) << bits) | big(readReg(c, AX, size), c.readHigh, size);
  if (signed) n = BigInt.asIntN(size * 16, n);
  const q = n / d, r = n % d; // BigInt division truncates toward zero, as IDIV does
  const fits = signed ? q >= -(1n << (bits - 1n)) && q < 1n << (bits - 1n) : q < 1n << bits;
  if (!fits) throw new CpuFault(Vector.DE, undefined, `divide error: ${i.mnemonic} quotient does not fit in ${size * 8} bits`);
  if (size === 1) {
    const v = Number(BigInt.asUintN(8, q)) | (Number(BigInt.asUintN(8, r)) << 8);
    writeReg(c, AX, 2, v, 0);
  } else { put(c, AX, size, q); put(c, DX, size, r); }
}

/**
 * IMUL r32/r64 by a register, memory or (three-operand) an immediate: the computation of imul()
 * for these shapes, as a template.
 */
const imulForm: Form = {
  match: (i) => (i.s0 === 8 || i.s0 === 4) && i.k0 === K.REG && i.r0 < 16 && !i.lock && !i.rep
    && ((i.nops === 2 && ((i.k1 === K.REG && i.r1 < 16) || i.k1 === K.MEM)) || (i.nops === 3 && ((i.k1 === K.REG && i.r1 < 16) || i.k1 === K.MEM) && i.k2 === K.IMM)),
  faults: false,
  flags: 'def',
  src(o, i) {
    const sz = i.s0, w = sz === 8;
    const flags = (overflow: string, lo: string, hi: string, n: number) => (o.noFlags ? '' : `mulFlagsN(c, ${overflow}, ${lo}, ${hi}, ${n});`);
    let pre = '', aLo: string, aHi: string, bLo: string, bHi: string;
    const src1 = (): [string, string] => {
      if (i.k1 === K.REG) return [`R[${o.s}]`, w ? `R[${o.s} + 1]` : '0'];
      pre += `const a = ${o.ea}; ${loadSource(sz, 'a', 'mLo', 'mHi')} `;
      return ['mLo', 'mHi'];
    };
    if (i.nops === 2) { aLo = `R[${o.d}]`; aHi = w ? `R[${o.d} + 1]` : '0'; [bLo, bHi] = src1(); }
    else { [aLo, aHi] = src1(); bLo = o.immLo; bHi = w ? o.immHi : '0'; }
    if (w) return `{ ${pre}const aLo = ${aLo}, aHi = ${aHi}, bLo = ${bLo}, bHi = ${bHi};
      if (aHi === aLo >> 31 && bHi === bLo >> 31) { const lo = Math.imul(aLo, bLo), hi = mulhiS(aLo, bLo); R[${o.d}] = lo; R[${o.d} + 1] = hi; ${flags('false', 'lo', 'hi', 8)} }
      else { mulS64(aLo, aHi, bLo, bHi); const w0 = W[0], w1 = W[1], w2 = W[2], w3 = W[3], ext = w1 >> 31;
        R[${o.d}] = w0; R[${o.d} + 1] = w1; ${flags('w2 !== ext || w3 !== ext', 'w0', 'w1', 8)} } }`;
    return `{ ${pre}const f = ${aLo} | 0, g = ${bLo} | 0, lo = Math.imul(f, g), hi = mulhiS(f, g);
      R[${o.d}] = lo; R[${o.d} + 1] = 0; ${flags('hi !== (lo >> 31)', 'lo', '0', 4)} }`;
  },
};
const imulReg: Form = { ...imulForm, match: (i) => imulForm.match(i) && i.k1 !== K.MEM };
const imulMem: Form = { ...imulForm, faults: true };

/** MUL/IMUL: "The SF, ZF, AF, and PF flags are undefined." DIV/IDIV: all six status flags. */
const MUL_UNDEF = 0x80 | 0x40 | 0x10 | 0x04;
const DIV_UNDEF = 0x8d5;

export const records: InsnRecord[] = [
  rec('mul', mul, { undefinedFlags: MUL_UNDEF }),
  rec('imul', imul, { undefinedFlags: MUL_UNDEF, forms: [imulReg, imulMem] }),
  rec('div', (c, i) => divide(c, i, false), { undefinedFlags: DIV_UNDEF }),
  rec('idiv', (c, i) => divide(c, i, true), { undefinedFlags: DIV_UNDEF }),
];

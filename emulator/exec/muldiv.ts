// MUL IMUL (one, two and three operands) DIV IDIV. Products and quotients wider than 53 bits
// go through BigInt: these are rare enough in TDX call code that exactness wins here.
// #DE on a zero divisor and on a quotient that does not fit.

import { Cpu } from '../cpu/cpu';
import { setArith, parityFlag } from '../cpu/flags';
import { CpuFault, Vector } from '../cpu/fault';
import { Insn, K } from '../decode/insn';
import type { Handler } from '../decode/insn';
import { rd0, rd1, rd2, readReg, writeReg } from './operands';

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

/** Flags after a multiply: CF = OF = overflow; SF ZF PF from the low result as hardware does (the SDM leaves them undefined); AF clear. */
function mulFlags(c: Cpu, overflow: boolean, low: bigint, size: number): void {
  const u = BigInt.asUintN(size * 8, low);
  const sign = (u >> BigInt(size * 8 - 1)) & 1n;
  setArith(c, (overflow ? 0x801 : 0) | (u === 0n ? 0x40 : 0) | (sign ? 0x80 : 0) | parityFlag(Number(u & 0xffn)));
}

const AX = 0, DX = 2;

function mul(c: Cpu, i: Insn): void {
  const size = i.s0;
  const src = big(rd0(c, i), c.th, size);
  const a = big(readReg(c, AX, size), c.th, size);
  const p = a * src;
  const bits = BigInt(size * 8);
  const low = BigInt.asUintN(size * 8, p), high = p >> bits;
  if (size === 1) put(c, AX, 2, p);
  else { put(c, AX, size, low); put(c, DX, size, high); }
  mulFlags(c, high !== 0n, low, size);
}

function imul(c: Cpu, i: Insn): void {
  const size = i.s0;
  if (i.nops === 1) {
    const src = sbig(rd0(c, i), c.th, size);
    const a = sbig(readReg(c, AX, size), c.th, size);
    const p = a * src;
    const low = BigInt.asIntN(size * 8, p);
    if (size === 1) put(c, AX, 2, p);
    else { put(c, AX, size, p); put(c, DX, size, p >> BigInt(size * 8)); }
    mulFlags(c, low !== p, low, size);
    return;
  }
  let a: bigint, b: bigint;
  if (i.nops === 2) { a = sbig(readReg(c, i.r0, size), c.th, size); b = sbig(rd1(c, i), c.th, i.k1 === K.IMM ? size : i.s1); }
  else { a = sbig(rd1(c, i), c.th, i.s1); b = sbig(rd2(c, i), c.th, size); }
  const p = a * b;
  const low = BigInt.asIntN(size * 8, p);
  put(c, i.r0, size, low);
  mulFlags(c, low !== p, low, size);
}

function divide(c: Cpu, i: Insn, signed: boolean): void {
  const size = i.s0;
  const bits = BigInt(size * 8);
  const d = signed ? sbig(rd0(c, i), c.th, size) : big(rd0(c, i), c.th, size);
  if (d === 0n) throw new CpuFault(Vector.DE, undefined, `divide error: ${i.mnemonic} by zero`);
  let n: bigint;
  if (size === 1) n = big(readReg(c, AX, 2), 0, 2);
  else n = (big(readReg(c, DX, size), c.th, size) << bits) | big(readReg(c, AX, size), c.th, size);
  if (signed) n = BigInt.asIntN(size * 16, n);
  const q = n / d, r = n % d; // BigInt division truncates toward zero, as IDIV does
  const fits = signed ? q >= -(1n << (bits - 1n)) && q < 1n << (bits - 1n) : q < 1n << bits;
  if (!fits) throw new CpuFault(Vector.DE, undefined, `divide error: ${i.mnemonic} quotient does not fit in ${size * 8} bits`);
  if (size === 1) {
    const v = Number(BigInt.asUintN(8, q)) | (Number(BigInt.asUintN(8, r)) << 8);
    writeReg(c, AX, 2, v, 0);
  } else { put(c, AX, size, q); put(c, DX, size, r); }
}

export const muldivHandlers: Record<string, Handler> = {
  mul,
  imul,
  div: (c, i) => divide(c, i, false),
  idiv: (c, i) => divide(c, i, true),
};

// 32x32 and 64x64 multiplication on 32-bit halves, exact, without BigInt: the high word of a
// 32x32 product through 16-bit limbs (Hacker's Delight `mulhu`), and a 128-bit product of two
// 64-bit values from four of those. Results land in `W` (four 32-bit words, least significant first).

import type { Cpu } from '../cpu/cpu';
import { setArith, parityFlag } from '../cpu/flags';

/** High 32 bits of the unsigned product of two uint32 values. */
export function mulhiU(a: number, b: number): number {
  const u0 = a & 0xffff, u1 = a >>> 16, v0 = b & 0xffff, v1 = b >>> 16;
  const t = u1 * v0 + ((u0 * v0) >>> 16);
  const w1 = u0 * v1 + (t & 0xffff);
  return (u1 * v1 + Math.floor(t / 65536) + Math.floor(w1 / 65536)) >>> 0;
}

/** High 32 bits of the signed product of two int32 values. */
export function mulhiS(a: number, b: number): number {
  let h = mulhiU(a >>> 0, b >>> 0);
  if (a < 0) h -= b >>> 0;
  if (b < 0) h -= a >>> 0;
  return h | 0;
}

/** The 128-bit product's words, least significant first (int32 storage). */
export const W = new Int32Array(4);

const TWO32 = 4294967296;

/** W = (aHi:aLo) * (bHi:bLo), unsigned 128-bit. */
export function mulU64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  const al = aLo >>> 0, ah = aHi >>> 0, bl = bLo >>> 0, bh = bHi >>> 0;
  const l00 = Math.imul(al, bl) >>> 0, h00 = mulhiU(al, bl);
  const l01 = Math.imul(al, bh) >>> 0, h01 = mulhiU(al, bh);
  const l10 = Math.imul(ah, bl) >>> 0, h10 = mulhiU(ah, bl);
  const l11 = Math.imul(ah, bh) >>> 0, h11 = mulhiU(ah, bh);
  const mid = h00 + l01 + l10;
  const c1 = Math.floor(mid / TWO32);
  const top = h01 + h10 + l11 + c1;
  const c2 = Math.floor(top / TWO32);
  W[0] = l00;
  W[1] = mid - c1 * TWO32;
  W[2] = top - c2 * TWO32;
  W[3] = h11 + c2;
}

/** W = (aHi:aLo) * (bHi:bLo), signed 128-bit (two's complement in W). */
export function mulS64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  mulU64(aLo, aHi, bLo, bHi);
  // Signed correction of the upper half: subtract b when a < 0 and a when b < 0 (mod 2^64).
  if (aHi < 0) sub64Upper(bLo, bHi);
  if (bHi < 0) sub64Upper(aLo, aHi);
}

function sub64Upper(lo: number, hi: number): void {
  const d = (W[2] >>> 0) - (lo >>> 0);
  W[2] = d;
  W[3] = (W[3] - hi - (d < 0 ? 1 : 0)) | 0;
}

/** Flags after MUL/IMUL: CF = OF = overflow; SF, ZF, PF of the (low) result as hardware leaves them (the SDM calls them undefined). */
export function mulFlagsN(c: Cpu, overflow: boolean, lo: number, hi: number, size: number): void {
  let sign: number, zero: boolean;
  if (size === 8) { sign = hi >>> 31; zero = (lo | hi) === 0; }
  else { const v = size === 4 ? lo : lo & (size === 2 ? 0xffff : 0xff); sign = (v >>> (size * 8 - 1)) & 1; zero = v === 0; }
  setArith(c, (overflow ? 0x801 : 0) | (zero ? 0x40 : 0) | (sign ? 0x80 : 0) | parityFlag(lo & 0xff));
}

// Data movement: MOV/MOVABS MOVZX MOVSX MOVSXD LEA XCHG BSWAP CMOVcc SETcc and the sign
// extensions of the accumulator (CBW CWDE CDQE CWD CDQ CQO). None of these touch flags.

import { Cpu } from '../cpu/cpu';
import { testCond } from '../cpu/flags';
import { Insn, K } from '../decode/insn';
import type { Handler } from '../decode/insn';
import { rd0, rd1, wr0, readReg, writeReg, writeMem, readMem, ea } from './operands';
import { movCr } from './system';

const TWO32 = 4294967296;

function mov(c: Cpu, i: Insn): void {
  if (i.k0 === K.CR || i.k1 === K.CR) { movCr(c, i); return; }
  const lo = rd1(c, i);
  wr0(c, i, lo, c.th, false);
}

function movzx(c: Cpu, i: Insn): void {
  const lo = rd1(c, i);
  wr0(c, i, lo, 0, false);
}

function movsx(c: Cpu, i: Insn): void {
  let v = rd1(c, i);
  if (i.s1 === 1) v = (v << 24) >> 24;
  else if (i.s1 === 2) v = (v << 16) >> 16;
  else v |= 0;
  if (i.s0 === 2) v &= 0xffff;
  wr0(c, i, v, v < 0 ? -1 : 0, false);
}

/** LEA computes the address with no canonical check and no memory access, truncated to the operand size. */
function lea(c: Cpu, i: Insn): void {
  const r = c.r;
  let lo = i.mDispLo >>> 0, hi = i.mDispHi;
  if (i.mBase >= 0) { lo += r[2 * i.mBase] >>> 0; hi += r[2 * i.mBase + 1]; }
  if (i.mIndex >= 0) { lo += (r[2 * i.mIndex] >>> 0) * i.mScale; hi += r[2 * i.mIndex + 1] * i.mScale; }
  const carry = Math.floor(lo / TWO32);
  lo -= carry * TWO32;
  hi = (hi + carry) | 0;
  if (i.mA32) hi = 0;
  writeReg(c, i.r0, i.s0, lo | 0, i.s0 === 8 ? hi : 0);
}

function xchg(c: Cpu, i: Insn): void {
  if (i.k1 === K.MEM) {
    // Memory first so that a fault leaves the register untouched.
    const a = ea(c, i);
    const mLo = readMem(c, a, i.s1), mHi = c.th;
    const rLo = readReg(c, i.r0, i.s0), rHi = c.th;
    writeMem(c, a, i.s1, rLo, rHi);
    writeReg(c, i.r0, i.s0, mLo, mHi);
    return;
  }
  const aLo = rd0(c, i), aHi = c.th;
  const bLo = readReg(c, i.r1, i.s1), bHi = c.th;
  wr0(c, i, bLo, bHi, true);
  writeReg(c, i.r1, i.s1, aLo, aHi);
}

function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

function bswap(c: Cpu, i: Insn): void {
  const lo = readReg(c, i.r0, i.s0), hi = c.th;
  if (i.s0 === 8) writeReg(c, i.r0, 8, bswap32(hi), bswap32(lo));
  else if (i.s0 === 4) writeReg(c, i.r0, 4, bswap32(lo), 0);
  else writeReg(c, i.r0, 2, 0, 0); // BSWAP of a 16-bit register: undefined by the SDM; hardware gives zero
}

/** CMOVcc reads its source whatever the condition (it may fault), and a 32-bit form always zero-extends. */
function cmov(c: Cpu, i: Insn): void {
  const lo = rd1(c, i), hi = c.th;
  if (testCond(c, i.cc)) writeReg(c, i.r0, i.s0, lo, hi);
  else if (i.s0 === 4) c.r[2 * i.r0 + 1] = 0;
}

function setcc(c: Cpu, i: Insn): void {
  wr0(c, i, testCond(c, i.cc) ? 1 : 0, 0, false);
}

const R = { AX: 0, DX: 2 };

export const moveHandlers: Record<string, Handler> = {
  mov, movzx, movsx, movsxd: movsx, lea, xchg, bswap,
  cbw: (c) => { const v = (c.r[0] << 24) >> 24; writeReg(c, R.AX, 2, v, 0); },
  cwde: (c) => { const v = (c.r[0] << 16) >> 16; writeReg(c, R.AX, 4, v, 0); },
  cdqe: (c) => { c.r[1] = c.r[0] >> 31; },
  cwd: (c) => { writeReg(c, R.DX, 2, (c.r[0] << 16) >> 31, 0); },
  cdq: (c) => { writeReg(c, R.DX, 4, c.r[0] >> 31, 0); },
  cqo: (c) => { const s = c.r[1] >> 31; c.r[4] = s; c.r[5] = s; },
};
for (const cc of ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g']) {
  moveHandlers['cmov' + cc] = cmov;
  moveHandlers['set' + cc] = setcc;
}

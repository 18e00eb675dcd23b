// String instructions MOVS STOS LODS CMPS SCAS (b/w/d/q) with REP/REPE/REPNE and DF. A REP
// form runs a bounded chunk of iterations per execution and re-executes itself until RCX
// runs out, so a huge count never blocks the run loop (budgets, pause) and faults stay precise.

import { Cpu, Fl } from '../cpu/cpu';
import { getZF } from '../cpu/flags';
import { Insn } from '../decode/insn';
import type { Handler } from '../decode/insn';
import { rec, type InsnRecord } from './table';
import { readMem, writeMem, readReg, writeReg } from './operands';
import { core } from './alu';
import { FlagOp } from '../cpu/flags';
import { CpuFault, Vector } from '../cpu/fault';

const TWO32 = 4294967296;
const CHUNK = 4096;

const enum S { MOVS, STOS, LODS, CMPS, SCAS }

/** Register halves as an address; 32-bit address size uses the low half only. */
function regAddr(c: Cpu, r: number, a32: boolean): number {
  const lo = c.r[2 * r] >>> 0;
  if (a32) return lo;
  const hi = c.r[2 * r + 1];
  if ((hi >> 15) !== 0 && (hi >> 15) !== -1) throw new CpuFault(Vector.GP, 0, 'string operand address is non-canonical');
  return hi * TWO32 + lo;
}

function advance(c: Cpu, r: number, delta: number, a32: boolean): void {
  const R = c.r;
  let lo = (R[2 * r] >>> 0) + delta;
  if (a32) { R[2 * r] = lo | 0; R[2 * r + 1] = 0; return; }
  let hi = R[2 * r + 1];
  if (lo >= TWO32) { lo -= TWO32; hi = (hi + 1) | 0; } else if (lo < 0) { lo += TWO32; hi = (hi - 1) | 0; }
  R[2 * r] = lo | 0; R[2 * r + 1] = hi;
}

function segBase(c: Cpu, i: Insn): number {
  return i.mSeg === 1 ? c.fsBase : i.mSeg === 2 ? c.gsBase : 0;
}

function once(c: Cpu, i: Insn, op: S, sz: number, delta: number): void {
  const a32 = i.mA32;
  switch (op) {
    case S.MOVS: {
      const lo = readMem(c, regAddr(c, 6, a32) + segBase(c, i), sz), hi = c.readHigh;
      writeMem(c, regAddr(c, 7, a32), sz, lo, hi);
      advance(c, 6, delta, a32); advance(c, 7, delta, a32);
      return;
    }
    case S.STOS: {
      const lo = readReg(c, 0, sz), hi = c.readHigh;
      writeMem(c, regAddr(c, 7, a32), sz, lo, hi);
      advance(c, 7, delta, a32);
      return;
    }
    case S.LODS: {
      const lo = readMem(c, regAddr(c, 6, a32) + segBase(c, i), sz), hi = c.readHigh;
      writeReg(c, 0, sz, lo, hi);
      advance(c, 6, delta, a32);
      return;
    }
    case S.CMPS: {
      const aLo = readMem(c, regAddr(c, 6, a32) + segBase(c, i), sz), aHi = c.readHigh;
      const bLo = readMem(c, regAddr(c, 7, a32), sz), bHi = c.readHigh;
      const [lo, hi] = core.sub(sz, aLo, aHi, bLo, bHi);
      core.setLazy(c, FlagOp.SUB, sz, aLo, aHi, bLo, bHi, lo, hi, 0);
      advance(c, 6, delta, a32); advance(c, 7, delta, a32);
      return;
    }
    case S.SCAS: {
      const aLo = readReg(c, 0, sz), aHi = c.readHigh;
      const bLo = readMem(c, regAddr(c, 7, a32), sz), bHi = c.readHigh;
      const [lo, hi] = core.sub(sz, aLo, aHi, bLo, bHi);
      core.setLazy(c, FlagOp.SUB, sz, aLo, aHi, bLo, bHi, lo, hi, 0);
      advance(c, 7, delta, a32);
    }
  }
}

function stringOp(op: S): Handler {
  const compares = op === S.CMPS || op === S.SCAS;
  return (c: Cpu, i: Insn) => {
    const sz = i.s0 || i.s1;
    const delta = c.flags & Fl.DF ? -sz : sz;
    if (i.rep === 0) { once(c, i, op, sz, delta); return; }
    const R = c.r, a32 = i.mA32;
    c.repPending = false;
    for (let n = 0; n < CHUNK; n++) {
      if (a32 ? R[2] === 0 : (R[2] | R[3]) === 0) return;
      once(c, i, op, sz, delta);
      // RCX counts down after each element.
      const lo = (R[2] >>> 0) - 1;
      if (a32) { R[2] = lo | 0; R[3] = 0; }
      else if (lo < 0) { R[2] = -1; R[3] = (R[3] - 1) | 0; } else R[2] = lo | 0;
      if (compares) {
        const zf = getZF(c);
        if (i.rep === 1 ? zf === 0 : zf === 1) return;
      }
    }
    // Not finished: run this instruction again (RIP back at it), as an interrupted REP does.
    if (a32 ? R[2] !== 0 : (R[2] | R[3]) !== 0) { c.rip = i.addr; c.repPending = true; }
  };
}

/** With a REP prefix these re-execute themselves: the machine runs them alone (see machine.ts). */
export const records: InsnRecord[] = ([['movs', S.MOVS], ['stos', S.STOS], ['lods', S.LODS], ['cmps', S.CMPS], ['scas', S.SCAS]] as const)
  .map(([name, op]) => rec(name, stringOp(op), {
    mnemonics: ['b', 'w', 'd', 'q'].map((s) => name + s), asm: ['b', 'w', 'l', 'q'].map((s) => name + s), soloWithRep: true,
  }));

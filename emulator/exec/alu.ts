// Integer arithmetic and logic: ADD ADC SUB SBB AND OR XOR CMP TEST NOT NEG INC DEC, one
// width-generic routine per operation. Flags are left lazy (see cpu/flags.ts).

import { Cpu } from '../cpu/cpu';
import { FlagOp, getCF } from '../cpu/flags';
import { Insn } from '../decode/insn';
import { rd0, rd1, wr0 } from './operands';
import type { Handler } from '../decode/insn';

const TWO32 = 4294967296;

/** Result halves of the last ALU helper call. */
let rHi = 0;

function addCore(sz: number, aLo: number, aHi: number, bLo: number, bHi: number, cin: number): number {
  if (sz === 8) {
    const s = (aLo >>> 0) + (bLo >>> 0) + cin;
    rHi = (aHi + bHi + (s >= TWO32 ? 1 : 0)) | 0;
    return s | 0;
  }
  rHi = 0;
  if (sz === 4) return (aLo + bLo + cin) | 0;
  return (aLo + bLo + cin) & (sz === 1 ? 0xff : 0xffff);
}

function subCore(sz: number, aLo: number, aHi: number, bLo: number, bHi: number, cin: number): number {
  if (sz === 8) {
    const d = (aLo >>> 0) - (bLo >>> 0) - cin;
    rHi = (aHi - bHi - (d < 0 ? 1 : 0)) | 0;
    return d | 0;
  }
  rHi = 0;
  if (sz === 4) return (aLo - bLo - cin) | 0;
  return (aLo - bLo - cin) & (sz === 1 ? 0xff : 0xffff);
}

function setLazy(c: Cpu, op: FlagOp, sz: number, aLo: number, aHi: number, bLo: number, bHi: number, lo: number, hi: number, cin: number): void {
  c.fop = op; c.fsz = sz * 8;
  c.faLo = aLo; c.faHi = aHi; c.fbLo = bLo; c.fbHi = bHi;
  c.frLo = lo; c.frHi = hi; c.fcf = cin;
}

function arith(op: FlagOp, sub: boolean, carry: boolean, write: boolean): Handler {
  return (c: Cpu, i: Insn) => {
    const sz = i.s0;
    const aLo = rd0(c, i), aHi = c.th;
    const bLo = rd1(c, i), bHi = c.th;
    const cin = carry ? getCF(c) : 0;
    const lo = sub ? subCore(sz, aLo, aHi, bLo, bHi, cin) : addCore(sz, aLo, aHi, bLo, bHi, cin);
    const hi = rHi;
    if (write) wr0(c, i, lo, hi, true);
    setLazy(c, op, sz, aLo, aHi, bLo, bHi, lo, hi, cin);
  };
}

const enum L { AND, OR, XOR }

function logic(kind: L, write: boolean): Handler {
  return (c: Cpu, i: Insn) => {
    const sz = i.s0;
    const aLo = rd0(c, i), aHi = c.th;
    const bLo = rd1(c, i), bHi = c.th;
    let lo: number, hi: number;
    if (kind === L.AND) { lo = aLo & bLo; hi = aHi & bHi; }
    else if (kind === L.OR) { lo = aLo | bLo; hi = aHi | bHi; }
    else { lo = aLo ^ bLo; hi = aHi ^ bHi; }
    if (sz !== 8) hi = 0;
    if (write) wr0(c, i, lo, hi, true);
    c.fop = FlagOp.LOGIC; c.fsz = sz * 8; c.frLo = lo; c.frHi = hi;
  };
}

function not(c: Cpu, i: Insn): void {
  const sz = i.s0;
  const lo = rd0(c, i), hi = c.th;
  if (sz === 8) wr0(c, i, ~lo, ~hi, true);
  else wr0(c, i, sz === 4 ? ~lo : ~lo & (sz === 1 ? 0xff : 0xffff), 0, true);
}

function neg(c: Cpu, i: Insn): void {
  const sz = i.s0;
  const bLo = rd0(c, i), bHi = c.th;
  const lo = subCore(sz, 0, 0, bLo, bHi, 0), hi = rHi;
  wr0(c, i, lo, hi, true);
  setLazy(c, FlagOp.SUB, sz, 0, 0, bLo, bHi, lo, hi, 0);
}

function incdec(dec: boolean): Handler {
  return (c: Cpu, i: Insn) => {
    const sz = i.s0;
    const aLo = rd0(c, i), aHi = c.th;
    const lo = dec ? subCore(sz, aLo, aHi, 1, 0, 0) : addCore(sz, aLo, aHi, 1, 0, 0), hi = rHi;
    const cf = getCF(c);
    wr0(c, i, lo, hi, true);
    setLazy(c, dec ? FlagOp.DEC : FlagOp.INC, sz, aLo, aHi, 1, 0, lo, hi, cf);
  };
}

export const aluHandlers: Record<string, Handler> = {
  add: arith(FlagOp.ADD, false, false, true),
  adc: arith(FlagOp.ADC, false, true, true),
  sub: arith(FlagOp.SUB, true, false, true),
  sbb: arith(FlagOp.SBB, true, true, true),
  cmp: arith(FlagOp.SUB, true, false, false),
  and: logic(L.AND, true),
  or: logic(L.OR, true),
  xor: logic(L.XOR, true),
  test: logic(L.AND, false),
  not,
  neg,
  inc: incdec(false),
  dec: incdec(true),
};

/** Exposed for instructions that reuse the adders (XADD, CMPXCHG). */
export const core = {
  add(sz: number, aLo: number, aHi: number, bLo: number, bHi: number): [number, number] {
    const lo = addCore(sz, aLo, aHi, bLo, bHi, 0); return [lo, rHi];
  },
  sub(sz: number, aLo: number, aHi: number, bLo: number, bHi: number): [number, number] {
    const lo = subCore(sz, aLo, aHi, bLo, bHi, 0); return [lo, rHi];
  },
  setLazy,
};

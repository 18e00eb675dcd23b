// Specialised handlers for the instruction forms that dominate kernel code (register and
// memory moves, ALU ops at 32/64 bits, push/pop/call/ret, LEA): chosen at decode time so the
// hot path skips operand-kind and width dispatch. Each must behave exactly like the generic
// handler it replaces (the differential suite runs both through the same cases).

import { Cpu } from '../cpu/cpu';
import { FlagOp, testCond } from '../cpu/flags';
import { SHADOW_DEPTH } from '../cpu/cpu';
import { Insn, K } from '../decode/insn';
import type { Handler } from '../decode/insn';
import { ea, push64, pop64, jumpTo, addRsp, addrOfStack } from './operands';
import { controlHandlers } from './control';

const TWO32 = 4294967296;

const enum A { ADD, SUB, AND, OR, XOR, CMP, TEST }
const ALU: Record<string, A> = { add: A.ADD, sub: A.SUB, and: A.AND, or: A.OR, xor: A.XOR, cmp: A.CMP, test: A.TEST };

/** 64-bit ALU on (aLo, aHi) and (bLo, bHi); writes the lazy flags and returns the low half (high in c.th). */
function alu64(c: Cpu, op: A, aLo: number, aHi: number, bLo: number, bHi: number): number {
  let lo: number, hi: number;
  switch (op) {
    case A.ADD: {
      const s = (aLo >>> 0) + (bLo >>> 0);
      lo = s | 0; hi = (aHi + bHi + (s >= TWO32 ? 1 : 0)) | 0;
      c.fop = FlagOp.ADD; break;
    }
    case A.SUB: case A.CMP: {
      const d = (aLo >>> 0) - (bLo >>> 0);
      lo = d | 0; hi = (aHi - bHi - (d < 0 ? 1 : 0)) | 0;
      c.fop = FlagOp.SUB; break;
    }
    case A.AND: case A.TEST: lo = aLo & bLo; hi = aHi & bHi; c.fop = FlagOp.LOGIC; break;
    case A.OR: lo = aLo | bLo; hi = aHi | bHi; c.fop = FlagOp.LOGIC; break;
    default: lo = aLo ^ bLo; hi = aHi ^ bHi; c.fop = FlagOp.LOGIC; break;
  }
  c.fsz = 64; c.faLo = aLo; c.faHi = aHi; c.fbLo = bLo; c.fbHi = bHi; c.frLo = lo; c.frHi = hi; c.fcf = 0;
  c.th = hi;
  return lo;
}

function alu32(c: Cpu, op: A, a: number, b: number): number {
  let r: number;
  switch (op) {
    case A.ADD: r = (a + b) | 0; c.fop = FlagOp.ADD; break;
    case A.SUB: case A.CMP: r = (a - b) | 0; c.fop = FlagOp.SUB; break;
    case A.AND: case A.TEST: r = a & b; c.fop = FlagOp.LOGIC; break;
    case A.OR: r = a | b; c.fop = FlagOp.LOGIC; break;
    default: r = a ^ b; c.fop = FlagOp.LOGIC; break;
  }
  c.fsz = 32; c.faLo = a; c.faHi = 0; c.fbLo = b; c.fbHi = 0; c.frLo = r; c.frHi = 0; c.fcf = 0;
  return r;
}

function writes(op: A): boolean { return op !== A.CMP && op !== A.TEST; }

function aluForm(i: Insn, op: A): Handler | undefined {
  const w = writes(op);
  if (i.s0 === 8) {
    if (i.k0 === K.REG && i.k1 === K.REG) return (c, x) => {
      const R = c.r, d = 2 * x.r0, s = 2 * x.r1;
      const lo = alu64(c, op, R[d], R[d + 1], R[s], R[s + 1]);
      if (w) { R[d] = lo; R[d + 1] = c.th; }
    };
    if (i.k0 === K.REG && i.k1 === K.IMM) return (c, x) => {
      const R = c.r, d = 2 * x.r0;
      const lo = alu64(c, op, R[d], R[d + 1], x.immLo, x.immHi);
      if (w) { R[d] = lo; R[d + 1] = c.th; }
    };
    if (i.k0 === K.REG && i.k1 === K.MEM) return (c, x) => {
      const R = c.r, d = 2 * x.r0, m = c.mem;
      const bLo = m.read64(ea(c, x)), bHi = m.hi;
      const lo = alu64(c, op, R[d], R[d + 1], bLo, bHi);
      if (w) { R[d] = lo; R[d + 1] = c.th; }
    };
    if (i.k0 === K.MEM && (i.k1 === K.REG || i.k1 === K.IMM)) {
      const reg = i.k1 === K.REG;
      return (c, x) => {
        const R = c.r, m = c.mem, a = ea(c, x);
        const aLo = m.read64(a), aHi = m.hi;
        const bLo = reg ? R[2 * x.r1] : x.immLo, bHi = reg ? R[2 * x.r1 + 1] : x.immHi;
        // Compute into locals first: the lazy flags are committed only after the write succeeds.
        const fop = c.fop, fsz = c.fsz, fa = c.faLo, fah = c.faHi, fb = c.fbLo, fbh = c.fbHi, fr = c.frLo, frh = c.frHi, fcf = c.fcf;
        const lo = alu64(c, op, aLo, aHi, bLo, bHi);
        if (w) {
          try { m.write64(a, lo, c.th); } catch (e) {
            c.fop = fop; c.fsz = fsz; c.faLo = fa; c.faHi = fah; c.fbLo = fb; c.fbHi = fbh; c.frLo = fr; c.frHi = frh; c.fcf = fcf;
            throw e;
          }
        }
      };
    }
  }
  if (i.s0 === 4 && i.k0 === K.REG) {
    if (i.k1 === K.REG) return (c, x) => {
      const R = c.r, d = 2 * x.r0;
      const r = alu32(c, op, R[d], R[2 * x.r1]);
      if (w) { R[d] = r; R[d + 1] = 0; }
    };
    if (i.k1 === K.IMM) return (c, x) => {
      const R = c.r, d = 2 * x.r0;
      const r = alu32(c, op, R[d], x.immLo);
      if (w) { R[d] = r; R[d + 1] = 0; }
    };
  }
  return undefined;
}

function movForm(i: Insn): Handler | undefined {
  if (i.s0 === 8) {
    if (i.k0 === K.REG && i.k1 === K.REG) return (c, x) => { const R = c.r, d = 2 * x.r0, s = 2 * x.r1; R[d] = R[s]; R[d + 1] = R[s + 1]; };
    if (i.k0 === K.REG && i.k1 === K.IMM) return (c, x) => { const R = c.r, d = 2 * x.r0; R[d] = x.immLo; R[d + 1] = x.immHi; };
    if (i.k0 === K.REG && i.k1 === K.MEM) return (c, x) => {
      const m = c.mem, lo = m.read64(ea(c, x)), R = c.r, d = 2 * x.r0;
      R[d] = lo; R[d + 1] = m.hi;
    };
    if (i.k0 === K.MEM && i.k1 === K.REG) return (c, x) => { const R = c.r, s = 2 * x.r1; c.mem.write64(ea(c, x), R[s], R[s + 1]); };
    if (i.k0 === K.MEM && i.k1 === K.IMM) return (c, x) => { c.mem.write64(ea(c, x), x.immLo, x.immHi); };
  }
  if (i.s0 === 4) {
    if (i.k0 === K.REG && i.k1 === K.REG) return (c, x) => { const R = c.r, d = 2 * x.r0; R[d] = R[2 * x.r1]; R[d + 1] = 0; };
    if (i.k0 === K.REG && i.k1 === K.IMM) return (c, x) => { const R = c.r, d = 2 * x.r0; R[d] = x.immLo; R[d + 1] = 0; };
    if (i.k0 === K.REG && i.k1 === K.MEM) return (c, x) => { const v = c.mem.read32(ea(c, x)), R = c.r, d = 2 * x.r0; R[d] = v; R[d + 1] = 0; };
    if (i.k0 === K.MEM && i.k1 === K.REG) return (c, x) => { c.mem.write32(ea(c, x), c.r[2 * x.r1]); };
    if (i.k0 === K.MEM && i.k1 === K.IMM) return (c, x) => { c.mem.write32(ea(c, x), x.immLo); };
  }
  return undefined;
}

const pushReg: Handler = (c, x) => { const R = c.r, s = 2 * x.r0; push64(c, R[s], R[s + 1]); };
const popReg: Handler = (c, x) => { const lo = pop64(c), R = c.r, d = 2 * x.r0; R[d] = lo; R[d + 1] = c.th; };
const retNear: Handler = (c, x) => {
  const R = c.r;
  const lo = c.mem.read64(addrOfStack(R[8], R[9])), hi = c.mem.hi;
  jumpTo(c, lo, hi); // #GP for a non-canonical target, before RSP moves
  addRsp(c, 8);
  const n = c.ssN;
  if (n > 0 && n <= c.ssRet.length && c.ssRet[n - 1] === c.rip) c.ssN = n - 1;
  else controlHandlers.__popShadow(c, x);
};

/**
 * Condition after CMP/SUB of 32 or 64 bits, straight from the operands (the common case: a
 * compare right before the branch); anything else goes through the generic flag getters.
 */
export function cond(c: Cpu, cc: number): boolean {
  if (c.fop !== FlagOp.SUB || c.fsz < 32) return testCond(c, cc);
  let eq: boolean, ult: boolean, slt: boolean;
  if (c.fsz === 64) {
    const ah = c.faHi, bh = c.fbHi, al = c.faLo >>> 0, bl = c.fbLo >>> 0;
    eq = ah === bh && al === bl;
    ult = ah === bh ? al < bl : (ah >>> 0) < (bh >>> 0);
    slt = ah === bh ? al < bl : ah < bh;
  } else {
    const a = c.faLo | 0, b = c.fbLo | 0;
    eq = a === b; ult = (a >>> 0) < (b >>> 0); slt = a < b;
  }
  switch (cc) {
    case 2: return ult;
    case 3: return !ult;
    case 4: return eq;
    case 5: return !eq;
    case 6: return ult || eq;
    case 7: return !ult && !eq;
    case 12: return slt;
    case 13: return !slt;
    case 14: return slt || eq;
    case 15: return !slt && !eq;
  }
  return testCond(c, cc);
}

const jccFast: Handler[] = [];
for (let cc = 0; cc < 16; cc++) jccFast.push((c, x) => { if (cond(c, cc)) c.rip = x.target; });

const callRel: Handler = (c, x) => {
  const ret = x.next, R = c.r;
  push64(c, (ret % TWO32) | 0, Math.floor(ret / TWO32) | 0);
  c.rip = x.target;
  const n = c.ssN;
  if (n < SHADOW_DEPTH) { c.ssRet[n] = ret; c.ssTarget[n] = x.target; c.ssSp[n] = R[9] * TWO32 + (R[8] >>> 0); }
  c.ssN = n + 1;
};

/** A specialised handler for `i` when one exists. */
export function fastHandler(i: Insn): Handler | undefined {
  if (i.lock || i.rep) return undefined;
  if (i.cc >= 0 && i.mnemonic[0] === 'j' && i.k0 === K.IMM && i.mnemonic !== 'jrcxz' && i.mnemonic !== 'jecxz') return jccFast[i.cc];
  const op = ALU[i.mnemonic];
  if (op !== undefined) return aluForm(i, op);
  switch (i.mnemonic) {
    case 'mov': return movForm(i);
    case 'push': return i.k0 === K.REG && i.s0 === 8 ? pushReg : undefined;
    case 'pop': return i.k0 === K.REG && i.s0 === 8 ? popReg : undefined;
    case 'ret': return i.nops === 0 ? retNear : undefined;
    case 'call': return i.k0 === K.IMM ? callRel : undefined;
  }
  return undefined;
}

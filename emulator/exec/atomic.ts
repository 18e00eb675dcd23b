// Exchange-and-compare instructions: XADD CMPXCHG CMPXCHG16B (with or without LOCK: one
// emulated CPU makes every instruction atomic).

import { Cpu, Fl } from '../cpu/cpu';
import { FlagOp, materialize } from '../cpu/flags';
import { CpuFault, Vector } from '../cpu/fault';
import { Insn, K } from '../decode/insn';
import { rec, FEATURE, type InsnRecord } from './table';
import { ea, rd0w, readReg, writeReg, wr0 } from './operands';
import { core } from './alu';

function xadd(c: Cpu, i: Insn): void {
  const sz = i.s0;
  const aLo = rd0w(c, i), aHi = c.readHigh;
  const bLo = readReg(c, i.r1, sz), bHi = c.readHigh;
  const [lo, hi] = core.add(sz, aLo, aHi, bLo, bHi);
  // SRC = DEST, then DEST = sum: with one register as both, it ends with the sum. A memory
  // destination is written first so that a fault leaves the register untouched.
  if (i.k0 === K.REG) { writeReg(c, i.r1, sz, aLo, aHi); wr0(c, i, lo, hi, true); }
  else { wr0(c, i, lo, hi, true); writeReg(c, i.r1, sz, aLo, aHi); }
  core.setLazy(c, FlagOp.ADD, sz, aLo, aHi, bLo, bHi, lo, hi, 0);
}

/** CMPXCHG: the destination is always written (with its own value when the compare fails), as the SDM specifies. */
function cmpxchg(c: Cpu, i: Insn): void {
  const sz = i.s0;
  const dLo = rd0w(c, i), dHi = c.readHigh;
  const aLo = readReg(c, 0, sz), aHi = c.readHigh;
  const [lo, hi] = core.sub(sz, aLo, aHi, dLo, dHi);
  const equal = aLo === dLo && aHi === dHi;
  if (equal) {
    const sLo = readReg(c, i.r1, sz), sHi = c.readHigh;
    wr0(c, i, sLo, sHi, true);
  } else {
    if (i.k0 === K.MEM) wr0(c, i, dLo, dHi, true);
    writeReg(c, 0, sz, dLo, dHi);
  }
  core.setLazy(c, FlagOp.SUB, sz, aLo, aHi, dLo, dHi, lo, hi, 0);
}

/** CMPXCHG16B m128: compare RDX:RAX with memory; store RCX:RBX or load. Only ZF changes. */
function cmpxchg16b(c: Cpu, i: Insn): void {
  const a = ea(c, i);
  if (a % 16 !== 0) throw new CpuFault(Vector.GP, 0, 'cmpxchg16b operand is not 16-byte aligned');
  c.mem.probeWrite(a, 16);
  const m = c.mem;
  const l0 = m.read64(a), h0 = m.hi, l1 = m.read64(a + 8), h1 = m.hi;
  const R = c.r;
  const equal = R[0] === l0 && R[1] === h0 && R[4] === l1 && R[5] === h1;
  if (equal) { m.write64(a, R[6], R[7]); m.write64(a + 8, R[2], R[3]); }
  else { m.write64(a, l0, h0); m.write64(a + 8, l1, h1); R[0] = l0; R[1] = h0; R[4] = l1; R[5] = h1; }
  materialize(c);
  c.flags = (c.flags & ~Fl.ZF) | (equal ? Fl.ZF : 0);
}

export const records: InsnRecord[] = [
  rec('xadd', xadd, { lockable: true }),
  rec('cmpxchg', cmpxchg, { lockable: true }),
  rec('cmpxchg16b', cmpxchg16b, { lockable: true, cpuid: FEATURE.CX16 }),
];

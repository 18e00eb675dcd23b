// Data movement: MOV/MOVABS MOVZX MOVSX MOVSXD LEA XCHG BSWAP CMOVcc SETcc and the sign
// extensions of the accumulator (CBW CWDE CDQE CWD CDQ CQO). None of these touch flags.

import { Cpu } from '../cpu/cpu';
import { testCond, COND_NAMES } from '../cpu/flags';
import { Insn, K } from '../decode/insn';
import { rec, type Form, type InsnRecord } from './table';
import { loadSource, regStore, storeSource } from './template';
import { rd0w, rd1, wr0, readReg, writeReg, writeMem, readMem, ea } from './operands';
import { movCr } from './system';

const TWO32 = 4294967296;

function mov(c: Cpu, i: Insn): void {
  if (i.k0 === K.CR || i.k1 === K.CR) { movCr(c, i); return; }
  const lo = rd1(c, i);
  wr0(c, i, lo, c.readHigh, false);
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
    c.mem.probeWrite(a, i.s1); // read for writing: a #PF carries the W bit
    const mLo = readMem(c, a, i.s1), mHi = c.readHigh;
    const rLo = readReg(c, i.r0, i.s0), rHi = c.readHigh;
    writeMem(c, a, i.s1, rLo, rHi);
    writeReg(c, i.r0, i.s0, mLo, mHi);
    return;
  }
  const aLo = rd0w(c, i), aHi = c.readHigh;
  const bLo = readReg(c, i.r1, i.s1), bHi = c.readHigh;
  wr0(c, i, bLo, bHi, true);
  writeReg(c, i.r1, i.s1, aLo, aHi);
}

function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

function bswap(c: Cpu, i: Insn): void {
  const lo = readReg(c, i.r0, i.s0), hi = c.readHigh;
  if (i.s0 === 8) writeReg(c, i.r0, 8, bswap32(hi), bswap32(lo));
  else if (i.s0 === 4) writeReg(c, i.r0, 4, bswap32(lo), 0);
  else writeReg(c, i.r0, 2, 0, 0); // BSWAP of a 16-bit register: undefined by the SDM; hardware gives zero
}

/** CMOVcc reads its source whatever the condition (it may fault), and a 32-bit form always zero-extends. */
function cmov(c: Cpu, i: Insn): void {
  const lo = rd1(c, i), hi = c.readHigh;
  if (testCond(c, i.cc)) writeReg(c, i.r0, i.s0, lo, hi);
  else if (i.s0 === 4) c.r[2 * i.r0 + 1] = 0;
}

function setcc(c: Cpu, i: Insn): void {
  wr0(c, i, testCond(c, i.cc) ? 1 : 0, 0, false);
}

const R = { AX: 0, DX: 2 };

// ---- specialised forms ------------------------------------------------------------------------

const plain = (i: Insn) => !i.lock && !i.rep;
const gpr = (k: K, r: number) => k === K.REG && r < 16;
/** The MOV operand pairs the compiled forms take: a GPR from a GPR, an immediate or memory; memory from a GPR or an immediate. */
const movOperands = (i: Insn) => (gpr(i.k0, i.r0) && (gpr(i.k1, i.r1) || i.k1 === K.IMM || i.k1 === K.MEM))
  || (i.k0 === K.MEM && (gpr(i.k1, i.r1) || i.k1 === K.IMM));

/** MOV at 32/64 bits between registers, immediates and memory. */
const movForm: Form = {
  match: (i) => plain(i) && (i.s0 === 8 || i.s0 === 4)
    && movOperands(i),
  faults: false,
  flags: 'none',
  src(o, i) {
    const sz = i.s0 as 8 | 4;
    let lo: string, hi: string, pre = '';
    if (i.k1 === K.REG) { lo = `R[${o.s}]`; hi = `R[${o.s} + 1]`; }
    else if (i.k1 === K.IMM) { lo = o.immLo; hi = o.immHi; }
    else { pre = `const a = ${o.ea}; ${loadSource(sz, 'a', 'lo', 'hi')} `; lo = 'lo'; hi = 'hi'; }
    if (i.k0 === K.REG) return `{ ${pre}${regStore(sz, o.d, lo, hi)} }`;
    return `{ const a = ${o.ea}; ${storeSource(sz, 'a', lo, hi)} }`;
  },
};
const movPure: Form = { ...movForm, match: (i) => movForm.match(i) && i.k0 === K.REG && i.k1 !== K.MEM };
const movMem: Form = { ...movForm, faults: true };

/** MOV at 8/16 bits (byte registers AL..R15B, not AH..BH): a register keeps its other bits. */
const mov816Form: Form = {
  match: (i) => plain(i) && (i.s0 === 1 || i.s0 === 2)
    && movOperands(i),
  faults: false,
  flags: 'none',
  src(o, i) {
    const sz = i.s0, mask = sz === 1 ? 0xff : 0xffff;
    let v: string, pre = '';
    if (i.k1 === K.REG) v = `(R[${o.s}] & ${mask})`;
    else if (i.k1 === K.IMM) v = o.immLo;
    else { pre = `const a = ${o.ea}; ${loadSource(sz, 'a', 'u', 'uh')} `; v = 'u'; }
    if (i.k0 === K.REG) return `{ ${pre}R[${o.d}] = (R[${o.d}] & ${~mask}) | ${v}; }`;
    return `{ const a = ${o.ea}; ${storeSource(sz, 'a', v, '0')} }`;
  },
};
const mov816Pure: Form = { ...mov816Form, match: (i) => mov816Form.match(i) && i.k0 === K.REG && i.k1 !== K.MEM };
const mov816Mem: Form = { ...mov816Form, faults: true };

/** MOVZX MOVSX MOVSXD into a 32/64-bit register from a register or memory. */
const extForm: Form = {
  match: (i) => plain(i) && (i.s0 === 8 || i.s0 === 4) && gpr(i.k0, i.r0) && (gpr(i.k1, i.r1) || i.k1 === K.MEM),
  faults: false,
  flags: 'none',
  src(o, i) {
    const sz = i.s1, sx = i.mnemonic !== 'movzx';
    let pre = '', v: string;
    if (i.k1 === K.MEM) { pre = `const a = ${o.ea}; ${loadSource(sz, 'a', 'u', 'uh')} `; v = 'u'; }
    else v = sz === 1 ? `(R[${o.s}] & 0xff)` : sz === 2 ? `(R[${o.s}] & 0xffff)` : `R[${o.s}]`;
    if (sx) v = sz === 1 ? `((${v} << 24) >> 24)` : sz === 2 ? `((${v} << 16) >> 16)` : `(${v} | 0)`;
    return `{ ${pre}const v = ${v}; R[${o.d}] = v; R[${o.d} + 1] = ${i.s0 === 8 && sx ? 'v >> 31' : '0'}; }`;
  },
};
const extReg: Form = { ...extForm, match: (i) => extForm.match(i) && i.k1 === K.REG };
const extMem: Form = { ...extForm, faults: true };

/** LEA of a 64-bit address (no segment, no address-size prefix) into a 64-bit register: no canonical check. */
const leaForm: Form = {
  match: (i) => plain(i) && i.s0 === 8 && gpr(i.k0, i.r0) && !i.mA32 && i.mSeg === 0,
  faults: false,
  flags: 'none',
  src: (o) => `{ let lo = ${o.addrLo}; const carry = Math.floor(lo / ${TWO32}); lo -= carry * ${TWO32};
    R[${o.d}] = lo | 0; R[${o.d} + 1] = (${o.addrHi} + carry) | 0; }`,
};

/** LEA into a 32-bit register: the low half of the sum, whatever the address size (no segment base, no check). */
const lea32Form: Form = {
  match: (i) => plain(i) && i.s0 === 4 && gpr(i.k0, i.r0),
  faults: false,
  flags: 'none',
  src: (o) => `R[${o.d}] = ${o.addrLo} | 0; R[${o.d} + 1] = 0;`,
};

/** CMOVcc r32/r64 from a register or memory (the source is read whatever the condition). */
const cmovForm: Form = {
  match: (i) => plain(i) && (i.s0 === 8 || i.s0 === 4) && gpr(i.k0, i.r0) && (gpr(i.k1, i.r1) || i.k1 === K.MEM),
  faults: false,
  src(o, i) {
    let pre = '', lo = `R[${o.s}]`, hi = `R[${o.s} + 1]`;
    if (i.k1 === K.MEM) { pre = `const a = ${o.ea}; ${loadSource(i.s0, 'a', 'u', 'uh')} `; lo = 'u'; hi = 'uh'; }
    // A 32-bit destination is zero-extended whether or not the move happens.
    if (i.s0 === 8) return `{ ${pre}if (cond(c, ${o.cc})) { R[${o.d}] = ${lo}; R[${o.d} + 1] = ${hi}; } }`;
    return `{ ${pre}if (cond(c, ${o.cc})) R[${o.d}] = ${lo}; R[${o.d} + 1] = 0; }`;
  },
};
const cmovReg: Form = { ...cmovForm, match: (i) => cmovForm.match(i) && i.k1 === K.REG };
const cmovMem: Form = { ...cmovForm, faults: true };

/** SETcc of a byte register (AH..BH included). */
const setForm: Form = {
  match: (i) => plain(i) && i.k0 === K.REG && i.s0 === 1,
  faults: false,
  src: (o, i) => i.r0 < 16
    ? `R[${o.d}] = (R[${o.d}] & ~0xff) | (cond(c, ${o.cc}) ? 1 : 0);`
    : `R[${o.d} - 32] = (R[${o.d} - 32] & ~0xff00) | (cond(c, ${o.cc}) ? 0x100 : 0);`,
};

const cc = (prefix: string) => COND_NAMES.map((n) => prefix + n);

export const records: InsnRecord[] = [
  // MOV to and from control registers is system.ts's movCr, reached through this record.
  rec('mov', mov, { forms: [movPure, movMem, mov816Pure, mov816Mem], diff: ['mov', 'movabs'] }),
  rec('movzx', movzx, { forms: [extReg, extMem] }),
  rec('movsx', movsx, { forms: [extReg, extMem] }),
  rec('movsxd', movsx, { forms: [extReg, extMem] }),
  rec('lea', lea, { forms: [leaForm, lea32Form] }),
  rec('xchg', xchg, { lockable: true }),
  rec('bswap', bswap),
  rec('cmovcc', cmov, { mnemonics: cc('cmov'), forms: [cmovReg, cmovMem] }),
  rec('setcc', setcc, { mnemonics: cc('set'), forms: [setForm] }),
  rec('cbw', (c) => { const v = (c.r[0] << 24) >> 24; writeReg(c, R.AX, 2, v, 0); }),
  rec('cwde', (c) => { const v = (c.r[0] << 16) >> 16; writeReg(c, R.AX, 4, v, 0); }),
  rec('cdqe', (c) => { c.r[1] = c.r[0] >> 31; }),
  rec('cwd', (c) => { writeReg(c, R.DX, 2, (c.r[0] << 16) >> 31, 0); }),
  rec('cdq', (c) => { writeReg(c, R.DX, 4, c.r[0] >> 31, 0); }),
  rec('cqo', (c) => { const s = c.r[1] >> 31; c.r[4] = s; c.r[5] = s; }),
];

// Stack instructions: PUSH POP PUSHF POPF LEAVE ENTER. Writes happen before RSP moves, so a
// faulting push leaves RSP as it was (precise faults).

import { Cpu, Fl } from '../cpu/cpu';
import { getRflags, setArith } from '../cpu/flags';
import { Insn, K } from '../decode/insn';
import { rec, type Form, type InsnRecord } from './table';
import { pushSource, TOP_OF_STACK, RSP_PLUS_8 } from './control';
import { push64, pop64, push16, pop16, rd0, wr0, addRsp, addrOfStack, writeReg } from './operands';

function push(c: Cpu, i: Insn): void {
  let lo: number, hi: number;
  if (i.k0 === K.IMM) { lo = i.immLo; hi = i.immHi; } else { lo = rd0(c, i); hi = c.readHigh; }
  if (i.s0 === 2) push16(c, lo);
  else push64(c, lo, hi);
}

function pop(c: Cpu, i: Insn): void {
  if (i.s0 === 2) { wr0(c, i, pop16(c), 0, false); return; }
  if (i.k0 === K.REG) { const lo = pop64(c); writeReg(c, i.r0, 8, lo, c.readHigh); return; }
  // POP to memory: the address is computed after RSP is incremented; undo that if the write faults.
  const sLo = c.r[8], sHi = c.r[9];
  const lo = pop64(c), hi = c.readHigh;
  try { wr0(c, i, lo, hi, false); } catch (e) { c.r[8] = sLo; c.r[9] = sHi; throw e; }
}

/** PUSHF pushes RFLAGS with VM and RF cleared. */
function pushf(c: Cpu, i: Insn): void {
  const v = getRflags(c) & ~0x30000;
  if (i.mnemonic === 'pushf') push16(c, v);
  else push64(c, v, 0);
}

/** POPF at CPL 0 may change every flag but VM/VIF/VIP and RF; at CPL 3 also not IF and IOPL. */
function popf(c: Cpu, i: Insn): void {
  let v: number;
  if (i.mnemonic === 'popf') {
    v = (getRflags(c) & ~0xffff) | pop16(c);
  } else {
    v = pop64(c);
  }
  let writable = Fl.ARITH | Fl.TF | Fl.DF | 0x4000 /* NT */ | 0x40000 /* AC */ | 0x200000 /* ID */;
  if (c.cpl === 0) writable |= Fl.IF | 0x3000 /* IOPL */;
  const cur = getRflags(c);
  const nv = (cur & ~writable) | (v & writable);
  setArith(c, nv);
  c.flags = (nv & ~0x30000) | Fl.FIXED;
}

function leave(c: Cpu, i: Insn): void {
  const R = c.r;
  if (i.os === 2) {
    // LEAVEW: SP = BP, then BP = 16-bit pop; the upper bits of RBP stay.
    const bpLo = R[10], bpHi = R[11];
    const v = c.mem.read16(addrOfStack(bpLo, bpHi));
    R[8] = bpLo; R[9] = bpHi;
    addRsp(c, 2);
    R[10] = (R[10] & ~0xffff) | v;
    return;
  }
  const bpLo = R[10], bpHi = R[11];
  const lo = c.mem.read64(addrOfStack(bpLo, bpHi)), hi = c.mem.hi;
  R[8] = bpLo; R[9] = bpHi;
  addRsp(c, 8);
  R[10] = lo; R[11] = hi;
}

/** ENTER size, level: push RBP, copy level-1 outer frame pointers, push the new frame pointer, reserve size. */
/**
 * ENTERW (66 C8): 16-bit pushes — BP, the outer frames' words read at RBP-2, -4, ... (through a
 * temporary: RBP itself is not stepped), then the frame's SP — and only BP (bits 15:0 of RBP)
 * becomes the frame pointer; RSP stays a 64-bit stack pointer.
 */
function enterw(c: Cpu, i: Insn): void {
  const size = i.immLo & 0xffff, level = i.imm2 & 31;
  const R = c.r;
  const saveSp = [R[8], R[9]], saveBp = [R[10], R[11]];
  try {
    push16(c, R[10] & 0xffff);
    const frame = R[8] & 0xffff;
    if (level > 0) {
      let bLo = saveBp[0], bHi = saveBp[1];
      for (let n = 1; n < level; n++) {
        let l = (bLo >>> 0) - 2, h = bHi;
        if (l < 0) { l += 4294967296; h = (h - 1) | 0; }
        bLo = l | 0; bHi = h;
        push16(c, c.mem.read16(addrOfStack(bLo, bHi)));
      }
      push16(c, frame);
    }
    addRsp(c, -size);
    if (size > 0) c.mem.probeWrite(addrOfStack(R[8], R[9]), 1);
    R[10] = (R[10] & ~0xffff) | frame;
  } catch (e) {
    R[8] = saveSp[0]; R[9] = saveSp[1]; R[10] = saveBp[0]; R[11] = saveBp[1];
    throw e;
  }
}

function enter(c: Cpu, i: Insn): void {
  if (i.codeName.startsWith('Enterw')) { enterw(c, i); return; }
  const size = i.immLo & 0xffff, level = i.imm2 & 31;
  const R = c.r;
  const saveSp = [R[8], R[9]], saveBp = [R[10], R[11]];
  try {
    push64(c, R[10], R[11]);
    const fLo = R[8], fHi = R[9];
    if (level > 0) {
      let bLo = saveBp[0], bHi = saveBp[1];
      for (let n = 1; n < level; n++) {
        let l = (bLo >>> 0) - 8, h = bHi;
        if (l < 0) { l += 4294967296; h = (h - 1) | 0; }
        bLo = l | 0; bHi = h;
        const v = c.mem.read64(addrOfStack(bLo, bHi)), vh = c.mem.hi;
        push64(c, v, vh);
      }
      push64(c, fLo, fHi);
    }
    // The reserved area is probed like a write to its lowest byte would be.
    addRsp(c, -size);
    if (size > 0) c.mem.probeWrite(addrOfStack(R[8], R[9]), 1);
    R[10] = fLo; R[11] = fHi;
  } catch (e) {
    R[8] = saveSp[0]; R[9] = saveSp[1]; R[10] = saveBp[0]; R[11] = saveBp[1];
    throw e;
  }
}

const reg64 = (i: Insn) => i.k0 === K.REG && i.s0 === 8 && i.r0 < 16 && !i.lock && !i.rep;
const pushReg: Form = { match: reg64, faults: true, src: (o) => pushSource(`R[${o.d}]`, `R[${o.d} + 1]`) };
const popReg: Form = {
  match: reg64, faults: true,
  src: (o) => `${TOP_OF_STACK} ${RSP_PLUS_8} R[${o.d}] = lo; R[${o.d} + 1] = hi;`,
};

export const records: InsnRecord[] = [
  rec('push', push, { forms: [pushReg] }),
  rec('pop', pop, { forms: [popReg] }),
  rec('pushf', pushf, { mnemonics: ['pushf', 'pushfq'] }),
  // POPF may set TF (single-step) and IF: it runs alone.
  rec('popf', popf, { mnemonics: ['popf', 'popfq'], solo: true }),
  rec('leave', leave),
  rec('enter', enter),
];

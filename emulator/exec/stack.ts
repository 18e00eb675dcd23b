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

/**
 * LEAVE: RSP = RBP, then the frame pointer is popped. LEAVEW (66 C9) pops 16 bits into BP; the
 * upper bits of RBP stay.
 */
function leave(c: Cpu, i: Insn): void {
  const R = c.r, bpLo = R[10], bpHi = R[11];
  const a = addrOfStack(bpLo, bpHi);
  const w = i.os === 2 ? 2 : 8;
  let lo: number, hi: number;
  if (w === 2) { lo = (bpLo & ~0xffff) | c.mem.read16(a); hi = bpHi; }
  else { lo = c.mem.read64(a); hi = c.mem.hi; }
  R[8] = bpLo; R[9] = bpHi;
  addRsp(c, w);
  R[10] = lo; R[11] = hi;
}

/**
 * ENTER size, level: push RBP, copy level-1 outer frame pointers (read at RBP-w, -2w, ... through a
 * temporary: RBP itself is not stepped), push the new frame pointer, reserve size. ENTERW (66 C8)
 * makes w = 2: 16-bit pushes, and only BP (bits 15:0 of RBP) becomes the frame pointer; RSP stays a
 * 64-bit stack pointer. A fault anywhere leaves RSP and RBP as they were.
 */
function enter(c: Cpu, i: Insn): void {
  const w = i.codeName.startsWith('Enterw') ? 2 : 8;
  const size = i.immLo & 0xffff, level = i.imm2 & 31;
  const R = c.r;
  const spLo = R[8], spHi = R[9], bpLo = R[10], bpHi = R[11];
  const push = (lo: number, hi: number): void => { if (w === 2) push16(c, lo & 0xffff); else push64(c, lo, hi); };
  try {
    push(bpLo, bpHi);
    const fLo = R[8], fHi = R[9];
    if (level > 0) {
      let tLo = bpLo, tHi = bpHi;
      for (let n = 1; n < level; n++) {
        let l = (tLo >>> 0) - w, h = tHi;
        if (l < 0) { l += 4294967296; h = (h - 1) | 0; }
        tLo = l | 0; tHi = h;
        const a = addrOfStack(tLo, tHi);
        if (w === 2) push(c.mem.read16(a), 0);
        else { const v = c.mem.read64(a); push(v, c.mem.hi); }
      }
      push(fLo, fHi);
    }
    // The reserved area is probed like a write to its lowest byte would be.
    addRsp(c, -size);
    if (size > 0) c.mem.probeWrite(addrOfStack(R[8], R[9]), 1);
    if (w === 2) R[10] = (bpLo & ~0xffff) | (fLo & 0xffff);
    else { R[10] = fLo; R[11] = fHi; }
  } catch (e) {
    R[8] = spLo; R[9] = spHi; R[10] = bpLo; R[11] = bpHi;
    throw e;
  }
}

const reg64 = (i: Insn) => i.k0 === K.REG && i.s0 === 8 && i.r0 < 16 && !i.lock && !i.rep;
const pushReg: Form = { match: reg64, faults: true, flags: 'none', src: (o) => pushSource(`R[${o.d}]`, `R[${o.d} + 1]`) };
const popReg: Form = {
  match: reg64, faults: true, flags: 'none',
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

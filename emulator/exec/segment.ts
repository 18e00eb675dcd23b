// Segment selectors in 64-bit mode (Intel SDM Vol. 2 MOV, PUSH, POP, LTR, LLDT, STR, SLDT,
// SYSRET; Vol. 3A 3.4 and 5): moves to and from DS ES FS GS SS, PUSH/POP FS/GS, LTR/LLDT with
// their descriptor checks against the GDT in memory, STR/SLDT (CR4.UMIP), SYSRETQ.
//
// What the machine knows: the selectors a program has loaded. It starts without any (no
// descriptor caches are modelled), so reading a selector that was never loaded stops as
// "not emulated" with its name rather than inventing a value. Also stopped, by name: selectors
// that refer to the LDT (TI = 1: LDT descriptors are not read), a null selector loaded into FS or
// GS (what happens to the hidden base is not specified by the SDM), SYSRETL (compatibility mode),
// and IRETQ (not implemented: it would need the descriptor caches of DS ES FS GS).

import { Cpu, Fl, MSR } from '../cpu/cpu';
import { setArith } from '../cpu/flags';
import { CpuFault, gp, ud } from '../cpu/fault';
import { MachineStop } from '../cpu/system';
import { Insn, K } from '../decode/insn';
import type { Handler } from '../decode/insn';
import { ea, readReg, writeReg, push16, push64, pop16, pop64 } from './operands';
import { InsnRecord, rec } from './table';

export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;
const SS = 2, FS = 4, GS = 5;
const NP = 11, SSF = 12;

function notEmulated(i: Insn, why: string): MachineStop {
  return new MachineStop('not-emulated', `not emulated: ${i.text()} at 0x${BigInt.asUintN(64, BigInt(i.addr)).toString(16)}: ${why}`, true);
}

/** The value of a selector register (0..5 as in ModRM, 6 TR, 7 LDTR), or a "not emulated" stop when it was never loaded. */
function selector(c: Cpu, i: Insn, n: number): number {
  const v = c.sel[n];
  if (v < 0) {
    const name = n < 6 ? `%${SEG_NAMES[n]}` : n === 6 ? 'TR' : 'LDTR';
    throw notEmulated(i, `the value of ${name} is not known (the machine starts without segment selectors; it knows the ones the program loads)`);
  }
  return v;
}

function sysRead64(c: Cpu, a: number): [number, number] {
  // Descriptor-table accesses are implicit supervisor accesses, also at CPL 3 (SDM Vol. 3A 4.6).
  const user = c.mem.user;
  c.mem.user = false;
  try { const lo = c.mem.read64(a); return [lo, c.mem.hi]; } finally { c.mem.user = user; }
}

function sysWrite32(c: Cpu, a: number, v: number): void {
  const user = c.mem.user;
  c.mem.user = false;
  try { c.mem.write32(a, v); } finally { c.mem.user = user; }
}

/**
 * The GDT descriptor a non-null selector names (low and high dwords, and its address), or
 * #GP(selector) when it lies beyond the GDTR limit; `wide` for the 16-byte system descriptors.
 */
function gdtEntry(c: Cpu, i: Insn, sel: number, wide: boolean): { lo: number; hi: number; at: number } {
  if (sel & 4) throw notEmulated(i, `selector 0x${sel.toString(16)} refers to the LDT, whose descriptors are not modelled`);
  const index = sel >> 3;
  if (index * 8 + (wide ? 15 : 7) > c.gdtrLimit) throw gp(`${i.mnemonic}: selector 0x${sel.toString(16)} is beyond the GDT limit 0x${c.gdtrLimit.toString(16)}`, sel & 0xfffc);
  const at = Number(BigInt.asIntN(64, c.gdtrBase + BigInt(index * 8)));
  const [lo, hi] = sysRead64(c, at);
  return { lo, hi, at };
}

/** Sets a descriptor's accessed (or busy) bit in memory, as the processor does when it loads it. */
function setTypeBit(c: Cpu, at: number, hi: number, bit: number): void {
  if (!(hi & bit)) sysWrite32(c, at + 4, hi | bit);
}

/** Loads a data-segment register (DS ES FS GS SS) from `sel` with MOV/POP's checks (SDM Vol. 2, MOV and POP, 64-bit mode). */
function loadSeg(c: Cpu, i: Insn, n: number, sel: number): void {
  sel &= 0xffff;
  const rpl = sel & 3;
  if (n === 1) throw ud(`${i.mnemonic}: CS cannot be loaded by MOV or POP`);
  if ((sel & 0xfffc) === 0) {
    if (n === SS) {
      // 64-bit mode: a null SS is allowed below CPL 3 when RPL = CPL.
      if (c.cpl === 3 || rpl !== c.cpl) throw gp(`${i.mnemonic}: null selector into SS at CPL ${c.cpl} with RPL ${rpl}`);
    } else if (n === FS || n === GS) {
      throw notEmulated(i, `a null selector into %${SEG_NAMES[n]}: the hidden base it leaves is not specified by the SDM (it differs between processors)`);
    }
    c.sel[n] = sel;
    if (n === SS) c.stiShadowUntil = c.icount + 1;
    return;
  }
  const d = gdtEntry(c, i, sel, false);
  const type = (d.hi >> 8) & 0xf, s = (d.hi >> 12) & 1, dpl = (d.hi >> 13) & 3, present = (d.hi >> 15) & 1;
  const code = (type & 8) !== 0;
  if (n === SS) {
    if (rpl !== c.cpl || s === 0 || code || !(type & 2) || dpl !== c.cpl) throw gp(`${i.mnemonic}: selector 0x${sel.toString(16)} is not a writable data segment at DPL = RPL = CPL ${c.cpl}`, sel & 0xfffc);
    if (!present) throw new CpuFault(SSF, sel & 0xfffc, `${i.mnemonic}: stack segment 0x${sel.toString(16)} is not present`);
  } else {
    const conforming = code && (type & 4) !== 0;
    if (s === 0 || (code && !(type & 2))) throw gp(`${i.mnemonic}: selector 0x${sel.toString(16)} is neither a data nor a readable code segment`, sel & 0xfffc);
    if (!conforming && (rpl > dpl || c.cpl > dpl)) throw gp(`${i.mnemonic}: selector 0x${sel.toString(16)} has DPL ${dpl} < max(RPL ${rpl}, CPL ${c.cpl})`, sel & 0xfffc);
    if (!present) throw new CpuFault(NP, sel & 0xfffc, `${i.mnemonic}: segment 0x${sel.toString(16)} is not present`);
  }
  setTypeBit(c, d.at, d.hi, 0x100);
  c.sel[n] = sel;
  // FS and GS take the descriptor's 32-bit base, zero-extended (SDM Vol. 3A 3.4.4); the other bases are unused in 64-bit mode.
  const base = ((d.hi & 0xff000000) | ((d.hi & 0xff) << 16) | (d.lo >>> 16)) >>> 0;
  if (n === FS) c.fsBase = base; else if (n === GS) c.gsBase = base;
  if (n === SS) c.stiShadowUntil = c.icount + 1;
}

/** Writes a selector to a register destination (zero-extended for 32/64-bit, low 16 bits for 16-bit) or an m16. */
function storeSel(c: Cpu, i: Insn, v: number): void {
  if (i.k0 === K.REG) {
    if (i.s0 === 2) writeReg(c, i.r0, 2, v, 0);
    else writeReg(c, i.r0, i.s0 === 8 ? 8 : 4, v, 0);
  } else {
    c.mem.write16(ea(c, i), v);
  }
}

/** MOV Sreg, r/m16 and MOV r/m, Sreg. */
const movSeg: Handler = (c, i) => {
  if (i.k0 === K.SEG) {
    const v = i.k1 === K.REG ? readReg(c, i.r1, 2) : c.mem.read16(ea(c, i));
    loadSeg(c, i, i.r0, v);
  } else {
    storeSel(c, i, selector(c, i, i.r1));
  }
};

/** PUSH FS/GS: 64-bit pushes the selector zero-extended, 16-bit pushes 2 bytes (SDM Vol. 2, PUSH). */
const pushSeg: Handler = (c, i) => {
  const v = selector(c, i, i.r0);
  if (i.codeName.startsWith('Pushw')) push16(c, v); else push64(c, v, 0);
};

/** POP FS/GS: the load's checks happen before RSP moves, so a faulting load leaves RSP as it was. */
const popSeg: Handler = (c, i) => {
  const sLo = c.r[8], sHi = c.r[9];
  const v = i.codeName.startsWith('Popw') ? pop16(c) : pop64(c) & 0xffff;
  try { loadSeg(c, i, i.r0, v); } catch (e) { c.r[8] = sLo; c.r[9] = sHi; throw e; }
};

function cpl0(c: Cpu, i: Insn): void {
  if (c.cpl !== 0) throw gp(`${i.mnemonic} at CPL ${c.cpl}`);
}

/** STR/SLDT: at CPL > 0 with CR4.UMIP set, #GP(0). */
function storeSystem(n: 6 | 7): Handler {
  return (c, i) => {
    if (c.cpl !== 0 && c.cr4 & 0x800n) throw gp(`${i.mnemonic} at CPL ${c.cpl} with CR4.UMIP set`);
    storeSel(c, i, selector(c, i, n));
  };
}

/**
 * LTR (available 64-bit TSS, type 9, marked busy) and LLDT (LDT, type 2; a null selector makes
 * LDTR unusable). 16-byte system descriptors; the upper type field must be 0. CPL 0 only.
 */
function loadSystem(tr: boolean): Handler {
  return (c, i) => {
    cpl0(c, i);
    const sel = (i.k0 === K.REG ? readReg(c, i.r0, 2) : c.mem.read16(ea(c, i))) & 0xffff;
    if ((sel & 0xfffc) === 0) {
      if (tr) throw gp('ltr: null selector');
      c.sel[7] = sel;
      return;
    }
    if (sel & 4) throw gp(`${i.mnemonic}: selector 0x${sel.toString(16)} refers to the LDT`, sel & 0xfffc);
    const d = gdtEntry(c, i, sel, true);
    const type = (d.hi >> 8) & 0xf, s = (d.hi >> 12) & 1, present = (d.hi >> 15) & 1;
    const [, upper] = sysRead64(c, d.at + 8);
    const want = tr ? 9 : 2;
    if (s !== 0 || type !== want || ((upper >> 8) & 0x1f) !== 0) {
      throw gp(`${i.mnemonic}: selector 0x${sel.toString(16)} is not ${tr ? 'an available 64-bit TSS' : 'an LDT'} descriptor (type ${type}, S ${s})`, sel & 0xfffc);
    }
    if (!present) throw new CpuFault(NP, sel & 0xfffc, `${i.mnemonic}: descriptor 0x${sel.toString(16)} is not present`);
    if (tr) setTypeBit(c, d.at, d.hi, 0x200); // busy
    c.sel[tr ? 6 : 7] = sel;
  };
}

/**
 * SYSRET (SDM Vol. 2, SYSRET, 64-bit mode): #UD unless EFER.SCE; #GP(0) unless CPL 0 and, for
 * SYSRETQ, RCX canonical. RIP = RCX, RFLAGS = (R11 & 3C7FD7H) | 2, CS = STAR[63:48] + 16 | 3,
 * SS = STAR[63:48] + 8 | 3, CPL 3. SYSRETL returns to compatibility mode, which is not modelled.
 */
const sysret: Handler = (c, i) => {
  if (!(c.efer & 1n)) throw ud(`${i.mnemonic}: IA32_EFER.SCE is clear`);
  cpl0(c, i);
  if (i.codeName !== 'Sysretq') throw notEmulated(i, 'SYSRETL returns to compatibility mode, which the machine does not model');
  const hi = c.r[3], lo = c.r[2];
  if ((hi >> 15) !== 0 && (hi >> 15) !== -1) throw gp(`${i.mnemonic}: RCX 0x${c.getGpr(1).toString(16)} is not canonical`);
  const star = c.msrs.get(MSR.IA32_STAR);
  if (star === undefined) throw notEmulated(i, 'IA32_STAR is not modelled by this machine');
  const base = Number((star >> 48n) & 0xffffn);
  const fl = ((c.r[22] & 0x3c7fd7) | 2) >>> 0;
  setArith(c, fl);
  c.flags = (fl & ~0x30000) | Fl.FIXED;
  c.rip = hi * 4294967296 + (lo >>> 0);
  c.sel[1] = ((base + 16) & 0xffff) | 3;
  c.sel[SS] = ((base + 8) & 0xffff) | 3;
  c.cpl = 3;
  c.mem.user = true;
};

/** IRETQ needs the descriptor caches of DS ES FS GS (they are nulled on a return to an outer level). */
const iret: Handler = (_c, i) => {
  throw notEmulated(i, 'IRET is not implemented (segment descriptor caches are not modelled)');
};

/**
 * The handler of a MOV, PUSH or POP with a segment-register operand (their records in move.ts
 * and stack.ts cover the general-register forms), or undefined for any other instruction.
 */
export function segmentHandler(i: Insn): Handler | undefined {
  if (i.mnemonic === 'mov' && (i.k0 === K.SEG) !== (i.k1 === K.SEG)) return movSeg;
  if (i.mnemonic === 'push' && i.k0 === K.SEG) return pushSeg;
  if (i.mnemonic === 'pop' && i.k0 === K.SEG) return popSeg;
  return undefined;
}

export const records: InsnRecord[] = [
  rec('str', storeSystem(6), { diff: false }),
  rec('sldt', storeSystem(7), { diff: false }),
  rec('ltr', loadSystem(true), { diff: false }),
  rec('lldt', loadSystem(false), { diff: false }),
  rec('sysret', sysret, { mnemonics: ['sysret', 'sysretq'], asm: ['sysretl', 'sysretq'], endsBlock: true, solo: true, diff: false }),
  rec('iret', iret, { mnemonics: ['iret', 'iretd', 'iretq'], asm: ['iretw', 'iretl', 'iretq'], endsBlock: true, solo: true, diff: false }),
];

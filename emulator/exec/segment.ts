// Segment selectors in 64-bit mode (Intel SDM Vol. 2: MOV, PUSH, POP, LSS/LFS/LGS, LAR, LSL,
// VERR/VERW, LTR, LLDT, STR, SLDT, JMP/CALL far, RET far, IRET/IRETD/IRETQ, SYSCALL, SYSRET;
// Vol. 3A 3.4 and 5): segment-register loads with their descriptor checks against the GDT in
// memory, far transfers to 64-bit code segments, and the returns to an outer privilege level that
// null the data-segment registers the new CPL may not use.
//
// What the machine knows: the selectors a program has loaded and the hidden part of each
// (Cpu.segAttr: the descriptor's attributes; FS/GS bases in fsBase/gsBase). It starts without
// any, so reading a selector that was never loaded stops as "not emulated" with its name rather
// than inventing a value (LDTR too: a TI = 1 selector reads the LDT that LLDT loaded). Also
// stopped, by name: a null selector loaded into FS or GS (whether the hidden base is kept or zeroed differs between processors, and the SDM
// leaves it open), transfers to compatibility mode (SYSRETL, a code segment with L = 0) and
// through call gates, and SYSCALL/SYSRET while IA32_STAR/LSTAR/FMASK still hold their undefined
// power-up values (SDM Vol. 3A Table 10-1: "all other MSRs: undefined").
// Size (over 450 lines): every instruction here goes through the same descriptor fetch and
// checks (GDT/LDT lookup, type, DPL/RPL/CPL, present, the hidden part kept per register), and the
// far transfers and returns share the privilege-change steps; split apart they would export
// those internals to one another.

import { Cpu, Fl, MSR } from '../cpu/cpu';
import { getRflags, materialize, setArith } from '../cpu/flags';
import { CpuFault, gp, ud } from '../cpu/fault';
import { notEmulated } from '../cpu/system';
import { Insn, K } from '../decode/insn';
import type { Handler } from '../decode/insn';
import { ea, readReg, writeReg, push16, push64, pop16, pop64, addrOfStack } from './operands';
import { InsnRecord, rec } from './table';

export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;
const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;
const NP = 11, SSF = 12;
const TWO32 = 4294967296;
/** Cpu.sel value of a null selector whose RPL a return to an outer level may have cleared (see nullOuter). */
const SEL_RPL_UNKNOWN = -2;

const hex = (v: number): string => `0x${v.toString(16)}`;

/** The value of a selector register (0..5 as in ModRM, 6 TR, 7 LDTR), or a "not emulated" stop when it is not known. */
function selector(c: Cpu, i: Insn, n: number): number {
  const v = c.sel[n];
  if (v < 0) {
    const name = n < 6 ? `%${SEG_NAMES[n]}` : n === 6 ? 'TR' : 'LDTR';
    if (v === SEL_RPL_UNKNOWN) throw notEmulated(i, `the value of ${name} is not known (it held a null selector with a non-zero RPL when a far return to an outer privilege level ran; the SDM's RET pseudo-code decides by the hidden DPL, which a null selector leaves undefined)`);
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

/** A segment descriptor read from the GDT, with its fields decoded (SDM Vol. 3A Figure 3-8). */
interface Desc {
  lo: number; hi: number; at: number;
  type: number; s: number; dpl: number; present: boolean;
  /** S = 1 and type bit 3: a code segment. */
  code: boolean;
  /** A code segment with type bit 2 (conforming). */
  conforming: boolean;
  /** Bits 23:20 and 15:8 of the high dword, shifted down 8 (Cpu.segAttr). */
  attr: number;
}

function decode(lo: number, hi: number, at: number): Desc {
  const type = (hi >> 8) & 0xf, s = (hi >> 12) & 1;
  const code = s === 1 && (type & 8) !== 0;
  return { lo, hi, at, type, s, dpl: (hi >> 13) & 3, present: ((hi >> 15) & 1) === 1, code, conforming: code && (type & 4) !== 0, attr: (hi >>> 8) & 0xf0ff };
}

/**
 * The descriptor table a selector refers to (TI = 0: the GDT; TI = 1: the LDT that LLDT loaded),
 * with its limit (-1: a null LDTR, which has no entries); a "not emulated" stop when TI = 1 and
 * LDTR was never loaded.
 */
function tableOf(c: Cpu, i: Insn, sel: number): { base: bigint; limit: number; name: string } {
  if (!(sel & 4)) return { base: c.gdtrBase, limit: c.gdtrLimit, name: 'GDT' };
  if (c.sel[7] < 0) throw notEmulated(i, `selector ${hex(sel)} refers to the LDT, and the value of LDTR is not known (the machine starts without one; it knows the LDT the program loads with LLDT)`);
  return { base: c.ldtrBase, limit: (c.sel[7] & 0xfffc) === 0 ? -1 : c.ldtrLimit, name: 'LDT' };
}

/**
 * The descriptor a non-null selector names, or #GP(selector) when it lies beyond the limit of
 * its table; `wide` for the 16-byte system descriptors.
 */
function gdtEntry(c: Cpu, i: Insn, sel: number, wide = false): Desc {
  const t = tableOf(c, i, sel);
  const index = sel >> 3;
  if (index * 8 + (wide ? 15 : 7) > t.limit) throw gp(`${i.mnemonic}: selector ${hex(sel)} is beyond the ${t.name} limit${t.limit < 0 ? ' (LDTR is null)' : ` ${hex(t.limit)}`}`, sel & 0xfffc);
  const at = Number(BigInt.asIntN(64, t.base + BigInt(index * 8)));
  const [lo, hi] = sysRead64(c, at);
  return decode(lo, hi, at);
}

/** Sets a descriptor's accessed (or busy) bit in memory, as the processor does when it loads it. */
function setTypeBit(c: Cpu, at: number, hi: number, bit: number): void {
  if (!(hi & bit)) sysWrite32(c, at + 4, hi | bit);
}

/** The 32-bit base of a code/data descriptor. */
function baseOf(d: Desc): number {
  return ((d.hi & 0xff000000) | ((d.hi & 0xff) << 16) | (d.lo >>> 16)) >>> 0;
}

/**
 * Loads a data-segment register (DS ES FS GS SS) from `sel` with MOV/POP's checks (SDM Vol. 2,
 * MOV and POP, 64-bit mode; LSS/LFS/LGS use the same). `shadow`: MOV/POP SS block interrupts for
 * one instruction (LSS does not).
 */
function loadSeg(c: Cpu, i: Insn, n: number, sel: number, shadow = true): void {
  sel &= 0xffff;
  const rpl = sel & 3;
  if (n === CS) throw ud(`${i.mnemonic}: CS cannot be loaded by MOV or POP`);
  if ((sel & 0xfffc) === 0) {
    if (n === SS) {
      // 64-bit mode: a null SS is allowed below CPL 3 when RPL = CPL.
      if (c.cpl === 3 || rpl !== c.cpl) throw gp(`${i.mnemonic}: null selector into SS at CPL ${c.cpl} with RPL ${rpl}`);
    } else if (n === FS || n === GS) {
      throw notEmulated(i, `a null selector into %${SEG_NAMES[n]}: whether the hidden base is kept or zeroed differs between processors (the SDM does not specify it; AMD reports it in CPUID 8000_0021H:EAX[6], NullSelectorClearsBase)`);
    }
    c.sel[n] = sel;
    c.segAttr[n] = 0;
    if (n === SS && shadow) c.stiShadowUntil = c.icount + 1;
    return;
  }
  const d = gdtEntry(c, i, sel);
  if (n === SS) {
    if (rpl !== c.cpl || d.s === 0 || d.code || !(d.type & 2) || d.dpl !== c.cpl) throw gp(`${i.mnemonic}: selector ${hex(sel)} is not a writable data segment at DPL = RPL = CPL ${c.cpl}`, sel & 0xfffc);
    if (!d.present) throw new CpuFault(SSF, sel & 0xfffc, `${i.mnemonic}: stack segment ${hex(sel)} is not present`);
  } else {
    if (d.s === 0 || (d.code && !(d.type & 2))) throw gp(`${i.mnemonic}: selector ${hex(sel)} is neither a data nor a readable code segment`, sel & 0xfffc);
    if (!d.conforming && (rpl > d.dpl || c.cpl > d.dpl)) throw gp(`${i.mnemonic}: selector ${hex(sel)} has DPL ${d.dpl} < max(RPL ${rpl}, CPL ${c.cpl})`, sel & 0xfffc);
    if (!d.present) throw new CpuFault(NP, sel & 0xfffc, `${i.mnemonic}: segment ${hex(sel)} is not present`);
  }
  setTypeBit(c, d.at, d.hi, 0x100);
  c.sel[n] = sel;
  c.segAttr[n] = d.attr;
  // FS and GS take the descriptor's 32-bit base, zero-extended (SDM Vol. 3A 3.4.4); the other bases are unused in 64-bit mode.
  if (n === FS) c.fsBase = baseOf(d); else if (n === GS) c.gsBase = baseOf(d);
  if (n === SS && shadow) c.stiShadowUntil = c.icount + 1;
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
    const [upper, upperHi] = sysRead64(c, d.at + 8);
    const want = tr ? 9 : 2;
    if (s !== 0 || type !== want || ((upperHi >> 8) & 0x1f) !== 0) {
      throw gp(`${i.mnemonic}: selector 0x${sel.toString(16)} is not ${tr ? 'an available 64-bit TSS' : 'an LDT'} descriptor (type ${type}, S ${s})`, sel & 0xfffc);
    }
    if (!present) throw new CpuFault(NP, sel & 0xfffc, `${i.mnemonic}: descriptor 0x${sel.toString(16)} is not present`);
    if (tr) setTypeBit(c, d.at, d.hi, 0x200); // busy
    else {
      // The LDT's base (bits 63:32 in the descriptor's third dword) and limit, scaled by G (SDM Vol. 3A 7.2.3 layout).
      const raw = (d.hi & 0xf0000) | (d.lo & 0xffff);
      c.ldtrLimit = d.hi & 0x800000 ? ((raw << 12) | 0xfff) >>> 0 : raw;
      c.ldtrBase = BigInt.asUintN(64, (BigInt(upper >>> 0) << 32n) | BigInt(baseOf(d)));
    }
    c.sel[tr ? 6 : 7] = sel;
  };
}

const canonical = (hi: number): boolean => (hi >> 15) === 0 || (hi >> 15) === -1;
const ATTR_L = 0x2000, ATTR_D = 0x4000;

/** The 16/32/64-bit operand size of a far transfer, from its iced-x86 code name (…w/…d/…q, _m1616/_m1632/_m1664). */
function farSize(i: Insn): 2 | 4 | 8 {
  const n = i.codeName;
  if (/^(Iretq|Retfq)|_m1664$/.test(n)) return 8;
  if (/^(Iretd|Retfd)|_m1632$/.test(n)) return 4;
  return 2;
}

/** Reads an item of `size` bytes at RSP + off without moving RSP: [lo, hi] (hi 0 below 8 bytes). */
function peek(c: Cpu, off: number, size: number): [number, number] {
  const base = addrOfStack(c.r[8], c.r[9]);
  const a = base + off;
  if (base < 0x800000000000 && a + size > 0x800000000000) throw new CpuFault(SSF, 0, 'stack access runs past 0x7fffffffffff (non-canonical)');
  if (size === 8) { const lo = c.mem.read64(a); return [lo, c.mem.hi]; }
  return [size === 4 ? c.mem.read32(a) : c.mem.read16(a), 0];
}

function setRsp(c: Cpu, lo: number, hi: number): void {
  c.r[8] = lo; c.r[9] = hi;
}

function addRspBy(c: Cpu, n: number): void {
  const lo = (c.r[8] >>> 0) + n;
  c.r[8] = lo | 0;
  if (lo >= TWO32) c.r[9] = (c.r[9] + 1) | 0;
}

/**
 * The return code segment of IRET and RET far (SDM Vol. 2, both pseudo-codes, IA-32e mode): a
 * code segment (#GP(selector)), RPL >= CPL, conforming with DPL <= RPL or non-conforming with
 * DPL = RPL (#GP(selector)), present (#NP(selector)); a 64-bit code segment, else the transfer
 * goes to compatibility mode, which is not modelled.
 */
function returnCs(c: Cpu, i: Insn, cs: number): Desc {
  if ((cs & 0xfffc) === 0) throw gp(`${i.mnemonic}: the return code segment selector is null`);
  const d = gdtEntry(c, i, cs);
  const rpl = cs & 3;
  if (!d.code) throw gp(`${i.mnemonic}: return selector ${hex(cs)} is not a code segment`, cs & 0xfffc);
  if (rpl < c.cpl) throw gp(`${i.mnemonic}: return selector ${hex(cs)} has RPL ${rpl} < CPL ${c.cpl}`, cs & 0xfffc);
  if (d.conforming ? d.dpl > rpl : d.dpl !== rpl) throw gp(`${i.mnemonic}: return code segment ${hex(cs)} has DPL ${d.dpl} ${d.conforming ? '> RPL' : '≠ RPL'} ${rpl}`, cs & 0xfffc);
  if (!d.present) throw new CpuFault(NP, cs & 0xfffc, `${i.mnemonic}: return code segment ${hex(cs)} is not present`);
  if (!(d.attr & ATTR_L)) throw notEmulated(i, `return code segment ${hex(cs)} has L = 0: a return to compatibility mode, which the machine does not model`);
  if (d.attr & ATTR_D) throw notEmulated(i, `return code segment ${hex(cs)} has both L and D set (reserved)`);
  return d;
}

/**
 * The SS a return loads (SDM Vol. 2 IRET and RET far, IA-32e mode): a null SS is #GP(0) going to
 * CPL 3 or with RPL ≠ the new CPL; otherwise beyond the GDT limit, RPL ≠ new CPL, not a writable
 * data segment or DPL ≠ new CPL is #GP(selector), not present #SS(selector).
 */
function returnSs(c: Cpu, i: Insn, ss: number, cpl: number): number {
  if ((ss & 0xfffc) === 0) {
    if (cpl === 3 || (ss & 3) !== cpl) throw gp(`${i.mnemonic}: null stack segment selector ${hex(ss)} returning to CPL ${cpl}`);
    return 0;
  }
  const d = gdtEntry(c, i, ss);
  if ((ss & 3) !== cpl || d.s === 0 || d.code || !(d.type & 2) || d.dpl !== cpl) {
    throw gp(`${i.mnemonic}: stack selector ${hex(ss)} is not a writable data segment with RPL = DPL = ${cpl}`, ss & 0xfffc);
  }
  if (!d.present) throw new CpuFault(SSF, ss & 0xfffc, `${i.mnemonic}: stack segment ${hex(ss)} is not present`);
  setTypeBit(c, d.at, d.hi, 0x100);
  return d.attr;
}

/**
 * A return to an outer privilege level (IRET, RET far): each of ES FS GS DS whose hidden
 * descriptor is data or non-conforming code with DPL < the new CPL gets the null selector 0
 * (SDM Vol. 2, IRET and RET far pseudo-code; only the selector changes, the FS/GS base is not
 * named). A register whose hidden part the machine does not know stays unknown; a null
 * selector with a non-zero RPL becomes unknown (a null selector's hidden DPL is undefined).
 */
function nullOuter(c: Cpu, cpl: number): void {
  for (const n of [ES, FS, GS, DS]) {
    const s = c.sel[n], a = c.segAttr[n];
    if (s < 0 || a < 0) continue;
    if ((s & 0xfffc) === 0) {
      if (s !== 0) c.sel[n] = SEL_RPL_UNKNOWN;
      continue;
    }
    const code = (a & 0x18) === 0x18, conforming = code && (a & 4) !== 0;
    if ((a & 0x10) && !conforming && ((a >> 5) & 3) < cpl) { c.sel[n] = 0; c.segAttr[n] = 0; }
  }
}

function loadCs(c: Cpu, d: Desc, sel: number): void {
  setTypeBit(c, d.at, d.hi, 0x100);
  c.sel[CS] = sel;
  c.segAttr[CS] = d.attr;
}

/**
 * IRET/IRETD/IRETQ in IA-32e mode (SDM Vol. 2, IRET pseudo-code, IA-32e-MODE and
 * IA-32e-MODE-RETURN; Vol. 3A 6.14.3: in 64-bit mode IRET pops SS:RSP unconditionally): NT = 1
 * is #GP(0); RIP, CS, RFLAGS, RSP, SS are read at the operand size, then checked (return CS and
 * SS as above, a non-canonical RIP #GP(0)). RFLAGS: CF PF AF ZF SF TF DF OF NT always; RF AC ID
 * at 32/64 bits; IF when CPL <= IOPL; IOPL (and VIF VIP at 32/64 bits) at CPL 0; VM stays 0
 * (RF is not kept: no instruction breakpoints are modelled). A return to an outer level nulls
 * the data-segment registers the new CPL may not use.
 */
const iret: Handler = (c, i) => {
  const os = farSize(i);
  if (getRflags(c) & 0x4000) throw gp(`${i.mnemonic} with RFLAGS.NT = 1: a task return, which IA-32e mode does not support`);
  const [ripLo, ripHi] = peek(c, 0, os);
  const cs = peek(c, os, os)[0] & 0xffff;
  const temp = peek(c, 2 * os, os)[0];
  const [rspLo, rspHi] = peek(c, 3 * os, os);
  const ss = peek(c, 4 * os, os)[0] & 0xffff;
  const cpl = cs & 3;
  if ((cs & 0xfffc) === 0) throw gp(`${i.mnemonic}: the return code segment selector is null`);
  if (!canonical(ripHi)) throw gp(`${i.mnemonic}: return RIP 0x${(BigInt(ripHi >>> 0) << 32n | BigInt(ripLo >>> 0)).toString(16)} is not canonical`);
  if ((ss & 0xfffc) === 0 && (cpl === 3 || (ss & 3) !== cpl)) throw gp(`${i.mnemonic}: null stack segment selector ${hex(ss)} returning to CPL ${cpl}`);
  const d = returnCs(c, i, cs);
  const ssAttr = returnSs(c, i, ss, cpl);
  const old = c.cpl;
  const cur = getRflags(c);
  let m = 0x4dd5;
  if (os !== 2) m |= 0x10000 | 0x40000 | 0x200000;
  if (old <= ((cur >> 12) & 3)) m |= Fl.IF;
  if (old === 0) m |= 0x3000 | (os !== 2 ? 0x180000 : 0);
  const nv = ((cur & ~m) | (temp & m)) >>> 0;
  setArith(c, nv);
  c.flags = (nv & ~0x30000) | Fl.FIXED;
  c.rip = ripHi * TWO32 + (ripLo >>> 0);
  loadCs(c, d, cs);
  // 64-bit operand size: RSP := tempRSP; 32/16 bits: the popped ESP/SP zero-extended.
  setRsp(c, rspLo, rspHi);
  c.sel[SS] = ss;
  c.segAttr[SS] = ssAttr;
  c.cpl = cpl;
  c.mem.user = cpl === 3;
  if (cpl > old) nullOuter(c, cpl);
};

/**
 * RET far [imm16] in 64-bit mode (SDM Vol. 2, RET far pseudo-code): RIP and CS at the operand
 * size, the return CS checked as above. Same privilege: a non-canonical RIP is #GP(0); RSP
 * moves past them plus imm16. Outer privilege: RSP and SS are read past imm16, SS checked, then
 * RSP := the popped RSP + imm16, CPL := RPL, and the data-segment registers are nulled.
 */
const retf: Handler = (c, i) => {
  const os = farSize(i);
  const imm = i.k0 === K.IMM ? i.immLo & 0xffff : 0;
  const [ripLo, ripHi] = peek(c, 0, os);
  const cs = peek(c, os, os)[0] & 0xffff;
  const d = returnCs(c, i, cs);
  const cpl = cs & 3;
  const bad = (): CpuFault => gp(`${i.mnemonic}: return RIP 0x${(BigInt(ripHi >>> 0) << 32n | BigInt(ripLo >>> 0)).toString(16)} is not canonical`);
  if (cpl > c.cpl) {
    const [rspLo, rspHi] = peek(c, 2 * os + imm, os);
    const ss = peek(c, 3 * os + imm, os)[0] & 0xffff;
    const ssAttr = returnSs(c, i, ss, cpl);
    if (!canonical(ripHi)) throw bad();
    c.rip = ripHi * TWO32 + (ripLo >>> 0);
    loadCs(c, d, cs);
    setRsp(c, rspLo, rspHi);
    addRspBy(c, imm);
    c.sel[SS] = ss;
    c.segAttr[SS] = ssAttr;
    c.cpl = cpl;
    c.mem.user = cpl === 3;
    nullOuter(c, cpl);
    return;
  }
  if (!canonical(ripHi)) throw bad();
  c.rip = ripHi * TWO32 + (ripLo >>> 0);
  loadCs(c, d, cs);
  addRspBy(c, 2 * os + imm);
  popShadowTo(c, c.rip);
};

/** Drops shadow call-stack frames down to the one whose return address is `to` (a far return ends a far call's frame). */
function popShadowTo(c: Cpu, to: number): void {
  for (let n = Math.min(c.ssN, c.ssRet.length); n > 0; n--) {
    if (c.ssRet[n - 1] === to) { c.ssN = n - 1; return; }
  }
}

/**
 * JMP/CALL far through memory (m16:16, m16:32, m16:64) in 64-bit mode (SDM Vol. 2, JMP and CALL,
 * far transfers to a code segment): a null selector is #GP(0); beyond the GDT limit, not a code
 * segment, L and D both set, a conforming segment with DPL > CPL or a non-conforming one with
 * RPL > CPL or DPL ≠ CPL is #GP(selector); not present #NP(selector); a non-canonical offset
 * #GP(0). CS gets the selector with RPL := CPL. CALL first pushes CS and the return address at
 * the operand size. Call gates stop by name; other system descriptors are #GP(selector).
 */
const farBranch: Handler = (c, i) => {
  const os = farSize(i);
  const a = ea(c, i);
  let lo: number, hi = 0;
  if (os === 8) { lo = c.mem.read64(a); hi = c.mem.hi; } else lo = os === 4 ? c.mem.read32(a) : c.mem.read16(a);
  const sel = c.mem.read16(a + os);
  if ((sel & 0xfffc) === 0) throw gp(`${i.mnemonic} far: null selector`);
  const d = gdtEntry(c, i, sel);
  if (d.s === 0 && d.type === 0xc) throw notEmulated(i, `selector ${hex(sel)} names a call gate, which the machine does not model`);
  if (!d.code) throw gp(`${i.mnemonic} far: selector ${hex(sel)} is not a code segment`, sel & 0xfffc);
  if ((d.attr & ATTR_L) && (d.attr & ATTR_D)) throw gp(`${i.mnemonic} far: code segment ${hex(sel)} has both L and D set`, sel & 0xfffc);
  if (d.conforming ? d.dpl > c.cpl : ((sel & 3) > c.cpl || d.dpl !== c.cpl)) throw gp(`${i.mnemonic} far: code segment ${hex(sel)} (DPL ${d.dpl}, RPL ${sel & 3}) is not reachable at CPL ${c.cpl}`, sel & 0xfffc);
  if (!d.present) throw new CpuFault(NP, sel & 0xfffc, `${i.mnemonic} far: code segment ${hex(sel)} is not present`);
  if (!(d.attr & ATTR_L)) throw notEmulated(i, `code segment ${hex(sel)} has L = 0: a transfer to compatibility mode, which the machine does not model`);
  if (!canonical(hi)) throw gp(`${i.mnemonic} far: target 0x${(BigInt(hi >>> 0) << 32n | BigInt(lo >>> 0)).toString(16)} is not canonical`);
  const target = hi * TWO32 + (lo >>> 0);
  if (i.mnemonic === 'call') {
    const cs = selector(c, i, CS);
    const ret = i.next;
    const base = addrOfStack(c.r[8], c.r[9]);
    // Both writes happen before RSP moves (a fault leaves RSP as it was).
    if (os === 8) { c.mem.write64(base - 8, cs, 0); c.mem.write64(base - 16, (ret % TWO32) | 0, Math.floor(ret / TWO32) | 0); }
    else if (os === 4) { c.mem.write32(base - 4, cs); c.mem.write32(base - 8, (ret % TWO32) | 0); }
    else { c.mem.write16(base - 2, cs); c.mem.write16(base - 4, ret & 0xffff); }
    addRspBy(c, -2 * os);
    const n = c.ssN;
    if (n < c.ssRet.length) { c.ssRet[n] = os === 8 ? ret : os === 4 ? ret % TWO32 : ret & 0xffff; c.ssTarget[n] = target; c.ssSp[n] = c.r[9] * TWO32 + (c.r[8] >>> 0); }
    c.ssN = n + 1;
  }
  loadCs(c, d, (sel & 0xfffc) | c.cpl);
  c.rip = target;
};

/** LSS/LFS/LGS r, m16:16/32/64: the segment register is loaded (MOV's checks) before the register is written. */
function loadFar(n: number): Handler {
  return (c, i) => {
    const a = ea(c, i);
    const os = i.s0;
    let lo: number, hi = 0;
    if (os === 8) { lo = c.mem.read64(a); hi = c.mem.hi; } else lo = os === 4 ? c.mem.read32(a) : c.mem.read16(a);
    const sel = c.mem.read16(a + os);
    loadSeg(c, i, n, sel, false);
    writeReg(c, i.r0, os, lo, hi);
  };
}

/**
 * The descriptor LAR/LSL/VERR/VERW examine, or undefined when ZF must be cleared outright: a
 * null selector, or an index beyond the limit of its table (a null LDTR has no entries).
 */
function probe(c: Cpu, i: Insn, sel: number): Desc | undefined {
  if ((sel & 0xfffc) === 0) return undefined;
  const t = tableOf(c, i, sel);
  const index = sel >> 3;
  if (index * 8 + 7 > t.limit) return undefined;
  const at = Number(BigInt.asIntN(64, t.base + BigInt(index * 8)));
  const [lo, hi] = sysRead64(c, at);
  return decode(lo, hi, at);
}

function setZf(c: Cpu, on: boolean): void {
  materialize(c);
  c.flags = (c.flags & ~Fl.ZF) | (on ? Fl.ZF : 0);
}

/** Whether CPL and RPL may see a descriptor (a conforming code segment always). */
function visible(c: Cpu, d: Desc, sel: number): boolean {
  return d.conforming || (c.cpl <= d.dpl && (sel & 3) <= d.dpl);
}

/**
 * LAR and LSL (SDM Vol. 2; IA-32e mode's valid system types: LAR 2 LDT, 9/B 64-bit TSS, C 64-bit
 * call gate; LSL 2, 9, B). ZF = 1 and the destination written (access rights: the high dword
 * masked by 00FFFF00H; the limit scaled by G) when the descriptor is valid and visible, else ZF
 * = 0 and the destination is left alone.
 */
function larLsl(lsl: boolean): Handler {
  const sys = lsl ? [2, 9, 0xb] : [2, 9, 0xb, 0xc];
  return (c, i) => {
    const sel = i.k1 === K.REG ? readReg(c, i.r1, 2) : c.mem.read16(ea(c, i));
    const d = probe(c, i, sel);
    const ok = d !== undefined && (d.s === 1 || sys.includes(d.type)) && visible(c, d, sel);
    if (ok) {
      let v: number;
      if (lsl) {
        const raw = (d.hi & 0xf0000) | (d.lo & 0xffff);
        v = d.hi & 0x800000 ? ((raw << 12) | 0xfff) >>> 0 : raw;
      } else v = d.hi & 0x00ffff00;
      writeReg(c, i.r0, i.s0 === 8 ? 8 : i.s0, v | 0, 0);
    }
    setZf(c, ok);
  };
}

/**
 * VERR/VERW r/m16 (SDM Vol. 2): ZF = 1 when the selector names a segment readable (VERR: data,
 * or readable code) or writable (VERW: writable data) at the current privilege (conforming code
 * is not checked against CPL/RPL).
 */
function verify(write: boolean): Handler {
  return (c, i) => {
    const sel = i.k0 === K.REG ? readReg(c, i.r0, 2) : c.mem.read16(ea(c, i));
    const d = probe(c, i, sel);
    let ok = false;
    if (d && d.s === 1 && visible(c, d, sel)) ok = write ? !d.code && (d.type & 2) !== 0 : !d.code || (d.type & 2) !== 0;
    setZf(c, ok);
  };
}

/** IA32_STAR/LSTAR/FMASK, or a "not emulated" stop naming the one the program has not written (power-up value undefined). */
function syscallMsr(c: Cpu, i: Insn, msr: number, name: string): bigint {
  const v = c.msrs.get(msr);
  if (v === undefined) throw notEmulated(i, `${name} has not been written: its value after power-up or reset is undefined (SDM Vol. 3A Table 10-1, "all other MSRs")`);
  return v;
}

/**
 * SYSCALL in 64-bit mode (SDM Vol. 2, SYSCALL): #UD unless EFER.SCE; RCX = the next RIP, R11 =
 * RFLAGS, RFLAGS &= ~IA32_FMASK, RIP = IA32_LSTAR, CS = STAR[47:32] & FFFCH (flat 64-bit code,
 * DPL 0), SS = STAR[47:32] + 8 (flat writable data, DPL 0), CPL 0.
 */
const syscall: Handler = (c, i) => {
  if (!(c.efer & 1n)) throw ud(`${i.mnemonic}: IA32_EFER.SCE is clear`);
  const star = syscallMsr(c, i, MSR.IA32_STAR, 'IA32_STAR');
  const lstar = syscallMsr(c, i, MSR.IA32_LSTAR, 'IA32_LSTAR');
  const fmask = syscallMsr(c, i, MSR.IA32_FMASK, 'IA32_FMASK');
  const fl = getRflags(c) & ~0x10000;
  const next = i.next;
  writeReg(c, 1, 8, (next % TWO32) | 0, Math.floor(next / TWO32) | 0);
  writeReg(c, 11, 8, fl | 0, 0);
  const nv = (fl & ~Number(fmask & 0xffffffffn)) >>> 0;
  setArith(c, nv);
  c.flags = (nv & ~0x30000) | Fl.FIXED;
  const base = Number((star >> 32n) & 0xffffn);
  c.sel[CS] = base & 0xfffc;
  c.segAttr[CS] = 0xaf9b; // G, L, limit FFFFFH, P, DPL 0, S, type 1011B (execute/read, accessed)
  c.sel[SS] = (base + 8) & 0xffff;
  c.segAttr[SS] = 0xcf93; // G, B, limit FFFFFH, P, DPL 0, S, type 0011B (read/write, accessed)
  c.cpl = 0;
  c.mem.user = false;
  c.rip = Number(BigInt.asIntN(64, lstar));
};

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
  if (!canonical(hi)) throw gp(`${i.mnemonic}: RCX 0x${c.getGpr(1).toString(16)} is not canonical`);
  const star = syscallMsr(c, i, MSR.IA32_STAR, 'IA32_STAR');
  const base = Number((star >> 48n) & 0xffffn);
  const fl = ((c.r[22] & 0x3c7fd7) | 2) >>> 0;
  setArith(c, fl);
  c.flags = (fl & ~0x30000) | Fl.FIXED;
  c.rip = hi * TWO32 + (lo >>> 0);
  c.sel[CS] = ((base + 16) & 0xffff) | 3;
  c.segAttr[CS] = 0xaffb; // G, L, limit FFFFFH, P, DPL 3, S, type 1011B
  c.sel[SS] = ((base + 8) & 0xffff) | 3;
  c.segAttr[SS] = 0xcff3; // G, B, limit FFFFFH, P, DPL 3, S, type 0011B
  c.cpl = 3;
  c.mem.user = true;
};

/**
 * The handler of a MOV, PUSH or POP with a segment-register operand (their records in move.ts
 * and stack.ts cover the general-register forms), of a far JMP/CALL through memory, or undefined
 * for any other instruction.
 */
export function segmentHandler(i: Insn): Handler | undefined {
  if (i.mnemonic === 'mov' && (i.k0 === K.SEG) !== (i.k1 === K.SEG)) return movSeg;
  if (i.mnemonic === 'push' && i.k0 === K.SEG) return pushSeg;
  if (i.mnemonic === 'pop' && i.k0 === K.SEG) return popSeg;
  if ((i.mnemonic === 'jmp' || i.mnemonic === 'call') && /_m16(16|32|64)$/.test(i.codeName)) return farBranch;
  return undefined;
}

export const records: InsnRecord[] = [
  rec('str', storeSystem(6), { diff: false }),
  rec('sldt', storeSystem(7), { diff: false }),
  rec('ltr', loadSystem(true), { diff: false }),
  rec('lldt', loadSystem(false), { diff: false }),
  rec('sysret', sysret, { noFallThrough: true, mnemonics: ['sysret', 'sysretq'], asm: ['sysretl', 'sysretq'], endsBlock: true, solo: true, diff: false }),
  rec('syscall', syscall, { noFallThrough: true, endsBlock: true, solo: true, diff: false }),
  // User mode on the host sees its own GDT: checked against the host CPU by test/unit/segmentsHost.test.ts.
  rec('iret', iret, { noFallThrough: true, mnemonics: ['iret', 'iretd', 'iretq'], asm: ['iretw', 'iretl', 'iretq'], endsBlock: true, solo: true, diff: false }),
  rec('retf', retf, { noFallThrough: true, asm: ['lret', 'lretw', 'lretl', 'lretq'], endsBlock: true, solo: true, diff: false }),
  rec('lss', loadFar(SS), { diff: false }),
  rec('lfs', loadFar(FS), { diff: false }),
  rec('lgs', loadFar(GS), { diff: false }),
  rec('lar', larLsl(false), { diff: false }),
  rec('lsl', larLsl(true), { diff: false }),
  rec('verr', verify(false), { diff: false }),
  rec('verw', verify(true), { diff: false }),
];

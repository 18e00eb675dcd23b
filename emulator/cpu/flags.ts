// Lazy RFLAGS: arithmetic records its operands and result, and a flag is computed only when
// something reads it (a Jcc usually reads one or two). Instructions whose flag rules are
// unusual (shifts, multiplies, bit tests) compute all six eagerly with `setArith`.

import type { Cpu } from './cpu';

/** The operation whose operands are pending in the lazy state. */
export const enum FlagOp {
  /** Status flags are materialized in `cpu.flags`. */
  NONE = 0,
  ADD, ADC, SUB, SBB,
  /** AND/OR/XOR/TEST: CF = OF = 0, AF = 0 (the SDM leaves AF undefined; hardware clears it). */
  LOGIC,
  /** INC/DEC: like ADD/SUB of 1 but CF is preserved in `fcf`. */
  INC, DEC,
}

const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i, p = 1;
  while (b) { p ^= b & 1; b >>= 1; }
  PARITY[i] = p ? 0x4 : 0;
}

/** Bits 0..7 set in a byte: PF is set when that count is even. */
export function parityFlag(lowByte: number): number {
  return PARITY[lowByte & 0xff];
}

function ult64(aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  return aHi === bHi ? (aLo >>> 0) < (bLo >>> 0) : (aHi >>> 0) < (bHi >>> 0);
}

export function getCF(c: Cpu): number {
  switch (c.fop) {
    case FlagOp.NONE: return c.flags & 1;
    case FlagOp.LOGIC: return 0;
    case FlagOp.INC: case FlagOp.DEC: return c.fcf;
    case FlagOp.ADD:
      if (c.fsz === 64) return ult64(c.frLo, c.frHi, c.faLo, c.faHi) ? 1 : 0;
      return (c.frLo >>> 0) < (c.faLo >>> 0) ? 1 : 0;
    case FlagOp.ADC:
      if (c.fsz === 64) {
        if (ult64(c.frLo, c.frHi, c.faLo, c.faHi)) return 1;
        return c.fcf && c.frLo === c.faLo && c.frHi === c.faHi ? 1 : 0;
      }
      return (c.frLo >>> 0) < (c.faLo >>> 0) || (c.fcf && (c.frLo >>> 0) === (c.faLo >>> 0)) ? 1 : 0;
    case FlagOp.SUB:
      if (c.fsz === 64) return ult64(c.faLo, c.faHi, c.fbLo, c.fbHi) ? 1 : 0;
      return (c.faLo >>> 0) < (c.fbLo >>> 0) ? 1 : 0;
    case FlagOp.SBB:
      if (c.fsz === 64) {
        if (ult64(c.faLo, c.faHi, c.fbLo, c.fbHi)) return 1;
        return c.fcf && c.faLo === c.fbLo && c.faHi === c.fbHi ? 1 : 0;
      }
      return (c.faLo >>> 0) < (c.fbLo >>> 0) || (c.fcf && (c.faLo >>> 0) === (c.fbLo >>> 0)) ? 1 : 0;
  }
  return 0;
}

export function getZF(c: Cpu): number {
  if (c.fop === FlagOp.NONE) return (c.flags >> 6) & 1;
  if (c.fsz === 64) return (c.frLo | c.frHi) === 0 ? 1 : 0;
  return c.frLo === 0 ? 1 : 0;
}

export function getSF(c: Cpu): number {
  if (c.fop === FlagOp.NONE) return (c.flags >> 7) & 1;
  if (c.fsz === 64) return c.frHi >>> 31;
  return (c.frLo >>> (c.fsz - 1)) & 1;
}

export function getOF(c: Cpu): number {
  let x: number;
  switch (c.fop) {
    case FlagOp.NONE: return (c.flags >> 11) & 1;
    case FlagOp.LOGIC: return 0;
    case FlagOp.ADD: case FlagOp.ADC: case FlagOp.INC:
      x = c.fsz === 64 ? (c.faHi ^ c.frHi) & (c.fbHi ^ c.frHi) : (c.faLo ^ c.frLo) & (c.fbLo ^ c.frLo);
      break;
    default: // SUB, SBB, DEC
      x = c.fsz === 64 ? (c.faHi ^ c.fbHi) & (c.faHi ^ c.frHi) : (c.faLo ^ c.fbLo) & (c.faLo ^ c.frLo);
  }
  return c.fsz === 64 ? x >>> 31 : (x >>> (c.fsz - 1)) & 1;
}

export function getPF(c: Cpu): number {
  if (c.fop === FlagOp.NONE) return (c.flags >> 2) & 1;
  return PARITY[c.frLo & 0xff] >> 2;
}

export function getAF(c: Cpu): number {
  if (c.fop === FlagOp.NONE) return (c.flags >> 4) & 1;
  if (c.fop === FlagOp.LOGIC) return 0;
  return ((c.faLo ^ c.fbLo ^ c.frLo) >> 4) & 1;
}

/**
 * The six status flags as RFLAGS bits: PF, ZF and SF from the result as getPF/getZF/getSF
 * compute them, AF as getAF, CF and OF from their getters (what a rotate materialises before
 * it replaces CF and OF: one pass over the lazy state instead of six).
 */
export function arithFlags(c: Cpu): number {
  const op = c.fop;
  if (op === FlagOp.NONE) return c.flags & 0x8d5;
  const lo = c.frLo;
  let f = PARITY[lo & 0xff];
  if (c.fsz === 64) f |= ((lo | c.frHi) === 0 ? 0x40 : 0) | ((c.frHi >>> 31) << 7);
  else f |= (lo === 0 ? 0x40 : 0) | (((lo >>> (c.fsz - 1)) & 1) << 7);
  if (op === FlagOp.LOGIC) return f;
  return f | ((c.faLo ^ c.fbLo ^ lo) & 0x10) | getCF(c) | (getOF(c) << 11);
}

/** Folds pending lazy flags into `cpu.flags` (before an instruction changes only some of them). */
export function materialize(c: Cpu): void {
  if (c.fop !== FlagOp.NONE) {
    c.flags = (c.flags & ~0x8d5) | arithFlags(c);
    c.fop = FlagOp.NONE;
  }
}

/** Full RFLAGS value. */
export function getRflags(c: Cpu): number {
  return (c.flags & ~0x8d5) | arithFlags(c) | 0x2;
}

/** Replaces the six status flags with `bits` (eager flag computation). */
export function setArith(c: Cpu, bits: number): void {
  c.flags = (c.flags & ~0x8d5) | (bits & 0x8d5);
  c.fop = FlagOp.NONE;
}

/** Condition codes in encoding order (o no b ae e ne be a s ns p np l ge le g). */
export function testCond(c: Cpu, cc: number): boolean {
  let v: number;
  switch (cc >> 1) {
    case 0: v = getOF(c); break;
    case 1: v = getCF(c); break;
    case 2: v = getZF(c); break;
    case 3: v = getCF(c) | getZF(c); break;
    case 4: v = getSF(c); break;
    case 5: v = getPF(c); break;
    case 6: v = getSF(c) ^ getOF(c); break;
    default: v = getZF(c) | (getSF(c) ^ getOF(c)); break;
  }
  return (v ^ (cc & 1)) === 1;
}

export { COND_NAMES } from '../x86/registers';

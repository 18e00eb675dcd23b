// Building blocks of the instruction templates (see table.ts): source snippets shared by the
// forms of several families, and the runtime helpers the generated code may call by name. The
// interpreter's specialised handlers and the compiled blocks are both generated with RUNTIME in
// scope, so a template means the same thing in either.

import { SHADOW_DEPTH, type Cpu } from '../cpu/cpu';
import { FlagOp, testCond, setArith, parityFlag, materialize } from '../cpu/flags';
import type { Insn } from '../decode/insn';
import type { TemplateOps } from './table';
import { ea, linear, segLinear, addrOfStack, jumpTo, popShadow, CANON_LO, CANON_HI } from './operands';
import { mulhiS, mulS64, W, mulFlagsN } from './mul64';

export const TWO32 = 4294967296;

/**
 * Condition `cc` after CMP/SUB of 32 or 64 bits straight from the operands (the common case:
 * a compare right before the branch); anything else goes through the generic flag getters.
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

/** Helpers generated code may call, by name. */
export const RUNTIME: Record<string, unknown> = { ea, linear, segLinear, cond, addrLo, addrHi, addrOfStack, jumpTo, popShadow, setArith, parityFlag, materialize, mulhiS, mulS64, W, mulFlagsN, SHADOW_DEPTH };

/** Sum of the low halves of base + index × scale + displacement (interpreter templates). */
export function addrLo(c: Cpu, x: Insn): number {
  const r = c.r;
  let lo = x.mDispLo >>> 0;
  if (x.mBase >= 0) lo += r[2 * x.mBase] >>> 0;
  if (x.mIndex >= 0) lo += (r[2 * x.mIndex] >>> 0) * x.mScale;
  return lo;
}

/** Sum of the high halves, as addrLo. */
export function addrHi(c: Cpu, x: Insn): number {
  const r = c.r;
  let hi = x.mDispHi;
  if (x.mBase >= 0) hi += r[2 * x.mBase + 1];
  if (x.mIndex >= 0) hi += r[2 * x.mIndex + 1] * x.mScale;
  return hi;
}

/** Operands of a template in the interpreter: read from the decoded instruction `x`. */
export const INTERPRETER_OPS: TemplateOps = {
  d: '(2 * x.r0)', s: '(2 * x.r1)', immLo: 'x.immLo', immHi: 'x.immHi', cc: 'x.cc', target: 'x.target',
  next: 'x.next', x: 'x', ea: 'ea(c, x)', addrLo: 'addrLo(c, x)', addrHi: 'addrHi(c, x)', noFlags: false,
};

/**
 * Operands of a template in a block: constants of instruction `i`, which the block calls `x`;
 * `noFlags`: its flags are dead. The effective address of 64-bit addressing without a segment
 * is the sum of the halves, exact as a double (a block declares the scratch `$a`); anything
 * outside the plain canonical range (a non-canonical or wrapped sum) goes through linear(),
 * an address-size prefix or an FS/GS segment through segLinear().
 */
export function blockOps(i: Insn, x: string, noFlags = false): TemplateOps {
  let lo = `${i.mDispLo >>> 0}`, hi = `${i.mDispHi}`;
  if (i.mBase >= 0) { lo += ` + (R[${2 * i.mBase}] >>> 0)`; hi += ` + R[${2 * i.mBase + 1}]`; }
  if (i.mIndex >= 0) { lo += ` + (R[${2 * i.mIndex}] >>> 0) * ${i.mScale}`; hi += ` + R[${2 * i.mIndex + 1}] * ${i.mScale}`; }
  const inline = !i.mA32 && i.mSeg === 0;
  return {
    d: String(2 * i.r0), s: String(2 * i.r1), immLo: String(i.immLo), immHi: String(i.immHi), cc: String(i.cc),
    target: String(i.target), next: String(i.next), x,
    // Anything else (an address-size prefix, FS/GS) from the same sums: the registers of a
    // block are its locals (ea() would read c.r, which the block has not written yet).
    ea: inline ? `(($a = (${hi}) * ${TWO32} + (${lo})) >= ${CANON_LO} && $a < ${CANON_HI} ? $a : linear(${x}, ${lo}, ${hi}))` : `segLinear(c, ${x}, ${lo}, ${hi})`,
    addrLo: `(${lo})`, addrHi: `(${hi})`, noFlags,
  };
}

/** Lazy-flag record of an ALU result (see cpu/flags.ts) at `bits` wide. */
export function lazyFlags(op: FlagOp, bits: number, aLo: string, aHi: string, bLo: string, bHi: string, lo: string, hi: string): string {
  return `c.fop = ${op}; c.fsz = ${bits}; c.faLo = ${aLo}; c.faHi = ${aHi}; c.fbLo = ${bLo}; c.fbHi = ${bHi}; c.frLo = ${lo}; c.frHi = ${hi}; c.fcf = 0;`;
}

/** Reads `size` bytes at address `a` into `lo` (and `hi` for 8), declaring them. */
export function loadSource(size: number, a: string, lo: string, hi: string): string {
  switch (size) {
    case 8: return `const ${lo} = M.read64(${a}), ${hi} = M.hi;`;
    case 4: return `const ${lo} = M.read32(${a}), ${hi} = 0;`;
    case 2: return `const ${lo} = M.read16(${a}), ${hi} = 0;`;
    default: return `const ${lo} = M.read8(${a}), ${hi} = 0;`;
  }
}

/** Writes `size` bytes of (lo, hi) at address `a`. */
export function storeSource(size: number, a: string, lo: string, hi: string): string {
  switch (size) {
    case 8: return `M.write64(${a}, ${lo}, ${hi});`;
    case 4: return `M.write32(${a}, ${lo});`;
    case 2: return `M.write16(${a}, ${lo});`;
    default: return `M.write8(${a}, ${lo});`;
  }
}

/** Writes (lo, hi) to the 64-bit or 32-bit (zero-extending) register whose low half is R[d]. */
export function regStore(size: 8 | 4, d: string, lo: string, hi: string): string {
  return size === 8 ? `R[${d}] = ${lo}; R[${d} + 1] = ${hi};` : `R[${d}] = ${lo}; R[${d} + 1] = 0;`;
}

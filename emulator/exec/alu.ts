// Integer arithmetic and logic: ADD ADC SUB SBB AND OR XOR CMP TEST NOT NEG INC DEC, one
// width-generic routine per operation. Flags are left lazy (see cpu/flags.ts). The records at
// the end carry the template of the 32/64-bit register, immediate and memory forms.

import { Cpu } from '../cpu/cpu';
import { FlagOp, getCF } from '../cpu/flags';
import { Insn } from '../decode/insn';
import { rd0, rd0w, rd1, wr0 } from './operands';
import type { Handler } from '../decode/insn';
import { K } from '../decode/insn';
import { rec, type Form, type InsnRecord } from './table';
import { lazyFlags, loadSource, regStore, storeSource } from './template';

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
    const aLo = write ? rd0w(c, i) : rd0(c, i), aHi = c.readHigh;
    const bLo = rd1(c, i), bHi = c.readHigh;
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
    const aLo = write ? rd0w(c, i) : rd0(c, i), aHi = c.readHigh;
    const bLo = rd1(c, i), bHi = c.readHigh;
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
  const lo = rd0w(c, i), hi = c.readHigh;
  if (sz === 8) wr0(c, i, ~lo, ~hi, true);
  else wr0(c, i, sz === 4 ? ~lo : ~lo & (sz === 1 ? 0xff : 0xffff), 0, true);
}

function neg(c: Cpu, i: Insn): void {
  const sz = i.s0;
  const bLo = rd0w(c, i), bHi = c.readHigh;
  const lo = subCore(sz, 0, 0, bLo, bHi, 0), hi = rHi;
  wr0(c, i, lo, hi, true);
  setLazy(c, FlagOp.SUB, sz, 0, 0, bLo, bHi, lo, hi, 0);
}

function incdec(dec: boolean): Handler {
  return (c: Cpu, i: Insn) => {
    const sz = i.s0;
    const aLo = rd0w(c, i), aHi = c.readHigh;
    const lo = dec ? subCore(sz, aLo, aHi, 1, 0, 0) : addCore(sz, aLo, aHi, 1, 0, 0), hi = rHi;
    const cf = getCF(c);
    wr0(c, i, lo, hi, true);
    setLazy(c, dec ? FlagOp.DEC : FlagOp.INC, sz, aLo, aHi, 1, 0, lo, hi, cf);
  };
}

// ---- specialised forms: 32/64-bit ADD SUB AND OR XOR CMP TEST --------------------------------

const LOGIC_OPS: Record<string, string> = { and: '&', or: '|', xor: '^', test: '&' };

/**
 * The 32- and 64-bit forms with register, immediate or memory operands (no LOCK): the operands
 * are read, the result written (a memory write may fault), and only then the lazy flags set.
 */
const aluForm: Form = {
  match: (i) => (i.s0 === 8 || i.s0 === 4) && !i.lock && !i.rep
    && ((i.k0 === K.REG && (i.k1 === K.REG || i.k1 === K.IMM || i.k1 === K.MEM))
      || (i.k0 === K.MEM && (i.k1 === K.REG || i.k1 === K.IMM))),
  faults: false, // refined per instruction below
  flags: 'def',
  src(o, i, tail = '') {
    const op = i.mnemonic, sz = i.s0 as 8 | 4, w = sz === 8, write = op !== 'cmp' && op !== 'test';
    let code = '', aLo: string, aHi: string, bLo: string, bHi: string, store: string;
    if (i.k0 === K.REG) {
      aLo = `R[${o.d}]`; aHi = w ? `R[${o.d} + 1]` : '0';
      store = regStore(sz, o.d, 'lo', 'hi');
    } else {
      // A destination that is written is read for writing: a #PF then carries the W bit.
      code += `const a = ${o.ea}; ${write ? `M.probeWrite(a, ${sz}); ` : ''}${loadSource(sz, 'a', 'mLo', 'mHi')} `;
      aLo = 'mLo'; aHi = 'mHi';
      store = storeSource(sz, 'a', 'lo', 'hi');
    }
    if (i.k1 === K.REG) { bLo = `R[${o.s}]`; bHi = w ? `R[${o.s} + 1]` : '0'; }
    else if (i.k1 === K.IMM) { bLo = o.immLo; bHi = w ? o.immHi : '0'; }
    else { code += `const a = ${o.ea}; ${loadSource(sz, 'a', 'nLo', 'nHi')} `; bLo = 'nLo'; bHi = 'nHi'; }
    code += `const aLo = ${aLo}, aHi = ${aHi}, bLo = ${bLo}, bHi = ${bHi}; let lo, hi;\n`;
    let fop: FlagOp;
    if (op === 'add') {
      fop = FlagOp.ADD;
      code += w ? `const t = (aLo >>> 0) + (bLo >>> 0); lo = t | 0; hi = (aHi + bHi + (t >= ${TWO32} ? 1 : 0)) | 0;` : 'lo = (aLo + bLo) | 0; hi = 0;';
    } else if (op === 'sub' || op === 'cmp') {
      fop = FlagOp.SUB;
      code += w ? 'const t = (aLo >>> 0) - (bLo >>> 0); lo = t | 0; hi = (aHi - bHi - (t < 0 ? 1 : 0)) | 0;' : 'lo = (aLo - bLo) | 0; hi = 0;';
    } else {
      fop = FlagOp.LOGIC;
      const f = LOGIC_OPS[op];
      code += `lo = aLo ${f} bLo; hi = aHi ${f} bHi;`;
    }
    if (write) code += ' ' + store;
    return `{ ${code} ${o.noFlags ? '' : lazyFlags(fop, sz * 8, 'aLo', 'aHi', 'bLo', 'bHi', 'lo', 'hi')} ${tail} }`;
  },
  fuse(cc, i) {
    const w = i.s0 === 8;
    if (i.mnemonic === 'sub' || i.mnemonic === 'cmp') {
      // Unsigned and signed order of the operands, as cond() reads them from the lazy flags.
      const eq = w ? '((aLo | 0) === (bLo | 0) && (aHi | 0) === (bHi | 0))' : '((aLo | 0) === (bLo | 0))';
      const ult = w ? '((aHi | 0) === (bHi | 0) ? (aLo >>> 0) < (bLo >>> 0) : (aHi >>> 0) < (bHi >>> 0))' : '((aLo >>> 0) < (bLo >>> 0))';
      const slt = w ? '((aHi | 0) === (bHi | 0) ? (aLo >>> 0) < (bLo >>> 0) : (aHi | 0) < (bHi | 0))' : '((aLo | 0) < (bLo | 0))';
      return ({ 2: ult, 3: `!${ult}`, 4: eq, 5: `!${eq}`, 6: `(${ult} || ${eq})`, 7: `!(${ult} || ${eq})`,
        12: slt, 13: `!${slt}`, 14: `(${slt} || ${eq})`, 15: `!(${slt} || ${eq})` } as Record<number, string>)[cc];
    }
    if (i.mnemonic === 'and' || i.mnemonic === 'test') {
      // CF = OF = 0: the conditions reduce to ZF and SF of the result.
      const zero = w ? '((lo | hi) === 0)' : '((lo | 0) === 0)', neg = w ? '((hi | 0) < 0)' : '((lo | 0) < 0)';
      return ({ 2: 'false', 3: 'true', 4: zero, 5: `!${zero}`, 6: zero, 7: `!${zero}`, 8: neg, 9: `!${neg}`,
        12: neg, 13: `!${neg}`, 14: `(${zero} || ${neg})`, 15: `!(${zero} || ${neg})` } as Record<number, string>)[cc];
    }
    return undefined;
  },
};
const aluRegForm: Form = { ...aluForm, match: (i) => aluForm.match(i) && i.k0 === K.REG && i.k1 !== K.MEM };
const aluMemForm: Form = { ...aluForm, faults: true };

/**
 * The 8- and 16-bit forms (no LOCK; byte registers AL..R15B, not AH..BH): operands are the
 * zero-extended low byte or word (immediates come decoded at that width), the result is masked
 * and merged into the register's low bits; the lazy flags are those of exec at that width.
 */
const alu816Form: Form = {
  match: (i) => (i.s0 === 1 || i.s0 === 2) && !i.lock && !i.rep
    && ((i.k0 === K.REG && i.r0 < 16 && ((i.k1 === K.REG && i.r1 < 16) || i.k1 === K.IMM || i.k1 === K.MEM))
      || (i.k0 === K.MEM && ((i.k1 === K.REG && i.r1 < 16) || i.k1 === K.IMM))),
  faults: false, // refined below
  flags: 'def',
  src(o, i) {
    const op = i.mnemonic, sz = i.s0, mask = sz === 1 ? 0xff : 0xffff, write = op !== 'cmp' && op !== 'test';
    let code = '', aLo: string, store: string;
    if (i.k0 === K.REG) {
      aLo = `(R[${o.d}] & ${mask})`;
      store = `R[${o.d}] = (R[${o.d}] & ${~mask}) | lo;`;
    } else {
      code += `const a = ${o.ea}; ${write ? `M.probeWrite(a, ${sz}); ` : ''}${loadSource(sz, 'a', 'mLo', 'mHi')} `;
      aLo = 'mLo';
      store = storeSource(sz, 'a', 'lo', '0');
    }
    let bLo: string;
    if (i.k1 === K.REG) bLo = `(R[${o.s}] & ${mask})`;
    else if (i.k1 === K.IMM) bLo = o.immLo;
    else { code += `const a = ${o.ea}; ${loadSource(sz, 'a', 'nLo', 'nHi')} `; bLo = 'nLo'; }
    code += `const aLo = ${aLo}, bLo = ${bLo}; let lo;\n`;
    let fop: FlagOp;
    if (op === 'add') { fop = FlagOp.ADD; code += `lo = (aLo + bLo) & ${mask};`; }
    else if (op === 'sub' || op === 'cmp') { fop = FlagOp.SUB; code += `lo = (aLo - bLo) & ${mask};`; }
    else { fop = FlagOp.LOGIC; code += `lo = aLo ${LOGIC_OPS[op]} bLo;`; }
    if (write) code += ' ' + store;
    return `{ ${code} ${o.noFlags ? '' : lazyFlags(fop, sz * 8, 'aLo', '0', 'bLo', '0', 'lo', '0')} }`;
  },
};
const alu816Reg: Form = { ...alu816Form, match: (i) => alu816Form.match(i) && i.k0 === K.REG && i.k1 !== K.MEM };
const alu816Mem: Form = { ...alu816Form, faults: true };

/** NEG of a 32/64-bit register: SUB from zero. */
const negForm: Form = {
  match: (i) => (i.s0 === 8 || i.s0 === 4) && i.k0 === K.REG && i.r0 < 16 && !i.lock && !i.rep,
  faults: false,
  flags: 'def',
  src: (o, i) => i.s0 === 8
    ? `{ const bLo = R[${o.d}], bHi = R[${o.d} + 1], t = -(bLo >>> 0), lo = t | 0, hi = (-bHi - (t < 0 ? 1 : 0)) | 0;
      R[${o.d}] = lo; R[${o.d} + 1] = hi; ${o.noFlags ? '' : lazyFlags(FlagOp.SUB, 64, '0', '0', 'bLo', 'bHi', 'lo', 'hi')} }`
    : `{ const bLo = R[${o.d}], lo = (0 - bLo) | 0; R[${o.d}] = lo; R[${o.d} + 1] = 0; ${o.noFlags ? '' : lazyFlags(FlagOp.SUB, 32, '0', '0', 'bLo', '0', 'lo', '0')} }`,
};

/** NOT of a 32/64-bit register (no flags). */
const notForm: Form = {
  match: (i) => (i.s0 === 8 || i.s0 === 4) && i.k0 === K.REG && i.r0 < 16 && !i.lock && !i.rep,
  faults: false,
  flags: 'none',
  src: (o, i) => `R[${o.d}] = ~R[${o.d}]; R[${o.d} + 1] = ${i.s0 === 8 ? `~R[${o.d} + 1]` : '0'};`,
};

/** Flags of ADD SUB CMP NEG INC DEC are all defined; the logic ops leave AF undefined. */
const AF = 0x10;
const ARITH = { lockable: true, forms: [aluRegForm, aluMemForm, alu816Reg, alu816Mem] } as const;

export const records: InsnRecord[] = [
  rec('add', arith(FlagOp.ADD, false, false, true), ARITH),
  rec('adc', arith(FlagOp.ADC, false, true, true), { lockable: true }),
  rec('sub', arith(FlagOp.SUB, true, false, true), ARITH),
  rec('sbb', arith(FlagOp.SBB, true, true, true), { lockable: true }),
  rec('cmp', arith(FlagOp.SUB, true, false, false), { forms: ARITH.forms }),
  rec('and', logic(L.AND, true), { ...ARITH, undefinedFlags: AF }),
  rec('or', logic(L.OR, true), { ...ARITH, undefinedFlags: AF }),
  rec('xor', logic(L.XOR, true), { ...ARITH, undefinedFlags: AF }),
  rec('test', logic(L.AND, false), { forms: ARITH.forms, undefinedFlags: AF }),
  rec('not', not, { lockable: true, forms: [notForm] }),
  rec('neg', neg, { lockable: true, forms: [negForm] }),
  rec('inc', incdec(false), { lockable: true }),
  rec('dec', incdec(true), { lockable: true }),
];

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

// Bit instructions: BT BTS BTR BTC (register and memory forms; a register bit offset reaches
// beyond the addressed operand), BSF BSR TZCNT LZCNT POPCNT.

import { Cpu, Fl } from '../cpu/cpu';
import { materialize, setArith, parityFlag } from '../cpu/flags';
import { Insn, K } from '../decode/insn';
import type { Handler } from '../decode/insn';
import { rec, FEATURE, type InsnRecord } from './table';
import { ea, rd1, readMem, readReg, writeMem, writeReg } from './operands';

const enum B { T, S, R, C }

function bitTest(op: B): Handler {
  return (c: Cpu, i: Insn) => {
    const n = i.s0 * 8;
    let offLo: number, offHi: number;
    if (i.k1 === K.IMM) { offLo = i.immLo & (n - 1); offHi = 0; } else { offLo = readReg(c, i.r1, i.s1); offHi = c.readHigh; }
    let lo: number, hi: number, a = 0, bit: number;
    if (i.k0 === K.REG) {
      bit = offLo & (n - 1);
      lo = readReg(c, i.r0, i.s0); hi = c.readHigh;
    } else {
      // Memory form: the signed bit offset selects an operand-sized unit relative to the address.
      a = ea(c, i);
      if (i.k1 === K.REG) {
        let off: number;
        if (i.s1 === 8) off = offHi * 4294967296 + (offLo >>> 0);
        else if (i.s1 === 4) off = offLo | 0;
        else off = (offLo << 16) >> 16;
        const unit = Math.floor(off / n);
        a += unit * (n / 8);
        bit = off - unit * n;
      } else bit = offLo;
      if (op !== B.T) c.mem.probeWrite(a, i.s0); // BTS/BTR/BTC read for writing: a #PF carries the W bit
      lo = readMem(c, a, i.s0); hi = c.readHigh;
    }
    const word = bit >= 32 ? hi : lo, b = bit & 31;
    const cf = (word >>> b) & 1;
    if (op !== B.T) {
      const m = 1 << b;
      const w = op === B.S ? word | m : op === B.R ? word & ~m : word ^ m;
      if (bit >= 32) hi = w; else lo = w;
      if (i.k0 === K.REG) writeReg(c, i.r0, i.s0, lo, i.s0 === 8 ? hi : 0);
      else writeMem(c, a, i.s0, lo, hi);
    }
    materialize(c);
    c.flags = (c.flags & ~Fl.CF) | cf;
  };
}

function clz32(x: number): number { return Math.clz32(x); }
function ctz32(x: number): number { return x === 0 ? 32 : 31 - Math.clz32(x & -x); }

/** Index of the lowest/highest set bit of a value of n bits, or -1 when zero. */
function scan(lo: number, hi: number, n: number, forward: boolean): number {
  if (n < 64) { lo = n === 32 ? lo : lo & (n === 16 ? 0xffff : 0xff); hi = 0; }
  if ((lo | hi) === 0) return -1;
  if (forward) return lo !== 0 ? ctz32(lo) : 32 + ctz32(hi);
  return hi !== 0 ? 63 - clz32(hi) : 31 - clz32(lo);
}

/** BSF/BSR: zero source sets ZF and leaves the destination unchanged (as hardware does). */
function bsx(forward: boolean): Handler {
  return (c: Cpu, i: Insn) => {
    const lo = rd1(c, i), hi = c.readHigh;
    const idx = scan(lo, hi, i.s1 * 8, forward);
    if (idx < 0) { setArith(c, Fl.ZF | parityFlag(0)); return; }
    writeReg(c, i.r0, i.s0, idx, 0);
    setArith(c, parityFlag(idx));
  };
}

/** TZCNT/LZCNT: the count (operand width when zero); CF = source was zero, ZF = result is zero. */
function cnt(trailing: boolean): Handler {
  return (c: Cpu, i: Insn) => {
    const n = i.s1 * 8;
    const lo = rd1(c, i), hi = c.readHigh;
    const idx = scan(lo, hi, n, trailing);
    const r = idx < 0 ? n : trailing ? idx : n - 1 - idx;
    writeReg(c, i.r0, i.s0, r, 0);
    setArith(c, (idx < 0 ? Fl.CF : 0) | (r === 0 ? Fl.ZF : 0));
  };
}

function popcnt(c: Cpu, i: Insn): void {
  let lo = rd1(c, i), hi = c.readHigh;
  if (i.s1 === 2) lo &= 0xffff;
  if (i.s1 < 8) hi = 0;
  const pc = (x: number) => { x = x - ((x >>> 1) & 0x55555555); x = (x & 0x33333333) + ((x >>> 2) & 0x33333333); return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24; };
  const r = pc(lo) + pc(hi);
  writeReg(c, i.r0, i.s0, r, 0);
  setArith(c, r === 0 ? Fl.ZF : 0);
}

/** BT*: "The ZF flag is unaffected. The OF, SF, AF, and PF flags are undefined." */
const BT_UNDEF = Fl.OF | Fl.SF | Fl.AF | Fl.PF;
/** BSF/BSR: "The CF, OF, SF, AF, and PF flags are undefined." */
const BSF_UNDEF = Fl.CF | Fl.OF | Fl.SF | Fl.AF | Fl.PF;
/** TZCNT/LZCNT: "The OF, SF, PF and AF flags are undefined." */
const CNT_UNDEF = Fl.OF | Fl.SF | Fl.PF | Fl.AF;

export const records: InsnRecord[] = [
  rec('bt', bitTest(B.T), { undefinedFlags: BT_UNDEF }),
  rec('bts', bitTest(B.S), { undefinedFlags: BT_UNDEF, lockable: true }),
  rec('btr', bitTest(B.R), { undefinedFlags: BT_UNDEF, lockable: true }),
  rec('btc', bitTest(B.C), { undefinedFlags: BT_UNDEF, lockable: true }),
  rec('bsf', bsx(true), { undefinedFlags: BSF_UNDEF }),
  rec('bsr', bsx(false), { undefinedFlags: BSF_UNDEF }),
  rec('tzcnt', cnt(true), { undefinedFlags: CNT_UNDEF, cpuid: FEATURE.BMI1, withoutFeature: { as: 'bsf' } }),
  rec('lzcnt', cnt(false), { undefinedFlags: CNT_UNDEF, cpuid: FEATURE.LZCNT, withoutFeature: { as: 'bsr' } }),
  rec('popcnt', popcnt, { cpuid: FEATURE.POPCNT }),
];

// Shifts and rotates: SHL/SAL SHR SAR ROL ROR RCL RCR SHLD SHRD, by 1, by imm8 and by CL.
// The count is masked to 5 bits (6 for 64-bit operands); a masked count of zero changes
// nothing, flags included. Flags are computed eagerly here.

import { Cpu, Fl } from '../cpu/cpu';
import { getCF, materialize, parityFlag, setArith } from '../cpu/flags';
import { Insn, K } from '../decode/insn';
import type { Handler } from '../decode/insn';
import { rec, type Form, type InsnRecord, type TemplateOps } from './table';
import { readReg, wr0, rd0w } from './operands';

const enum Op { SHL, SHR, SAR, ROL, ROR, RCL, RCR }

// 64-bit helpers on halves: shift (lo, hi) by k in 0..63; the result lands in SH_LO/SH_HI.
let SH_LO = 0, SH_HI = 0;
function shl64(lo: number, hi: number, k: number): void {
  if (k === 0) { SH_LO = lo; SH_HI = hi; }
  else if (k < 32) { SH_HI = (hi << k) | (lo >>> (32 - k)); SH_LO = lo << k; }
  else { SH_HI = lo << (k - 32); SH_LO = 0; }
}
function shr64(lo: number, hi: number, k: number): void {
  if (k === 0) { SH_LO = lo; SH_HI = hi; }
  else if (k < 32) { SH_LO = (lo >>> k) | (hi << (32 - k)); SH_HI = hi >>> k; }
  else { SH_LO = hi >>> (k - 32); SH_HI = 0; }
}
/** Bit `k` (0..63) of (lo, hi). */
function bit64(lo: number, hi: number, k: number): number {
  return k < 32 ? (lo >>> k) & 1 : (hi >>> (k - 32)) & 1;
}

function countOf(c: Cpu, _i: Insn, k: K, imm: number, reg: number, n: number): number {
  const raw = k === K.IMM ? imm : readReg(c, reg, 1);
  return raw & (n === 64 ? 63 : 31);
}

/** A count that masks to zero changes no flags, but a 32-bit register destination is still written (zero-extended). */
function zeroExtendOnly(c: Cpu, i: Insn): void {
  if (i.s0 === 4 && i.k0 === K.REG) c.r[2 * i.r0 + 1] = 0;
}

/** SHL/SHR/SAR on halves (no BigInt): the common shifts of compiled code. */
function plainShift(op: Op): Handler {
  return (c: Cpu, i: Insn) => {
    const n = i.s0 * 8;
    let lo = rd0w(c, i), hi = c.readHigh;
    const cnt = countOf(c, i, i.k1, i.immLo, i.r1, n);
    if (cnt === 0) { zeroExtendOnly(c, i); return; }
    let rl: number, rh = 0, cf: number, of: number;
    if (n === 64) {
      if (op === Op.SHL) {
        if (cnt < 32) { rh = (hi << cnt) | (lo >>> (32 - cnt)); rl = lo << cnt; cf = (hi >>> (32 - cnt)) & 1; }
        else if (cnt === 32) { rh = lo; rl = 0; cf = hi & 1; }
        else { rh = lo << (cnt - 32); rl = 0; cf = (lo >>> (64 - cnt)) & 1; }
        of = (rh >>> 31) ^ cf;
      } else if (op === Op.SHR) {
        if (cnt < 32) { rl = (lo >>> cnt) | (hi << (32 - cnt)); rh = hi >>> cnt; cf = (lo >>> (cnt - 1)) & 1; }
        else if (cnt === 32) { rl = hi; rh = 0; cf = lo >>> 31; }
        else { rl = hi >>> (cnt - 32); rh = 0; cf = (hi >>> (cnt - 33)) & 1; }
        of = hi >>> 31;
      } else {
        if (cnt < 32) { rl = (lo >>> cnt) | (hi << (32 - cnt)); rh = hi >> cnt; cf = (lo >>> (cnt - 1)) & 1; }
        else if (cnt === 32) { rl = hi; rh = hi >> 31; cf = lo >>> 31; }
        else { rl = hi >> (cnt - 32); rh = hi >> 31; cf = (hi >>> (cnt - 33)) & 1; }
        of = 0;
      }
      rl |= 0; rh |= 0;
      wr0(c, i, rl, rh, true);
      setArith(c, (cf ? Fl.CF : 0) | (of ? Fl.OF : 0) | ((rl | rh) === 0 ? Fl.ZF : 0) | (rh < 0 ? Fl.SF : 0) | parityFlag(rl));
      return;
    }
    const mask = n === 32 ? -1 : (1 << n) - 1;
    lo = n === 32 ? lo | 0 : lo & mask;
    const msb = (x: number) => (x >>> (n - 1)) & 1;
    if (op === Op.SHL) {
      rl = cnt >= n ? 0 : (lo << cnt) & mask;
      cf = cnt <= n ? (lo >>> (n - cnt)) & 1 : 0;
      of = msb(rl) ^ cf;
    } else if (op === Op.SHR) {
      rl = cnt >= n ? 0 : (lo >>> cnt) & mask;
      cf = cnt - 1 < n ? (lo >>> (cnt - 1)) & 1 : 0;
      of = msb(lo);
    } else {
      const sv = n === 32 ? lo : (lo << (32 - n)) >> (32 - n);
      rl = (sv >> Math.min(cnt, 31)) & mask;
      cf = (sv >> Math.min(cnt - 1, 31)) & 1;
      of = 0;
    }
    wr0(c, i, rl, 0, true);
    setArith(c, (cf ? Fl.CF : 0) | (of ? Fl.OF : 0) | ((rl & mask) === 0 ? Fl.ZF : 0) | (msb(rl) ? Fl.SF : 0) | parityFlag(rl));
  };
}

/** Masks (lo, hi) to n bits (n = 8, 16, 32 or 64). */
function maskN(n: number): number { return n >= 32 ? -1 : (1 << n) - 1; }

/** Rotates ROL ROR RCL RCR on halves (no BigInt); RCL/RCR rotate n+1 bits through CF. */
function rotate(op: Op): Handler {
  return (c: Cpu, i: Insn) => {
    const n = i.s0 * 8;
    let lo = rd0w(c, i), hi = n === 64 ? c.readHigh : 0;
    const cnt = countOf(c, i, i.k1, i.immLo, i.r1, n);
    if (cnt === 0) { zeroExtendOnly(c, i); return; }
    const m = maskN(n);
    lo &= m;
    let rl: number, rh = 0, cf: number, of: number;
    if (op === Op.ROL || op === Op.ROR) {
      const r = cnt % n;
      const left = op === Op.ROL ? r : (n - r) % n; // a right rotate by r is a left rotate by n - r
      if (left === 0) { rl = lo; rh = hi; }
      else if (n === 64) {
        shl64(lo, hi, left); const al = SH_LO, ah = SH_HI;
        shr64(lo, hi, 64 - left);
        rl = al | SH_LO; rh = ah | SH_HI;
      } else if (n === 32) rl = (lo << left) | (lo >>> (32 - left));
      else rl = ((lo << left) | (lo >>> (n - left))) & m;
      const msb = bit64(rl, rh, n - 1);
      if (op === Op.ROL) { cf = rl & 1; of = msb ^ cf; }
      else { cf = msb; of = cf ^ bit64(rl, rh, n - 2); }
    } else {
      // Through the carry: t single-bit steps of an (n+1)-bit value (t ≤ 63; RCL/RCR are rare).
      const t = n === 8 ? cnt % 9 : n === 16 ? cnt % 17 : cnt;
      const oldCf = getCF(c);
      let x = oldCf;
      rl = lo; rh = hi;
      const top = n - 1;
      for (let s = 0; s < t; s++) {
        if (op === Op.RCL) {
          const out = bit64(rl, rh, top);
          if (n === 64) { rh = (rh << 1) | (rl >>> 31); rl = (rl << 1) | x; }
          else rl = ((rl << 1) | x) & m;
          x = out;
        } else {
          const out = rl & 1;
          if (n === 64) { rl = (rl >>> 1) | (rh << 31); rh = (rh >>> 1) | (x << 31); }
          else rl = ((rl >>> 1) | (x << top)) & m;
          x = out;
        }
      }
      cf = x;
      of = op === Op.RCL ? bit64(rl, rh, top) ^ cf : bit64(lo, hi, top) ^ oldCf;
    }
    wr0(c, i, rl | 0, n === 64 ? rh | 0 : 0, true);
    materialize(c);
    c.flags = (c.flags & ~(Fl.CF | Fl.OF)) | (cf ? Fl.CF : 0) | (of ? Fl.OF : 0);
  };
}

/** SHLD/SHRD dst, src, count: shift dst, filling from src (count may exceed n for 16-bit operands). */
function doubleShift(left: boolean): Handler {
  return (c: Cpu, i: Insn) => {
    const n = i.s0 * 8, m = maskN(n);
    let dl = rd0w(c, i), dh = n === 64 ? c.readHigh : 0;
    const cnt = countOf(c, i, i.k2, i.immLo, i.r2, n);
    if (cnt === 0) { zeroExtendOnly(c, i); return; }
    let sl = readReg(c, i.r1, i.s1), sh = n === 64 ? c.readHigh : 0;
    dl &= m; sl &= m;
    let rl: number, rh: number, cf: number;
    if (left) {
      // bits [n, 2n) of (dst:src) << cnt
      if (cnt <= n) {
        shl64(dl, dh, cnt); rl = SH_LO; rh = SH_HI;
        shr64(sl, sh, n - cnt); rl |= SH_LO; rh |= SH_HI;
        cf = bit64(dl, dh, n - cnt);
      } else {
        shl64(sl, sh, cnt - n); rl = SH_LO; rh = SH_HI;
        cf = bit64(sl, sh, 2 * n - cnt);
      }
    } else {
      // bits [cnt, cnt + n) of (src:dst)
      if (cnt <= n) {
        shr64(dl, dh, cnt); rl = SH_LO; rh = SH_HI;
        shl64(sl, sh, n - cnt); rl |= SH_LO; rh |= SH_HI;
        cf = bit64(dl, dh, cnt - 1);
      } else {
        shr64(sl, sh, cnt - n); rl = SH_LO; rh = SH_HI;
        cf = bit64(sl, sh, cnt - 1 - n);
      }
    }
    rl = n === 64 ? rl | 0 : rl & m; rh = n === 64 ? rh | 0 : 0;
    const of = bit64(rl ^ dl, rh ^ dh, n - 1);
    wr0(c, i, rl, rh, true);
    const sf = bit64(rl, rh, n - 1), zf = (rl | rh) === 0;
    setArith(c, (cf ? Fl.CF : 0) | (of ? Fl.OF : 0) | (zf ? Fl.ZF : 0) | (sf ? Fl.SF : 0) | parityFlag(rl));
  };
}

/** A 32/64-bit register shifted or rotated by an immediate (a constant in a block) or by CL. */
const regByImmOrCl = (i: Insn) => (i.s0 === 8 || i.s0 === 4) && i.k0 === K.REG && i.r0 < 16 && !i.lock && !i.rep
  && (i.k1 === K.IMM || (i.k1 === K.REG && i.r1 === 1 && i.s1 === 1));

/** The raw count of a shift or rotate as template code: the immediate, or CL (masked by the caller). */
const rawCount = (o: TemplateOps, i: Insn) => (i.k1 === K.IMM ? o.immLo : 'R[2]');

/**
 * SHL SHR SAR of a 32/64-bit register by an immediate or CL, the forms compiled code uses: the
 * same computation as plainShift (the differential suite runs both on every case), with an
 * immediate count a constant in a block.
 */
const shiftImm: Form = {
  match: regByImmOrCl,
  faults: false,
  // A count that masks to zero changes no flag.
  flags: (i) => (i.k1 === K.IMM && (i.immLo & (i.s0 === 8 ? 63 : 31)) !== 0 ? 'def' : 'part'),
  src(o, i) {
    const op = i.mnemonic === 'shr' ? 'shr' : i.mnemonic === 'sar' ? 'sar' : 'shl';
    const flags = (lo: string, _hi: string, zero: string, sign: string) => o.noFlags ? '' :
      `setArith(c, (cf ? ${Fl.CF} : 0) | (of ? ${Fl.OF} : 0) | (${zero} ? ${Fl.ZF} : 0) | (${sign} ? ${Fl.SF} : 0) | parityFlag(${lo}));`;
    if (i.s0 === 8) {
      let body: string;
      if (op === 'shl') body = `if (n < 32) { rh = (hi << n) | (lo >>> (32 - n)); rl = lo << n; cf = (hi >>> (32 - n)) & 1; }
        else if (n === 32) { rh = lo; rl = 0; cf = hi & 1; }
        else { rh = lo << (n - 32); rl = 0; cf = (lo >>> (64 - n)) & 1; }
        of = (rh >>> 31) ^ cf;`;
      else if (op === 'shr') body = `if (n < 32) { rl = (lo >>> n) | (hi << (32 - n)); rh = hi >>> n; cf = (lo >>> (n - 1)) & 1; }
        else if (n === 32) { rl = hi; rh = 0; cf = lo >>> 31; }
        else { rl = hi >>> (n - 32); rh = 0; cf = (hi >>> (n - 33)) & 1; }
        of = hi >>> 31;`;
      else body = `if (n < 32) { rl = (lo >>> n) | (hi << (32 - n)); rh = hi >> n; cf = (lo >>> (n - 1)) & 1; }
        else if (n === 32) { rl = hi; rh = hi >> 31; cf = lo >>> 31; }
        else { rl = hi >> (n - 32); rh = hi >> 31; cf = (hi >>> (n - 33)) & 1; }
        of = 0;`;
      return `{ const n = ${rawCount(o, i)} & 63;
        if (n !== 0) { const lo = R[${o.d}], hi = R[${o.d} + 1]; let rl, rh, cf, of;
        ${body}
        rl |= 0; rh |= 0; R[${o.d}] = rl; R[${o.d} + 1] = rh; ${flags('rl', 'rh', '(rl | rh) === 0', 'rh < 0')} } }`;
    }
    let body: string;
    if (op === 'shl') body = 'rl = n >= 32 ? 0 : lo << n; cf = (lo >>> (32 - n)) & 1; of = (rl >>> 31) ^ cf;';
    else if (op === 'shr') body = 'rl = lo >>> n; cf = (lo >>> (n - 1)) & 1; of = lo >>> 31;';
    else body = 'rl = lo >> n; cf = (lo >> (n - 1)) & 1; of = 0;';
    return `{ const n = ${rawCount(o, i)} & 31;
      if (n === 0) R[${o.d} + 1] = 0;
      else { const lo = R[${o.d}] | 0; let rl, cf, of;
      ${body}
      rl |= 0; R[${o.d}] = rl; R[${o.d} + 1] = 0; ${flags('rl', '0', 'rl === 0', 'rl < 0')} } }`;
  },
};

/**
 * ROL ROR of a 32/64-bit register by an immediate or CL: rotate's computation on halves. Only
 * CF and OF change (the other status flags are first made concrete); a count that masks to
 * zero changes nothing but the zero-extension of a 32-bit register.
 */
const rotateForm: Form = {
  match: regByImmOrCl,
  faults: false,
  flags: 'part',
  src(o, i) {
    const rol = i.mnemonic === 'rol';
    const setFlags = o.noFlags ? '' : `materialize(c); c.flags = (c.flags & ~${Fl.CF | Fl.OF}) | (cf ? ${Fl.CF} : 0) | (of ? ${Fl.OF} : 0);`;
    if (i.s0 === 4) {
      const body = rol
        ? 'const rl = (lo << n) | (lo >>> (32 - n)), cf = rl & 1, of = (rl >>> 31) ^ cf;'
        : 'const rl = (lo >>> n) | (lo << (32 - n)), cf = rl >>> 31, of = cf ^ ((rl >>> 30) & 1);';
      return `{ const n = ${rawCount(o, i)} & 31;
        if (n === 0) R[${o.d} + 1] = 0;
        else { const lo = R[${o.d}]; ${body} R[${o.d}] = rl; R[${o.d} + 1] = 0; ${setFlags} } }`;
    }
    // A right rotate by n is a left rotate by 64 - n.
    const flags = rol ? 'const cf = rl & 1, of = (rh >>> 31) ^ cf;' : 'const cf = rh >>> 31, of = cf ^ ((rh >>> 30) & 1);';
    return `{ const n = ${rawCount(o, i)} & 63;
      if (n !== 0) { const l = ${rol ? 'n' : '64 - n'}, lo = R[${o.d}], hi = R[${o.d} + 1]; let rl, rh;
      if (l < 32) { rh = (hi << l) | (lo >>> (32 - l)); rl = (lo << l) | (hi >>> (32 - l)); }
      else if (l === 32) { rh = lo; rl = hi; }
      else { const m = l - 32; rh = (lo << m) | (hi >>> (32 - m)); rl = (hi << m) | (lo >>> (32 - m)); }
      ${flags} R[${o.d}] = rl | 0; R[${o.d} + 1] = rh | 0; ${setFlags} } }`;
  },
};

/** Which flags are undefined depends on the count (differential suite: flagMasks.ts). */
const COUNT = { undefinedFlags: 'count' } as const;

export const records: InsnRecord[] = [
  rec('shl', plainShift(Op.SHL), { ...COUNT, mnemonics: ['shl', 'sal'], forms: [shiftImm] }),
  rec('shr', plainShift(Op.SHR), { ...COUNT, forms: [shiftImm] }),
  rec('sar', plainShift(Op.SAR), { ...COUNT, forms: [shiftImm] }),
  rec('rol', rotate(Op.ROL), { ...COUNT, forms: [rotateForm] }),
  rec('ror', rotate(Op.ROR), { ...COUNT, forms: [rotateForm] }),
  rec('rcl', rotate(Op.RCL), COUNT),
  rec('rcr', rotate(Op.RCR), COUNT),
  rec('shld', doubleShift(true), COUNT),
  rec('shrd', doubleShift(false), COUNT),
];

// Shifts and rotates: SHL/SAL SHR SAR ROL ROR RCL RCR SHLD SHRD, by 1, by imm8 and by CL.
// The count is masked to 5 bits (6 for 64-bit operands); a masked count of zero changes
// nothing, flags included. Flags are computed eagerly here.

import { Cpu, Fl } from '../cpu/cpu';
import { getCF, materialize, parityFlag, setArith } from '../cpu/flags';
import { Insn, K } from '../decode/insn';
import type { Handler } from '../decode/insn';
import { rd0, readReg, wr0 } from './operands';

const enum Op { SHL, SHR, SAR, ROL, ROR, RCL, RCR }

function toBig(lo: number, hi: number, n: number): bigint {
  return BigInt.asUintN(n, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
}

function store(c: Cpu, i: Insn, v: bigint, n: number): void {
  const u = BigInt.asUintN(n, v);
  wr0(c, i, Number(u & 0xffffffffn) | 0, n === 64 ? Number(u >> 32n) | 0 : 0, true);
}

/** SF ZF PF of a result, plus the given CF and OF. */
function szp(res: bigint, n: number, cf: number, of: number): number {
  return (cf ? Fl.CF : 0) | (of ? Fl.OF : 0) | (res === 0n ? Fl.ZF : 0)
    | (((res >> BigInt(n - 1)) & 1n) ? Fl.SF : 0) | parityFlag(Number(res & 0xffn));
}

function countOf(c: Cpu, i: Insn, k: K, imm: number, reg: number, n: number): number {
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
    let lo = rd0(c, i), hi = c.th;
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

/** Rotates (ROL ROR RCL RCR) through BigInt: rarer, and the carry-through forms are n+1 bits wide. */
function rotate(op: Op): Handler {
  return (c: Cpu, i: Insn) => {
    const n = i.s0 * 8, N = BigInt(n);
    const lo = rd0(c, i), hi = c.th;
    const cnt = countOf(c, i, i.k1, i.immLo, i.r1, n);
    if (cnt === 0) { zeroExtendOnly(c, i); return; }
    const v = toBig(lo, hi, n), C = BigInt(cnt);
    const msb = (x: bigint) => Number((x >> (N - 1n)) & 1n);
    let res: bigint, cf: number, of: number;
    switch (op) {
      case Op.ROL: case Op.ROR: {
        const r = BigInt(cnt % n);
        res = op === Op.ROL ? BigInt.asUintN(n, (v << r) | (v >> ((N - r) % N)))
          : BigInt.asUintN(n, (v >> r) | (v << ((N - r) % N)));
        if (r === 0n) res = v;
        if (op === Op.ROL) { cf = Number(res & 1n); of = msb(res) ^ cf; }
        else { cf = msb(res); of = cf ^ Number((res >> (N - 2n)) & 1n); }
        store(c, i, res, n);
        materialize(c);
        c.flags = (c.flags & ~(Fl.CF | Fl.OF)) | (cf ? Fl.CF : 0) | (of ? Fl.OF : 0);
        return;
      }
      default: { // RCL, RCR: rotate through CF over n+1 bits
        const t = n === 8 ? cnt % 9 : n === 16 ? cnt % 17 : cnt;
        const oldCf = getCF(c);
        const W = N + 1n, T = BigInt(t);
        const x = (BigInt(oldCf) << N) | v;
        const m = (1n << W) - 1n;
        const y = t === 0 ? x : op === Op.RCL ? ((x << T) | (x >> (W - T))) & m : ((x >> T) | (x << (W - T))) & m;
        res = y & ((1n << N) - 1n);
        cf = Number(y >> N);
        of = op === Op.RCL ? msb(res) ^ cf : msb(v) ^ oldCf;
        store(c, i, res, n);
        materialize(c);
        c.flags = (c.flags & ~(Fl.CF | Fl.OF)) | (cf ? Fl.CF : 0) | (of ? Fl.OF : 0);
      }
    }
  };
}

/** SHLD/SHRD dst, src, count: shift dst, filling from src. */
function doubleShift(left: boolean): Handler {
  return (c: Cpu, i: Insn) => {
    const n = i.s0 * 8, N = BigInt(n);
    const lo = rd0(c, i), hi = c.th;
    const cnt = countOf(c, i, i.k2, i.immLo, i.r2, n);
    if (cnt === 0) { zeroExtendOnly(c, i); return; }
    const dst = toBig(lo, hi, n);
    const src = toBig(readReg(c, i.r1, i.s1), c.th, n);
    const C = BigInt(cnt), mask = (1n << N) - 1n;
    let res: bigint, cf: number;
    if (left) {
      const comb = ((dst << N) | src) << C;
      res = (comb >> N) & mask;
      cf = Number((comb >> (2n * N)) & 1n);
    } else {
      const comb = (src << N) | dst;
      res = (comb >> C) & mask;
      cf = Number((comb >> (C - 1n)) & 1n);
    }
    const of = Number(((res ^ dst) >> (N - 1n)) & 1n);
    store(c, i, res, n);
    setArith(c, szp(res, n, cf, of));
  };
}

export const shiftHandlers: Record<string, Handler> = {
  shl: plainShift(Op.SHL), sal: plainShift(Op.SHL), shr: plainShift(Op.SHR), sar: plainShift(Op.SAR),
  rol: rotate(Op.ROL), ror: rotate(Op.ROR), rcl: rotate(Op.RCL), rcr: rotate(Op.RCR),
  shld: doubleShift(true), shrd: doubleShift(false),
};

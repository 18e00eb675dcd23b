// SSE/SSE2/SSE3/SSE4.1 floating point: scalar and packed arithmetic, min/max, compares,
// conversions, rounding, dot products, MXCSR (LDMXCSR/STMXCSR) and FXSAVE/FXRSTOR. Results and
// MXCSR flags come from softfloat.ts (exact in every rounding mode, with DAZ/FTZ). An exception
// left unmasked in MXCSR raises #XM (CR4.OSXMMEXCPT=1) or #UD with the destination unchanged
// and the flags set. RCPSS/RCPPS/RSQRTSS/RSQRTPS return model-specific approximations: they stop
// as not emulated rather than return a number no CPU gives.

import { Cpu, Fl } from '../cpu/cpu';
import { setArith } from '../cpu/flags';
import { CpuFault, Vector, gp } from '../cpu/fault';
import { notEmulated } from '../cpu/system';
import { Insn, K } from '../decode/insn';
import type { Handler } from '../decode/insn';
import { ea, readReg, writeReg } from './operands';
import { SCRATCH, loadSrc, sseCheck, sseRecords } from './sse';
import type { InsnRecord } from './table';
import {
  F32, F64, FE, Fmt, FpEnv, Val, add, compare, convert, denormCheck, div, envOf, fromInt, mul,  roundIntegral,
  sqrt, toInt, unpack,
} from './softfloat';

const T = SCRATCH.TI32;
/** Results are staged here and copied to the destination only when no unmasked exception occurred. */
const OUT = new Int32Array(4);

function get(a: Int32Array, k: number, f: Fmt): bigint {
  return f.w === 32 ? BigInt(a[k] >>> 0) : (BigInt(a[k + 1] >>> 0) << 32n) | BigInt(a[k] >>> 0);
}

function put(a: Int32Array, k: number, f: Fmt, v: bigint): void {
  a[k] = Number(v & 0xffffffffn) | 0;
  if (f.w === 64) a[k + 1] = Number((v >> 32n) & 0xffffffffn) | 0;
}

const FLAG_NAMES = ['IE', 'DE', 'ZE', 'OE', 'UE', 'PE'];

/**
 * Merges the flags into MXCSR; an unmasked one raises #XM (or #UD when CR4.OSXMMEXCPT is clear).
 * An unmasked pre-computation exception (IE DE ZE) in any element stops the instruction before
 * the post-computation flags (OE UE PE) of any element are recorded.
 */
function raise(c: Cpu, i: Insn, env: FpEnv): void {
  const masks = c.mxcsr >> 7;
  const pre = env.flags & (FE.IE | FE.DE | FE.ZE);
  let unmasked = pre & ~masks & 0x3f;
  if (unmasked) c.mxcsr |= pre;
  else {
    c.mxcsr |= env.flags;
    unmasked = env.flags & ~masks & 0x3f;
  }
  if (unmasked) xm(c, i, unmasked);
}

function xm(c: Cpu, i: Insn, unmasked: number): never {
  {
    const names = FLAG_NAMES.filter((_, k) => unmasked & (1 << k)).join(' ');
    if (c.cr4 & 0x400n) throw new CpuFault(19, undefined, `${i.mnemonic}: unmasked SIMD floating-point exception (${names})`);
    throw new CpuFault(Vector.UD, undefined, `${i.mnemonic}: unmasked SIMD floating-point exception (${names}) with CR4.OSXMMEXCPT clear`);
  }
}

/** Stages the destination register into OUT. */
function stage(c: Cpu, r: number): void {
  const X = c.x32, o = 4 * r;
  OUT[0] = X[o]; OUT[1] = X[o + 1]; OUT[2] = X[o + 2]; OUT[3] = X[o + 3];
}

function commit(c: Cpu, r: number): void {
  const X = c.x32, o = 4 * r;
  X[o] = OUT[0]; X[o + 1] = OUT[1]; X[o + 2] = OUT[2]; X[o + 3] = OUT[3];
}

type Bin = (a: Val, b: Val, f: Fmt, env: FpEnv) => bigint;

/**
 * The frame of an instruction that computes into the staged destination: checks, source loaded,
 * destination staged; `body` fills OUT; then the flags are raised (an unmasked exception faults
 * with the destination unchanged) and OUT is committed.
 */
function staged(body: (c: Cpu, i: Insn, env: FpEnv) => void): Handler {
  return (c, i) => {
    sseCheck(c, i);
    loadSrc(c, i, 1);
    const env = envOf(c.mxcsr);
    stage(c, i.r0);
    body(c, i, env);
    raise(c, i, env);
    commit(c, i.r0);
  };
}

/** Scalar (lane 0) or packed binary arithmetic: dst = op(dst, src). */
function arith(op: Bin, f: Fmt, packed: boolean): Handler {
  const step = f.w / 32, n = packed ? 4 / step : 1;
  return staged((_c, _i, env) => {
    for (let k = 0; k < n * step; k += step) put(OUT, k, f, op(unpack(get(OUT, k, f), f, env), unpack(get(T, k, f), f, env), f, env));
  });
}

/** Unary on the source (SQRT, ROUND, conversions): dst lane k = op(src lane k). */
function unary(op: (a: Val, f: Fmt, env: FpEnv, c: Cpu, i: Insn) => bigint, f: Fmt, packed: boolean): Handler {
  const step = f.w / 32, n = packed ? 4 / step : 1;
  return staged((c, i, env) => {
    for (let k = 0; k < n * step; k += step) put(OUT, k, f, op(unpack(get(T, k, f), f, env), f, env, c, i));
  });
}

const addOp: Bin = (a, b, f, e) => add(a, b, false, f, e);
const subOp: Bin = (a, b, f, e) => add(a, b, true, f, e);

/** MIN/MAX: the second operand when either is NaN (IE, even for QNaN) or both are zero. */
function minmax(max: boolean): Bin {
  return (a, b, _f, env) => {
    if (a.k === 3 || b.k === 3) { env.flags |= FE.IE; return b.bits; }
    denormCheck(env, a, b);
    const r = compare(a, b);
    if (r === 0) return b.bits;
    return (max ? r > 0 : r < 0) ? a.bits : b.bits;
  };
}

/** CMPPS/CMPSS/CMPPD/CMPSD predicate 0..7 (bits 7:3 of the immediate are ignored by the legacy encodings). */
function cmpOp(pred: number): Bin {
  return (a, b, f, env) => {
    const signalsQnan = pred === 1 || pred === 2 || pred === 5 || pred === 6;
    if (a.k === 3 || b.k === 3) {
      if (signalsQnan || a.snan || b.snan) env.flags |= FE.IE;
    } else denormCheck(env, a, b);
    const r = compare(a, b);
    let t: boolean;
    switch (pred) {
      case 0: t = r === 0; break;
      case 1: t = r === -1; break;
      case 2: t = r === -1 || r === 0; break;
      case 3: t = r === 2; break;
      case 4: t = r !== 0; break;
      case 5: t = r !== -1; break;
      case 6: t = !(r === -1 || r === 0); break;
      default: t = r !== 2;
    }
    return t ? (1n << BigInt(f.w)) - 1n : 0n;
  };
}

function cmp(f: Fmt, packed: boolean): Handler {
  const ops = Array.from({ length: 8 }, (_, p) => arith(cmpOp(p), f, packed));
  return (c, i) => ops[i.immLo & 7](c, i);
}

/** COMISS/COMISD (IE on any NaN) and UCOMISS/UCOMISD (IE on SNaN only): ZF PF CF; OF SF AF cleared. */
function comi(f: Fmt, signalQnan: boolean): Handler {
  return (c, i) => {
    sseCheck(c, i);
    loadSrc(c, i, 1);
    const env = envOf(c.mxcsr);
    const X = c.x32;
    const a = unpack(get(X, 4 * i.r0, f), f, env), b = unpack(get(T, 0, f), f, env);
    if (a.k === 3 || b.k === 3) { if (signalQnan || a.snan || b.snan) env.flags |= FE.IE; } else denormCheck(env, a, b);
    raise(c, i, env);
    const r = compare(a, b);
    setArith(c, r === 2 ? Fl.ZF | Fl.PF | Fl.CF : r === 0 ? Fl.ZF : r < 0 ? Fl.CF : 0);
  };
}

/** CVTSI2SS/CVTSI2SD: a signed 32/64-bit integer (register or memory) into lane 0. */
function cvtsi2(f: Fmt): Handler {
  return (c, i) => {
    sseCheck(c, i);
    let lo: number, hi: number;
    if (i.k1 === K.REG) { lo = readReg(c, i.r1, i.s1); hi = c.readHigh; }
    else { const a = ea(c, i); if (i.s1 === 8) { lo = c.mem.read64(a); hi = c.mem.hi; } else { lo = c.mem.read32(a); hi = 0; } }
    const v = i.s1 === 8 ? BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)) : BigInt(lo | 0);
    const env = envOf(c.mxcsr);
    stage(c, i.r0);
    put(OUT, 0, f, fromInt(v, f, env));
    raise(c, i, env);
    commit(c, i.r0);
  };
}

/** CVT(T)SS2SI / CVT(T)SD2SI into a 32- or 64-bit GPR. */
function cvt2si(f: Fmt, truncate: boolean): Handler {
  return (c, i) => {
    sseCheck(c, i);
    loadSrc(c, i, 1);
    const env = envOf(c.mxcsr);
    const bits = i.s0 === 8 ? 64 : 32;
    const v = toInt(unpack(get(T, 0, f), f, env), bits, truncate, env);
    raise(c, i, env);
    writeReg(c, i.r0, bits / 8, Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
  };
}

/** Packed and scalar conversions between formats and to/from 32-bit integers. */
function cvtPacked(kind: 'dq2ps' | 'dq2pd' | 'ps2pd' | 'pd2ps' | 'ps2dq' | 'tps2dq' | 'pd2dq' | 'tpd2dq' | 'ss2sd' | 'sd2ss'): Handler {
  return staged((_c, _i, env) => {
    switch (kind) {
      case 'dq2ps': for (let k = 0; k < 4; k++) put(OUT, k, F32, fromInt(BigInt(T[k]), F32, env)); break;
      case 'dq2pd': { const a = T[0], b = T[1]; put(OUT, 0, F64, fromInt(BigInt(a), F64, env)); put(OUT, 2, F64, fromInt(BigInt(b), F64, env)); break; }
      case 'ps2pd': { const a = unpack(get(T, 0, F32), F32, env), b = unpack(get(T, 1, F32), F32, env); put(OUT, 0, F64, convert(a, F32, F64, env)); put(OUT, 2, F64, convert(b, F32, F64, env)); break; }
      case 'pd2ps': for (let k = 0; k < 2; k++) put(OUT, k, F32, convert(unpack(get(T, 2 * k, F64), F64, env), F64, F32, env)); OUT[2] = 0; OUT[3] = 0; break;
      case 'ps2dq': case 'tps2dq': for (let k = 0; k < 4; k++) OUT[k] = Number(toInt(unpack(get(T, k, F32), F32, env), 32, kind === 'tps2dq', env)) | 0; break;
      case 'pd2dq': case 'tpd2dq': for (let k = 0; k < 2; k++) OUT[k] = Number(toInt(unpack(get(T, 2 * k, F64), F64, env), 32, kind === 'tpd2dq', env)) | 0; OUT[2] = 0; OUT[3] = 0; break;
      case 'ss2sd': put(OUT, 0, F64, convert(unpack(get(T, 0, F32), F32, env), F32, F64, env)); break;
      case 'sd2ss': put(OUT, 0, F32, convert(unpack(get(T, 0, F64), F64, env), F64, F32, env)); break;
    }
  });
}

/** ROUNDSS/SD/PS/PD: imm8[1:0] the mode unless imm8[2] (MXCSR.RC); imm8[3] suppresses PE. */
function round(f: Fmt, packed: boolean): Handler {
  return unary((a, fm, env, c, i) => {
    const imm = i.immLo;
    const rc = imm & 4 ? (c.mxcsr >> 13) & 3 : imm & 3;
    return roundIntegral(a, rc, (imm & 8) !== 0, fm, env);
  }, f, packed);
}

/** HADDPS/HSUBPS/HADDPD/HSUBPD: pairs of the destination, then pairs of the source. */
function horizontal(f: Fmt, sub: boolean): Handler {
  const step = f.w / 32, n = 4 / step;
  return staged((_c, _i, env) => {
    const D = Int32Array.from(OUT), res: bigint[] = [];
    for (const src of [D, T]) {
      for (let k = 0; k < n; k += 2) res.push(add(unpack(get(src, k * step, f), f, env), unpack(get(src, (k + 1) * step, f), f, env), sub, f, env));
    }
    res.forEach((v, k) => put(OUT, k * step, f, v));
  });
}

/** ADDSUBPS/ADDSUBPD: even lanes subtract, odd lanes add. */
function addsub(f: Fmt): Handler {
  const step = f.w / 32, n = 4 / step;
  return staged((_c, _i, env) => {
    for (let k = 0; k < n; k++) put(OUT, k * step, f, add(unpack(get(OUT, k * step, f), f, env), unpack(get(T, k * step, f), f, env), k % 2 === 0, f, env));
  });
}

/** DPPS/DPPD: products of the lanes imm8[7:4] selects, summed pairwise (each step rounded), broadcast to imm8[3:0]. */
function dp(f: Fmt): Handler {
  const step = f.w / 32, n = 4 / step;
  return (c, i) => {
    sseCheck(c, i);
    loadSrc(c, i, 1);
    const env = envOf(c.mxcsr);
    stage(c, i.r0);
    const imm = i.immLo;
    // Three steps (products, pair sums, final sum), each rounded; an unmasked exception in a
    // step ends the instruction with the flags of the steps so far. Intermediate denormals
    // are denormal operands of the next step.
    const masks = (c.mxcsr >> 7) & 0x3f;
    let acc = 0;
    const endStep = () => {
      const pre = env.flags & (FE.IE | FE.DE | FE.ZE);
      if (pre & ~masks) { c.mxcsr |= acc | pre; xm(c, i, pre & ~masks); }
      acc |= env.flags;
      env.flags = 0;
      if (acc & ~masks) { c.mxcsr |= acc; xm(c, i, acc & ~masks); }
    };
    const prods: bigint[] = [];
    for (let k = 0; k < n; k++) {
      prods.push((imm >> (4 + k)) & 1 ? mul(unpack(get(OUT, k * step, f), f, env), unpack(get(T, k * step, f), f, env), f, env) : 0n);
    }
    endStep();
    const pv = prods.map((p) => unpack(p, f, env));
    let sum: bigint;
    if (n === 2) sum = add(pv[0], pv[1], false, f, env);
    else {
      const s1 = add(pv[0], pv[1], false, f, env), s2 = add(pv[2], pv[3], false, f, env);
      endStep();
      sum = add(unpack(s1, f, env), unpack(s2, f, env), false, f, env);
    }
    endStep();
    for (let k = 0; k < n; k++) put(OUT, k * step, f, (imm >> k) & 1 ? sum : 0n);
    c.mxcsr |= acc;
    commit(c, i.r0);
  };
}

const approximate: Handler = (_c, i) => {
  throw notEmulated(`${i.text()} (its result is a model-specific approximation no specification fixes)`);
};

// ---- MXCSR and FXSAVE/FXRSTOR ------------------------------------------------------------------

/** Bits of MXCSR that exist (MXCSR_MASK: DAZ supported). */
export const MXCSR_MASK = 0xffff;

const ldmxcsr: Handler = (c, i) => {
  sseCheck(c, i);
  const v = c.mem.read32(ea(c, i)) >>> 0;
  if (v & ~MXCSR_MASK) throw gp(`ldmxcsr: reserved MXCSR bits set in 0x${v.toString(16)}`);
  c.mxcsr = v;
};

const stmxcsr: Handler = (c, i) => {
  sseCheck(c, i);
  c.mem.write32(ea(c, i), c.mxcsr);
};

/** The FXSAVE/FXRSTOR area's address: #UD with CR0.EM, #NM with CR0.TS, #GP unless 16-byte aligned. */
function fxArea(c: Cpu, i: Insn): number {
  if (c.cr0 & 0xcn) throw new CpuFault(c.cr0 & 4n ? Vector.UD : Vector.NM, undefined, `${i.mnemonic}: CR0.${c.cr0 & 4n ? 'EM' : 'TS'} is set`);
  const a = ea(c, i);
  if (a % 16 !== 0) throw gp(`${i.mnemonic}: the save area at 0x${BigInt.asUintN(64, BigInt(a)).toString(16)} is not 16-byte aligned`);
  return a;
}

/**
 * FXSAVE: the 512-byte legacy area (SDM Vol. 1 Table 10-2). The x87 state is not modelled (no x87
 * instruction executes here), so its part is the state after FNINIT: FCW 0x37F, all else zero.
 */
const fxsave: Handler = (c, i) => {
  const a = fxArea(c, i);
  const m = c.mem;
  m.probeWrite(a, 416);
  m.write16(a, 0x37f);
  for (let k = 2; k < 24; k += 2) m.write16(a + k, 0);
  m.write32(a + 24, c.mxcsr);
  m.write32(a + 28, MXCSR_MASK);
  for (let k = 32; k < 160; k += 8) m.write64(a + k, 0, 0);
  // XMM registers are saved only when CR4.OSFXSR is set.
  if (c.cr4 & 0x200n) {
    const X = c.x32;
    for (let r = 0; r < 16; r++) { m.write64(a + 160 + 16 * r, X[4 * r], X[4 * r + 1]); m.write64(a + 168 + 16 * r, X[4 * r + 2], X[4 * r + 3]); }
  }
};

const fxrstor: Handler = (c, i) => {
  const a = fxArea(c, i);
  const m = c.mem;
  const fcw = m.read16(a), fsw = m.read16(a + 2), ftw = m.read8(a + 4);
  const mx = m.read32(a + 24) >>> 0;
  if (mx & ~MXCSR_MASK) throw gp(`${i.mnemonic}: reserved MXCSR bits set in 0x${mx.toString(16)}`);
  if (fcw !== 0x37f || fsw !== 0 || ftw !== 0) {
    throw notEmulated(`${i.text()} restores an x87 state (FCW 0x${fcw.toString(16)}, FSW 0x${fsw.toString(16)}, FTW 0x${ftw.toString(16)}) other than the initial one; x87 is not modelled`);
  }
  const xs = new Int32Array(64);
  if (c.cr4 & 0x200n) for (let k = 0; k < 64; k += 2) { xs[k] = m.read64(a + 160 + 4 * k); xs[k + 1] = m.hi; }
  c.mxcsr = mx;
  if (c.cr4 & 0x200n) c.x32.set(xs);
};

// ---- the table -----------------------------------------------------------------------------

const sqrtOp = (a: Val, f: Fmt, env: FpEnv) => sqrt(a, f, env);

const sseFpHandlers: Record<string, Handler> = {
  addss: arith(addOp, F32, false), addsd: arith(addOp, F64, false), addps: arith(addOp, F32, true), addpd: arith(addOp, F64, true),
  subss: arith(subOp, F32, false), subsd: arith(subOp, F64, false), subps: arith(subOp, F32, true), subpd: arith(subOp, F64, true),
  mulss: arith(mul, F32, false), mulsd: arith(mul, F64, false), mulps: arith(mul, F32, true), mulpd: arith(mul, F64, true),
  divss: arith(div, F32, false), divsd: arith(div, F64, false), divps: arith(div, F32, true), divpd: arith(div, F64, true),
  minss: arith(minmax(false), F32, false), minsd: arith(minmax(false), F64, false), minps: arith(minmax(false), F32, true), minpd: arith(minmax(false), F64, true),
  maxss: arith(minmax(true), F32, false), maxsd: arith(minmax(true), F64, false), maxps: arith(minmax(true), F32, true), maxpd: arith(minmax(true), F64, true),
  sqrtss: unary(sqrtOp, F32, false), sqrtsd: unary(sqrtOp, F64, false), sqrtps: unary(sqrtOp, F32, true), sqrtpd: unary(sqrtOp, F64, true),
  cmpss: cmp(F32, false), cmpsd: cmp(F64, false), cmpps: cmp(F32, true), cmppd: cmp(F64, true),
  comiss: comi(F32, true), comisd: comi(F64, true), ucomiss: comi(F32, false), ucomisd: comi(F64, false),
  cvtsi2ss: cvtsi2(F32), cvtsi2sd: cvtsi2(F64),
  cvtss2si: cvt2si(F32, false), cvttss2si: cvt2si(F32, true), cvtsd2si: cvt2si(F64, false), cvttsd2si: cvt2si(F64, true),
  cvtdq2ps: cvtPacked('dq2ps'), cvtdq2pd: cvtPacked('dq2pd'), cvtps2pd: cvtPacked('ps2pd'), cvtpd2ps: cvtPacked('pd2ps'),
  cvtps2dq: cvtPacked('ps2dq'), cvttps2dq: cvtPacked('tps2dq'), cvtpd2dq: cvtPacked('pd2dq'), cvttpd2dq: cvtPacked('tpd2dq'),
  cvtss2sd: cvtPacked('ss2sd'), cvtsd2ss: cvtPacked('sd2ss'),
  roundss: round(F32, false), roundsd: round(F64, false), roundps: round(F32, true), roundpd: round(F64, true),
  haddps: horizontal(F32, false), hsubps: horizontal(F32, true), haddpd: horizontal(F64, false), hsubpd: horizontal(F64, true),
  addsubps: addsub(F32), addsubpd: addsub(F64), dpps: dp(F32), dppd: dp(F64),
  rcpss: approximate, rcpps: approximate, rsqrtss: approximate, rsqrtps: approximate,
};

/** SSE-family instructions without an XMM operand (MXCSR and state save). */
const sseGprHandlers: Record<string, Handler> = { ldmxcsr, stmxcsr, fxsave, fxrstor, fxsave64: fxsave, fxrstor64: fxrstor };

// RCPSS/RCPPS/RSQRTSS/RSQRTPS stop (model-specific results); FXSAVE/FXRSTOR store the host's x87
// state, which the suite cannot set: both are checked by unit tests, not the differential suite.
const NO_DIFF = new Set(['rcpss', 'rcpps', 'rsqrtss', 'rsqrtps', 'fxsave', 'fxrstor', 'fxsave64', 'fxrstor64', 'stmxcsr']);

export const records: InsnRecord[] = [
  ...sseRecords(sseFpHandlers, true, (m) => (NO_DIFF.has(m) ? false : undefined)),
  ...sseRecords(sseGprHandlers, false, (m) => (m === 'stmxcsr' ? ['ldmxcsr'] : NO_DIFF.has(m) ? false : undefined)),
];

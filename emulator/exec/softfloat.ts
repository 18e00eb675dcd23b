// IEEE 754 binary32/binary64 arithmetic as SSE performs it, computed exactly with BigInt and
// rounded once: every MXCSR rounding mode, DAZ and FTZ, and the exception flags (IE DE ZE OE UE
// PE) with the x86 rules — tininess detected after rounding, a masked underflow flagged only
// when the result is also inexact (or flushed by FTZ), the first source's NaN propagated, the
// "real indefinite" QNaN for invalid operations (Intel SDM Vol. 1 §4.8–4.9, §11.5).

export const enum FE { IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32 }

export interface Fmt { m: number; e: number; bias: number; w: 32 | 64 }
export const F32: Fmt = { m: 23, e: 8, bias: 127, w: 32 };
export const F64: Fmt = { m: 52, e: 11, bias: 1023, w: 64 };

/** Rounding control: 0 nearest-even, 1 down, 2 up, 3 toward zero. */
/** The MXCSR controls an operation obeys: rounding, DAZ, FTZ, and whether OE/UE are masked. */
export interface FpEnv { rc: number; daz: boolean; ftz: boolean; om: boolean; um: boolean; flags: number }

export function envOf(mxcsr: number): FpEnv {
  return { rc: (mxcsr >> 13) & 3, daz: (mxcsr & 0x40) !== 0, ftz: (mxcsr & 0x8000) !== 0, om: (mxcsr & 0x400) !== 0, um: (mxcsr & 0x800) !== 0, flags: 0 };
}

/** A decoded operand: kind 0 zero, 1 finite non-zero, 2 infinity, 3 NaN; value (-1)^s · m · 2^x. */
export interface Val { k: number; s: number; m: bigint; x: number; snan: boolean; denorm: boolean; bits: bigint }

export function unpack(bits: bigint, f: Fmt, env: FpEnv): Val {
  const s = Number(bits >> BigInt(f.w - 1)) & 1;
  const e = Number((bits >> BigInt(f.m)) & BigInt((1 << f.e) - 1));
  const frac = bits & ((1n << BigInt(f.m)) - 1n);
  if (e === (1 << f.e) - 1) {
    if (frac === 0n) return { k: 2, s, m: 0n, x: 0, snan: false, denorm: false, bits };
    return { k: 3, s, m: 0n, x: 0, snan: (frac >> BigInt(f.m - 1)) === 0n, denorm: false, bits };
  }
  if (e === 0) {
    // DAZ: a denormal operand is a signed zero (MIN/MAX return it as such).
    if (frac === 0n || env.daz) return { k: 0, s, m: 0n, x: 0, snan: false, denorm: false, bits: zero(s, f) };
    return { k: 1, s, m: frac, x: 1 - f.bias - f.m, snan: false, denorm: true, bits };
  }
  return { k: 1, s, m: frac | (1n << BigInt(f.m)), x: e - f.bias - f.m, snan: false, denorm: false, bits };
}

export function quiet(v: Val, f: Fmt): bigint {
  return v.bits | (1n << BigInt(f.m - 1));
}

/** The QNaN floating-point indefinite. */
export function indefinite(f: Fmt): bigint {
  return ((1n << BigInt(f.e + 2)) - 1n) << BigInt(f.m - 1);
}

export function zero(s: number, f: Fmt): bigint {
  return BigInt(s) << BigInt(f.w - 1);
}

export function inf(s: number, f: Fmt): bigint {
  return (BigInt(s) << BigInt(f.w - 1)) | (((1n << BigInt(f.e)) - 1n) << BigInt(f.m));
}

function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

/** Whether rounding (sign s, magnitude bits dropped `rem` of `half`·2, sticky) increments. */
function roundUp(rc: number, s: number, lsbOdd: boolean, rem: bigint, half: bigint, sticky: boolean): boolean {
  const inexact = rem !== 0n || sticky;
  if (!inexact) return false;
  switch (rc) {
    case 0: return rem > half || (rem === half && (sticky || lsbOdd));
    case 1: return s === 1;
    case 2: return s === 0;
    default: return false;
  }
}

/**
 * Rounds (-1)^s · m · 2^x (plus a non-zero amount below m's last bit when `sticky`) to format f
 * under env, raising OE/UE/PE. m must be non-zero (or sticky).
 */
export function pack(s: number, m: bigint, x: number, sticky: boolean, f: Fmt, env: FpEnv): bigint {
  const p = f.m + 1, emin = 1 - f.bias, emaxBiased = (1 << f.e) - 1;
  const E = x + bitLength(m) - 1; // exponent of the leading bit
  // Rounded to p bits with an unbounded exponent: decides tininess (x86 detects it after
  // rounding) and, for unmasked overflow/underflow, PE.
  const u = roundAt(m, x, E - f.m, sticky, s, env.rc);
  const EU = E + (bitLength(u.q) > p ? 1 : 0);
  const tiny = EU < emin;
  if (tiny && !env.um) {
    // Unmasked underflow: signalled on tininess alone (the instruction then faults).
    env.flags |= FE.UE | (u.inexact ? FE.PE : 0);
    return zero(s, f);
  }
  if (EU + f.bias >= emaxBiased) {
    if (!env.om) { env.flags |= FE.OE | (u.inexact ? FE.PE : 0); return inf(s, f); }
    env.flags |= FE.OE | FE.PE;
    const toInf = env.rc === 0 || (env.rc === 1 && s === 1) || (env.rc === 2 && s === 0);
    return toInf ? inf(s, f) : (BigInt(s) << BigInt(f.w - 1)) | (BigInt(emaxBiased - 1) << BigInt(f.m)) | ((1n << BigInt(f.m)) - 1n);
  }
  if (tiny && env.ftz) {
    env.flags |= FE.UE | FE.PE;
    return zero(s, f);
  }
  if (!tiny) {
    if (u.inexact) env.flags |= FE.PE;
    let q = u.q, e2 = E - f.m;
    if (bitLength(q) > p) { q >>= 1n; e2 += 1; }
    return (BigInt(s) << BigInt(f.w - 1)) | (BigInt(e2 + f.m + f.bias) << BigInt(f.m)) | (q & ((1n << BigInt(f.m)) - 1n));
  }
  // Tiny, underflow masked: denormalise (the last bit's weight is 2^(emin - m)).
  const d = roundAt(m, x, emin - f.m, sticky, s, env.rc);
  if (d.inexact) env.flags |= FE.PE | FE.UE;
  // A carry into bit m gives the smallest normal: the encoding below is then exactly that.
  return (BigInt(s) << BigInt(f.w - 1)) | d.q;
}

/** m·2^x (plus sticky) rounded to a multiple of 2^lsb under rc: the multiple, and whether inexact. */
function roundAt(m: bigint, x: number, lsb: number, sticky: boolean, s: number, rc: number): { q: bigint; inexact: boolean } {
  const sh = lsb - x;
  let q: bigint, rem = 0n, half = 0n;
  if (sh <= 0) q = m << BigInt(-sh);
  else { q = m >> BigInt(sh); rem = m & ((1n << BigInt(sh)) - 1n); half = 1n << BigInt(sh - 1); }
  if (roundUp(rc, s, (q & 1n) === 1n, rem, half, sticky)) q += 1n;
  return { q, inexact: rem !== 0n || sticky };
}

/** NaN operands: IE for an SNaN; the first source's NaN (quieted), else the second's. */
function nanResult(a: Val, b: Val | undefined, f: Fmt, env: FpEnv): bigint {
  if (a.snan || b?.snan) env.flags |= FE.IE;
  return a.k === 3 ? quiet(a, f) : quiet(b!, f);
}

function denormCheck(env: FpEnv, ...v: Val[]): void {
  for (const x of v) if (x.denorm) { env.flags |= FE.DE; return; }
}

export function add(a: Val, b: Val, neg: boolean, f: Fmt, env: FpEnv): bigint {
  if (a.k === 3 || b.k === 3) return nanResult(a, b, f, env);
  const sb = neg ? b.s ^ 1 : b.s;
  // Priority (SDM Vol. 1 4.9.2): SNaN/QNaN operands, then invalid, then the denormal operand.
  if (a.k === 2 && b.k === 2 && a.s !== sb) { env.flags |= FE.IE; return indefinite(f); }
  denormCheck(env, a, b);
  if (a.k === 2 || b.k === 2) return inf(a.k === 2 ? a.s : sb, f);
  const x = Math.min(a.x, b.x);
  const A = (a.m << BigInt(a.x - x)) * (a.s ? -1n : 1n);
  const B = (b.m << BigInt(b.x - x)) * (sb ? -1n : 1n);
  const S = A + B;
  if (S === 0n) {
    if (a.k === 0 && b.k === 0 && a.s === sb) return zero(a.s, f);
    return zero(env.rc === 1 ? 1 : 0, f);
  }
  return pack(S < 0n ? 1 : 0, S < 0n ? -S : S, x, false, f, env);
}

export function mul(a: Val, b: Val, f: Fmt, env: FpEnv): bigint {
  if (a.k === 3 || b.k === 3) return nanResult(a, b, f, env);
  const s = a.s ^ b.s;
  if ((a.k === 2 && b.k === 0) || (a.k === 0 && b.k === 2)) { env.flags |= FE.IE; return indefinite(f); }
  denormCheck(env, a, b);
  if (a.k === 2 || b.k === 2) return inf(s, f);
  if (a.k === 0 || b.k === 0) return zero(s, f);
  return pack(s, a.m * b.m, a.x + b.x, false, f, env);
}

export function div(a: Val, b: Val, f: Fmt, env: FpEnv): bigint {
  if (a.k === 3 || b.k === 3) return nanResult(a, b, f, env);
  const s = a.s ^ b.s;
  if ((a.k === 2 && b.k === 2) || (a.k === 0 && b.k === 0)) { env.flags |= FE.IE; return indefinite(f); }
  if (a.k === 2 && b.k === 0) return inf(s, f);
  // Division by zero (of a finite dividend) outranks the denormal operand.
  if (b.k === 0) { env.flags |= FE.ZE; return inf(s, f); }
  denormCheck(env, a, b);
  if (a.k === 2) return inf(s, f);
  if (b.k === 2) return zero(s, f);
  if (a.k === 0) return zero(s, f);
  const k = Math.max(0, f.m + 4 + bitLength(b.m) - bitLength(a.m));
  const num = a.m << BigInt(k);
  const q = num / b.m;
  return pack(s, q, a.x - b.x - k, q * b.m !== num, f, env);
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function sqrt(a: Val, f: Fmt, env: FpEnv): bigint {
  if (a.k === 3) return nanResult(a, undefined, f, env);
  if (a.k === 0) return zero(a.s, f);
  if (a.s === 1) { env.flags |= FE.IE; return indefinite(f); }
  if (a.k === 2) return inf(0, f);
  denormCheck(env, a);
  let k = Math.max(0, 2 * (f.m + 4) - bitLength(a.m));
  if ((a.x - k) % 2 !== 0) k += 1;
  const n = a.m << BigInt(k);
  const r = isqrt(n);
  return pack(0, r, (a.x - k) / 2, r * r !== n, f, env);
}

/** Float-to-float conversion (CVTSS2SD, CVTSD2SS and the packed forms). */
export function convert(a: Val, from: Fmt, to: Fmt, env: FpEnv): bigint {
  if (a.k === 3) {
    if (a.snan) env.flags |= FE.IE;
    const frac = a.bits & ((1n << BigInt(from.m)) - 1n);
    const f2 = to.m >= from.m ? frac << BigInt(to.m - from.m) : frac >> BigInt(from.m - to.m);
    return inf(a.s, to) | f2 | (1n << BigInt(to.m - 1));
  }
  if (a.k === 2) return inf(a.s, to);
  if (a.k === 0) return zero(a.s, to);
  denormCheck(env, a);
  return pack(a.s, a.m, a.x, false, to, env);
}

/** Signed integer (as bigint) to float, rounded under env. */
export function fromInt(v: bigint, f: Fmt, env: FpEnv): bigint {
  if (v === 0n) return 0n;
  return v < 0n ? pack(1, -v, 0, false, f, env) : pack(0, v, 0, false, f, env);
}

/**
 * Rounds a finite value to an integer under rounding mode rc; returns the integer and whether it
 * was inexact.
 */
function toIntegral(a: Val, rc: number): { v: bigint; inexact: boolean } {
  if (a.k === 0) return { v: 0n, inexact: false };
  if (a.x >= 0) return { v: (a.m << BigInt(a.x)) * (a.s ? -1n : 1n), inexact: false };
  const sh = BigInt(-a.x);
  let q = a.m >> sh;
  const rem = a.m & ((1n << sh) - 1n), half = 1n << (sh - 1n);
  if (roundUp(rc, a.s, (q & 1n) === 1n, rem, half, false)) q += 1n;
  return { v: q * (a.s ? -1n : 1n), inexact: rem !== 0n };
}

/** CVT(T)SS2SI/SD2SI/PS2DQ…: out-of-range and NaN give the integer indefinite with IE. */
export function toInt(a: Val, bits: 32 | 64, truncate: boolean, env: FpEnv): bigint {
  const indef = 1n << BigInt(bits - 1);
  if (a.k >= 2) { env.flags |= FE.IE; return indef; }
  const { v, inexact } = toIntegral(a, truncate ? 3 : env.rc);
  if (v < -indef || v >= indef) { env.flags |= FE.IE; return indef; }
  if (inexact) env.flags |= FE.PE;
  return BigInt.asUintN(bits, v);
}

/** ROUNDSS/SD/PS/PD: an integral value in the same format. */
export function roundIntegral(a: Val, rc: number, suppressPE: boolean, f: Fmt, env: FpEnv): bigint {
  if (a.k === 3) return nanResult(a, undefined, f, env);
  if (a.k !== 1) return a.k === 2 ? a.bits : zero(a.s, f);
  const { v, inexact } = toIntegral(a, rc);
  if (inexact && !suppressPE) env.flags |= FE.PE;
  if (v === 0n) return zero(a.s, f);
  const e2: FpEnv = { rc: 0, daz: false, ftz: false, om: true, um: true, flags: 0 };
  return pack(a.s, v < 0n ? -v : v, 0, false, f, e2);
}

/** Compare for CMPxx/COMIS/UCOMIS: -1, 0, 1, or 2 for unordered (NaN flags are the caller's). */
export function compare(a: Val, b: Val): number {
  if (a.k === 3 || b.k === 3) return 2;
  const key = (v: Val): [number, bigint, number] => [v.k === 0 ? 0 : v.s ? -1 : 1, v.m, v.x];
  const [sa] = key(a), [sb] = key(b);
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (sa === 0) return 0;
  if (a.k === 2 || b.k === 2) {
    if (a.k === b.k) return 0;
    const mag = a.k === 2 ? 1 : -1;
    return sa > 0 ? mag : -mag;
  }
  const x = Math.min(a.x, b.x);
  const A = a.m << BigInt(a.x - x), B = b.m << BigInt(b.x - x);
  const mag = A === B ? 0 : A > B ? 1 : -1;
  return sa > 0 ? mag : -mag;
}

export { denormCheck };

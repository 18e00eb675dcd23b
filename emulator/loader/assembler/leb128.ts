// `.uleb128` and `.sleb128` of constants, with the bytes GNU as 2.40 writes.
//
// A `.uleb128` is the LEB128 of the value's 64 bits. A `.sleb128` depends on a 65th bit GNU as
// keeps while it folds a constant expression (expr.c, X_extrabit): 0 for numbers and symbols,
// flipped by unary minus (of a non-zero value) and `~`, carried by addition and borrowed by
// subtraction, the left operand's through any other operator. gas writes the signed LEB128 of
// the 65-bit value (read.c, emit_leb128_expr and convert_to_bignum), so `.sleb128 x` with
// `x = -1` is the LEB128 of 2^64 - 1, ten bytes, while `.sleb128 -1` is one byte. A 65-bit
// value below -2^63 (`.sleb128 ~x`, `x + 1` past 2^64) gas writes in more than one way, and a
// location's 65th bit depends on gas's fragments: both are refused by name (a `.uleb128` takes
// them). Checked against GNU as over every operator with signed, unsigned and borrowed operands.

import { Expr, constantBinop } from './expr';

/** A constant as GNU as holds it while folding: 64 bits and the 65th. */
interface GasConst {
  bits: bigint;
  extra: 0 | 1;
}

const M64 = (1n << 64n) - 1n;
const u64 = (x: bigint) => x & M64;
const s64 = (x: bigint) => BigInt.asIntN(64, x);

/**
 * `e` folded as GNU as folds a constant; undefined where gas would not fold it while reading
 * (a location left in the value). `early` gives a subexpression's value when it is absolute.
 */
function fold(e: Expr, early: (e: Expr) => bigint | undefined, isLocation: (e: Expr) => boolean, depth = 0): GasConst | undefined {
  if (depth > 100) return undefined;
  switch (e.t) {
    case 'num':
      return { bits: u64(e.v), extra: 0 };
    case 'sym': {
      // A symbol equated to a constant reads as a number, its 65th bit 0 whatever its sign.
      if (isLocation(e)) return undefined;
      const v = early(e);
      return v === undefined ? undefined : { bits: u64(v), extra: 0 };
    }
    case 'un': {
      const x = fold(e.a, early, isLocation, depth + 1);
      if (!x) return undefined;
      if (e.op === '+') return x;
      if (e.op === '-') return { bits: u64(-x.bits), extra: x.bits !== 0n ? ((x.extra ^ 1) as 0 | 1) : x.extra };
      if (e.op === '~') return { bits: u64(~x.bits), extra: (x.extra ^ 1) as 0 | 1 };
      return { bits: x.bits === 0n ? 1n : 0n, extra: 0 };
    }
    case 'bin': {
      const l = fold(e.a, early, isLocation, depth + 1);
      const r = l && fold(e.b, early, isLocation, depth + 1);
      // A location (a label, `.`) has no fold here: gas gives a difference of locations a 65th
      // bit that depends on how its fragments fall (a `.space` between the labels starts one),
      // not followed; such a `.sleb128` is refused by name.
      if (!l || !r) return undefined;
      // The bits as gas's folding gives them (expr.ts, one table of operators); the 65th bit
      // carried by + and -, the left operand's through any other.
      const bits = u64(constantBinop(e.op, s64(l.bits), s64(r.bits)) ?? 0n);
      let extra = l.extra;
      if (e.op === '+') extra = (l.extra ^ r.extra ^ (l.bits + r.bits > M64 ? 1 : 0)) as 0 | 1;
      else if (e.op === '-') extra = (l.extra ^ r.extra ^ (l.bits < r.bits ? 1 : 0)) as 0 | 1;
      return { bits, extra };
    }
    default:
      return undefined;
  }
}

/** Unsigned LEB128 of a value's 64 bits. */
export function uleb128(v: bigint): number[] {
  let x = u64(v);
  const out: number[] = [];
  do {
    const b = Number(x & 0x7fn);
    x >>= 7n;
    out.push(x ? b | 0x80 : b);
  } while (x);
  return out;
}

/** Signed LEB128 of any integer. */
function sleb128(v: bigint): number[] {
  let x = v;
  const out: number[] = [];
  for (;;) {
    const b = Number(x & 0x7fn);
    x >>= 7n; // a BigInt shift keeps the sign
    const done = (x === 0n && !(b & 0x40)) || (x === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

/**
 * The bytes GNU as writes for `.sleb128 e`: a string saying why not where `e` holds a location
 * or its 65-bit value is below -2^63. `early` gives a symbol's value when it is absolute now;
 * `isLocation` tells a label (or a symbol set to a location) from a constant.
 */
export function gasSleb128(e: Expr, early: (e: Expr) => bigint | undefined, isLocation: (e: Expr) => boolean): number[] | string {
  const c = fold(e, early, isLocation);
  if (!c) return 'made of locations (labels, `.`; GNU as gives their differences a 65th bit from its fragments)';
  const negative = c.bits > M64 >> 1n;
  if (c.extra && !negative) return `below -2^63 in GNU as's 65-bit arithmetic (${c.bits - (1n << 64n)})`;
  return sleb128(c.extra ? s64(c.bits) : c.bits);
}

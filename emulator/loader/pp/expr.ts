// C integer constant expressions over tokens, with cpp's arithmetic: every value is a 64-bit
// intmax_t or uintmax_t, the usual conversions pick unsigned when either side is unsigned,
// and unevaluated operands (`0 && 1/0`) raise nothing. Used by `#if` and, through the
// `primary` hook (sizeof, offsetof, casts, enum constants), by the C struct parser.

import type { Tok } from './lexer';

/** A value as cpp holds it. */
export interface PPValue {
  value: bigint;
  unsigned: boolean;
}

/** An error at a token. */
export class ExprError extends Error {
  constructor(readonly tok: Tok | undefined, message: string) {
    super(message);
  }
}

export interface ExprHooks {
  /**
   * Called on an identifier, or on `(` (for casts), at `toks[pos]`. Return the value and the
   * index after what it consumed, or undefined to fall back (identifier → 0 in #if mode).
   */
  primary?: (toks: Tok[], pos: number, evaluated: boolean, unary: (pos: number) => { v: PPValue; next: number }) => { v: PPValue; next: number } | undefined;
  /** `#if` mode: unknown identifiers are 0. Otherwise they are an error. */
  identifiersAreZero?: boolean;
}

const M64 = (1n << 64n) - 1n;
const wrap = (v: bigint, unsigned: boolean): PPValue => ({ value: unsigned ? BigInt.asUintN(64, v) : BigInt.asIntN(64, v), unsigned });

/** Parse an integer literal as cpp does; throws ExprError for floats and bad suffixes. */
export function parseIntLiteral(t: Tok): PPValue {
  const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)([uUlL]*)$/.exec(t.text);
  if (!m) {
    if (/^[0-9.]*[.eEpP]/.test(t.text) && !/^0[xX]/.test(t.text)) throw new ExprError(t, `floating constant in preprocessor expression: "${t.text}"`);
    const d = /^(0[xX][0-9a-fA-F]*|0[bB][01]*|[0-9]+)(.*)$/.exec(t.text);
    throw new ExprError(t, `invalid suffix "${d ? d[2] : t.text}" on integer constant`);
  }
  const body = m[1];
  const suffix = m[2].toLowerCase();
  if (!['', 'u', 'l', 'ul', 'lu', 'll', 'ull', 'llu'].includes(suffix)) throw new ExprError(t, `invalid suffix "${m[2]}" on integer constant`);
  let v: bigint;
  if (/^0[bB]/.test(body)) v = BigInt(body);
  else if (/^0[xX]/.test(body)) v = BigInt(body);
  else if (body.length > 1 && body[0] === '0') v = BigInt('0o' + body.slice(1));
  else v = BigInt(body);
  if (v > M64) throw new ExprError(t, `integer constant is too large for its type: ${t.text}`);
  const unsigned = suffix.includes('u') || v > (1n << 63n) - 1n;
  return { value: v, unsigned };
}

/** Value of a character constant such as 'a', '\n', '\x41' (plain char is signed on x86). */
export function parseCharLiteral(t: Tok): PPValue {
  const body = t.text.slice(1, -1);
  let v = 0n;
  let i = 0;
  let count = 0;
  while (i < body.length) {
    let c: number;
    if (body[i] === '\\') {
      const e = body[i + 1];
      i += 2;
      const simple: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, e: 27, '\\': 92, "'": 39, '"': 34, '?': 63 };
      if (e === 'x') {
        const m = /^[0-9a-fA-F]+/.exec(body.slice(i)) ?? ['0'];
        c = parseInt(m[0], 16) & 0xff;
        i += m[0].length;
      } else if (e >= '0' && e <= '7') {
        const m = /^[0-7]{0,2}/.exec(body.slice(i))![0];
        c = parseInt(e + m, 8) & 0xff;
        i += m.length;
      } else c = simple[e] ?? e.charCodeAt(0);
    } else {
      c = body.charCodeAt(i) & 0xff;
      i++;
    }
    v = (v << 8n) | BigInt(c);
    count++;
  }
  if (count === 0) throw new ExprError(t, 'empty character constant');
  if (count === 1) return { value: BigInt.asIntN(8, v), unsigned: false };
  return { value: BigInt.asIntN(32, v), unsigned: false };
}

const BINARY: Record<string, number> = {
  '*': 10, '/': 10, '%': 10, '+': 9, '-': 9, '<<': 8, '>>': 8,
  '<': 7, '>': 7, '<=': 7, '>=': 7, '==': 6, '!=': 6, '&': 5, '^': 4, '|': 3, '&&': 2, '||': 1,
};

/** Evaluate `toks` as one constant expression; throws ExprError with the offending token. */
export function evaluate(toks: Tok[], hooks: ExprHooks = {}): PPValue {
  if (toks.length === 0) throw new ExprError(undefined, 'expected an expression');
  const parser = new ExprParser(toks, hooks);
  const v = parser.comma(true);
  if (parser.pos < toks.length) {
    const t = toks[parser.pos];
    throw new ExprError(t, t.text === ')' ? "missing '(' for this ')'" : `missing binary operator before token "${t.text}"`);
  }
  return v;
}

const describe = (t: Tok | undefined) => (t ? `"${t.text}"` : 'end of expression');

/** Recursive descent over `toks` by C precedence; `ev` false means the operand is not evaluated. */
class ExprParser {
  pos = 0;

  constructor(private readonly toks: Tok[], private readonly hooks: ExprHooks) {}

  private peek(): Tok | undefined {
    return this.toks[this.pos];
  }

  private expect(text: string, what: string): void {
    const t = this.peek();
    if (!t || t.text !== text) throw new ExprError(t ?? this.toks[this.toks.length - 1], `expected '${text}' ${what}, found ${describe(t)}`);
    this.pos++;
  }

  private unary(ev: boolean): PPValue {
    const t = this.peek();
    if (!t) throw new ExprError(this.toks[this.toks.length - 1], 'expected an operand at the end of the expression');
    if (t.kind === 'punct' && ['+', '-', '~', '!'].includes(t.text)) {
      this.pos++;
      return applyUnary(t.text, this.unary(ev));
    }
    if ((t.kind === 'id' || t.text === '(') && this.hooks.primary) {
      const sub = (p: number) => {
        const save = this.pos;
        this.pos = p;
        const v = this.unary(ev);
        const next = this.pos;
        this.pos = save;
        return { v, next };
      };
      const r = this.hooks.primary(this.toks, this.pos, ev, sub);
      if (r) {
        this.pos = r.next;
        return r.v;
      }
    }
    if (t.text === '(') {
      this.pos++;
      const v = this.ternary(ev);
      this.expect(')', 'to close the parenthesis');
      return v;
    }
    if (t.kind === 'num') {
      this.pos++;
      return parseIntLiteral(t);
    }
    if (t.kind === 'chr') {
      this.pos++;
      return parseCharLiteral(t);
    }
    if (t.kind === 'id') {
      if (!this.hooks.identifiersAreZero) throw new ExprError(t, `'${t.text}' is not a constant`);
      this.pos++;
      return { value: 0n, unsigned: false };
    }
    throw new ExprError(t, `token ${describe(t)} is not valid in an integer constant expression`);
  }

  private binary(minPrec: number, ev: boolean): PPValue {
    let lhs = this.unary(ev);
    for (;;) {
      const t = this.peek();
      if (!t || t.kind !== 'punct') break;
      const prec = BINARY[t.text];
      if (prec === undefined || prec < minPrec) break;
      this.pos++;
      if (t.text === '&&' || t.text === '||') {
        const lTrue = lhs.value !== 0n;
        const rhsEv = ev && (t.text === '&&' ? lTrue : !lTrue);
        const rhs = this.binary(prec + 1, rhsEv);
        const r = t.text === '&&' ? lTrue && rhs.value !== 0n : lTrue || rhs.value !== 0n;
        lhs = { value: r ? 1n : 0n, unsigned: false };
      } else {
        const rhs = this.binary(prec + 1, ev);
        lhs = applyBinary(t.text, lhs, rhs, ev, t);
      }
    }
    return lhs;
  }

  private ternary(ev: boolean): PPValue {
    const c = this.binary(1, ev);
    const t = this.peek();
    if (!t || t.text !== '?') return c;
    this.pos++;
    const cond = c.value !== 0n;
    const a = this.ternary(ev && cond);
    this.expect(':', "in the '?:' expression");
    const b = this.ternary(ev && !cond);
    const u = a.unsigned || b.unsigned;
    return wrap(cond ? a.value : b.value, u);
  }

  comma(ev: boolean): PPValue {
    let v = this.ternary(ev);
    while (this.peek()?.text === ',') {
      this.pos++;
      v = this.ternary(ev);
    }
    return v;
  }
}

/** `+`, `-`, `~` or `!` applied to `v`. */
function applyUnary(op: string, v: PPValue): PPValue {
  switch (op) {
    case '+': return v;
    case '-': return wrap(-v.value, v.unsigned);
    case '~': return wrap(~v.value, v.unsigned);
    default: return { value: v.value === 0n ? 1n : 0n, unsigned: false };
  }
}

/** A binary operator other than `&&`/`||` under the usual conversions; `t` is its token. */
function applyBinary(op: string, a: PPValue, b: PPValue, ev: boolean, t: Tok): PPValue {
  const u = a.unsigned || b.unsigned;
  const x = u ? BigInt.asUintN(64, a.value) : a.value;
  const y = u ? BigInt.asUintN(64, b.value) : b.value;
  const bool = (c: boolean): PPValue => ({ value: c ? 1n : 0n, unsigned: false });
  switch (op) {
    case '*': return wrap(x * y, u);
    case '/':
    case '%':
      if (y === 0n) {
        if (ev) throw new ExprError(t, 'division by zero in constant expression');
        return { value: 0n, unsigned: u };
      }
      return wrap(op === '/' ? x / y : x % y, u);
    case '+': return wrap(x + y, u);
    case '-': return wrap(x - y, u);
    case '<<':
    case '>>': return applyShift(op === '<<', a, b);
    case '<': return bool(x < y);
    case '>': return bool(x > y);
    case '<=': return bool(x <= y);
    case '>=': return bool(x >= y);
    case '==': return bool(x === y);
    case '!=': return bool(x !== y);
    case '&': return wrap(x & y, u);
    case '^': return wrap(x ^ y, u);
    case '|': return wrap(x | y, u);
  }
  throw new ExprError(t, `unknown operator ${op}`);
}

/** The left operand's type decides; a negative count shifts the other way (as cpp does). */
function applyShift(left: boolean, a: PPValue, b: PPValue): PPValue {
  let n = b.unsigned ? BigInt.asUintN(64, b.value) : b.value;
  if (n < 0n) {
    n = -n;
    left = !left;
  }
  const lv = a.unsigned ? BigInt.asUintN(64, a.value) : a.value;
  if (left) return n >= 64n ? { value: 0n, unsigned: a.unsigned } : wrap(lv << n, a.unsigned);
  if (n >= 64n) return { value: lv < 0n ? -1n : 0n, unsigned: a.unsigned };
  return wrap(lv >> n, a.unsigned);
}

/** Index of the first `stops` token at nesting depth 0 from `pos`, or of an unbalanced closer, or the end. */
export function splitAtTopLevel(toks: Tok[], pos: number, stops: string[]): number {
  let depth = 0;
  for (let i = pos; i < toks.length; i++) {
    const t = toks[i].text;
    if (t === '(' || t === '[' || t === '{') depth++;
    else if (t === ')' || t === ']' || t === '}') {
      if (depth === 0) return i;
      depth--;
    } else if (depth === 0 && stops.includes(t)) return i;
  }
  return toks.length;
}

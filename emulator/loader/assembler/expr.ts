// GNU as expressions: parsing with gas's operator ranks (`|&^` bind tighter than `+ -`,
// comparisons yield -1 for true) and evaluation to a linear combination of section
// locations. The same evaluator runs at parse time (where only constants and differences
// inside one fixed-size fragment are known — that is what decides disp8/imm8 the way gas
// does) and after layout (where every location has an address).

import { Scanner, codeAt, isSymChar } from './lexer';

/** Expression tree. `sym` names are already resolved for numeric labels (`1b` → instance name). */
export type Expr =
  | { t: 'num'; v: bigint }
  | { t: 'sym'; name: string; col: number }
  | { t: 'dot' }
  | { t: 'un'; op: string; a: Expr }
  | { t: 'bin'; op: string; a: Expr; b: Expr };

/**
 * Every node, whatever its kind, is one of these: one hidden class, every field present. The
 * evaluators switch on `t` at a few sites that see every kind; five shapes made those sites
 * polymorphic, and a file bringing a kind a site had not met yet deoptimised the function.
 */
class Node {
  constructor(
    readonly t: Expr['t'],
    readonly op: string,
    readonly a: Expr | undefined,
    readonly b: Expr | undefined,
    readonly name: string,
    readonly col: number,
    readonly v: bigint,
  ) {}
}
export const numNode = (v: bigint): Extract<Expr, { t: 'num' }> => new Node('num', '', undefined, undefined, '', 0, v) as Extract<Expr, { t: 'num' }>;
export const symNode = (name: string, col: number): Extract<Expr, { t: 'sym' }> => new Node('sym', '', undefined, undefined, name, col, 0n) as Extract<Expr, { t: 'sym' }>;
export const dotNode = (): Expr => new Node('dot', '', undefined, undefined, '', 0, 0n) as Expr;
export const unNode = (op: string, a: Expr): Expr => new Node('un', op, a, undefined, '', 0, 0n) as Expr;
export const binNode = (op: string, a: Expr, b: Expr): Expr => new Node('bin', op, a, b, '', 0, 0n) as Expr;

/** A place inside a section: fragment `frag` of section `sec`, `off` bytes in. */
export interface Loc {
  sec: string;
  frag: number;
  off: number;
}

/** Value of an expression: `c + Σ coef·location`. Constant when `terms` is empty. */
export interface Value {
  c: bigint;
  terms: { sec: string; frag: number; coef: bigint }[];
}

/** What a symbol means to the evaluator. */
export type SymMeaning = { kind: 'abs'; v: bigint } | { kind: 'loc'; loc: Loc } | { kind: 'value'; v: Value };

/** The evaluator's view of the world. */
export interface EvalEnv {
  /** Resolves a symbol; undefined when not (yet) known. */
  sym(name: string, col: number): SymMeaning | undefined;
  /** The location counter `.`. */
  dot(): Loc;
  /** After layout: rewrites locations of one section relative to its first fragment, so a
   *  difference of labels in different fragments becomes a constant (what gas knows then). */
  fold?(v: Value): Value;
}

export class ExprError extends Error {
  constructor(message: string, readonly column: number) {
    super(message);
  }
}

/** Numeric-label resolution supplied by the assembler (gas instance numbering). */
export type NumLabelRef = (n: string, dir: 'b' | 'f', col: number) => string;

const RANK: Record<string, number> = {
  '*': 9, '/': 9, '%': 9, '<<': 9, '>>': 9,
  '|': 8, '&': 8, '^': 8, '!': 8,
  '+': 7, '-': 7,
  '==': 4, '!=': 4, '<>': 4, '<': 4, '<=': 4, '>': 4, '>=': 4,
  '&&': 3, '||': 2,
};

/** Parses one expression at the scanner; stops before `,` `)` or an unknown character. */
export function parseExpr(s: Scanner, numLabel: NumLabelRef): Expr {
  return parseBin(s, numLabel, 0);
}

/** The binary operator at the scanner (after blanks), by character codes: this runs after every operand. */
function peekBinOp(s: Scanner): string | undefined {
  s.skipWs();
  const src = s.src;
  const p = s.pos;
  const c1 = codeAt(src, p + 1);
  switch (codeAt(src, p)) {
    case 60: // <
      return c1 === 60 ? '<<' : c1 === 61 ? '<=' : c1 === 62 ? '<>' : '<';
    case 62: // >
      return c1 === 62 ? '>>' : c1 === 61 ? '>=' : '>';
    case 61: // =
      return c1 === 61 ? '==' : undefined;
    case 33: // !
      return c1 === 61 ? '!=' : '!';
    case 38: // &
      return c1 === 38 ? '&&' : '&';
    case 124: // |
      return c1 === 124 ? '||' : '|';
    case 42: return '*';
    case 47: return '/';
    case 37: return '%';
    case 94: return '^';
    case 43: return '+';
    case 45: return '-';
  }
  return undefined;
}

function parseBin(s: Scanner, nl: NumLabelRef, minRank: number): Expr {
  let left = parseUnary(s, nl);
  for (;;) {
    const op = peekBinOp(s);
    if (!op) return left;
    const rank = RANK[op];
    if (rank <= minRank) return left;
    s.pos += op.length;
    const right = parseBin(s, nl, rank);
    left = binNode(op, left, right);
  }
}

function parseUnary(s: Scanner, nl: NumLabelRef): Expr {
  s.skipWs();
  const ch = s.peek();
  if (ch === '-' || ch === '~' || ch === '!' || ch === '+') {
    s.pos++;
    return unNode(ch, parseUnary(s, nl));
  }
  return parsePrimary(s, nl);
}

function parsePrimary(s: Scanner, nl: NumLabelRef): Expr {
  s.skipWs();
  const col = s.column;
  const ch = s.peek();
  if (ch === undefined) throw new ExprError('expected an expression', col);
  if (ch === '(') {
    s.pos++;
    const e = parseExpr(s, nl);
    if (!s.eat(')')) throw new ExprError("expected ')'", s.column);
    return e;
  }
  if (ch === '%' && /[A-Za-z]/.test(s.peek(1) ?? '')) {
    // A register in an expression (`.if \base == %rsp`): only comparing two registers means
    // something; any other use stays an unresolvable name and is reported.
    s.pos++;
    const m = /^[A-Za-z][A-Za-z0-9]*/.exec(s.src.slice(s.pos))!;
    s.pos += m[0].length;
    return symNode('%' + m[0].toLowerCase(), col);
  }
  if (ch === "'") {
    s.pos++;
    let c = s.src[s.pos++];
    if (c === '\\') {
      const e = s.src[s.pos++];
      const m: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"' };
      c = m[e] ?? e;
    }
    if (c === undefined) throw new ExprError('unterminated character constant', col);
    if (s.peek() === "'") s.pos++;
    return numNode(BigInt(c.charCodeAt(0)));
  }
  if (ch >= '0' && ch <= '9') return parseNumber(s, nl, col);
  if (ch === '.' && !isSymChar(s.peek(1))) {
    s.pos++;
    return dotNode();
  }
  const name = s.ident();
  if (name !== undefined) return symNode(name, col);
  throw new ExprError(`expected an expression, found '${ch}'`, col);
}

/** Numbers below this many are shared BigInts (most literals: offsets, counts, small constants). */
const SMALL = Array.from({ length: 1024 }, (_, i) => BigInt(i));

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/**
 * A numeric label reference (`1b`, `2f`: digits, `b`/`f`, then no symbol character) or a number
 * (`0x…` hex, `0b…` binary, `0…` octal, decimal), scanned by character codes: this runs for most
 * operands, and the regular expressions it replaces cost more than the rest of the parse.
 */
function parseNumber(s: Scanner, nl: NumLabelRef, col: number): Expr {
  const src = s.src;
  const start = s.pos;
  let p = start;
  while (isDigit(codeAt(src, p))) p++;
  const suffix = codeAt(src, p);
  if ((suffix === 98 || suffix === 102) && !isSymChar(src[p + 1])) {
    // `0b` and `0f` followed by a non-symbol character are local labels, as in gas.
    s.pos = p + 1;
    const digits = src.slice(start, p);
    const dir = suffix === 98 ? 'b' : 'f';
    const node = symNode(nl(digits, dir, col), col);
    labelRefs?.push({ node, digits, dir });
    return node;
  }
  // The number's extent: hex and binary need at least one digit after the prefix.
  const c1 = codeAt(src, start + 1);
  let radix = 10;
  if (codeAt(src, start) === 48 && (c1 === 120 || c1 === 88) && hexDigit(codeAt(src, start + 2)) >= 0) {
    radix = 16;
    p = start + 2;
    while (hexDigit(codeAt(src, p)) >= 0) p++;
  } else if (codeAt(src, start) === 48 && (c1 === 98 || c1 === 66) && (codeAt(src, start + 2) === 48 || codeAt(src, start + 2) === 49)) {
    radix = 2;
    p = start + 2;
    while (codeAt(src, p) === 48 || codeAt(src, p) === 49) p++;
  }
  s.pos = p;
  const t = src.slice(start, p);
  if (isSymChar(s.peek())) throw new ExprError(`bad number '${t}${s.peek()}'`, col);
  if (radix === 10 && t.length > 1 && t[0] === '0') {
    // Octal: GNU as stops at the first 8 or 9 ("junk at end of line").
    const bad = /[89]/.exec(t);
    if (bad) throw new ExprError(`bad octal number '${t}': '${bad[0]}' is not an octal digit`, col + bad.index);
    return numNode(BigInt.asIntN(64, BigInt('0o' + t.slice(1))));
  }
  if (radix === 10 && t.length <= 15) {
    const n = Number(t);
    return numNode(n < SMALL.length ? SMALL[n] : BigInt(n));
  }
  if (radix === 16 && t.length <= 14) {
    const n = parseInt(t.slice(2), 16);
    return numNode(n < SMALL.length ? SMALL[n] : BigInt(n));
  }
  return numNode(BigInt.asIntN(64, BigInt(t)));
}

// ---- evaluation ----------------------------------------------------------------------

/** The terms of every constant: shared, as terms arrays are never changed in place. */
const NO_TERMS: Value['terms'] = [];

function konst(c: bigint): Value {
  return { c: BigInt.asIntN(64, c), terms: NO_TERMS };
}

function locValue(l: Loc): Value {
  return { c: BigInt(l.off), terms: [{ sec: l.sec, frag: l.frag, coef: 1n }] };
}

function addValues(a: Value, b: Value, sign: bigint): Value {
  // A constant added: the locations stay as they are (terms are never changed in place).
  if (!b.terms.length) return { c: BigInt.asIntN(64, a.c + sign * b.c), terms: a.terms };
  if (!a.terms.length && sign === 1n) return { c: BigInt.asIntN(64, a.c + b.c), terms: b.terms };
  if (a.terms.length === 1 && b.terms.length === 1) {
    // `label - .`, `740b - 743f`: what the general merge below makes, without its arrays.
    const x = a.terms[0];
    const y = b.terms[0];
    const c = BigInt.asIntN(64, a.c + sign * b.c);
    if (x.sec === y.sec && x.frag === y.frag) {
      const coef = x.coef + sign * y.coef;
      return { c, terms: coef === 0n ? NO_TERMS : [{ sec: x.sec, frag: x.frag, coef }] };
    }
    return { c, terms: [x, sign === 1n ? y : { ...y, coef: -y.coef }] };
  }
  const terms = a.terms.map((t) => ({ ...t }));
  for (const t of b.terms) {
    const same = terms.find((x) => x.sec === t.sec && x.frag === t.frag);
    if (same) same.coef += sign * t.coef;
    else terms.push({ ...t, coef: sign * t.coef });
  }
  return { c: BigInt.asIntN(64, a.c + sign * b.c), terms: terms.filter((t) => t.coef !== 0n) };
}

/** Symbols an expression needs but the environment cannot resolve. Not an Error subclass on
 *  purpose: parse-time evaluation hits this for every forward reference, and capturing a
 *  stack trace each time dominated the assembler's profile. Always caught inside the assembler. */
export class UnresolvedError {
  constructor(readonly symbol: string, readonly column: number) {}
  get message(): string {
    return `symbol '${this.symbol}' is not defined`;
  }
}

/** What `ev` returns for an expression naming an unknown symbol (the first one met is in `unresolved`). */
const UNRESOLVED: Value = { c: 0n, terms: [] };
let unresolvedName = '';
let unresolvedColumn = 0;

/** Evaluates to a Value; throws UnresolvedError for unknown symbols, ExprError for non-linear use of locations. */
export function evaluate(e: Expr, env: EvalEnv, depth = 0): Value {
  const v = ev(e, env, depth);
  if (v === UNRESOLVED) throw new UnresolvedError(unresolvedName, unresolvedColumn);
  return v;
}

/**
 * `evaluate`, but an unknown symbol gives undefined instead of an exception: parse-time
 * evaluation meets one at every forward reference, and unwinding a throw through a deeply
 * nested expression cost more than the evaluation. Evaluation order and errors are the same.
 */
export function tryEvaluate(e: Expr, env: EvalEnv): Value | undefined {
  const k = constant(e, 0);
  if (k !== undefined) return { c: k, terms: NO_TERMS };
  const v = ev(e, env, 0);
  return v === UNRESOLVED ? undefined : v;
}

/**
 * `ev` of an expression made of numbers only (what `.if`, `.set i, i+1` and most operands are
 * once `.set` constants are frozen in), without a Value per node; undefined for anything else
 * (a symbol, `.`, an operation that would throw), which `ev` then evaluates from the start.
 */
function constant(e: Expr, depth: number): bigint | undefined {
  if (depth > 100) return undefined;
  switch (e.t) {
    case 'num':
      return BigInt.asIntN(64, e.v);
    case 'un': {
      const a = constant(e.a, depth + 1);
      if (a === undefined || e.op === '+') return a;
      return BigInt.asIntN(64, e.op === '-' ? -a : e.op === '~' ? ~a : a === 0n ? 1n : 0n);
    }
    case 'bin': {
      const a = constant(e.a, depth + 1);
      if (a === undefined) return undefined;
      const b = constant(e.b, depth + 1);
      if (b === undefined) return undefined;
      return constantBinop(e.op, a, b);
    }
    default:
      return undefined;
  }
}

/** `ev` of a binary operator on two constants; undefined where `ev` would throw (a division by zero after reading). */
export function constantBinop(op: string, a: bigint, b: bigint): bigint | undefined {
  if (op === '+') return BigInt.asIntN(64, a + b);
  if (op === '-') return BigInt.asIntN(64, a - b);
  if ((op === '/' || op === '%') && b === 0n && !folding.reading) return undefined;
  return BigInt.asIntN(64, binop(op, a, b));
}

function ev(e: Expr, env: EvalEnv, depth: number): Value {
  if (depth > 100) throw new ExprError('expression nests too deeply (circular .set?)', 0);
  switch (e.t) {
    case 'num':
      return konst(e.v);
    case 'dot':
      return locValue(env.dot());
    case 'sym': {
      const m = env.sym(e.name, e.col);
      if (!m) {
        unresolvedName = e.name;
        unresolvedColumn = e.col;
        return UNRESOLVED;
      }
      if (m.kind === 'abs') return konst(m.v);
      if (m.kind === 'loc') return locValue(m.loc);
      return m.v;
    }
    case 'un': {
      let a = ev(e.a, env, depth + 1);
      if (a === UNRESOLVED || e.op === '+') return a;
      if (e.op === '-') return addValues(konst(0n), a, -1n);
      if (env.fold && a.terms.length) a = env.fold(a);
      needConst(a, e.op);
      return konst(e.op === '~' ? ~a.c : a.c === 0n ? 1n : 0n);
    }
    case 'bin': {
      if ((e.op === '==' || e.op === '!=' || e.op === '<>') && e.a.t === 'sym' && e.b.t === 'sym' && e.a.name[0] === '%' && e.b.name[0] === '%') {
        return konst((e.a.name === e.b.name) === (e.op === '==') ? -1n : 0n);
      }
      let a = ev(e.a, env, depth + 1);
      if (a === UNRESOLVED) return a;
      let b = ev(e.b, env, depth + 1);
      if (b === UNRESOLVED) return b;
      if (e.op === '+') return addValues(a, b, 1n);
      if (e.op === '-') return addValues(a, b, -1n);
      if (env.fold && a.terms.length) a = env.fold(a);
      if (env.fold && b.terms.length) b = env.fold(b);
      needConst(a, e.op);
      needConst(b, e.op);
      return konst(binop(e.op, a.c, b.c));
    }
  }
}

function needConst(v: Value, op: string): void {
  if (v.terms.length) throw new ExprError(`operator '${op}' needs absolute operands, not a section location`, 0);
}

/**
 * Whether a constant loses bits in a `size`-byte field by GNU as's rule (read.c, emit_expr, for
 * constants; write.c, fixup_segment, for values it resolves later; tc-i386.c, offset_in_range,
 * for immediates): the bits above the
 * field are not all zero in the value, nor in its negation, taken as 64-bit numbers. So a byte
 * takes -255..255 (-129 is 0x7f): the field is neither signed nor unsigned.
 */
export function truncates(v: bigint, size: number): boolean {
  const shift = BigInt(8 * size);
  return BigInt.asUintN(64, v) >> shift !== 0n && BigInt.asUintN(64, -v) >> shift !== 0n;
}

/**
 * How operators are folded now. GNU as folds constants as it reads a statement (expr.c, expr):
 * there a division by zero warns and divides by 1; a value resolved after layout
 * (resolve_symbol_value) makes it an error. A shift count outside 0..63 warns and gives 0 in
 * both. `reading` is set while the statements are read; `warning` holds the last warning of a
 * fold, for the statement being read (taken by the Assembler after each statement).
 */
export const folding: { reading: boolean; warning: string | undefined } = { reading: false, warning: undefined };

function binop(op: string, a: bigint, b: bigint): bigint {
  const u = (x: bigint) => BigInt.asUintN(64, x);
  const t = (x: boolean) => (x ? -1n : 0n);
  switch (op) {
    case '*': return a * b;
    case '/':
    case '%':
      if (b === 0n) {
        if (!folding.reading) throw new ExprError('division by zero', 0);
        folding.warning = `division by zero: divided by 1 instead, as GNU as does`;
        return op === '/' ? a : 0n;
      }
      return op === '/' ? a / b : a % b;
    case '<<':
    case '>>':
      if (b < 0n || b >= 64n) {
        folding.warning = `shift count ${b} is out of range 0..63: the result is 0, as in GNU as`;
        return 0n;
      }
      return op === '<<' ? a << b : u(a) >> b;
    case '|': return a | b;
    case '&': return a & b;
    case '^': return a ^ b;
    case '!': return a | ~b;
    case '==': return t(a === b);
    case '!=': case '<>': return t(a !== b);
    case '<': return t(a < b);
    case '<=': return t(a <= b);
    case '>': return t(a > b);
    case '>=': return t(a >= b);
    case '&&': return a !== 0n && b !== 0n ? 1n : 0n;
    case '||': return a !== 0n || b !== 0n ? 1n : 0n;
  }
  throw new ExprError(`unknown operator ${op}`, 0);
}

/** Every symbol name an expression mentions (for undefined-symbol reports). */
export function symbolsOf(e: Expr, out: { name: string; col: number }[] = []): { name: string; col: number }[] {
  if (e.t === 'sym') out.push(e); // the node itself has both fields: no object per name
  else if (e.t === 'un') symbolsOf(e.a, out);
  else if (e.t === 'bin') {
    symbolsOf(e.a, out);
    symbolsOf(e.b, out);
  }
  return out;
}

type SymNode = Extract<Expr, { t: 'sym' }>;
/** A numeric label reference met by a parse: its node and what resolved it. */
interface LabelRef {
  node: SymNode;
  digits: string;
  dir: 'b' | 'f';
}
/** The numeric label references of the `parseWholeExpr` under way, in source order. */
let labelRefs: LabelRef[] | undefined;

interface Parsed {
  col0: number;
  e: Expr;
  labels: LabelRef[];
}

/**
 * Parsed texts by numeric-label resolver (one per assembly): `.if`, `.set i, i+1`, the kernel's
 * ALTERNATIVE padding and `.long 740b - .` repeat in every `.rept` copy and macro expansion.
 * Trees are never changed in place, so one serves every statement spelling the text at the
 * same column; numeric labels are resolved again each time, in source order as the parser
 * does, and the tree is copied when one resolves to another instance than last time.
 */
const parsed = new WeakMap<NumLabelRef, Map<string, Parsed[]>>();
const PARSED_MAX = 20_000;

/**
 * Parses a complete string as one expression (for `.if`, `.rept`, directive arguments).
 * `junk` words the error for text after the expression.
 */
export function parseWholeExpr(text: string, col0: number, nl: NumLabelRef, junk?: (rest: string) => string): Expr {
  let cache = parsed.get(nl);
  if (!cache) parsed.set(nl, (cache = new Map()));
  const hits = cache.get(text);
  if (hits) {
    for (const hit of hits) if (hit.col0 === col0) return hit.labels.length ? relabel(hit, nl) : hit.e;
  }
  const s = new Scanner(text, col0);
  // Made from NO_LABELS: of the elements kind a list with labels has, from the start.
  const labels: LabelRef[] = (labelRefs = NO_LABELS.slice());
  let e: Expr;
  try {
    e = parseExpr(s, nl);
  } finally {
    labelRefs = undefined;
  }
  if (!s.eof()) throw new ExprError(junk ? junk(s.rest()) : `unexpected '${s.rest()}' after expression`, s.column);
  // No labels: the one shared empty list (a fresh `[]` has another map than a list of objects,
  // and `hit.labels.length` above deoptimised on it).
  const kept = { col0, e, labels: labels.length ? labels : NO_LABELS };
  if (hits) {
    if (hits.length < 4) hits.push(kept);
  } else if (cache.size < PARSED_MAX) cache.set(text, [kept]);
  return e;
}

const NO_LABELS: LabelRef[] = [{ node: symNode('', 0), digits: '', dir: 'b' }];
NO_LABELS.pop();

/** A kept parse with its numeric labels resolved here (the kept tree itself when none changed). */
function relabel(p: Parsed, nl: NumLabelRef): Expr {
  const names: string[] = [];
  let changed = false;
  for (const r of p.labels) {
    const name = nl(r.digits, r.dir, r.node.col);
    names.push(name);
    if (name !== r.node.name) changed = true;
  }
  if (!changed) return p.e;
  let k = 0;
  const copy = (e: Expr): Expr => {
    switch (e.t) {
      case 'sym':
        return k < p.labels.length && e === p.labels[k].node ? symNode(names[k++], e.col) : e;
      case 'un': {
        const a = copy(e.a);
        return a === e.a ? e : unNode(e.op, a);
      }
      case 'bin': {
        const a = copy(e.a);
        const b = copy(e.b);
        return a === e.a && b === e.b ? e : binNode(e.op, a, b);
      }
      default:
        return e;
    }
  };
  return copy(p.e);
}

// AT&T operand syntax: `%reg`, `$imm`, `seg:disp(base,index,scale)`, `sym(%rip)`, `*x` for
// indirect branches. Produces plain records the instruction selector matches against its
// table; expressions stay unevaluated here because their meaning (constant, location,
// undefined) is only known to the assembler.

import { Expr, ExprError, NumLabelRef, numNode, parseExpr, symNode, unNode } from './expr';
import { Scanner, codeAt, isSymCharCode, isSymStartCode } from './lexer';

/** A register the assembler knows, by GNU as name. */
export interface RegInfo {
  name: string;
  kind: 'gpr' | 'seg' | 'cr' | 'rip' | 'xmm' | 'ymm' | 'zmm' | 'k';
  /** Width in bits for GPRs (8/16/32/64); 64 for control registers; 16 for segment registers. */
  size: number;
  /** Hardware number (0–15, vector registers 0–31): decides REX/EVEX needs and accumulator short forms. */
  num: number;
}

const REGS = new Map<string, RegInfo>();
(() => {
  const q = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi'];
  const d = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
  const w = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
  const b = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil'];
  const add = (name: string, kind: RegInfo['kind'], size: number, num: number) => REGS.set(name, { name, kind, size, num });
  for (let i = 0; i < 8; i++) {
    add(q[i], 'gpr', 64, i);
    add(d[i], 'gpr', 32, i);
    add(w[i], 'gpr', 16, i);
    add(b[i], 'gpr', 8, i);
  }
  ['ah', 'ch', 'dh', 'bh'].forEach((n, i) => add(n, 'gpr', 8, 4 + i));
  for (let i = 8; i < 16; i++) {
    add(`r${i}`, 'gpr', 64, i);
    add(`r${i}d`, 'gpr', 32, i);
    add(`r${i}w`, 'gpr', 16, i);
    add(`r${i}b`, 'gpr', 8, i);
  }
  ['es', 'cs', 'ss', 'ds', 'fs', 'gs'].forEach((n, i) => add(n, 'seg', 16, i));
  for (const i of [0, 2, 3, 4, 8]) add(`cr${i}`, 'cr', 64, i);
  add('rip', 'rip', 64, 0);
  for (let i = 0; i < 32; i++) {
    add(`xmm${i}`, 'xmm', 128, i);
    add(`ymm${i}`, 'ymm', 256, i);
    add(`zmm${i}`, 'zmm', 512, i);
  }
  for (let i = 0; i < 8; i++) add(`k${i}`, 'k', 64, i);
})();

/** Looks a register up by name (without `%`), case-insensitively as gas does. */
export function lookupReg(name: string): RegInfo | undefined {
  return REGS.get(name) ?? REGS.get(name.toLowerCase());
}

/** AVX-512 decorations after an operand: `{%k1}` opmask, `{z}` zeroing, `{1to16}` broadcast. */
export interface Decorations {
  mask?: RegInfo;
  zero?: boolean;
  bcst?: number;
}

/** A parsed operand. `col` is the column where it starts. */
export type Operand =
  | { k: 'reg'; reg: RegInfo; col: number; star: boolean; deco?: Decorations }
  | { k: 'imm'; expr: Expr; col: number }
  /** A rounding or suppress-all-exceptions operand: `{rn-sae}`, `{sae}`. */
  | { k: 'rc'; mode: 'rn' | 'rd' | 'ru' | 'rz' | 'sae'; col: number }
  | MemOperand;

export interface MemOperand {
  k: 'mem';
  col: number;
  /** `*` before the operand: an indirect branch through memory. */
  star: boolean;
  seg?: RegInfo;
  disp?: Expr;
  base?: RegInfo;
  index?: RegInfo;
  scale: 1 | 2 | 4 | 8;
  deco?: Decorations;
}

function parseRegAt(s: Scanner): RegInfo {
  const col = s.column;
  if (!s.eat('%')) throw new ExprError("expected a register ('%' name)", col);
  s.skipWs(); // cpp may leave `% rip`
  const start = s.pos;
  const src = s.src;
  for (let c = codeAt(src, s.pos); (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57); c = codeAt(src, s.pos)) s.pos++;
  const name = src.slice(start, s.pos);
  const r = lookupReg(name);
  if (!r) throw new ExprError(`unknown register '%${name}'`, col);
  return r;
}

/** Parses one AT&T operand (the text between commas). */
export function parseOperand(text: string, col0: number, nl: NumLabelRef): Operand {
  // Most operands are a register alone (`%xmm3`): no scanner for those.
  if (text.charCodeAt(0) === 37) {
    let i = 1;
    for (let c = codeAt(text, 1); (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57); c = codeAt(text, i)) i++;
    const r = i === text.length && i > 1 ? lookupReg(text.slice(1)) : undefined;
    if (r) return { k: 'reg', reg: r, col: col0, star: false, deco: undefined };
  }
  const fast = simpleMem(text, col0);
  if (fast) return fast;
  if (text.includes('{')) return parseDecorated(text, col0, nl);
  const s = new Scanner(text, col0);
  const col = s.column;
  const star = s.eat('*');
  let op: Operand;
  s.skipWs();
  if (s.peek() === '$') {
    if (star) throw new ExprError("'*' cannot apply to an immediate", col);
    s.pos++;
    op = { k: 'imm', expr: parseExpr(s, nl), col };
  } else if (s.peek() === '%') {
    const r = parseRegAt(s);
    if (s.eat(':')) {
      if (r.kind !== 'seg') throw new ExprError(`'%${r.name}' is not a segment register`, col);
      op = parseMem(s, col, star, r, nl);
    } else op = { k: 'reg', reg: r, col, star, deco: undefined };
  } else {
    op = parseMem(s, col, star, undefined, nl);
  }
  if (!s.eof()) throw new ExprError(`junk '${s.rest()}' after operand`, s.column);
  return op;
}

const ROUNDING: Record<string, 'rn' | 'rd' | 'ru' | 'rz' | 'sae'> = { 'rn-sae': 'rn', 'rd-sae': 'rd', 'ru-sae': 'ru', 'rz-sae': 'rz', sae: 'sae' };

/** An operand with AVX-512 decorations, or a `{rn-sae}` rounding operand. */
function parseDecorated(text: string, col0: number, nl: NumLabelRef): Operand {
  const whole = /^\s*\{\s*([a-z-]+)\s*\}\s*$/i.exec(text);
  if (whole) {
    const mode = ROUNDING[whole[1].toLowerCase()];
    if (!mode) throw new ExprError(`unknown rounding operand '{${whole[1]}}' (expected {rn-sae}, {rd-sae}, {ru-sae}, {rz-sae} or {sae})`, col0);
    return { k: 'rc', mode, col: col0 };
  }
  const at = text.indexOf('{');
  const deco: Decorations = {};
  const re = /\{\s*([^}]*?)\s*\}/y;
  let i = at;
  while (i < text.length) {
    if (text[i] === ' ' || text[i] === '\t') { i++; continue; }
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) throw new ExprError(`junk '${text.slice(i)}' after operand`, col0 + i);
    const d = m[1].toLowerCase();
    const bc = /^1to(\d+)$/.exec(d);
    if (d === 'z') deco.zero = true;
    else if (bc) deco.bcst = Number(bc[1]);
    else if (d.startsWith('%') && lookupReg(d.slice(1))?.kind === 'k') deco.mask = lookupReg(d.slice(1));
    else throw new ExprError(`unknown operand decoration '{${m[1]}}' (expected {%k1}..{%k7}, {z} or {1toN})`, col0 + i);
    i = re.lastIndex;
  }
  const op = parseOperand(text.slice(0, at), col0, nl);
  if (op.k === 'imm' || op.k === 'rc') throw new ExprError('decorations apply to a register or memory operand', col0 + at);
  if (deco.bcst && op.k !== 'mem') throw new ExprError(`broadcast {1to${deco.bcst}} applies to a memory operand`, col0 + at);
  op.deco = deco;
  return op;
}

function parseMem(s: Scanner, col: number, star: boolean, seg: RegInfo | undefined, nl: NumLabelRef): MemOperand {
  const m: MemOperand = { k: 'mem', col, star, seg, disp: undefined, base: undefined, index: undefined, scale: 1, deco: undefined };
  s.skipWs();
  // A '(' opens the base/index part only when a register or ',' follows; otherwise it is
  // a parenthesised displacement expression such as `(8*2)(%rax)`.
  const opensBase = () => {
    if (s.peek() !== '(') return false;
    const after = s.src.slice(s.pos + 1).trimStart();
    return after.startsWith('%') || after.startsWith(',');
  };
  if (!opensBase()) {
    if (s.eof()) throw new ExprError('expected an operand', s.column);
    m.disp = parseExpr(s, nl);
    s.skipWs();
  }
  if (opensBase()) {
    s.pos++;
    s.skipWs();
    if (s.peek() === '%') m.base = parseRegAt(s);
    if (s.eat(',')) {
      s.skipWs();
      if (s.peek() === '%') m.index = parseRegAt(s);
      if (s.eat(',')) {
        const scol = s.column;
        const t = /^\s*([0-9]+)/.exec(s.src.slice(s.pos));
        if (!t) throw new ExprError('expected a scale factor of 1, 2, 4 or 8', scol);
        s.pos += t[0].length;
        const v = Number(t[1]);
        if (v !== 1 && v !== 2 && v !== 4 && v !== 8) throw new ExprError(`scale factor must be 1, 2, 4 or 8, not ${v}`, scol);
        m.scale = v;
      }
    }
    if (!s.eat(')')) throw new ExprError("expected ')' closing the memory operand", s.column);
    checkBaseIndex(m, col);
  }
  return m;
}

/** What gas accepts as base and index registers (throws what it says otherwise). */
function checkBaseIndex(m: MemOperand, col: number): void {
  for (let k = 0; k < 2; k++) {
    const r = k === 0 ? m.base : m.index;
    if (r && r.kind === 'rip' && r === m.index) throw new ExprError("'%rip' cannot be an index register", col);
    // A vector index register is VSIB addressing (gathers and scatters).
    if (r && r === m.index && (r.kind === 'xmm' || r.kind === 'ymm' || r.kind === 'zmm')) continue;
    // 32-bit addressing (`(%eax,%eax,2)`, 0x67) when base and index are both 32-bit.
    const a32 = (m.base ?? m.index)?.kind === 'gpr' && (m.base ?? m.index)?.size === 32;
    if (r && a32 && r.kind === 'gpr' && r.size === 32 && (!m.base || !m.index || m.base.size === m.index.size)) continue;
    if (r && r.kind !== 'rip' && (r.kind !== 'gpr' || r.size !== 64)) {
      throw new ExprError(`'%${r.name}' is not a valid 64-bit base/index register`, col);
    }
  }
  if (m.index && (m.index.name === 'rsp' || m.index.name === 'esp')) throw new ExprError("'%rsp' cannot be an index register", col);
  if (m.base?.kind === 'rip' && m.index) throw new ExprError("'%rip' addressing takes no index register", col);
}

/** End of the run of [A-Za-z0-9] at `i`. */
function alnumEnd(t: string, i: number): number {
  for (let c = t.charCodeAt(i); (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57); c = t.charCodeAt(++i));
  return i;
}

const SMALL_NUM = [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n];

/**
 * The common memory operands written without blanks — `(%rsi)`, `16(%rsp)`, `-8(%rbp,%rax,8)`,
 * `0x40(%rdi)`, `sym(%rip)` — read without a Scanner or the expression parser, into exactly
 * what parseMem makes of them; undefined for anything else (parseMem reads it, and reports).
 */
function simpleMem(t: string, col: number): MemOperand | undefined {
  let i = 0;
  let c = codeAt(t, 0);
  let disp: Expr | undefined;
  if (c !== 40) {
    const neg = c === 45;
    if (neg) c = codeAt(t, ++i);
    const start = i;
    if (c >= 48 && c <= 57) {
      // A decimal number (no leading 0: octal) or 0x hex; a digit run with `b`/`f` (a local label) is not followed by `(`.
      let v: bigint;
      if (c === 48 && (codeAt(t, i + 1) | 32) === 120) {
        i += 2;
        while (isHexCode(codeAt(t, i))) i++;
        if (i === start + 2) return undefined;
        v = BigInt.asIntN(64, BigInt(t.slice(start, i)));
      } else {
        while ((c = codeAt(t, i)) >= 48 && c <= 57) i++;
        if (i - start > 1 && codeAt(t, start) === 48) return undefined;
        v = i - start === 1 ? SMALL_NUM[codeAt(t, start) - 48] : BigInt.asIntN(64, BigInt(t.slice(start, i)));
      }
      disp = numNode(v);
    } else if (isSymStartCode(c) && c !== 36) {
      i++;
      while (isSymCharCode(codeAt(t, i))) i++;
      if (c === 46 && i === start + 1) return undefined; // `.`
      disp = symNode(t.slice(start, i), col + start);
    } else return undefined;
    if (neg) disp = unNode('-', disp);
    if (codeAt(t, i) !== 40) return undefined;
  }
  // `(` and then a register or `,`: the base/index part.
  i++;
  const m: MemOperand = { k: 'mem', col, star: false, seg: undefined, disp: undefined, base: undefined, index: undefined, scale: 1, deco: undefined };
  if (disp) m.disp = disp;
  c = codeAt(t, i);
  if (c === 37) {
    const e = alnumEnd(t, i + 1);
    const r = lookupReg(t.slice(i + 1, e));
    if (!r) return undefined;
    m.base = r;
    i = e;
    c = codeAt(t, i);
  } else if (c !== 44) return undefined;
  if (c === 44) {
    if (codeAt(t, i + 1) !== 37) return undefined;
    const e = alnumEnd(t, i + 2);
    const r = lookupReg(t.slice(i + 2, e));
    if (!r) return undefined;
    m.index = r;
    i = e;
    if (codeAt(t, i) === 44) {
      const sc = codeAt(t, i + 1) - 48;
      if (sc !== 1 && sc !== 2 && sc !== 4 && sc !== 8) return undefined;
      m.scale = sc;
      i += 2;
    }
  }
  if (codeAt(t, i) !== 41 || i + 1 !== t.length) return undefined;
  checkBaseIndex(m, col);
  return m;
}

function isHexCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

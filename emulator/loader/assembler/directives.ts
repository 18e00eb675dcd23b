// GNU as directives: sections, symbol attributes, alignment, data, `.set`, conditionals and
// macro bookkeeping. Debug-info and CFI directives are accepted and ignored (the Image gets
// its line table from the statements themselves); Intel syntax and other modes are errors.

import { lookupReg } from './operands';
import type { Assembler } from './assembler';
import { Expr, binNode, constantBinop, dotNode, parseWholeExpr, symNode, truncates, unNode } from './expr';
import { Scanner, isBlank, isSymCharCode, isSymStartCode, parseStringLiteral, splitArgs } from './lexer';
import { MacroDef, Stmt, parseMacroHeader } from './macros';
import { codePadding } from './nops';
import { LIMITS, NO_USES, alignTail, equDef, labelDef, spaceTail } from './model';
import { gasSleb128, uleb128 } from './leb128';

export const CONDITIONAL_DIRECTIVES = new Set([
  '.if', '.ifdef', '.ifndef', '.ifnotdef', '.ifb', '.ifnb', '.ifc', '.ifnc', '.ifeq', '.ifne',
  '.ifge', '.ifgt', '.ifle', '.iflt', '.ifeqs', '.ifnes', '.else', '.elseif', '.endif',
]);

const IGNORED = new Set([
  // `.extern` is accepted and ignored by gas: every undefined symbol is external.
  '.extern',
  '.file', '.loc', '.loc_view', '.ident', '.hidden', '.protected', '.internal',
  '.att_syntax', '.arch', '.linefile', '.loc_mark_labels', '.addrsig', '.addrsig_sym',
  '.symver', '.print', '.lflags', '.list', '.nolist', '.psize', '.title', '.sbttl', '.eject',
]);

// A Map: each directive name is a new string, and a keyed property lookup must first find
// it in V8's string table; this was the costliest line of handleDirective.
const DATA = new Map<string, 1 | 2 | 4 | 8>([
  ['.byte', 1], ['.word', 2], ['.short', 2], ['.value', 2], ['.hword', 2], ['.2byte', 2],
  ['.long', 4], ['.int', 4], ['.4byte', 4], ['.quad', 8], ['.8byte', 8],
]);

function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && ((t[0] === '"' && t.endsWith('"')) || (t[0] === "'" && t.endsWith("'")))) return t.slice(1, -1);
  return t;
}

/** Handles `.if*`, `.else`, `.elseif`, `.endif` — also while skipping. */
export function handleConditional(a: Assembler, dir: string, args: string, st: Stmt): void {
  const top = a.cond[a.cond.length - 1];
  if (dir === '.endif') {
    if (!top) return a.error(st, undefined, '.endif without .if');
    a.cond.pop();
    return;
  }
  if (dir === '.else' || dir === '.elseif') {
    if (!top) return a.error(st, undefined, `${dir} without .if`);
    if (top.sawElse) return a.error(st, undefined, `${dir} after .else`);
    if (dir === '.else') {
      top.active = top.parentActive && !top.done;
      top.done = true;
      top.sawElse = true;
    } else {
      const c = !top.done && top.parentActive && truth(a, '.if', args, st);
      top.active = c;
      top.done ||= c;
    }
    return;
  }
  const parentActive = a.active();
  const c = parentActive && truth(a, dir, args, st);
  a.cond.push({ active: c, done: c, parentActive, sawElse: false, at: st });
}

function truth(a: Assembler, dir: string, args: string, st: Stmt): boolean {
  const defined = (name: string) => {
    const s = a.syms.get(name.trim());
    return !!s?.def || a.predefined.has(name.trim());
  };
  const two = () => {
    const parts = splitArgs(args, 0);
    return [unquote(parts[0]?.text ?? ''), unquote(parts.slice(1).map((p) => p.text).join(','))];
  };
  switch (dir) {
    case '.ifdef': return defined(args);
    case '.ifndef': case '.ifnotdef': return !defined(args);
    case '.ifb': return args.trim() === '';
    case '.ifnb': return args.trim() !== '';
    case '.ifc': case '.ifeqs': { const [x, y] = two(); return x === y; }
    case '.ifnc': case '.ifnes': { const [x, y] = two(); return x !== y; }
  }
  const parsed = parseWholeExpr(args, st.column, a.numLabel);
  const v = quickConstant(a, parsed, 0) ?? a.absolute(a.freeze(parsed), st, `${dir} condition`);
  if (v === undefined) return false;
  switch (dir) {
    case '.ifeq': return v === 0n;
    case '.ifge': return v >= 0n;
    case '.ifgt': return v > 0n;
    case '.ifle': return v <= 0n;
    case '.iflt': return v < 0n;
    default: return v !== 0n;
  }
}

/**
 * What `a.absolute(a.freeze(e))` gives when `e` is made of numbers, `.set` constants and
 * predefined names only, without the frozen copy and a Value per node (`.if` conditions in
 * every `.rept` copy); undefined for anything else, which then takes that path.
 */
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** BigInt.asIntN(64, v) without a new BigInt when v is one already (most are: `.if` of every `.rept` copy). */
function i64(v: bigint): bigint {
  return v >= I64_MIN && v <= I64_MAX ? v : BigInt.asIntN(64, v);
}

function quickConstant(a: Assembler, e: Expr, depth: number): bigint | undefined {
  if (depth > 100) return undefined;
  switch (e.t) {
    case 'num':
      return i64(e.v);
    case 'sym': {
      const d = a.syms.get(e.name)?.def;
      if (d) return d.kind === 'equ' && d.value && d.value.terms.length === 0 ? i64(d.value.c) : undefined;
      const p = a.predefined.get(e.name);
      return p === undefined ? undefined : i64(p);
    }
    case 'un': {
      const x = quickConstant(a, e.a, depth + 1);
      if (x === undefined || e.op === '+') return x;
      return BigInt.asIntN(64, e.op === '-' ? -x : e.op === '~' ? ~x : x === 0n ? 1n : 0n);
    }
    case 'bin': {
      const x = quickConstant(a, e.a, depth + 1);
      if (x === undefined) return undefined;
      const y = quickConstant(a, e.b, depth + 1);
      if (y === undefined) return undefined;
      return constantBinop(e.op, x, y);
    }
    default:
      return undefined;
  }
}

function sectionArgs(a: Assembler, args: string, st: Stmt): void {
  const parts = splitArgs(args, st.column);
  if (!parts.length || !parts[0].text) return a.error(st, undefined, 'expected a section name');
  const name = unquote(parts[0].text);
  const flagText = parts[1] ? unquote(parts[1].text) : undefined;
  let flags: { alloc?: boolean; write?: boolean; exec?: boolean; nobits?: boolean } | undefined;
  if (flagText !== undefined) {
    if (/[^awxMSGTRo?d0-9e]/.test(flagText)) a.error(st, parts[1].column, `unknown section flag in "${flagText}"`);
    flags = { alloc: flagText.includes('a'), write: flagText.includes('w'), exec: flagText.includes('x'), nobits: false };
  }
  const type = parts[2]?.text.replace(/^[@%]/, '');
  if (type === 'nobits') flags = { ...(flags ?? {}), nobits: true };
  a.switchSection(name, flags);
}

function align(a: Assembler, dir: string, args: string, st: Stmt): void {
  const parts = splitArgs(args, st.column);
  if (!parts.length || !parts[0].text) return a.error(st, undefined, `${dir} expects an alignment`);
  const n = a.absolute(a.parseExpr(parts[0].text, st, parts[0].column), st, 'alignment');
  if (n === undefined) return;
  // GNU as takes a power over 63 (or below 0) as 63 (read.c, s_align: "alignment too large").
  const bytes = dir === '.p2align' ? 1n << (n < 0n || n > 63n ? 63n : n) : n;
  if (bytes === 0n) return; // `.balign 0`, `.align 0`: no alignment, as in GNU as (read.c s_align)
  if (bytes < 0n || (bytes & (bytes - 1n)) !== 0n) return a.error(st, parts[0].column, `alignment must be a power of two, not ${bytes}`);
  if (bytes > 1n << 30n) return a.error(st, parts[0].column, `alignment ${bytes} is over the limit of 2^30 bytes`);
  const fill = parts[1]?.text ? a.absolute(a.parseExpr(parts[1].text, st, parts[1].column), st, 'fill value') : undefined;
  const max = parts[2]?.text ? a.absolute(a.parseExpr(parts[2].text, st, parts[2].column), st, 'maximum skip') : undefined;
  const al = Number(bytes);
  // gas: a one-byte 0x90 fill in a code section means "pad with NOPs" (read.c do_align).
  const nops = a.cur.exec && (fill === undefined || BigInt.asUintN(8, fill) === 0x90n);
  a.cur.align = Math.max(a.cur.align, al);
  if (al === 1) return;
  // A maximum of 0 (or below) is no maximum, as in GNU as (write.c: a zero limit is none).
  a.emitTail(alignTail(al, fill === undefined ? undefined : Number(BigInt.asUintN(8, fill)), max === undefined || max <= 0n ? undefined : Number(max), nops, st));
}

function data(a: Assembler, size: 1 | 2 | 4 | 8, args: string, st: Stmt, col: number): void {
  // One value (the ALTERNATIVE and exception-table macros' `.long 661b - .`, `.byte 662b-661b`):
  // no list of parts to allocate. Same text and column as splitArgs would give.
  if (args.indexOf(',') < 0 && args.indexOf('"') < 0) {
    const text = args.trim();
    if (text) dataValue(a, size, text, col + args.length - args.trimStart().length, st);
    return;
  }
  for (const part of splitArgs(args, col)) dataValue(a, size, part.text, part.column, st);
}

/** The junk messages by data size, made once (not a closure per value). */
const DATA_JUNK = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((size) => (rest: string) => `junk '${rest}' in ${size}-byte data`);

function dataValue(a: Assembler, size: 1 | 2 | 4 | 8, text: string, column: number, st: Stmt): void {
  const e = a.freeze(parseWholeExpr(text, column, a.numLabel, DATA_JUNK[size - 1]));
  a.noteUses(e, st, 'address');
  const v = a.early(e);
  if (v.kind === 'const' && (v.v < 0n || v.v > 0xffn) && size < 8 && truncates(v.v, size)) {
    a.error(st, column, `value 0x${BigInt.asUintN(64, v.v).toString(16)} truncated to 0x${BigInt.asUintN(8 * size, v.v).toString(16)} (${size} byte${size > 1 ? 's' : ''}), as GNU as does`, 'warning');
  }
  if (v.kind === 'const') a.emitBytes(v.v >= 0n && v.v < 1024n ? smallLe(Number(v.v), size) : le(v.v, size), st);
  // `.` is only needed for a relocation (nothing was emitted since the expression was read).
  else a.emitItem({ kind: 'data', off: a.frag().size, size, expr: e, dot: a.dot(), at: st }, size);
}

/**
 * `.uleb128` / `.sleb128`: DWARF's variable-length integers, of values known when the statement
 * is read (constants, differences of labels already placed), with GNU as's bytes (leb128.ts).
 * GNU as also takes values known only after layout (a label ahead, across a jump that may
 * grow): that is refused by name.
 */
function leb128(a: Assembler, dir: string, args: string, st: Stmt, col: number): void {
  const early = (x: Expr): bigint | undefined => {
    const v = a.maybeEarly(x);
    return v && v.terms.length === 0 ? v.c : undefined;
  };
  for (const part of splitArgs(args, col)) {
    // Not parseExpr: its folding of numbers would lose the 65th bit gasSleb128 follows.
    const e = parseWholeExpr(part.text, part.column, a.numLabel);
    const v = early(e);
    const bytes = v === undefined ? 'known only after layout' : dir === '.sleb128' ? gasSleb128(e, early, (x) => hasLocation(a, x)) : uleb128(v);
    if (typeof bytes === 'string') {
      const hint = bytes.startsWith('below') ? 'write the value in 64 bits' : bytes.startsWith('made') ? 'use a constant, or .uleb128' : 'use a constant, or labels defined before this line';
      return a.error(st, part.column, `${dir} of a value ${bytes} ('${part.text}') is not supported; ${hint}`);
    }
    a.emitBytes(Uint8Array.from(bytes), st);
  }
}

/** `.octa`: 16-byte integers; gas takes only constants here (bignums), never relocations. */
function octa(a: Assembler, args: string, st: Stmt, col: number): void {
  for (const part of splitArgs(args, col)) {
    // A plain literal keeps all 128 bits (expressions are 64-bit, as gas's are outside bignums).
    const lit = /^\s*(-?)(0[xX][0-9a-fA-F]+|[1-9]\d*|0)\s*$/.exec(part.text);
    const v = lit ? (lit[1] ? -1n : 1n) * BigInt(lit[2]) : a.absolute(a.parseExpr(part.text, st, part.column), st, '.octa value');
    if (v === undefined) return;
    const out = new Uint8Array(16);
    let x = BigInt.asUintN(128, v);
    for (let i = 0; i < 16; i++) {
      out[i] = Number(x & 0xffn);
      x >>= 8n;
    }
    a.emitBytes(out, st);
  }
}

/**
 * Shared bytes of small constants (`.byte` lengths, `.word` feature numbers, `.long 0` of the
 * ALTERNATIVE and exception-table macros): one typed array per value and size instead of one
 * per statement, which was a large share of what these files allocate and the GC copies.
 * Item bytes are never written after emission, so sharing them is safe.
 */
const SMALL_LE: (Uint8Array | undefined)[][] = [[], [], [], [], [], [], [], [], []];
function smallLe(v: number, size: number): Uint8Array {
  const row = SMALL_LE[size];
  return (row[v] ??= le(BigInt(v), size));
}

/** Little-endian bytes of `v` truncated to `size` bytes. */
export function le(v: bigint, size: number): Uint8Array {
  // Two 32-bit halves as numbers (a BigInt per byte before); bytes past 8 stay 0.
  const out = new Uint8Array(size);
  const lo = Number(BigInt.asUintN(32, v));
  for (let i = 0; i < size && i < 4; i++) out[i] = lo >>> (8 * i);
  if (size > 4) {
    const hi = Number(BigInt.asUintN(32, v >> 32n));
    for (let i = 4; i < size && i < 8; i++) out[i] = hi >>> (8 * (i - 4));
  }
  return out;
}

function strings(a: Assembler, dir: string, args: string, st: Stmt, col: number): void {
  const s = new Scanner(args, col);
  for (;;) {
    const bytes = parseStringLiteral(s);
    if (!bytes) return a.error(st, s.column, `${dir} expects a string in double quotes`);
    if (dir !== '.ascii') bytes.push(0);
    a.emitBytes(Uint8Array.from(bytes), st);
    if (s.eof()) return;
    s.skipWs();
    // gas reads adjacent literals (`"a" "b"`) as one more string, as if a comma stood between.
    if (s.peek() === '"') continue;
    if (!s.eat(',')) return a.error(st, s.column, "expected ',' between strings");
  }
}

function setSymbol(a: Assembler, dir: string, args: string, st: Stmt, col: number): void {
  // /^([A-Za-z_.$][\w.$]*)\s*,\s*/ by character codes (no match array per `.set` in a `.rept`).
  let p = 0;
  if (isSymStartCode(args.charCodeAt(0))) while (isSymCharCode(args.charCodeAt(++p)));
  const end = p;
  while (isRegexSpace(args.charCodeAt(p))) p++;
  if (end === 0 || args.charCodeAt(p) !== 44) return a.error(st, col, `${dir} expects 'symbol, expression'`);
  p++;
  while (isRegexSpace(args.charCodeAt(p))) p++;
  assignSymbol(a, dir, args.slice(0, end), args.slice(p), st, col, col + p);
}

/** What `\s` matches in a JavaScript regular expression. */
function isRegexSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** `name = value` (and the `.set` family once split): `exprCol` is where `valueArg` starts. */
/**
 * `%name` (blanks allowed after `%`) naming a register: `%name` lowercased (the text itself when
 * it is so already: `reg_i = %xmm3` of a `.rept` makes no string); else the register equate the
 * text names, if any. By character codes: the regular expression was most of an assignment.
 */
function regValue(t: string): string | undefined {
  let i = 1;
  while (i < t.length && isBlank(t.charCodeAt(i))) i++;
  const start = i;
  let lower = true;
  for (; i < t.length; i++) {
    const c = t.charCodeAt(i);
    const alpha = (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
    if (!alpha && (i === start || c < 48 || c > 57)) return undefined;
    if (c >= 65 && c <= 90) lower = false;
  }
  if (i === start) return undefined;
  const name = start === 1 ? t.slice(1) : t.slice(start);
  if (!lookupReg(name)) return undefined;
  return start === 1 && lower ? t : `%${name.toLowerCase()}`;
}

export function assignSymbol(a: Assembler, dir: string, name: string, valueArg: string, st: Stmt, col: number, exprCol: number): void {
  // A register equate (`KEY = %rdi`, `.set T0, %xmm4`, or another equate's name): operands
  // naming it mean the register.
  const valueText = valueArg.trim();
  // (The test is by its first character: most values are numbers, and the regular expression
  // on each `i = i + 1` of a `.rept` was the costliest line here.)
  const regName = (valueText.charCodeAt(0) === 37 ? regValue(valueText) : undefined) ?? a.regEquates.get(valueText);
  if (regName) {
    if (a.sym(name).def?.kind === 'label') return a.error(st, col, `symbol '${name}' is already defined as a label`);
    a.regEquates.set(name, regName);
    return;
  }
  a.regEquates.delete(name);
  const e: Expr = a.parseExpr(valueArg, st, exprCol);
  const s = a.sym(name);
  if (s.def?.kind === 'label') return a.error(st, col, `symbol '${name}' is already defined as a label`);
  if (dir === '.equiv' && s.def) return a.error(st, col, `symbol '${name}' is already defined (.equiv)`);
  const dot = a.dot();
  const value = dir === '.eqv' ? undefined : a.tryEarly(e);
  a.noteUses(e, st, 'value');
  s.def = equDef(value, e, dot);
  s.uses = NO_USES;
  s.definedAt = st;
}

/** Whether `bytes` more would take the section past its size limit (then reported, nothing allocated). */
function tooBig(a: Assembler, st: Stmt, dir: string, bytes: bigint): boolean {
  const have = a.sectionSize();
  if (BigInt(have) + bytes <= BigInt(LIMITS.sectionBytes)) return false;
  a.error(st, undefined, `${dir} of ${bytes.toLocaleString('en-US')} bytes would make the section ${(BigInt(have) + bytes).toLocaleString('en-US')} bytes, over the limit of ${LIMITS.sectionBytes.toLocaleString('en-US')}`);
  return true;
}

/** Whether `e` holds a location: `.`, a label, or a symbol whose value has one. */
function hasLocation(a: Assembler, e: Expr): boolean {
  if (e.t === 'dot') return true;
  if (e.t === 'sym') {
    const d = a.syms.get(e.name)?.def;
    return d?.kind === 'label' || (d?.kind === 'equ' && (!d.value || d.value.terms.length > 0));
  }
  if (e.t === 'un') return hasLocation(a, e.a);
  if (e.t === 'bin') return hasLocation(a, e.a) || hasLocation(a, e.b);
  return false;
}

/** `e` with `.` bound to here: an internal label at the current location stands for it. */
function atDot(a: Assembler, e: Expr): Expr {
  let name: string | undefined;
  const walk = (x: Expr): Expr => {
    if (x.t === 'dot') {
      if (name === undefined) {
        name = `\u0003dot${a.syms.size}`;
        const s = a.sym(name);
        s.def = labelDef(a.dot());
        s.internal = true;
      }
      return symNode(name, 0);
    }
    if (x.t === 'un') return unNode(x.op, walk(x.a));
    if (x.t === 'bin') return binNode(x.op, walk(x.a), walk(x.b));
    return x;
  };
  return walk(e);
}

/** An internal symbol at offset 0 of the current section (made once per section). */
function sectionStart(a: Assembler): string {
  const sec = a.dot().sec;
  const name = `${sec}\u0003start`;
  const s = a.sym(name);
  if (!s.def) {
    s.def = labelDef({ sec, frag: 0, off: 0 });
    s.internal = true;
  }
  return name;
}

/** The largest `.fill` count and `.skip` size taken (the section size limit is checked too). */
const FILL_MAX = BigInt(LIMITS.fillBytes);

function fill(a: Assembler, dir: string, args: string, st: Stmt): void {
  const parts = splitArgs(args, st.column);
  const num = (i: number, what: string, dflt: bigint) =>
    // Bounds checked first: reading past the array's end deoptimized the optimized caller.
    i < parts.length && parts[i].text ? a.absolute(a.parseExpr(parts[i].text, st, parts[i].column), st, what) : dflt;
  if (dir === '.fill' && parts[0]?.text) {
    // `.fill 0b + 16 - ., 1, 0xcc` across a relaxable jump: a count known only at layout is
    // a variable-size tail, as `.skip` (bytes of size 1 only: what such padding uses).
    const e = a.parseExpr(parts[0].text, st, parts[0].column);
    const early = a.maybeEarly(e);
    if (!early || early.terms.length) {
      const size = num(1, 'fill size', 1n);
      if (size === undefined) return;
      if (size === 1n) {
        const v = num(2, 'fill value', 0n);
        if (v === undefined) return;
        a.noteUses(e, st, 'value');
        return a.emitTail(spaceTail(e, a.dot(), Number(BigInt.asUintN(8, v)), st, false));
      }
    }
  }
  if (dir === '.fill') {
    const rep = num(0, 'repeat count', 0n);
    const size = num(1, 'fill size', 1n);
    const value = num(2, 'fill value', 0n);
    if (rep === undefined || size === undefined || value === undefined) return;
    // GNU as (read.c, s_fill): a size over 8 is clamped to 8; a negative size, or a negative
    // count, fills nothing. Each with a warning, the statement otherwise accepted.
    if (size > 8n) a.error(st, undefined, `.fill size ${size} clamped to 8, as GNU as does`, 'warning');
    if (size < 0n) return a.error(st, undefined, `.fill size ${size} is negative: nothing is filled (GNU as ignores it too)`, 'warning');
    if (rep < 0n) return a.error(st, undefined, `.fill repeat count ${rep} is negative: nothing is filled (GNU as ignores it too)`, 'warning');
    if (rep > FILL_MAX) return a.error(st, undefined, `.fill repeat count ${rep} is over the limit of ${FILL_MAX.toLocaleString('en-US')}; emit the data in several directives`);
    const sz = Number(size > 8n ? 8n : size);
    if (tooBig(a, st, dir, rep * BigInt(sz))) return;
    const unit = le(value, 8).subarray(0, Math.min(sz, 4)); // gas fills at most 4 value bytes
    const out = new Uint8Array(Number(rep) * sz);
    for (let i = 0; i < Number(rep); i++) out.set(unit, i * sz);
    return a.emitBytes(out, st);
  }
  if (parts[0]?.text) {
    // A size not known yet (labels ahead) becomes a variable-size tail sized at layout, as in gas.
    const e = a.parseExpr(parts[0].text, st, parts[0].column);
    const early = a.maybeEarly(e);
    if (!early || early.terms.length) {
      const v = num(1, 'fill value', 0n);
      if (v === undefined) return;
      // GNU as (read.c, s_space) takes a size known later only with a one-byte fill.
      if (v < -0x80n || v > 0xffn) return a.error(st, parts[1].column, `${dir} with a size known only after layout takes a one-byte fill value (-128..255), not ${v}`);
      a.noteUses(e, st, 'value');
      return a.emitTail(spaceTail(e, a.dot(), Number(BigInt.asUintN(8, v)), st, false));
    }
  }
  const n = num(0, 'size', 0n);
  if (n === undefined) return;
  // A fill value known only later (a difference of labels ahead): GNU as writes it byte by
  // byte, as many `.byte`s, for a size of 0..1024 only (read.c, s_space).
  if (parts[1]?.text) {
    const fe = a.parseExpr(parts[1].text, st, parts[1].column);
    const fv = a.maybeEarly(fe);
    if (!fv || fv.terms.length) {
      if (n < 0n || n > 1024n) return a.error(st, parts[0].column, `${dir} size ${n} with a fill value known only later must be 0..1024, as GNU as requires`);
      // Read once, so `.` is where the directive starts in every byte (as in gas).
      const at = atDot(a, fe);
      a.noteUses(at, st, 'address');
      for (let i = 0n; i < n; i++) a.emitItem({ kind: 'data', off: a.frag().size, size: 1, expr: at, dot: a.dot(), at: st }, 1);
      return;
    }
  }
  // `.zero N, V` fills with V too: GNU as reads the three spellings alike (read.c, s_space).
  const v = num(1, 'fill value', 0n);
  if (v === undefined) return;
  // A fill value that is not a byte (-128..255): GNU as (read.c, s_space) writes it byte by
  // byte, for a size of 0..1024 only.
  if (v < -0x80n || v > 0xffn) {
    if (n < 0n || n > 1024n) return a.error(st, parts[0].column, `${dir} size ${n} with a fill value that is not a byte (${v}) must be 0..1024, as GNU as requires`);
    if (n > 0n && truncates(v, 1)) a.error(st, parts[1].column, `fill value 0x${BigInt.asUintN(64, v).toString(16)} truncated to 0x${BigInt.asUintN(8, v).toString(16)}, as GNU as does`, 'warning');
  }
  // GNU as (read.c, s_space) warns of a negative constant size and emits nothing.
  if (n < 0n) return a.error(st, undefined, `${dir} size ${n} is negative: nothing is emitted (GNU as ignores it too)`, 'warning');
  if (n > FILL_MAX) return a.error(st, undefined, `${dir} size ${n} is over the limit of ${FILL_MAX.toLocaleString('en-US')} bytes`);
  if (tooBig(a, st, dir, n)) return;
  a.emitBytes(new Uint8Array(Number(n)).fill(Number(BigInt.asUintN(8, v))), st);
}

/** Handles one directive; returns the header of a `.macro` (its body is collected by the caller). */
export function handleDirective(a: Assembler, dir: string, args: string, st: Stmt, col: number): MacroDef | undefined | void {
  const size = DATA.get(dir);
  if (size) return data(a, size, args, st, col);
  if (dir === '.octa') return octa(a, args, st, col);
  if (dir === '.uleb128' || dir === '.sleb128') return leb128(a, dir, args, st, col);
  if (IGNORED.has(dir) || dir.startsWith('.cfi_')) return;
  switch (dir) {
    case '.text': case '.data': case '.bss':
      a.switchSection(dir);
      return;
    case '.section':
      return sectionArgs(a, args, st);
    case '.globl': case '.global': case '.weak': case '.local':
      for (const p of splitArgs(args, col)) {
        if (!/^[A-Za-z_.$][\w.$]*$/.test(p.text)) return a.error(st, p.column, `expected a symbol name, found '${p.text}'`);
        a.sym(p.text).binding = dir === '.weak' ? 'weak' : dir === '.local' ? 'local' : 'global';
      }
      return;
    case '.type': {
      // gas (obj_elf_type): the comma is optional, so `.type sym STT_FUNC` is the same statement.
      const m = /^([A-Za-z_.$][\w.$]*)\s*(?:,\s*|\s+)[@%"]?(\w+)"?$/.exec(args);
      if (!m) return a.error(st, col, ".type expects 'symbol, @function' or 'symbol, @object'");
      const t = m[2].toLowerCase();
      if (t === 'function' || t === 'stt_func') a.sym(m[1]).type = 'func';
      else if (t === 'object' || t === 'stt_object') a.sym(m[1]).type = 'object';
      return;
    }
    case '.size': {
      const m = /^([A-Za-z_.$][\w.$]*)\s*,\s*/.exec(args);
      if (!m) return a.error(st, col, ".size expects 'symbol, expression'");
      a.sym(m[1]).size = { expr: a.parseExpr(args.slice(m[0].length), st, col + m[0].length), dot: a.dot() };
      return;
    }
    case '.align': case '.balign': case '.p2align':
      return align(a, dir, args, st);
    case '.ascii': case '.asciz': case '.string':
      return strings(a, dir, args, st, col);
    case '.skip': case '.space': case '.zero': case '.fill':
      return fill(a, dir, args, st);
    case '.set': case '.equ': case '.equiv': case '.eqv':
      return setSymbol(a, dir, args, st, col);
  }
  return otherDirective(a, dir, args, st, col);
}

/**
 * The directives few files use, out of handleDirective: the first of them in a late file (the
 * `.pushsection` or `.macro` of entry_64.s after the crypto files) then deoptimizes this small
 * function, not the optimized code of the one every directive goes through.
 */
function otherDirective(a: Assembler, dir: string, args: string, st: Stmt, col: number): MacroDef | undefined | void {
  switch (dir) {
    case '.pushsection':
      a.sectionStack.push({ cur: a.cur, prev: a.prevSection });
      return sectionArgs(a, args, st);
    case '.popsection': {
      const top = a.sectionStack.pop();
      if (!top) return a.error(st, undefined, '.popsection without .pushsection');
      a.cur = top.cur;
      a.prevSection = top.prev;
      return;
    }
    case '.previous': {
      if (!a.prevSection) return;
      const p = a.prevSection;
      a.prevSection = a.cur;
      a.cur = p;
      return;
    }
    case '.nops': {
      const n = a.absolute(a.parseExpr(args.split(',')[0], st, col), st, '.nops size');
      if (n !== undefined) a.emitBytes(codePadding(Number(n)), st);
      return;
    }
    case '.org': {
      // `.org target[, fill]`: pad up to `target` (in this section), sized at layout like `.skip`.
      const parts = splitArgs(args, col);
      if (!parts[0]?.text) return a.error(st, col, '.org expects an address expression');
      const target = a.parseExpr(parts[0].text, st, parts[0].column);
      const v = parts[1]?.text ? a.absolute(a.parseExpr(parts[1].text, st, parts[1].column), st, '.org fill value') : 0n;
      if (v === undefined) return;
      a.noteUses(target, st, 'value');
      // An absolute target is an offset in this section (GNU as, read.c s_org): measured from
      // the section's start, a location like `.`.
      const early = a.maybeEarly(target);
      const to = early && early.terms.length === 0 ? binNode('+', target, symNode(sectionStart(a), parts[0].column)) : target;
      const expr: Expr = binNode('-', to, dotNode());
      return a.emitTail(spaceTail(expr, a.dot(), Number(BigInt.asUintN(8, v)), st, true));
    }
    case '.macro': {
      const h = parseMacroHeader(args);
      if (typeof h === 'string') {
        a.error(st, col, h);
        return undefined;
      }
      return { ...h, body: [], at: st };
    }
    case '.endm': return a.error(st, undefined, '.endm without .macro');
    case '.endr': return a.error(st, undefined, '.endr without .rept, .irp or .irpc');
    case '.exitm': return a.exitMacro(st);
    case '.purgem': {
      if (!a.macros.delete(args.trim())) a.error(st, col, `.purgem: no macro named '${args.trim()}'`);
      return;
    }
    case '.error': return a.error(st, undefined, args ? unquote(args) : '.error directive invoked');
    case '.warning': return a.error(st, undefined, args ? unquote(args) : '.warning directive invoked', 'warning');
    case '.end':
      a.stopped = true;
      return;
    case '.altmacro': case '.noaltmacro':
      a.altmacro = dir === '.altmacro';
      return;
    case '.intel_syntax':
      return a.error(st, undefined, 'Intel syntax is not supported: this assembler reads AT&T syntax only (drop .intel_syntax)');
    case '.code64': case '.code32':
      a.bits = dir === '.code32' ? 32 : 64;
      return;
    case '.code16':
      return a.error(st, undefined, `${dir} is not supported: only 64-bit and 32-bit code (.code64, .code32)`);
  }
  a.error(st, undefined, `unknown or unsupported directive '${dir}'`);
}

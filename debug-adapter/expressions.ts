// The expression language of the REPL, watches, hovers, breakpoint conditions, logpoints and
// exception-filter conditions: registers (`rax`, `eax`, `al`, `$rax`, flags `zf`), numbers,
// constants of the program (asm-offsets, #defines), symbols, TDX catalog names (leaves,
// sub-functions, statuses), arithmetic and comparisons, memory (`[rdi+8]`, `byte [x]`,
// `qword [rsi+TDX_MODULE_r10]`), struct fields (`args.r12`, `(tdx_module_args)rsi.r10`) and
// assignment (`rax = 0`). Values are unsigned 64-bit; comparisons give 1 or 0.
// Size (just over 450 lines): one recursive-descent parser and evaluator of that language;
// its productions (primary, memory operand, field access, cast, binary levels) call one another.

import type { FieldLayout, StructLayout } from '../emulator/loader/image';
import { findLeafByName, findStatus, findSubfunction, findTdvmcallStatus } from '../emulator/tdx/catalog';
import { FLAG_BITS, SUB_REGISTER_NAMES, XMM_REGISTERS, subRegisterBytes } from '../emulator/x86/registers';
import { ErrorCode, silentError } from './errors';
import { GPRS, type Target } from './target';

/** Where a value lives, so it can be assigned. */
export type LValue =
  | { kind: 'reg'; name: string }
  | { kind: 'flag'; name: string; bit: number }
  | { kind: 'mem'; address: bigint; size: number };

/** An evaluated expression. */
export type Value =
  | { kind: 'int'; value: bigint; size: number; lvalue?: LValue; label?: string }
  | { kind: 'struct'; layout: StructLayout | FieldLayout; address: bigint; structName: string };

/** RFLAGS bits by name (from the x86 register module). */
export { FLAG_BITS } from '../emulator/x86/registers';

const SUB_REGS = SUB_REGISTER_NAMES;
const OTHER_REGS = ['rip', 'rflags', 'eflags', 'cr0', 'cr2', 'cr3', 'cr4', 'efer', 'fs_base', 'gs_base', 'mxcsr', ...XMM_REGISTERS];

/** Every register name the language knows (for completions). */
export const REGISTER_NAMES: readonly string[] = [...GPRS, ...OTHER_REGS, ...SUB_REGS];

function regSize(name: string): number {
  if (XMM_REGISTERS.includes(name)) return 16;
  if ((GPRS as readonly string[]).includes(name) || OTHER_REGS.includes(name)) return name === 'rflags' || name === 'eflags' || name === 'mxcsr' ? 4 : 8;
  return subRegisterBytes(name);
}

export function isRegister(name: string): boolean {
  const n = name.toLowerCase();
  return (GPRS as readonly string[]).includes(n) || OTHER_REGS.includes(n) || SUB_REGS.has(n);
}

// ---- lexer and parser -----------------------------------------------------------------------

type Tok = { t: 'num'; v: bigint; pos: number } | { t: 'id'; v: string; pos: number } | { t: 'op'; v: string; pos: number } | { t: 'end'; pos: number };

const OPS = ['||', '&&', '==', '!=', '<=', '>=', '<<', '>>', '+', '-', '*', '/', '%', '&', '|', '^', '~', '!', '<', '>', '(', ')', '[', ']', '.', '=', ':'];

function lex(text: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { i++; continue; }
    const num = /^(0x[0-9a-f]+|0b[01]+|\d+)/i.exec(text.slice(i));
    if (num) {
      if (/[\w]/.test(text[i + num[0].length] ?? '')) throw bad(`"${text.slice(i).split(/\s/)[0]}" is not a number`);
      out.push({ t: 'num', v: BigInt(num[0]), pos: i }); i += num[0].length; continue;
    }
    const id = /^[$%]?[A-Za-z_][\w]*/.exec(text.slice(i));
    if (id) { out.push({ t: 'id', v: id[0], pos: i }); i += id[0].length; continue; }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (!op) throw bad(`unexpected "${c}" at column ${i + 1}`);
    out.push({ t: 'op', v: op, pos: i }); i += op.length;
  }
  out.push({ t: 'end', pos: text.length });
  return out;
}

type Node =
  | { k: 'num'; v: bigint }
  | { k: 'name'; parts: string[] }
  | { k: 'mem'; size: number; addr: Node }
  | { k: 'cast'; struct: string; operand: Node; fields: string[] }
  | { k: 'un'; op: string; a: Node }
  | { k: 'bin'; op: string; a: Node; b: Node }
  | { k: 'assign'; target: Node; value: Node };

const SIZES: Record<string, number> = { byte: 1, word: 2, dword: 4, qword: 8 };
const PREC: [string[], number][] = [[['||'], 1], [['&&'], 2], [['|'], 3], [['^'], 4], [['&'], 5], [['==', '!='], 6], [['<', '<=', '>', '>='], 7], [['<<', '>>'], 8], [['+', '-'], 9], [['*', '/', '%'], 10]];

function bad(message: string) {
  return silentError(ErrorCode.BadExpression, message);
}

/** Deepest nesting of parentheses, brackets, unary operators and operator chains accepted. */
export const MAX_EXPRESSION_DEPTH = 200;

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

class Parser {
  private p = 0;
  private depth = 0;

  /** Runs `f` one level deeper; the input decides the depth, so it is bounded here. */
  private deeper<T>(f: () => T): T {
    if (++this.depth > MAX_EXPRESSION_DEPTH) throw bad(`the expression nests deeper than ${MAX_EXPRESSION_DEPTH} levels`);
    try { return f(); } finally { this.depth--; }
  }
  constructor(private readonly toks: Tok[], private readonly isStruct: (name: string) => boolean) {}

  parseAll(): Node {
    const n = this.assignment();
    const t = this.toks[this.p];
    if (t.t !== 'end') throw bad(`unexpected "${t.t === 'num' ? t.v : (t as { v: string }).v}" at column ${t.pos + 1}`);
    return n;
  }

  private peekOp(v: string): boolean {
    const t = this.toks[this.p];
    return t.t === 'op' && t.v === v;
  }

  private expect(v: string): void {
    if (!this.peekOp(v)) throw bad(`expected "${v}" at column ${this.toks[this.p].pos + 1}`);
    this.p++;
  }

  private assignment(): Node {
    return this.deeper(() => {
      const left = this.binary(1);
      if (this.peekOp('=')) {
        this.p++;
        return { k: 'assign', target: left, value: this.assignment() };
      }
      return left;
    });
  }

  private binary(min: number): Node {
    let left = this.unary();
    // A chain `a + b + c …` builds a left-deep tree, evaluated recursively: its length counts.
    let chain = 0;
    for (;;) {
      const t = this.toks[this.p];
      if (t.t !== 'op') return left;
      const level = PREC.find(([ops]) => ops.includes(t.v));
      if (!level || level[1] < min) return left;
      if (this.depth + ++chain > MAX_EXPRESSION_DEPTH) throw bad(`the expression has more than ${MAX_EXPRESSION_DEPTH} operators in a row (nesting limit)`);
      this.p++;
      left = { k: 'bin', op: t.v, a: left, b: this.deeper(() => this.binary(level[1] + 1)) };
    }
  }

  private unary(): Node {
    const t = this.toks[this.p];
    if (t.t === 'op' && (t.v === '-' || t.v === '~' || t.v === '!' || t.v === '+')) { this.p++; return { k: 'un', op: t.v, a: this.deeper(() => this.unary()) }; }
    return this.primary();
  }

  private primary(): Node {
    const t = this.toks[this.p];
    if (t.t === 'num') { this.p++; return { k: 'num', v: t.v }; }
    if (t.t === 'id' && own(SIZES, t.v.toLowerCase())) {
      // `qword [x]`, `byte ptr [x]`: a sized memory operand, Intel style.
      const size = SIZES[t.v.toLowerCase()], next = this.toks[this.p + 1];
      if (next?.t === 'op' && next.v === '[') { this.p++; return this.memory(size); }
      if (next?.t === 'id' && next.v.toLowerCase() === 'ptr') { this.p += 2; return this.memory(size); }
    }
    if (t.t === 'id') { this.p++; return { k: 'name', parts: [t.v, ...this.dots()] }; }
    if (t.t === 'op' && t.v === '[') return this.memory(8);
    if (t.t === 'op' && t.v === '(') {
      // `(tdx_module_args)rsi.r10`, `(struct tdx_module_args *)rsi`: a struct overlay at an address.
      const a = this.toks[this.p + 1], b = this.toks[this.p + 2];
      const name = a?.t === 'id' && a.v === 'struct' && b?.t === 'id' ? b.v : a?.t === 'id' ? a.v : undefined;
      if (name !== undefined && this.isStruct(name)) {
        this.p += a.t === 'id' && a.v === 'struct' ? 3 : 2;
        if (this.peekOp('*')) this.p++;
        this.expect(')');
        const operand = this.deeper(() => this.unaryNoDots());
        const fields = operand.k === 'name' ? operand.parts.splice(1) : this.dots();
        return { k: 'cast', struct: name, operand, fields: [...fields, ...this.dots()] };
      }
      this.p++;
      const inner = this.assignment();
      this.expect(')');
      return inner;
    }
    if (t.t === 'end') throw bad('the expression is incomplete');
    throw bad(`unexpected "${(t as { v: string }).v}" at column ${t.pos + 1}`);
  }

  private unaryNoDots(): Node {
    const t = this.toks[this.p];
    if (t.t === 'id') { this.p++; return { k: 'name', parts: [t.v, ...this.dots()] }; }
    return this.primary();
  }

  private dots(): string[] {
    const parts: string[] = [];
    while (this.peekOp('.') && this.toks[this.p + 1]?.t === 'id') {
      parts.push((this.toks[this.p + 1] as { v: string }).v);
      this.p += 2;
    }
    return parts;
  }

  private memory(size: number): Node {
    this.expect('[');
    const addr = this.assignment();
    this.expect(']');
    return { k: 'mem', size, addr };
  }
}

// ---- evaluation -----------------------------------------------------------------------------

/** Extra names an evaluation context defines (`leaf`, `status`, `vector` for filters and logpoints). */
export type Pseudo = Record<string, { value: bigint; label?: string }>;

export class Evaluator {
  constructor(private readonly target: Target, private readonly pseudo: Pseudo = {}) {}

  private isStruct = (name: string): boolean => this.structLayout(name) !== undefined;

  structLayout(name: string): StructLayout | undefined {
    const s = this.target.session.image.structs;
    return s.get(name) ?? s.get(name.replace(/^struct\s+/, ''));
  }

  parse(text: string): Node {
    if (typeof text !== 'string' || !text.trim()) throw bad('empty expression');
    return new Parser(lex(text), this.isStruct).parseAll();
  }

  evaluate(text: string): Value {
    return this.eval(this.parse(text));
  }

  /** Evaluates to a number (struct values are their address). */
  evaluateInt(text: string): bigint {
    const v = this.evaluate(text);
    return v.kind === 'int' ? v.value : v.address;
  }

  /** `target = value`. Returns the new value of the target. */
  assign(target: string, value: string): Value {
    const n = this.parse(target);
    return this.doAssign(n, this.parse(value));
  }

  private doAssign(targetNode: Node, valueNode: Node): Value {
    const t = this.eval(targetNode);
    if (t.kind !== 'int' || !t.lvalue) throw bad('the left side is not a register, flag, memory location or field');
    const v = this.intOf(this.eval(valueNode));
    this.store(t.lvalue, v);
    return this.eval(targetNode);
  }

  store(lv: LValue, v: bigint): void {
    const m = this.target.machine;
    switch (lv.kind) {
      case 'reg':
        if (lv.name === 'rip' && !canonical(v)) throw bad(`0x${BigInt.asUintN(64, v).toString(16)} is not a canonical address: RIP cannot hold it`);
        m.setReg(lv.name, v);
        return;
      case 'flag': {
        const f = m.getReg('rflags');
        m.setReg('rflags', v & 1n ? f | (1n << BigInt(lv.bit)) : f & ~(1n << BigInt(lv.bit)));
        return;
      }
      case 'mem': {
        const b = new Uint8Array(lv.size);
        for (let i = 0; i < lv.size; i++) b[i] = Number((v >> BigInt(8 * i)) & 0xffn);
        this.checkMapped(lv.address, lv.size);
        m.writeBytes(lv.address, b);
      }
    }
  }

  private intOf(v: Value): bigint {
    return v.kind === 'int' ? v.value : v.address;
  }

  private eval(n: Node): Value {
    switch (n.k) {
      case 'num': return { kind: 'int', value: BigInt.asUintN(64, n.v), size: 8 };
      case 'name': return this.name(n.parts);
      case 'mem': return this.load(this.intOf(this.eval(n.addr)), n.size);
      case 'cast': {
        const layout = this.structLayout(n.struct)!;
        return this.fields({ kind: 'struct', layout, address: this.intOf(this.eval(n.operand)), structName: layout.name }, n.fields);
      }
      case 'un': {
        const a = this.intOf(this.eval(n.a));
        const r = n.op === '-' ? -a : n.op === '~' ? ~a : n.op === '!' ? (a === 0n ? 1n : 0n) : a;
        return { kind: 'int', value: BigInt.asUintN(64, r), size: 8 };
      }
      case 'assign': return this.doAssign(n.target, n.value);
      case 'bin': {
        const a = this.intOf(this.eval(n.a));
        if (n.op === '&&' && a === 0n) return int(0n);
        if (n.op === '||' && a !== 0n) return int(1n);
        const b = this.intOf(this.eval(n.b));
        return int(binop(n.op, a, b));
      }
    }
  }

  private name(parts: string[]): Value {
    const [head, ...rest] = parts;
    const bare = head.replace(/^[$%]/, '');
    const lower = bare.toLowerCase();
    const m = this.target.machine;
    // Registers first: `rax` in an expression means the register, as in gdb's `$rax`.
    if (isRegister(lower) && (rest.length === 0 || head !== bare)) {
      if (rest.length) throw bad(`registers have no fields ("${parts.join('.')}")`);
      return { kind: 'int', value: m.getReg(lower), size: regSize(lower), lvalue: { kind: 'reg', name: lower } };
    }
    if (own(FLAG_BITS, lower) && rest.length === 0) {
      const bit = FLAG_BITS[lower];
      return { kind: 'int', value: (m.getReg('rflags') >> BigInt(bit)) & 1n, size: 1, lvalue: { kind: 'flag', name: lower, bit } };
    }
    const arg = this.target.session.structArgs.find((s) => s.name === head);
    if (arg) return this.fields({ kind: 'struct', layout: arg.layout, address: arg.address, structName: arg.layout.name }, rest);
    if (rest.length === 0 && own(this.pseudo, head)) return { kind: 'int', value: this.pseudo[head].value, size: 8, label: this.pseudo[head].label };
    const dotted = parts.join('.');
    const c = this.constant(dotted);
    if (c !== undefined) return c;
    if (isRegister(lower) && rest.length) throw bad(`registers have no fields ("${dotted}")`);
    throw bad(`"${dotted}" is not a register, field, constant or symbol`);
  }

  /** A named constant: program constants and symbols, then the TDX catalog. */
  private constant(name: string): Value | undefined {
    const img = this.target.session.image;
    const c = img.constants.get(name);
    if (c !== undefined) return int(BigInt.asUintN(64, c));
    const s = img.symbols.find((x) => x.name === name);
    if (s) return int(s.address);
    const leaf = findLeafByName(name);
    if (leaf) return { kind: 'int', value: leaf.rax, size: 8, label: leaf.name };
    const sf = /^[A-Z_]/.test(name) ? findSubfunction(name) : undefined;
    if (sf) return { kind: 'int', value: sf.value, size: 8, label: sf.ghciName };
    const st = findStatus(name);
    if (st && !/^\d|^0x/i.test(name)) return { kind: 'int', value: st.value, size: 8, label: st.name };
    const vs = /^TDVMCALL_STATUS/i.test(name) ? findTdvmcallStatus(name) : undefined;
    if (vs) return { kind: 'int', value: vs.value, size: 8, label: vs.name };
    return undefined;
  }

  private fields(base: Value & { kind: 'struct' }, path: string[]): Value {
    let cur: Value = base;
    for (const f of path) {
      if (cur.kind !== 'struct') throw bad(`"${f}": not a struct`);
      const list = cur.layout.fields ?? [];
      const field = findField(list, f);
      if (!field) throw bad(`${cur.structName} has no field "${f}" (fields: ${list.map((x) => x.name).filter(Boolean).join(', ')})`);
      // Nested offsets are absolute from the outermost struct.
      const outer = cur.address - BigInt('offset' in cur.layout ? cur.layout.offset : 0);
      const address = outer + BigInt(field.offset);
      if (field.fields && field.fields.length) cur = { kind: 'struct', layout: field, address, structName: field.type };
      else cur = this.fieldValue(field, address);
    }
    return cur;
  }

  /** The value of a scalar field (bit-fields extracted; arrays show their first 8 bytes). */
  fieldValue(field: FieldLayout, address: bigint): Value {
    const size = Math.min(field.size, 8);
    const v = this.load(address, size);
    if (field.bitWidth !== undefined && v.kind === 'int') {
      const value = (v.value >> BigInt(field.bitOffset ?? 0)) & ((1n << BigInt(field.bitWidth)) - 1n);
      return { kind: 'int', value, size };
    }
    return v;
  }

  load(address: bigint, size: number): Value {
    this.checkMapped(address, size);
    const b = this.target.machine.readBytes(address, size);
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    return { kind: 'int', value: v, size, lvalue: { kind: 'mem', address, size } };
  }

  private checkMapped(address: bigint, size: number): void {
    if (this.target.session.mappedLength(address, size) !== size) throw bad(`cannot access memory at 0x${BigInt.asUintN(64, address).toString(16)} (not mapped)`);
  }
}

/** Bits 63..47 all equal (48-bit linear addresses). */
export function canonical(v: bigint): boolean {
  const top = BigInt.asUintN(64, v) >> 47n;
  return top === 0n || top === 0x1ffffn;
}

function int(value: bigint): Value {
  return { kind: 'int', value: BigInt.asUintN(64, value), size: 8 };
}

function binop(op: string, a: bigint, b: bigint): bigint {
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': if (b === 0n) throw bad('division by zero'); return a / b;
    case '%': if (b === 0n) throw bad('division by zero'); return a % b;
    case '&': return a & b;
    case '|': return a | b;
    case '^': return a ^ b;
    case '<<': return b >= 64n ? 0n : a << b;
    case '>>': return b >= 64n ? 0n : a >> b;
    case '==': return a === b ? 1n : 0n;
    case '!=': return a !== b ? 1n : 0n;
    case '<': return a < b ? 1n : 0n;
    case '<=': return a <= b ? 1n : 0n;
    case '>': return a > b ? 1n : 0n;
    case '>=': return a >= b ? 1n : 0n;
    case '&&': return a !== 0n && b !== 0n ? 1n : 0n;
    case '||': return a !== 0n || b !== 0n ? 1n : 0n;
  }
  throw bad(`unknown operator ${op}`);
}

export function findField(fields: readonly FieldLayout[], name: string): FieldLayout | undefined {
  for (const f of fields) {
    if (f.name === name) return f;
    if (f.name === '' && f.fields) { const x = findField(f.fields, name); if (x) return x; }
  }
  return undefined;
}

/** Formats a value for display: hex with the catalog name when there is one. */
export function valueText(v: Value, hexWanted: boolean | undefined = true): string {
  if (v.kind === 'struct') return `${v.structName.startsWith('struct') ? v.structName : `struct ${v.structName}`} @ 0x${v.address.toString(16)}`;
  const num = hexWanted === false ? v.value.toString(10) : '0x' + v.value.toString(16);
  return v.label ? `${num} (${v.label})` : num;
}

/**
 * Logpoint text: `{expr}` and `{expr:x}` / `{expr:d}` are replaced by values (a catalog name
 * when the value has one and no format is given); `{{`/`}}` are literal braces.
 */
export function interpolate(ev: Evaluator, template: string): string {
  return template.replace(/\{\{|\}\}|\{([^{}]+)\}/g, (m, inner: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const spec = /^(.*?)(?::([xdb]))?$/.exec(inner!.trim())!;
    try {
      const v = ev.evaluate(spec[1]);
      if (v.kind === 'struct') return valueText(v);
      if (spec[2] === 'd') return v.value.toString(10);
      if (spec[2] === 'b') return '0b' + v.value.toString(2);
      if (spec[2] === 'x') return '0x' + v.value.toString(16);
      return v.label ?? '0x' + v.value.toString(16);
    } catch (e) {
      return `<${e instanceof Error ? e.message : String(e)}>`;
    }
  });
}

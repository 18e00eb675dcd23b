// Second half of the assembler: relaxation (jmp/jcc start short and grow until every target
// is in range — gas's rule, so the encodings match), section placement, the stub area for
// undefined branch targets, final encoding with every address known, and the Image with its
// line table and decoded `__ex_table`.
// Size (over 450 lines): the link is one sequence of named steps over the same sections and
// symbols (relaxation needs placement, encoding needs both); each step is its own function.

import { Diagnostic, SourceLocation } from '../diagnostics';
import { ExTableEntry, Image, ImageSection, ImageSymbol, LineEntry } from '../image';
import type { Assembler } from './assembler';
import { encodeSelected } from './encode';
import { EvalEnv, Expr, Loc, UnresolvedError, Value, evaluate, symbolsOf, truncates } from './expr';
import { Frag, Item, LIMITS, Section, Sym, SymDef, Tail, labelDef } from './model';
import type { SelOp, Selected } from './select';
import { codePadding } from './nops';
import { le } from './directives';
import { Stmt } from './macros';

/** One row of a listing: bytes at an address and the statement that produced them. */
export interface ListingRow {
  address: bigint;
  section: string;
  bytes: Uint8Array;
  file: string;
  line: number;
  text: string;
}

/** Options for placement. */
export interface LayoutOptions {
  /** Address of `.text` (other sections follow it). */
  base: bigint;
  /** Undefined symbols used as values are relocations (warnings), as in GNU as's objects. */
  objectMode?: boolean;
}

const STUB_SIZE = 16n;

function alignUp(v: bigint, a: bigint): bigint {
  return (v + a - 1n) & ~(a - 1n);
}

function displayName(name: string): string {
  const m = /^(\d+)\u0002/.exec(name);
  return m ? `local label '${m[1]}' (a '${m[1]}f' reference with no later '${m[1]}:')` : `'${name}'`;
}

// ---- fast link-time evaluation ----------------------------------------------------------
// Relaxation evaluates every `.skip` size and branch target once per pass, and the encoder
// every data item and operand: with BigInt Values (an object and arrays per node, a Map per
// fold) that was most of the link. The fast path computes the same absolute value in doubles,
// with the net coefficient of at most two sections in the registers below. Whenever it cannot
// be sure of the exact result (a value beyond 2^53, an operator whose double form is not exact,
// an unknown symbol, a needed error, more than two sections), it returns NaN and the caller
// runs the exact evaluator, which then gives the result or the error it always gave. Without
// wraparound inside ±2^53, gas's 64-bit arithmetic and the doubles agree.

/** Net section coefficients of the last fast result (K = 0: no section). */
let R1 = '';
let K1 = 0;
let R2 = '';
let K2 = 0;
/** Uses of stub (undefined) symbols directly in the evaluated expression, not through `.set`s. */
let stubHits = 0;
/** `.set` definitions being expanded (0 at the top expression). */
let equNest = 0;
const SAFE = Number.MAX_SAFE_INTEGER;

/** Adds `k` times section `sec` to the registers; false when a third section would be needed. */
function addTerm(sec: string, k: number): boolean {
  if (k === 0) return true;
  if (K1 !== 0 && R1 === sec) {
    K1 += k;
    if (K1 === 0) {
      R1 = R2;
      K1 = K2;
      K2 = 0;
    }
    return true;
  }
  if (K2 !== 0 && R2 === sec) {
    K2 += k;
    return true;
  }
  if (K1 === 0) {
    R1 = sec;
    K1 = k;
    return true;
  }
  if (K2 === 0) {
    R2 = sec;
    K2 = k;
    return true;
  }
  return false;
}

function safe(x: number): boolean {
  return x <= SAFE && x >= -SAFE;
}

/** `binop` of expr.ts on exact doubles; NaN where the double result might differ (or an error is due). */
function fastBinop(op: string, a: number, b: number): number {
  const i32 = (a | 0) === a && (b | 0) === b;
  let r: number;
  switch (op) {
    case '*': r = a * b; break;
    case '/': return b !== 0 && i32 ? Math.trunc(a / b) + 0 : NaN;
    case '%': return b !== 0 ? (a % b) + 0 : NaN;
    case '<<': return b >= 64 ? 0 : b >= 0 ? ((r = a * 2 ** b), safe(r) ? r : NaN) : NaN;
    case '>>': return b >= 64 ? 0 : b >= 0 && a >= 0 ? Math.floor(a / 2 ** b) : NaN;
    case '|': return i32 ? a | b : NaN;
    case '&': return i32 ? a & b : NaN;
    case '^': return i32 ? a ^ b : NaN;
    case '!': return i32 ? a | ~b : NaN;
    case '==': return a === b ? -1 : 0;
    case '!=': case '<>': return a !== b ? -1 : 0;
    case '<': return a < b ? -1 : 0;
    case '<=': return a <= b ? -1 : 0;
    case '>': return a > b ? -1 : 0;
    case '>=': return a >= b ? -1 : 0;
    case '&&': return a !== 0 && b !== 0 ? 1 : 0;
    case '||': return a !== 0 || b !== 0 ? 1 : 0;
    default: return NaN;
  }
  return safe(r) ? r + 0 : NaN;
}

/** A relaxation value with the fragment starts it was computed from (see `relaxValue`). */
interface RelaxMemo {
  frags: Frag[];
  starts: number[];
  secs: string[];
  c: number;
  r1: string;
  k1: number;
  r2: string;
  k2: number;
  located: boolean;
}

class Linker {
  readonly stubs = new Map<string, bigint>();
  private dotLoc: Loc = { sec: '', frag: 0, off: 0 };
  private visiting = new Set<string>();

  constructor(private readonly a: Assembler, _diags: Diagnostic[]) {}

  /** Resolution after layout: labels are locations, `.set` values are (re)evaluated. */
  readonly env: EvalEnv = {
    sym: (name) => {
      const s = this.a.syms.get(name);
      if (s?.def?.kind === 'label') return { kind: 'loc', loc: s.def.loc };
      if (s?.def?.kind === 'equ') {
        if (s.def.value) return { kind: 'value', v: s.def.value };
        if (this.visiting.has(name)) return undefined;
        this.visiting.add(name);
        const saved = this.dotLoc;
        try {
          this.dotLoc = s.def.dot;
          return { kind: 'value', v: evaluate(s.def.expr, this.env) };
        } finally {
          this.dotLoc = saved;
          this.visiting.delete(name);
        }
      }
      const p = this.a.predefined.get(name);
      if (p !== undefined) return { kind: 'abs', v: p };
      const stub = this.stubs.get(name);
      return stub !== undefined ? { kind: 'abs', v: stub } : undefined;
    },
    dot: () => this.dotLoc,
    fold: (v) => {
      let c = v.c;
      const net = new Map<string, bigint>();
      for (const t of v.terms) {
        c += t.coef * BigInt(this.a.sections.get(t.sec)!.frags[t.frag].start);
        net.set(t.sec, (net.get(t.sec) ?? 0n) + t.coef);
      }
      return { c: BigInt.asIntN(64, c), terms: [...net].filter(([, k]) => k !== 0n).map(([sec, coef]) => ({ sec, frag: 0, coef })) };
    },
  };

  /** Section addresses as doubles, once placed (0 before: relaxation works section-relative). */
  private readonly base = new Map<string, number>();
  private readonly fastVisiting = new Set<string>();

  placed(): void {
    for (const s of this.a.order) this.base.set(s.name, Number(s.address));
  }

  /** Absolute value of `e` at `dot` in a double, its sections in R1/K1, R2/K2; NaN: use `evaluate`. */
  fast(e: Expr, dot: Loc): number {
    K1 = 0;
    K2 = 0;
    stubHits = 0;
    equNest = 0;
    const c = this.fastEv(e, dot, 0);
    return c + 0; // no -0
  }

  private locNum(sec: string, frag: number, off: number): number {
    const s = this.a.sections.get(sec);
    if (!s || !addTerm(sec, 1)) return NaN;
    const f = s.frags[frag];
    if (this.recording && (this.nRead === 0 || f !== this.readFrags[this.nRead - 1])) {
      this.readFrags[this.nRead] = f;
      this.readStarts[this.nRead] = f.start;
      this.readSecs[this.nRead++] = sec;
    }
    const c = (this.base.get(sec) ?? 0) + f.start + off;
    return safe(c) ? c : NaN;
  }

  // Relaxation evaluates each `.skip` size and branch target once a pass, but a value depends
  // only on the starts of the fragments its labels sit in. A fast value needs its operators'
  // operands free of locations, so moving every fragment read in one section by the same
  // amount d moves the value by (net coefficient of that section)·d and changes nothing else:
  // values are kept with the starts they read and updated that way while that holds (the
  // ALTERNATIVE padding reads one fragment per section). Sections are all at 0 until placed.
  private recording = false;
  private readonly readFrags: Frag[] = [];
  private readonly readStarts: number[] = [];
  private readonly readSecs: string[] = [];
  /** Entries of the three arrays in use: a count, as `length = 0` frees their backing stores. */
  private nRead = 0;
  private readonly memo = new Map<Tail, RelaxMemo>();

  /** `fast` of a tail's expression during relaxation (undefined: use `evaluate`). */
  private relaxValue(t: Tail, e: Expr, dot: Loc): RelaxMemo | undefined {
    const m = this.memo.get(t);
    if (m && this.shifted(m)) return m;
    this.recording = true;
    this.nRead = 0;
    const c = this.fast(e, dot);
    this.recording = false;
    if (c !== c) return undefined;
    const v: RelaxMemo = { frags: this.readFrags.slice(0, this.nRead), starts: this.readStarts.slice(0, this.nRead), secs: this.readSecs.slice(0, this.nRead), c, r1: R1, k1: K1, r2: R2, k2: K2, located: K1 !== 0 || K2 !== 0 };
    this.memo.set(t, v);
    return v;
  }

  /** Brings a kept value up to date when each section's fragments moved together; false when they did not. */
  private shifted(m: RelaxMemo): boolean {
    const { frags, starts, secs } = m;
    let d1 = 0;
    let d2 = 0;
    for (let i = 0; i < frags.length; i++) {
      const d = frags[i].start - starts[i];
      for (let j = 0; j < i; j++) {
        if (secs[j] === secs[i]) {
          if (frags[j].start - starts[j] !== d) return false;
          break;
        }
      }
      if (m.k1 !== 0 && secs[i] === m.r1) d1 = d;
      else if (m.k2 !== 0 && secs[i] === m.r2) d2 = d;
    }
    const c = m.c + m.k1 * d1 + m.k2 * d2;
    if (!safe(c)) return false;
    for (let i = 0; i < frags.length; i++) starts[i] = frags[i].start;
    m.c = c;
    return true;
  }

  private fastEv(e: Expr, dot: Loc, depth: number): number {
    if (depth > 100) return NaN;
    switch (e.t) {
      case 'num': {
        const n = Number(e.v);
        return safe(n) ? n : NaN;
      }
      case 'dot':
        return this.locNum(dot.sec, dot.frag, dot.off);
      case 'sym':
        return this.fastSym(e.name);
      case 'un': {
        const a = this.fastEv(e.a, dot, depth + 1);
        if (a !== a || e.op === '+') return a;
        if (e.op === '-') {
          K1 = -K1;
          K2 = -K2;
          return 0 - a;
        }
        if (K1 !== 0 || K2 !== 0) return NaN;
        if (e.op === '~') return (a | 0) === a ? ~a : NaN;
        return a === 0 ? 1 : 0;
      }
      case 'bin': {
        const op = e.op;
        if ((op === '==' || op === '!=' || op === '<>') && e.a.t === 'sym' && e.b.t === 'sym' && e.a.name[0] === '%' && e.b.name[0] === '%') {
          if (this.stubs.has(e.a.name) || this.stubs.has(e.b.name)) return NaN;
          return (e.a.name === e.b.name) === (op === '==') ? -1 : 0;
        }
        const a = this.fastEv(e.a, dot, depth + 1);
        if (a !== a) return a;
        const r1 = R1, k1 = K1, r2 = R2, k2 = K2;
        K1 = 0;
        K2 = 0;
        const b = this.fastEv(e.b, dot, depth + 1);
        if (b !== b) return b;
        if (op === '+' || op === '-') {
          const sign = op === '+' ? 1 : -1;
          const br1 = R1, bk1 = K1, br2 = R2, bk2 = K2;
          R1 = r1;
          K1 = k1;
          R2 = r2;
          K2 = k2;
          if (!addTerm(br1, sign * bk1) || !addTerm(br2, sign * bk2)) return NaN;
          const c = sign === 1 ? a + b : a - b;
          return safe(c) ? c : NaN;
        }
        if (k1 !== 0 || k2 !== 0 || K1 !== 0 || K2 !== 0) return NaN;
        return fastBinop(op, a, b);
      }
    }
  }

  private fastSym(name: string): number {
    const s = this.a.syms.get(name);
    const d = s?.def;
    if (d?.kind === 'label') return this.locNum(d.loc.sec, d.loc.frag, d.loc.off);
    if (d?.kind === 'equ') {
      const v = d.value;
      if (v) {
        let c = Number(v.c);
        if (!safe(c)) return NaN;
        for (const t of v.terms) {
          const k = Number(t.coef);
          const at = this.locNum(t.sec, t.frag, 0);
          if (at !== at || !addTerm(t.sec, k - 1)) return NaN;
          c += k * at;
          if (!safe(c)) return NaN;
        }
        return c;
      }
      if (this.fastVisiting.has(name) || equNest > 200) return NaN;
      this.fastVisiting.add(name);
      const r1 = R1, k1 = K1, r2 = R2, k2 = K2;
      K1 = 0;
      K2 = 0;
      equNest++;
      const c = this.fastEv(d.expr, d.dot, 0);
      equNest--;
      this.fastVisiting.delete(name);
      if (c !== c) return c;
      const br1 = R1, bk1 = K1, br2 = R2, bk2 = K2;
      R1 = r1;
      K1 = k1;
      R2 = r2;
      K2 = k2;
      return addTerm(br1, bk1) && addTerm(br2, bk2) ? c : NaN;
    }
    const p = this.a.predefined.get(name);
    if (p !== undefined) {
      const n = Number(p);
      return safe(n) ? n : NaN;
    }
    const stub = this.stubs.get(name);
    if (stub === undefined) return NaN;
    if (equNest === 0) stubHits++;
    const n = Number(stub);
    return safe(n) ? n : NaN;
  }

  /** Sets what `.` means for a direct `evaluate` with `env`. */
  at(dot: Loc): void {
    this.dotLoc = dot;
  }

  locAddress(sec: string, frag: number): bigint {
    const s = this.a.sections.get(sec)!;
    return s.address + BigInt(s.frags[frag].start);
  }

  /** Absolute value of an expression at location `dot`. */
  resolve(e: Expr, dot: Loc): bigint {
    const c = this.fast(e, dot);
    if (c === c && this.fastRelocatable(dot.sec)) {
      if (stubHits !== 0) this.checkStubOperands(e, undefined);
      if (K1 !== 0 && K2 !== 0) this.checkSubtractions(e, dot.sec);
      this.resolvedAbsolute = K1 === 0 && K2 === 0 && stubHits === 0;
      return BigInt(c);
    }
    this.dotLoc = dot;
    const v = evaluate(e, this.env);
    // An undefined symbol (a stub here) is a relocation target in the object gas makes:
    // `ext - .` and `ext - label_here` are PC-relative relocations against it.
    const stubs = this.stubs.size ? symbolsOf(e).filter((x) => this.stubs.has(x.name)).length : 0;
    if (stubs) this.checkStubOperands(e, undefined);
    if (v.terms.length > 1) this.checkSubtractions(e, dot.sec);
    this.resolvedAbsolute = this.checkRelocatable(stubs === 1 ? { ...v, terms: [...v.terms, { sec: '\u0000undefined', frag: 0, coef: 1n }] } : v, dot.sec) && stubs === 0;
    return this.absolute(v);
  }
  /**
   * An undefined symbol is a relocation target: it takes a constant added or subtracted, no
   * other operator (GNU as: "invalid operands (*UND* ...)"). `op`: the operator above `e`.
   */
  private checkStubOperands(e: Expr, op: string | undefined, negated = false): void {
    if (e.t === 'sym') {
      if (!this.stubs.has(e.name)) return;
      if (op !== undefined) throw new Error(`invalid operands: '${e.name}' is not defined in this file, and '${op}' cannot apply to an undefined symbol (only + or - a constant can; GNU as refuses it too)`);
      if (negated) throw new Error(`can't resolve the expression: '${e.name}' is not defined in this file and is subtracted (a relocation adds its symbol; GNU as refuses it too)`);
    } else if (e.t === 'un') {
      if (e.op === '-') this.checkStubOperands(e.a, op, !negated);
      else this.checkStubOperands(e.a, e.op === '+' ? op : e.op, negated);
    } else if (e.t === 'bin') {
      const o = e.op === '+' || e.op === '-' ? op : e.op;
      this.checkStubOperands(e.a, o, negated);
      this.checkStubOperands(e.b, o, e.op === '-' ? !negated : negated);
    }
  }
  /**
   * GNU as subtracts a location of another section only when the location subtracted is here
   * (`sym - .`, a PC-relative relocation): `-(. - sym)` has the same value but is "invalid
   * operands" there, its inner subtraction taken first.
   */
  private checkSubtractions(e: Expr, here: string): void {
    if (e.t === 'un') return this.checkSubtractions(e.a, here);
    if (e.t !== 'bin') return;
    this.checkSubtractions(e.a, here);
    this.checkSubtractions(e.b, here);
    if (e.op !== '-') return;
    const r = this.sectionOf(e.b, here, 0);
    if (r === '' || r === here) return;
    const l = this.sectionOf(e.a, here, 0);
    if (r !== l) throw new Error(`invalid operands: a location in ${r === '*' ? 'several sections' : r} is subtracted${l ? ` from one in ${l === '*' ? 'several sections' : l}` : ''} (only one here, in ${here}, can be, or one of the same section; GNU as refuses it too)`);
  }
  /** The section of the locations in `e`: '' for none, '*' for more than one. */
  private sectionOf(e: Expr, here: string, depth: number): string {
    if (depth > 100) return '*';
    switch (e.t) {
      case 'dot':
        return here;
      case 'sym': {
        const d = this.a.syms.get(e.name)?.def;
        if (d?.kind === 'label') return d.loc.sec;
        if (d?.kind === 'equ') return d.value ? (d.value.terms.length ? d.value.terms[0].sec : '') : this.sectionOf(d.expr, here, depth + 1);
        return '';
      }
      case 'un':
        return this.sectionOf(e.a, here, depth + 1);
      case 'bin': {
        const l = this.sectionOf(e.a, here, depth + 1);
        const r = this.sectionOf(e.b, here, depth + 1);
        if (e.op === '-' && l === r) return '';
        return l === '' ? r : r === '' || r === l ? l : '*';
      }
      default:
        return '';
    }
  }
  /**
   * Whether the last value resolve() gave is one gas resolves itself (no location left in it,
   * as a difference of labels of one section): no relocation, so gas's own range check applies.
   */
  resolvedAbsolute = false;
  /** `checkRelocatable` for the fast result (false: let the exact path decide, or throw). */
  private fastRelocatable(here: string): boolean {
    let n = 0;
    let plus = 0;
    let minusHere = 0;
    if (K1 !== 0) {
      n++;
      if (K1 === 1) plus++;
      else if (K1 === -1 && R1 === here) minusHere++;
    }
    if (K2 !== 0) {
      n++;
      if (K2 === 1) plus++;
      else if (K2 === -1 && R2 === here) minusHere++;
    }
    if (stubHits === 1) {
      n++;
      plus++;
    }
    return n === 0 || (n === 1 && plus === 1) || (n === 2 && plus === 1 && minusHere === 1);
  }
  /** An object file can only say `sym + c` or `sym - . + c`; gas rejects anything else
   *  (e.g. the difference of labels in two sections), and so do we. */
  checkRelocatable(v: Value, here: string): boolean {
    const net = new Map<string, bigint>();
    for (const t of v.terms) net.set(t.sec, (net.get(t.sec) ?? 0n) + t.coef);
    const left = [...net].filter(([, c]) => c !== 0n);
    const plus = left.filter(([, c]) => c === 1n);
    const minusHere = left.filter(([s, c]) => c === -1n && s === here);
    if (left.length === 0) return true;
    if ((left.length === 1 && plus.length === 1) || (left.length === 2 && plus.length === 1 && minusHere.length === 1)) return false;
    throw new Error(`can't resolve the expression: it combines locations in sections ${left.map(([s]) => s).join(' and ')}`);
  }
  absolute(v: Value): bigint {
    let x = v.c;
    for (const t of v.terms) x += t.coef * this.locAddress(t.sec, t.frag);
    return BigInt.asIntN(64, x);
  }

  /** Can a branch to `target` from section `sec` be short? gas: same section, not weak, defined. */
  relaxable(target: Expr, dot: Loc, sec: Section): boolean {
    for (const { name } of symbolsOf(target)) {
      const s = this.a.syms.get(name);
      if (!s?.def || s.binding === 'weak') return false;
    }
    try {
      this.dotLoc = dot;
      const v = evaluate(target, this.env);
      return v.terms.length === 1 && v.terms[0].coef === 1n && v.terms[0].sec === sec.name;
    } catch {
      return false;
    }
  }

  relax(sec: Section): boolean {
    for (const f of sec.frags) {
      const t = f.tail;
      if (t?.kind === 'branch') {
        // What the target is made of does not depend on the layout: worked out once.
        t.relaxable ??= this.relaxable(t.target, t.dot, sec);
        if (!t.relaxable) t.near = true;
        t.size = t.prefix.length + (t.near ? (t.sel.entry.branch === 'jmp' ? 5 : 6) : 2);
      }
    }
    let anyChange = false;
    for (let pass = 0; pass < 10_000; pass++) {
      let addr = 0;
      let spaceChanged = false;
      for (const f of sec.frags) {
        f.start = addr;
        addr += f.size;
        if (f.tail) {
          f.tail.addr = addr;
          if (f.tail.kind === 'align') f.tail.size = padding(f.tail, addr);
          else if (f.tail.kind === 'space') {
            const n = this.spaceSize(f.tail);
            if (n !== f.tail.size) {
              f.tail.size = n;
              spaceChanged = true;
            }
          }
          addr += f.tail.size;
        }
      }
      sec.size = addr;
      let changed = spaceChanged;
      anyChange ||= spaceChanged;
      for (const f of sec.frags) {
        const t = f.tail;
        if (t?.kind !== 'branch' || t.near) continue;
        // Before placement every section is at 0: the fast value is section-relative.
        const fv = this.relaxValue(t, t.target, t.dot);
        let disp = fv ? fv.c - (t.addr + t.size) : NaN;
        if (disp !== disp) {
          this.dotLoc = t.dot;
          const v = evaluate(t.target, this.env);
          const target = v.c + BigInt(sec.frags[v.terms[0].frag].start);
          disp = Number(target - BigInt(t.addr + t.size));
        }
        if (disp < -128 || disp > 127) {
          t.near = true;
          t.size = t.prefix.length + (t.sel.entry.branch === 'jmp' ? 5 : 6);
          changed = true;
          anyChange = true;
        }
      }
      if (!changed) return anyChange;
    }
    return anyChange;
  }

  /** Size of a `.skip` tail with the current layout (0 while it cannot be computed yet). */
  spaceSize(t: Extract<Tail, { kind: 'space' }>): number {
    const v = this.relaxValue(t, t.expr, t.dot);
    if (v) return v.located || v.c < 0 || v.c > LIMITS.fillBytes ? 0 : v.c;
    try {
      this.dotLoc = t.dot;
      const v = evaluate(t.expr, this.env);
      const net = new Map<string, bigint>();
      for (const x of v.terms) net.set(x.sec, (net.get(x.sec) ?? 0n) + x.coef);
      if ([...net.values()].some((c) => c !== 0n)) return 0;
      const n = this.absolute(v);
      return n < 0n ? 0 : n > FILL_MAX ? 0 : Number(n);
    } catch {
      return 0;
    }
  }
  /** The error, if any, a `.skip` tail's size has after layout. */
  spaceError(t: Extract<Tail, { kind: 'space' }>): string | undefined {
    // The fast value tells when there is nothing to say; any message comes from the exact path.
    const c = this.fast(t.expr, t.dot);
    if (c === c && K1 === 0 && K2 === 0 && !(t.org && c < 0) && c <= LIMITS.fillBytes) return undefined;
    try {
      this.dotLoc = t.dot;
      const v = evaluate(t.expr, this.env);
      const net = new Map<string, bigint>();
      for (const x of v.terms) net.set(x.sec, (net.get(x.sec) ?? 0n) + x.coef);
      if ([...net.values()].some((c) => c !== 0n)) return '.skip size must be an absolute expression (it depends on where a section is placed)';
      const n = this.absolute(v);
      if (t.org && n < 0n) return `.org cannot move the location backwards (${-n} bytes before the current position)`;
      if (n > FILL_MAX) return `.skip size ${n} is too large (the limit is ${LIMITS.fillBytes.toLocaleString('en-US')} bytes)`;
      return undefined;
    } catch (e) {
      return e instanceof UnresolvedError ? `.skip size must be an absolute expression (${e.message})` : (e as Error).message;
    }
  }
}

function padding(t: Extract<Tail, { kind: 'align' }>, addr: number): number {
  const pad = (t.align - (addr % t.align)) % t.align;
  return t.max !== undefined && pad > t.max ? 0 : pad;
}

const FILL_MAX = BigInt(LIMITS.fillBytes);

/** Per data size under 8 bytes: the lowest signed value, and the first unsigned value too large. */
const DATA_RANGE: Record<number, [bigint, bigint]> = { 1: [-(1n << 7n), 1n << 8n], 2: [-(1n << 15n), 1n << 16n], 4: [-(1n << 31n), 1n << 32n] };

/** Lays out, links and encodes; returns the Image (or undefined when errors were found). */
export function link(a: Assembler, opts: LayoutOptions): { image?: Image; listing: () => ListingRow[] } {
  const diags = a.diags;
  const L = new Linker(a, diags);
  defineSectionSymbols(a);
  const undefinedSyms = checkUndefinedSymbols(a, opts);
  relaxSections(a, L);
  const placed = placeSections(a, opts, L, undefinedSyms);
  checkEquates(a, L);
  if (diags.some((d) => d.severity === 'error')) return { listing: () => [] };

  const { sections, lines, listing } = encodeSections(a, L, placed);
  if (diags.some((d) => d.severity === 'error')) return { listing };

  const { symbols, constants } = imageSymbols(a, L);
  // The line table is made when first read (a debug session does; an assembly for its bytes
  // alone does not), then kept: it can be replaced or edited in place like any array.
  let lineTable: LineEntry[] | undefined;
  const exTable = decodeExTable(sections);
  const labelled = new Set<string>();
  for (const y of a.syms.values()) if (y.def?.kind === 'label') labelled.add(y.def.loc.sec);
  const image: Image = {
    // An empty section stays when a label is in it: data may point there (an ALTERNATIVE with
    // an empty replacement still records where its replacement would be).
    sections: sections.filter((s) => s.bytes.length || labelled.has(s.name)),
    symbols,
    get lines(): LineEntry[] {
      return (lineTable ??= lines());
    },
    set lines(v: LineEntry[]) {
      lineTable = v;
    },
    exTable,
    constants,
    structs: new Map(),
    sources: new Map(),
    undefinedSymbols: undefinedSyms,
  };
  return { image, listing };
}

/**
 * As in gas, a name no label defines but a section has (`.long 1f - __ex_table`) is that
 * section's symbol: its start.
 */
function defineSectionSymbols(a: Assembler): void {
  for (const s of a.syms.values()) {
    if (!s.def && s.uses.length && a.sections.has(s.name) && !a.predefined.has(s.name)) {
      s.def = labelDef({ sec: a.sections.get(s.name)!.name, frag: 0, off: 0 });
      s.internal = true;
    }
  }
}

/**
 * Every `.set`/`=` value resolves, used or not: GNU as resolves them all when it writes the
 * object, so an unused `.set` of a difference across sections is an error there too.
 */
function checkEquates(a: Assembler, L: Linker): void {
  const seen = new Set<SymDef>();
  for (const s of a.syms.values()) {
    const d = s.def;
    if (d?.kind !== 'equ' || !s.definedAt || (d.value && d.value.terms.length === 0) || seen.has(d)) continue;
    seen.add(d);
    try {
      L.resolve(d.expr, d.dot);
    } catch (err) {
      if (!(err instanceof UnresolvedError)) a.diags.push({ severity: 'error', message: `${(err as Error).message} (the value of '${s.name}')`, location: a.location(s.definedAt) });
    }
  }
}

/** Undefined symbols: the names that get stubs, and errors for those used as values. */
function checkUndefinedSymbols(a: Assembler, opts: LayoutOptions): string[] {
  const diags = a.diags;
  const undefinedSyms: string[] = [];
  for (const s of a.syms.values()) {
    if (s.def || a.predefined.has(s.name) || !s.uses.length) continue;
    if (!s.name.includes('\u0002') && (opts.objectMode || !s.uses.some((u) => u.kind === 'value'))) {
      // As in an object file, an undefined symbol is a relocation: it gets a stub address.
      // A data reference (`pcpu_hot(%rip)`, `.quad sym`) reads those stub bytes, so say so.
      undefinedSyms.push(s.name);
      const data = s.uses.find((u) => u.kind !== 'branch');
      if (data) {
        diags.push({
          severity: 'warning',
          message: `'${s.name}' is not defined in this file: its data references go to a ${STUB_SIZE}-byte stub (define it, or load the object that does)`,
          location: a.location(data.at, data.column),
        });
      }
      continue;
    }
    const bad = s.uses.filter((u) => u.kind === 'value');
    const [first, ...others] = bad.length ? bad : s.uses;
    const where = (u: Sym['uses'][number]) => a.location(u.at, u.column);
    diags.push({
      severity: 'error',
      message: `undefined symbol ${displayName(s.name)}${s.name.includes('\u0002') ? '' : ' (a value such as an asm-offsets name or a constant must be defined; only call/jmp/jcc targets and address references such as `sym(%rip)` may be left undefined)'}`,
      location: where(first),
      related: alsoUsed(where(first), others.map(where)),
    });
  }
  return undefinedSyms;
}

/**
 * The other places a symbol is used, each once and not the first again: a statement of a macro
 * body expanded several times is the same place every time.
 */
function alsoUsed(first: SourceLocation, others: SourceLocation[]): { message: string; location: SourceLocation }[] {
  const key = (l: SourceLocation) => `${l.file}:${l.line}:${l.column}`;
  const seen = new Set([key(first)]);
  const out: { message: string; location: SourceLocation }[] = [];
  for (const l of others) {
    if (seen.has(key(l))) continue;
    seen.add(key(l));
    out.push({ message: 'also used here', location: l });
  }
  return out;
}

/**
 * Sections are relaxed in turn until nothing moves: a `.skip` in one section may be sized by
 * labels of another (ALTERNATIVE padding measures .altinstr_replacement).
 */
function relaxSections(a: Assembler, L: Linker): void {
  const diags = a.diags;
  for (let round = 0; round < 50; round++) {
    let moved = false;
    for (const sec of a.order) moved = L.relax(sec) || moved;
    if (!moved || !a.order.some((s) => s.frags.some((f) => f.tail?.kind === 'space'))) break;
  }
  for (const sec of a.order) {
    for (const f of sec.frags) {
      if (f.tail?.kind !== 'space') continue;
      const msg = L.spaceError(f.tail);
      if (msg) diags.push({ severity: 'error', message: msg, location: a.location(f.tail.at) });
    }
  }
}

/**
 * Placement: .text at the base, the other code sections; then the data sections from the
 * next page on (a write to data never lands on a page holding code), and the stubs (code)
 * on a page of their own after them. Returns the sections in address order.
 */
function placeSections(a: Assembler, opts: LayoutOptions, L: Linker, undefinedSyms: string[]): Section[] {
  const alloc = [...a.order].filter((s) => s.alloc);
  const code = alloc.filter((s) => s.exec).sort((x, y) => (x.name === '.text' ? -1 : y.name === '.text' ? 1 : 0));
  const data = alloc.filter((s) => !s.exec);
  const placed = [...code, ...data];
  let next = opts.base;
  const place = (s: (typeof placed)[number]) => {
    s.address = alignUp(next, BigInt(Math.max(s.align, s === placed[0] ? 1 : 16)));
    next = s.address + BigInt(s.size);
  };
  code.forEach(place);
  if (code.length && data.length) next = alignUp(next, 4096n);
  data.forEach(place);
  next = alignUp(next, data.length ? 4096n : 16n);
  L.placed();
  for (const name of undefinedSyms) {
    L.stubs.set(name, next);
    next += STUB_SIZE;
  }
  return placed;
}

/** Final encoding with every address known: the sections' bytes, line entries and listing. */
function encodeSections(a: Assembler, L: Linker, placed: Section[]): { sections: ImageSection[]; lines: () => LineEntry[]; listing: () => ListingRow[] } {
  const diags = a.diags;
  const sections: ImageSection[] = [];
  // What produced each run of bytes, in columns (no object per row): the line table and the
  // listing are made from them when asked for.
  // Sized up front (at most one row per item and tail): pushing a row at a time into four
  // growing arrays cost more than encoding the bytes.
  let most = 0;
  for (const sec of placed) for (const f of sec.frags) most += f.items.length + 1;
  let rows = 0;
  const rowOffset = new Float64Array(most);
  const rowSection = new Uint32Array(most);
  const secAddress: bigint[] = [];
  const secName: string[] = [];
  const rowBytes: Uint8Array[] = new Array(most);
  const rowStmt: Stmt[] = new Array(most);
  const address = (k: number) => secAddress[rowSection[k]] + BigInt(rowOffset[k]);
  const listing = (): ListingRow[] =>
    rowStmt.map((st, k) => ({ address: address(k), section: secName[rowSection[k]], bytes: rowBytes[k], file: st.stack[0].file, line: st.stack[0].line, text: st.text }));
  const lines = (): LineEntry[] => {
    const out = rowStmt.map((st, k): LineEntry => {
      const stack = st.stack;
      const outer = stack[stack.length - 1];
      return { address: address(k), length: rowBytes[k].length, file: outer.file, line: outer.line, expansion: stack.length > 1 ? stack.slice(0, -1) : undefined };
    });
    return out.sort((x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : 0));
  };
  const error = (st: Stmt | undefined, msg: string) => {
    diags.push({ severity: 'error', message: msg, location: st ? a.location(st) : undefined });
  };
  for (const sec of placed) {
    const out = new Uint8Array(sec.size);
    const index = secAddress.push(sec.address) - 1;
    secName.push(sec.name);
    // One resolver per section, told where each item is (no closure and Loc per instruction);
    // `resolve` keeps no reference to the location.
    const here: Loc = { sec: sec.name, frag: 0, off: 0 };
    const resolveHere = (e: Expr) => L.resolve(e, here);
    const record = (addr: number, bytes: Uint8Array, st: Stmt | undefined) => {
      if (!st || !bytes.length) return;
      rowOffset[rows] = addr;
      rowSection[rows] = index;
      rowBytes[rows] = bytes;
      rowStmt[rows++] = st;
    };
    for (let fi = 0; fi < sec.frags.length; fi++) {
      const f = sec.frags[fi];
      for (let ii = 0; ii < f.items.length; ii++) {
        const it = f.items[ii];
        const pos = f.start + it.off;
        let bytes: Uint8Array = it.kind === 'bytes' || it.kind === 'insn' ? it.bytes : new Uint8Array(0);
        try {
          if (it.kind === 'insn' && it.final) {
            here.frag = fi;
            here.off = it.off;
            if (it.patch >= 0 && patchDisp(pos, it, resolveHere(memOf(it.sel).m.disp!), sec.address)) {
              out.set(it.bytes, pos);
              writeDisp(out, pos + it.patch, PATCHED);
              // Recorded as a view: `out` is not written there again.
              if (it.at) record(pos, out.subarray(pos, pos + it.size), it.at);
              continue;
            }
            bytes = encodeSelected(it.sel, it.prefix, sec.address + BigInt(pos), resolveHere);
            if (bytes.length !== it.size) throw new Error(`internal: '${it.at.text}' changed size from ${it.size} to ${bytes.length} bytes`);
          } else if (it.kind === 'data') {
            const v = L.resolve(it.expr, it.dot);
            // A value gas resolves itself is checked as gas checks it (write.c, fixup_segment:
            // the unsigned rule of truncates()); a relocation, as the linker does (a signed or
            // unsigned value of the field's width).
            if (it.size < 8 && (L.resolvedAbsolute ? truncates(v, it.size) : v < DATA_RANGE[it.size][0] || v >= DATA_RANGE[it.size][1])) {
              throw new Error(`value 0x${BigInt.asUintN(64, v).toString(16)} does not fit in ${it.size} byte${it.size > 1 ? 's' : ''}`);
            }
            bytes = le(v, it.size);
          }
        } catch (err) {
          if (!(err instanceof UnresolvedError)) error(it.at, (err as Error).message);
          continue;
        }
        out.set(bytes, pos);
        if (it.kind !== 'bytes' || it.at) record(pos, bytes, it.at);
      }
      const t = f.tail;
      if (!t) continue;
      let bytes: Uint8Array;
      if (t.kind === 'space') {
        bytes = new Uint8Array(t.size).fill(t.fill);
        record(t.addr, bytes, t.at);
      } else if (t.kind === 'align') {
        bytes = t.nops ? codePadding(t.size) : new Uint8Array(t.size).fill(t.fill ?? 0);
      } else {
        try {
          const code = t.near ? t.sel.near! : t.sel.code;
          here.frag = fi;
          here.off = f.size;
          bytes = encodeSelected(t.sel, t.prefix, sec.address + BigInt(t.addr), resolveHere, code);
          if (bytes.length !== t.size) throw new Error(`internal: branch size ${bytes.length} != ${t.size}`);
        } catch (err) {
          if (!(err instanceof UnresolvedError)) error(t.at, (err as Error).message);
          continue;
        }
        record(t.addr, bytes, t.at);
      }
      out.set(bytes, t.addr);
    }
    sections.push({ name: sec.name, address: sec.address, bytes: sec.nobits ? new Uint8Array(sec.size) : out, alloc: true, write: sec.write, exec: sec.exec });
  }
  rowBytes.length = rows;
  rowStmt.length = rows;
  return { sections, lines, listing };
}

/** The memory operand of a selection (an item with a `patch` has one). */
function memOf(sel: Selected): Extract<SelOp, { k: 'mem' }> {
  for (const o of sel.ops) if (o.k === 'mem') return o;
  throw new Error('internal: no memory operand');
}

/** The displacement `patchDisp` found (a module slot: no object per instruction). */
let PATCHED = 0;

/**
 * The 4-byte displacement of `it`'s memory operand for the value `v` of its expression, as
 * encodeSelected gives it (relative to the instruction's end for `rip`), into PATCHED; false
 * when it does not fit (encodeSelected then reports it as usual).
 */
function patchDisp(pos: number, it: Extract<Item, { kind: 'insn' }>, v: bigint, base: bigint): boolean {
  const m = memOf(it.sel).m;
  let d: bigint;
  if (m.base?.kind === 'rip') d = BigInt.asIntN(64, BigInt.asUintN(64, v) - (base + BigInt(pos + it.size)));
  else {
    d = v;
    // gas sign-extends a 32-bit displacement; an absolute address below 4 GiB is one.
    if (d >= 1n << 31n && d < 1n << 32n && !m.base && !m.index) d = BigInt.asIntN(32, d);
  }
  if (d < -(1n << 31n) || d > (1n << 31n) - 1n) return false;
  PATCHED = Number(d);
  return true;
}

function writeDisp(out: Uint8Array, at: number, d: number): void {
  out[at] = d & 0xff;
  out[at + 1] = (d >> 8) & 0xff;
  out[at + 2] = (d >> 16) & 0xff;
  out[at + 3] = (d >>> 24) & 0xff;
}

/** The Image's symbols (stubs included, by address) and constants (`.set`/`.equ` values). */
function imageSymbols(a: Assembler, L: Linker): { symbols: ImageSymbol[]; constants: Map<string, bigint> } {
  const symbols: ImageSymbol[] = [];
  const constants = new Map<string, bigint>(a.predefined);
  for (const s of a.syms.values()) {
    if (!s.def || s.internal) continue;
    if (s.def.kind === 'equ') {
      try {
        // `.` in a definition is where it stood (it used to be whatever the encoder last resolved).
        if (!s.def.value) L.at(s.def.dot);
        const v = L.absolute(s.def.value ?? evaluate(s.def.expr, L.env));
        constants.set(s.name, v);
      } catch {
        /* a .set naming an undefined stub target has no constant value */
      }
      continue;
    }
    if (s.name.startsWith('.L')) continue;
    const address = BigInt.asUintN(64, BigInt(s.def.loc.off) + L.locAddress(s.def.loc.sec, s.def.loc.frag));
    let size: number | undefined;
    if (s.size) {
      try {
        size = Number(L.resolve(s.size.expr, s.size.dot));
      } catch {
        size = undefined;
      }
    }
    symbols.push({ name: s.name, address, section: s.def.loc.sec, size, type: s.type ?? 'notype', binding: s.binding });
  }
  for (const [name, address] of L.stubs) symbols.push({ name, address, type: 'func', binding: 'global' });
  // One collator for the sort (`localeCompare` is defined as a new Collator per call), made only
  // when two symbols share an address: making the first one costs a process ~10-20 ms of ICU.
  let byName: ((a: string, b: string) => number) | undefined;
  symbols.sort((x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : (byName ??= new Intl.Collator().compare)(x.name, y.name)));
  return { symbols, constants };
}

/** `__ex_table` entries (insn, fixup, type), as the kernel lays them out: 12 bytes each. */
function decodeExTable(sections: ImageSection[]): ExTableEntry[] {
  const exTable: ExTableEntry[] = [];
  const ex = sections.find((s) => s.name === '__ex_table');
  if (ex) {
    const dv = new DataView(ex.bytes.buffer, ex.bytes.byteOffset, ex.bytes.byteLength);
    for (let o = 0; o + 12 <= ex.bytes.length; o += 12) {
      const at = ex.address + BigInt(o);
      exTable.push({
        insn: BigInt.asUintN(64, at + BigInt(dv.getInt32(o, true))),
        fixup: BigInt.asUintN(64, at + 4n + BigInt(dv.getInt32(o + 4, true))),
        type: dv.getInt32(o + 8, true),
      });
    }
  }
  return exTable;
}

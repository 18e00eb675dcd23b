// The assembler's first pass: reads preprocessed lines as gas does — statements, labels,
// `.if` nesting, `.macro`/`.rept` bodies and their expansion stack — and builds sections of
// fragments (model.ts). Directives live in directives.ts; layout, relaxation and the Image
// in layout.ts. Errors are collected with file:line:column and the run goes on, so one
// pass reports as many problems as it can.
// Size (over 450 lines): the Assembler is the first pass's state (sections, symbols, the
// conditional and macro stacks) shared by every statement kind; directives, layout and
// expressions already live in their own modules, and what is left here is the statement loop
// and the macro machinery that reads and writes that state.

import { Diagnostic, SourceLocation } from '../diagnostics';
import { SourcePosition } from '../image';
import { encodeSelected } from './encode';
import { EvalEnv, Expr, ExprError, Loc, UnresolvedError, Value, binNode, constantBinop, folding, numNode, parseWholeExpr, symNode, unNode, symbolsOf, tryEvaluate } from './expr';
import { Statement, codeAt, intern, isBlank, objectList, isSymCharCode, isSymStartCode, nameEnd, plainText, skipBlanks, splitArgs, splitStatements, splitStatementsInto, trimmedInto } from './lexer';
import { BODY_OPENERS, Binding, BodyLine, MacroDef, Origin, Stmt, bindMacroArgs, compileBodyLine, expandBodyLine, slotsOf } from './macros';
import { Frag, Item, LIMITS, NO_USES, branchTail, Section, Sym, SymDef, SymUse, Tail, defaultFlags, labelDef, newFrag, newSection, newSym } from './model';
import { MemOperand, Operand, parseOperand } from './operands';
import { PREFIXES } from './isa';
import { Early, SelectError, SelOp, Selected, isMnemonic, select } from './select';
import { select32 } from './code32';
import { assignSymbol, handleDirective, CONDITIONAL_DIRECTIVES, handleConditional } from './directives';

/** One preprocessed line (the preprocessor's output shape, plus optional cpp expansion frames). */
export interface AsmLine {
  text: string;
  file: string;
  line: number;
  /** Lines inside multi-statement cpp macros that produced this line, innermost first. */
  expansion?: SourcePosition[];
}

/** A directive's name as the statement loop sees it. */
interface DirectiveName {
  /** Lowercase and interned: lookups and switches on it (here and in handleDirective) find it at once. */
  name: string;
  /** A conditional (`.if`, `.else`, `.endif`…), handled even while skipping. */
  cond: boolean;
  /** What closes the body this directive opens (`.macro`, `.rept`, `.irp`…). */
  opens: 'endm' | 'endr' | undefined;
}

/** A directive's name as written to what it is: one lookup per directive statement. */
function directive(written: string): DirectiveName {
  let d = DIRECTIVES.get(written);
  if (d === undefined) d = newDirective(written);
  return d;
}
const DIRECTIVES = new Map<string, DirectiveName>();

/** A directive name met for the first time (kept out of directive(): it is rarely reached). */
function newDirective(written: string): DirectiveName {
  const name = intern(written.toLowerCase());
  const d: DirectiveName = { name, cond: CONDITIONAL_DIRECTIVES.has(name), opens: Object.hasOwn(BODY_OPENERS, name) ? BODY_OPENERS[name] : undefined };
  if (DIRECTIVES.size < 4096) DIRECTIVES.set(written, d);
  return d;
}


/** Argument texts a macro keeps the binding of (see Binding). */
const MEMO_LIMIT = 256;


interface Frame {
  next(): Stmt | undefined;
  /** Macro whose expansion this is (for `.exitm`), and the nesting depth. */
  readonly macro: string | undefined;
  readonly depth: number;
  /** `.if` nesting when the expansion began: `.exitm` drops conditionals opened inside. */
  readonly condDepth: number;
}

/** The input lines, split into statements as they are reached. */
class LineFrame implements Frame {
  readonly macro = undefined;
  readonly depth = 0;
  readonly condDepth = 0;
  private i = 0;
  /** The statements of the current line: texts[k, n) are still to come. */
  private k = 0;
  private n = 0;
  private readonly texts: string[] = [];
  private readonly cols: number[] = [];
  private pos!: SourcePosition;
  private outer: Origin | undefined;
  constructor(private readonly lines: AsmLine[]) {}

  next(): Stmt | undefined {
    for (;;) {
      if (this.k < this.n) {
        const k = this.k++;
        return new Stmt(this.texts[k], this.cols[k], this.pos, this.outer);
      }
      if (this.i >= this.lines.length) return undefined;
      const l = this.lines[this.i++];
      this.n = splitStatementsInto(l.text, this.texts, this.cols);
      this.k = 0;
      if (!this.n) continue; // a blank or comment line: nothing to keep
      // The line itself is the position (Stmt.stack copies what it shows of it).
      this.pos = l;
      this.outer = undefined;
      if (l.expansion?.length) {
        // Lines of a multi-statement cpp macro: its lines inside, the file line outside.
        let o = new Origin(l.file, l.line, undefined);
        for (let q = l.expansion.length - 1; q > 0; q--) o = new Origin(l.expansion[q].file, l.expansion[q].line, o);
        this.pos = l.expansion[0];
        this.outer = o;
      }
    }
  }
}

/**
 * One expansion of a body: a macro's (once), a `.rept`'s or `.irp`'s (`rounds` copies). Each
 * body statement is substituted and split when the expansion reaches it, not all at the start:
 * a statement lives only as long as it is needed. Substitution depends only on the arguments and
 * the counter, both fixed when the expansion begins (an `.irp`'s value changes per round).
 * Frames are reused once done (Assembler.spare): one expansion after another makes none.
 */
class BodyFrame implements Frame {
  macro: string | undefined;
  depth = 0;
  condDepth = 0;
  private body: Stmt[] = [];
  private lines: BodyLine[] = [];
  /** The arguments by slot (see slotsOf). */
  private values: string[] = [];
  /** No argument holds a quote, `#` or `;`: a `plain` body line expands to one statement or none. */
  private plain = false;
  private counter = 0;
  private rounds = 0;
  /** Where the expansion was asked for: outside every statement it makes. */
  private origin!: Origin;
  /** `.irp`/`.irpc`: the parameter's value for each round (its slot is 0). */
  private perRound: string[] | undefined;
  /** Statements of body lines made by an earlier expansion with the same arguments (filled here). */
  private memo: Binding['lines'] | undefined;
  private j = 0;
  private round = 0;
  /** The statements of the current body line: fixed[k, n) or texts[k, n). */
  private k = 0;
  private n = 0;
  private fixed: Statement[] | undefined;
  private readonly texts: string[] = [];
  private readonly cols: number[] = [];
  private b!: Stmt;

  init(macro: string | undefined, depth: number, condDepth: number, body: Stmt[], lines: BodyLine[], values: string[], plain: boolean, counter: number, rounds: number, origin: Origin, perRound: string[] | undefined, memo: Binding['lines'] | undefined): this {
    this.macro = macro;
    this.depth = depth;
    this.condDepth = condDepth;
    this.body = body;
    this.lines = lines;
    this.values = values;
    this.plain = plain;
    this.counter = counter;
    // An empty body (`.rept 4` then `.endr`) has nothing to repeat: no rounds.
    this.rounds = body.length ? rounds : 0;
    this.origin = origin;
    this.perRound = perRound;
    this.memo = memo;
    this.j = 0;
    this.round = 0;
    this.k = 0;
    this.n = 0;
    this.fixed = undefined;
    if (perRound && rounds > 0) this.setRound(0);
    return this;
  }

  private setRound(r: number): void {
    const v = this.perRound![r];
    this.values[0] = v;
    this.plain = plainText(v);
  }

  next(): Stmt | undefined {
    for (;;) {
      if (this.k < this.n) {
        const k = this.k++;
        const f = this.fixed;
        const b = this.b;
        return f ? new Stmt(f[k].text, b.column + f[k].column - 1, b.pos, this.origin) : new Stmt(this.texts[k], b.column + this.cols[k] - 1, b.pos, this.origin);
      }
      if (this.j >= this.body.length) {
        this.j = 0;
        if (++this.round < this.rounds && this.perRound) this.setRound(this.round);
      }
      if (this.round >= this.rounds) return undefined;
      const j = this.j++;
      this.b = this.body[j];
      const c = this.lines[j];
      this.k = 0;
      if ('fixed' in c) {
        this.fixed = c.fixed;
        this.n = c.fixed.length;
        continue;
      }
      const memo = this.memo;
      let parts = memo?.[j];
      if (!parts && memo && !c.counter) parts = memo[j] = splitStatements(expandBodyLine(c, this.values, this.counter));
      if (parts) {
        this.fixed = parts;
        this.n = parts.length;
      } else {
        this.fixed = undefined;
        const text = expandBodyLine(c, this.values, this.counter);
        this.n = c.plain && this.plain ? trimmedInto(text, this.texts, this.cols) : splitStatementsInto(text, this.texts, this.cols);
      }
    }
  }
}

interface CondState {
  active: boolean;
  /** Some branch of this .if chain was already taken. */
  done: boolean;
  parentActive: boolean;
  sawElse: boolean;
  at: Stmt;
}

/** What a `.rept`, `.irp` or `.irpc` repeats: `rounds` copies, `param` taking each of `values`. */
interface Repeat {
  rounds: number;
  param?: string;
  values?: string[];
}

type Collect =
  | { kind: 'macro'; def: MacroDef; depth: number }
  | { kind: 'rept'; depth: number; at: Stmt; body: Stmt[]; repeat: Repeat };


/** The expansion `st` asks for sits inside the one `st` belongs to, at `st`'s line. */
function originOf(st: Stmt): Origin {
  return new Origin(st.pos.file, st.pos.line, st.outer);
}

/**
 * A hash of the name `s.slice(0, end)` that a name and its lowercase share (its length, first
 * and last characters; `| 32` lowercases an ASCII letter), for Assembler.macroHint.
 */
function hintOf(s: string, end: number): number {
  return (end * 61 + (s.charCodeAt(0) | 32) * 7 + (s.charCodeAt(end - 1) | 32)) & 1023;
}

/**
 * `text.slice(i).trim()` with one string made: a statement's text has no trailing blank (the
 * split trims it), so only the leading ones are skipped.
 */
function argsFrom(text: string, i: number): string {
  const s = text.slice(skipBlanks(text, i));
  return s && isBlank(s.charCodeAt(s.length - 1)) ? s.trimEnd() : s;
}

/** End of the word `[A-Za-z]\w*` at the start of `t` (0 when there is none). */
function wordEnd(t: string): number {
  const c = t.charCodeAt(0);
  if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return 0;
  let i = 1;
  for (; i < t.length; i++) {
    const d = t.charCodeAt(i);
    if (!((d >= 65 && d <= 90) || (d >= 97 && d <= 122) || (d >= 48 && d <= 57) || d === 95)) break;
  }
  return i;
}


/**
 * False for a word no prefix (PREFIXES: lock rep… cs ds… data16 addr32 rex64) can be: by its
 * length and first letter, without the property lookup a fresh string costs.
 */
function maybePrefix(w: string): boolean {
  if (w.length < 2 || w.length > 6) return false;
  const c = w.charCodeAt(0);
  return c === 108 || c === 114 || c === 99 || c === 100 || c === 101 || c === 115 || c === 102 || c === 103 || c === 97;
}

/**
 * The one `sym(%rip)` operand of a selection whose other operands are registers and constant
 * immediates, the displacement not known before the link; otherwise undefined.
 */
function symMem(sel: Selected): Extract<SelOp, { k: 'mem' }> | undefined {
  if (sel.near) return undefined;
  let mem: Extract<SelOp, { k: 'mem' }> | undefined;
  for (let i = 0; i < sel.ops.length; i++) {
    const o = sel.ops[i];
    if (o.k === 'reg') continue;
    if (o.k === 'imm' && constant(o.expr)) continue;
    if (o.k !== 'mem' || mem || !o.m.disp || o.early?.kind === 'const') return undefined;
    // Not `rip`-relative: its displacement is 4 bytes whatever the symbol (prepareMem), but `.`
    // there is not kept (it is the address of each copy).
    if (o.m.base?.kind !== 'rip' && hasDot(o.m.disp)) return undefined;
    mem = o;
  }
  // A local label (`1f`) names a different label at each use: not part of the text's meaning.
  if (!mem || symbolsOf(mem.m.disp!).some((x) => { const c = x.name.charCodeAt(0); return c >= 48 && c <= 57; })) return undefined;
  return mem;
}

/**
 * Where the 4-byte displacement of `mem` (a symbol's, assembled as 0) is in `bytes`: found by
 * assembling again with 0x40000000 there (one byte differs, the field's last), -1 when not so
 * plain. The link then writes the value there instead of assembling the instruction again.
 */
function dispOffset(sel: Selected, prefix: number[], bytes: Uint8Array, mem: Extract<SelOp, { k: 'mem' }>): number {
  if (mem.dispSize !== 4) return -1;
  let other: Uint8Array;
  try {
    other = encodeSelected(sel, prefix, 0n, (e) => (e === mem.m.disp ? 0x40000000n : 0n));
  } catch {
    return -1;
  }
  if (other.length !== bytes.length) return -1;
  let at = -1;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === other[i]) continue;
    if (at >= 0 || i < 3) return -1;
    at = i - 3;
  }
  return at;
}

/** `sym(%rip)` or a bare `sym` is an address; `sym(%rdi)` adds sym to a register: a value. */
function memUse(m: MemOperand): SymUse {
  return m.base?.kind === 'rip' || (!m.base && !m.index) ? 'address' : 'value';
}

function hasDot(e: Expr): boolean {
  return e.t === 'dot' || (e.t === 'un' && hasDot(e.a)) || (e.t === 'bin' && (hasDot(e.a) || hasDot(e.b)));
}

/**
 * The target of a selection whose one operand is a relative branch to a plain symbol (not a
 * local label `1f`: that names a different label at each use); otherwise undefined.
 */
function labelTarget(sel: Selected): Expr | undefined {
  if (sel.ops.length !== 1) return undefined;
  const o = sel.ops[0];
  if (o.k !== 'rel' || o.expr.t !== 'sym') return undefined;
  const c = o.expr.name.charCodeAt(0);
  return c >= 48 && c <= 57 ? undefined : o.expr;
}

/** True when an expression is made of numbers alone (no symbol, register, local label or `.`). */
function constant(e: Expr): boolean {
  switch (e.t) {
    case 'num': return true;
    case 'un': return constant(e.a);
    case 'bin': return constant(e.a) && constant(e.b);
    default: return false;
  }
}

/** An instruction text's kept assemblies (Assembler.insnTexts). */
interface InsnText {
  /** The names in its operands, in order; `sym` is the symbol a `$name` reads ('' for `$16`). */
  names: { word: string; sym: string }[];
  variants: InsnVariant[];
  more?: Map<string, InsnVariant>;
}

/** One meaning of the names (their `nameToken`s): the bytes, a `sym(%rip)` form or a branch to a label. */
interface InsnVariant {
  tokens: string[];
  bytes?: Uint8Array;
  /** One memory operand whose displacement is a symbol's (`sym(%rip)`, `sym(,%rdi,4)`, `sym`): bytes final at link. */
  /** `patch`: where the link writes the displacement (dispOffset; -2 until the second use). */
  rip?: { sel: Selected; prefix: number[]; bytes: Uint8Array; mem: Extract<SelOp, { k: 'mem' }>; use: SymUse; patch: number };
  /** A branch (a tail, or with `bytes` an item such as `call`) whose one operand is a label. */
  branch?: { sel: Selected; prefix: number[]; target: Expr; bytes?: Uint8Array };
}

const NO_NAMES: { word: string; sym: string }[] = [];
const NO_TOKENS: string[] = [];
const NO_PREFIX: number[] = [];

/** A token of a register or a constant: the bytes follow from it (not `~` or an alias). */
function isValueToken(t: string): boolean {
  const c = codeAt(t, 0);
  return c !== 126 && c !== 1;
}

/** Which use wins when a symbol's list of uses is full. */
const USE_RANK: Record<SymUse, number> = { branch: 0, address: 1, value: 2 };

export class Assembler {
  readonly diags: Diagnostic[] = [];
  readonly sections = new Map<string, Section>();
  readonly order: Section[] = [];
  cur!: Section;
  prevSection?: Section;
  readonly sectionStack: { cur: Section; prev?: Section }[] = [];
  readonly syms = new Map<string, Sym>();
  readonly macros = new Map<string, MacroDef>();
  /** Code size from `.code32`/`.code64`. */
  bits: 32 | 64 = 64;
  /** `.altmacro` mode: a macro argument `%expr` is the expression's decimal value, `<text>` is text. */
  altmacro = false;
  /** Register equates (`KEY = %rdi`): name to `%reg`. */
  readonly regEquates = new Map<string, string>();
  private readonly numLabels = new Map<string, number>();
  /**
   * Instructions already assembled, by statement text (64-bit code): each name in the operands
   * stands for a register (`KEY = %rdi`), a `.set` constant or something else (a label, an
   * undefined symbol, `.`), and what each stands for now (`nameToken`) picks the variant.
   */
  private readonly insnTexts = new Map<string, InsnText | Uint8Array>();
  private insnVariants = 0;
  /** Scratch for the tokens of a lookup (no array per statement). */
  private readonly tokens: string[] = [];
  private readonly frames: Frame[] = objectList();
  private readonly spare: BodyFrame[] = objectList();
  /** expandMacro's arguments in altmacro mode, read (`%i`) before they are looked up. */
  private readonly altValues: string[] = [];
  /** `.rept` body lines compiled, by text (fixedLine). */
  private readonly reptLines = new Map<string, BodyLine>();
  readonly cond: CondState[] = objectList();
  private collect?: Collect;
  private macroCounter = 0;
  /**
   * A word whose hint (hintOf) is not marked here names no macro, so most statements skip the
   * two lookups. Marks stay when a macro is purged: a mark only costs the lookups.
   */
  private readonly macroHint = new Uint8Array(1024);
  private statements = 0;
  stopped = false;
  /** The statement being assembled (for `.` and diagnostics). */
  at!: Stmt;

  constructor(readonly predefined: Map<string, bigint>) {
    this.switchSection('.text');
  }

  // ---- diagnostics --------------------------------------------------------------------------
  private errorCount = 0;
  private warningCount = 0;
  location(st: Stmt, column = st.column): SourceLocation {
    return { file: st.pos.file, line: st.pos.line, column };
  }
  error(st: Stmt, column: number | undefined, message: string, severity: 'error' | 'warning' = 'error'): void {
    // Warnings and errors are capped apart: a file full of warnings still reports (and fails
    // on) its first error.
    if (severity === 'warning' ? this.warningCount++ >= LIMITS.errors : this.errorCount >= LIMITS.errors) return;
    const related = st.stack.slice(1).map((p) => ({ message: 'expanded from here', location: { file: p.file, line: p.line, column: 1 } }));
    this.diags.push({ severity, message, location: this.location(st, column || st.column), related: related.length ? related : undefined });
    if (severity === 'error' && ++this.errorCount >= LIMITS.errors) {
      this.diags.push({ severity: 'error', message: `too many errors (${LIMITS.errors}); stopping`, location: this.location(st) });
      this.stopped = true;
    }
  }

  // ---- sections and emission ----------------------------------------------------------------
  switchSection(name: string, flags?: Partial<ReturnType<typeof defaultFlags>>): Section {
    let s = this.sections.get(name);
    if (!s) {
      s = newSection(name, { ...defaultFlags(name), ...flags });
      this.sections.set(name, s);
      this.order.push(s);
    }
    if (this.cur !== s) this.prevSection = this.cur;
    this.cur = s;
    return s;
  }
  frag(): Frag {
    return this.cur.frags[this.cur.frags.length - 1];
  }
  dot(): Loc {
    return { sec: this.cur.name, frag: this.cur.frags.length - 1, off: this.frag().size };
  }
  /** Bytes the current section holds so far. */
  sectionSize(): number {
    return this.cur.frags.reduce((n, f) => n + f.size, 0);
  }
  emitBytes(bytes: Uint8Array, at?: Stmt): void {
    if (!bytes.length) return;
    const f = this.frag();
    f.items.push({ kind: 'bytes', off: f.size, bytes, at });
    f.size += bytes.length;
  }
  emitItem(item: Item, size: number): void {
    const f = this.frag();
    f.items.push(item);
    f.size += size;
  }
  /** Ends the current fragment with a variable-size tail and opens the next one. */
  emitTail(tail: Tail): void {
    this.frag().tail = tail;
    this.cur.frags.push(newFrag());
  }

  // ---- symbols ------------------------------------------------------------------------------
  sym(name: string): Sym {
    let s = this.syms.get(name);
    if (!s) {
      s = newSym(name);
      this.syms.set(name, s);
    }
    return s;
  }
  numLabel = (n: string, dir: 'b' | 'f', col: number): string => {
    const count = this.numLabels.get(n) ?? 0;
    if (dir === 'b' && count === 0) throw new ExprError(`no previous definition of local label '${n}' for '${n}b'`, col);
    return `${n}\u0002${dir === 'b' ? count : count + 1}`;
  };
  defineLabel(name: string, st: Stmt, column: number): void {
    if (/^\d+$/.test(name)) {
      const k = (this.numLabels.get(name) ?? 0) + 1;
      this.numLabels.set(name, k);
      const s = this.sym(`${name}\u0002${k}`);
      s.internal = true;
      s.def = labelDef(this.dot());
      s.uses = NO_USES;
      s.definedAt = st;
      return;
    }
    const s = this.sym(name);
    if (s.def && !(s.def.kind === 'equ' && !s.definedAt)) {
      // GNU as (symbols.c, colon) takes a label defined again at the very same place (same
      // section, fragment and offset: a `.rept` of a label alone).
      const here = this.dot();
      if (s.def.kind === 'label' && s.def.loc.sec === here.sec && s.def.loc.frag === here.frag && s.def.loc.off === here.off) return;
      this.error(st, column, `symbol '${name}' is already defined`);
      if (s.definedAt) this.diags[this.diags.length - 1].related = [{ message: 'previous definition', location: this.location(s.definedAt) }];
      return;
    }
    s.def = labelDef(this.dot());
    s.uses = NO_USES;
    s.definedAt = st;
  }

  /** Parse-time view: constants, `.set` values and locations known so far. */
  readonly earlyEnv: EvalEnv = {
    sym: (name) => {
      const s = this.syms.get(name);
      if (s?.def?.kind === 'label') return { kind: 'loc', loc: s.def.loc };
      if (s?.def?.kind === 'equ') return s.def.value ? { kind: 'value', v: s.def.value } : undefined;
      const p = this.predefined.get(name);
      return p !== undefined ? { kind: 'abs', v: p } : undefined;
    },
    dot: () => this.dot(),
    // Before layout a difference of locations in two fragments of one section has no value yet
    // (a jump or an alignment between them may still grow): not known now, as in gas, which
    // resolves it after relaxation. A location left over is one (an error where a number is due).
    fold: (v) => {
      for (const t of v.terms) {
        let net = 0n;
        for (const u of v.terms) if (u.sec === t.sec) net += u.coef;
        if (net === 0n) throw new UnresolvedError('.', 0);
      }
      return v;
    },
  };

  /** Evaluates at parse time; `undefined` when something is not known yet. */
  tryEarly(e: Expr): Value | undefined {
    try {
      return tryEvaluate(e, this.earlyEnv);
    } catch (err) {
      if (err instanceof UnresolvedError) return undefined;
      throw err;
    }
  }
  /**
   * `tryEarly` without its errors: undefined where the value is not known now, and where
   * evaluating it fails now (a comparison of labels in two fragments: known at layout, where
   * any error is said).
   */
  maybeEarly(e: Expr): Value | undefined {
    try {
      return this.tryEarly(e);
    } catch {
      return undefined;
    }
  }
  /** A value known now, else 0 (the first encoding; made once, not per instruction). */
  private readonly placeholder = (e: Expr): bigint => {
    const v = this.early(e);
    return v.kind === 'const' ? v.v : 0n;
  };

  early = (e: Expr): Early => {
    if (e.t === 'num') return { kind: 'const', v: BigInt.asIntN(64, e.v) };
    const v = this.tryEarly(e);
    return v && v.terms.length === 0 ? { kind: 'const', v: v.c } : { kind: 'reloc' };
  };
  /** A value that must be absolute now (`.rept`, `.if`, `.skip` counts). */
  absolute(e: Expr, st: Stmt, what: string): bigint | undefined {
    try {
      const v = this.tryEarly(e);
      if (v && v.terms.length === 0) return v.c;
      const names = symbolsOf(e).map((s) => s.name).filter((n) => !this.earlyEnv.sym(n, 0));
      this.error(st, undefined, `${what} must be an absolute expression${names.length ? ` ('${names[0]}' is not defined here)` : ''}`);
    } catch (err) {
      this.error(st, (err as ExprError).column || undefined, (err as Error).message);
    }
    return undefined;
  }
  noteUses(e: Expr, st: Stmt, use: SymUse): void {
    // A branch to `sym+4` is an address, not a branch target.
    const kind: SymUse = use === 'branch' && e.t !== 'sym' ? 'address' : use;
    this.noteUsesIn(e, st, kind);
  }
  /** The tree walked in place: no array of names per data value or operand (symbolsOf made one). */
  private noteUsesIn(e: Expr, st: Stmt, kind: SymUse): void {
    if (e.t === 'sym') {
      const s = this.sym(e.name);
      if (s.def) return;
      if (s.uses === NO_USES) s.uses = [{ at: st, column: e.col, kind }];
      else if (s.uses.length < 16) s.uses.push({ at: st, column: e.col, kind });
      else if (USE_RANK[kind] > USE_RANK[s.uses[s.uses.length - 1].kind]) s.uses[s.uses.length - 1].kind = kind;
    } else if (e.t === 'un') this.noteUsesIn(e.a, st, kind);
    else if (e.t === 'bin') {
      this.noteUsesIn(e.a, st, kind);
      this.noteUsesIn(e.b, st, kind);
    }
  }

  // ---- the statement stream -----------------------------------------------------------------
  run(lines: AsmLine[]): void {
    this.frames.push(new LineFrame(lines));
    folding.reading = true;
    folding.warning = undefined;
    try {
      this.readAll();
    } finally {
      folding.reading = false;
    }
    this.unclosed();
  }

  private readAll(): void {
    while (this.frames.length && !this.stopped) {
      const st = this.frames[this.frames.length - 1].next();
      if (!st) {
        this.dropFrames(this.frames.length - 1);
        continue;
      }
      if (++this.statements > LIMITS.statements) {
        this.error(st, undefined, `more than ${LIMITS.statements} statements after expansion (runaway .rept or macro?)`);
        break;
      }
      this.at = st;
      try {
        this.statement(st);
      } catch (err) {
        if (err instanceof ExprError || err instanceof SelectError) this.error(st, (err as ExprError).column || undefined, err.message);
        else throw err;
      }
      if (folding.warning !== undefined) this.foldWarning(st);
    }
  }

  /** A warning folding gave in the statement just read (see `folding`). */
  private foldWarning(st: Stmt): void {
    this.error(st, undefined, folding.warning!, 'warning');
    folding.warning = undefined;
  }

  /**
   * Bodies and conditionals still open at the end. Apart from run: run's loop is optimised while
   * it runs (on-stack), and these lines, reached once at its end with lists of whatever shape
   * the file left, deoptimised that code once per assembly (16 times over the first six files).
   */
  private unclosed(): void {
    if (this.collect) {
      const at = this.collect.kind === 'macro' ? this.collect.def.at : this.collect.at;
      this.error(at, undefined, this.collect.kind === 'macro' ? `.macro '${this.collect.def.name}' has no matching .endm` : `${at.text.split(/\s/)[0]} has no matching .endr`);
    }
    for (let i = 0; i < this.cond.length; i++) {
      const c = this.cond[i];
      this.error(c.at, undefined, `${c.at.text.split(/\s/)[0]} has no matching .endif`);
    }
  }

  active(): boolean {
    return this.cond.length === 0 || this.cond[this.cond.length - 1].active;
  }

  private statement(st: Stmt): void {
    let text = st.text;
    let col = st.column;
    // The first word, scanned once: a directive's, a label's, a macro's or a mnemonic's name.
    let end = -1;
    // Only directives matter while a body is collected or skipped (conditionals, and the openers
    // and closers of bodies).
    let head: DirectiveName | undefined;
    if (codeAt(text, 0) === 46) {
      end = nameEnd(text, 0);
      // `.` and then a letter or `_`: a directive's name.
      const c1 = codeAt(text, 1);
      if ((c1 >= 97 && c1 <= 122) || (c1 >= 65 && c1 <= 90) || c1 === 95) head = directive(text.slice(0, end));
    }
    // Bodies and conditionals through one call site (see rareWord).
    if (this.collect !== undefined || (head !== undefined && head.cond)) return this.bodyOrConditional(st, head, text, end);
    if (!this.active()) return;
    if (end < 0) end = nameEnd(text, 0);
    // Labels: `name:` or `1:` (not `name::`), blanks around the colon.
    let eq = -1; // where the first word's blanks end, once known
    for (;;) {
      let e = end;
      if (e === 0) while (e < text.length && text.charCodeAt(e) >= 48 && text.charCodeAt(e) <= 57) e++;
      if (e === 0) break;
      const c = skipBlanks(text, e);
      if (codeAt(text, c) !== 58 || codeAt(text, c + 1) === 58) {
        if (e === end) eq = c;
        break;
      }
      const after = skipBlanks(text, c + 1);
      this.defineLabel(text.slice(0, e), st, col);
      col += after;
      text = text.slice(after);
      end = nameEnd(text, 0);
      head = undefined;
    }
    if (!text) return;
    const sub: Stmt = col === st.column ? st : new Stmt(text, col, st.pos, st.outer);
    const wordEnd = end;
    if (wordEnd > 0) {
      // `name = value` (not `name == value`): an assignment, as `.set`.
      if (eq < 0) eq = skipBlanks(text, wordEnd);
      if (codeAt(text, eq) === 61 || this.macroHint[hintOf(text, wordEnd)]) return this.rareWord(text, wordEnd, eq, sub, col, head);
      if (codeAt(text, 0) === 46) {
        const a = skipBlanks(text, wordEnd);
        const d = head ?? directive(text.slice(0, wordEnd));
        if (d.opens) return this.rareWord(text, wordEnd, eq, sub, col, d);
        handleDirective(this, d.name, argsFrom(text, a), sub, col + a);
        return;
      }
    }
    this.instruction(text, sub, col);
  }

  // statement()'s rarely taken paths live in the two functions below, each reached through one
  // call site: a path first taken late (entry_64.s after the crypto files: its first assignment,
  // macro, `.rept`) then deoptimizes only a small function, not the big optimized statement loop
  // (a recompile of which costs tens of ms).

  /** A statement while a body is collected, or a conditional. */
  private bodyOrConditional(st: Stmt, head: DirectiveName | undefined, text: string, end: number): void {
    if (this.collect) return this.collectBody(st, head);
    return handleConditional(this, head!.name, argsFrom(text, end), st);
  }

  /** A possible assignment, a possible macro's name, or a body opener (`head`); else as statement() does. */
  private rareWord(text: string, wordEnd: number, eq: number, sub: Stmt, col: number, head: DirectiveName | undefined): void {
    // `name = value` (not `name == value`): an assignment, as `.set`.
    if (codeAt(text, eq) === 61 && codeAt(text, eq + 1) !== 61) {
      const val = skipBlanks(text, eq + 1);
      assignSymbol(this, '.set', text.slice(0, wordEnd), text.slice(val), sub, col + val, col + val + wordEnd + 2);
      return;
    }
    if (this.macroHint[hintOf(text, wordEnd)]) {
      const word = text.slice(0, wordEnd);
      const macro = this.macros.get(word) ?? this.macros.get(word.toLowerCase());
      if (macro) return this.expandMacro(macro, argsFrom(text, wordEnd), sub);
    }
    if (codeAt(text, 0) === 46) {
      const a = skipBlanks(text, wordEnd);
      const args = argsFrom(text, a);
      const d = head ?? directive(text.slice(0, wordEnd));
      if (d.opens) return this.openBody(d.name, args, sub);
      handleDirective(this, d.name, args, sub, col + a);
      return;
    }
    this.instruction(text, sub, col);
  }

  // ---- macro and repeat bodies --------------------------------------------------------------
  private openBody(dir: string, args: string, st: Stmt): void {
    if (dir === '.macro') {
      const def = handleDirective(this, '.macro', args, st, st.column) as unknown as MacroDef | undefined;
      this.collect = { kind: 'macro', def: def ?? { name: '?', params: [], body: [], at: st }, depth: 1 };
      return;
    }
    this.collect = { kind: 'rept', depth: 1, at: st, body: [], repeat: this.repeatOf(dir, args, st) ?? { rounds: 0 } };
  }

  private repeatOf(dir: string, args: string, st: Stmt): Repeat | undefined {
    if (dir === '.rept' || dir === '.rep') {
      const n = this.absolute(this.parseExpr(args, st), st, '.rept count');
      if (n === undefined) return undefined;
      if (n > BigInt(LIMITS.statements)) {
        this.error(st, undefined, `.rept count ${n} is over the limit of ${LIMITS.statements.toLocaleString('en-US')} rounds`);
        return undefined;
      }
      // GNU as (read.c, do_repeat) refuses a negative count; the block is then skipped.
      if (n < 0n) this.error(st, undefined, `.rept count ${n} is negative (GNU as refuses it too); the block is skipped`);
      return { rounds: Number(n < 0n ? 0n : n) };
    }
    const m = /^([A-Za-z_.$][\w.$]*)\s*,?\s*(.*)$/.exec(args);
    if (!m) {
      this.error(st, undefined, `${dir} expects a parameter name and a list`);
      return undefined;
    }
    const values = dir === '.irp' ? (m[2].trim() ? splitArgs(m[2], 0).map((a) => a.text) : ['']) : [...m[2].trim()];
    if (dir === '.irpc' && values.length === 0) values.push('');
    return { rounds: values.length, param: m[1], values };
  }

  private collectBody(st: Stmt, head: DirectiveName | undefined): void {
    const c = this.collect!;
    const closer = c.kind === 'macro' ? '.endm' : '.endr';
    if (head?.opens === closer.slice(1)) c.depth++;
    if (head?.name === closer) c.depth--;
    if (c.kind === 'macro' && head?.name === '.endr') {
      /* stray .endr inside a macro body belongs to a .rept inside it */
    }
    if (c.depth > 0) {
      (c.kind === 'macro' ? c.def.body : c.body).push(st);
      return;
    }
    this.collect = undefined;
    if (c.kind === 'macro') {
      if (c.def.name !== '?') {
        this.macros.set(c.def.name, c.def);
        this.macroHint[hintOf(c.def.name, c.def.name.length)] = 1;
      }
      return;
    }
    const { rounds, param, values } = c.repeat;
    // Checked before the copies are made: a count times a body beyond the statement limit.
    const total = rounds * c.body.length;
    if (this.statements + total > LIMITS.statements) {
      this.error(c.at, undefined, `this repetition adds ${total.toLocaleString("en-US")} statements to the ${this.statements.toLocaleString("en-US")} already assembled: over the limit of ${LIMITS.statements.toLocaleString("en-US")} statements after expansion`);
      return;
    }
    // The body is compiled once for all its copies; `.rept` substitutes nothing.
    let lines: BodyLine[];
    if (param === undefined) {
      lines = new Array<BodyLine>(c.body.length);
      for (let i = 0; i < c.body.length; i++) lines[i] = this.fixedLine(c.body[i].text);
    } else {
      const slots = new Map([[param, 0]]);
      lines = c.body.map((b): BodyLine => compileBodyLine(b.text, slots, splitStatements));
    }
    const depth = this.frameDepth(undefined, c.at);
    if (depth === undefined) return;
    this.frames.push(this.frame().init(undefined, depth, this.cond.length, c.body, lines, [], true, this.macroCounter, rounds, originOf(c.at), values, undefined));
  }

  /**
   * A `.rept` body line's statements, by its text: a `.rept` in a macro is collected again at
   * each expansion, with the same texts (read-only, shared by the frames).
   */
  private fixedLine(text: string): BodyLine {
    let l = this.reptLines.get(text);
    if (!l) {
      l = { fixed: splitStatements(text) };
      if (this.reptLines.size < 4096) this.reptLines.set(text, l);
    }
    return l;
  }

  /** A frame to fill: a spare one when there is one. */
  private frame(): BodyFrame {
    return this.spare.pop() ?? new BodyFrame();
  }

  /** Takes back the frames above `n` (done or abandoned) as spares. */
  private dropFrames(n: number): void {
    while (this.frames.length > n) {
      const f = this.frames.pop();
      if (f instanceof BodyFrame && this.spare.length < LIMITS.macroDepth) this.spare.push(f);
    }
  }

  /** The depth of a new expansion; undefined (and the run stopped) when that is too deep. */
  private frameDepth(macro: string | undefined, at: Stmt): number | undefined {
    const depth = (this.frames[this.frames.length - 1]?.depth ?? 0) + 1;
    if (depth > LIMITS.macroDepth) {
      this.error(at, undefined, `macros nested more than ${LIMITS.macroDepth} deep${macro ? ` (recursive macro '${macro}'?)` : ''}`);
      this.stopped = true;
      return undefined;
    }
    return depth;
  }

  expandMacro(def: MacroDef, args: string, st: Stmt): void {
    const memo = (def.memo ??= new Map());
    let bound = memo.get(args);
    if (!bound) {
      const order: number[] = [];
      const values = bindMacroArgs(def, args, order);
      if (typeof values === 'string') return this.error(st, undefined, values);
      bound = { values, plain: values.every(plainText), order, uses: 0, lines: [] };
      if (memo.size < MEMO_LIMIT) memo.set(args, bound);
    }
    // The statements of an earlier expansion with these arguments serve from the second use on.
    let values = bound.values;
    let plain = bound.plain;
    let lines = ++bound.uses > 1 ? bound.lines : undefined;
    if (this.altmacro) {
      // `%expr` is the value now, so nothing is kept by the text; the arguments are read in the
      // order they were given (that decides which bad `%expr` is reported). Read into a scratch
      // array: an earlier expansion with the same values has the array to use.
      const now = this.altValues;
      now.length = values.length;
      for (let k = 0; k < values.length; k++) now[k] = values[k];
      for (let i = 0; i < bound.order.length; i++) {
        const k = bound.order[i];
        const v = now[k];
        if (v.startsWith('%')) {
          // `%i`, `i` a constant: its decimal text, kept on the definition (as nameToken does).
          const d = nameEnd(v, 1) === v.length && v.length > 1 ? this.syms.get(v.slice(1))?.def : undefined;
          if (d?.kind === 'equ' && d.value && d.value.terms.length === 0) {
            now[k] = d.text ??= String(d.value.c);
            continue;
          }
          const n = this.absolute(this.parseExpr(v.slice(1), st), st, `macro argument '${v}'`);
          if (n === undefined) return;
          now[k] = n.toString();
        } else if (v.startsWith('<') && v.endsWith('>')) now[k] = v.slice(1, -1);
      }
      // The statements follow from the values alone (`setxdata %i` in a `.rept`: a few values, many uses).
      const alt = (def.altMemo ??= new Map());
      const key = now.join('\u0000');
      let b = alt.get(key);
      if (!b) {
        const copy = now.slice();
        b = { values: copy, plain: copy.every(plainText), order: bound.order, uses: 0, lines: [] };
        if (alt.size < MEMO_LIMIT) alt.set(key, b);
      }
      values = b.values;
      plain = b.plain;
      lines = ++b.uses > 1 ? b.lines : undefined;
    }
    const counter = this.macroCounter++;
    if (!def.compiled) {
      const slots = slotsOf(def).byName;
      def.compiled = def.body.map((b) => compileBodyLine(b.text, slots, splitStatements));
    }
    const depth = this.frameDepth(def.name, st);
    if (depth === undefined) return;
    this.frames.push(this.frame().init(def.name, depth, this.cond.length, def.body, def.compiled, values, plain, counter, 1, originOf(st), undefined, lines));
  }

  /** `.exitm`: abandon the innermost macro expansion. */
  exitMacro(st: Stmt): void {
    for (let i = this.frames.length - 1; i > 0; i--) {
      if (this.frames[i].macro) {
        this.cond.length = Math.min(this.cond.length, this.frames[i].condDepth);
        this.dropFrames(i);
        return;
      }
    }
    this.error(st, undefined, '.exitm outside a macro');
  }

  parseExpr(text: string, st: Stmt, col = st.column): Expr {
    return this.freeze(parseWholeExpr(text, col, this.numLabel));
  }

  /**
   * As gas does when it reads an expression: a symbol `.set` to a constant stands for the
   * value it has *here* (`.set t, t+1` in a `.rept` gives each copy its own t).
   */
  freeze(e: Expr): Expr {
    switch (e.t) {
      case 'sym': {
        const d = this.syms.get(e.name)?.def;
        if (d?.kind !== 'equ') return e;
        if (d.value && d.value.terms.length === 0) return numNode(d.value.c);
        // Resolved at link time: bound to the definition in force here, not the last one.
        return symNode(this.aliasOf(d), e.col);
      }
      case 'un': {
        const a = this.freeze(e.a);
        // Numbers fold as gas folds them while reading (its warnings said now, once).
        if (a.t === 'num' && e.op !== '+') return numNode(e.op === '-' ? BigInt.asIntN(64, -a.v) : e.op === '~' ? ~a.v : a.v === 0n ? 1n : 0n);
        return a === e.a ? e : unNode(e.op, a);
      }
      case 'bin': {
        let a = this.freeze(e.a);
        let b = this.freeze(e.b);
        // A division's operands known now (a difference of labels already placed) fold now, as
        // in gas: a division by zero is then a warning, not an error after layout.
        if ((e.op === '/' || e.op === '%') && (a.t !== 'num' || b.t !== 'num')) {
          a = this.known(a);
          b = this.known(b);
        }
        if (a.t === 'num' && b.t === 'num') {
          const v = constantBinop(e.op, a.v, b.v);
          if (v !== undefined) return numNode(v);
        }
        return a === e.a && b === e.b ? e : binNode(e.op, a, b);
      }
      default:
        return e;
    }
  }

  /** The error for a '=' in an instruction's operands (a rare path, apart from assembleInsn). */
  private equalsInOperand(st: Stmt, column: number, ops: string, at: number): void {
    let n = 1;
    let depth = 0;
    for (let i = 0; i < at; i++) {
      const c = ops.charCodeAt(i);
      if (c === 40) depth++;
      else if (c === 41) depth--;
      else if (c === 44 && depth === 0) n++;
    }
    this.error(st, column, `invalid character '=' in operand ${n} (GNU as takes no comparison with '=' in an instruction's operands; compute it with .set first)`);
  }

  /** `e` as a number when its value is known now and absolute, else `e`. */
  private known(e: Expr): Expr {
    if (e.t === 'num') return e;
    const v = this.maybeEarly(e);
    return v && v.terms.length === 0 ? numNode(v.c) : e;
  }

  /** The internal name bound to an `=`/`.set` definition (made on first use). */
  aliasOf(d: Extract<SymDef, { kind: 'equ' }>): string {
    if (d.alias === undefined) {
      d.alias = `\u0001equ${this.syms.size}`;
      this.syms.set(d.alias, newSym(d.alias, d, true));
    }
    return d.alias;
  }

  // ---- instructions -------------------------------------------------------------------------
  private instruction(text: string, st: Stmt, col: number): void {
    const whole = text;
    const known = this.bits === 64 ? this.insnTexts.get(whole) : undefined;
    // A text without names has one meaning: its bytes are kept as they are.
    if (known instanceof Uint8Array) return this.emitBytes(known, st);
    const info = known;
    let ripConst = false;
    if (info) {
      const v = this.variantOf(info);
      if (v) {
        if (v.bytes) return this.emitBytes(v.bytes, st);
        const b = v.branch;
        if (b) {
          this.noteUses(b.target, st, 'branch');
          if (b.sel.near) this.emitTail(branchTail(b.sel, b.prefix, b.target, this.dot(), st));
          else this.emitItem({ kind: 'insn', off: this.frag().size, size: b.bytes!.length, bytes: b.bytes!, sel: b.sel, prefix: b.prefix, final: true, at: st, patch: -1 }, b.bytes!.length);
          return;
        }
        const r = v.rip!;
        const m = r.mem.m;
        if (this.early(m.disp!).kind !== 'const') {
          this.noteUses(m.disp!, st, r.use);
          // Found at the second use: a text used once is encoded again at link, as before.
          if (r.patch === -2) r.patch = dispOffset(r.sel, r.prefix, r.bytes, r.mem);
          this.emitItem({ kind: 'insn', off: this.frag().size, size: r.bytes.length, bytes: r.bytes, sel: r.sel, prefix: r.prefix, final: true, at: st, patch: r.patch }, r.bytes.length);
          return;
        }
        // `sym` is a constant now: the displacement itself (assembled in full, below, and not kept).
        ripConst = true;
      }
    }
    this.assembleInsn(text, st, col, info, ripConst);
  }

  /**
   * An instruction text not kept (or kept for other meanings of its names): parsed, selected and
   * encoded. Apart from the kept-text path above, so that each is compiled on its own: a file
   * reaching a path the other has not run deoptimises one of them, not both.
   */
  private assembleInsn(text: string, st: Stmt, col: number, info: InsnText | undefined, ripConst: boolean): void {
    const whole = text;
    // Shared while there is none (most instructions); never written to.
    let prefix: number[] = NO_PREFIX;
    // The first word ([A-Za-z]\w*), lowercased; prefix words (`lock`, `rep`, `data16`) go first.
    let end = wordEnd(text);
    let word = text.slice(0, end).toLowerCase();
    while (end && maybePrefix(word) && PREFIXES[word] !== undefined && !isMnemonic(word)) {
      if (prefix === NO_PREFIX) prefix = [];
      prefix.push(PREFIXES[word]);
      const skip = skipBlanks(text, end);
      col += skip;
      text = text.slice(skip);
      if (!text) return this.emitBytes(Uint8Array.from(prefix), st);
      end = wordEnd(text);
      word = text.slice(0, end).toLowerCase();
    }
    if (!end) return this.error(st, col, `expected an instruction or directive, found '${text}'`);
    const mnemonic = word;
    const opsStart = skipBlanks(text, end);
    let opsText = text.slice(opsStart);
    // GNU as's operand parser takes no '=' (tc-i386.c): `$(a == b)` is an error there, though
    // a data directive takes the same expression.
    const eq = opsText.indexOf('=');
    if (eq >= 0) return this.equalsInOperand(st, col + opsStart + eq, opsText, eq);
    // Each name in the operands (as `(?<![%\w.$])[A-Za-z_.$][\w.$]*` finds them: not a
    // register, not inside a number) is a register equate, a `.set` constant or something else
    // (a label, an undefined symbol, `.`). With only the first two the bytes follow from the text
    // and what each name stands for now: the instruction is "pure".
    const ops0 = opsText;
    // Made at the first name: most operands have none (`%xmm1, %xmm2`).
    let names: { word: string; sym: string }[] = NO_NAMES;
    let tokens: string[] = NO_TOKENS;
    let named = false;
    let keyable = true;
    let subst = '';
    let from = 0;
    for (let i = 0; i < ops0.length; ) {
      const c = ops0.charCodeAt(i);
      if (!isSymStartCode(c) || (i > 0 && (ops0.charCodeAt(i - 1) === 37 || isSymCharCode(ops0.charCodeAt(i - 1))))) {
        i++;
        continue;
      }
      const e = nameEnd(ops0, i);
      named = true;
      const word = ops0.slice(i, e);
      let sym = word;
      if (c === 36) {
        // `$16`, `$0x1f`, `$-1`: an immediate's `$` and a number, as written (in the text).
        const c1 = ops0.charCodeAt(i + 1);
        sym = e - i === 1 || (c1 >= 48 && c1 <= 57) ? '' : word.slice(1);
      }
      const reg = this.regEquates.size ? this.regEquates.get(word) : undefined;
      if (reg !== undefined) {
        // Same length is not kept, so columns after a substituted equate shift; names stay exact.
        subst += ops0.slice(from, i) + reg;
        from = e;
      }
      if (this.bits === 64) {
        const tok = this.nameToken(word, sym);
        if (!isValueToken(tok)) keyable = false;
        if (names === NO_NAMES) (names = []), (tokens = []);
        names.push({ word, sym });
        tokens.push(tok);
      }
      i = e;
    }
    if (from) opsText = subst + opsText.slice(from);
    let pure = this.bits === 64 && keyable;
    // A kept `sym(%rip)` form whose `sym` became a constant is not kept again.
    const ripOk = this.bits === 64 && named && !keyable && !ripConst;
    const opsCol = col + opsStart;
    const ops: Operand[] = [];
    const args = splitArgs(opsText, opsCol);
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (!a.text) return this.error(st, a.column, `empty operand for '${mnemonic}'`);
      const o = parseOperand(a.text, a.column, this.numLabel);
      if (o.k === 'imm') o.expr = this.freeze(o.expr);
      else if (o.k === 'mem' && o.disp) o.disp = this.freeze(o.disp);
      if (pure && ((o.k === 'imm' && !constant(o.expr)) || (o.k === 'mem' && o.disp && !constant(o.disp)))) pure = false;
      ops.push(o);
    }
    let sel;
    try {
      sel = this.bits === 32 ? select32(mnemonic, ops, this.early) : select(mnemonic, ops, this.early);
    } catch (err) {
      if (err instanceof SelectError) return this.error(st, col, err.message);
      throw err;
    }
    if (sel.warning) this.error(st, col, sel.warning, 'warning');
    this.emitInsn(whole, text, st, col, info, names, tokens, sel, prefix, pure, ripOk);
  }

  /** A selected instruction: its uses noted, then kept and emitted as a branch tail, bytes or an item the link finishes. */
  private emitInsn(whole: string, text: string, st: Stmt, col: number, info: InsnText | undefined, names: { word: string; sym: string }[], tokens: string[], sel: Selected, prefix: number[], pure: boolean, ripOk: boolean): void {
    let final = false;
    for (let i = 0; i < sel.ops.length; i++) {
      const o = sel.ops[i];
      if (o.k === 'imm') {
        this.noteUses(o.expr, st, 'value');
        if (o.early.kind === 'reloc') final = true;
      } else if (o.k === 'rel') {
        this.noteUses(o.expr, st, 'branch');
        final = true;
      } else if (o.k === 'mem') this.prepareMem(o, st) && (final = true);
    }
    // A branch or call to a label (`jne .Lloop`, `call foo`): the same selection serves every
    // copy of its text, the target resolved at layout and link as for the first.
    const label = ripOk && !sel.warning ? labelTarget(sel) : undefined;
    if (sel.near) {
      const target = (sel.ops[0] as { expr: Expr }).expr;
      this.emitTail(branchTail(sel, prefix, target, this.dot(), st));
      if (label) this.keep(whole, info, names, tokens, { tokens, branch: { sel, prefix, target: label } });
      return;
    }
    let bytes: Uint8Array;
    try {
      bytes = encodeSelected(sel, prefix, 0n, this.placeholder);
    } catch (err) {
      return this.error(st, col, `cannot encode '${text}': ${(err as Error).message}`);
    }
    // Bytes that no layout changes are final now: kept as bytes, without what made them.
    if (!final) {
      if (pure && !sel.warning) this.keep(whole, info, names, tokens, { tokens, bytes });
      this.emitBytes(bytes, st);
    }
    else {
      if (label) this.keep(whole, info, names, tokens, { tokens, branch: { sel, prefix, target: label, bytes } });
      if (!label && ripOk && !sel.warning) {
        const mem = symMem(sel);
        if (mem) this.keep(whole, info, names, tokens, { tokens, rip: { sel, prefix, bytes, mem, use: memUse(mem.m), patch: -2 } });
      }
      this.emitItem({ kind: 'insn', off: this.frag().size, size: bytes.length, bytes, sel, prefix, final, at: st, patch: -1 }, bytes.length);
    }
  }

  /**
   * What a name in an instruction's operands stands for now: a register equate's register, a
   * constant's decimal text, a location equate's alias (the definition in force: it may be set
   * again later), `~` for anything else; '' for the number of `$16`.
   */
  private nameToken(word: string, sym: string): string {
    const reg = this.regEquates.size ? this.regEquates.get(word) : undefined;
    if (reg !== undefined) return reg;
    if (!sym) return '';
    const d = this.syms.get(sym)?.def;
    if (d?.kind !== 'equ') return '~';
    if (d.value && d.value.terms.length === 0) return (d.text ??= String(d.value.c));
    return this.aliasOf(d);
  }

  /** The kept variant of a text whose names stand for what they stood for then. */
  private variantOf(info: InsnText): InsnVariant | undefined {
    const names = info.names;
    const now = this.tokens;
    for (let i = 0; i < names.length; i++) now[i] = this.nameToken(names[i].word, names[i].sym);
    next: for (let j = 0; j < info.variants.length; j++) {
      const v = info.variants[j];
      for (let i = 0; i < names.length; i++) if (v.tokens[i] !== now[i]) continue next;
      return v;
    }
    if (!info.more) return undefined;
    now.length = names.length;
    return info.more.get(now.join('\u0000'));
  }

  private keep(whole: string, info: InsnText | undefined, names: { word: string; sym: string }[], tokens: string[], v: InsnVariant): void {
    if (this.insnVariants >= 200_000) return;
    this.insnVariants++;
    if (!names.length && v.bytes) {
      this.insnTexts.set(whole, v.bytes);
      return;
    }
    if (!info) this.insnTexts.set(whole, (info = { names, variants: [] }));
    // A text seen with many meanings (a `.rept` counter in it): by key beyond the first few.
    if (info.variants.length < 8) info.variants.push(v);
    else (info.more ??= new Map()).set(tokens.join('\u0000'), v);
  }

  /** Chooses the displacement size as gas does; returns true when the bytes depend on layout. */
  private prepareMem(o: Extract<SelOp, { k: 'mem' }>, st: Stmt): boolean {
    const m = o.m;
    // `sym(%rip)` or a bare `sym` is an address; `sym(%rdi)` adds sym to a register: a value.
    if (m.disp) this.noteUses(m.disp, st, memUse(m));
    if (m.base?.kind === 'rip') {
      // `sym(%rip)` names a target address; a plain number is the displacement itself.
      o.dispSize = 4;
      o.early = m.disp ? this.early(m.disp) : { kind: 'const', v: 0n };
      return true;
    }
    if (!m.disp) return false;
    // `-8(%rbp)`: the value the evaluator gives a negated number (asIntN(64, -asIntN(64, v))), without it.
    const d = m.disp;
    o.early = d.t === 'un' && d.op === '-' && d.a.t === 'num' ? { kind: 'const', v: BigInt.asIntN(64, -BigInt.asIntN(64, d.a.v)) } : this.early(d);
    if (o.early.kind === 'const') {
      o.dispSize = !m.base ? 4 : 0;
      return false;
    }
    o.dispSize = 4;
    return true;
  }
}

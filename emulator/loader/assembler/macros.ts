// The gas macro engine's text side: `.macro` headers (defaults, `:req`, `:vararg`), the
// argument splitting of an invocation (commas or blanks, `name=value`), and substitution of
// `\param`, `\()` and `\@` into body statements. Body collection and the expansion stack
// live in the assembler, which owns the statement stream.

import { SourcePosition } from '../image';
import { codeAt, nameEnd, plainText, skipBlanks } from './lexer';

/**
 * The lines that expanded a statement (a macro's invocation, a `.rept`, a cpp macro), innermost
 * first and the file line last: one per expansion, shared by all the statements it makes.
 */
export class Origin {
  private list?: SourcePosition[];
  constructor(readonly file: string, readonly line: number, readonly outer: Origin | undefined) {}
  /** This line and those outside it as positions (made when a diagnostic or the line table asks). */
  positions(): SourcePosition[] {
    if (!this.list) {
      const l = [{ file: this.file, line: this.line }];
      if (this.outer) for (const p of this.outer.positions()) l.push(p);
      this.list = l;
    }
    return this.list;
  }
}

/**
 * One statement with where it came from: its own line (`pos`) and the expansion it belongs to.
 * `stack` is innermost first, the file line last; it is built only when read.
 */
export class Stmt {
  constructor(
    public text: string,
    public column: number,
    readonly pos: SourcePosition,
    readonly outer: Origin | undefined,
  ) {}
  get stack(): SourcePosition[] {
    // A copy of `pos`: it may be a whole input line (AsmLine), which callers must not see.
    const s: SourcePosition[] = [{ file: this.pos.file, line: this.pos.line }];
    if (this.outer) for (const p of this.outer.positions()) s.push(p);
    return s;
  }
}

/** A macro parameter. */
export interface MacroParam {
  name: string;
  def?: string;
  req: boolean;
  vararg: boolean;
}

/** A `.macro` definition. */
export interface MacroDef {
  name: string;
  params: MacroParam[];
  body: Stmt[];
  at: Stmt;
  /** The body's statements compiled for substitution (made at the first expansion). */
  compiled?: BodyLine[];
  /** Each parameter's slot in an expansion's values (made at the first expansion). */
  slots?: Slots;
  /** Bindings by argument text, for the invocations that repeat one (see Binding). */
  memo?: Map<string, Binding>;
  /** In altmacro mode, by the values the arguments had (`%i` read now): the same values make the same statements. */
  altMemo?: Map<string, Binding>;
}

/**
 * An invocation's arguments bound, kept for the next invocation with the same text: outside
 * altmacro mode the same text makes the same statements, except where `\@` goes (a new counter
 * each time). `lines` holds those statements per body line, made at the second use.
 */
export interface Binding {
  values: string[];
  /** No value holds a quote, `#` or `;` (plainText). */
  plain: boolean;
  /** The slots in the order they were given a value (altmacro mode reads them in that order). */
  order: number[];
  uses: number;
  lines: ({ text: string; column: number }[] | undefined)[];
}

/** Parameter names to slots (an index into an expansion's values), and each parameter's slot. */
export interface Slots {
  byName: Map<string, number>;
  of: number[];
}

/** The slots of a macro's parameters (made once per definition). */
export function slotsOf(def: MacroDef): Slots {
  if (!def.slots) {
    // A name given twice has one slot: its value is the last one given, as gas keys them by name.
    const byName = new Map<string, number>();
    const of = def.params.map((p, k) => {
      if (!byName.has(p.name)) byName.set(p.name, k);
      return byName.get(p.name)!;
    });
    def.slots = { byName, of };
  }
  return def.slots;
}

/**
 * One body statement ready for expansion: its statements when nothing in it is substituted,
 * or the pieces to join — text as written, a parameter's slot, or COUNTER for `\@`.
 */
export type BodyLine =
  | { fixed: { text: string; column: number }[] }
  /** `counter`: the line holds `\@`; `plain`: its own text holds no quote, `#` or `;` (plainText). */
  | { pieces: (string | number)[]; counter: boolean; plain: boolean };

/** Marks where `\@` (the expansion counter) goes in a compiled body statement. */
export const COUNTER = -1;

/**
 * The scan every substitution shares: a body statement as pieces to join (text as written, a
 * parameter's slot, or COUNTER for `\@`); undefined when the text holds no backslash. gas reads a
 * whole identifier after `\` (`\()` is how a name ends inside a word); a name not in `slots`
 * stays as written. `subst` tells whether any piece is substituted.
 */
function scanBodyLine(text: string, slots: Map<string, number>): { pieces: (string | number)[]; subst: boolean } | undefined {
  let i = text.indexOf('\\');
  if (i < 0) return undefined;
  const pieces: (string | number)[] = [];
  let subst = false;
  let lit = '';
  let from = 0; // text[from, i) is copied as written
  for (; i >= 0; i = text.indexOf('\\', i + 1)) {
    if (text.startsWith('()', i + 1)) {
      lit += text.slice(from, i);
      i += 2;
      from = i + 1;
      continue;
    }
    let slot: number | undefined;
    let skip = 1;
    if (text[i + 1] === '@') slot = COUNTER;
    else {
      const e = nameEnd(text, i + 1);
      if (e > i + 1) {
        slot = slots.get(text.slice(i + 1, e));
        skip = e - i - 1;
      }
    }
    if (slot === undefined) continue;
    lit += text.slice(from, i);
    if (lit) pieces.push(lit);
    lit = '';
    pieces.push(slot);
    subst = true;
    i += skip;
    from = i + 1;
  }
  lit += text.slice(from);
  if (lit) pieces.push(lit);
  return { pieces, subst };
}

/**
 * Compiles a body statement for expansion with the parameters' `slots`: the scan of
 * substitution, done once per body instead of once per expansion. `split` splits text into
 * statements.
 */
export function compileBodyLine(text: string, slots: Map<string, number>, split: (t: string) => { text: string; column: number }[]): BodyLine {
  const line = scanBodyLine(text, slots);
  if (!line) return { fixed: split(text) };
  if (!line.subst) return { fixed: split(line.pieces.join('')) };
  return { pieces: line.pieces, counter: line.pieces.includes(COUNTER), plain: line.pieces.every((p) => typeof p !== 'string' || plainText(p)) };
}

/** The text of a compiled body statement for one expansion (`values` by slot). */
export function expandBodyLine(line: Extract<BodyLine, { pieces: unknown }>, values: (string | undefined)[], counter: number): string {
  let out = '';
  const pieces = line.pieces;
  for (let k = 0; k < pieces.length; k++) {
    const p = pieces[k];
    out += typeof p === 'string' ? p : p === COUNTER ? String(counter) : values[p];
  }
  return out;
}

/** Splits macro arguments the way gas does outside altmacro mode: commas or blanks separate,
 *  parentheses and quotes group, `"…"` quotes are removed. */
export function splitMacroArgs(text: string): string[] {
  const out: string[] = [];
  const n = text.length;
  let i = skipSpaceTab(text, 0);
  while (i < n) {
    let cur = '';
    let depth = 0;
    let from = i; // text[from, i) is part of the argument but not yet in `cur`
    while (i < n) {
      const ch = text.charCodeAt(i);
      if (ch === 34) {
        const end = text.indexOf('"', i + 1);
        const stop = end < 0 ? n : end;
        cur += text.slice(from, i) + text.slice(i + 1, stop);
        i = stop + 1;
        from = i;
        continue;
      }
      if (ch === 40) depth++;
      else if (ch === 41) depth--;
      if (depth <= 0 && (ch === 44 || ch === 32 || ch === 9)) {
        cur += text.slice(from, i);
        from = i;
        if (ch === 44) break;
        // `a = b` and `a =b`: gas keeps keyword assignments together.
        // Bounds-checked (-1 at the end): a read past the end deoptimizes the optimized code.
        const next = codeAt(text, skipBlanks(text, i));
        if (next === 61 || cur.endsWith('=')) {
          i = skipSpaceTab(text, i);
          from = i;
          continue;
        }
        // gas's input scrubber drops a blank beside a binary operator, so `8*3 +8(%rsp)` and
        // `_XFER + 0*32` are one argument each; not beside `-` or `*` (a sign, an indirection):
        // `m 1 -2` passes two.
        if (cur && (OPERATOR.has(cur.charCodeAt(cur.length - 1)) || OPERATOR.has(next))) {
          i = skipSpaceTab(text, i);
          from = i;
          continue;
        }
        break;
      }
      i++;
    }
    if (from < i) cur += text.slice(from, i);
    out.push(cur);
    i = skipSpaceTab(text, i);
    if (codeAt(text, i) === 44) {
      i = skipSpaceTab(text, i + 1);
      // `a,,b` passes an empty argument
    } else if (i >= n) break;
  }
  return out;
}

/** First index at or after `i` that is not a space or tab. */
function skipSpaceTab(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) break;
    i++;
  }
  return i;
}

/** `+ / | & ^ < >`: a blank beside one of these does not separate macro arguments. */
const OPERATOR = new Set([...'+/|&^<>'].map((c) => c.charCodeAt(0)));

/** Parses `name param1, param2=def, param3:req, rest:vararg`. */
export function parseMacroHeader(text: string): { name: string; params: MacroParam[] } | string {
  const m = /^([A-Za-z_.$][\w.$]*)\s*,?\s*(.*)$/.exec(text.trim());
  if (!m) return 'expected a macro name after .macro';
  const params: MacroParam[] = [];
  for (const raw of splitMacroArgs(m[2])) {
    if (!raw) continue;
    const pm = /^([A-Za-z_.$][\w.$]*)\s*(?::\s*(req|vararg))?\s*(?:=\s*(.*))?$/.exec(raw);
    if (!pm) return `bad macro parameter '${raw}'`;
    params.push({ name: pm[1], req: pm[2] === 'req', vararg: pm[2] === 'vararg', def: pm[3] });
  }
  return { name: m[1], params };
}

/**
 * Binds invocation arguments to parameters: each slot's value (see slotsOf); returns an error
 * message on misuse. `order`, when given, receives the slots in the order they were first given
 * a value (keyword and positional arguments, then defaults).
 */
export function bindMacroArgs(def: MacroDef, argText: string, order?: number[]): string[] | string {
  const params = def.params;
  const { byName, of } = slotsOf(def);
  const values: (string | undefined)[] = [];
  for (let k = 0; k < params.length; k++) values.push(undefined);
  const pieces = argText ? splitMacroArgs(argText) : [];
  let pos = 0;
  for (let k = 0; k < pieces.length; k++) {
    const piece = pieces[k];
    if (piece.includes('=')) {
      // `name=value` for a parameter of that name; anything else is a positional argument.
      const e = nameEnd(piece, 0);
      const eq = skipBlanks(piece, e);
      const slot = e > 0 && piece.charCodeAt(eq) === 61 ? byName.get(piece.slice(0, e)) : undefined;
      const value = slot === undefined ? '' : piece.slice(eq + 1);
      // (A value with a line break was not `name=value` to the pattern gas's reading matched.)
      if (slot !== undefined && !LINE_BREAK.test(value)) {
        if (order && values[slot] === undefined) order.push(slot);
        values[slot] = value.trim();
        continue;
      }
    }
    const p = params[pos];
    if (!p) return `too many arguments for macro '${def.name}' (it takes ${params.length})`;
    const slot = of[pos++];
    if (order && values[slot] === undefined) order.push(slot);
    if (p.vararg) {
      // The vararg takes the rest of the text as written, commas included.
      values[slot] = restAfter(argText, k);
      break;
    }
    values[slot] = piece;
  }
  for (let k = 0; k < params.length; k++) {
    const slot = of[k];
    const v = values[slot];
    if (v === undefined || v === '') {
      const p = params[k];
      if (p.req) return `missing value for required parameter '${p.name}' of macro '${def.name}'`;
      if (order && v === undefined) order.push(slot);
      values[slot] = p.def ?? '';
    }
  }
  return values as string[];
}

const LINE_BREAK = /[\n\r\u2028\u2029]/;

/** The raw invocation text from argument number `k` on. */
function restAfter(text: string, k: number): string {
  let i = 0;
  let idx = 0;
  let depth = 0;
  while (idx < k && i < text.length) {
    const ch = text[i];
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth === 0 && ch === ',') idx++;
    i++;
  }
  return text.slice(i).trim();
}

/** Directive names that open and close a body, for nesting while a body is collected. */
export const BODY_OPENERS: Record<string, 'endm' | 'endr'> = {
  '.macro': 'endm', '.rept': 'endr', '.rep': 'endr', '.irp': 'endr', '.irpc': 'endr',
};

// The gas macro engine's text side: `.macro` headers (defaults, `:req`, `:vararg`), the
// argument splitting of an invocation (commas or blanks, `name=value`), and substitution of
// `\param`, `\()` and `\@` into body statements. Body collection and the expansion stack
// live in the assembler, which owns the statement stream.

import { SourcePosition } from '../image';
import { skipBlanks } from './lexer';

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
}

/**
 * One body statement ready for expansion: its statements when nothing in it is substituted,
 * or the pieces to join — text as written, a parameter's name, or COUNTER for `\@`.
 */
export type BodyLine = { fixed: { text: string; column: number }[] } | { pieces: (string | typeof COUNTER)[]; params: boolean[] };

/** Marks where `\@` (the expansion counter) goes in a compiled body statement. */
export const COUNTER = 0;

/**
 * The scan every substitution shares: a body statement as pieces to join (text as written, a
 * parameter's name, or COUNTER for `\@`); undefined when the text holds no backslash. gas reads a
 * whole identifier after `\` (`\()` is how a name ends inside a word); a name not in `names`
 * stays as written.
 */
function scanBodyLine(text: string, names: { has(name: string): boolean }): { pieces: (string | typeof COUNTER)[]; params: boolean[] } | undefined {
  let i = text.indexOf('\\');
  if (i < 0) return undefined;
  const pieces: (string | typeof COUNTER)[] = [];
  const params: boolean[] = [];
  let lit = '';
  let from = 0; // text[from, i) is copied as written
  const flush = () => {
    if (lit) {
      pieces.push(lit);
      params.push(false);
    }
    lit = '';
  };
  for (; i >= 0; i = text.indexOf('\\', i + 1)) {
    if (text.startsWith('()', i + 1)) {
      lit += text.slice(from, i);
      i += 2;
      from = i + 1;
      continue;
    }
    if (text[i + 1] === '@') {
      lit += text.slice(from, i);
      flush();
      pieces.push(COUNTER);
      params.push(false);
      i += 1;
      from = i + 1;
      continue;
    }
    IDENT.lastIndex = i + 1;
    const m = IDENT.exec(text);
    if (m && names.has(m[0])) {
      lit += text.slice(from, i);
      flush();
      pieces.push(m[0]);
      params.push(true);
      i += m[0].length;
      from = i + 1;
    }
  }
  lit += text.slice(from);
  flush();
  return { pieces, params };
}

/**
 * Compiles a body statement for expansion with the parameters `names`: the scan of `substitute`,
 * done once per macro instead of once per expansion. `split` splits text into statements.
 */
export function compileBodyLine(text: string, names: Set<string>, split: (t: string) => { text: string; column: number }[]): BodyLine {
  const line = scanBodyLine(text, names);
  if (!line) return { fixed: split(text) };
  if (!line.params.some((p) => p) && !line.pieces.includes(COUNTER)) return { fixed: split(line.pieces.join('')) };
  return line;
}

/** The text of a compiled body statement for one expansion. */
export function expandBodyLine(line: Extract<BodyLine, { pieces: unknown }>, values: Map<string, string>, counter: number): string {
  let out = '';
  const { pieces, params } = line;
  for (let k = 0; k < pieces.length; k++) {
    const p = pieces[k];
    out += p === COUNTER ? String(counter) : params[k] ? values.get(p)! : p;
  }
  return out;
}

/** Splits macro arguments the way gas does outside altmacro mode: commas or blanks separate,
 *  parentheses and quotes group, `"…"` quotes are removed. */
export function splitMacroArgs(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = text.length;
  const skipBlank = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  skipBlank();
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
        const next = text.charCodeAt(skipBlanks(text, i));
        if (next === 61 || cur.endsWith('=')) {
          skipBlank();
          from = i;
          continue;
        }
        // gas's input scrubber drops a blank beside a binary operator, so `8*3 +8(%rsp)` and
        // `_XFER + 0*32` are one argument each; not beside `-` or `*` (a sign, an indirection):
        // `m 1 -2` passes two.
        if (cur && (OPERATOR.has(cur.charCodeAt(cur.length - 1)) || OPERATOR.has(next))) {
          skipBlank();
          from = i;
          continue;
        }
        break;
      }
      i++;
    }
    if (from < i) cur += text.slice(from, i);
    out.push(cur);
    skipBlank();
    if (text[i] === ',') {
      i++;
      skipBlank();
      // `a,,b` passes an empty argument
    } else if (i >= n) break;
  }
  return out;
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

/** Binds invocation arguments to parameters; returns an error message on misuse. */
export function bindMacroArgs(def: MacroDef, argText: string): Map<string, string> | string {
  const values = new Map<string, string>();
  const vararg = def.params.find((p) => p.vararg);
  let pieces = splitMacroArgs(argText);
  let pos = 0;
  for (let k = 0; k < pieces.length; k++) {
    const piece = pieces[k];
    const kw = piece.includes('=') ? /^([A-Za-z_.$][\w.$]*)\s*=(.*)$/.exec(piece) : null;
    if (kw && def.params.some((p) => p.name === kw[1])) {
      values.set(kw[1], kw[2].trim());
      continue;
    }
    const p = def.params[pos++];
    if (!p) return `too many arguments for macro '${def.name}' (it takes ${def.params.length})`;
    if (p.vararg) {
      // The vararg takes the rest of the text as written, commas included.
      const rest = restAfter(argText, k);
      values.set(p.name, rest);
      pieces = [];
      break;
    }
    values.set(p.name, piece);
  }
  for (const p of def.params) {
    if (!values.has(p.name) || values.get(p.name) === '') {
      if (p.req && !values.get(p.name)) return `missing value for required parameter '${p.name}' of macro '${def.name}'`;
      if (!values.get(p.name)) values.set(p.name, p.def ?? '');
    }
  }
  void vararg;
  return values;
}

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

/** Substitutes `\name`, `\()` and `\@` in one body line. */
export function substitute(text: string, values: Map<string, string>, counter: number): string {
  const line = scanBodyLine(text, values);
  return line ? expandBodyLine(line, values, counter) : text;
}

const IDENT = /[A-Za-z_.$][\w.$]*/y;

/** Directive names that open and close a body, for nesting while a body is collected. */
export const BODY_OPENERS: Record<string, 'endm' | 'endr'> = {
  '.macro': 'endm', '.rept': 'endr', '.rep': 'endr', '.irp': 'endr', '.irpc': 'endr',
};

// Macro definitions and expansion, faithful to cpp: Prosser's hide sets stop recursion,
// arguments are fully expanded before substitution except as operands of `#` and `##`,
// the result is rescanned together with the rest of the line, GNU `, ## __VA_ARGS__` drops
// the comma, and an invalid paste keeps both tokens in assembly mode as gcc does there.

import { lexOne, type Tok, tokenizeText } from './lexer';

/** A `#define`d macro. */
export interface Macro {
  name: string;
  /** Parameter names; undefined for object-like macros. `__VA_ARGS__` or GNU `name...` last when variadic. */
  params?: string[];
  variadic: boolean;
  body: Tok[];
  /** Where it was defined (file path, 1-based line and column of the name). */
  file: string;
  line: number;
  col: number;
  /** Built-in dynamic macros (__LINE__, __FILE__, __COUNTER__). */
  dynamic?: '__LINE__' | '__FILE__' | '__COUNTER__' | '__INCLUDE_LEVEL__';
}

/** A problem found while parsing a definition or expanding. */
export interface MacroProblem {
  tok: Tok;
  message: string;
  severity: 'error' | 'warning';
}

/** Parse the tokens after `#define`. Returns the macro or the first problem. */
export function parseDefine(toks: Tok[], file: string, asm: boolean, at: Tok): Macro | MacroProblem {
  const name = toks[0];
  if (!name) return { tok: at, message: 'no macro name given in #define directive', severity: 'error' };
  if (name.kind !== 'id') return { tok: name, message: `macro names must be identifiers, found "${name.text}"`, severity: 'error' };
  if (name.text === 'defined') return { tok: name, message: '"defined" cannot be used as a macro name', severity: 'error' };
  let i = 1;
  let params: string[] | undefined;
  let variadic = false;
  if (toks[1] && toks[1].text === '(' && toks[1].ws === '') {
    params = [];
    i = 2;
    if (toks[i]?.text === ')') i++;
    else {
      for (;;) {
        const p = toks[i];
        if (!p) return { tok: toks[i - 1], message: "missing ')' in macro parameter list", severity: 'error' };
        if (p.text === '...') {
          params.push('__VA_ARGS__');
          variadic = true;
          i++;
        } else if (p.kind === 'id') {
          if (p.text === '__VA_ARGS__') return { tok: p, message: '__VA_ARGS__ can not be used as a parameter name', severity: 'error' };
          if (params.includes(p.text)) return { tok: p, message: `duplicate macro parameter "${p.text}"`, severity: 'error' };
          params.push(p.text);
          i++;
          if (toks[i]?.text === '...') {
            variadic = true;
            i++;
          }
        } else return { tok: p, message: `expected parameter name, found "${p.text}"`, severity: 'error' };
        const sep = toks[i];
        if (sep?.text === ')') {
          i++;
          break;
        }
        if (variadic || !sep || sep.text !== ',') {
          return { tok: sep ?? p, message: `expected ',' or ')' in macro parameter list, found ${sep ? `"${sep.text}"` : 'end of line'}`, severity: 'error' };
        }
        i++;
      }
    }
  }
  const body = toks.slice(i).map((t) => ({ ...t }));
  if (body.length) body[0].ws = '';
  if (body.length && (body[0].text === '##' || body[body.length - 1].text === '##')) {
    const t = body[0].text === '##' ? body[0] : body[body.length - 1];
    return { tok: t, message: "'##' cannot appear at either end of a macro expansion", severity: 'error' };
  }
  if (params && !asm) {
    for (let k = 0; k < body.length; k++) {
      if (body[k].text === '#' && !(body[k + 1] && params.includes(body[k + 1].text))) {
        return { tok: body[k], message: "'#' is not followed by a macro parameter", severity: 'error' };
      }
    }
  }
  return { name: name.text, params, variadic, body, file, line: name.line, col: name.col };
}

/** Same definition (cpp allows redefinition only then)? Whitespace counts only as present/absent. */
export function sameDefinition(a: Macro, b: Macro): boolean {
  if ((a.params === undefined) !== (b.params === undefined)) return false;
  if (a.params && b.params && (a.params.join(',') !== b.params.join(',') || a.variadic !== b.variadic)) return false;
  if (a.body.length !== b.body.length) return false;
  return a.body.every((t, k) => t.text === b.body[k].text && (k === 0 || (t.ws === '') === (b.body[k].ws === '')));
}

/** What the expander needs from the preprocessor around it. */
export interface ExpandContext {
  macros: Map<string, Macro>;
  asm: boolean;
  file: string;
  includeLevel: number;
  counter: { value: number };
  /** Top-level only: the next line's tokens when an invocation continues past the line end. `needParen`: only if it starts with `(`. */
  more?: (needParen: boolean) => Tok[] | undefined;
  /** `#if` context: evaluates `defined` and `__has_include`. */
  inIf?: { hasInclude: (spec: string, angled: boolean, next: boolean) => boolean };
  report: (p: MacroProblem) => void;
  /** Shared step budget: expansion stops with an error when it runs out (never a hang). */
  budget: { steps: number; exhausted: boolean };
}

const union = (a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined, name: string): ReadonlySet<string> => {
  const s = new Set<string>(a ?? []);
  if (b) for (const x of b) s.add(x);
  s.add(name);
  return s;
};
const intersect = (a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): ReadonlySet<string> => {
  const s = new Set<string>();
  if (a && b) for (const x of a) if (b.has(x)) s.add(x);
  return s;
};

const MAX_TOKENS = 200_000;

/** Macro-expand a token list (the top-level line when `ctx.more` is set). */
export function expand(toks: Tok[], ctx: ExpandContext, top = true): Tok[] {
  // The unread input is a stack (next token last), so replacing the head costs only its size.
  const rest = toks.slice().reverse();
  const out: Tok[] = [];
  const peek = (k = 0): Tok | undefined => rest[rest.length - 1 - k];
  const pushBack = (ts: Tok[]) => {
    for (let k = ts.length - 1; k >= 0; k--) rest.push(ts[k]);
  };
  const fetch = (needParen: boolean): boolean => {
    if (!top || !ctx.more || rest.length) return false;
    const more = ctx.more(needParen);
    if (!more) return false;
    if (more.length) more[0] = { ...more[0], ws: more[0].ws || ' ' };
    pushBack(more);
    return true;
  };
  while (rest.length) {
    const t = rest.pop()!;
    if (t.kind !== 'id' || ctx.budget.exhausted) {
      out.push(t);
      continue;
    }
    if (ctx.inIf && !t.hide?.has(t.text)) {
      const special = ifOperator(t, peek, ctx);
      if (special) {
        rest.length -= special.consumed;
        out.push(special.tok);
        continue;
      }
    }
    const m = ctx.macros.get(t.text);
    if (!m || t.hide?.has(t.text)) {
      out.push(t);
      continue;
    }
    if (--ctx.budget.steps < 0 || rest.length > MAX_TOKENS) {
      ctx.budget.exhausted = true;
      ctx.report({ tok: t, message: `macro expansion limit reached while expanding "${t.text}" (runaway or exponential macro)`, severity: 'error' });
      out.push(t);
      continue;
    }
    if (m.dynamic) {
      rest.push(dynamicValue(m, t, ctx));
      continue;
    }
    if (!m.params) {
      pushBack(substitute(m, t, [], union(t.hide, undefined, m.name), ctx));
      continue;
    }
    if (!rest.length) fetch(true);
    if (peek()?.text !== '(') {
      out.push(t);
      continue;
    }
    // Collect the arguments, pulling further lines at top level.
    const taken: Tok[] = [rest.pop()!];
    const args: Tok[][] = [[]];
    let depth = 0;
    let close: Tok | undefined;
    for (;;) {
      if (!rest.length && !fetch(false)) break;
      const a = rest.pop()!;
      taken.push(a);
      if (a.text === '(') depth++;
      else if (a.text === ')') {
        if (depth === 0) {
          close = a;
          break;
        }
        depth--;
      } else if (a.text === ',' && depth === 0 && !(m.variadic && args.length === m.params.length)) {
        args.push([]);
        continue;
      }
      args[args.length - 1].push(a);
    }
    if (!close) {
      ctx.report({ tok: t, message: `unterminated argument list invoking macro "${m.name}"`, severity: 'error' });
      out.push(t);
      pushBack(taken);
      continue;
    }
    const problem = checkArgCount(m, args);
    if (problem) {
      ctx.report({ tok: close, message: problem, severity: 'error' });
      out.push(t);
      continue;
    }
    if (m.params.length === 0) args.length = 0;
    while (args.length < m.params.length) args.push([]);
    const hs = union(intersect(t.hide, close.hide), undefined, m.name);
    pushBack(substitute(m, t, args, hs, ctx));
  }
  return out;
}

function checkArgCount(m: Macro, args: Tok[][]): string | undefined {
  const want = m.params!.length;
  const got = want === 0 && args.length === 1 && args[0].length === 0 ? 0 : args.length;
  if (m.variadic ? got < want - 1 : got < want) {
    return `macro "${m.name}" requires ${want} argument${want === 1 ? '' : 's'}, but only ${got} given`;
  }
  if (!m.variadic && got > want) return `macro "${m.name}" passed ${got} arguments, but takes just ${want}`;
  return undefined;
}

function dynamicValue(m: Macro, t: Tok, ctx: ExpandContext): Tok {
  const base = { ws: t.ws, line: t.line, col: t.col, fromMacro: true };
  switch (m.dynamic) {
    case '__LINE__': return { ...base, kind: 'num', text: String(t.line) };
    case '__FILE__': return { ...base, kind: 'str', text: JSON.stringify(ctx.file) };
    case '__INCLUDE_LEVEL__': return { ...base, kind: 'num', text: String(ctx.includeLevel) };
    default: return { ...base, kind: 'num', text: String(ctx.counter.value++) };
  }
}

/** `defined X`, `defined(X)`, `__has_include(...)` and friends inside `#if`; `consumed` counts tokens after `t`. */
function ifOperator(t: Tok, peek: (k?: number) => Tok | undefined, ctx: ExpandContext): { tok: Tok; consumed: number } | undefined {
  const num = (v: boolean): Tok => ({ kind: 'num', text: v ? '1' : '0', ws: t.ws, line: t.line, col: t.col });
  if (t.text === 'defined') {
    let j = 0;
    const paren = peek(j)?.text === '(';
    if (paren) j++;
    const name = peek(j);
    if (!name || name.kind !== 'id') {
      ctx.report({ tok: name ?? t, message: 'operator "defined" requires an identifier', severity: 'error' });
      return { tok: num(false), consumed: j };
    }
    j++;
    if (paren) {
      if (peek(j)?.text !== ')') ctx.report({ tok: peek(j) ?? name, message: 'missing \')\' after "defined"', severity: 'error' });
      else j++;
    }
    return { tok: num(ctx.macros.has(name.text)), consumed: j };
  }
  if (!/^__has_(include|include_next|attribute|builtin|feature|extension|cpp_attribute|c_attribute)$/.test(t.text)) return undefined;
  if (peek(0)?.text !== '(') {
    ctx.report({ tok: t, message: `missing '(' after "${t.text}"`, severity: 'error' });
    return { tok: num(false), consumed: 0 };
  }
  const inner: Tok[] = [];
  let j = 1;
  let depth = 0;
  for (; peek(j) && !(peek(j)!.text === ')' && depth === 0); j++) {
    if (peek(j)!.text === '(') depth++;
    if (peek(j)!.text === ')') depth--;
    inner.push(peek(j)!);
  }
  if (!peek(j)) {
    ctx.report({ tok: t, message: `missing ')' after "${t.text}" operand`, severity: 'error' });
    return { tok: num(false), consumed: j };
  }
  let value = false;
  if (t.text.startsWith('__has_include')) {
    const next = t.text === '__has_include_next';
    if (inner.length === 1 && inner[0].kind === 'str') value = ctx.inIf!.hasInclude(inner[0].text.slice(1, -1), false, next);
    else if (inner[0]?.text === '<' && inner[inner.length - 1].text === '>') {
      const spec = inner.slice(1, -1).map((x, k) => (k ? x.ws : '') + x.text).join('');
      value = ctx.inIf!.hasInclude(spec, true, next);
    } else ctx.report({ tok: inner[0] ?? t, message: `operator "${t.text}" requires a header-name`, severity: 'error' });
  }
  return { tok: num(value), consumed: j + 1 };
}

/** Replace a macro invocation by its body with the arguments substituted (C11 6.10.3.1–3). */
function substitute(m: Macro, inv: Tok, args: Tok[][], hs: ReadonlySet<string>, ctx: ExpandContext): Tok[] {
  const params = m.params ?? [];
  const pIndex = (t: Tok | undefined) => (t && t.kind === 'id' && m.params ? params.indexOf(t.text) : -1);
  const expanded = new Map<number, Tok[]>();
  const expandedArg = (p: number) => {
    let e = expanded.get(p);
    if (!e) expanded.set(p, (e = expand(args[p], { ...ctx, more: undefined }, false)));
    return e;
  };
  const PM: Tok = { kind: 'pm', text: '', ws: '', line: inv.line, col: inv.col };
  const out: Tok[] = [];
  const body = m.body;
  const pushCopies = (ts: Tok[], ws: string) => ts.forEach((x, k) => out.push({ ...x, ws: k === 0 ? ws : x.ws }));
  for (let k = 0; k < body.length; k++) {
    const t = body[k];
    if (m.params && t.kind === 'punct' && t.text === '#' && pIndex(body[k + 1]) >= 0) {
      out.push(stringify(args[pIndex(body[k + 1])], t));
      k++;
      continue;
    }
    if (t.kind === 'punct' && t.text === '##' && k + 1 < body.length) {
      const nx = body[k + 1];
      const q = pIndex(nx);
      let rhs: Tok[];
      if (q >= 0 && m.variadic && q === params.length - 1 && out.length && out[out.length - 1].text === ',') {
        // GNU extension: `, ## __VA_ARGS__` drops the comma when the variable part is empty.
        if (args[q].length === 0) out.pop();
        else pushCopies(args[q], args[q][0].ws);
        k++;
        continue;
      }
      if (q >= 0) rhs = args[q].length ? args[q] : [PM];
      else if (m.params && nx.text === '#' && pIndex(body[k + 2]) >= 0) {
        rhs = [stringify(args[pIndex(body[k + 2])], nx)];
        k++;
      } else rhs = [nx];
      const lhs = out.pop() ?? PM;
      out.push(...paste(lhs, rhs[0], ctx, inv));
      pushCopies(rhs.slice(1), rhs[1]?.ws ?? '');
      k++;
      continue;
    }
    const p = pIndex(t);
    if (p >= 0) {
      const raw = body[k + 1]?.text === '##';
      const ts = raw ? args[p] : expandedArg(p);
      if (ts.length === 0) {
        if (raw) out.push(PM);
        continue;
      }
      pushCopies(ts, t.ws);
      continue;
    }
    out.push({ ...t, line: inv.line, col: inv.col });
  }
  const result: Tok[] = [];
  // Hide sets are never changed once made: tokens that came in with the same one share the
  // result (most of a body shares one), instead of a new set per token.
  const hides = new Map<ReadonlySet<string> | undefined, ReadonlySet<string>>();
  for (const x of out) {
    if (x.kind === 'pm') continue;
    let hide = hides.get(x.hide);
    if (!hide) {
      hide = union(x.hide, hs, m.name);
      hides.set(x.hide, hide);
    }
    result.push({ ...x, hide, fromMacro: true });
  }
  if (result.length) result[0].ws = inv.ws;
  return result;
}

function paste(lhs: Tok, rhs: Tok, ctx: ExpandContext, inv: Tok): Tok[] {
  if (lhs.kind === 'pm') return [{ ...rhs }];
  if (rhs.kind === 'pm') return [lhs];
  const text = lhs.text + rhs.text;
  const lexed = lexOne(text, 0, ctx.asm);
  if (lexed.len === text.length) return [{ kind: lexed.kind, text, ws: lhs.ws, line: lhs.line, col: lhs.col }];
  if (!ctx.asm) {
    ctx.report({ tok: inv, message: `pasting "${lhs.text}" and "${rhs.text}" does not give a valid preprocessing token`, severity: 'error' });
  }
  return [lhs, { ...rhs, ws: ' ' }];
}

/** `#x`: the argument's spelling as a string literal, whitespace runs as one space. */
function stringify(arg: Tok[], at: Tok): Tok {
  let s = '';
  arg.forEach((t, k) => {
    if (k > 0 && t.ws !== '') s += ' ';
    s += t.kind === 'str' || t.kind === 'chr' ? t.text.replace(/[\\"]/g, (c) => '\\' + c) : t.text;
  });
  return { kind: 'str', text: `"${s}"`, ws: at.ws, line: at.line, col: at.col };
}

/** A macro from a `-D`-style option: key `NAME` or `NAME(args)`, value the body. */
export function macroFromOption(key: string, value: string, asm: boolean): Macro | MacroProblem {
  const toks = tokenizeText(`${key} ${value}`, 0, 0, asm);
  // `NAME(x)` must keep its parenthesis glued to the name.
  const paren = key.indexOf('(');
  if (paren > 0 && toks[1]) toks[1].ws = '';
  return parseDefine(toks, '<command-line>', asm, toks[0] ?? { kind: 'other', text: '', ws: '', line: 0, col: 0 });
}

// Lexing for the preprocessor and the C declaration parser: a source file becomes logical
// lines (continuations joined, comments blanked, every character mapped back to its physical
// line and column), and a logical line becomes preprocessing tokens as cpp forms them.
// Assembly mode follows `gcc -x assembler-with-cpp`: no `$` in identifiers, a `'` or `"`
// with no closing quote on the line is a lone character, not an error.

/** Kinds of preprocessing token. `pm` is the placemarker used inside `##` pasting only. */
export type TokKind = 'id' | 'num' | 'str' | 'chr' | 'punct' | 'other' | 'pm';

/** One preprocessing token. */
export interface Tok {
  kind: TokKind;
  text: string;
  /** Whitespace that preceded the token, as written ('' or ' ' for macro-made tokens). */
  ws: string;
  /** Physical line and column (1-based) of the token, or of the macro invocation that made it. */
  line: number;
  col: number;
  /** Macro names that must not expand this token again (Prosser's hide set). */
  hide?: ReadonlySet<string>;
  /** True when the token came out of a macro expansion (for the output spacing rules). */
  fromMacro?: boolean;
}

/** A logical line: text after continuation joining and comment removal. */
export interface LogicalLine {
  text: string;
  /** Physical line and column of each character of `text`. */
  lines: number[];
  cols: number[];
  /** First physical line of this logical line. */
  line: number;
}

export interface LexOptions {
  /** Assembly mode (`-x assembler-with-cpp`); default true. */
  asm?: boolean;
}

/**
 * Split a file into logical lines. Block comments become spaces (one per character while on
 * the line where they start, so columns stay true); a block comment spanning lines joins them.
 * Reports unterminated block comments through `onError` at the comment start.
 */
export function logicalLines(src: string, onError?: (line: number, col: number, msg: string) => void): LogicalLine[] {
  const out: LogicalLine[] = [];
  let text = '';
  let lines: number[] = [];
  let cols: number[] = [];
  let line = 1;
  let col = 1;
  let startLine = 1;
  const n = src.length;
  let i = 0;
  const push = (ch: string, l: number, c: number) => {
    text += ch;
    lines.push(l);
    cols.push(c);
  };
  const flush = () => {
    out.push({ text, lines, cols, line: startLine });
    text = '';
    lines = [];
    cols = [];
  };
  /** Skip a backslash-newline at i; returns true if one was skipped. */
  const continuation = (): boolean => {
    if (src[i] !== '\\') return false;
    let j = i + 1;
    while (j < n && (src[j] === ' ' || src[j] === '\t')) j++;
    if (src[j] === '\r' && src[j + 1] === '\n') j++;
    if (src[j] !== '\n') return false;
    i = j + 1;
    line++;
    col = 1;
    return true;
  };
  /** Does a closing quote occur later on this physical line (cpp looks no further)? */
  const closes = (from: number, q: string): boolean => {
    for (let j = from; j < n && src[j] !== '\n'; j++) {
      if (src[j] === '\\') j++;
      else if (src[j] === q) return true;
    }
    return false;
  };
  while (i < n) {
    if (continuation()) continue;
    const ch = src[i];
    if (ch === '\n' || (ch === '\r' && src[i + 1] === '\n')) {
      i += ch === '\r' ? 2 : 1;
      flush();
      line++;
      col = 1;
      startLine = line;
      continue;
    }
    if (ch === '/' && src[i + 1] === '*') {
      const cl = line;
      const cc = col;
      i += 2;
      col += 2;
      push(' ', cl, cc);
      push(' ', cl, cc + 1);
      let closed = false;
      while (i < n) {
        if (src[i] === '*' && src[i + 1] === '/') {
          if (line === cl) {
            push(' ', line, col);
            push(' ', line, col + 1);
          }
          i += 2;
          col += 2;
          closed = true;
          break;
        }
        if (src[i] === '\n') {
          line++;
          col = 1;
        } else {
          if (line === cl && src[i] !== '\r') push(' ', line, col);
          col++;
        }
        i++;
      }
      if (!closed) onError?.(cl, cc, 'unterminated comment');
      continue;
    }
    if (ch === '/' && src[i + 1] === '/') {
      // A `//` comment runs to the end of the logical line (continuations included).
      while (i < n && src[i] !== '\n' && !(src[i] === '\r' && src[i + 1] === '\n')) {
        if (!continuation()) {
          i++;
          col++;
        }
      }
      continue;
    }
    if ((ch === '"' || ch === "'") && closes(i + 1, ch)) {
      push(ch, line, col);
      i++;
      col++;
      while (i < n) {
        if (continuation()) continue;
        const c = src[i];
        push(c, line, col);
        i++;
        col++;
        if (c === '\\' && i < n && src[i] !== '\n') {
          push(src[i], line, col);
          i++;
          col++;
        } else if (c === ch) break;
      }
      continue;
    }
    push(ch, line, col);
    i++;
    col++;
  }
  if (text.length > 0 || lines.length > 0) flush();
  return out;
}

const PUNCTS3 = ['<<=', '>>=', '...'];
const PUNCTS2 = ['->', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '*=', '/=', '%=', '+=', '-=', '&=', '^=', '|=', '##'];
const PUNCT1 = new Set('[](){}.&*+-~!/%<>^|?:;=,#');

const isIdStart = (c: string, asm: boolean) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || (!asm && c === '$');
const isIdChar = (c: string, asm: boolean) => isIdStart(c, asm) || (c >= '0' && c <= '9');
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/** Tokenize one logical line (or a part of it starting at `from`). */
export function tokenize(ll: LogicalLine, opts: LexOptions = {}, from = 0): Tok[] {
  const asm = opts.asm ?? true;
  const s = ll.text;
  const toks: Tok[] = [];
  let i = from;
  while (i < s.length) {
    const ws0 = i;
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\f' || s[i] === '\v' || s[i] === '\r')) i++;
    if (i >= s.length) break;
    const ws = s.slice(ws0, i);
    const start = i;
    const len = lexOne(s, i, asm);
    const text = s.slice(start, start + len.len);
    i = start + len.len;
    toks.push({ kind: len.kind, text, ws, line: ll.lines[start] ?? ll.line, col: ll.cols[start] ?? 1 });
  }
  return toks;
}

/** Length and kind of the token starting at s[i]. */
export function lexOne(s: string, i: number, asm: boolean): { len: number; kind: TokKind } {
  const c = s[i];
  if (isIdStart(c, asm)) {
    let j = i + 1;
    while (j < s.length && isIdChar(s[j], asm)) j++;
    return { len: j - i, kind: 'id' };
  }
  if (isDigit(c) || (c === '.' && isDigit(s[i + 1]))) {
    let j = i + 1;
    while (j < s.length) {
      const d = s[j];
      if ((d === '+' || d === '-') && 'eEpP'.includes(s[j - 1])) j++;
      else if (isIdChar(d, asm) || d === '.') j++;
      else break;
    }
    return { len: j - i, kind: 'num' };
  }
  if (c === '"' || c === "'") {
    let j = i + 1;
    while (j < s.length && s[j] !== c) j += s[j] === '\\' ? 2 : 1;
    if (j < s.length) return { len: j + 1 - i, kind: c === '"' ? 'str' : 'chr' };
    return { len: 1, kind: 'other' };
  }
  for (const p of PUNCTS3) if (s.startsWith(p, i)) return { len: 3, kind: 'punct' };
  for (const p of PUNCTS2) if (s.startsWith(p, i)) return { len: 2, kind: 'punct' };
  if (PUNCT1.has(c)) return { len: 1, kind: 'punct' };
  return { len: 1, kind: 'other' };
}

/** Would `a` immediately followed by `b` lex differently (cpp's avoid_paste)? */
export function wouldPaste(a: Tok, b: Tok, asm: boolean): boolean {
  if (a.kind === 'pm' || b.kind === 'pm') return false;
  const joined = a.text + b.text;
  return lexOne(joined, 0, asm).len > a.text.length;
}

/** Tokens back to text: macro-made tokens get a space where they would otherwise paste. */
export function spell(toks: Tok[], asm: boolean): string {
  let out = '';
  let prev: Tok | undefined;
  for (const t of toks) {
    if (t.kind === 'pm') continue;
    let ws = t.ws;
    if (prev && ws === '' && (t.fromMacro || prev.fromMacro) && wouldPaste(prev, t, asm)) ws = ' ';
    out += (prev ? ws : t.ws) + t.text;
    prev = t;
  }
  return out;
}

/** Lex a standalone string (for pasting and for `defines` option values). */
export function tokenizeText(text: string, line: number, col: number, asm: boolean): Tok[] {
  const ll: LogicalLine = { text, lines: [], cols: [], line };
  for (let k = 0; k < text.length; k++) {
    ll.lines.push(line);
    ll.cols.push(col);
  }
  return tokenize(ll, { asm });
}

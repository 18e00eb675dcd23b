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
  /**
   * Physical line and column of each character of `text`; absent for a line that is one
   * physical line as written (character k is then on `line`, column k + 1).
   */
  lines?: number[];
  cols?: number[];
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
    if (text.length === 0 && lines.length === 0) {
      // Most lines hold no comment, quote, backslash or CR: take them whole.
      SPECIAL.lastIndex = i;
      const sp = SPECIAL.exec(src);
      const eol = sp ? sp.index : n;
      if (eol === n || src.charCodeAt(eol) === 10) {
        if (eol < n || eol > i) out.push({ text: src.slice(i, eol), line });
        if (eol === n) break;
        i = eol + 1;
        line++;
        startLine = line;
        continue;
      }
    }
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

/** The characters that need the character-by-character path of {@link logicalLines} (and the newline that ends a simple line). */
const SPECIAL = /[\n\\/"'\r]/g;

const PUNCTS3 = ['<<=', '>>=', '...'];
const PUNCTS2 = ['->', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '*=', '/=', '%=', '+=', '-=', '&=', '^=', '|=', '##'];
const PUNCT1 = new Set('[](){}.&*+-~!/%<>^|?:;=,#');


/** Tokenize one logical line (or a part of it starting at `from`). */
export function tokenize(ll: LogicalLine, opts: LexOptions = {}, from = 0): Tok[] {
  const asm = opts.asm ?? true;
  const s = ll.text;
  const toks: Tok[] = [];
  const lines = ll.lines;
  const cols = ll.cols;
  let i = from;
  while (i < s.length) {
    const ws0 = i;
    while (i < s.length && isBlank(s.charCodeAt(i))) i++;
    if (i >= s.length) break;
    const ws = i === ws0 ? '' : i === ws0 + 1 && s.charCodeAt(ws0) === 32 ? ' ' : s.slice(ws0, i);
    const start = i;
    const len = lexLen(s, i, asm);
    const text = s.slice(start, start + len);
    i = start + len;
    toks.push({ kind: lexKind, text, ws, line: lines ? lines[start] ?? ll.line : ll.line, col: cols ? cols[start] ?? 1 : start + 1 });
  }
  return toks;
}

/** Space, tab, form feed, vertical tab, carriage return: blanks between tokens. */
const isBlank = (c: number) => c === 32 || c === 9 || c === 12 || c === 11 || c === 13;
const isIdStartCode = (c: number, asm: boolean) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (!asm && c === 36);
const isIdCode = (c: number, asm: boolean) => isIdStartCode(c, asm) || (c >= 48 && c <= 57);
const isDigitCode = (c: number) => c >= 48 && c <= 57;

/** The kind of the token {@link lexLen} measured last (kept out of its result: no object per token). */
let lexKind: TokKind = 'other';

/** Length of the token starting at s[i]; its kind is left in `lexKind`. */
function lexLen(s: string, i: number, asm: boolean): number {
  const c = s.charCodeAt(i);
  const n = s.length;
  if (isIdStartCode(c, asm)) {
    let j = i + 1;
    while (j < n && isIdCode(s.charCodeAt(j), asm)) j++;
    lexKind = 'id';
    return j - i;
  }
  if (isDigitCode(c) || (c === 46 && isDigitCode(s.charCodeAt(i + 1)))) {
    let j = i + 1;
    while (j < n) {
      const d = s.charCodeAt(j);
      const p = s.charCodeAt(j - 1);
      if ((d === 43 || d === 45) && (p === 101 || p === 69 || p === 112 || p === 80)) j++;
      else if (isIdCode(d, asm) || d === 46) j++;
      else break;
    }
    lexKind = 'num';
    return j - i;
  }
  if (c === 34 || c === 39) {
    let j = i + 1;
    while (j < n && s.charCodeAt(j) !== c) j += s.charCodeAt(j) === 92 ? 2 : 1;
    if (j < n) {
      lexKind = c === 34 ? 'str' : 'chr';
      return j + 1 - i;
    }
    lexKind = 'other';
    return 1;
  }
  const ch = s[i];
  if (PUNCT_START.has(ch)) {
    for (const p of PUNCTS3) if (s.startsWith(p, i)) { lexKind = 'punct'; return 3; }
    for (const p of PUNCTS2) if (s.startsWith(p, i)) { lexKind = 'punct'; return 2; }
  }
  lexKind = PUNCT1.has(ch) ? 'punct' : 'other';
  return 1;
}

/** First characters of the two- and three-character punctuators. */
const PUNCT_START = new Set([...PUNCTS3, ...PUNCTS2].map((p) => p[0]));

/** Length and kind of the token starting at s[i]. */
export function lexOne(s: string, i: number, asm: boolean): { len: number; kind: TokKind } {
  const len = lexLen(s, i, asm);
  return { len, kind: lexKind };
}

/**
 * What {@link tokenize} would say of a logical line, without making its tokens: 1 when its first
 * token is `#` (a directive, or assembly's `#` comment), 2 when some identifier names a macro
 * (`isMacro`), 0 otherwise; -1 for a line with no token at all.
 */
export function scanLine(s: string, asm: boolean, isMacro: (name: string) => boolean): -1 | 0 | 1 | 2 {
  let i = 0;
  let first = true;
  while (i < s.length) {
    if (isBlank(s.charCodeAt(i))) { i++; continue; }
    const len = lexLen(s, i, asm);
    if (first) {
      if (lexKind === 'punct' && len === 1 && s.charCodeAt(i) === 35) return 1;
      first = false;
    }
    if (lexKind === 'id' && isMacro(s.slice(i, i + len))) return 2;
    i += len;
  }
  return first ? -1 : 0;
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
  const cols: number[] = [];
  for (let k = 0; k < text.length; k++) cols.push(col);
  return tokenize({ text, cols, line }, { asm });
}

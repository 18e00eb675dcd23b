// Lexical layer of the GNU as (AT&T) assembler: splits a preprocessed line into statements
// (`;` separators, `#` comments, both ignored inside strings and character constants) and
// gives the parsers one small character scanner. Columns are kept so every diagnostic can
// point at the byte the user wrote.

/** One statement of a line, with the 1-based column where it starts. */
export interface Statement {
  text: string;
  column: number;
}

/** Splits a line into statements, dropping a trailing `#` comment. */
export function splitStatements(line: string): Statement[] {
  // Most lines hold one statement and no string, comment or separator: no scan needed.
  if (!HAS_SPECIAL.test(line)) {
    let a = 0;
    let b = line.length;
    while (a < b && isBlank(line.charCodeAt(a))) a++;
    while (b > a && isBlank(line.charCodeAt(b - 1))) b--;
    return a === b ? [] : [{ text: a === 0 && b === line.length ? line : line.slice(a, b), column: a + 1 }];
  }
  const out: Statement[] = [];
  let start = 0;
  let i = 0;
  const push = (end: number) => {
    const raw = line.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    const text = raw.trim();
    if (text) out.push({ text, column: start + lead + 1 });
  };
  while (i < line.length) {
    const ch = line[i];
    if (ch === '"') {
      i = skipString(line, i);
      continue;
    }
    if (ch === "'") {
      // A character constant: 'c, '\n, optionally closed by a second quote (cpp output).
      i += line[i + 1] === '\\' ? 3 : 2;
      if (line[i] === "'") i++;
      continue;
    }
    if (ch === '#') break;
    if (ch === ';') {
      push(i);
      start = i + 1;
    }
    i++;
  }
  push(Math.min(i, line.length));
  return out;
}

/**
 * splitStatements into the caller's arrays (texts and columns), which it reuses from line to
 * line; returns how many statements the line holds. No object is made per statement.
 */
export function splitStatementsInto(line: string, texts: string[], cols: number[]): number {
  if (!HAS_SPECIAL.test(line)) return trimmedInto(line, texts, cols);
  const parts = splitStatements(line);
  for (let k = 0; k < parts.length; k++) {
    texts[k] = parts[k].text;
    cols[k] = parts[k].column;
  }
  return parts.length;
}

/** splitStatementsInto for a line known to hold no quote, `#` or `;` (see plainText): one statement or none. */
export function trimmedInto(line: string, texts: string[], cols: number[]): number {
  let a = 0;
  let b = line.length;
  while (a < b && isBlank(line.charCodeAt(a))) a++;
  while (b > a && isBlank(line.charCodeAt(b - 1))) b--;
  if (a === b) return 0;
  texts[0] = a === 0 && b === line.length ? line : line.slice(a, b);
  cols[0] = a + 1;
  return 1;
}

/** True when `s` holds no quote, `#` or `;`: text that splitStatements keeps in one piece. */
export function plainText(s: string): boolean {
  return !HAS_SPECIAL.test(s);
}

/** Index just past the string literal starting at `i` (which holds `"`). */
export function skipString(s: string, i: number): number {
  i++;
  while (i < s.length && s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
  return i + 1;
}

const HAS_SPECIAL = /["'#;]/;

/** The characters String.prototype.trim removes that can appear in an assembly line. */
export function isBlank(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0xfeff || (c >= 0x2000 && (c <= 0x200a || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000)) || c === 0x1680;
}

/** End of the symbol name `[A-Za-z_.$][\w.$]*` starting at `i` (`i` itself when none starts there). */
export function nameEnd(s: string, i: number): number {
  if (i >= s.length || !isSymStartCode(s.charCodeAt(i))) return i;
  i++;
  while (i < s.length && isSymCharCode(s.charCodeAt(i))) i++;
  return i;
}

/**
 * `s.charCodeAt(i)`, or -1 at or past the end. Optimized code that reads a character code at
 * the end of a string (NaN) deoptimizes ("out of bounds"), once per call site: the hot
 * statement path was recompiled several times during the first runs (20-45 ms of TurboFan each).
 */
export function codeAt(s: string, i: number): number {
  return i < s.length ? s.charCodeAt(i) : -1;
}

/** First index at or after `i` that is not a blank (JS `\s`). */
export function skipBlanks(s: string, i: number): number {
  while (i < s.length && isBlank(s.charCodeAt(i))) i++;
  return i;
}

/** Characters that may start a symbol name. */
export function isSymStart(ch: string | undefined): boolean {
  return ch !== undefined && ch.length === 1 && isSymStartCode(ch.charCodeAt(0));
}

/** Characters that may continue a symbol name. */
export function isSymChar(ch: string | undefined): boolean {
  return ch !== undefined && ch.length === 1 && isSymCharCode(ch.charCodeAt(0));
}

/** [A-Za-z_.$] */
export function isSymStartCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 46 || c === 36;
}

/** [A-Za-z0-9_.$] */
export function isSymCharCode(c: number): boolean {
  return isSymStartCode(c) || (c >= 48 && c <= 57);
}

/** A tiny cursor over one statement; `col0` maps offsets back to line columns. */
export class Scanner {
  pos = 0;
  constructor(readonly src: string, readonly col0 = 1) {}

  get column(): number {
    return this.col0 + this.pos;
  }
  peek(k = 0): string | undefined {
    return this.src[this.pos + k];
  }
  skipWs(): void {
    while (this.pos < this.src.length && (this.src[this.pos] === ' ' || this.src[this.pos] === '\t')) this.pos++;
  }
  eof(): boolean {
    this.skipWs();
    return this.pos >= this.src.length;
  }
  /** Consumes `s` (after whitespace) when it is next. */
  eat(s: string): boolean {
    this.skipWs();
    if (this.src.startsWith(s, this.pos)) {
      this.pos += s.length;
      return true;
    }
    return false;
  }
  /** Reads a symbol name, or returns undefined without consuming anything. */
  ident(): string | undefined {
    this.skipWs();
    const src = this.src;
    if (this.pos >= src.length || !isSymStartCode(src.charCodeAt(this.pos))) return undefined;
    const start = this.pos;
    while (this.pos < src.length && isSymCharCode(src.charCodeAt(this.pos))) this.pos++;
    return src.slice(start, this.pos);
  }
  rest(): string {
    return this.src.slice(this.pos).trim();
  }
}

/** Splits `a, b, "c,d", (e,f)` at top-level commas. Returns pieces with their columns. */
export function splitArgs(text: string, col0: number): Statement[] {
  // By character codes, one slice per piece and a trim only where there are blanks: every
  // instruction's operands pass through here.
  const out: Statement[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = codeAt(text, i);
    if (c === 34 /* " */) i = skipString(text, i) - 1;
    else if (c === 40 /* ( */) depth++;
    else if (c === 41 /* ) */) depth--;
    else if ((c === 44 /* , */ && depth === 0) || i === text.length) {
      const raw = text.slice(start, i);
      const t = raw.trim();
      out.push({ text: t, column: col0 + start + (t.length === raw.length ? 0 : raw.length - raw.trimStart().length) });
      start = i + 1;
    }
  }
  if (out.length === 1 && out[0].text === '') return [];
  return out;
}

/** Decodes a GNU as string literal body (escapes \n \t \\ \" \ooo \xhh). */
export function parseStringLiteral(s: Scanner): number[] | undefined {
  s.skipWs();
  if (s.peek() !== '"') return undefined;
  s.pos++;
  const bytes: number[] = [];
  while (s.pos < s.src.length && s.peek() !== '"') {
    let ch = s.src[s.pos++];
    if (ch !== '\\') {
      const code = ch.charCodeAt(0);
      if (code < 0x80) bytes.push(code);
      else bytes.push(...Buffer.from(ch, 'utf8'));
      continue;
    }
    ch = s.src[s.pos++];
    if (ch === undefined) break; // a backslash at the end: unterminated (reported by the caller)
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, b: 8, f: 12, v: 11, a: 7, e: 27, '\\': 92, '"': 34, "'": 39 };
    if (ch in simple) bytes.push(simple[ch]);
    else if (ch === 'x' || ch === 'X') {
      let v = 0;
      while (/[0-9a-fA-F]/.test(s.peek() ?? '')) v = (v * 16 + parseInt(s.src[s.pos++], 16)) & 0xff;
      bytes.push(v);
    } else if (/[0-7]/.test(ch)) {
      let v = parseInt(ch, 8);
      for (let k = 0; k < 2 && /[0-7]/.test(s.peek() ?? ''); k++) v = v * 8 + parseInt(s.src[s.pos++], 8);
      bytes.push(v & 0xff);
    } else bytes.push(ch.charCodeAt(0));
  }
  if (s.peek() !== '"') return undefined;
  s.pos++;
  return bytes;
}

/**
 * The interned copy of a string: a property key is interned, and Object.keys gives back that
 * copy. The store's feedback is made megamorphic below, at load: a store that has seen one name
 * only is optimized for that name and deoptimizes ("wrong name") at the next new name.
 */
export function intern(s: string): string {
  const o: Record<string, number> = {};
  o[s] = 0;
  return Object.keys(o)[0];
}
for (const s of ['.a', '.b', '.c', '.d', '.e']) intern(s);

const OBJECTS: unknown[] = [null];
OBJECTS.pop();
/**
 * An empty list with the elements kind a list of objects has: a `[]` starts as a list of small
 * integers and changes its hidden class at the first object pushed, so code optimised while
 * such lists were empty deoptimises ("wrong map") on a full one, and the other way round.
 */
export function objectList<T>(): T[] {
  return OBJECTS.slice() as T[];
}

// The token cursor of the C declaration parser (cstruct.ts): looking ahead, expecting,
// failing with a place, and skipping bracket groups and whole declarations to recover.

import type { Tok } from './pp/lexer';
import type { Where } from './cstructLayout';

/** A token with the file it came from. */
export interface CTok extends Tok {
  file: string;
}

/** A parse error; `reportable` when inside a record or enum body (elsewhere we skip quietly). */
export class ParseError extends Error {
  constructor(
    readonly tok: CTok | undefined,
    message: string,
    readonly reportable: boolean,
  ) {
    super(message);
  }
}

/** A position in a token list with the parser's error and recovery helpers. */
export class CTokenCursor {
  protected pos = 0;
  /** Inside a struct, union or enum body: errors there are reported, elsewhere skipped. */
  protected recordDepth = 0;

  constructor(protected toks: CTok[]) {}

  protected peek(k = 0): CTok | undefined {
    return this.toks[this.pos + k];
  }
  protected is(text: string, k = 0): boolean {
    return this.toks[this.pos + k]?.text === text;
  }
  protected fail(message: string, tok = this.peek() ?? this.toks[this.toks.length - 1]): never {
    throw new ParseError(tok, message, this.recordDepth > 0);
  }
  protected expect(text: string, context: string): CTok {
    const t = this.peek();
    if (t?.text !== text) this.fail(`expected '${text}' ${context}, found ${t ? `'${t.text}'` : 'end of input'}`);
    this.pos++;
    return t;
  }
  protected where(t: CTok | undefined): Where {
    return t ? { file: t.file, line: t.line, col: t.col } : { file: '<input>', line: 0, col: 0 };
  }
  /** Index just past the bracket group that opens at `i`. */
  protected skipGroup(i: number): number {
    const open = this.toks[i].text;
    const close = open === '(' ? ')' : open === '[' ? ']' : '}';
    let depth = 0;
    for (let k = i; k < this.toks.length; k++) {
      const x = this.toks[k].text;
      if (x === open) depth++;
      else if (x === close && --depth === 0) return k + 1;
    }
    this.pos = i;
    this.fail(`unbalanced '${open}': no matching '${close}'`);
  }
  /** Recovery: skip to the end of the declaration that started at `start` (its `;`, or a function body's `}`). */
  protected skipDeclaration(start: number): void {
    let depth = 0;
    let braceOpenedAfterParen = false;
    for (let k = start; k < this.toks.length; k++) {
      const x = this.toks[k].text;
      if (x === '(' || x === '[' || x === '{') {
        if (depth === 0 && x === '{') braceOpenedAfterParen = this.toks[k - 1]?.text === ')';
        depth++;
      } else if (x === ')' || x === ']' || x === '}') {
        depth = Math.max(0, depth - 1);
        if (depth === 0 && x === '}' && braceOpenedAfterParen) {
          this.pos = k + 1;
          return;
        }
      } else if (x === ';' && depth === 0) {
        this.pos = k + 1;
        return;
      }
    }
    this.pos = this.toks.length;
  }

  // ---- declarations ----

  /** Index of the first of `stops` at bracket depth 0 from the cursor. */
  protected exprEnd(stops: string[]): number {
    let depth = 0;
    for (let k = this.pos; k < this.toks.length; k++) {
      const x = this.toks[k].text;
      if (x === '(' || x === '[') depth++;
      else if (x === ')' || x === ']') depth--;
      else if (depth === 0 && stops.includes(x)) return k;
      if (x === '}' && depth === 0) return k;
    }
    return this.toks.length;
  }
}

// A lowercase `.s` goes to GNU as without the C preprocessor: no #include, #define or macro
// expansion, and gas's own comment rules. Outside strings and character constants, `#` starts
// a comment to the end of the line, `/*` one to the next `*/` (its newlines still end
// statements: gas keeps them), and a line whose first non-blank character is `/` is a comment.
// A `/*` inside a `#` comment is plain text, so `# see /* here` is fine.

/** One physical line of a `.s` after gas's comment removal. */
export interface GasLine {
  text: string;
  /** 1-based line in the file. */
  line: number;
}

/** The characters the loop below treats specially: `\n` `\r` `#` `/` `"` `'`. */
const SPECIAL: boolean[] = [];
for (const c of '\n\r#/"\'') SPECIAL[c.charCodeAt(0)] = true;

/** The lines gas assembles from `src` (blank ones left out); `warn` hears of a comment left open. */
export function gasLines(src: string, warn: (line: number, col: number, message: string) => void): GasLine[] {
  const out: GasLine[] = [];
  let text = '';
  let line = 1;
  let lineStart = 0;
  const flush = () => {
    const t = text.trimEnd();
    if (t.trim() && !/^\s*\//.test(t)) out.push({ text: t, line });
    text = '';
  };
  const n = src.length;
  let i = 0;
  while (i < n) {
    const ch = src[i];
    if (ch === '\n') {
      flush();
      line++;
      lineStart = ++i;
      continue;
    }
    if (ch === '\r' && src[i + 1] === '\n') { i++; continue; }
    if (ch === '#') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (ch === '/' && src[i + 1] === '*') {
      const openLine = line, openCol = i - lineStart + 1;
      i += 2;
      let closed = false;
      while (i < n) {
        if (src[i] === '*' && src[i + 1] === '/') { i += 2; closed = true; break; }
        if (src[i] === '\n') {
          flush();
          line++;
          lineStart = i + 1;
        }
        i++;
      }
      if (!closed) warn(openLine, openCol, 'end of file in comment');
      text += ' ';
      continue;
    }
    if (ch === '"') {
      // A string runs to its closing quote (backslash escapes) or the end of the line.
      let j = i + 1;
      while (j < n && src[j] !== '"' && src[j] !== '\n') j += src[j] === '\\' && j + 1 < n && src[j + 1] !== '\n' ? 2 : 1;
      if (src[j] === '"') j++;
      text += src.slice(i, j);
      i = j;
      continue;
    }
    if (ch === "'" && i + 1 < n && src[i + 1] !== '\n') {
      // A character constant: the quote and the one (possibly escaped) character after it.
      const len = src[i + 1] === '\\' && i + 2 < n && src[i + 2] !== '\n' ? 3 : 2;
      text += src.slice(i, i + len);
      i += len;
      continue;
    }
    // A run of ordinary characters is copied at once (one string, not one per character).
    let j = i + 1;
    while (j < n && !SPECIAL[src.charCodeAt(j)]) j++;
    text += j === i + 1 ? ch : src.slice(i, j);
    i = j;
  }
  flush();
  return out;
}

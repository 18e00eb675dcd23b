// A light scan of assembly text for the editor features that must answer instantly (CodeLens,
// "function at cursor", the default launch configuration, the fault menu's leaf): function
// starts and ends, and the TDX leaf a function loads into EAX. No VS Code API: unit-tested.
// The real build (built-in assembler) stays the authority; this only points at lines.

/** A function found in the text. Lines count from 0 (as VS Code positions do). */
export interface AsmFunction {
  name: string;
  /** Line of the start marker (`SYM_FUNC_START(name)`, `name:` of a `.globl`/`.type` symbol). */
  line: number;
  /** Last line of the function (its `SYM_FUNC_END`, or the line before the next function). */
  endLine: number;
  global: boolean;
}

const START_MACRO = /^\s*(SYM_FUNC_START|SYM_FUNC_START_NOALIGN|SYM_FUNC_START_WEAK|SYM_TYPED_FUNC_START|SYM_CODE_START|SYM_FUNC_START_LOCAL|SYM_CODE_START_LOCAL|SYM_FUNC_START_LOCAL_NOALIGN|ENTRY|GLOBAL)\s*\(\s*([A-Za-z_.$][\w.$]*)\s*\)/;
const END_MACRO = /^\s*(SYM_FUNC_END|SYM_CODE_END|END|ENDPROC)\s*\(\s*([A-Za-z_.$][\w.$]*)\s*\)/;
const LABEL = /^\s*([A-Za-z_$][\w.$]*)\s*:/;

/** Removes C comments (keeping line breaks) so that commented-out code is not scanned. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/\/\/.*$/gm, '');
}

/** Function starts and ends in the order they appear. */
export function findFunctions(text: string): AsmFunction[] {
  const lines = stripComments(text).split('\n');
  const globals = new Set<string>();
  const typed = new Set<string>();
  for (const l of lines) {
    const g = /^\s*\.(?:globl|global)\s+(.+)$/.exec(l);
    if (g) for (const n of g[1].split(',')) globals.add(n.trim());
    const t = /^\s*\.type\s+([\w.$]+)\s*,\s*[@%]function/.exec(l);
    if (t) typed.add(t[1]);
  }
  const out: AsmFunction[] = [];
  let open: AsmFunction | undefined;
  const close = (end: number) => {
    if (open) open.endLine = Math.max(open.line, end);
    open = undefined;
  };
  lines.forEach((l, i) => {
    const m = START_MACRO.exec(l);
    if (m) {
      close(i - 1);
      open = { name: m[2], line: i, endLine: lines.length - 1, global: !/LOCAL/.test(m[1]) };
      out.push(open);
      return;
    }
    const e = END_MACRO.exec(l);
    if (e && open && e[2] === open.name) {
      close(i);
      return;
    }
    const lab = LABEL.exec(l);
    if (lab && (globals.has(lab[1]) || typed.has(lab[1])) && !out.some((f) => f.name === lab[1])) {
      close(i - 1);
      open = { name: lab[1], line: i, endLine: lines.length - 1, global: globals.has(lab[1]) };
      out.push(open);
    }
  });
  return out;
}

/** The function whose body holds `line` (0-based), if any. */
export function functionAt(fns: readonly AsmFunction[], line: number): AsmFunction | undefined {
  let best: AsmFunction | undefined;
  for (const f of fns) if (f.line <= line && line <= f.endLine && (!best || f.line >= best.line)) best = f;
  return best;
}

/** The entry a default configuration debugs: the function under the cursor, else the first global one. */
export function defaultEntry(text: string, cursorLine?: number): string | undefined {
  const fns = findFunctions(text);
  const here = cursorLine !== undefined ? functionAt(fns, cursorLine) : undefined;
  return (here ?? fns.find((f) => f.global) ?? fns[0])?.name;
}

/**
 * The leaf a function loads into EAX/RAX before its TDCALL/SEAMCALL, by symbol
 * (`movl $TDH_SYS_INIT, %eax` → `TDH_SYS_INIT`), for the fault menu's "statuses for the leaf".
 */
export function leafSymbolIn(text: string, fn?: AsmFunction): string | undefined {
  const lines = stripComments(text).split('\n');
  const from = fn ? fn.line : 0, to = fn ? fn.endLine : lines.length - 1;
  for (let i = from; i <= to && i < lines.length; i++) {
    const m = /\bmov[lq]?\s+\$((?:TDG|TDH|TDX|SEAMLDR)_[A-Z0-9_]+)\s*,\s*%[er]ax\b/i.exec(lines[i]);
    if (m) return m[1];
  }
  return undefined;
}

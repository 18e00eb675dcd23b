// The C preprocessor subset that kernel assembly (and the headers our struct parser reads)
// needs, behaving like `gcc -E -x assembler-with-cpp`: includes over search paths then our
// built-in kernel headers, object/function-like macros, conditionals with full 64-bit
// expressions, #error/#warning. Each output line keeps the file and line it came from.
// Size (over 450 lines): the Preprocessor is one state (macros, the conditional stack, the open
// files, the include search) that directives, includes and text lines all read and change; the
// lexer, macro expansion, #if expressions and gas's own comment rules for a lowercase .s live
// in pp/.

import { dirname, isAbsolute, join, resolve } from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { MAX_SOURCE_BYTES, notRegularFile } from './files';
import type { Diagnostic } from './diagnostics';
import { builtinHeaders, BUILTIN_PREFIX, type Generation } from './headers';
import { logicalLines, scanLine, spell, tokenize, type LogicalLine, type Tok } from './pp/lexer';
import { gasLines } from './pp/gasText';
import { evaluate, ExprError } from './pp/expr';
import { expand, macroFromOption, parseDefine, sameDefinition, type ExpandContext, type Macro, type MacroProblem } from './pp/macros';

export type { Macro } from './pp/macros';
export type { Generation } from './headers';

/** Options of {@link preprocess}. */
export interface PreprocessOptions {
  /** `-I` directories, searched in order before the built-in headers. */
  includePaths?: string[];
  /** `-D` definitions: key `NAME` or `NAME(args)`, value the body (use '1' for a plain flag). */
  defines?: Record<string, string>;
  /** File access (default: the file system). Return undefined when the file does not exist. */
  readFile?: (path: string) => string | undefined;
  /** Search our built-in kernel headers after `includePaths` and pre-include `linux/kconfig.h` (default true). */
  builtinHeaders?: boolean;
  /** Kernel generation the built-in TDX headers describe (default 'G5'). */
  generation?: Generation;
  /** asm-offsets symbols for `<asm/asm-offsets.h>` (default: the built-in preset of the generation). */
  asmOffsets?: Map<string, bigint>;
  /** 'asm' (default) = `-x assembler-with-cpp` with `__ASSEMBLY__`; 'c' = C headers for the struct parser. */
  language?: 'asm' | 'c';
  /** Text to preprocess instead of reading `entryFile` (the name is still used for messages). */
  text?: string;
  /** `-include FILE`: files read before the entry file, in order (kbuild's kconfig.h, compiler-version.h). */
  includes?: string[];
  /** `-U NAME`: macros removed after the predefined ones and `defines`. */
  undefines?: string[];
}

/** One output line; `file`/`line` name where its first token came from. */
export interface PreprocessedLine {
  text: string;
  file: string;
  line: number;
}

export interface PreprocessResult {
  lines: PreprocessedLine[];
  /** Macros defined at the end of the input (built-in and predefined ones included). */
  defines: Map<string, Macro>;
  /** Text of every file read, by the path used in `lines` (built-in headers as `<builtin>/name`). */
  sources: Map<string, string>;
  diagnostics: Diagnostic[];
}

const MAX_INCLUDE_DEPTH = 200;
/**
 * A file open this many times at once is an include cycle without a guard (one that includes
 * itself twice doubles with every level: depth alone does not bound it).
 */
const MAX_SELF_NESTING = 8;
/** #include operations in one preprocessing run. */
const MAX_INCLUDES = 20_000;
/** Macro expansions allowed per line (an exponential macro stops here with an error). */
const EXPANSION_STEPS = 50_000;

interface Cond {
  directive: string;
  tok: Tok;
  file: string;
  parentActive: boolean;
  active: boolean;
  taken: boolean;
  sawElse: boolean;
}

const defaultRead = (p: string): string | undefined => {
  try {
    const st = statSync(p);
    return st.isFile() && st.size <= MAX_SOURCE_BYTES ? readFileSync(p, 'utf8') : undefined;
  } catch {
    return undefined;
  }
};

/** Why a path that exists could not be read (a directory, a FIFO, too large); undefined when it does not exist. */
function unreadable(p: string): string | undefined {
  try { statSync(p); } catch { return undefined; }
  return notRegularFile(p, MAX_SOURCE_BYTES);
}

/** Run the preprocessor over `entryFile` (and everything it includes). Never throws on bad input. */
export function preprocess(entryFile: string, opts: PreprocessOptions = {}): PreprocessResult {
  return new Preprocessor(opts).run(entryFile);
}

class Preprocessor {
  readonly asm: boolean;
  readonly macros = new Map<string, Macro>();
  readonly lines: PreprocessedLine[] = [];
  readonly diagnostics: Diagnostic[] = [];
  readonly sources = new Map<string, string>();
  private readonly once = new Set<string>();
  /** Files being read, outermost first. */
  private readonly open: string[] = [];
  private includes = 0;
  private readonly builtins: Map<string, string>;
  private readonly searchDirs: string[];
  private readonly read: (p: string) => string | undefined;
  private readonly counter = { value: 0 };

  constructor(private readonly opts: PreprocessOptions) {
    this.asm = (opts.language ?? 'asm') === 'asm';
    const useBuiltins = opts.builtinHeaders ?? true;
    this.builtins = useBuiltins ? builtinHeaders(opts.generation ?? 'G5', opts.asmOffsets) : new Map();
    this.searchDirs = (opts.includePaths ?? []).map((d) => resolve(d));
    this.read = opts.readFile ?? defaultRead;
    this.predefine();
  }

  private predefine(): void {
    const pre: Record<string, string> = { __x86_64__: '1', __x86_64: '1', __linux__: '1', __linux: '1', __KERNEL__: '1', __LP64__: '1', _LP64: '1', __CHAR_BIT__: '8', __SIZEOF_LONG__: '8', __SIZEOF_POINTER__: '8', __SIZEOF_INT__: '4', __GNUC__: '12', __STDC__: '1' };
    if (this.asm) Object.assign(pre, { __ASSEMBLY__: '1', __ASSEMBLER__: '1' });
    for (const [k, v] of Object.entries(pre)) this.defineOption(k, v, '<built-in>');
    for (const d of ['__LINE__', '__FILE__', '__COUNTER__', '__INCLUDE_LEVEL__'] as const) {
      this.macros.set(d, { name: d, variadic: false, body: [], file: '<built-in>', line: 0, col: 0, dynamic: d });
    }
    for (const [k, v] of Object.entries(this.opts.defines ?? {})) this.defineOption(k, v, '<command-line>');
    for (const u of this.opts.undefines ?? []) this.macros.delete(u);
  }

  private defineOption(key: string, value: string, file: string): void {
    const m = macroFromOption(key, value, this.asm);
    if ('message' in m) {
      this.diagnostics.push({ severity: 'error', message: `bad definition "${key}=${value}": ${m.message}`, location: { file, line: 1, column: 1 } });
      return;
    }
    m.file = file;
    this.macros.set(m.name, m);
  }

  run(entryFile: string): PreprocessResult {
    const text = this.opts.text ?? this.read(entryFile);
    if (text === undefined) {
      const why = this.opts.text === undefined ? unreadable(entryFile) : undefined;
      this.diagnostics.push({ severity: 'error', message: why ? `cannot read the file: it ${why}` : `cannot read ${entryFile}: no such file`, location: { file: entryFile, line: 1, column: 1 } });
    } else if (/\.s$/.test(entryFile)) {
      // A lowercase .s is not run through the C preprocessor (as gcc and kbuild give it to as).
      this.sources.set(entryFile, text);
      for (const l of gasLines(text, (line, col, message) => this.error(entryFile, { line, col }, message, 'warning'))) {
        this.lines.push({ text: l.text, file: entryFile, line: l.line });
      }
    } else {
      if (this.builtins.has('linux/kconfig.h')) this.includeFile(BUILTIN_PREFIX + 'linux/kconfig.h', this.builtins.get('linux/kconfig.h')!, 1, this.searchDirs.length);
      for (const f of this.opts.includes ?? []) {
        const t = this.read(f);
        if (t === undefined) {
          const why = unreadable(f);
          this.diagnostics.push({ severity: 'error', message: `-include ${f}: ${why ? `cannot read it: it ${why}` : 'no such file'}`, location: { file: '<command-line>', line: 1, column: 1 } });
          continue;
        }
        if (!this.once.has(f)) this.includeFile(f, t, 1, -1);
      }
      this.includeFile(entryFile, text, 0, -1);
    }
    return { lines: this.lines, defines: this.macros, sources: this.sources, diagnostics: this.diagnostics };
  }

  private error(file: string, tok: { line: number; col: number }, message: string, severity: Diagnostic['severity'] = 'error'): void {
    this.diagnostics.push({ severity, message, location: { file, line: tok.line, column: tok.col } });
  }

  private context(file: string, depth: number): ExpandContext {
    return {
      macros: this.macros,
      asm: this.asm,
      file,
      includeLevel: depth,
      counter: this.counter,
      budget: { steps: EXPANSION_STEPS, exhausted: false },
      report: (p: MacroProblem) => this.error(file, p.tok, p.message, p.severity),
    };
  }

  /** Preprocess one file; `dirIndex` is where it was found in the search list (for #include_next). */
  private includeFile(path: string, text: string, depth: number, dirIndex: number): void {
    this.open.push(path);
    try { this.includeBody(path, text, depth, dirIndex); } finally { this.open.pop(); }
  }

  private includeBody(path: string, text: string, depth: number, dirIndex: number): void {
    this.sources.set(path, text);
    const lls = logicalLines(text, (line, col, msg) => this.error(path, { line, col }, msg));
    const conds: Cond[] = [];
    const active = () => conds.length === 0 || conds[conds.length - 1].active;
    const isMacro = (name: string) => this.macros.has(name);
    for (let k = 0; k < lls.length; k++) {
      // Most lines are neither directives nor use a macro: they pass through without tokens.
      const kind = scanLine(lls[k].text, this.asm, isMacro);
      if (kind === -1) continue;
      if (kind === 0) {
        if (active()) this.plainLine(lls[k], path);
        continue;
      }
      const toks = tokenize(lls[k], { asm: this.asm });
      if (toks[0].text === '#' && toks[0].kind === 'punct') {
        const passThrough = this.directive(toks, path, depth, dirIndex, conds, active());
        if (!passThrough) continue;
      } else if (!active()) continue;
      k = this.textLine(lls, k, toks, path, depth);
    }
    for (const c of conds) this.error(path, c.tok, `unterminated #${c.directive}${c.sawElse ? ' (in its #else)' : ''}: no matching #endif in this file`);
  }

  /** Emit a text line that names no macro, as written. */
  private plainLine(ll: LogicalLine, path: string): void {
    const text = ll.text.trimEnd();
    if (text.trim()) this.lines.push({ text, file: path, line: ll.line });
  }

  /** Expand and emit a text line; returns the index of the last logical line consumed. */
  private textLine(lls: LogicalLine[], k: number, toks: Tok[], path: string, depth: number): number {
    const ll = lls[k];
    if (!toks.some((t) => t.kind === 'id' && this.macros.has(t.text))) {
      this.plainLine(ll, path);
      return k;
    }
    let last = k;
    const ctx = this.context(path, depth);
    ctx.more = (needParen) => {
      for (let q = last + 1; q < lls.length; q++) {
        const tk = tokenize(lls[q], { asm: this.asm });
        if (tk.length === 0) continue;
        if (tk[0].text === '#' || (needParen && tk[0].text !== '(')) return undefined;
        last = q;
        return tk;
      }
      return undefined;
    };
    const text = spell(expand(toks, ctx), this.asm).trimEnd();
    if (text.trim()) this.lines.push({ text, file: path, line: ll.line });
    return last;
  }

  /** Handle a directive line. Returns true when the line is ordinary text after all (assembly `# ...`). */
  private directive(toks: Tok[], path: string, depth: number, dirIndex: number, conds: Cond[], isActive: boolean): boolean {
    const name = toks[1];
    if (!name) return false;
    const rest = toks.slice(2);
    const top = conds[conds.length - 1];
    switch (name.text) {
      case 'if':
      case 'ifdef':
      case 'ifndef': {
        const value = isActive ? this.condition(name.text, name, rest, path, depth) : false;
        conds.push({ directive: name.text, tok: toks[0], file: path, parentActive: isActive, active: value, taken: value || !isActive, sawElse: false });
        return false;
      }
      case 'elif':
      case 'elifdef':
      case 'elifndef':
      case 'else': {
        if (!top) {
          this.error(path, name, `#${name.text} without #if`);
          return false;
        }
        if (top.sawElse) {
          this.error(path, name, `#${name.text} after #else`);
          return false;
        }
        if (name.text === 'else') {
          if (rest.length && !this.asm) this.error(path, rest[0], 'extra tokens at end of #else directive', 'warning');
          top.active = top.parentActive && !top.taken;
          top.taken = true;
          top.sawElse = true;
          return false;
        }
        if (top.taken) top.active = false;
        else {
          top.active = this.condition(name.text, name, rest, path, depth);
          top.taken = top.active;
        }
        return false;
      }
      case 'endif':
        if (!top) this.error(path, name, '#endif without #if');
        else conds.pop();
        return false;
    }
    if (!isActive) return false;
    switch (name.text) {
      case 'define': {
        const m = parseDefine(rest, path, this.asm, name);
        if ('message' in m) {
          this.error(path, m.tok, m.message, m.severity);
          return false;
        }
        const old = this.macros.get(m.name);
        if (old?.dynamic) this.error(path, rest[0], `"${m.name}" is a built-in macro and cannot be redefined`);
        else {
          if (old && !sameDefinition(old, m)) {
            this.diagnostics.push({
              severity: 'warning',
              message: `"${m.name}" redefined`,
              location: { file: path, line: m.line, column: m.col },
              related: [{ message: 'this is the location of the previous definition', location: { file: old.file, line: old.line, column: old.col } }],
            });
          }
          this.macros.set(m.name, m);
        }
        return false;
      }
      case 'undef':
        if (!rest[0] || rest[0].kind !== 'id') this.error(path, rest[0] ?? name, 'expected a macro name after #undef');
        else if (this.macros.get(rest[0].text)?.dynamic) this.error(path, rest[0], `undefining built-in macro "${rest[0].text}"`);
        else this.macros.delete(rest[0].text);
        return false;
      case 'include':
      case 'include_next':
      case 'import':
        this.include(name, rest, path, depth, name.text === 'include_next' ? dirIndex : undefined);
        return false;
      case 'error':
      case 'warning': {
        const msg = rest.map((t, i) => (i ? t.ws : '') + t.text).join('');
        this.error(path, toks[0], `#${name.text} ${msg}`.trimEnd(), name.text === 'error' ? 'error' : 'warning');
        return false;
      }
      case 'pragma':
        if (rest[0]?.text === 'once') this.once.add(path);
        return false;
      case 'line':
      case 'ident':
      case 'sccs':
      case 'assert':
      case 'unassert':
        return false;
    }
    if (this.asm) return true; // gcc keeps unknown `# ...` lines in assembler-with-cpp mode.
    this.error(path, name, `invalid preprocessing directive #${name.text}`);
    return false;
  }

  private condition(directive: string, at: Tok, rest: Tok[], path: string, depth: number): boolean {
    if (directive.endsWith('def')) {
      const id = rest[0];
      if (!id || id.kind !== 'id') {
        this.error(path, id ?? at, `no macro name given in #${directive} directive`);
        return false;
      }
      if (rest.length > 1) this.error(path, rest[1], `extra tokens at end of #${directive} directive`, 'warning');
      return this.macros.has(id.text) === !directive.endsWith('ndef');
    }
    if (rest.length === 0) {
      this.error(path, at, `#${directive} with no expression`);
      return false;
    }
    const ctx = this.context(path, depth);
    let failed = false;
    ctx.report = (p) => {
      if (p.severity === 'error') failed = true;
      this.error(path, p.tok, p.message, p.severity);
    };
    ctx.inIf = { hasInclude: (spec, angled, next) => this.resolve(spec, angled, path, next ? this.dirIndexOf(path) : undefined) !== undefined };
    const expanded = expand(rest, ctx);
    if (failed) return false;
    try {
      return evaluate(expanded, { identifiersAreZero: true }).value !== 0n;
    } catch (e) {
      if (!(e instanceof ExprError)) throw e;
      this.error(path, e.tok ?? at, `${e.message} in #${directive}`);
      return false;
    }
  }

  private readonly foundIn = new Map<string, number>();
  private dirIndexOf(path: string): number {
    return this.foundIn.get(path) ?? -1;
  }

  private include(name: Tok, rest: Tok[], path: string, depth: number, nextFrom: number | undefined): void {
    let toks = rest;
    if (toks.length && toks[0].kind !== 'str' && toks[0].text !== '<') toks = expand(toks, this.context(path, depth));
    let spec: string | undefined;
    let angled = false;
    if (toks[0]?.kind === 'str') spec = toks[0].text.slice(1, -1);
    else if (toks[0]?.text === '<') {
      const end = toks.findIndex((t) => t.text === '>');
      if (end > 0) {
        spec = toks.slice(1, end).map((t, i) => (i ? t.ws : '') + t.text).join('');
        angled = true;
      }
    }
    if (spec === undefined || spec === '') {
      this.error(path, toks[0] ?? name, `#${name.text} expects "FILENAME" or <FILENAME>`);
      return;
    }
    if (depth + 1 >= MAX_INCLUDE_DEPTH) {
      this.error(path, name, `#include nested too deeply (limit ${MAX_INCLUDE_DEPTH}) including "${spec}"; is a header including itself?`);
      return;
    }
    const found = this.resolve(spec, angled, path, nextFrom);
    if (!found) {
      const searched = this.searchList(angled, path, nextFrom).map((d) => d.dir);
      const there = searched.map((d) => join(d, spec)).map((p) => unreadable(p)).find((w) => w !== undefined);
      this.error(path, toks[0], there ? `${spec} cannot be included: it ${there}` : `${spec}: no such file; searched: ${searched.join(', ') || '(no include paths)'}`);
      return;
    }
    if (this.once.has(found.path)) return;
    if (this.open.filter((p) => p === found.path).length >= MAX_SELF_NESTING) {
      this.error(path, name, `"${spec}" includes itself ${MAX_SELF_NESTING} levels deep: an #include cycle without an include guard (#ifndef/#define) or #pragma once`);
      return;
    }
    if (++this.includes > MAX_INCLUDES) {
      if (this.includes === MAX_INCLUDES + 1) this.error(path, name, `more than ${MAX_INCLUDES.toLocaleString('en-US')} #include operations: stopped including "${spec}" (an include cycle?)`);
      return;
    }
    this.foundIn.set(found.path, found.index);
    this.includeFile(found.path, found.text, depth + 1, found.index);
  }

  /** Directories to search, with their index (-1: the includer's own directory). */
  private searchList(angled: boolean, from: string, nextFrom: number | undefined): { dir: string; index: number }[] {
    const list: { dir: string; index: number }[] = [];
    if (!angled && nextFrom === undefined && !from.startsWith(BUILTIN_PREFIX)) list.push({ dir: dirname(from), index: -1 });
    this.searchDirs.forEach((dir, index) => list.push({ dir, index }));
    if (this.builtins.size) list.push({ dir: '<built-in headers>', index: this.searchDirs.length });
    return nextFrom === undefined ? list : list.filter((d) => d.index > nextFrom);
  }

  private resolve(spec: string, angled: boolean, from: string, nextFrom: number | undefined): { path: string; text: string; index: number } | undefined {
    if (isAbsolute(spec)) {
      const text = this.read(spec);
      return text === undefined ? undefined : { path: spec, text, index: -1 };
    }
    for (const { dir, index } of this.searchList(angled, from, nextFrom)) {
      if (index === this.searchDirs.length) {
        const text = this.builtins.get(spec);
        if (text !== undefined) return { path: BUILTIN_PREFIX + spec, text, index };
        continue;
      }
      const p = join(dir, spec);
      const text = this.read(p);
      if (text !== undefined) return { path: p, text, index };
    }
    return undefined;
  }
}

/**
 * Integer values of the object-like macros that evaluate to constants (TDX_*, errno values,
 * asm-offsets...). Macros whose expansion is not a constant expression are left out.
 */
export function constantsFromDefines(defines: Map<string, Macro>): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const [name, m] of defines) {
    if (m.params || m.dynamic || m.body.length === 0 || m.file === '<built-in>') continue;
    const ctx: ExpandContext = {
      macros: defines,
      asm: false,
      file: m.file,
      includeLevel: 0,
      counter: { value: 0 },
      budget: { steps: 10_000, exhausted: false },
      report: () => {
        ctx.budget.exhausted = true;
      },
    };
    const nameTok: Tok = { kind: 'id', text: name, ws: '', line: m.line, col: m.col };
    const toks = expand([nameTok], ctx);
    // A name left after expansion is never a constant (evaluate would throw for it): skip the
    // throw, which costs a stack trace per define of a kernel tree's headers.
    if (ctx.budget.exhausted || toks.some((t) => t.kind === 'id')) continue;
    try {
      out.set(name, evaluate(toks).value);
    } catch {
      // not a constant: a string, a register name, an instruction...
    }
  }
  return out;
}

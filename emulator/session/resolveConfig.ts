// What a launch configuration leaves out, filled in from the file itself: the kernel generation
// its names and instructions belong to, an `asm-offsets.c` and the headers beside it, and
// absolute paths for every path attribute (relative ones are relative to the workspace folder,
// whoever runs the adapter). Pure functions with the file system passed in: the extension (F5,
// CodeLenses, fault matrix, Problems, hovers) and the CLI share them, and unit tests run them.

import { dirname, isAbsolute, join, resolve } from 'node:path';
import { GENERATIONS, type Generation } from '../loader/headers/generation';
import type { StructLayout } from '../loader/image';
import type { LaunchConfig } from './config';

/** The generation a file most likely belongs to, the others it may belong to, and why. */
export interface GenerationGuess {
  generation: Generation;
  /** Every generation the file's names allow, the guess first, then newest to oldest. */
  candidates: Generation[];
  /** One line per clue used (`TDX_HYPERCALL_r10 with a 6-register struct → G0–G1`). */
  reasons: string[];
}

const range = (from: Generation, to: Generation = 'G5'): Generation[] =>
  GENERATIONS.slice(GENERATIONS.indexOf(from), GENERATIONS.indexOf(to) + 1);

/** C and `#`/`//` comments removed (line breaks kept). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/\/\/.*$/gm, '');
}

/**
 * Infers the generation from what the file uses: asm-offsets names (and, when the user's
 * asm-offsets source is known, the layout they name), the wrapper and helper names, the leaf
 * names of the built-in headers, the hypercall flags, and the failure path (`ud2` right in
 * the wrapper is the earliest series; a call to `__tdx_hypercall_failed` came after).
 * `structs`: layouts of the user's asm-offsets source or headers (struct name → layout).
 */
export function inferGeneration(text: string, structs?: ReadonlyMap<string, StructLayout>): GenerationGuess {
  const s = code(text);
  const has = (re: RegExp) => re.test(s);
  let allowed = new Set<Generation>(GENERATIONS);
  const reasons: string[] = [];
  const rule = (clue: string, gens: Generation[]) => {
    const next = new Set([...allowed].filter((g) => gens.includes(g)));
    const span = gens.length === 1 ? gens[0] : `${gens[0]}–${gens[gens.length - 1]}`;
    if (next.size === 0) { reasons.push(`${clue} → ${span} (ignored: contradicts the clues before it)`); return; }
    reasons.push(`${clue} → ${span}`);
    allowed = next;
  };
  const hyper = structs?.get('tdx_hypercall_args');
  const modArgs = structs?.get('tdx_module_args');
  const modOut = structs?.get('tdx_module_output');

  if (has(/\bTDX_MODULE_version\b/) || (modArgs && modArgs.fields.some((f) => f.name === 'version'))) rule('TDX_MODULE_version (tdx_module_args with a version byte)', ['G5']);
  if (has(/\bTDX_MODULE_(r1[2-5]|rbx|rdi|rsi)\b/)) rule('TDX_MODULE_r12…rsi (the 13-register tdx_module_args)', range('G3.5'));
  else if (has(/\bTDX_MODULE_(rcx|rdx|r8|r9|r10|r11)\b/)) {
    if (modOut && !modArgs) rule('TDX_MODULE_* naming struct tdx_module_output', range('G1', 'G3'));
    else if (modArgs) rule('TDX_MODULE_* naming struct tdx_module_args', range('G3.5'));
  }
  if (has(/\b__tdcall_saved_ret\b|\bTDX_MODULE_CALL\b[^\n]*\bsaved\b|\b__seamcall(_ret|_saved_ret)?\b/)) rule('__tdcall_saved_ret / __seamcall wrappers', range('G4'));
  else if (has(/\b__tdcall(_ret)?\b/)) rule('__tdcall/__tdcall_ret', range('G3.5'));
  if (has(/\bTDG_(VP|VM|MR|MEM)_[A-Z_]+\b/)) rule('TDG_* leaf names', range('G4'));
  if (has(/\bTDX_(GET_INFO|GET_VEINFO|GET_REPORT|ACCEPT_PAGE)\b/)) rule('TDX_GET_INFO-style leaf names', range('G0', 'G3.5'));
  if (has(/\b__tdx_module_call\b/)) rule('__tdx_module_call', range('G1', 'G3'));
  if (has(/\bTDX_HYPERCALL_(r8|r9|rdi|rsi|rbx|rdx)\b/) || (hyper && hyper.fields.length >= 12)) rule('12-register tdx_hypercall_args', range('G2', 'G3.5'));
  else if (has(/\bTDX_HYPERCALL_r1[0-5]\b/)) {
    // A 12-register wrapper loads R8, R9, RDI, RSI, RBX, RDX too: only R10–R15 is the 6-register struct.
    rule(hyper && hyper.fields.length === 6 ? 'TDX_HYPERCALL_r10…r15 with a 6-register tdx_hypercall_args' : 'TDX_HYPERCALL_r10…r15 only (the 6-register tdx_hypercall_args)', range('G0', 'G1'));
  }
  if (has(/\bTDX_HCALL_(HAS_OUTPUT|ISSUE_STI)\b/)) rule('TDX_HCALL_HAS_OUTPUT/ISSUE_STI flags', range('G0', 'G2'));
  const failed = has(/\b__tdx_hypercall_failed\b/);
  if (failed) rule('__tdx_hypercall_failed', range('G1'));
  // Newest first, except that a wrapper ending in its own ud2 is the earliest shape.
  const order = [...GENERATIONS].reverse().filter((g) => allowed.has(g));
  const earliest = !failed && has(/\bud2\b/) && has(/\btdcall\b|0xcc\b/) && allowed.has('G0');
  if (earliest) reasons.push('ud2 on the TDCALL failure path (no __tdx_hypercall_failed) → G0');
  const generation = earliest ? 'G0' : order[0];
  const candidates = [generation, ...order.filter((g) => g !== generation)];
  if (reasons.length === 0) reasons.push('no generation-specific names: the newest (G5)');
  return { generation, candidates, reasons };
}

/** File access the discovery needs (tests pass a map). */
export interface FileAccess {
  exists(path: string): boolean;
}

/** Companion files found beside a program. */
export interface Companions {
  /** `asm-offsets.c` (or `asm-offsets_64.c`) next to the file or in a folder above it (within `root`). */
  asmOffsets?: string;
  /** Headers the file includes with quotes that exist beside it. */
  headers: string[];
}

/**
 * The asm-offsets source and headers a `.S` file goes with: an `asm-offsets.c` beside it (or
 * above it, up to `root`) when the file includes `<asm/asm-offsets.h>` or uses asm-offsets-style
 * names, and the `"quoted.h"` headers it includes (their structs become overlays).
 */
export function findCompanions(program: string, text: string, fs: FileAccess, root?: string): Companions {
  const s = code(text);
  const dir = dirname(program);
  const headers: string[] = [];
  for (const m of s.matchAll(/^\s*#\s*include\s+"([^"]+\.h)"/gm)) {
    const p = resolve(dir, m[1]);
    if (fs.exists(p) && !headers.includes(p)) headers.push(p);
  }
  let asmOffsets: string | undefined;
  if (/<asm\/asm-offsets\.h>|<generated\/asm-offsets\.h>|\bTDX_(HYPERCALL|MODULE)_\w+/.test(s)) {
    const top = root ? resolve(root) : dir;
    for (let d = dir; ; d = dirname(d)) {
      const hit = ['asm-offsets.c', 'asm-offsets_64.c'].map((n) => join(d, n)).find((p) => fs.exists(p));
      if (hit) { asmOffsets = hit; break; }
      if (d === top || dirname(d) === d || !(d + '/').startsWith(top.endsWith('/') ? top : top + '/')) break;
    }
  }
  return { asmOffsets, headers };
}

/** Path attributes holding one path, and lists of paths. */
const PATH_ONE = ['program', 'asmOffsets', 'kernelSource', 'kernelBuild'] as const;
const PATH_LIST = ['includePaths', 'headers', 'objects'] as const;

/**
 * Every path attribute made absolute against `base` (the workspace folder), and `cwd` set to
 * it, so that the adapter resolves nothing against its own working directory. In kernel-tree
 * mode `program` and `objects` may name files of the tree: those stay as written unless the
 * workspace-relative path exists.
 */
export function absolutizePaths<T extends Partial<LaunchConfig> & { cwd?: string }>(config: T, base: string, fs: FileAccess): T {
  const out: Record<string, unknown> = { ...config };
  const treeMode = config.kernelSource !== undefined;
  const abs = (p: string, mayBeInTree: boolean) => {
    if (isAbsolute(p)) return p;
    const r = resolve(base, p);
    return mayBeInTree && treeMode && !fs.exists(r) ? p : r;
  };
  for (const k of PATH_ONE) {
    const v = out[k];
    if (typeof v === 'string' && v) out[k] = abs(v, k === 'program');
  }
  for (const k of PATH_LIST) {
    const v = out[k];
    if (Array.isArray(v)) out[k] = v.map((p) => (typeof p === 'string' ? abs(p, k === 'objects') : p));
  }
  const tc = out.toolchain as Record<string, unknown> | undefined;
  if (tc && typeof tc === 'object' && Array.isArray(tc.includePaths)) {
    out.toolchain = { ...tc, includePaths: tc.includePaths.map((p) => (typeof p === 'string' ? abs(p, false) : p)) };
  }
  if (typeof out.cwd !== 'string' || !out.cwd) out.cwd = base;
  return out as T;
}

/**
 * VS Code's launch variables in a value we read from launch.json ourselves (F5 substitutes them
 * before we see the configuration; the CodeLenses, the fault matrix and Problems read it raw).
 */
export function substituteVariables(v: unknown, vars: { folder?: string; file?: string; home?: string; env?: Record<string, string | undefined> }): unknown {
  if (typeof v === 'string') {
    return v.replace(/\$\{([^}]+)\}/g, (all, name: string) => {
      const file = vars.file;
      switch (name) {
        case 'workspaceFolder': case 'workspaceRoot': return vars.folder ?? all;
        case 'workspaceFolderBasename': return vars.folder ? vars.folder.split(/[\\/]/).pop() ?? all : all;
        case 'userHome': return vars.home ?? all;
        case 'file': return file ?? all;
        case 'fileDirname': return file ? dirname(file) : all;
        case 'fileBasename': return file ? file.split(/[\\/]/).pop() ?? all : all;
        case 'fileBasenameNoExtension': return file ? (file.split(/[\\/]/).pop() ?? '').replace(/\.[^.]*$/, '') : all;
        case 'relativeFile': return file && vars.folder && file.startsWith(vars.folder) ? file.slice(vars.folder.length + 1) : all;
        default:
          if (name.startsWith('env:')) return vars.env?.[name.slice(4)] ?? '';
          return all;
      }
    });
  }
  if (Array.isArray(v)) return v.map((x) => substituteVariables(x, vars));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substituteVariables(x, vars)]));
  return v;
}

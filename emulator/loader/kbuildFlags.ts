// Kernel-tree mode of the built-in assembler: a `.S` of a kernel source tree with a configured
// build folder (`O=`, or the tree itself) is preprocessed with that tree's headers, its generated
// headers (asm-offsets.h, autoconf.h) and the exact flags kbuild recorded for the object in
// `BUILD/dir/.name.o.cmd` (`-I`, `-D`, `-U`, `-include`, `-Wa,…`), so the bytes equal the
// user's own build and no make runs. A file with no `.cmd` yet takes the flags of a sibling
// assembly object of the same folder. The tree is named (launch `kernelSource`/`kernelBuild`,
// `--kernel-source/--kernel-build`) or found by walking up from the file.
// File access is passed in so the discovery runs on a fake layout in unit tests.

import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { KernelTree } from './kernelTree';
import type { Generation } from './headers/generation';

/** What the discovery and the flag reader need from the file system. */
export interface TreeFiles {
  exists(path: string): boolean;
  isDirectory(path: string): boolean;
  read(path: string): string | undefined;
  list(dir: string): string[];
  /** The target a symlink resolves to (absolute), or undefined. */
  realpath(path: string): string | undefined;
}

export const nodeTreeFiles: TreeFiles = {
  exists: (p) => { try { statSync(p); return true; } catch { return false; } },
  isDirectory: (p) => { try { return statSync(p).isDirectory(); } catch { return false; } },
  read: (p) => { try { return readFileSync(p, 'utf8'); } catch { return undefined; } },
  list: (d) => { try { return readdirSync(d); } catch { return []; } },
  realpath: (p) => { try { return realpathSync(p); } catch { return undefined; } },
};

/** The preprocessor's share of one kbuild compile command. */
export interface KbuildFlags {
  /** `-I` directories in order, absolute (relative ones resolved against the build folder, where kbuild runs). */
  includePaths: string[];
  /** `-D NAME[=VALUE]` (value '1' when none), shell quoting removed. */
  defines: Record<string, string>;
  /** `-U NAME`. */
  undefines: string[];
  /** `-include FILE`, absolute, in order. */
  includes: string[];
  /** `-Wa,…` options, one per comma-separated item. */
  assemblerFlags: string[];
  /** `-m64`, `-m32`, `-m16` when given. */
  machine?: string;
  /** The source file the command compiles, absolute. */
  source?: string;
  /** The `.cmd` file the flags come from. */
  cmdFile: string;
}

/** The kernel-tree options of one `.S` file: its flags and where they came from. */
export interface KernelTreeAsm extends KbuildFlags {
  tree: KernelTree;
  /** Set when the file's own object has no `.cmd` and a sibling's flags were taken. */
  sibling?: string;
}

/** Splits a command line as /bin/sh would (quotes and backslashes; no expansions). */
export function shellSplit(line: string): string[] {
  const out: string[] = [];
  let cur = '', has = false;
  for (let k = 0; k < line.length; k++) {
    const c = line[k];
    if (c === "'") {
      const end = line.indexOf("'", k + 1);
      cur += line.slice(k + 1, end < 0 ? line.length : end);
      k = end < 0 ? line.length : end;
      has = true;
    } else if (c === '"') {
      k++;
      while (k < line.length && line[k] !== '"') {
        if (line[k] === '\\' && k + 1 < line.length && '"\\$`\n'.includes(line[k + 1])) k++;
        cur += line[k++];
      }
      has = true;
    } else if (c === '\\' && k + 1 < line.length) {
      cur += line[++k];
      has = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}

/**
 * The flags of a kbuild `.cmd` file's `cmd_…`/`savedcmd_…` line (kbuild 6.1 writes `cmd_`, 6.3+
 * `savedcmd_`). Relative paths are resolved against `buildDir`: kbuild runs the compiler there.
 * Throws when the file holds no compile command.
 */
export function parseKbuildCmd(text: string, cmdFile: string, buildDir: string): KbuildFlags {
  const line = text.split('\n').find((l) => /^(saved)?cmd_\S+\s*:=/.test(l));
  if (!line) throw new Error(`${cmdFile} holds no cmd_/savedcmd_ line: not a kbuild command file`);
  const words = shellSplit(line.replace(/^(saved)?cmd_\S+\s*:=\s*/, ''));
  const at = (p: string) => (isAbsolute(p) ? p : resolve(buildDir, p));
  const flags: KbuildFlags = { includePaths: [], defines: {}, undefines: [], includes: [], assemblerFlags: [], cmdFile };
  // Options whose value may be the next word.
  const valueOf = (k: number, opt: string): [string | undefined, number] => {
    const w = words[k];
    if (w.length > opt.length) return [w.slice(opt.length), k];
    return [words[k + 1], k + 1];
  };
  for (let k = 1; k < words.length; k++) {
    const w = words[k];
    if (w === '-include') { if (words[k + 1] !== undefined) flags.includes.push(at(words[++k])); continue; }
    if (w.startsWith('-I')) { const [v, n] = valueOf(k, '-I'); k = n; if (v) flags.includePaths.push(at(v)); continue; }
    if (w.startsWith('-D')) {
      const [v, n] = valueOf(k, '-D'); k = n;
      if (!v) continue;
      const eq = v.indexOf('=');
      if (eq < 0) flags.defines[v] = '1'; else flags.defines[v.slice(0, eq)] = v.slice(eq + 1);
      continue;
    }
    if (w.startsWith('-U')) { const [v, n] = valueOf(k, '-U'); k = n; if (v) flags.undefines.push(v); continue; }
    if (w.startsWith('-Wa,')) { flags.assemblerFlags.push(...w.slice(4).split(',').filter(Boolean)); continue; }
    if (/^-m(64|32|16)$/.test(w)) { flags.machine = w; continue; }
    if (w === '-o' || w === '-x' || w === '-MF' || w === '-MT') { k++; continue; }
    if (!w.startsWith('-') && /\.(S|s|c)$/.test(w)) flags.source = at(w);
  }
  return flags;
}

/** `BUILD/dir/.name.o.cmd` for a source of the tree (`dir/name.S`). */
export function cmdFileOf(source: string, tree: KernelTree): string {
  const rel = relative(tree.source, source);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`${source} is not inside the kernel source tree ${tree.source}`);
  const obj = basename(rel).replace(/\.(S|c)$/, '.o');
  return join(tree.build, dirname(rel), `.${obj}.cmd`);
}

/**
 * The flags kbuild uses for `source` (a `.S` of the tree): its own `.cmd` file, or, when the
 * object was never built, the flags of a sibling assembly object in the same folder with the
 * module-name definitions rewritten for this file. Throws (with what to do) when neither exists.
 */
export function kernelTreeFlags(source: string, tree: KernelTree, fs: TreeFiles = nodeTreeFiles): KernelTreeAsm {
  const own = cmdFileOf(source, tree);
  const text = fs.read(own);
  if (text !== undefined) return { ...parseKbuildCmd(text, own, tree.build), tree };
  const dir = dirname(own);
  const stem = basename(source).replace(/\.(S|c)$/, '');
  const siblings = fs.list(dir).filter((n) => /^\..+\.o\.cmd$/.test(n)).sort();
  // An assembly sibling first (its flags are KBUILD_AFLAGS); a C sibling's would carry C-only defines.
  for (const wantAsm of [true, false]) {
    for (const n of siblings) {
      const t = fs.read(join(dir, n));
      if (t === undefined) continue;
      let f: KbuildFlags;
      try { f = parseKbuildCmd(t, join(dir, n), tree.build); } catch { continue; }
      if (!f.source || /\.S$/.test(f.source) !== wantAsm) continue;
      const other = basename(f.source).replace(/\.(S|c)$/, '');
      const rel = relative(tree.source, dirname(source)).split(sep).join('/');
      const defines = { ...f.defines };
      if ('KBUILD_MODFILE' in defines) defines.KBUILD_MODFILE = `"${rel}/${stem}"`;
      if ('KBUILD_BASENAME' in defines) defines.KBUILD_BASENAME = `"${stem}"`;
      if ('KBUILD_MODNAME' in defines && defines.KBUILD_MODNAME === `"${other}"`) defines.KBUILD_MODNAME = `"${stem}"`;
      if ('__KBUILD_MODNAME' in defines && defines.__KBUILD_MODNAME === `kmod_${other}`) defines.__KBUILD_MODNAME = `kmod_${stem}`;
      return { ...f, defines, source, tree, sibling: f.cmdFile };
    }
  }
  throw new Error(`no kbuild flags for ${relative(tree.source, source)}: ${own} does not exist and no other object of ${relative(tree.build, dir) || '.'} was built ` +
    `(build one object of that folder once with make O=${tree.build} …, or name the build folder with kernelBuild / --kernel-build)`);
}

/** Whether `dir` looks like the top of a kernel source tree. */
function isSourceTop(dir: string, fs: TreeFiles): boolean {
  return fs.exists(join(dir, 'Makefile')) && fs.exists(join(dir, 'Kconfig')) && fs.isDirectory(join(dir, 'arch')) && fs.isDirectory(join(dir, 'include'));
}

/** Whether `dir` is a configured kbuild build folder (`make prepare` or a build ran there). */
function isConfigured(dir: string, fs: TreeFiles): boolean {
  return fs.exists(join(dir, 'include', 'generated', 'autoconf.h'));
}

/**
 * The kernel tree a file belongs to, found by walking up from it to the top of a kernel source
 * tree, and its build folder: the tree itself when it holds `include/generated/` (an in-tree
 * build), else an `O=` folder beside or inside the tree whose `source` link points back at it
 * (kbuild writes that link). A file inside an `O=` folder finds the tree through the same link.
 * Undefined when the file is in no configured tree.
 */
export function findKernelTree(file: string, fs: TreeFiles = nodeTreeFiles): KernelTree | undefined {
  for (let d = dirname(resolve(file)); ; d = dirname(d)) {
    if (isSourceTop(d, fs)) {
      if (isConfigured(d, fs)) return { source: d, build: d };
      const real = fs.realpath(d) ?? d;
      for (const parent of [d, dirname(d)]) {
        for (const n of fs.list(parent).sort()) {
          const b = join(parent, n);
          if (b === d || !fs.isDirectory(b) || !isConfigured(b, fs)) continue;
          const link = fs.realpath(join(b, 'source'));
          if (link && (link === real || link === d)) return { source: d, build: b };
        }
      }
      return undefined;
    }
    if (isConfigured(d, fs) && fs.exists(join(d, 'source'))) {
      const src = fs.realpath(join(d, 'source'));
      if (src && isSourceTop(src, fs)) return { source: src, build: d };
    }
    if (dirname(d) === d) return undefined;
  }
}

/** The generation of a kernel version (docs/kernel-generations.md: 6.1 is G1; 6.7 to 6.12 are G4). */
export function generationOfVersion(v: number, p: number): Generation | undefined {
  if (v === 6 && p <= 2) return 'G1';
  if (v === 6 && p >= 7) return 'G4';
  return undefined;
}

/** The kernel generation of a tree by its version (its Makefile's VERSION and PATCHLEVEL). */
export function generationOfTree(source: string, fs: TreeFiles = nodeTreeFiles): Generation | undefined {
  const text = fs.read(join(source, 'Makefile'))?.slice(0, 2000);
  if (text === undefined) return undefined;
  const v = Number(/^VERSION\s*=\s*(\d+)/m.exec(text)?.[1]), p = Number(/^PATCHLEVEL\s*=\s*(\d+)/m.exec(text)?.[1]);
  if (!Number.isFinite(v) || !Number.isFinite(p)) return undefined;
  return generationOfVersion(v, p);
}

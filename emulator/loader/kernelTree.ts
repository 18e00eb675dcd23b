// Kernel build trees (launch attributes `kernelSource` and `kernelBuild`, the `O=` folder):
// which object a source file of the tree becomes, whether that object is newer than everything
// kbuild says it depends on (its .cmd file), the kernel's own single-object build
// (`make -C SRC O=BUILD arch/x86/coco/tdx/tdcall.o`, an argument array, progress forwarded),
// and DWARF paths mapped back to the source tree when the object was built elsewhere.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { LoadError, type Diagnostic } from './diagnostics';
import type { Image } from './image';
import { parseCompilerOutput, runArgv } from './toolchain';

/** A kernel tree: sources and the `O=` build folder (the same folder for in-tree builds). */
export interface KernelTree {
  source: string;
  build: string;
}

/** Options of a single-object build. */
export interface KernelBuildOptions {
  /** `make` (default) or another make on PATH. */
  make?: string;
  /** `-j` (default: 2). */
  jobs?: number;
  /** Each line make prints, as it prints it. */
  onProgress?: (line: string) => void;
  /** Kill make after this long (default 30 min: a fresh tree runs `make prepare` first). */
  timeoutMs?: number;
}

/** Why an object needs building (undefined: up to date). */
export type Staleness = undefined | { reason: string };

/**
 * The object path (relative to the tree) for a file of the tree: a source (`.S`, `.c`) gives the
 * object it compiles to, an object names itself. Relative paths are relative to the source tree,
 * absolute ones must lie inside the source or the build folder.
 */
export function kernelObjectFor(file: string, tree: KernelTree): string {
  let rel: string;
  if (isAbsolute(file)) {
    const inSrc = inside(file, tree.source), inBuild = inside(file, tree.build);
    // Prefer the build folder when it is nested in the source tree (O=build inside the tree).
    rel = inBuild !== undefined ? inBuild : inSrc !== undefined ? inSrc : '';
    if (!rel) throw new Error(`${file} is not inside kernelSource (${tree.source}) or kernelBuild (${tree.build})`);
  } else {
    rel = file;
  }
  rel = rel.split(sep).join('/');
  if (/\.(S|c)$/.test(rel)) return rel.replace(/\.(S|c)$/, '.o');
  if (/\.o$/.test(rel)) return rel;
  throw new Error(`${file} is neither a kernel source (.S, .c) nor an object (.o)`);
}

function inside(file: string, dir: string): string | undefined {
  const r = relative(resolve(dir), resolve(file));
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : undefined;
}

/**
 * Whether `BUILD/target` is newer than its source and every dependency kbuild recorded in
 * `BUILD/dir/.name.o.cmd` (headers, generated asm-offsets, the configuration).
 */
export function kernelObjectStaleness(target: string, tree: KernelTree): Staleness {
  const obj = join(tree.build, target);
  if (!existsSync(obj)) return { reason: `${target} has not been built in ${tree.build}` };
  const cmd = join(tree.build, target.replace(/[^/]+$/, (n) => `.${n}.cmd`));
  const objTime = statSync(obj).mtimeMs;
  if (!existsSync(cmd)) {
    // No kbuild record (copied object): compare with the source file alone.
    const src = sourceOf(target, tree);
    if (src && statSync(src).mtimeMs > objTime) return { reason: `${relative(tree.source, src)} is newer than ${target}` };
    return undefined;
  }
  for (const dep of cmdDependencies(readFileSync(cmd, 'utf8'))) {
    const p = isAbsolute(dep) ? dep : join(tree.build, dep);
    let t: number;
    try { t = statSync(p).mtimeMs; } catch { return { reason: `${dep} (a dependency of ${target}) is missing` }; }
    if (t > objTime) return { reason: `${dep} is newer than ${target}` };
  }
  return undefined;
}

/** The source file (`.S` or `.c`) an object of the tree comes from, if it exists. */
export function sourceOf(target: string, tree: KernelTree): string | undefined {
  for (const ext of ['.S', '.c']) {
    const p = join(tree.source, target.replace(/\.o$/, ext));
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** The files of a kbuild `.cmd` file's `source_…` and `deps_…` variables (wildcards skipped). */
export function cmdDependencies(text: string): string[] {
  const out: string[] = [];
  const joined = text.replace(/\\\n/g, ' ');
  for (const line of joined.split('\n')) {
    const m = /^(source_\S+|deps_\S+)\s*:=\s*(.*)$/.exec(line);
    if (!m) continue;
    const words = m[2].replace(/\$\(wildcard [^)]*\)/g, ' ').split(/\s+/).filter(Boolean);
    out.push(...words);
  }
  return out;
}

/**
 * Runs the kernel's own build for the given objects (relative to the tree) in one `make`:
 * `make -C SOURCE O=BUILD -jN target…` (no `O=` when the two folders are the same).
 * Throws LoadError with the compiler's messages (paths mapped into the tree) when it fails.
 */
export async function buildKernelObjects(targets: string[], tree: KernelTree, opts: KernelBuildOptions = {}): Promise<{ argv: string[]; diagnostics: Diagnostic[] }> {
  const argv = [opts.make ?? 'make', '-C', tree.source];
  if (resolve(tree.source) !== resolve(tree.build)) argv.push(`O=${resolve(tree.build)}`);
  argv.push(`-j${opts.jobs ?? 2}`, ...targets);
  const r = await runArgv(argv, tree.build, opts.timeoutMs ?? 30 * 60_000, opts.onProgress);
  if (r.spawnError) throw new LoadError([{ severity: 'error', message: `could not run '${argv[0]}' (${r.spawnError}): kernelSource/kernelBuild need make and the kernel's build tools (gcc, flex, bison, bc, libelf)` }]);
  const diagnostics = parseCompilerOutput(r.stderr + '\n' + r.stdout, tree.build).map((d) => mapDiagnostic(d, tree));
  if (r.status !== 0) {
    const tail = (r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n');
    if (!diagnostics.some((d) => d.severity === 'error')) {
      diagnostics.push({ severity: 'error', message: `${argv.join(' ')} ${r.timedOut ? 'timed out' : `failed (status ${r.status ?? r.signal})`}${tail ? `:\n${tail}` : ''}` });
    }
    throw new LoadError(diagnostics);
  }
  for (const t of targets) {
    if (!existsSync(join(tree.build, t))) throw new LoadError([...diagnostics, { severity: 'error', message: `${argv.join(' ')} succeeded but ${t} is not in ${tree.build}` }]);
  }
  return { argv, diagnostics };
}

function mapDiagnostic(d: Diagnostic, tree: KernelTree): Diagnostic {
  if (!d.location) return d;
  return { ...d, location: { ...d.location, file: mapKernelPath(d.location.file, tree) } };
}

const TOP_DIRS = ['arch', 'include', 'kernel', 'mm', 'drivers', 'fs', 'lib', 'net', 'init', 'block', 'security', 'crypto', 'virt', 'tools', 'scripts', 'sound', 'ipc', 'io_uring', 'certs', 'samples', 'usr'];

/**
 * A path from an object's DWARF (or a compiler message) as a file on this machine: kept when it
 * exists; else, for objects built elsewhere (another checkout, `-fdebug-prefix-map`, a
 * distribution build folder), the longest tail starting at a top-level kernel folder that exists
 * in the build folder (generated headers) or the source tree. Unmappable paths are returned as is.
 */
export function mapKernelPath(path: string, tree: KernelTree): string {
  if (isAbsolute(path) && existsSync(path)) return path;
  if (!isAbsolute(path)) {
    for (const base of [tree.build, tree.source]) {
      const p = resolve(base, path);
      if (existsSync(p)) return p;
    }
  }
  const parts = path.split(/[\\/]+/).filter(Boolean);
  for (let k = 0; k < parts.length; k++) {
    if (!TOP_DIRS.includes(parts[k])) continue;
    const tail = parts.slice(k).join('/');
    for (const base of [tree.build, tree.source]) {
      const p = join(base, tail);
      if (existsSync(p)) return p;
    }
  }
  return path;
}

/** Rewrites every source path of an Image (lines, macro expansions, sources) with `map`. */
export function remapImagePaths(image: Image, map: (path: string) => string): void {
  const cache = new Map<string, string>();
  const m = (p: string) => { let v = cache.get(p); if (v === undefined) { v = map(p); cache.set(p, v); } return v; };
  for (let k = 0; k < image.lines.length; k++) {
    const l = image.lines[k];
    const file = m(l.file);
    const expansion = l.expansion?.map((x) => ({ ...x, file: m(x.file) }));
    if (file !== l.file || expansion) image.lines[k] = { ...l, file, ...(expansion ? { expansion } : {}) };
  }
  const sources = [...image.sources];
  image.sources.clear();
  for (const [k, v] of sources) image.sources.set(m(k), v);
}

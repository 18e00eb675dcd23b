// The Session's ELF ways in (issue 7): an ELF `program` (`.o`, executable), a `.S`/`.c` program
// built by the user's `toolchain`, or a file of a kernel tree (`kernelSource` + `kernelBuild`)
// whose object the kernel's own make builds — plus `objects` linked with it. All end in
// loadElfObjects at kernel-text addresses, then the `.byte` TDCALL lines are attributed, the
// generation's struct presets and TDX constants fill what the object's DWARF does not carry.

import { existsSync, readFileSync, openSync, readSync, closeSync, constants } from 'node:fs';
import { MAX_OBJECT_BYTES, MAX_SOURCE_BYTES, fileNotFound, notRegularFile, readRegularFile } from '../loader/files';
import { isAbsolute, resolve, join, sep, dirname } from 'node:path';
import { loadElfObjects, type ElfInput } from '../loader/loadElf';
import type { Image, StructLayout, FieldLayout } from '../loader/image';
import { compileWithToolchain, CompilerNotFoundError } from '../loader/toolchain';
import { buildKernelObjects, kernelObjectFor, kernelObjectStaleness, mapKernelPath, remapImagePaths, type KernelTree } from '../loader/kernelTree';
import { attributeByteCallLines } from '../loader/byteLines';
import { structPreset } from '../loader/structPresets';
import { preprocess, constantsFromDefines, type Generation } from '../loader/preprocess';
import { LoadError, type Diagnostic } from '../loader/diagnostics';
import { loadCDeclarations } from '../loader/cheaders';
import type { ExecContext } from '../platform/config';
import { ConfigError, type ValidConfig } from './config';
import { linkReachable, treeCandidates, foldersOf } from '../loader/elf/treeLink';
import { splitDataKey } from './kernelData';
import { generationOfTree, generationOfVersion } from '../loader/kbuildFlags';

export { generationOfTree } from '../loader/kbuildFlags';

/** What the Session needs to know from its caller for these paths. */
export interface RealImageOptions {
  cwd: string;
  /** Where `.text` goes (LAYOUT.text). */
  base: bigint;
  /** False in untrusted workspaces: no compiler, no make. */
  trusted: boolean;
  onProgress?: (line: string) => void;
}

/** The Image and the file the user debugs (the source when known, else the object). */
export interface RealImage {
  image: Image;
  programPath: string;
  /** The configuration with `context` and `generation` filled in when they were left out. */
  config: ValidConfig;
  /** Compiler warnings (for the Problems view). */
  diagnostics: Diagnostic[];
}

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** Whether a file starts with the ELF magic (an executable may have any name). */
export function isElfFile(path: string): boolean {
  if (/\.(o|ko|elf)$/i.test(path)) return true;
  if (!existsSync(path) || /\.(S|s|c|h|inc)$/.test(path)) return false;
  const b = Buffer.alloc(4);
  let fd: number | undefined;
  if (notRegularFile(path)) return false; // the session reports what it is instead
  try { fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)); readSync(fd, b, 0, 4, 0); } catch { return false; } finally { if (fd !== undefined) closeSync(fd); }
  return ELF_MAGIC.every((x, k) => b[k] === x);
}

/** Whether the launch configuration takes an ELF path rather than the built-in assembler. */
export function wantsRealImage(config: ValidConfig, program: string): boolean {
  return config.toolchain !== undefined || config.kernelSource !== undefined || (config.objects?.length ?? 0) > 0 || isElfFile(program) || /\.c$/.test(program);
}

/** Builds (when asked and allowed) and loads the objects of the configuration. Throws ConfigError or LoadError. */
export async function buildRealImage(config: ValidConfig, programArg: string, opts: RealImageOptions): Promise<RealImage> {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(opts.cwd, p));
  const diagnostics: Diagnostic[] = [];
  const files: { object: string; attribute: string }[] = [];
  let programPath: string;
  let tree: KernelTree | undefined;
  let generation = config.generation;
  let treeDefinitions: Map<string, string> | undefined;

  if (config.kernelSource !== undefined && config.kernelBuild !== undefined) {
    tree = { source: abs(config.kernelSource), build: abs(config.kernelBuild) };
    if (!existsSync(join(tree.source, 'Makefile'))) throw new ConfigError('kernelSource', `is not a kernel source tree (no Makefile in ${tree.source})`);
    if (!existsSync(tree.build)) throw new ConfigError('kernelBuild', `${fileNotFound(tree.build, 'a folder')} (run the kernel's configuration there first, e.g. make O=… defconfig)`);
    generation ??= generationOfTree(tree.source);
    const inTree = (p: string, attribute: string): string => {
      const file = isAbsolute(p) ? p : existsSync(abs(p)) ? abs(p) : p;
      try { return kernelObjectFor(file, tree as KernelTree); } catch (e) { throw new ConfigError(attribute, (e as Error).message); }
    };
    const targets = [{ target: inTree(programArg, 'program'), attribute: 'program' }];
    const extra: { object: string; attribute: string }[] = [];
    (config.objects ?? []).forEach((o, i) => {
      // An existing object outside the tree links as it is; anything else is an object of the tree.
      const a = abs(o);
      const t = tree as KernelTree;
      const outside = existsSync(a) && !a.startsWith(t.source + sep) && !a.startsWith(t.build + sep);
      if (/\.o$/.test(o) && outside) extra.push({ object: a, attribute: `objects[${i}]` });
      else targets.push({ target: inTree(o, `objects[${i}]`), attribute: `objects[${i}]` });
    });
    const stale = targets.map((t) => ({ ...t, why: kernelObjectStaleness(t.target, tree as KernelTree) })).filter((t) => t.why);
    if (stale.length) {
      const why = stale.map((t) => t.why?.reason).join('; ');
      if (!opts.trusted) {
        throw new ConfigError('kernelBuild', `needs the kernel's make to run (${why}), which is off in an untrusted workspace: trust the workspace, or build the object yourself and name the .o as "program"`);
      }
      opts.onProgress?.(`building ${stale.map((t) => t.target).join(' ')} with the kernel's make (${why})`);
      const r = await buildKernelObjects(stale.map((t) => t.target), tree, { onProgress: opts.onProgress });
      diagnostics.push(...r.diagnostics);
    }
    for (const t of targets) files.push({ object: join(tree.build, t.target), attribute: t.attribute });
    files.push(...extra);
    // Undefined symbols resolve first against the tree's other objects of the same folders
    // (an index of their symbols), loading only the objects the run can reach from where it starts.
    if (config.linkTree !== false) {
      const t = tree as KernelTree;
      const rel = (p: string) => (p.startsWith(t.build + sep) ? p.slice(t.build.length + 1) : p);
      const mine = files.map((f) => f.object);
      const candidates = treeCandidates(foldersOf(mine), new Set(mine));
      const r = linkReachable(mine, candidates, { names: runRoots(config), stubbed: Object.keys(config.stubs ?? {}) });
      if (r.indexed) opts.onProgress?.(`build tree: indexed ${r.indexed} object${r.indexed === 1 ? '' : 's'} of ${foldersOf(mine).map(rel).join(', ')} in ${r.indexMs} ms${r.cached ? ` (${r.cached} unchanged since the last launch)` : ''}`);
      for (const a of r.added) opts.onProgress?.(`linking ${rel(a.object)} from the build tree: it defines ${a.symbol}, which ${a.from} reaches`);
      if (r.indexed) opts.onProgress?.(`build tree: linked ${r.added.length} of ${r.indexed} object${r.indexed === 1 ? '' : 's'} the run can reach in ${r.walkMs} ms${r.skipped.length ? ` (not reached, not loaded: ${r.skipped.map((p) => rel(p)).join(', ')})` : ''}`);
      files.push(...r.added.map((a) => ({ object: a.object, attribute: 'kernelBuild' })));
      treeDefinitions = new Map([...r.definedElsewhere].map(([k, v]) => [k, rel(v)]));
    }
    const src = isAbsolute(programArg) ? programArg : join(tree.source, programArg);
    programPath = existsSync(src) && !/\.o$/.test(src) ? src : files[0].object;
  } else {
    const program = abs(programArg);
    { const why = notRegularFile(program); if (why) throw new ConfigError('program', why); }
    programPath = program;
    const objectOf = async (file: string, attribute: string): Promise<string> => {
      if (isElfFile(file)) return file;
      if (!/\.(S|s|c)$/.test(file)) throw new ConfigError(attribute, `is neither an ELF object nor a .S/.c source: ${file}`);
      if (!config.toolchain) {
        throw new ConfigError(attribute, /\.c$/.test(file)
          ? `is C source, which needs "toolchain" (e.g. { "compiler": "gcc" }): the built-in assembler reads only .S files`
          : `is assembly that takes part in an ELF link: set "toolchain" to build it with gcc, or give its .o`);
      }
      if (!opts.trusted) {
        throw new ConfigError('toolchain', 'runs a compiler named by the workspace, which is off in an untrusted workspace (Restricted Mode): trust the workspace, or remove "toolchain" to use the built-in assembler');
      }
      try {
        const defines: Record<string, string> = {};
        for (const [k, v] of Object.entries(config.defines ?? {})) defines[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
        const r = await compileWithToolchain(file, config.toolchain, { cwd: opts.cwd, includePaths: (config.includePaths ?? []).map(abs), defines });
        opts.onProgress?.(r.argv.join(' '));
        diagnostics.push(...r.diagnostics);
        return r.object;
      } catch (e) {
        if (e instanceof CompilerNotFoundError) throw new ConfigError('toolchain.compiler', e.message);
        throw e;
      }
    };
    files.push({ object: await objectOf(program, 'program'), attribute: 'program' });
    for (const [i, o] of (config.objects ?? []).entries()) {
      const f = abs(o);
      { const why = notRegularFile(f); if (why) throw new ConfigError(`objects[${i}]`, why); }
      files.push({ object: await objectOf(f, `objects[${i}]`), attribute: `objects[${i}]` });
    }
  }

  const inputs: ElfInput[] = files.map((f) => {
    try { return { path: f.object, bytes: readRegularFile(f.object, MAX_OBJECT_BYTES, { bytes: ELF_MAGIC, what: 'an ELF object' }) }; } catch (e) { throw new ConfigError(f.attribute, (e as Error).message); }
  });
  const t = tree;
  const readSource = (p: string): string | undefined => {
    const q = t ? mapKernelPath(p, t) : p;
    try { return readRegularFile(q, MAX_SOURCE_BYTES).toString('utf8'); } catch { return undefined; }
  };
  const image = loadElfObjects(inputs, { base: opts.base, readSource });
  if (t) remapImagePaths(image, (p) => mapKernelPath(p, t));
  if (treeDefinitions) image.treeDefinitions = new Map([...treeDefinitions].filter(([k]) => image.undefinedSymbols.includes(k)));
  attributeByteCallLines(image);
  // The kernel version when the configuration does not say: the build tree the objects sit in, then their symbols.
  generation ??= generationOfObjects(files.map((f) => f.object)) ?? generationOfSymbols(image);
  // The user's C headers: their layouts fill what the objects' DWARF does not carry (DWARF wins).
  const defines: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.defines ?? {})) defines[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  for (const [i, h] of (config.headers ?? []).entries()) {
    const file = abs(h);
    if (!existsSync(file)) throw new ConfigError(`headers[${i}]`, fileNotFound(file));
    const d = loadCDeclarations(file, { includePaths: (config.includePaths ?? []).map(abs), defines, generation: generation ?? 'G5' });
    diagnostics.push(...d.diagnostics);
    if (d.diagnostics.some((x) => x.severity === 'error')) throw new LoadError(d.diagnostics);
    for (const [k, v] of d.structs) if (!image.structs.has(k)) image.structs.set(k, v);
  }
  addPresets(image, generation ?? 'G5');
  const context = config.context ?? contextOfImage(image);
  return { image, programPath, diagnostics, config: { ...config, context, generation } };
}

/**
 * Where the run starts and what the configuration names: the entry, the `before` functions, the
 * functions stubs call, the data it sets (the roots of the build-tree walk). Without an entry
 * the program's every function may run: no roots (the walk starts from whole objects).
 */
export function runRoots(config: ValidConfig): string[] {
  if (!config.entry) return [];
  const names = [config.entry, ...(config.before ?? [])];
  for (const spec of Object.values(config.stubs ?? {})) {
    if (typeof spec !== 'object' || spec === null) continue;
    for (const e of [spec, ...(spec.sequence ?? [])]) if (typeof e.call === 'string') names.push(e.call);
  }
  for (const k of Object.keys(config.data ?? {})) names.push(splitDataKey(k).name);
  return [...new Set(names)];
}

/** The generation of the kernel build tree the objects were built in (its include/config/kernel.release). */
export function generationOfObjects(objects: string[]): Generation | undefined {
  for (const o of objects) {
    let dir = dirname(o);
    for (let k = 0; k < 8 && dir !== dirname(dir); k++, dir = dirname(dir)) {
      const rel = join(dir, 'include/config/kernel.release');
      if (!existsSync(rel)) continue;
      const m = /^(\d+)\.(\d+)/.exec(readFileSync(rel, 'utf8'));
      if (m) return generationOfVersion(Number(m[1]), Number(m[2]));
    }
  }
  return undefined;
}

/** The generation the objects' symbols imply: 6.1's __tdx_module_call vs 6.7+'s __tdcall_ret/__seamcall_ret. */
export function generationOfSymbols(image: Image): Generation | undefined {
  const names = new Set([...image.symbols.map((s) => s.name), ...image.undefinedSymbols]);
  if (['__tdcall_ret', '__tdcall_saved_ret', '__seamcall_ret', '__seamcall_saved_ret'].some((n) => names.has(n))) return 'G4';
  if (names.has('__tdx_module_call')) return 'G1';
  return undefined;
}

/** TD guest when the code holds TDCALL, VMX-root host when it holds SEAMCALL (at instruction starts or not: a guess). */
export function contextOfImage(image: Image): ExecContext {
  let td = false, seam = false;
  for (const s of image.sections) {
    if (!s.exec) continue;
    const b = s.bytes;
    for (let k = 0; k + 3 < b.length; k++) {
      if (b[k] === 0x66 && b[k + 1] === 0x0f && b[k + 2] === 0x01) { if (b[k + 3] === 0xcf) seam = true; else if (b[k + 3] === 0xcc) td = true; }
    }
  }
  return seam ? 'host' : td ? 'guest' : 'none';
}

/**
 * The generation's struct presets where the DWARF has none (an assembly object carries no
 * types), the asm-offsets names on DWARF layouts that match a preset field for field, and the
 * named constants of the built-in TDX headers (leaves, statuses, flags) for `args` and stubs.
 */
function addPresets(image: Image, generation: Generation): void {
  const preset = structPreset(generation);
  for (const [name, p] of preset.structs) {
    const mine = image.structs.get(name);
    if (!mine) { image.structs.set(name, p); continue; }
    if (sameShape(mine.fields, p.fields)) image.structs.set(name, { ...mine, fields: withOffsetNames(mine.fields, p.fields) } satisfies StructLayout);
  }
  const pp = preprocess('<tdx-constants>.S', {
    generation, text: '#include <asm/tdx.h>\n#include <asm/shared/tdx.h>\n#include <asm/trapnr.h>\n#include <asm/asm-offsets.h>\n',
  });
  for (const [k, v] of constantsFromDefines(pp.defines)) if (!image.constants.has(k)) image.constants.set(k, v);
  for (const [k, v] of preset.asmOffsets) if (!image.constants.has(k)) image.constants.set(k, v);
}

function sameShape(a: FieldLayout[], b: FieldLayout[]): boolean {
  return a.length === b.length && a.every((f, k) => f.name === b[k].name && f.offset === b[k].offset && f.size === b[k].size);
}

function withOffsetNames(a: FieldLayout[], b: FieldLayout[]): FieldLayout[] {
  return a.map((f, k) => (b[k].asmOffsetsName ? { ...f, asmOffsetsName: b[k].asmOffsetsName } : f));
}

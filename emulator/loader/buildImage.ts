// `.S` file → Image with no tool installed: the preprocessor (with our kernel headers and the
// generation's asm-offsets, or the user's asm-offsets.c), then the assembler, then struct
// layouts (the generation's preset plus the user's C headers) and named constants.
// A build with any error returns no Image, only diagnostics.

import { Diagnostic } from './diagnostics';
import { FieldLayout, Image, StructLayout } from './image';
import { preprocess, constantsFromDefines, type Generation } from './preprocess';
import { loadAsmOffsets, loadCDeclarations } from './cheaders';
import { structPreset } from './structPresets';
import { assemble, ListingRow } from './assembler';
import { findKernelTree, generationOfTree, kernelTreeFlags, type KbuildFlags } from './kbuildFlags';
import type { KernelTree } from './kernelTree';

/** Inputs of one build (the CLI's `tdxdbg asm` flags and the launch configuration). */
export interface BuildOptions {
  /** `-I` directories, searched before the built-in headers. */
  includePaths?: string[];
  /** `-D NAME[=VALUE]` definitions (value '1' when none). */
  defines?: Record<string, string>;
  /** C headers whose struct/union layouts go into the Image (`--header`). */
  headers?: string[];
  /** An asm-offsets.c whose OFFSET/DEFINE symbols replace the preset's (`--asm-offsets`). */
  asmOffsets?: string;
  /** Kernel generation of the built-in TDX headers and struct presets (default G5). */
  generation?: Generation;
  /** Address of `.text` (default 0). */
  base?: bigint;
  /** Source text instead of reading the entry file (editors with unsaved buffers). */
  text?: string;
  /** File access override (tests, virtual workspaces). */
  readFile?: (path: string) => string | undefined;
  /**
   * Kernel-tree mode (kbuildFlags.ts): the tree's flags for this file. Its headers replace the
   * built-in ones for the entry file; `includePaths` and `defines` still come first.
   */
  kernelTree?: Pick<KbuildFlags, 'includePaths' | 'defines' | 'undefines' | 'includes'>;
  /**
   * Where kernel-tree mode takes its flags when `kernelTree` is not given: a named tree (its
   * flags for the file must exist: an error otherwise), or 'discover' (walk up from the file;
   * a tree with no flags for the file is a warning, and the built-in headers are used).
   */
  kernelTreeFrom?: KernelTree | 'discover';
}

/** What a build produced: `image` only when there was no error. */
export interface BuildResult {
  image?: Image;
  /** Kernel-tree mode: the tree and the kbuild command file the flags came from. */
  kernelTree?: { source: string; build: string; cmdFile: string; sibling?: string };
  diagnostics: Diagnostic[];
  listing: ListingRow[];
}

/** Builds the Image of a kernel-style assembly file. Never throws for bad input. */
export async function buildImage(entryFile: string, opts: BuildOptions = {}): Promise<BuildResult> {
  // A kernel tree's own version names the generation when none is given.
  const treeOf = opts.kernelTreeFrom === 'discover' ? findKernelTree(entryFile) : opts.kernelTreeFrom;
  const generation = opts.generation ?? (treeOf ? generationOfTree(treeOf.source) : undefined) ?? 'G5';
  const common = { includePaths: opts.includePaths ?? [], defines: opts.defines, generation, readFile: opts.readFile };
  const diagnostics: Diagnostic[] = [];
  const structs = new Map<string, StructLayout>();
  const sources = new Map<string, string>();

  const preset = structPreset(generation);
  for (const [k, v] of preset.structs) structs.set(k, v);
  let asmOffsets = preset.asmOffsets;
  if (opts.asmOffsets) {
    const r = loadAsmOffsets(opts.asmOffsets, common);
    diagnostics.push(...r.diagnostics);
    if (r.symbols.size === 0 && !r.diagnostics.some((d) => d.severity === 'error')) {
      diagnostics.push({ severity: 'warning', location: { file: opts.asmOffsets, line: 1, column: 1 },
        message: 'no OFFSET()/DEFINE()/BLANK() calls found: write them as the kernel does, with #include <linux/kbuild.h> (our built-in one leaves the macros for us to read) rather than your own macro definitions' });
    }
    asmOffsets = r.symbols;
    for (const [k, v] of r.decls.structs) structs.set(k, v);
  }
  for (const h of opts.headers ?? []) {
    const d = loadCDeclarations(h, common);
    diagnostics.push(...d.diagnostics);
    for (const [k, v] of d.structs) structs.set(k, withAsmOffsetsNames(v, structs.get(k)));
    for (const [k, v] of d.sources) sources.set(k, v);
  }

  let kt = opts.kernelTree;
  let treeUsed: BuildResult['kernelTree'];
  if (!kt && opts.kernelTreeFrom) {
    const named = opts.kernelTreeFrom !== 'discover';
    const tree = treeOf;
    if (tree) {
      try {
        const f = kernelTreeFlags(entryFile, tree);
        kt = f;
        diagnostics.push(...unmodelledFlags(f, entryFile));
        treeUsed = { source: tree.source, build: tree.build, cmdFile: f.cmdFile, ...(f.sibling ? { sibling: f.sibling } : {}) };
      } catch (e) {
        diagnostics.push({ severity: named ? 'error' : 'warning', location: { file: entryFile, line: 1, column: 1 },
          message: `kernel tree ${tree.source} (build ${tree.build}): ${(e as Error).message}${named ? '' : '; assembling with the built-in headers instead'}` });
      }
    }
  }
  const pp = kt
    ? preprocess(entryFile, { ...common, includePaths: [...common.includePaths, ...kt.includePaths], defines: { ...kt.defines, ...opts.defines }, undefines: kt.undefines, includes: kt.includes, builtinHeaders: false, text: opts.text })
    : preprocess(entryFile, { ...common, asmOffsets, text: opts.text });
  diagnostics.push(...pp.diagnostics);
  for (const [k, v] of pp.sources) sources.set(k, v);
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics, listing: [], kernelTree: treeUsed };

  const r = assemble(pp.lines, { base: opts.base });
  diagnostics.push(...r.diagnostics);
  if (!r.image || diagnostics.some((d) => d.severity === 'error')) return { diagnostics, get listing() { return r.listing; }, kernelTree: treeUsed };

  const image = r.image;
  // #defines with integer values (TDX leaves, statuses, asm-offsets) are named constants too;
  // `.set` symbols already are, and win on a clash because they are what the code used.
  const constants = new Map(constantsFromDefines(pp.defines));
  for (const [k, v] of asmOffsets) if (!constants.has(k)) constants.set(k, v);
  for (const [k, v] of image.constants) constants.set(k, v);
  // The assembler's Image, completed in place: a spread copy would read its `lines` getter and
  // make the line table (8 ms of a 5,000-line `tdxdbg asm`) where nothing reads it.
  // `listing` stays lazy (see assemble): read through, not copied.
  Object.assign(image, { constants, structs, sources });
  return { image, diagnostics, get listing() { return r.listing; }, kernelTree: treeUsed };
}

/**
 * A header's layout of a struct the asm-offsets source (or the preset) also laid out: the
 * header's fields, with the asm-offsets names of the fields that sit at the same offset under
 * the same name (headers give layouts, asm-offsets gives names; neither replaces the other).
 */
function withAsmOffsetsNames(layout: StructLayout, before: StructLayout | undefined): StructLayout {
  if (!before) return layout;
  const named = new Map<string, FieldLayout>();
  // Offsets are from the start of the outermost struct at every depth.
  const walk = (fields: readonly FieldLayout[], path: string) => {
    for (const f of fields) {
      const p = path ? `${path}.${f.name}` : f.name;
      if (f.asmOffsetsName) named.set(`${p}@${f.offset}`, f);
      if (f.fields) walk(f.fields, p);
    }
  };
  walk(before.fields, '');
  if (named.size === 0) return layout;
  const copy = (fields: readonly FieldLayout[], path: string): FieldLayout[] => fields.map((f) => {
    const p = path ? `${path}.${f.name}` : f.name;
    const from = named.get(`${p}@${f.offset}`);
    const out: FieldLayout = { ...f, ...(from && !f.asmOffsetsName ? { asmOffsetsName: from.asmOffsetsName } : {}) };
    if (f.fields) out.fields = copy(f.fields, p);
    return out;
  });
  return { ...layout, fields: copy(layout.fields, '') };
}

/** GNU as options kbuild passes (`-Wa,…`) that change no byte of the object. */
const HARMLESS_AS_FLAGS = /^(--noexecstack|-W|--fatal-warnings|--64|-g.*|--g.*|-mx86-used-note=.*|-mrelax-relocations=.*|-mtune=.*|--compress-debug-sections.*)$/;

/** What of a kbuild command the built-in assembler does not do: named, never silently dropped. */
function unmodelledFlags(f: KbuildFlags, file: string): Diagnostic[] {
  const at = { file, line: 1, column: 1 };
  const out: Diagnostic[] = [];
  if (f.machine && f.machine !== '-m64') out.push({ severity: 'error', location: at, message: `kbuild builds this file with ${f.machine} (${f.cmdFile}): the built-in assembler makes 64-bit code only` });
  for (const a of f.assemblerFlags) {
    if (!HARMLESS_AS_FLAGS.test(a)) out.push({ severity: 'warning', location: at, message: `kbuild passes the assembler option ${a} (${f.cmdFile}), which the built-in assembler does not model: the bytes may differ from the kernel's object` });
  }
  return out;
}

// Built-in layouts of the TDX argument structs per kernel generation, with their asm-offsets
// symbols (TDX_HYPERCALL_r10..., TDX_MODULE_rcx..., TDX_MODULE_version). Built from C text
// by the same parser and asm-offsets evaluator that read the user's headers.

import type { StructLayout } from './image';
import type { Generation } from './headers/generation';
import { tdxAsmOffsetLines, tdxStructDeclarations } from './headers/tdxStructs';
import { parseCText } from './cstruct';
import { computeAsmOffsets } from './asmOffsets';

/** The layouts and asm-offsets of one generation. */
export interface StructPreset {
  generation: Generation;
  structs: Map<string, StructLayout>;
  asmOffsets: Map<string, bigint>;
  /** The C text they were built from (declarations plus an asm-offsets function). */
  source: string;
}

const cache = new Map<Generation, StructPreset>();

/** C source of the preset: what a kernel's shared/tdx.h and asm-offsets.c hold for these structs. */
export function presetSource(g: Generation): string {
  return `/* TDX argument structs, kernel generation ${g} */\n${tdxStructDeclarations(g)}\nvoid common(void)\n{\n${tdxAsmOffsetLines(g)}\n}\n`;
}

/** The preset of generation `g` (computed once). Throws if our own text fails to parse. */
export function structPreset(g: Generation): StructPreset {
  let p = cache.get(g);
  if (p) return p;
  const source = presetSource(g);
  const decls = parseCText(source, `<preset ${g}>`);
  const offs = computeAsmOffsets(decls);
  const problems = [...decls.diagnostics, ...offs.diagnostics];
  if (problems.length) throw new Error(`struct preset ${g}: ${problems.map((d) => d.message).join('; ')}`);
  p = { generation: g, structs: decls.structs, asmOffsets: offs.symbols, source };
  cache.set(g, p);
  return p;
}

/** asm-offsets symbols of generation `g`'s TDX structs. */
export function presetAsmOffsets(g: Generation): Map<string, bigint> {
  return structPreset(g).asmOffsets;
}

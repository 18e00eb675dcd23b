// Reading the user's C headers and asm-offsets.c: preprocess in C mode (no __ASSEMBLY__),
// parse the declarations, evaluate OFFSET/DEFINE. Kept apart from cstruct.ts so the parser
// does not depend on the preprocessor (the built-in headers use the parser for presets).

import type { Diagnostic } from './diagnostics';
import { preprocess, type PreprocessOptions } from './preprocess';
import { parseCDeclarations, type CDeclarations } from './cstruct';
import { computeAsmOffsets } from './asmOffsets';

/** Preprocess `file` as C and parse its declarations. */
export function loadCDeclarations(file: string, opts: Omit<PreprocessOptions, 'language'> = {}): CDeclarations & { sources: Map<string, string> } {
  const pp = preprocess(file, { ...opts, language: 'c' });
  const decls = parseCDeclarations(pp.lines);
  return { ...decls, diagnostics: [...pp.diagnostics, ...decls.diagnostics], sources: pp.sources };
}

/** Preprocess and evaluate an asm-offsets.c: the symbols, the layouts (fields named), all diagnostics. */
export function loadAsmOffsets(file: string, opts: Omit<PreprocessOptions, 'language'> = {}): { symbols: Map<string, bigint>; decls: CDeclarations; diagnostics: Diagnostic[] } {
  const decls = loadCDeclarations(file, opts);
  const offs = computeAsmOffsets(decls);
  return { symbols: offs.symbols, decls, diagnostics: [...decls.diagnostics, ...offs.diagnostics] };
}

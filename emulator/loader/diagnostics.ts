// Diagnostics shared by every part of the loader (preprocessor, assembler, C struct parser,
// ELF/DWARF readers). An error always names a place in a file; several are collected where
// the input allows, and a load that produced any error never returns a partial Image.

/** A place in a source file. Lines and columns count from 1. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** One message about the user's input. */
export interface Diagnostic {
  severity: 'error' | 'warning' | 'note';
  message: string;
  location?: SourceLocation;
  /** Further places that belong to the same message (e.g. every use of an undefined symbol). */
  related?: { message: string; location: SourceLocation }[];
}

/** Thrown when input cannot be loaded; carries every diagnostic found. */
export class LoadError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n') || 'load failed');
    this.name = 'LoadError';
  }
}

/** GNU style: `file:line:col: error: message`. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.location ? `${d.location.file}:${d.location.line}:${d.location.column}: ` : '';
  let text = `${where}${d.severity}: ${d.message}`;
  for (const r of d.related ?? []) {
    text += `\n${r.location.file}:${r.location.line}:${r.location.column}: note: ${r.message}`;
  }
  return text;
}

// Public face of the built-in assembler: preprocessed lines in, an Image (or every
// diagnostic found) out. GNU as 2.40 is the reference for every byte it produces.

import { Diagnostic } from '../diagnostics';
import { Image } from '../image';
import { AsmLine, Assembler } from './assembler';
import { ListingRow, link } from './layout';

export type { AsmLine } from './assembler';
export type { ListingRow } from './layout';
export { formatListing } from './listing';

/** Options for one assembly. */
export interface AssembleOptions {
  /** Address of `.text`; the other sections follow it, aligned. Default 0. */
  base?: bigint;
  /** Absolute symbols known before the first line (asm-offsets, integer `#define`s). */
  constants?: Map<string, bigint>;
  /**
   * Assemble as GNU as makes an object: a value of an undefined symbol (`sym(%rax)`, `$sym`)
   * is a relocation for a later link, reported as a warning. Off for images that run: there such
   * a value (a missing asm-offsets name or constant) would be made up, so it is an error.
   */
  objectMode?: boolean;
}

/** What an assembly produced: an Image only when there was no error. */
export interface AssembleResult {
  image?: Image;
  diagnostics: Diagnostic[];
  listing: ListingRow[];
}

/** Assembles preprocessed lines. Never throws for bad input: problems come back as diagnostics. */
export function assemble(lines: AsmLine[], options: AssembleOptions = {}): AssembleResult {
  const a = new Assembler(options.constants ?? new Map());
  try {
    a.run(lines);
    const { image, listing } = link(a, { base: options.base ?? 0n, objectMode: options.objectMode });
    const failed = a.diags.some((d) => d.severity === 'error');
    let rows: ListingRow[] | undefined;
    // The listing's rows are made when first read: most callers never ask for them.
    return {
      image: failed ? undefined : image,
      diagnostics: a.diags,
      get listing() {
        return (rows ??= listing());
      },
    };
  } catch (e) {
    // A bug of ours must still come out as a diagnostic at the statement being assembled,
    // never as a stack trace or a half-built Image.
    const at = a.at ? a.location(a.at) : undefined;
    const message = `internal assembler error: ${(e as Error)?.message ?? e}`;
    return { diagnostics: [...a.diags, { severity: 'error', message, location: at }], listing: [] };
  }
}

/** Convenience for tests and tools: assemble source text that needs no preprocessing. */
export function assembleText(text: string, file = 'input.s', options: AssembleOptions = {}): AssembleResult {
  return assemble(text.split('\n').map((t, i) => ({ text: t, file, line: i + 1 })), options);
}

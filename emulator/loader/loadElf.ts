// Public entry of the ELF path into the Image (architecture §3, third row): relocatable
// objects linked at a base address, or one executable at its own addresses, with symbols,
// stubs for undefined symbols, `__ex_table`, and the DWARF line table and struct layouts.
// Bad input throws LoadError naming the file, section and offset; nothing is partial.

import { Image, StructLayout } from './image';
import { ElfFile } from './elf/elfFile';
import { linkElf, LinkResult } from './elf/link';
import { readDwarf, readDeclarations, type LineRow } from './dwarf';

export { ElfLoadError, type ElfPlace } from './elf/errors';
export { STUB_SIZE, type Placement } from './elf/link';

/** One object or executable to load. `path` names it in messages. */
export interface ElfInput {
  path: string;
  bytes: Uint8Array;
}

export interface LoadElfOptions {
  /**
   * Where the first object's first text section goes (default 0). Objects built with
   * `-mcmodel=kernel` (R_X86_64_32S) must load in the top 2 GiB, e.g. 0xffffffff81000000.
   * For a PIE executable, its load bias; ignored for other executables.
   */
  base?: bigint;
  /** Reads a source file named by the line table, for `Image.sources` (default: none are read). */
  readSource?: (path: string) => string | undefined;
}

/** The Image plus how it was made: where each input section went, the GOT, the stubs, raw line rows. */
export interface ElfLoadResult {
  image: Image;
  placements: LinkResult['placements'];
  got: LinkResult['got'];
  stubs: Map<string, bigint>;
  /** Line-matrix rows per input file (addresses as loaded, is_stmt kept). */
  rows: Map<string, LineRow[]>;
}

/** Loads and links ELF64 x86-64 objects into one Image. Throws LoadError for bad input. */
export function loadElfObjects(files: ElfInput[], opts: LoadElfOptions = {}): Image {
  return loadElfDetailed(files, opts).image;
}

/** `loadElfObjects` with the link details that tools and tests use. */
export function loadElfDetailed(files: ElfInput[], opts: LoadElfOptions = {}): ElfLoadResult {
  if (files.length === 0) throw new Error('loadElfObjects: no files given');
  const elves = files.map((f) => new ElfFile(f.path, f.bytes));
  const link = linkElf(elves, { base: opts.base, declarations: readDeclarations });
  const lines: Image['lines'] = [];
  const structs = new Map<string, StructLayout>();
  const rows = new Map<string, LineRow[]>();
  for (const d of link.debug) {
    const dw = readDwarf(d);
    lines.push(...dw.lines);
    rows.set(d.file, dw.rows.map((r) => ({ ...r, address: BigInt.asUintN(64, r.address + d.bias) })));
    // The first definition of a name wins: the same header seen by several objects is one layout.
    for (const [k, v] of dw.structs) if (!structs.has(k)) structs.set(k, v);
  }
  lines.sort((x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : 0));
  const sources = new Map<string, string>();
  if (opts.readSource) {
    for (const f of new Set(lines.map((l) => l.file))) {
      const text = opts.readSource(f);
      if (text !== undefined) sources.set(f, text);
    }
  }
  const image: Image = {
    sections: link.sections,
    symbols: link.symbols,
    lines,
    exTable: link.exTable,
    constants: new Map(),
    structs,
    sources,
    undefinedSymbols: link.undefinedSymbols,
    undefinedData: link.undefinedData,
  };
  return { image, placements: link.placements, got: link.got, stubs: link.stubs, rows };
}

// The DWARF side of an ELF load: from one object's relocated .debug_* sections to the
// Image's line table and struct layouts. Units of one object are read together because the
// line tables of DWARF 2–4 need their compile unit's directory.

import { LineEntry, StructLayout } from '../image';
import { ByteReader } from '../elf/bytes';
import { DebugInput } from '../elf/link';
import { StringSections } from './forms';
import { InfoTree, readInfo } from './info';
import { LineRow, readLinePrograms, rowsToEntries } from './line';
import { declarations, structLayouts } from './types';
import type { UndefinedDecl } from '../elf/link';

export type { LineRow } from './line';

/** What the DWARF of one object contributes to the Image. */
export interface DwarfResult {
  lines: LineEntry[];
  structs: Map<string, StructLayout>;
  /** Raw rows of the line matrix (with is_stmt), for tools and tests. */
  rows: LineRow[];
  /** Primary source file of each compile unit. */
  units: { name?: string; compDir?: string }[];
}

/** Reads `.debug_line` and `.debug_info` of one object (either may be absent). */
export function readDwarf(input: DebugInput): DwarfResult {
  const sec = (name: string) => {
    const b = input.sections.get(name);
    return b ? new ByteReader(b, input.file, name) : undefined;
  };
  const strs: StringSections = { str: sec('.debug_str'), lineStr: sec('.debug_line_str'), strOffsets: sec('.debug_str_offsets') };
  const infoSec = sec('.debug_info');
  let tree: InfoTree | undefined;
  if (infoSec) tree = readInfo(infoSec, sec('.debug_abbrev'), strs);
  const compDirs = new Map<number, string>();
  for (const u of tree?.units ?? []) if (u.stmtList !== undefined && u.compDir !== undefined) compDirs.set(u.stmtList, u.compDir);
  const lineSec = sec('.debug_line');
  const rows = lineSec ? readLinePrograms(lineSec, strs, compDirs) : [];
  return {
    lines: rowsToEntries(rows, input.bias),
    structs: tree ? structLayouts(tree) : new Map(),
    rows,
    units: (tree?.units ?? []).map((u) => ({ name: u.name, compDir: u.compDir })),
  };
}

/** The `extern` declarations of one object's compile units (for sizing undefined data). */
export function readDeclarations(input: DebugInput): Map<string, UndefinedDecl> {
  const sec = (name: string) => {
    const b = input.sections.get(name);
    return b ? new ByteReader(b, input.file, name) : undefined;
  };
  const infoSec = sec('.debug_info');
  if (!infoSec) return new Map();
  const strs: StringSections = { str: sec('.debug_str'), lineStr: sec('.debug_line_str'), strOffsets: sec('.debug_str_offsets') };
  return declarations(readInfo(infoSec, sec('.debug_abbrev'), strs));
}

// .debug_line, versions 2 to 5: headers (v5 entry formats included), the line-number state
// machine, and rows turned into the Image's LineEntry ranges with absolute file paths. The
// program only moves forward through its bytes, so a hostile program ends when its bytes do.

import { posix } from 'node:path';
import { LineEntry } from '../image';
import { ByteReader, hex } from '../elf/bytes';
import { readForm, readUnitLength, StringSections, UnitShape } from './forms';

/** One row of the line matrix (only the columns the Image uses). */
export interface LineRow {
  address: bigint;
  file: string;
  line: number;
  isStmt: boolean;
  endSequence: boolean;
}

const DW_LNCT_path = 1;
const DW_LNCT_directory_index = 2;

/**
 * Reads every line-number program in `r` (a whole .debug_line). `compDirs` maps a program's
 * offset to its unit's DW_AT_comp_dir: before DWARF 5, directory 0 is only named there.
 */
export function readLinePrograms(r: ByteReader, strs: StringSections, compDirs: Map<number, string>): LineRow[] {
  const rows: LineRow[] = [];
  r.seek(0);
  while (r.remaining > 0) {
    const start = r.pos;
    const { offsetSize, end } = readUnitLength(r, 'line-number program');
    const unit = new ByteReader(r.bytes.subarray(0, end), r.file, r.section);
    unit.seek(r.pos);
    readProgram(unit, start, offsetSize, strs, compDirs.get(start) ?? '', rows);
    r.seek(end);
  }
  return rows;
}

/** The fields of a line-program header that the state machine reads. */
interface LineHeader {
  version: number;
  addressSize: number;
  programStart: number;
  minInst: number;
  maxOps: number;
  defaultIsStmt: boolean;
  lineBase: number;
  lineRange: number;
  opcodeBase: number;
  stdLengths: number[];
}

/** The directory and file tables, and how a (name, directory index) pair becomes a path. */
interface FileTables {
  dirs: string[];
  files: string[];
  fileName(name: string, dirIndex: number): string;
}

/** The state machine's registers (only those the rows use). */
interface LineState {
  address: bigint;
  opIndex: number;
  file: number;
  line: number;
  isStmt: boolean;
}

function readProgram(r: ByteReader, start: number, offsetSize: number, strs: StringSections, compDir: string, rows: LineRow[]): void {
  const h = readLineHeader(r, offsetSize);
  const tables = readFileTables(r, h, { version: h.version, offsetSize, addressSize: h.addressSize, unitOffset: start }, strs, compDir);
  r.seek(h.programStart);
  runLineProgram(r, h, tables, rows);
}

function readLineHeader(r: ByteReader, offsetSize: number): LineHeader {
  const version = r.u16();
  if (version < 2 || version > 5) r.fail(`unsupported line table version ${version}`, r.pos - 2);
  let addressSize = 8;
  if (version >= 5) {
    addressSize = r.u8();
    r.u8(); // segment selector size
  }
  const headerLength = Number(r.uN(offsetSize));
  const programStart = r.pos + headerLength;
  r.need(0, programStart, 'line table header');
  const minInst = r.u8();
  const maxOps = version >= 4 ? r.u8() : 1;
  if (maxOps === 0) r.fail('maximum_operations_per_instruction is 0', r.pos - 1);
  const defaultIsStmt = r.u8() !== 0;
  const lineBase = r.i8();
  const lineRange = r.u8();
  if (lineRange === 0) r.fail('line_range is 0', r.pos - 1);
  const opcodeBase = r.u8();
  const stdLengths = [0];
  for (let i = 1; i < opcodeBase; i++) stdLengths.push(r.u8());
  return { version, addressSize, programStart, minInst, maxOps, defaultIsStmt, lineBase, lineRange, opcodeBase, stdLengths };
}

function readFileTables(r: ByteReader, h: LineHeader, shape: UnitShape, strs: StringSections, compDir: string): FileTables {
  const dirs: string[] = [];
  const files: string[] = [];
  const abs = (dir: string): string => (dir.startsWith('/') || !compDir ? dir : posix.join(compDir, dir));
  const fileName = (name: string, dirIndex: number): string => {
    if (name.startsWith('/')) return posix.normalize(name);
    const d = dirs[dirIndex];
    return posix.normalize(d === undefined ? name : posix.join(d, name));
  };
  if (h.version >= 5) {
    for (const d of readEntryTable(r, 'directory', shape, strs)) dirs.push(abs(d.path ?? ''));
    for (const f of readEntryTable(r, 'file name', shape, strs)) files.push(fileName(f.path ?? '', f.dir));
  } else {
    dirs.push(compDir);
    for (;;) {
      const d = r.cstr();
      if (d === '') break;
      dirs.push(abs(d));
    }
    for (;;) {
      const name = r.cstr();
      if (name === '') break;
      const dir = r.ulebNum('directory index', 0xffffffff);
      r.uleb();
      r.uleb();
      files.push(fileName(name, dir));
    }
  }
  return { dirs, files, fileName };
}

/** A DWARF 5 directory or file-name table: its entry formats, then its entries. */
function readEntryTable(r: ByteReader, what: string, shape: UnitShape, strs: StringSections): { path?: string; dir: number }[] {
  const fmtCount = r.u8();
  const fmt: [number, number][] = [];
  for (let i = 0; i < fmtCount; i++) fmt.push([r.ulebNum('content type', 0xffff), r.ulebNum('form', 0xffff)]);
  const count = r.ulebNum(`${what} count`, r.remaining);
  const out: { path?: string; dir: number }[] = [];
  for (let i = 0; i < count; i++) {
    const e: { path?: string; dir: number } = { dir: 0 };
    for (const [ct, form] of fmt) {
      const at = r.pos;
      const v = readForm(r, form, shape, strs, 0n);
      if (ct === DW_LNCT_path) {
        if (v.k !== 'str') r.fail(`${what} path has form ${hex(form)}, not a string form`, at);
        e.path = v.v;
      } else if (ct === DW_LNCT_directory_index && v.k === 'u') e.dir = Number(v.v);
    }
    out.push(e);
  }
  return out;
}

/** The line-number state machine, from the program's first opcode to the end of its bytes. */
function runLineProgram(r: ByteReader, h: LineHeader, tables: FileTables, rows: LineRow[]): void {
  const { version, minInst, maxOps, defaultIsStmt, lineBase, lineRange, opcodeBase, stdLengths } = h;
  const { files } = tables;
  // Before DWARF 5 files count from 1.
  const fileAt = (i: number): string => files[version >= 5 ? i : i - 1] ?? `<file ${i}>`;
  const initial = (): LineState => ({ address: 0n, opIndex: 0, file: 1, line: 1, isStmt: defaultIsStmt });
  let s = initial();
  const emit = (endSequence: boolean) => rows.push({ address: s.address, file: fileAt(s.file), line: s.line, isStmt: s.isStmt, endSequence });
  const advance = (opAdvance: bigint) => {
    if (maxOps === 1) {
      s.address = BigInt.asUintN(64, s.address + BigInt(minInst) * opAdvance);
      return;
    }
    const t = BigInt(s.opIndex) + opAdvance;
    s.address = BigInt.asUintN(64, s.address + BigInt(minInst) * (t / BigInt(maxOps)));
    s.opIndex = Number(t % BigInt(maxOps));
  };
  while (r.remaining > 0) {
    const at = r.pos;
    const op = r.u8();
    if (op >= opcodeBase) {
      const adj = op - opcodeBase;
      advance(BigInt(Math.floor(adj / lineRange)));
      s.line += lineBase + (adj % lineRange);
      emit(false);
      continue;
    }
    switch (op) {
      case 0:
        if (runExtendedOpcode(r, at, version, s, tables)) {
          emit(true);
          s = initial();
        }
        break;
      case 1: emit(false); break; // copy
      case 2: advance(r.uleb()); break;
      case 3: s.line += Number(BigInt.asIntN(32, r.sleb())); break;
      case 4: s.file = r.ulebNum('file index', 0xffffffff); break;
      case 5: r.uleb(); break; // column
      case 6: s.isStmt = !s.isStmt; break;
      case 7: break; // basic_block
      case 8: advance(BigInt(Math.floor((255 - opcodeBase) / lineRange))); break; // const_add_pc
      case 9: s.address = BigInt.asUintN(64, s.address + BigInt(r.u16())); s.opIndex = 0; break;
      case 10: case 11: break; // prologue_end, epilogue_begin
      case 12: r.uleb(); break; // isa
      default:
        for (let i = 0; i < stdLengths[op]; i++) r.uleb(); // unknown standard opcode: its operands are counted in the header
    }
  }
}

/** One extended opcode (after its 0 byte); true for DW_LNE_end_sequence, which the caller emits. */
function runExtendedOpcode(r: ByteReader, at: number, version: number, s: LineState, tables: FileTables): boolean {
  const len = r.ulebNum('extended opcode length', r.remaining);
  if (len === 0) r.fail('extended opcode of length 0', at);
  const next = r.pos + len;
  const sub = r.u8();
  let endSequence = false;
  if (sub === 1) {
    endSequence = true;
  } else if (sub === 2) {
    if (len - 1 !== 4 && len - 1 !== 8) r.fail(`DW_LNE_set_address with a ${len - 1}-byte operand`, at);
    s.address = r.uN(len - 1);
    s.opIndex = 0;
  } else if (sub === 3 && version < 5) {
    const name = r.cstr();
    const dir = r.ulebNum('directory index', 0xffffffff);
    tables.files.push(tables.fileName(name, dir));
  }
  r.seek(next); // unknown extended opcodes (DW_LNE_set_discriminator, vendor ones) are skipped
  return endSequence;
}

/**
 * Rows → ranges: each row covers the bytes up to the next row of its sequence. Rows with line
 * 0 (code with no source line) and empty ranges are dropped; so are ranges that run backwards,
 * which only corrupt tables produce.
 */
export function rowsToEntries(rows: LineRow[], bias: bigint): LineEntry[] {
  const out: LineEntry[] = [];
  for (let i = 0; i + 1 < rows.length; i++) {
    const r = rows[i];
    if (r.endSequence) continue;
    const next = rows[i + 1];
    const length = next.address - r.address;
    if (length <= 0n || length > 0xffffffffn || r.line <= 0) continue;
    out.push({ address: BigInt.asUintN(64, r.address + bias), length: Number(length), file: r.file, line: r.line });
  }
  return out;
}

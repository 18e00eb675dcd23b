// Places ELF objects in memory and links them: relocatable objects are laid out one after
// another from a base address (per object: text, read-only data, data, bss, other allocated
// sections), globals resolve across objects, undefined symbols become stub addresses, and
// every relocation is applied at the load addresses — in the allocated sections and in the
// .debug_* sections the DWARF reader needs. Executables keep their own addresses.

import { ExTableEntry, ImageSection, ImageSymbol } from '../image';
import { hex } from './bytes';
import { ElfPlace, ErrorList, fail } from './errors';
import {
  ElfFile, ElfSection, ElfSymbol, ET_DYN, ET_REL, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS, SHN_COMMON, SHN_UNDEF,
  SHT_NOBITS, SHT_RELA, SHT_REL, STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FILE, STT_FUNC, STT_OBJECT, STT_SECTION,
} from './elfFile';
import { applyRelocation, relocName, SUPPORTED_RELOCATIONS } from './relocations';
import { decodeExTable } from './exTable';

/** Distance between two stubs: room for the platform to put a recognisable instruction there. */
export const STUB_SIZE = 16n;

const GOT_SYMBOL = '_GLOBAL_OFFSET_TABLE_';

/** Where one input section went (tests turn this into a linker script for `ld`). */
export interface Placement {
  file: string;
  /** Index of the section in its file. */
  index: number;
  section: string;
  address: bigint;
  size: number;
}

/** The debug sections of one object after relocation, for the DWARF reader. */
export interface DebugInput {
  file: string;
  /** By canonical name (`.debug_info`, also for `.zdebug_info`). */
  sections: Map<string, Uint8Array>;
  /** Added to every address in the DWARF (a PIE's load bias; 0 otherwise, relocation did the rest). */
  bias: bigint;
}

export interface LinkResult {
  sections: ImageSection[];
  symbols: ImageSymbol[];
  undefinedSymbols: string[];
  exTable: ExTableEntry[];
  placements: Placement[];
  /** Address of the GOT that relocations needed (absent when ld would have relaxed every GOT load away). */
  got?: { address: bigint; size: number };
  /** Address of each stub, by symbol name. */
  stubs: Map<string, bigint>;
  debug: DebugInput[];
}

export interface LinkOptions {
  /** Address of the first object's first section (relocatable objects), or a PIE's load bias. */
  base?: bigint;
}

/** Segments of different permissions start on their own page. */
const PAGE = 4096;
const alignUp = (v: bigint, a: number): bigint => (a > 1 ? ((v + BigInt(a) - 1n) / BigInt(a)) * BigInt(a) : v);

/** Order in which a relocatable object's allocated sections are laid out (ld's default script order). */
function group(s: ElfSection): number {
  if (s.flags & SHF_EXECINSTR) return 0;
  if (s.name.startsWith('.rodata')) return 1;
  if (s.type === SHT_NOBITS) return 3;
  if (s.name.startsWith('.data') || (s.flags & SHF_WRITE && !s.name.startsWith('__'))) return 2;
  return 4;
}

interface Obj {
  elf: ElfFile;
  /** Load address of each placed section, by section index. */
  addr: Map<number, bigint>;
  /** Contents being relocated, by section index (allocated and debug sections). */
  data: Map<number, Uint8Array>;
  /** Addresses of SHN_COMMON symbols, by symbol index. */
  common: Map<number, bigint>;
}

/** Links `files` (already parsed) into placed sections, symbols and relocated debug sections. */
export function linkElf(files: ElfFile[], opts: LinkOptions = {}): LinkResult {
  if (files.length === 0) throw new Error('linkElf: no files');
  const exec = files.find((f) => f.type !== ET_REL);
  if (exec && files.length > 1) fail({ file: exec.path, section: 'ELF header', offset: 16 }, 'an executable must be loaded on its own, not together with other objects');
  return exec ? placeExecutable(exec, opts) : linkRelocatable(files, opts);
}

function placeExecutable(f: ElfFile, opts: LinkOptions): LinkResult {
  const bias = f.type === ET_DYN ? opts.base ?? 0n : 0n;
  const sections: ImageSection[] = [];
  const placements: Placement[] = [];
  for (const s of f.sections) {
    if (!(s.flags & SHF_ALLOC) || s.size === 0) continue;
    const address = BigInt.asUintN(64, s.addr + bias);
    sections.push(imageSection(s, address, s.type === SHT_NOBITS ? new Uint8Array(s.size) : f.data(s)));
    placements.push({ file: f.path, index: s.index, section: s.name, address, size: s.size });
  }
  const symbols: ImageSymbol[] = [];
  for (const y of f.symbols) {
    if (!wanted(y) || y.shndx === SHN_UNDEF) continue;
    const sec = y.shndx === SHN_ABS || y.shndx === SHN_COMMON ? undefined : f.sections[y.shndx];
    if (sec && !(sec.flags & SHF_ALLOC)) continue;
    symbols.push(imageSymbol(y, sec ? BigInt.asUintN(64, y.value + bias) : y.value, sec?.name));
  }
  const exTable = sections.filter((s) => s.name === '__ex_table').flatMap((s) => decodeExTable(s.bytes, s.address, f.path));
  return { sections, symbols: sortSymbols(symbols), undefinedSymbols: [], exTable, placements, stubs: new Map(), debug: [debugInput(f, bias)] };
}

function debugInput(f: ElfFile, bias: bigint, data?: Map<number, Uint8Array>): DebugInput {
  const sections = new Map<string, Uint8Array>();
  for (const s of f.sections) {
    const name = f.canonicalName(s);
    if (name.startsWith('.debug_') && s.type !== SHT_NOBITS) sections.set(name, data?.get(s.index) ?? f.data(s));
  }
  return { file: f.path, sections, bias };
}

function linkRelocatable(files: ElfFile[], opts: LinkOptions): LinkResult {
  const objs: Obj[] = files.map((elf) => ({ elf, addr: new Map(), data: new Map(), common: new Map() }));
  const placements: Placement[] = [];
  const sections: ImageSection[] = [];
  let next = opts.base ?? 0n;

  // 1. Layout, as a linker lays out segments: the code of every object first, then read-only
  // data, data and .bss on pages of their own, so a write to data never lands on a code page.
  const bssOf = new Map<Obj, number>(); // memory-only bytes of each object, capped as a whole
  const claim = (o: Obj, n: number, place: ElfPlace, what: string) => {
    const bss = (bssOf.get(o) ?? 0) + n;
    bssOf.set(o, bss);
    if (bss > o.elf.maxBssSize) fail(place, `${what} brings the object's zero-initialised memory to ${bss} bytes, more than its size can justify`);
  };
  for (const g of [0, 1, 2, 3, 4]) {
    if (g === 1) next = alignUp(next, PAGE);
    for (const o of objs) {
      const f = o.elf;
      const alloc = f.sections.filter((s) => s.flags & SHF_ALLOC && s.type !== SHT_RELA && s.type !== SHT_REL && group(s) === g);
      for (const s of alloc) {
        const size = f.memSize(s);
        if (s.type === SHT_NOBITS) claim(o, size, { file: f.path, section: 'section headers', offset: f.shoff + s.index * 64 }, s.name);
        next = alignUp(next, s.addralign);
        o.addr.set(s.index, next);
        const bytes = s.type === SHT_NOBITS ? new Uint8Array(size) : f.data(s);
        o.data.set(s.index, bytes);
        placements.push({ file: f.path, index: s.index, section: s.name, address: next, size });
        if (size > 0) sections.push(imageSection(s, next, bytes));
        next += BigInt(size);
      }
    }
  }
  for (const o of objs) {
    const f = o.elf;
    // Tentative definitions (-fcommon) get storage after the sections.
    const commons = f.symbols.filter((y) => y.shndx === SHN_COMMON);
    if (commons.length) {
      const start = next;
      for (const y of commons) {
        const place = { file: f.path, section: symtabName(f), offset: y.index * 24 };
        if (y.size > BigInt(f.maxBssSize)) fail(place, `common symbol '${y.name}' claims ${y.size} bytes`);
        claim(o, Number(y.size), place, `common symbol '${y.name}'`);
        next = alignUp(next, Math.max(1, Math.min(Number(y.value), 4096)));
        o.common.set(y.index, next);
        next += y.size;
      }
      const size = Number(next - start);
      sections.push({ name: 'COMMON', address: start, bytes: new Uint8Array(size), alloc: true, write: true, exec: false });
    }
    for (const s of f.sections) if (!o.data.has(s.index) && f.canonicalName(s).startsWith('.debug_') && s.type !== SHT_NOBITS) o.data.set(s.index, f.data(s));
  }

  // 2. Global symbols: one strong definition wins over weak ones; two strong ones are an error.
  const errors = new ErrorList();
  const globals = new Map<string, { value: bigint; size: bigint; weak: boolean; file: string }>();
  const symValue = (o: Obj, y: ElfSymbol): bigint | undefined => {
    if (y.shndx === SHN_UNDEF) return undefined;
    if (y.shndx === SHN_ABS) return y.value;
    if (y.shndx === SHN_COMMON) return o.common.get(y.index);
    return (o.addr.get(y.shndx) ?? 0n) + y.value; // non-allocated sections (debug) sit at 0
  };
  for (const o of objs) {
    for (const y of o.elf.symbols) {
      if (y.bind === STB_LOCAL || y.shndx === SHN_UNDEF || y.name === '') continue;
      const value = symValue(o, y)!;
      const had = globals.get(y.name);
      const weak = y.bind === STB_WEAK;
      if (had && !had.weak && !weak) {
        errors.add({ file: o.elf.path, section: symtabName(o.elf), offset: y.index * 24 }, `multiple definition of '${y.name}' (first defined in ${had.file})`);
      } else if (!had || (had.weak && !weak)) {
        globals.set(y.name, { value, size: y.size, weak, file: o.elf.path });
      }
    }
  }
  errors.check();

  // 3. Stubs for what no object defines, after all sections, in order of first mention.
  const stubs = new Map<string, bigint>();
  // Stubs are code: on a page of their own after the data, and the GOT (data) on the next.
  next = alignUp(next, PAGE);
  for (const o of objs) {
    for (const y of o.elf.symbols) {
      if (y.index === 0 || y.shndx !== SHN_UNDEF || y.name === '' || globals.has(y.name) || stubs.has(y.name) || y.name === GOT_SYMBOL) continue;
      stubs.set(y.name, next);
      next += STUB_SIZE;
    }
  }
  const gotBase = alignUp(next, stubs.size ? PAGE : 8);
  // The linker defines the GOT's own symbol (gas references it for any @GOTPCREL use).
  if (!globals.has(GOT_SYMBOL)) globals.set(GOT_SYMBOL, { value: gotBase, size: 0n, weak: false, file: '' });
  const gotSlots = new Map<string, { index: number; value: bigint }>();

  // 4. Relocations, in allocated and debug sections.
  for (const [oi, o] of objs.entries()) {
    const f = o.elf;
    for (const rs of f.sections) {
      if (rs.type !== SHT_RELA && rs.type !== SHT_REL) continue;
      const target = f.sections[rs.info];
      const bytes = o.data.get(rs.info);
      if (!target || !bytes) continue; // relocations of sections we do not load (.comment, notes)
      if (target.type === SHT_NOBITS) {
        errors.add({ file: f.path, section: rs.name, offset: 0 }, `relocations for ${target.name}, which has no contents (SHT_NOBITS)`);
        continue;
      }
      const base = o.addr.get(rs.info) ?? 0n;
      for (const r of f.relocations(rs)) {
        const place = { file: f.path, section: rs.name, offset: r.offset > 0xffffffffffffn ? Number.MAX_SAFE_INTEGER : Number(r.offset) };
        if (!SUPPORTED_RELOCATIONS.has(r.type)) {
          errors.add(place, `unsupported relocation ${relocName(r.type)}`);
          continue;
        }
        if (r.offset >= BigInt(bytes.length)) {
          errors.add(place, `${relocName(r.type)} offset is beyond the end of ${target.name} (${hex(bytes.length)} bytes)`);
          continue;
        }
        const y = f.symbols[r.sym];
        let S: bigint;
        let Z = y.size;
        let key: string;
        if (r.sym === 0) {
          S = 0n;
          key = '';
        } else if (y.bind === STB_LOCAL || y.type === STT_SECTION) {
          S = symValue(o, y) ?? 0n;
          key = `${oi}:${y.index}`;
        } else {
          const g = globals.get(y.name);
          S = g ? g.value : stubs.get(y.name) ?? 0n;
          if (g) Z = g.size;
          key = y.name;
        }
        const msg = applyRelocation({
          type: r.type, bytes, offset: Number(r.offset), place: base + r.offset, symbol: S, symbolSize: Z, addend: r.addend,
          gotSlot: () => {
            let slot = gotSlots.get(key);
            if (!slot) gotSlots.set(key, (slot = { index: gotSlots.size, value: S }));
            return gotBase + BigInt(slot.index * 8);
          },
        });
        if (msg) errors.add(place, `${msg}${r.sym ? ` (symbol '${y.name || f.sections[y.shndx]?.name || r.sym}')` : ''}`);
      }
    }
  }
  errors.check();

  let got: LinkResult['got'];
  if (gotSlots.size) {
    const bytes = new Uint8Array(gotSlots.size * 8);
    const dv = new DataView(bytes.buffer);
    for (const s of gotSlots.values()) dv.setBigUint64(s.index * 8, BigInt.asUintN(64, s.value), true);
    sections.push({ name: '.got', address: gotBase, bytes, alloc: true, write: true, exec: false });
    got = { address: gotBase, size: bytes.length };
  }

  // 5. Symbols, exception tables, debug sections.
  const symbols: ImageSymbol[] = [];
  for (const o of objs) {
    for (const y of o.elf.symbols) {
      if (!wanted(y) || y.shndx === SHN_UNDEF) continue;
      const sec = y.shndx === SHN_ABS || y.shndx === SHN_COMMON ? undefined : o.elf.sections[y.shndx];
      if (sec && !o.addr.has(sec.index)) continue; // symbols in debug sections
      if (y.bind !== STB_LOCAL && globals.get(y.name)?.file !== o.elf.path) continue; // overridden weak definition
      symbols.push(imageSymbol(y, BigInt.asUintN(64, symValue(o, y)!), y.shndx === SHN_COMMON ? 'COMMON' : sec?.name));
    }
  }
  for (const [name, address] of stubs) symbols.push({ name, address, type: 'func', binding: 'global' });
  const exTable: ExTableEntry[] = [];
  for (const o of objs) {
    for (const s of o.elf.sections) {
      if (s.name !== '__ex_table' || !o.addr.has(s.index)) continue;
      exTable.push(...decodeExTable(o.data.get(s.index)!, o.addr.get(s.index)!, o.elf.path));
    }
  }
  return {
    sections, symbols: sortSymbols(symbols), undefinedSymbols: [...stubs.keys()], exTable, placements, got, stubs,
    debug: objs.map((o) => debugInput(o.elf, 0n, o.data)),
  };
}

function symtabName(f: ElfFile): string {
  return f.sections.find((s) => s.type === 2)?.name ?? '.symtab';
}

/** Section and file symbols describe the object, not the program, and `.L` names are the
 * assembler's own (ld drops them too): they are left out. */
function wanted(y: ElfSymbol): boolean {
  return y.index !== 0 && y.name !== '' && y.type !== STT_SECTION && y.type !== STT_FILE && !y.name.startsWith('.L');
}

function imageSection(s: ElfSection, address: bigint, bytes: Uint8Array): ImageSection {
  return { name: s.name, address, bytes, alloc: true, write: (s.flags & SHF_WRITE) !== 0n, exec: (s.flags & SHF_EXECINSTR) !== 0n };
}

function imageSymbol(y: ElfSymbol, address: bigint, section: string | undefined): ImageSymbol {
  return {
    name: y.name,
    address,
    section,
    size: y.size <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(y.size) : undefined,
    type: y.type === STT_FUNC ? 'func' : y.type === STT_OBJECT ? 'object' : 'notype',
    binding: y.bind === STB_GLOBAL ? 'global' : y.bind === STB_WEAK ? 'weak' : 'local',
  };
}

function sortSymbols(s: ImageSymbol[]): ImageSymbol[] {
  return s.sort((x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : x.name.localeCompare(y.name)));
}


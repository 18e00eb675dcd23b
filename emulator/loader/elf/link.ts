// Places ELF objects in memory and links them: relocatable objects are laid out one after
// another from a base address (per object: text, read-only data, data, bss, other allocated
// sections), globals resolve across objects, undefined symbols become stub addresses, and
// every relocation is applied at the load addresses — in the allocated sections and in the
// .debug_* sections the DWARF reader needs. Executables keep their own addresses.

import { ExTableEntry, ImageSection, ImageSymbol, type UndefinedDataSymbol } from '../image';
import { ElfPlace, ErrorList, fail } from './errors';
import {
  ElfFile, ElfSection, ElfSymbol, ET_DYN, ET_REL, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS, SHN_COMMON, SHN_UNDEF,
  SHT_NOBITS, SHT_RELA, SHT_REL, STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FILE, STT_FUNC, STT_OBJECT, STT_SECTION,
} from './elfFile';
import { relocateObject, undefinedUses, type Globals, type Obj } from './linkRelocations';
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
  /** Storage given to each undefined data symbol (never a stub: data is never read from code bytes). */
  undefinedData: UndefinedDataSymbol[];
  debug: DebugInput[];
}

/** What the object's DWARF declares about an undefined symbol (`extern` variable or function). */
export interface UndefinedDecl {
  kind: 'variable' | 'function';
  /** Size of the variable's type (0 or absent: unknown, e.g. `extern T x[]`). */
  size?: number;
  align?: number;
  /** The C type as spelled (`struct cpuinfo_x86`, `unsigned long`, `u64[64]`). */
  type?: string;
}


/** Per-CPU section names: linked zero-based into the per-CPU template, copied to each CPU's GS base. */
export const isPerCpuSection = (name: string): boolean => name === '.data..percpu' || name.startsWith('.data..percpu.');
/** Bytes at the start of the per-CPU area before the objects' per-CPU data (the kernel's fixed_percpu_data: the stack canary is at %gs:40). */
export const PERCPU_HEAD = 64;
/** Storage of an undefined data symbol whose size nothing tells. */
export const DEFAULT_UNDEFINED_DATA_SIZE = 64;
/**
 * The kernel's per-CPU variables that TDX code reaches through `per_cpu()` (no %gs prefix at
 * the access): undefined, they get per-CPU storage like those read through %gs.
 */
const KNOWN_PERCPU = new Set(['cpu_info', 'this_cpu_off', 'pcpu_hot', 'cpu_number', 'current_task', 'fixed_percpu_data',
  'cpu_tlbstate', 'irq_stat', 'cpu_sibling_map', 'cpu_core_map', 'cpu_die_map', 'cpu_llc_shared_map', 'x86_cpu_to_apicid',
  'cpu_hw_events', 'kernel_stack', 'hardirq_stack_ptr', 'cpu_tss_rw', 'gdt_page', '__preempt_count', 'const_pcpu_hot']);
/** Names the kernel's linker script makes aliases of another symbol (arch/x86/kernel/vmlinux.lds.S: const_pcpu_hot = pcpu_hot). */
const KERNEL_ALIASES: Record<string, string> = { const_pcpu_hot: 'pcpu_hot' };

export interface LinkOptions {
  /** Address of the first object's first section (relocatable objects), or a PIE's load bias. */
  base?: bigint;
  /** Reads the undefined symbols' declarations from an object's relocated debug sections (the DWARF reader). */
  declarations?: (d: DebugInput) => Map<string, UndefinedDecl>;
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
  return { sections, symbols: sortSymbols(symbols), undefinedSymbols: [], exTable, placements, stubs: new Map(), undefinedData: [], debug: [debugInput(f, bias)] };
}

function debugInput(f: ElfFile, bias: bigint, data?: Map<number, Uint8Array>): DebugInput {
  const sections = new Map<string, Uint8Array>();
  for (const s of f.sections) {
    const name = f.canonicalName(s);
    if (name.startsWith('.debug_') && s.type !== SHT_NOBITS) sections.set(name, data?.get(s.index) ?? f.data(s));
  }
  return { file: f.path, sections, bias };
}

/** A relocatable link in progress: the objects, what has been placed, and the two cursors. */
interface LinkState {
  objs: Obj[];
  placements: Placement[];
  sections: ImageSection[];
  /** Next free address of the image. */
  next: bigint;
  /** The per-CPU template's cursor (zero-based, as the kernel links .data..percpu). */
  pcpu: bigint;
}


/** What no object defines, placed: stubs for code, storage for data. */
interface Undefined {
  stubs: Map<string, bigint>;
  undefinedData: UndefinedDataSymbol[];
}

function linkRelocatable(files: ElfFile[], opts: LinkOptions): LinkResult {
  const st: LinkState = {
    objs: files.map((elf) => ({ elf, addr: new Map(), data: new Map(), common: new Map() })),
    placements: [], sections: [], next: opts.base ?? 0n, pcpu: BigInt(PERCPU_HEAD),
  };
  layoutSections(st);
  const errors = new ErrorList();
  const globals = resolveGlobals(st.objs, errors);
  const undef = placeUndefined(st, globals, opts, errors);
  const got = relocateAll(st, globals, undef.stubs, errors);
  return {
    sections: st.sections, symbols: collectSymbols(st.objs, globals, undef), undefinedSymbols: [...undef.stubs.keys()],
    exTable: collectExTable(st.objs), placements: st.placements, got, stubs: undef.stubs, undefinedData: undef.undefinedData,
    debug: st.objs.map((o) => debugInput(o.elf, 0n, o.data)),
  };
}

/**
 * 1. Layout, as a linker lays out segments: the code of every object first, then read-only
 * data, data and .bss on pages of their own, so a write to data never lands on a code page;
 * then common symbols, and the debug sections' contents kept for relocation.
 */
function layoutSections(st: LinkState): void {
  const { objs, placements, sections } = st;
  const bssOf = new Map<Obj, number>(); // memory-only bytes of each object, capped as a whole
  const claim = (o: Obj, n: number, place: ElfPlace, what: string) => {
    const bss = (bssOf.get(o) ?? 0) + n;
    bssOf.set(o, bss);
    if (bss > o.elf.maxBssSize) fail(place, `${what} brings the object's zero-initialised memory to ${bss} bytes, more than its size can justify`);
  };
  for (const g of [0, 1, 2, 3, 4]) {
    if (g === 1) st.next = alignUp(st.next, PAGE);
    for (const o of objs) {
      const f = o.elf;
      const alloc = f.sections.filter((s) => s.flags & SHF_ALLOC && s.type !== SHT_RELA && s.type !== SHT_REL && group(s) === g);
      for (const s of alloc) {
        const size = f.memSize(s);
        if (s.type === SHT_NOBITS) claim(o, size, { file: f.path, section: 'section headers', offset: f.shoff + s.index * 64 }, s.name);
        if (isPerCpuSection(s.name)) {
          // Zero-based, as the kernel links .data..percpu: the session copies it to each CPU's GS base.
          st.pcpu = alignUp(st.pcpu, s.addralign);
          o.addr.set(s.index, st.pcpu);
          const bytes = s.type === SHT_NOBITS ? new Uint8Array(size) : f.data(s);
          o.data.set(s.index, bytes);
          placements.push({ file: f.path, index: s.index, section: s.name, address: st.pcpu, size });
          if (size > 0) sections.push({ ...imageSection(s, st.pcpu, bytes), perCpu: true });
          st.pcpu += BigInt(size);
          continue;
        }
        st.next = alignUp(st.next, s.addralign);
        o.addr.set(s.index, st.next);
        const bytes = s.type === SHT_NOBITS ? new Uint8Array(size) : f.data(s);
        o.data.set(s.index, bytes);
        placements.push({ file: f.path, index: s.index, section: s.name, address: st.next, size });
        if (size > 0) sections.push(imageSection(s, st.next, bytes));
        st.next += BigInt(size);
      }
    }
  }
  for (const o of objs) {
    const f = o.elf;
    // Tentative definitions (-fcommon) get storage after the sections.
    const commons = f.symbols.filter((y) => y.shndx === SHN_COMMON);
    if (commons.length) {
      const start = st.next;
      for (const y of commons) {
        const place = { file: f.path, section: symtabName(f), offset: y.index * 24 };
        if (y.size > BigInt(f.maxBssSize)) fail(place, `common symbol '${y.name}' claims ${y.size} bytes`);
        claim(o, Number(y.size), place, `common symbol '${y.name}'`);
        st.next = alignUp(st.next, Math.max(1, Math.min(Number(y.value), 4096)));
        o.common.set(y.index, st.next);
        st.next += y.size;
      }
      const size = Number(st.next - start);
      sections.push({ name: 'COMMON', address: start, bytes: new Uint8Array(size), alloc: true, write: true, exec: false });
    }
    for (const s of f.sections) if (!o.data.has(s.index) && f.canonicalName(s).startsWith('.debug_') && s.type !== SHT_NOBITS) o.data.set(s.index, f.data(s));
  }
}

/** The value of a defined symbol at its placed address (undefined for an undefined one). */
function symValue(o: Obj, y: ElfSymbol): bigint | undefined {
  if (y.shndx === SHN_UNDEF) return undefined;
  if (y.shndx === SHN_ABS) return y.value;
  if (y.shndx === SHN_COMMON) return o.common.get(y.index);
  return (o.addr.get(y.shndx) ?? 0n) + y.value; // non-allocated sections (debug) sit at 0
}

/** 2. Global symbols: one strong definition wins over weak ones; two strong ones are an error. */
function resolveGlobals(objs: Obj[], errors: ErrorList): Globals {
  const globals: Globals = new Map();
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
  return globals;
}

/**
 * 3. What no object defines: code gets a stub, data its own zero-filled storage. The
 * object's DWARF declaration decides which (and the size); without one, a branch
 * relocation (call/jmp) means code and anything else data.
 */
function placeUndefined(st: LinkState, globals: Globals, opts: LinkOptions, errors: ErrorList): Undefined {
  const { objs, sections } = st;
  const { stubs, dataNames, decls, uses } = classifyUndefined(objs, globals, opts, errors);
  // Stubs are code: on a page of their own after the data.
  st.next = alignUp(st.next, PAGE);
  for (const name of stubs.keys()) {
    stubs.set(name, st.next);
    st.next += STUB_SIZE;
  }
  // Data storage on pages of its own (never executable), after the stubs; per-CPU data in the per-CPU template.
  const undefinedData: UndefinedDataSymbol[] = [];
  if (dataNames.length) st.next = alignUp(st.next, PAGE);
  const dataStart = st.next;
  const aliases: string[] = [];
  for (const name of dataNames) {
    if (KERNEL_ALIASES[name] && (dataNames.includes(KERNEL_ALIASES[name]) || globals.has(KERNEL_ALIASES[name]))) { aliases.push(name); continue; }
    const d = decls.get(name);
    const perCpu = uses.get(name)?.firstGs !== undefined || KNOWN_PERCPU.has(name);
    const sized = d?.size !== undefined && d.size > 0;
    const size = sized ? d!.size! : DEFAULT_UNDEFINED_DATA_SIZE;
    const align = Math.max(8, Math.min(4096, d?.align ?? 8));
    let address: bigint;
    if (perCpu) { st.pcpu = alignUp(st.pcpu, align); address = st.pcpu; st.pcpu += BigInt(size); } else { st.next = alignUp(st.next, align); address = st.next; st.next += BigInt(size); }
    undefinedData.push({ name, address, size, sizedBy: sized ? 'dwarf' : 'default', type: d?.type, perCpu });
    globals.set(name, { value: address, size: BigInt(size), weak: false, file: '' });
  }
  for (const name of aliases) {
    // The same storage as the symbol it aliases (one per-CPU variable read through two names).
    const target = KERNEL_ALIASES[name], t = undefinedData.find((u) => u.name === target), g = globals.get(target)!;
    const d = decls.get(name);
    if (t) undefinedData.push({ ...t, name, type: d?.type ?? t.type });
    globals.set(name, { value: t ? t.address : g.value, size: t ? BigInt(t.size) : g.size, weak: false, file: '' });
  }
  if (st.next > dataStart) {
    st.next = alignUp(st.next, PAGE);
    sections.push({ name: 'undefined data', address: dataStart, bytes: new Uint8Array(Number(st.next - dataStart)), alloc: true, write: true, exec: false });
  }
  const pcpuData = undefinedData.filter((u) => u.perCpu);
  if (pcpuData.length) {
    const start = pcpuData.reduce((a, u) => (u.address < a ? u.address : a), pcpuData[0].address);
    const end = pcpuData.reduce((a, u) => (u.address + BigInt(u.size) > a ? u.address + BigInt(u.size) : a), 0n);
    sections.push({ name: 'undefined per-CPU data', address: start, bytes: new Uint8Array(Number(end - start)), alloc: true, write: true, exec: false, perCpu: true });
  }
  return { stubs, undefinedData };
}

/** Which undefined symbols are code (a stub each) and which are data, from their DWARF declarations and their uses. */
function classifyUndefined(objs: Obj[], globals: Globals, opts: LinkOptions, errors: ErrorList) {
  const undefinedNames: string[] = [];
  const undefinedSeen = new Set<string>();
  for (const o of objs) {
    for (const y of o.elf.symbols) {
      if (y.index === 0 || y.shndx !== SHN_UNDEF || y.name === '' || globals.has(y.name) || undefinedSeen.has(y.name) || y.name === GOT_SYMBOL) continue;
      undefinedSeen.add(y.name);
      undefinedNames.push(y.name);
    }
  }
  const decls = new Map<string, UndefinedDecl>();
  if (undefinedNames.length && opts.declarations) {
    for (const [oi, o] of objs.entries()) {
      // The debug sections are relocated now (undefined symbols at 0: declarations carry no addresses) and again below.
      relocateObject(o, oi, (t) => !(t.flags & SHF_ALLOC), () => 0n, errors);
      for (const [k, v] of opts.declarations(debugInput(o.elf, 0n, o.data))) if (undefinedSeen.has(k) && !decls.has(k)) decls.set(k, v);
    }
    errors.check();
  }
  const uses = undefinedUses(objs, undefinedSeen);
  const stubs = new Map<string, bigint>();
  const dataNames: string[] = [];
  for (const name of undefinedNames) {
    const d = decls.get(name), u = uses.get(name);
    if (d?.kind === 'variable' && u?.firstBranch) {
      fail(u.firstBranch, `undefined symbol '${name}' is declared as a variable (${d.type ?? 'data'}) but called or jumped to here: it cannot be both code and data`);
    }
    const access = u?.firstGs ?? u?.firstData;
    if (!d && u?.firstBranch && access) {
      fail(access, `undefined symbol '${name}' is called or jumped to (${u.firstBranch.file} ${u.firstBranch.section}+0x${u.firstBranch.offset.toString(16)}) and accessed as ${u.firstGs ? 'per-CPU ' : ''}data here: it cannot be both code and data (define it, or declare it in C so the DWARF says which)`);
    }
    const isData = d ? d.kind === 'variable' : !u?.firstBranch && (u?.firstData !== undefined);
    if (isData) dataNames.push(name); else stubs.set(name, 0n);
  }
  return { stubs, dataNames, decls, uses };
}

/** 4. Relocations, in allocated and debug sections, with the GOT they need; returns where the GOT went. */
function relocateAll(st: LinkState, globals: Globals, stubs: Map<string, bigint>, errors: ErrorList): LinkResult['got'] {
  const { objs, sections } = st;
  // The GOT (data) on a page of its own after the stubs.
  const gotBase = alignUp(st.next, stubs.size ? PAGE : 8);
  // The linker defines the GOT's own symbol (gas references it for any @GOTPCREL use).
  if (!globals.has(GOT_SYMBOL)) globals.set(GOT_SYMBOL, { value: gotBase, size: 0n, weak: false, file: '' });
  const gotSlots = new Map<string, { index: number; value: bigint }>();
  for (const [oi, o] of objs.entries()) {
    relocateObject(o, oi, () => true, (y) => {
      const g = globals.get(y.name);
      return g ? g.value : stubs.get(y.name) ?? 0n;
    }, errors, (key, S) => {
      let slot = gotSlots.get(key);
      if (!slot) gotSlots.set(key, (slot = { index: gotSlots.size, value: S }));
      return gotBase + BigInt(slot.index * 8);
    }, globals);
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
  return got;
}

/** 5. The image's symbols: the objects' own (overridden weak ones left out), stubs and undefined data. */
function collectSymbols(objs: Obj[], globals: Globals, undef: Undefined): ImageSymbol[] {
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
  for (const [name, address] of undef.stubs) symbols.push({ name, address, type: 'func', binding: 'global' });
  for (const u of undef.undefinedData) symbols.push({ name: u.name, address: u.address, size: u.size, type: 'object', binding: 'global', section: u.perCpu ? '.data..percpu' : 'undefined data' });
  return sortSymbols(symbols);
}

/** The exception tables of every object at their placed addresses. */
function collectExTable(objs: Obj[]): ExTableEntry[] {
  const exTable: ExTableEntry[] = [];
  for (const o of objs) {
    for (const s of o.elf.sections) {
      if (s.name !== '__ex_table' || !o.addr.has(s.index)) continue;
      exTable.push(...decodeExTable(o.data.get(s.index)!, o.addr.get(s.index)!, o.elf.path));
    }
  }
  return exTable;
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

// Places ELF objects in memory and links them: relocatable objects are laid out one after
// another from a base address (per object: text, read-only data, data, bss, other allocated
// sections), globals resolve across objects, undefined symbols become stub addresses, and
// every relocation is applied at the load addresses — in the allocated sections and in the
// .debug_* sections the DWARF reader needs. Executables keep their own addresses.

import { ExTableEntry, ImageSection, ImageSymbol, type UndefinedDataSymbol } from '../image';
import { hex } from './bytes';
import { ElfPlace, ErrorList, fail } from './errors';
import {
  ElfFile, ElfSection, ElfSymbol, ET_DYN, ET_REL, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS, SHN_COMMON, SHN_UNDEF,
  SHT_NOBITS, SHT_RELA, SHT_REL, STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FILE, STT_FUNC, STT_OBJECT, STT_SECTION,
} from './elfFile';
import { applyRelocation, relocName, SUPPORTED_RELOCATIONS } from './relocations';
import { decodeExTable } from './exTable';
import { decodeOne } from '../../decode/decoder';

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

function linkRelocatable(files: ElfFile[], opts: LinkOptions): LinkResult {
  const objs: Obj[] = files.map((elf) => ({ elf, addr: new Map(), data: new Map(), common: new Map() }));
  const placements: Placement[] = [];
  const sections: ImageSection[] = [];
  let next = opts.base ?? 0n;
  let pcpu = BigInt(PERCPU_HEAD); // the per-CPU template's cursor (zero-based, as the kernel links .data..percpu)

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
        if (isPerCpuSection(s.name)) {
          // Zero-based, as the kernel links .data..percpu: the session copies it to each CPU's GS base.
          pcpu = alignUp(pcpu, s.addralign);
          o.addr.set(s.index, pcpu);
          const bytes = s.type === SHT_NOBITS ? new Uint8Array(size) : f.data(s);
          o.data.set(s.index, bytes);
          placements.push({ file: f.path, index: s.index, section: s.name, address: pcpu, size });
          if (size > 0) sections.push({ ...imageSection(s, pcpu, bytes), perCpu: true });
          pcpu += BigInt(size);
          continue;
        }
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

  // 3. What no object defines: code gets a stub, data its own zero-filled storage. The
  //    object's DWARF declaration decides which (and the size); without one, a branch
  //    relocation (call/jmp) means code and anything else data.
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
  // Stubs are code: on a page of their own after the data.
  next = alignUp(next, PAGE);
  for (const name of stubs.keys()) {
    stubs.set(name, next);
    next += STUB_SIZE;
  }
  // Data storage on pages of its own (never executable), after the stubs; per-CPU data in the per-CPU template.
  const undefinedData: UndefinedDataSymbol[] = [];
  if (dataNames.length) next = alignUp(next, PAGE);
  const dataStart = next;
  const aliases: string[] = [];
  for (const name of dataNames) {
    if (KERNEL_ALIASES[name] && (dataNames.includes(KERNEL_ALIASES[name]) || globals.has(KERNEL_ALIASES[name]))) { aliases.push(name); continue; }
    const d = decls.get(name);
    const perCpu = uses.get(name)?.firstGs !== undefined || KNOWN_PERCPU.has(name);
    const sized = d?.size !== undefined && d.size > 0;
    const size = sized ? d!.size! : DEFAULT_UNDEFINED_DATA_SIZE;
    const align = Math.max(8, Math.min(4096, d?.align ?? 8));
    let address: bigint;
    if (perCpu) { pcpu = alignUp(pcpu, align); address = pcpu; pcpu += BigInt(size); } else { next = alignUp(next, align); address = next; next += BigInt(size); }
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
  if (next > dataStart) {
    next = alignUp(next, PAGE);
    sections.push({ name: 'undefined data', address: dataStart, bytes: new Uint8Array(Number(next - dataStart)), alloc: true, write: true, exec: false });
  }
  const pcpuData = undefinedData.filter((u) => u.perCpu);
  if (pcpuData.length) {
    const start = pcpuData.reduce((a, u) => (u.address < a ? u.address : a), pcpuData[0].address);
    const end = pcpuData.reduce((a, u) => (u.address + BigInt(u.size) > a ? u.address + BigInt(u.size) : a), 0n);
    sections.push({ name: 'undefined per-CPU data', address: start, bytes: new Uint8Array(Number(end - start)), alloc: true, write: true, exec: false, perCpu: true });
  }
  // The GOT (data) on a page of its own after the stubs.
  const gotBase = alignUp(next, stubs.size ? PAGE : 8);
  // The linker defines the GOT's own symbol (gas references it for any @GOTPCREL use).
  if (!globals.has(GOT_SYMBOL)) globals.set(GOT_SYMBOL, { value: gotBase, size: 0n, weak: false, file: '' });
  const gotSlots = new Map<string, { index: number; value: bigint }>();

  // 4. Relocations, in allocated and debug sections.
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
  for (const u of undefinedData) symbols.push({ name: u.name, address: u.address, size: u.size, type: 'object', binding: 'global', section: u.perCpu ? '.data..percpu' : 'undefined data' });
  const exTable: ExTableEntry[] = [];
  for (const o of objs) {
    for (const s of o.elf.sections) {
      if (s.name !== '__ex_table' || !o.addr.has(s.index)) continue;
      exTable.push(...decodeExTable(o.data.get(s.index)!, o.addr.get(s.index)!, o.elf.path));
    }
  }
  return {
    sections, symbols: sortSymbols(symbols), undefinedSymbols: [...stubs.keys()], exTable, placements, got, stubs, undefinedData,
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


type Globals = Map<string, { value: bigint; size: bigint; weak: boolean; file: string }>;

/** Applies the relocations of `o`'s sections that `which` selects (into `o.data`). */
function relocateObject(
  o: Obj, oi: number, which: (target: ElfSection) => boolean, undefinedValue: (y: ElfSymbol) => bigint, errors: ErrorList,
  gotSlot: (key: string, S: bigint) => bigint = () => 0n, globals?: Globals,
): void {
  const f = o.elf;
  for (const rs of f.sections) {
    if (rs.type !== SHT_RELA && rs.type !== SHT_REL) continue;
    const target = f.sections[rs.info];
    const bytes = o.data.get(rs.info);
    if (!target || !bytes || !which(target)) continue; // relocations of sections we do not load (.comment, notes)
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
        const v = y.shndx === SHN_UNDEF ? undefined : y.shndx === SHN_ABS ? y.value : y.shndx === SHN_COMMON ? o.common.get(y.index) : (o.addr.get(y.shndx) ?? 0n) + y.value;
        S = v ?? 0n;
        key = `${oi}:${y.index}`;
      } else {
        const g = globals?.get(y.name);
        S = g ? g.value : undefinedValue(y);
        if (g) Z = g.size;
        key = y.name;
      }
      const msg = applyRelocation({
        type: r.type, bytes, offset: Number(r.offset), place: base + r.offset, symbol: S, symbolSize: Z, addend: r.addend,
        gotSlot: () => gotSlot(key, S),
      });
      if (msg) errors.add(place, `${msg}${r.sym ? ` (symbol '${y.name || f.sections[y.shndx]?.name || r.sym}')` : ''}`);
    }
  }
}

interface Uses { firstBranch?: ElfPlace; firstData?: ElfPlace; firstGs?: ElfPlace }

const R_PC32 = 2, R_PLT32 = 4, R_32 = 10, R_32S = 11;

/**
 * How each undefined symbol is referenced from the allocated sections: as a branch target
 * (PLT32, or PC32 after a call/jmp/jcc opcode), through a %gs segment override (per-CPU data),
 * or otherwise (an address or a data access).
 */
function undefinedUses(objs: Obj[], names: Set<string>): Map<string, Uses> {
  const out = new Map<string, Uses>();
  for (const o of objs) {
    const f = o.elf;
    for (const rs of f.sections) {
      if (rs.type !== SHT_RELA && rs.type !== SHT_REL) continue;
      const target = f.sections[rs.info];
      const bytes = o.data.get(rs.info);
      if (!target || !bytes || !(target.flags & SHF_ALLOC)) continue;
      const exec = (target.flags & SHF_EXECINSTR) !== 0n;
      for (const r of f.relocations(rs)) {
        const y = f.symbols[r.sym];
        if (!y || y.shndx !== SHN_UNDEF || !names.has(y.name) || y.bind === STB_LOCAL) continue;
        const at = Number(r.offset);
        const place: ElfPlace = { file: f.path, section: target.name, offset: at };
        const u = out.get(y.name) ?? {};
        out.set(y.name, u);
        const branch = exec && (r.type === R_PLT32 || (r.type === R_PC32 && at >= 1 && (bytes[at - 1] === 0xe8 || bytes[at - 1] === 0xe9 || (at >= 2 && bytes[at - 2] === 0x0f && (bytes[at - 1] & 0xf0) === 0x80))));
        if (branch) { u.firstBranch ??= place; continue; }
        if (!exec) continue; // an address in data (a pointer table): says nothing of what it is
        const gs = gsAccessAt(bytes, at);
        if (gs) u.firstGs ??= place;
        // A memory operand's displacement (rip-relative, or absolute/indexed disp32) is a data access; an immediate or a GOT load is only an address.
        const rip = r.type === R_PC32 && at >= 2 && (bytes[at - 1] & 0xc7) === 0x05 && bytes[at - 2] !== 0x8d; // lea takes the address only
        const disp = (r.type === R_32S || r.type === R_32) && at >= 2 && ((bytes[at - 1] & 0x07) === 0x05 && (bytes[at - 2] & 0xc7) === 0x04 || (bytes[at - 1] & 0xc0) === 0x80);
        if (gs || rip || disp) u.firstData ??= place;
      }
    }
  }
  return out;
}

/** Whether the instruction holding the displacement at `at` uses a %gs segment override. */
function gsAccessAt(bytes: Uint8Array, at: number): boolean {
  for (let s = Math.max(0, at - 8); s <= at - 2; s++) {
    if (bytes[s] !== 0x65) continue;
    const d = decodeOne(bytes.subarray(s, Math.min(bytes.length, s + 15)), 0);
    if ('insn' in d && d.insn.mSeg === 2 && s + d.insn.len >= at + 4) return true;
  }
  return false;
}

// ELF64 little-endian x86-64 file reader: header, section headers and names, symbol tables,
// RELA relocation entries, and section contents (inflating SHF_COMPRESSED and GNU .zdebug
// sections). Everything is checked against the file's size before it is used; nothing here
// knows about load addresses (link.ts does).

import { inflateSync } from 'node:zlib';
import { ByteReader, cstrAt, hex } from './bytes';
import { fail } from './errors';

export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
const EM_X86_64 = 62;

export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_GROUP = 17;
export const SHT_SYMTAB_SHNDX = 18;

export const SHF_WRITE = 0x1n;
export const SHF_ALLOC = 0x2n;
export const SHF_EXECINSTR = 0x4n;
export const SHF_COMPRESSED = 0x800n;

export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
const SHN_LORESERVE = 0xff00;
const SHN_XINDEX = 0xffff;

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;

/** One section header, with its name resolved. */
export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  /** File offset of the contents (meaningless for SHT_NOBITS). */
  offset: number;
  /** Size in the file, or in memory for SHT_NOBITS; for compressed sections the compressed size. */
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

/** One symbol-table entry; `shndx` is already resolved through SHT_SYMTAB_SHNDX. */
export interface ElfSymbol {
  index: number;
  name: string;
  value: bigint;
  size: bigint;
  type: number;
  bind: number;
  shndx: number;
}

/** One RELA entry; `at` is the entry's own offset in the relocation section (for messages). */
export interface ElfRela {
  offset: bigint;
  type: number;
  sym: number;
  addend: bigint;
  at: number;
}

/** A parsed ELF64 x86-64 object or executable. Section contents are read on demand. */
export class ElfFile {
  readonly type: number;
  readonly entry: bigint;
  readonly sections: ElfSection[] = [];
  readonly symbols: ElfSymbol[] = [];
  /** File offset of the section header table. */
  readonly shoff: number;

  constructor(readonly path: string, readonly bytes: Uint8Array) {
    const r: ByteReader = new ByteReader(bytes, path, 'ELF header');
    if (bytes.length < 64) r.fail(`file of ${bytes.length} bytes is too short for an ELF64 header`, 0);
    if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) r.fail('not an ELF file (bad magic)', 0);
    if (bytes[4] !== 2) r.fail(`not ELF64 (EI_CLASS ${bytes[4]})`, 4);
    if (bytes[5] !== 1) r.fail(`not little-endian (EI_DATA ${bytes[5]})`, 5);
    r.seek(16);
    this.type = r.u16();
    const machine = r.u16();
    if (machine !== EM_X86_64) r.fail(`not x86-64 (e_machine ${machine})`, 18);
    if (this.type !== ET_REL && this.type !== ET_EXEC && this.type !== ET_DYN) r.fail(`unsupported ELF type ${this.type} (expected a relocatable object or an executable)`, 16);
    r.seek(24);
    this.entry = r.u64();
    r.seek(40);
    const shoff = (this.shoff = r.u64n('e_shoff'));
    r.seek(58);
    const shentsize = r.u16();
    let shnum = r.u16();
    let shstrndx = r.u16();
    if (shoff === 0) r.fail('no section headers (stripped of them?): sections are needed to load the file', 40);
    if (shentsize !== 64) r.fail(`e_shentsize ${shentsize} (expected 64)`, 58);
    const sh: ByteReader = new ByteReader(bytes, path, 'section headers');
    sh.need(64, shoff, 'section header 0');
    // Extended numbering: counts that do not fit the header live in section header 0.
    if (shnum === 0) {
      sh.seek(shoff + 32);
      shnum = sh.u64n('section count');
    }
    if (shstrndx === SHN_XINDEX) {
      sh.seek(shoff + 40);
      shstrndx = sh.u32();
    }
    if (shnum > (bytes.length - shoff) / 64) sh.fail(`${shnum} section headers do not fit in the file`, shoff);
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * 64;
      sh.seek(at);
      const nameOff = sh.u32();
      const s: ElfSection = {
        index: i, name: '', type: sh.u32(), flags: sh.u64(), addr: sh.u64(), offset: sh.u64n('sh_offset'), size: sh.u64n('sh_size'),
        link: sh.u32(), info: sh.u32(), addralign: sh.u64n('sh_addralign'), entsize: sh.u64n('sh_entsize'),
      };
      s.name = String(nameOff); // resolved below, once the string table is known
      if (s.type !== SHT_NOBITS && s.type !== 0 && s.size > 0 && (s.offset > bytes.length || s.size > bytes.length - s.offset)) {
        sh.fail(`section ${i} (offset ${hex(s.offset)}, size ${hex(s.size)}) extends beyond the file (${hex(bytes.length)} bytes)`, at);
      }
      if (s.addralign > 1 && (s.addralign & (s.addralign - 1)) !== 0) sh.fail(`section ${i} has alignment ${s.addralign}, not a power of two`, at + 48);
      this.sections.push(s);
    }
    if (shstrndx >= shnum || this.sections[shstrndx].type !== SHT_STRTAB) sh.fail(`section name table index ${shstrndx} is not a string table`, 62);
    const names = this.rawData(this.sections[shstrndx]);
    for (const s of this.sections) {
      const off = Number(s.name);
      const n = cstrAt(names, off);
      if (n === undefined) sh.fail(`section ${s.index} name offset ${hex(off)} is outside the name table or unterminated`, shoff + s.index * 64);
      s.name = n.text;
    }
    this.readSymbols();
  }

  /** Contents as stored in the file (empty for NOBITS). */
  rawData(s: ElfSection): Uint8Array {
    if (s.type === SHT_NOBITS || s.type === 0) return new Uint8Array(0);
    return this.bytes.subarray(s.offset, s.offset + s.size);
  }

  /** Uncompressed contents (a fresh copy, so relocations can be applied to it). */
  data(s: ElfSection): Uint8Array {
    const raw = this.rawData(s);
    if (s.flags & SHF_COMPRESSED) return this.inflate(s, raw, 'elf');
    if (s.name.startsWith('.zdebug') && raw.length >= 4 && String.fromCharCode(...raw.subarray(0, 4)) === 'ZLIB') return this.inflate(s, raw, 'gnu');
    return raw.slice();
  }

  /**
   * Largest memory-only size (SHT_NOBITS, SHN_COMMON) believed: such sizes cost no file bytes,
   * so they are capped by a multiple of the file's size rather than trusted.
   */
  get maxBssSize(): number {
    return Math.max(64 << 20, this.bytes.length * 64);
  }

  /** Uncompressed size: what NOBITS sections occupy, and what relocation offsets index. */
  memSize(s: ElfSection): number {
    if (s.type === SHT_NOBITS && s.size > this.maxBssSize) {
      fail({ file: this.path, section: 'section headers', offset: this.shoff + s.index * 64 }, `${s.name} claims ${s.size} bytes of zero-initialised memory`);
    }
    if (s.flags & SHF_COMPRESSED) {
      const r = new ByteReader(this.rawData(s), this.path, s.name);
      r.need(24, 0, 'compression header');
      r.seek(8);
      return r.u64n('ch_size');
    }
    return s.size;
  }

  /** Name under which a section is known to the DWARF reader: `.zdebug_info` reads as `.debug_info`. */
  canonicalName(s: ElfSection): string {
    return s.name.startsWith('.zdebug') ? `.${s.name.slice(2)}` : s.name;
  }

  private inflate(s: ElfSection, raw: Uint8Array, style: 'elf' | 'gnu'): Uint8Array {
    const r = new ByteReader(raw, this.path, s.name);
    let size: number;
    let start: number;
    if (style === 'elf') {
      r.need(24, 0, 'compression header');
      const type = r.u32();
      if (type !== 1) r.fail(type === 2 ? 'zstd-compressed section (only zlib is supported; rebuild with -gz=zlib)' : `unknown compression type ${type}`, 0);
      r.seek(8);
      size = r.u64n('ch_size');
      start = 24;
    } else {
      r.need(12, 0, 'zdebug header');
      // GNU style: "ZLIB" and a big-endian 64-bit size.
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const big = dv.getBigUint64(4, false);
      size = big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
      start = 12;
    }
    // zlib cannot expand by more than about 1032:1, so a larger claim is a lie, not data.
    const limit = Math.min(1 << 30, (raw.length - start) * 1032 + 64);
    if (size > limit) r.fail(`claims an uncompressed size of ${size} bytes from ${raw.length - start} compressed bytes`, style === 'elf' ? 8 : 4);
    let out: Buffer;
    try {
      out = inflateSync(raw.subarray(start), { maxOutputLength: Math.max(size, 1) });
    } catch (e) {
      return r.fail(`cannot inflate compressed section: ${(e as Error).message}`, start);
    }
    if (out.length !== size) r.fail(`inflates to ${out.length} bytes, the header says ${size}`, start);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }

  private readSymbols(): void {
    const tabs = this.sections.filter((s) => s.type === SHT_SYMTAB);
    if (tabs.length === 0) return;
    if (tabs.length > 1) fail({ file: this.path, section: tabs[1].name, offset: 0 }, 'more than one symbol table');
    const tab = tabs[0];
    const r: ByteReader = new ByteReader(this.rawData(tab), this.path, tab.name);
    if (tab.entsize !== 24) r.fail(`symbol entry size ${tab.entsize} (expected 24)`, 0);
    if (tab.link >= this.sections.length || this.sections[tab.link].type !== SHT_STRTAB) r.fail(`sh_link ${tab.link} is not a string table`, 0);
    const strtab = this.sections[tab.link];
    const strs = this.rawData(strtab);
    const xs = this.sections.find((s) => s.type === SHT_SYMTAB_SHNDX && s.link === tab.index);
    const xr = xs && new ByteReader(this.rawData(xs), this.path, xs.name);
    const n = Math.floor(tab.size / 24);
    for (let i = 0; i < n; i++) {
      r.seek(i * 24);
      const nameOff = r.u32();
      const info = r.u8();
      r.u8();
      let shndx = r.u16();
      const value = r.u64();
      const size = r.u64();
      const name = cstrAt(strs, nameOff);
      if (name === undefined) r.fail(`symbol ${i} name offset ${hex(nameOff)} is outside ${strtab.name} or unterminated`, i * 24);
      if (shndx === SHN_XINDEX) {
        if (!xr) r.fail(`symbol ${i} uses SHN_XINDEX but there is no SHT_SYMTAB_SHNDX section`, i * 24 + 6);
        xr.seek(Math.min(i * 4, xr.length));
        shndx = xr.u32();
      } else if (shndx >= SHN_LORESERVE && shndx !== SHN_ABS && shndx !== SHN_COMMON) {
        r.fail(`symbol ${i} (${name.text}) has reserved section index ${hex(shndx)}`, i * 24 + 6);
      }
      if (shndx !== SHN_UNDEF && shndx !== SHN_ABS && shndx !== SHN_COMMON && shndx >= this.sections.length) {
        r.fail(`symbol ${i} (${name.text}) refers to section ${shndx}, which does not exist`, i * 24 + 6);
      }
      this.symbols.push({ index: i, name: name.text, value, size, type: info & 0xf, bind: info >> 4, shndx });
    }
  }

  /** The RELA entries of relocation section `rel` (checked: symbol indices exist). */
  relocations(rel: ElfSection): ElfRela[] {
    const r = new ByteReader(this.rawData(rel), this.path, rel.name);
    if (rel.type === SHT_REL) r.fail('SHT_REL relocations (without addends) are not used on x86-64 and not supported', 0);
    if (rel.entsize !== 24) r.fail(`relocation entry size ${rel.entsize} (expected 24)`, 0);
    const out: ElfRela[] = [];
    const n = Math.floor(rel.size / 24);
    for (let i = 0; i < n; i++) {
      const at = i * 24;
      r.seek(at);
      const offset = r.u64();
      const info = r.u64();
      const addend = r.i64();
      const sym = Number(info >> 32n);
      if (sym >= this.symbols.length) r.fail(`relocation refers to symbol ${sym}, but the symbol table has ${this.symbols.length}`, at + 8);
      out.push({ offset, type: Number(info & 0xffffffffn), sym, addend, at });
    }
    return out;
  }
}

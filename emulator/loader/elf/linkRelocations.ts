// Relocation passes of the relocatable link (link.ts): applying an object's relocations at the
// placed addresses, and reading from them how each undefined symbol is used (code or data).

import { hex } from './bytes';
import { ElfPlace, ErrorList } from './errors';
import {
  ElfFile, ElfSection, ElfSymbol, SHF_ALLOC, SHF_EXECINSTR, SHN_ABS, SHN_COMMON, SHN_UNDEF,
  SHT_NOBITS, SHT_RELA, SHT_REL, STB_LOCAL, STT_SECTION,
} from './elfFile';
import { applyRelocation, relocName, SUPPORTED_RELOCATIONS } from './relocations';
import { decodeOne } from '../../decode/decoder';

/** One relocatable object being linked. */
export interface Obj {
  elf: ElfFile;
  /** Load address of each placed section, by section index. */
  addr: Map<number, bigint>;
  /** Contents being relocated, by section index (allocated and debug sections). */
  data: Map<number, Uint8Array>;
  /** Addresses of SHN_COMMON symbols, by symbol index. */
  common: Map<number, bigint>;
}

/** Global symbols by name: the winning definition's value, size, binding and file. */
export type Globals = Map<string, { value: bigint; size: bigint; weak: boolean; file: string }>;

/** `o`'s relocation sections (REL and RELA) whose target section has contents to relocate, with that target and its bytes. */
function* relocationSections(o: Obj): Generator<{ rs: ElfSection; target: ElfSection; bytes: Uint8Array }> {
  const f = o.elf;
  for (const rs of f.sections) {
    if (rs.type !== SHT_RELA && rs.type !== SHT_REL) continue;
    const target = f.sections[rs.info];
    const bytes = o.data.get(rs.info);
    if (target && bytes) yield { rs, target, bytes };
  }
}

/** Applies the relocations of `o`'s sections that `which` selects (into `o.data`). */
export function relocateObject(
  o: Obj, oi: number, which: (target: ElfSection) => boolean, undefinedValue: (y: ElfSymbol) => bigint, errors: ErrorList,
  gotSlot: (key: string, S: bigint) => bigint = () => 0n, globals?: Globals,
): void {
  const f = o.elf;
  for (const { rs, target, bytes } of relocationSections(o)) {
    if (!which(target)) continue; // relocations of sections we do not load (.comment, notes)
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

export interface Uses { firstBranch?: ElfPlace; firstData?: ElfPlace; firstGs?: ElfPlace }

const R_PC32 = 2, R_PLT32 = 4, R_32 = 10, R_32S = 11;

/**
 * How each undefined symbol is referenced from the allocated sections: as a branch target
 * (PLT32, or PC32 after a call/jmp/jcc opcode), through a %gs segment override (per-CPU data),
 * or otherwise (an address or a data access).
 */
export function undefinedUses(objs: Obj[], names: Set<string>): Map<string, Uses> {
  const out = new Map<string, Uses>();
  for (const o of objs) {
    const f = o.elf;
    for (const { rs, target, bytes } of relocationSections(o)) {
      if (!(target.flags & SHF_ALLOC)) continue;
      const exec = (target.flags & SHF_EXECINSTR) !== 0n;
      for (const r of f.relocations(rs)) {
        const y = f.symbols[r.sym];
        if (!y || y.shndx !== SHN_UNDEF || !names.has(y.name) || y.bind === STB_LOCAL) continue;
        // An offset outside the section is refused where relocations are applied (relocateObject);
        // here it would read past the bytes (and a huge one stalls the scan below).
        if (r.offset >= BigInt(bytes.length)) continue;
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

// DWARF attribute forms (versions 2 to 5, plus the GNU extensions gcc emits) and the string
// sections they point into. Reading a form either yields a value we may use or skips it; an
// unknown form cannot be skipped, so it rejects the unit, naming where it was met.

import { ByteReader, cstrAt, hex } from '../elf/bytes';

/** A unit's parameters that decide how forms read. */
export interface UnitShape {
  version: number;
  /** 4 (32-bit DWARF) or 8 (64-bit DWARF). */
  offsetSize: number;
  addressSize: number;
  /** Offset of the unit header in .debug_info (CU-relative references add it). */
  unitOffset: number;
}

/** What an attribute holds, once read. */
export type AttrValue =
  | { k: 'u'; v: bigint } // constants, addresses, section offsets, flags
  | { k: 's'; v: bigint } // DW_FORM_sdata, DW_FORM_implicit_const
  | { k: 'str'; v: string }
  | { k: 'strx'; v: number } // index into .debug_str_offsets, resolved with the unit's base
  | { k: 'ref'; v: number } // absolute .debug_info offset
  | { k: 'block'; v: Uint8Array }
  | { k: 'none' }; // forms we skip (type signatures, supplementary files)

export const DW_FORM_implicit_const = 0x21;
const DW_FORM_indirect = 0x16;

/** The string sections, for DW_FORM_strp/line_strp/strx. */
export interface StringSections {
  str?: ByteReader;
  lineStr?: ByteReader;
  strOffsets?: ByteReader;
}

/**
 * A unit's initial length (DWARF 5 section 7.4): 32 bits, or 0xffffffff and then 64 bits (the
 * 64-bit format, whose offsets are 8 bytes); 0xfffffff0..0xfffffffe are reserved. Fails when the
 * unit (`what`) runs past the section; `end` is where the next unit starts.
 */
export function readUnitLength(r: ByteReader, what: string): { offsetSize: 4 | 8; end: number } {
  const start = r.pos;
  let len = r.u32();
  let offsetSize: 4 | 8 = 4;
  if (len === 0xffffffff) {
    len = r.u64n('unit length');
    offsetSize = 8;
  } else if (len >= 0xfffffff0) r.fail(`reserved unit length ${hex(len)}`, start);
  r.need(len, r.pos, what);
  return { offsetSize, end: r.pos + len };
}

/** The string at `offset` of `sec`, failing at `r`'s position when it is out of range. */
export function stringAt(r: ByteReader, sec: ByteReader | undefined, offset: bigint, name: string): string {
  if (!sec) return r.fail(`string form refers to ${name}, which the object does not have`);
  const s = offset <= BigInt(sec.length) ? cstrAt(sec.bytes, Number(offset)) : undefined;
  if (s === undefined) return r.fail(`offset ${hex(offset)} into ${name} is out of range or unterminated`);
  return s.text;
}

/** Reads one attribute of form `form` at the cursor. */
export function readForm(r: ByteReader, form: number, u: UnitShape, strs: StringSections, implicit: bigint, depth = 0): AttrValue {
  const off = () => r.uN(u.offsetSize);
  const block = (n: number): AttrValue => ({ k: 'block', v: r.bytesN(n) });
  const cuRef = (v: bigint): AttrValue => ({ k: 'ref', v: u.unitOffset + Number(v > BigInt(r.length) ? BigInt(r.length) : v) });
  switch (form) {
    case 0x01: return { k: 'u', v: r.uN(u.addressSize) }; // addr
    case 0x03: return block(r.u16());
    case 0x04: return block(r.u32());
    case 0x05: return { k: 'u', v: BigInt(r.u16()) };
    case 0x06: return { k: 'u', v: BigInt(r.u32()) };
    case 0x07: return { k: 'u', v: r.u64() };
    case 0x08: return { k: 'str', v: r.cstr() };
    case 0x09: return block(r.ulebNum('block length', r.remaining));
    case 0x0a: return block(r.u8());
    case 0x0b: return { k: 'u', v: BigInt(r.u8()) };
    case 0x0c: return { k: 'u', v: BigInt(r.u8()) }; // flag
    case 0x0d: return { k: 's', v: r.sleb() };
    case 0x0e: return { k: 'str', v: stringAt(r, strs.str, off(), '.debug_str') };
    case 0x0f: return { k: 'u', v: r.uleb() };
    case 0x10: return { k: 'ref', v: clampRef(u.version <= 2 ? r.uN(u.addressSize) : off()) }; // ref_addr
    case 0x11: return cuRef(BigInt(r.u8()));
    case 0x12: return cuRef(BigInt(r.u16()));
    case 0x13: return cuRef(BigInt(r.u32()));
    case 0x14: return cuRef(r.u64());
    case 0x15: return cuRef(r.uleb());
    case DW_FORM_indirect: {
      const at = r.pos;
      const f = r.ulebNum('indirect form', 0xffff);
      if (depth > 0 || f === DW_FORM_indirect) r.fail('DW_FORM_indirect names another indirect form', at);
      return readForm(r, f, u, strs, f === DW_FORM_implicit_const ? r.sleb() : implicit, depth + 1);
    }
    case 0x17: return { k: 'u', v: off() }; // sec_offset
    case 0x18: return block(r.ulebNum('expression length', r.remaining)); // exprloc
    case 0x19: return { k: 'u', v: 1n }; // flag_present
    case 0x1a: return { k: 'strx', v: r.ulebNum('string index', 0xffffffff) };
    case 0x1b: r.uleb(); return { k: 'none' }; // addrx
    case 0x1c: r.u32(); return { k: 'none' }; // ref_sup4
    case 0x1d: off(); return { k: 'none' }; // strp_sup
    case 0x1e: return block(16); // data16
    case 0x1f: return { k: 'str', v: stringAt(r, strs.lineStr, off(), '.debug_line_str') };
    case 0x20: r.u64(); return { k: 'none' }; // ref_sig8: type units are not followed
    case DW_FORM_implicit_const: return { k: 's', v: implicit };
    case 0x22: case 0x23: r.uleb(); return { k: 'none' }; // loclistx, rnglistx
    case 0x24: r.u64(); return { k: 'none' }; // ref_sup8
    case 0x25: return { k: 'strx', v: r.u8() };
    case 0x26: return { k: 'strx', v: r.u16() };
    case 0x27: return { k: 'strx', v: r.u16() | (r.u8() << 16) };
    case 0x28: return { k: 'strx', v: r.u32() };
    case 0x29: r.u8(); return { k: 'none' };
    case 0x2a: r.u16(); return { k: 'none' };
    case 0x2b: r.u16(); r.u8(); return { k: 'none' };
    case 0x2c: r.u32(); return { k: 'none' };
    case 0x1f01: case 0x1f02: r.uleb(); return { k: 'none' }; // GNU_addr_index, GNU_str_index (split DWARF)
    case 0x1f20: case 0x1f21: off(); return { k: 'none' }; // GNU_ref_alt, GNU_strp_alt (dwz)
    default: return r.fail(`unknown attribute form ${hex(form)}`);
  }
}

function clampRef(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** Resolves DW_FORM_strx* through .debug_str_offsets at the unit's base. */
export function resolveStrx(r: ByteReader, strs: StringSections, base: number, offsetSize: number, index: number): string {
  const so = strs.strOffsets;
  if (!so) return r.fail('DW_FORM_strx without a .debug_str_offsets section');
  const at = base + index * offsetSize;
  so.need(offsetSize, at, `string offset ${index}`);
  so.seek(at);
  return stringAt(r, strs.str, so.uN(offsetSize), '.debug_str');
}

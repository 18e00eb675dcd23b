// .debug_info and .debug_abbrev: walks every unit's DIE tree and keeps only what the Image
// needs — compile units (their directory and line-table offset) and the type DIEs struct
// layouts are built from. Every count and size is bounded by the bytes that hold it, so a
// hostile section costs at most time linear in its size.

import { ByteReader, hex } from '../elf/bytes';
import { AttrValue, DW_FORM_implicit_const, readForm, readUnitLength, resolveStrx, StringSections, UnitShape } from './forms';

export const DW_TAG = {
  array_type: 0x01, class_type: 0x02, enumeration_type: 0x04, member: 0x0d, pointer_type: 0x0f, reference_type: 0x10,
  compile_unit: 0x11, structure_type: 0x13, subroutine_type: 0x15, typedef: 0x16, union_type: 0x17, subrange_type: 0x21,
  base_type: 0x24, const_type: 0x26, subprogram: 0x2e, variable: 0x34, volatile_type: 0x35, restrict_type: 0x37, unspecified_type: 0x3b, partial_unit: 0x3c,
  atomic_type: 0x47,
} as const;

export const DW_AT = {
  name: 0x03, byte_size: 0x0b, bit_offset: 0x0c, bit_size: 0x0d, stmt_list: 0x10, comp_dir: 0x1b, upper_bound: 0x2f,
  count: 0x37, data_member_location: 0x38, declaration: 0x3c, type: 0x49, data_bit_offset: 0x6b, str_offsets_base: 0x72,
  alignment: 0x88,
} as const;

const KEPT_TAGS = new Set<number>(Object.values(DW_TAG));
const KEPT_ATTRS = new Set<number>(Object.values(DW_AT));

/** A DIE the struct builder may look at. Only kept attributes are stored. */
export interface Die {
  offset: number;
  tag: number;
  attrs: Map<number, AttrValue>;
  children: Die[];
  unit: UnitInfo;
}

/** One unit's header and what its root DIE says. */
export interface UnitInfo extends UnitShape {
  compDir?: string;
  name?: string;
  stmtList?: number;
  strOffsetsBase: number;
  /** Offset of the unit's root DIE (DW_TAG_compile_unit). */
  rootOffset?: number;
}

interface Abbrev {
  tag: number;
  children: boolean;
  specs: { at: number; form: number; implicit: bigint }[];
}

/** Everything read from .debug_info: units and the kept DIEs by offset. */
export interface InfoTree {
  units: UnitInfo[];
  dies: Map<number, Die>;
  /** Reads a string attribute (resolving strx through the DIE's unit). */
  str(d: Die, at: number): string | undefined;
  reader: ByteReader;
}

/** Parses `.debug_info` with `.debug_abbrev` and the string sections. */
export function readInfo(info: ByteReader, abbrevSec: ByteReader | undefined, strs: StringSections): InfoTree {
  const units: UnitInfo[] = [];
  const dies = new Map<number, Die>();
  const abbrevCache = new Map<number, Map<number, Abbrev>>();
  const r: ByteReader = info;
  r.seek(0);
  while (r.remaining > 0) {
    const unitOffset = r.pos;
    const { offsetSize, end } = readUnitLength(r, 'unit');
    const version = r.u16();
    if (version < 2 || version > 5) r.fail(`unsupported DWARF version ${version}`, unitOffset + (offsetSize === 8 ? 12 : 4));
    let abbrevOffset: bigint;
    let addressSize: number;
    let unitType = 1;
    if (version >= 5) {
      unitType = r.u8();
      addressSize = r.u8();
      abbrevOffset = r.uN(offsetSize);
      if (unitType === 2 || unitType === 6) { r.u64(); r.uN(offsetSize); } // type signature, type offset
      else if (unitType === 4 || unitType === 5) r.u64(); // dwo id
    } else {
      abbrevOffset = r.uN(offsetSize);
      addressSize = r.u8();
    }
    if (addressSize !== 4 && addressSize !== 8) r.fail(`address size ${addressSize}`, r.pos - 1);
    const unit: UnitInfo = { version, offsetSize, addressSize, unitOffset, strOffsetsBase: 0 };
    units.push(unit);
    if (!abbrevSec) return r.fail('.debug_info without .debug_abbrev', unitOffset);
    let abbrevs = abbrevCache.get(Number(abbrevOffset));
    if (!abbrevs) abbrevCache.set(Number(abbrevOffset), (abbrevs = readAbbrevs(abbrevSec, abbrevOffset)));
    const sub = new ByteReader(r.bytes.subarray(0, end), r.file, r.section);
    sub.seek(r.pos);
    readDies(sub, unit, abbrevs, strs, dies);
    r.seek(end);
  }
  const str = (d: Die, at: number): string | undefined => {
    const v = d.attrs.get(at);
    if (v?.k === 'str') return v.v;
    if (v?.k !== 'strx') return undefined;
    info.pos = d.offset; // errors in resolving name the DIE
    return resolveStrx(info, strs, d.unit.strOffsetsBase, d.unit.offsetSize, v.v);
  };
  for (const u of units) {
    const root = u.rootOffset === undefined ? undefined : dies.get(u.rootOffset);
    if (!root) continue;
    u.compDir = str(root, DW_AT.comp_dir);
    u.name = str(root, DW_AT.name);
  }
  return { units, dies, str, reader: info };
}

function readAbbrevs(r: ByteReader, offset: bigint): Map<number, Abbrev> {
  if (offset >= BigInt(r.length)) r.fail(`abbreviation table offset ${hex(offset)} is outside .debug_abbrev (${r.length} bytes)`, 0);
  r.seek(Number(offset));
  const out = new Map<number, Abbrev>();
  for (;;) {
    const at = r.pos;
    const code = r.ulebNum('abbreviation code', 0xffffffff);
    if (code === 0) return out;
    if (out.has(code)) r.fail(`abbreviation code ${code} defined twice`, at);
    const tag = r.ulebNum('tag', 0xffff);
    const children = r.u8() !== 0;
    const specs: Abbrev['specs'] = [];
    for (;;) {
      const a = r.ulebNum('attribute', 0xffff);
      const form = r.ulebNum('form', 0xffff);
      if (a === 0 && form === 0) break;
      specs.push({ at: a, form, implicit: form === DW_FORM_implicit_const ? r.sleb() : 0n });
    }
    out.set(code, { tag, children, specs });
  }
}

function readDies(r: ByteReader, unit: UnitInfo, abbrevs: Map<number, Abbrev>, strs: StringSections, dies: Map<number, Die>): void {
  // Parents of the DIE being read: null for subtrees we do not keep.
  const stack: (Die | null)[] = [];
  let first = true;
  while (r.remaining > 0) {
    const offset = r.pos;
    const code = r.ulebNum('abbreviation code', 0xffffffff);
    if (code === 0) {
      if (stack.length === 0) {
        if (first) r.fail('unit has no root DIE', offset);
        continue; // padding after the root's children
      }
      stack.pop();
      continue;
    }
    const ab = abbrevs.get(code);
    if (!ab) r.fail(`DIE uses abbreviation code ${code}, which .debug_abbrev does not define`, offset);
    const parent = stack.length ? stack[stack.length - 1] : null;
    const die: Die | null = KEPT_TAGS.has(ab.tag) ? { offset, tag: ab.tag, attrs: new Map(), children: [], unit } : null;
    if (first) unit.rootOffset = offset;
    for (const s of ab.specs) {
      const v = readForm(r, s.form, unit, strs, s.implicit);
      if (die && KEPT_ATTRS.has(s.at)) die.attrs.set(s.at, v);
      if (first && s.at === DW_AT.str_offsets_base && v.k === 'u') unit.strOffsetsBase = Number(v.v);
      if (first && s.at === DW_AT.stmt_list && v.k === 'u') unit.stmtList = Number(v.v);
    }
    first = false;
    if (die) {
      dies.set(offset, die);
      if (parent) parent.children.push(die);
    }
    // Members and subranges hang under their (kept) type; types nested in functions or
    // lexical blocks are kept too, only without a parent.
    if (ab.children) stack.push(die);
  }
}

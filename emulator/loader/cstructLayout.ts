// The C type model behind cstruct.ts and its x86-64 SysV layout as gcc computes it:
// natural alignment, packed/aligned attributes, bit-fields that may not straddle a unit of
// their declared type (packed ones may), unnamed bit-fields that do not align the record.

import type { FieldLayout, StructLayout } from './image';
import { MAX_LAYOUT_FIELDS, NOT_EXPANDED } from './layoutLimits';

/** A C type. `typedefName` keeps the spelling the user wrote; `alignAttr` an aligned() from a typedef. */
export type CType = (
  | { kind: 'void' }
  | { kind: 'int'; name: string; size: number; signed: boolean }
  | { kind: 'float'; name: string; size: number }
  | { kind: 'ptr'; to: CType }
  | { kind: 'array'; of: CType; count?: number }
  | { kind: 'record'; rec: RecordType }
  | { kind: 'enum'; tag?: string; size: number; signed: boolean }
  | { kind: 'func' }
) & { typedefName?: string; alignAttr?: number };

/** A source place for messages about a member. */
export interface Where {
  file: string;
  line: number;
  col: number;
}

/** One declared member of a struct or union (unnamed for anonymous members and padding bit-fields). */
export interface Member {
  name?: string;
  type: CType;
  bitWidth?: number;
  packed: boolean;
  alignAttr?: number;
  where: Where;
}

/** A struct or union type (complete once its body has been seen). */
export interface RecordType {
  kind: 'struct' | 'union';
  tag?: string;
  complete: boolean;
  members: Member[];
  packed: boolean;
  alignAttr?: number;
  where?: Where;
  layout?: RecordLayout;
}

/** A member placed at a bit position (bits from the start of its record). */
export interface Placed {
  member: Member;
  bitPos: number;
}

export interface RecordLayout {
  size: number;
  align: number;
  placed: Placed[];
}

/** Thrown for types that have no layout (incomplete, void, function). */
export class LayoutError extends Error {
  constructor(
    message: string,
    readonly where?: Where,
  ) {
    super(message);
  }
}

const INTS: [string, number, boolean][] = [
  ['char', 1, true], ['signed char', 1, true], ['unsigned char', 1, false], ['short', 2, true], ['unsigned short', 2, false],
  ['int', 4, true], ['unsigned int', 4, false], ['long', 8, true], ['unsigned long', 8, false], ['long long', 8, true],
  ['unsigned long long', 8, false], ['_Bool', 1, false], ['__int128', 16, true], ['unsigned __int128', 16, false],
];
/** The basic integer types by canonical name. */
export const INT_TYPES = new Map<string, CType>(INTS.map(([name, size, signed]) => [name, { kind: 'int', name, size, signed }]));

/** Kernel and C library type names known without a typedef in the input. */
export const KNOWN_TYPEDEFS = new Map<string, string>([
  ['u8', 'unsigned char'], ['s8', 'signed char'], ['u16', 'unsigned short'], ['s16', 'short'], ['u32', 'unsigned int'], ['s32', 'int'],
  ['u64', 'unsigned long long'], ['s64', 'long long'], ['__u8', 'unsigned char'], ['__s8', 'signed char'], ['__u16', 'unsigned short'],
  ['__s16', 'short'], ['__u32', 'unsigned int'], ['__s32', 'int'], ['__u64', 'unsigned long long'], ['__s64', 'long long'],
  ['__le16', 'unsigned short'], ['__le32', 'unsigned int'], ['__le64', 'unsigned long long'], ['__be16', 'unsigned short'],
  ['__be32', 'unsigned int'], ['__be64', 'unsigned long long'], ['uint8_t', 'unsigned char'], ['int8_t', 'signed char'],
  ['uint16_t', 'unsigned short'], ['int16_t', 'short'], ['uint32_t', 'unsigned int'], ['int32_t', 'int'], ['uint64_t', 'unsigned long'],
  ['int64_t', 'long'], ['uintptr_t', 'unsigned long'], ['intptr_t', 'long'], ['size_t', 'unsigned long'], ['ssize_t', 'long'],
  ['ptrdiff_t', 'long'], ['phys_addr_t', 'unsigned long long'], ['dma_addr_t', 'unsigned long long'], ['resource_size_t', 'unsigned long long'],
  ['bool', '_Bool'], ['gfp_t', 'unsigned int'], ['pid_t', 'int'], ['uid_t', 'unsigned int'], ['gid_t', 'unsigned int'],
  ['loff_t', 'long long'], ['off_t', 'long'], ['hpa_t', 'unsigned long long'], ['gpa_t', 'unsigned long long'], ['gva_t', 'unsigned long'],
  ['gfn_t', 'unsigned long long'], ['u128', 'unsigned __int128'], ['s128', '__int128'],
]);

const roundUp = (v: number, a: number) => Math.ceil(v / a) * a;

export function sizeOf(t: CType, where?: Where): number {
  return measure(t, 'size', where);
}

export function alignOf(t: CType, where?: Where): number {
  return measure(t, 'align', where);
}

/** A type's size or alignment (an `aligned` attribute sets the alignment only). */
function measure(t: CType, what: 'size' | 'align', where?: Where): number {
  if (what === 'align' && t.alignAttr) return t.alignAttr;
  switch (t.kind) {
    case 'int':
    case 'float':
    case 'enum':
      return t.size;
    case 'ptr':
      return 8;
    case 'array':
      return what === 'size' ? (t.count ?? 0) * measure(t.of, 'size', where) : measure(t.of, 'align', where);
    case 'record':
      return layoutRecord(t.rec, where)[what];
    default:
      throw new LayoutError(`${t.kind === 'void' ? 'void' : 'a function type'} has no ${what === 'size' ? 'size' : 'alignment'}`, where);
  }
}

/** Lay a record out as gcc does on x86-64 (cached on the record). */
export function layoutRecord(rec: RecordType, where?: Where): RecordLayout {
  if (rec.layout) return rec.layout;
  if (!rec.complete) throw new LayoutError(`${rec.kind} ${rec.tag ?? '<anonymous>'} is incomplete (declared but never defined)`, where);
  const isUnion = rec.kind === 'union';
  let bit = 0;
  let end = 0;
  let align = 1;
  const placed: Placed[] = [];
  for (const m of rec.members) {
    const size = sizeOf(m.type, m.where);
    const natural = alignOf(m.type, m.where);
    const packed = rec.packed || m.packed;
    let pos = isUnion ? 0 : bit;
    if (m.bitWidth !== undefined) {
      const w = m.bitWidth;
      if (w === 0) {
        // Aligns the next field to the declared type; unnamed, so the record's alignment is untouched.
        if (!isUnion) bit = roundUp(pos, natural * 8);
        continue;
      }
      if (m.alignAttr) pos = roundUp(pos, m.alignAttr * 8);
      const unit = natural * 8;
      if (!packed && Math.floor(pos / unit) !== Math.floor((pos + w - 1) / unit)) pos = roundUp(pos, unit);
      placed.push({ member: m, bitPos: pos });
      if (m.name !== undefined) align = Math.max(align, packed ? m.alignAttr ?? 1 : Math.max(natural, m.alignAttr ?? 1));
      end = Math.max(end, pos + w);
      if (!isUnion) bit = pos + w;
      continue;
    }
    const fa = packed ? m.alignAttr ?? 1 : Math.max(natural, m.alignAttr ?? 1);
    pos = roundUp(pos, fa * 8);
    placed.push({ member: m, bitPos: pos });
    align = Math.max(align, fa);
    end = Math.max(end, pos + size * 8);
    if (!isUnion) bit = pos + size * 8;
  }
  if (rec.alignAttr) align = Math.max(align, rec.alignAttr);
  rec.layout = { size: roundUp(Math.ceil(end / 8), align), align, placed };
  return rec.layout;
}

/** How a type reads in a field list: `u64`, `struct foo *`, `u8[16]`. */
export function typeSpelling(t: CType): string {
  if (t.typedefName) return t.typedefName;
  switch (t.kind) {
    case 'void': return 'void';
    case 'int':
    case 'float': return t.name;
    case 'enum': return `enum ${t.tag ?? '<anonymous>'}`;
    case 'record': return `${t.rec.kind} ${t.rec.tag ?? '<anonymous>'}`;
    case 'func': return 'function';
    case 'ptr': {
      const inner = typeSpelling(t.to);
      return inner.endsWith('*') ? `${inner}*` : `${inner} *`;
    }
    case 'array': {
      const dims: string[] = [];
      let e: CType = t;
      while (e.kind === 'array' && !e.typedefName) {
        dims.push(`[${e.count ?? ''}]`);
        e = e.of;
      }
      return typeSpelling(e) + dims.join('');
    }
  }
}

/** The Image's view of a record: fields with absolute offsets, nested records expanded. */
export function toStructLayout(name: string, rec: RecordType): StructLayout {
  const l = layoutRecord(rec);
  return { name, kind: rec.kind, size: l.size, align: l.align, fields: fieldsOf(rec, 0, { left: MAX_LAYOUT_FIELDS }) };
}

function fieldsOf(rec: RecordType, base: number, budget: { left: number }): FieldLayout[] {
  // Unnamed bit-fields are padding, not fields.
  const placed = layoutRecord(rec).placed.filter((p) => !(p.member.bitWidth !== undefined && p.member.name === undefined));
  return placed.map(({ member: m, bitPos }) => {
    const f: FieldLayout = { name: m.name ?? '', offset: base + Math.floor(bitPos / 8), size: 0, type: typeSpelling(m.type) };
    if (m.bitWidth !== undefined) {
      f.bitOffset = bitPos % 8;
      f.bitWidth = m.bitWidth;
      f.size = Math.ceil((f.bitOffset + m.bitWidth) / 8);
    } else {
      f.size = sizeOf(m.type);
      // Nested records are expanded with absolute offsets: bounded like DWARF layouts.
      if (m.type.kind === 'record') { if (budget.left > 0) f.fields = fieldsOf(m.type.rec, f.offset, budget); else f.type += NOT_EXPANDED; }
    }
    budget.left--;
    return f;
  });
}

/** One step of a member designator: a member name or an array index. */
export type DesignatorStep = { member: string; where?: Where } | { index: number; where?: Where };

/**
 * offsetof(type, a.b[2].c): the byte offset and the member's type. Anonymous struct/union
 * members are searched through, as C does. Throws LayoutError naming the missing member.
 */
export function memberOffset(t: CType, path: DesignatorStep[]): { offset: number; type: CType; bitField: boolean; fieldPath: string[] } {
  let offset = 0;
  let type = t;
  let bitField = false;
  const fieldPath: string[] = [];
  for (const step of path) {
    if ('index' in step) {
      if (type.kind !== 'array') throw new LayoutError(`subscripted value is not an array (it is ${typeSpelling(type)})`, step.where);
      offset += step.index * sizeOf(type.of);
      type = type.of;
      fieldPath.length = 0;
      continue;
    }
    if (type.kind !== 'record') throw new LayoutError(`request for member '${step.member}' in something that is not a struct or union (${typeSpelling(type)})`, step.where);
    const found = findMember(type.rec, step.member);
    if (!found) throw new LayoutError(`${type.rec.kind} ${type.rec.tag ?? '<anonymous>'} has no member named '${step.member}'`, step.where);
    offset += found.offset;
    type = found.type;
    bitField = found.bitField;
    fieldPath.push(...found.names);
  }
  return { offset, type, bitField, fieldPath };
}

function findMember(rec: RecordType, name: string): { offset: number; type: CType; bitField: boolean; names: string[] } | undefined {
  for (const p of layoutRecord(rec).placed) {
    const m = p.member;
    if (m.name === name) return { offset: Math.floor(p.bitPos / 8), type: m.type, bitField: m.bitWidth !== undefined, names: [name] };
    if (m.name === undefined && m.type.kind === 'record') {
      const inner = findMember(m.type.rec, name);
      if (inner) return { ...inner, offset: inner.offset + p.bitPos / 8, names: ['', ...inner.names] };
    }
  }
  return undefined;
}

/** Names in scope after parsing declarations (cstruct.ts). */
export interface CScope {
  typedefs: Map<string, CType>;
  tags: Map<string, RecordType>;
  enumTags: Map<string, CType>;
  enumConstants: Map<string, bigint>;
}

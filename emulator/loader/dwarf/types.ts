// Struct and union layouts from DWARF type DIEs, in the same shape and spelling as the C
// struct parser produces (cstructLayout.ts): absolute offsets, nested records expanded,
// bit-fields as byte + bit offset (both DW_AT_data_bit_offset and the big-endian-numbered
// DW_AT_bit_offset of DWARF 2/3), types spelled as written (`u64`, `struct foo *`, `u8[16]`).

import { MAX_LAYOUT_FIELDS, MAX_TOTAL_LAYOUT_FIELDS, NOT_EXPANDED } from '../layoutLimits';
import { FieldLayout, StructLayout } from '../image';
import { AttrValue } from './forms';
import { Die, DW_AT, DW_TAG, InfoTree } from './info';

/** Deeper than this, a chain of type references is a loop in hostile input, not C. */
const MAX_DEPTH = 64;

const num = (v: AttrValue | undefined): number | undefined =>
  v && (v.k === 'u' || v.k === 's') && v.v >= -(1n << 53n) && v.v <= 1n << 53n ? Number(v.v) : undefined;

/** Layouts of every complete named struct/union in `t`, by tag and by typedef name. */
export function structLayouts(t: InfoTree): Map<string, StructLayout> {
  const b = new Builder(t);
  const out = new Map<string, StructLayout>();
  for (const d of t.dies.values()) {
    const isRecord = d.tag === DW_TAG.structure_type || d.tag === DW_TAG.union_type || d.tag === DW_TAG.class_type;
    if (isRecord && !d.attrs.has(DW_AT.declaration)) {
      const name = t.str(d, DW_AT.name);
      if (name && !out.has(name)) out.set(name, b.layout(d, name));
    } else if (d.tag === DW_TAG.typedef) {
      const name = t.str(d, DW_AT.name);
      const rec = b.target(d, 0);
      if (name && rec && !out.has(name) && (rec.tag === DW_TAG.structure_type || rec.tag === DW_TAG.union_type) && !rec.attrs.has(DW_AT.declaration)) {
        out.set(name, b.layout(rec, name));
      }
    }
  }
  return out;
}

/** What the compile units declare but do not define: `extern` variables (with their type's size) and functions. */
export function declarations(t: InfoTree): Map<string, { kind: 'variable' | 'function'; size?: number; align?: number; type?: string }> {
  const b = new Builder(t);
  const out = new Map<string, { kind: 'variable' | 'function'; size?: number; align?: number; type?: string }>();
  for (const u of t.units) {
    const root = u.rootOffset === undefined ? undefined : t.dies.get(u.rootOffset);
    for (const d of root?.children ?? []) {
      if ((d.tag !== DW_TAG.variable && d.tag !== DW_TAG.subprogram) || !d.attrs.has(DW_AT.declaration)) continue;
      const name = t.str(d, DW_AT.name);
      if (!name || out.has(name)) continue;
      if (d.tag === DW_TAG.subprogram) { out.set(name, { kind: 'function' }); continue; }
      const type = b.ref(d);
      out.set(name, { kind: 'variable', size: b.size(type, 0), align: b.align(type, 0), type: b.spell(type, 0) });
    }
  }
  return out;
}

class Builder {
  /** Alignment by record: computed once (a struct used twice must not cost twice). */
  private readonly alignMemo = new Map<Die, number>();
  /** Field nodes left for the layout being built, and for all of them. */
  private left = MAX_LAYOUT_FIELDS;
  private total = MAX_TOTAL_LAYOUT_FIELDS;
  constructor(private readonly t: InfoTree) {}

  private fail(d: Die, message: string): never {
    return this.t.reader.fail(message, d.offset);
  }

  /** The DIE a DW_AT_type points at (undefined: void). */
  ref(d: Die): Die | undefined {
    const v = d.attrs.get(DW_AT.type);
    if (!v || v.k !== 'ref') return undefined;
    const to = this.t.dies.get(v.v);
    if (!to) this.fail(d, `DW_AT_type refers to 0x${v.v.toString(16)}, where there is no type DIE`);
    return to;
  }

  /** Follows typedefs and qualifiers to the type that decides the layout. */
  target(d: Die | undefined, depth: number): Die | undefined {
    let n = 0;
    while (d && (d.tag === DW_TAG.typedef || d.tag === DW_TAG.const_type || d.tag === DW_TAG.volatile_type || d.tag === DW_TAG.restrict_type || d.tag === DW_TAG.atomic_type)) {
      if (++n + depth > MAX_DEPTH) this.fail(d, 'type references loop');
      d = this.ref(d);
    }
    return d;
  }

  layout(d: Die, name: string): StructLayout {
    const kind = d.tag === DW_TAG.union_type ? 'union' : 'struct';
    this.left = MAX_LAYOUT_FIELDS;
    return { name, kind, size: num(d.attrs.get(DW_AT.byte_size)) ?? 0, align: this.align(d, 0), fields: this.fields(d, 0, 0) };
  }

  private fields(rec: Die, base: number, depth: number): FieldLayout[] {
    if (depth > MAX_DEPTH) this.fail(rec, 'struct nesting too deep (a type loop?)');
    const out: FieldLayout[] = [];
    for (const m of rec.children) {
      if (m.tag !== DW_TAG.member) continue;
      const name = this.t.str(m, DW_AT.name) ?? '';
      const type = this.ref(m);
      const loc = this.memberLocation(m);
      const bitSize = num(m.attrs.get(DW_AT.bit_size));
      const f: FieldLayout = { name, offset: base + loc, size: 0, type: this.spell(type, depth) };
      if (bitSize !== undefined) {
        if (name === '') continue; // unnamed bit-fields are padding (the C parser agrees)
        let bitPos: number;
        const dbo = num(m.attrs.get(DW_AT.data_bit_offset));
        const bo = num(m.attrs.get(DW_AT.bit_offset));
        if (dbo !== undefined) bitPos = dbo;
        else if (bo !== undefined) {
          // DWARF 2/3: bit_offset counts from the most significant bit of a storage unit of
          // byte_size bytes at data_member_location; on a little-endian target that is:
          const unit = num(m.attrs.get(DW_AT.byte_size)) ?? this.size(type, depth);
          bitPos = loc * 8 + unit * 8 - bo - bitSize;
        } else bitPos = loc * 8;
        f.offset = base + Math.floor(bitPos / 8);
        f.bitOffset = ((bitPos % 8) + 8) % 8;
        f.bitWidth = bitSize;
        f.size = Math.ceil((f.bitOffset + bitSize) / 8);
      } else {
        f.size = this.size(type, depth);
        const t = this.target(type, depth);
        if (t && (t.tag === DW_TAG.structure_type || t.tag === DW_TAG.union_type || t.tag === DW_TAG.class_type)) {
          if (this.left > 0 && this.total > 0) f.fields = this.fields(t, f.offset, depth + 1);
          else f.type += NOT_EXPANDED;
        }
      }
      this.left--; this.total--;
      out.push(f);
    }
    return out;
  }

  /** DW_AT_data_member_location: a constant, or (DWARF 2) an expression `DW_OP_plus_uconst n`. */
  private memberLocation(m: Die): number {
    const v = m.attrs.get(DW_AT.data_member_location);
    if (!v) return 0;
    if (v.k === 'block') {
      const e = v.v;
      if (e.length >= 2 && (e[0] === 0x23 || e[0] === 0x10)) {
        let n = 0;
        let shift = 1;
        for (let i = 1; i < e.length && i < 9; i++) {
          n += (e[i] & 0x7f) * shift;
          shift *= 128;
          if (!(e[i] & 0x80)) break;
        }
        return n;
      }
      this.fail(m, 'member location is an expression other than DW_OP_plus_uconst');
    }
    const n = num(v);
    if (n === undefined || n < 0 || n > 0x7fffffff) this.fail(m, 'member location out of range');
    return n;
  }

  size(d: Die | undefined, depth: number): number {
    if (depth > MAX_DEPTH) this.fail(d!, 'type references loop');
    if (!d) return 0;
    const own = num(d.attrs.get(DW_AT.byte_size));
    if (own !== undefined) return own;
    switch (d.tag) {
      case DW_TAG.pointer_type:
      case DW_TAG.reference_type: return d.unit.addressSize;
      case DW_TAG.array_type: return this.arrayCount(d) * this.size(this.ref(d), depth + 1);
      case DW_TAG.typedef:
      case DW_TAG.const_type:
      case DW_TAG.volatile_type:
      case DW_TAG.restrict_type:
      case DW_TAG.atomic_type: return this.size(this.ref(d), depth + 1);
      default: return 0;
    }
  }

  /** Elements in all dimensions (0 for a flexible array member). */
  private arrayCount(d: Die): number {
    let n = 1;
    for (const c of this.dims(d)) n *= c ?? 0;
    return n;
  }

  private dims(d: Die): (number | undefined)[] {
    return d.children
      .filter((c) => c.tag === DW_TAG.subrange_type)
      .map((c) => {
        const count = num(c.attrs.get(DW_AT.count));
        if (count !== undefined) return count;
        const ub = c.attrs.get(DW_AT.upper_bound);
        // gcc writes `[0]` as upper bound -1 (sdata, or all ones in a data form) and `[]` with none.
        if (ub?.k === 's') return Math.max(0, Number(ub.v) + 1);
        if (ub?.k === 'u' && [0xffn, 0xffffn, 0xffffffffn, 0xffffffffffffffffn].includes(ub.v)) return 0;
        const u = num(ub);
        return u === undefined ? undefined : u + 1;
      });
  }

  align(d: Die | undefined, depth: number): number {
    if (!d) return 1;
    const known = this.alignMemo.get(d);
    if (known !== undefined) return known;
    const a = this.alignOf(d, depth);
    this.alignMemo.set(d, a);
    return a;
  }

  private alignOf(d: Die, depth: number): number {
    if (depth > MAX_DEPTH) this.fail(d, 'type references loop');
    const explicit = num(d.attrs.get(DW_AT.alignment));
    if (explicit !== undefined) return explicit;
    switch (d.tag) {
      case DW_TAG.structure_type:
      case DW_TAG.union_type:
      case DW_TAG.class_type: {
        let a = 1;
        let packed = false;
        let end = 0;
        for (const m of d.children) {
          if (m.tag !== DW_TAG.member) continue;
          const type = this.ref(m);
          let ma = num(m.attrs.get(DW_AT.alignment)) ?? this.align(type, depth + 1);
          if (m.attrs.has(DW_AT.bit_size)) {
            a = Math.max(a, ma);
            continue;
          }
          const loc = this.memberLocation(m);
          if (loc % ma) packed = true;
          // Strict DWARF has no DW_AT_alignment: a member placed beyond its natural slot
          // shows an `aligned` attribute, at least as large as the offset's lowest set bit.
          else if (d.tag !== DW_TAG.union_type && loc > Math.ceil(end / ma) * ma) ma = Math.max(ma, loc & -loc);
          end = Math.max(end, loc + this.size(type, depth + 1));
          a = Math.max(a, ma);
        }
        const size = num(d.attrs.get(DW_AT.byte_size)) ?? 0;
        // DWARF does not say `packed`; a misaligned member or a size that is not a multiple
        // of the natural alignment does.
        return packed || size % a ? 1 : a;
      }
      case DW_TAG.array_type: return this.align(this.ref(d), depth + 1);
      case DW_TAG.typedef:
      case DW_TAG.const_type:
      case DW_TAG.volatile_type:
      case DW_TAG.restrict_type:
      case DW_TAG.atomic_type: return this.align(this.ref(d), depth + 1);
      default: return Math.max(1, Math.min(16, this.size(d, depth)));
    }
  }

  /** The type as the C parser spells it: typedef names kept, qualifiers dropped. */
  spell(d: Die | undefined, depth: number): string {
    if (depth > MAX_DEPTH) this.fail(d!, 'type references loop');
    if (!d) return 'void';
    const name = this.t.str(d, DW_AT.name);
    switch (d.tag) {
      case DW_TAG.typedef:
      case DW_TAG.base_type:
      case DW_TAG.unspecified_type: return name ?? 'void';
      case DW_TAG.structure_type: return `struct ${name ?? '<anonymous>'}`;
      case DW_TAG.class_type: return `class ${name ?? '<anonymous>'}`;
      case DW_TAG.union_type: return `union ${name ?? '<anonymous>'}`;
      case DW_TAG.enumeration_type: return `enum ${name ?? '<anonymous>'}`;
      case DW_TAG.subroutine_type: return 'function';
      case DW_TAG.pointer_type:
      case DW_TAG.reference_type: {
        const inner = this.spell(this.ref(d), depth + 1);
        return inner.endsWith('*') ? `${inner}*` : `${inner} *`;
      }
      case DW_TAG.array_type: {
        const dims = this.dims(d).map((c) => `[${c ?? ''}]`).join('');
        return this.spell(this.ref(d), depth + 1) + dims;
      }
      default: return this.spell(this.ref(d), depth + 1); // qualifiers
    }
  }
}

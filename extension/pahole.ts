// "TDX: Show Struct Layout" text, in the shape of pahole's output: each member with its offset
// and size, the holes and padding between them, the asm-offsets symbol that names it, and a
// summary (size, cachelines, members, holes). Pure text from a StructLayout: unit-tested.

import type { FieldLayout, StructLayout } from '../emulator/loader/image';

const CACHELINE = 64;

/** A hole between members, or padding at the end. */
export interface Gap {
  /** Offset where the gap starts. */
  offset: number;
  size: number;
  kind: 'hole' | 'padding';
}

/** Gaps of a layout's top-level members (unions have none: every member starts at 0). */
export function gaps(layout: Pick<StructLayout, 'kind' | 'size' | 'fields'>): Gap[] {
  if (layout.kind === 'union') return [];
  const out: Gap[] = [];
  let end = 0;
  for (const f of layout.fields) {
    if (f.bitWidth !== undefined) {
      // Bit-fields share a storage unit: the unit's end is the furthest any of them reach.
      end = Math.max(end, f.offset + f.size);
      continue;
    }
    if (f.offset > end) out.push({ offset: end, size: f.offset - end, kind: 'hole' });
    end = Math.max(end, f.offset + f.size);
  }
  if (layout.size > end) out.push({ offset: end, size: layout.size - end, kind: 'padding' });
  return out;
}

function memberLine(f: FieldLayout, base: number, indent: string): string[] {
  const decl = `${indent}${f.type.replace(/\[(\d+)\]$/, '')} ${f.name}${/\[(\d+)\]$/.exec(f.type)?.[0] ?? ''}${f.bitWidth !== undefined ? `:${f.bitWidth}` : ''};`;
  const rel = f.offset - base;
  const where = f.bitWidth !== undefined ? `${rel}:${f.bitOffset ?? 0} ${f.size}` : `${rel} ${f.size}`;
  const line = `${decl.padEnd(44)} /* ${where.padStart(9)} */${f.asmOffsetsName ? `  ${f.asmOffsetsName}` : ''}`;
  const out = [line];
  if (f.fields && f.fields.length) {
    out[0] = `${indent}${f.type.replace(/\s*\{.*$/, '')} {`;
    for (const c of f.fields) out.push(...memberLine(c, base, indent + '\t'));
    out.push(`${indent}} ${f.name};`.padEnd(44) + ` /* ${`${rel} ${f.size}`.padStart(9)} */${f.asmOffsetsName ? `  ${f.asmOffsetsName}` : ''}`);
  }
  return out;
}

/** pahole-like text of one struct or union. */
export function renderLayout(layout: StructLayout, note?: string): string {
  const lines: string[] = [];
  if (note) lines.push(`/* ${note} */`);
  lines.push(`${layout.kind} ${layout.name} {`);
  const holes = gaps(layout);
  const holeBefore = new Map(holes.filter((g) => g.kind === 'hole').map((g) => [g.offset + g.size, g.size]));
  for (const f of layout.fields) {
    const hole = f.bitWidth === undefined ? holeBefore.get(f.offset) : undefined;
    if (hole) {
      lines.push('', `\t/* XXX ${hole} byte${hole === 1 ? '' : 's'} hole, try to pack */`, '');
      holeBefore.delete(f.offset);
    }
    if (f.offset > 0 && f.offset % CACHELINE === 0 && f.bitOffset === undefined) {
      lines.push(`\t/* --- cacheline ${f.offset / CACHELINE} boundary (${f.offset} bytes) --- */`);
    }
    lines.push(...memberLine(f, 0, '\t'));
  }
  const holeList = holes.filter((g) => g.kind === 'hole');
  const padding = holes.find((g) => g.kind === 'padding');
  const sumMembers = layout.kind === 'union' ? Math.max(0, ...layout.fields.map((f) => f.size)) : layout.size - holes.reduce((s, g) => s + g.size, 0);
  lines.push('');
  lines.push(`\t/* size: ${layout.size}, cachelines: ${Math.ceil(layout.size / CACHELINE)}, members: ${layout.fields.length} */`);
  if (holeList.length) lines.push(`\t/* sum members: ${sumMembers}, holes: ${holeList.length}, sum holes: ${holeList.reduce((s, g) => s + g.size, 0)} */`);
  if (padding) lines.push(`\t/* padding: ${padding.size} */`);
  if (layout.size % CACHELINE) lines.push(`\t/* last cacheline: ${layout.size % CACHELINE} bytes */`);
  lines.push(`};  /* align: ${layout.align} */`);
  return lines.join('\n') + '\n';
}

// Kernel data the Image refers to but does not define (issue 15): each undefined data symbol
// has zero-filled storage of its own (emulator/loader/elf/link.ts); here the globals that the
// emulated memory map implies get consistent values (the direct map's PAGE_OFFSET, phys_base,
// vmemmap_base, the per-CPU offsets and CPU masks), per-CPU areas are laid out as the kernel
// lays them out (a copy of the zero-based per-CPU template at each CPU's GS base), and the
// `data` launch attribute sets values: a number, bytes, or a struct initialiser by DWARF type;
// for per-CPU data `name@N` (`@N-M`, `@N,M`, `@*`) picks the CPUs' copies, CPU 0's by default.

import type { Image, StructLayout, FieldLayout, UndefinedDataSymbol } from '../loader/image';
import type { Machine } from '../machine';
import { ConfigError } from './config';

/** One `data` entry: an integer (number, numeric string or constant name), bytes, or struct fields by path. */
export type DataSpec = number | string | number[] | Record<string, number | string>;

/** Where the kernel's x86-64 address-space constants put things (4-level paging, no KASLR). */
export const KERNEL_MAP = {
  /** page_offset_base: the direct map of all physical memory. */
  pageOffset: 0xffff_8880_0000_0000n,
  /** vmemmap_base: the struct page array. */
  vmemmap: 0xffff_ea00_0000_0000n,
  /** __START_KERNEL_map: the kernel image map (phys_base 0: the image at its link address). */
  startKernelMap: 0xffff_ffff_8000_0000n,
  /** sizeof(struct page) on x86-64. */
  pageStruct: 64n,
} as const;

/** The per-CPU areas: one copy of the template per CPU, `stride` bytes apart from `base`. */
export interface PerCpuLayout {
  base: bigint;
  stride: bigint;
  cpus: number;
  /** Bytes of the template (the kernel's head, the objects' .data..percpu, undefined per-CPU data). */
  size: number;
}

/** The stack canary's value in every CPU's fixed_percpu_data (%gs:40): any constant works. */
const STACK_CANARY = 0x5ca1ab1e_0ddba11n;

/** Where each undefined data symbol's value came from, for the debug console and `run`. */
export interface DataNote {
  name: string;
  text: string;
}

/** Size of the per-CPU template of an Image. */
export function perCpuTemplateSize(image: Image): number {
  let end = 64;
  for (const s of image.sections) if (s.perCpu) end = Math.max(end, Number(s.address) + s.bytes.length);
  return end;
}

/** Maps the per-CPU areas, copies the template into each, and sets their fixed head (canary). */
export function setUpPerCpu(m: Machine, image: Image, layout: PerCpuLayout): void {
  for (let k = 0; k < layout.cpus; k++) {
    const base = layout.base + BigInt(k) * layout.stride;
    m.map(base, Number(layout.stride), 'rw', k === 0 ? 'percpu' : `percpu cpu${k}`);
    for (const s of image.sections) if (s.perCpu && s.bytes.length) m.writeBytes(base + s.address, s.bytes);
    m.writeBytes(base + 40n, le(STACK_CANARY, 8));
  }
}

/**
 * Gives the undefined data symbols their defaults and the `data` values. Returns what each
 * undefined data symbol holds, in words for the user. Throws ConfigError for a bad `data` entry.
 */
export function initialiseData(
  m: Machine, image: Image, pcpu: PerCpuLayout, data: Record<string, DataSpec>,
  resolve: (text: string | number, attribute: string) => bigint,
): DataNote[] {
  const notes: DataNote[] = [];
  const undef = new Map((image.undefinedData ?? []).map((u) => [u.name, u]));
  const cpuBase = (k: number) => pcpu.base + BigInt(k) * pcpu.stride;
  /** Writes `bytes` at the symbol (per-CPU data: in the copy of each CPU of `cpus`, every CPU when absent). */
  const put = (u: { address: bigint; perCpu: boolean }, offset: number, bytes: Uint8Array | ((cpu: number) => Uint8Array), cpus?: number[]) => {
    if (!u.perCpu) { m.writeBytes(u.address + BigInt(offset), typeof bytes === 'function' ? bytes(0) : bytes); return; }
    for (const k of cpus ?? [...Array(pcpu.cpus).keys()]) m.writeBytes(cpuBase(k) + u.address + BigInt(offset), typeof bytes === 'function' ? bytes(k) : bytes);
  };
  const mask = (n: number, size: number) => { const b = new Uint8Array(size); for (let k = 0; k < n && k < size * 8; k++) b[k >> 3] |= 1 << (k & 7); return b; };

  // Defaults the memory map implies.
  const defaults: Record<string, { value: (u: UndefinedDataSymbol) => Uint8Array | ((cpu: number) => Uint8Array); why: string }> = {
    page_offset_base: { value: (u) => le(KERNEL_MAP.pageOffset, u.size), why: '0xffff888000000000, the direct map (PAGE_OFFSET): __va()/__pa() match the emulated memory' },
    phys_base: { value: (u) => le(0n, u.size), why: '0: the kernel image at its link address (__START_KERNEL_map + physical address)' },
    vmemmap_base: { value: (u) => le(KERNEL_MAP.vmemmap, u.size), why: '0xffffea0000000000, the struct page array (VMEMMAP_START)' },
    physical_mask: { value: (u) => le((1n << 52n) - 1n, u.size), why: '2^52 - 1: all 52 physical address bits' },
    __per_cpu_offset: { value: (u) => { const b = new Uint8Array(u.size); for (let k = 0; k < pcpu.cpus && (k + 1) * 8 <= u.size; k++) b.set(le(cpuBase(k), 8), k * 8); return b; }, why: `each CPU's per-CPU area (${pcpu.cpus} CPU${pcpu.cpus === 1 ? '' : 's'})` },
    this_cpu_off: { value: () => (k: number) => le(cpuBase(k), 8), why: 'the CPU\'s own per-CPU area' },
    cpu_number: { value: () => (k: number) => le(BigInt(k), 4), why: 'the CPU\'s number' },
    nr_cpu_ids: { value: (u) => le(BigInt(pcpu.cpus), u.size), why: `${pcpu.cpus} CPU${pcpu.cpus === 1 ? '' : 's'} ("cpus")` },
    __cpu_online_mask: { value: (u) => mask(pcpu.cpus, u.size), why: `CPUs 0-${pcpu.cpus - 1} online` },
    __cpu_present_mask: { value: (u) => mask(pcpu.cpus, u.size), why: `CPUs 0-${pcpu.cpus - 1} present` },
    __cpu_possible_mask: { value: (u) => mask(pcpu.cpus, u.size), why: `CPUs 0-${pcpu.cpus - 1} possible` },
    __cpu_active_mask: { value: (u) => mask(pcpu.cpus, u.size), why: `CPUs 0-${pcpu.cpus - 1} active` },
  };
  const entries = Object.entries(data).map(([key, spec]) => ({ key, spec, ...splitDataKey(key) }));
  for (const u of undef.values()) {
    const d = defaults[u.name];
    const where = u.perCpu ? `per-CPU data (%gs:0x${u.address.toString(16)})` : `0x${u.address.toString(16)}`;
    const size = `${u.size} bytes${u.sizedBy === 'default' ? ' (size unknown: no DWARF declaration gives it)' : ''}`;
    const set = entries.filter((e) => e.name === u.name).map((e) => e.key);
    const by = set.length ? `, set by "data" (${set.map((k) => `"${k}"`).join(', ')})` : '';
    if (d) {
      put(u, 0, d.value(u));
      notes.push({ name: u.name, text: `undefined data symbol ${u.name}: ${size} at ${where}, set to ${d.why}${by}` });
    } else notes.push({ name: u.name, text: `undefined data symbol ${u.name}: ${size} at ${where}, ${set.length ? `zero-filled${by}` : 'zero-filled — give it a value with "data"'}` });
  }

  // The `data` attribute: undefined data symbols, or any data symbol of the image.
  for (const { key, spec, name, cpuSpec } of entries) {
    const attr = `data.${key}`;
    let target: { address: bigint; perCpu: boolean; size: number; type?: string } | undefined = undef.get(name);
    if (!target) {
      const s = image.symbols.find((x) => x.name === name && x.type !== 'func' && !image.undefinedSymbols.includes(x.name));
      if (s) target = { address: s.address, perCpu: s.section !== undefined && /^\.data\.\.percpu/.test(s.section), size: s.size ?? 0 };
    }
    if (!target) {
      const known = [...undef.keys()];
      const code = image.undefinedSymbols.includes(name);
      throw new ConfigError(attr, code
        ? `names '${name}', which the program calls (a function: give it a stub in "stubs", not "data")`
        : `names '${name}', which is not a data symbol of the program${known.length ? ` (undefined data: ${known.join(', ')})` : ''}`);
    }
    const t = target;
    // Per-CPU data: the copies of the CPUs the key names (`name@1`, `name@0-3`, `name@*`), CPU 0 (the one running the entry) by default.
    let cpus: number[] | undefined;
    if (cpuSpec !== undefined && !t.perCpu) throw new ConfigError(attr, `names CPUs ("@${cpuSpec}"), but ${name} is not per-CPU data (one copy): write "${name}"`);
    if (t.perCpu) cpus = cpuSpec === undefined ? [0] : parseCpuList(cpuSpec, pcpu.cpus, attr);
    if (Array.isArray(spec)) {
      if (!spec.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) throw new ConfigError(attr, 'as an array must hold bytes (integers 0-255)');
      if (t.size && spec.length > t.size) throw new ConfigError(attr, `gives ${spec.length} bytes, but ${name} is ${t.size} bytes`);
      put(t, 0, Uint8Array.from(spec), cpus);
    } else if (typeof spec === 'object' && spec !== null) {
      const layout = structOf(image, t.type);
      if (!layout) throw new ConfigError(attr, `is a struct initialiser, but ${name}'s type ${t.type ? `(${t.type}) ` : ''}has no struct layout in the program's DWARF: give a number or bytes`);
      for (const [path, value] of Object.entries(spec)) {
        const f = fieldAt(layout, path);
        if (!f) throw new ConfigError(`${attr}.${path}`, `is not a field of ${layout.name} (fields: ${layout.fields.map((x) => x.name).filter(Boolean).join(', ')})`);
        if (f.bitWidth !== undefined) throw new ConfigError(`${attr}.${path}`, 'is a bit-field; set the containing storage instead');
        const v = resolve(value, `${attr}.${path}`);
        checkFits(v, f.size, `${attr}.${path}`, `${layout.name}.${path}`);
        put(t, f.offset, le(v, Math.min(f.size, 8)), cpus);
      }
    } else {
      const v = resolve(spec, attr);
      const size = t.size || 8;
      if (size > 8) throw new ConfigError(attr, `is one number, but ${name} is ${size} bytes${t.type ? ` (${t.type})` : ''}: give bytes or a struct initialiser`);
      checkFits(v, size, attr, name);
      put(t, 0, le(v, size), cpus);
    }
  }
  return notes;
}

/** A `data` key: the symbol, and the CPUs after `@` for per-CPU data (`tdx_lp_initialized@1`). */
export function splitDataKey(key: string): { name: string; cpuSpec?: string } {
  const at = key.lastIndexOf('@');
  return at > 0 ? { name: key.slice(0, at), cpuSpec: key.slice(at + 1) } : { name: key };
}

/** `*`, `all`, or a comma list of CPU numbers and ranges (`0,2-3`), each below `cpus`. */
export function parseCpuList(spec: string, cpus: number, attr: string): number[] {
  if (spec === '*' || spec === 'all') return [...Array(cpus).keys()];
  const out = new Set<number>();
  for (const part of spec.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new ConfigError(attr, `"@${spec}" is not a CPU list: write @N, @N-M, @N,M or @* (all CPUs)`);
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new ConfigError(attr, `"@${spec}": the range ${a}-${b} is empty`);
    if (b >= cpus) throw new ConfigError(attr, `"@${spec}" names CPU ${b}, but there ${cpus === 1 ? 'is 1 CPU' : `are ${cpus} CPUs`} (0-${cpus - 1}; set "cpus" for more)`);
    for (let k = a; k <= b; k++) out.add(k);
  }
  return [...out].sort((x, y) => x - y);
}

function checkFits(v: bigint, size: number, attr: string, what: string): void {
  if (size >= 8) return;
  const max = 1n << BigInt(8 * size);
  const s = BigInt.asIntN(64, v);
  if (!(s >= -(max >> 1n) && s < max)) throw new ConfigError(attr, `is 0x${BigInt.asUintN(64, v).toString(16)}, which does not fit ${what}'s ${size} byte${size === 1 ? '' : 's'}`);
}

function structOf(image: Image, type: string | undefined): StructLayout | undefined {
  if (!type) return undefined;
  const name = type.replace(/^(struct|union)\s+/, '');
  return image.structs.get(name);
}

/** A field by path (`a.b`, `x86_capability[7]`), with array elements resolved to their offset and size. */
export function fieldAt(layout: StructLayout, path: string): FieldLayout | undefined {
  let fields = layout.fields;
  let found: FieldLayout | undefined;
  for (const part of path.split('.')) {
    const m = /^([A-Za-z_]\w*)((?:\[\d+\])*)$/.exec(part);
    if (!m) return undefined;
    const f = find(fields, m[1]);
    if (!f) return undefined;
    found = f;
    if (m[2]) {
      const idx = [...m[2].matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1]));
      const dims = [...f.type.matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1]));
      if (idx.length > dims.length) return undefined;
      const count = dims.reduce((a, b) => a * b, 1);
      const elem = count ? f.size / count : 0;
      let off = 0, stride = count;
      for (let k = 0; k < idx.length; k++) {
        stride /= dims[k];
        if (idx[k] >= dims[k]) return undefined;
        off += idx[k] * stride;
      }
      let type = f.type;
      for (let k = 0; k < idx.length; k++) type = type.replace(/\[\d+\]/, '');
      found = { ...f, offset: f.offset + off * elem, size: stride * elem, type, fields: undefined };
    }
    fields = found.fields ?? [];
  }
  return found;
}

function find(fields: FieldLayout[], name: string): FieldLayout | undefined {
  for (const f of fields) {
    if (f.name === name) return f;
    if (f.name === '' && f.fields) { const x = find(f.fields, name); if (x) return x; }
  }
  return undefined;
}

function le(v: bigint, size: number): Uint8Array {
  const b = new Uint8Array(size);
  let x = BigInt.asUintN(64, v);
  for (let k = 0; k < size && k < 8; k++) { b[k] = Number(x & 0xffn); x >>= 8n; }
  return b;
}

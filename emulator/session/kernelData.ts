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

/** What boot_cpu_data's default comes from: the emulated CPU's CPUID and the platform the configuration sets up. */
export interface CpuIdentity {
  cpuid: (leaf: number, subleaf: number) => readonly number[];
  context: 'guest' | 'host' | 'none';
  /** The BIOS enabled TDX (the host's KeyIDs are partitioned: the kernel's tdx_init() forces TDX_HOST_PLATFORM). */
  tdxBios: boolean;
  /** The kernel generation (TDX_HOST_PLATFORM exists from 6.8: G4 and later). */
  generation?: string;
}

/**
 * The x86_capability words the kernel fills straight from CPUID (arch/x86/include/asm/cpufeatures.h,
 * the same in 6.1 and 6.12): word, leaf, sub-leaf, register (0 EAX, 1 EBX, 2 ECX, 3 EDX).
 */
const CAPABILITY_WORDS: [number, number, number, number][] = [
  [0, 0x1, 0, 3], [1, 0x80000001, 0, 3], [4, 0x1, 0, 2], [6, 0x80000001, 0, 2], [9, 0x7, 0, 1], [16, 0x7, 0, 2], [18, 0x7, 0, 3],
];
/** Linux-defined feature bits the TDX code tests (cpufeatures.h: word * 32 + bit). */
export const X86_FEATURE = { HYPERVISOR: 4 * 32 + 31, TDX_HOST_PLATFORM: 7 * 32 + 7, TDX_GUEST: 8 * 32 + 22 } as const;

/**
 * boot_cpu_data (struct cpuinfo_x86, laid out by the object's DWARF) as the kernel would have
 * filled it at boot on the emulated CPU: vendor, family/model/stepping, CPUID levels, address
 * widths, cache line, the CPUID capability words, and the TDX feature bits the configured
 * platform implies (TDX_GUEST in a TD guest — tdx_early_init() forces it when CPUID 0x21 says
 * "IntelTDX"; TDX_HOST_PLATFORM on a host whose BIOS enabled TDX — tdx_init() forces it).
 */
export function bootCpuData(layout: StructLayout, size: number, id: CpuIdentity): { bytes: Uint8Array; why: string } {
  const b = new Uint8Array(size);
  const set = (path: string, v: bigint | number, what?: string[]) => {
    const f = fieldAt(layout, path);
    if (!f || f.bitWidth !== undefined || f.offset + Math.min(f.size, 8) > size) return false;
    b.set(le(BigInt(v), Math.min(f.size, 8)), f.offset);
    what?.push(path);
    return true;
  };
  const r = (leaf: number, sub = 0) => id.cpuid(leaf, sub).map((x) => x >>> 0);
  const [maxLeaf, vb, vc, vd] = r(0);
  const vendor = [vb, vd, vc].map((x) => String.fromCharCode(x & 0xff, (x >> 8) & 0xff, (x >> 16) & 0xff, x >>> 24)).join('');
  const maxExt = r(0x80000000)[0];
  const [eax1, ebx1] = r(1);
  const baseFamily = (eax1 >> 8) & 0xf;
  const family = baseFamily === 0xf ? baseFamily + ((eax1 >> 20) & 0xff) : baseFamily;
  const model = baseFamily >= 6 ? ((eax1 >> 4) & 0xf) | (((eax1 >> 16) & 0xf) << 4) : (eax1 >> 4) & 0xf;
  const stepping = eax1 & 0xf;
  const widths = maxExt >= 0x80000008 ? r(0x80000008)[0] : 0;
  const clflush = ((ebx1 >> 8) & 0xff) * 8;
  const fields: string[] = [];
  set('x86_vendor', vendor === 'GenuineIntel' ? 0 : vendor === 'AuthenticAMD' ? 2 : 0xff, fields); // X86_VENDOR_INTEL 0, _AMD 2, _UNKNOWN 0xff
  set('x86', family, fields); set('x86_model', model, fields); set('x86_stepping', stepping, fields);
  set('cpuid_level', maxLeaf, fields); set('extended_cpuid_level', maxExt, fields);
  if (widths) { set('x86_phys_bits', widths & 0xff, fields); set('x86_virt_bits', (widths >> 8) & 0xff, fields); }
  if (clflush) { set('x86_clflush_size', clflush, fields); set('x86_cache_alignment', clflush, fields); }
  const vid = fieldAt(layout, 'x86_vendor_id');
  if (vid && vid.offset + 12 <= size) { b.set(Buffer.from(vendor, 'latin1'), vid.offset); fields.push('x86_vendor_id'); }
  const caps = fieldAt(layout, 'x86_capability');
  const words: string[] = [];
  const forced: string[] = [];
  if (caps) {
    const nwords = Math.floor(caps.size / 4);
    const or = (word: number, v: number) => {
      if (word >= nwords) return false;
      const at = caps.offset + word * 4;
      const old = b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);
      b.set(le(BigInt((old | v) >>> 0), 4), at);
      return true;
    };
    for (const [word, leaf, sub, reg] of CAPABILITY_WORDS) {
      if (leaf < 0x80000000 ? leaf > maxLeaf : leaf > maxExt) continue;
      if (or(word, r(leaf, sub)[reg])) words.push(String(word));
    }
    const force = (name: keyof typeof X86_FEATURE) => { const n = X86_FEATURE[name]; if (or(n >> 5, 1 << (n & 31))) forced.push(`${name} (${n >> 5}*32+${n & 31})`); };
    const tdxLeaf = maxLeaf >= 0x21 ? r(0x21) : [0, 0, 0, 0];
    const sig = [tdxLeaf[1], tdxLeaf[3], tdxLeaf[2]].map((x) => String.fromCharCode(x & 0xff, (x >> 8) & 0xff, (x >> 16) & 0xff, x >>> 24)).join('');
    if (id.context === 'guest' && sig === 'IntelTDX    ') force('TDX_GUEST');
    if (id.context === 'host' && id.tdxBios && !/^G[0-3]$/.test(id.generation ?? '')) force('TDX_HOST_PLATFORM');
  }
  const hyper = caps && (b[caps.offset + 16 + 3] & 0x80) !== 0 ? ', HYPERVISOR (4*32+31)' : '';
  const why = `the emulated CPU as the kernel fills it at boot: ${vendor} family ${family} model 0x${model.toString(16)} stepping ${stepping}, ` +
    `cpuid_level 0x${maxLeaf.toString(16)}${widths ? `, ${widths & 0xff} physical / ${(widths >> 8) & 0xff} virtual address bits` : ''}` +
    `${words.length ? `, x86_capability words ${words.join(', ')} from CPUID` : ''}` +
    `; TDX feature bits: ${forced.length ? forced.join(', ') : 'none'}${hyper} (from "context" and "platform"; change any field with "data", e.g. { "x86_capability[7]": 0 })`;
  return { bytes: b, why };
}

/** What the defaults of the task and CPU globals need from the session. */
export interface KernelDataEnv {
  cpu?: CpuIdentity;
  /** Zeroed memory for each CPU's current task (a task_struct the code may point at; its contents are not modelled). */
  allocate?: (size: number) => bigint;
  /** Top of the stack the entry function runs on (pcpu_hot.top_of_stack). */
  stackTop?: bigint;
}

/** x86's preempt_count of a task running with preemption enabled: PREEMPT_ENABLED, the inverted PREEMPT_NEED_RESCHED bit (arch/x86/include/asm/preempt.h). */
const PREEMPT_ENABLED = 0x80000000n;
/** Bytes given to each CPU's current task when the DWARF has no struct task_struct. */
const TASK_BYTES = 16384;

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
  resolve: (text: string | number, attribute: string) => bigint, env: KernelDataEnv = {},
): DataNote[] {
  const cpu = env.cpu;
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
  const cpuinfo = cpu && undef.get('boot_cpu_data') && structOf(image, undef.get('boot_cpu_data')!.type);
  if (cpu && cpuinfo) {
    const boot = bootCpuData(cpuinfo, undef.get('boot_cpu_data')!.size, cpu);
    defaults.boot_cpu_data = { value: () => boot.bytes, why: boot.why };
  }
  // The current task of each CPU (6.1's per-CPU current_task, 6.2+'s pcpu_hot.current_task) and pcpu_hot's other fields.
  const wantsTask = undef.has('current_task') || undef.has('pcpu_hot');
  const tasks: bigint[] = [];
  if (wantsTask && env.allocate) {
    const size = image.structs.get('task_struct')?.size || TASK_BYTES;
    for (let k = 0; k < pcpu.cpus; k++) tasks.push(env.allocate(size));
  }
  const taskWhy = tasks.length ? `CPU k's current task: zeroed task_struct storage (CPU 0: 0x${tasks[0].toString(16)}; its fields are not modelled)` : 'NULL (no task modelled)';
  if (undef.has('current_task')) defaults.current_task = { value: () => (k: number) => le(tasks[k] ?? 0n, 8), why: taskWhy };
  const hot = undef.get('pcpu_hot');
  if (hot) {
    const layout = structOf(image, hot.type);
    // Without DWARF: the offsets every 6.2+ layout shares (current_task 0, preempt_count 8, cpu_number 12).
    const off = (f: string, dflt?: number) => (layout ? fieldAt(layout, f)?.offset : dflt);
    defaults.pcpu_hot = {
      value: (u) => (k: number) => {
        const b = new Uint8Array(u.size);
        const at = (f: string, v: bigint, size: number, dflt?: number) => { const o = off(f, dflt); if (o !== undefined && o + size <= u.size) b.set(le(v, size), o); };
        at('current_task', tasks[k] ?? 0n, 8, 0);
        at('preempt_count', PREEMPT_ENABLED, 4, 8);
        at('cpu_number', BigInt(k), 4, 12);
        if (env.stackTop !== undefined && k === 0) at('top_of_stack', env.stackTop, 8);
        return b;
      },
      why: `each CPU's: current_task = ${taskWhy}, preempt_count = PREEMPT_ENABLED (0x80000000), cpu_number = the CPU${env.stackTop !== undefined && (!layout || off('top_of_stack') !== undefined) ? `, top_of_stack = 0x${env.stackTop.toString(16)} (CPU 0's stack)` : ''}`,
    };
  }
  if (undef.has('__preempt_count')) defaults.__preempt_count = { value: () => () => le(PREEMPT_ENABLED, 4), why: 'PREEMPT_ENABLED (0x80000000): preemption enabled, no reschedule pending' };
  // The per-CPU cpu_info (per_cpu(cpu_info, cpu)): each CPU as the boot CPU, same layout.
  const pcInfo = cpu && undef.get('cpu_info') && structOf(image, undef.get('cpu_info')!.type);
  if (cpu && pcInfo) {
    const info = bootCpuData(pcInfo, undef.get('cpu_info')!.size, cpu);
    defaults.cpu_info = { value: () => info.bytes, why: `each CPU's copy: ${info.why}` };
  }
  for (const u of undef.values()) {
    const twin = [...undef.values()].find((x) => x !== u && x.address === u.address && x.perCpu === u.perCpu && x.name === 'pcpu_hot');
    if (twin) { notes.push({ name: u.name, text: `undefined data symbol ${u.name}: the same storage as ${twin.name} (the kernel's linker script aliases them)` }); continue; }
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

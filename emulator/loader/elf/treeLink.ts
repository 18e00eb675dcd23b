// Linking from a kernel build tree, loading only what the run can reach: starting at the
// functions the run starts in (the entry, the `before` functions, stub `call` targets, named
// data), every relocation inside a reached function or data object is followed; a symbol the
// loaded objects do not define is looked up in an index of the tree's other objects (their
// defined symbols), and the object defining it is loaded — then walked from that symbol only.
// An object none of whose symbols is reached stays out, even when it defines something a
// loaded object refers to from code the run cannot reach (that reference keeps its stub).

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeRun } from '../../decode/decoder';
import { K } from '../../decode/insn';
import {
  ElfFile, ET_REL, SHF_ALLOC, SHF_EXECINSTR, SHT_NOBITS, SHN_ABS, SHN_COMMON, SHN_UNDEF, SHT_REL, SHT_RELA, STB_LOCAL, STB_WEAK, STT_FUNC, STT_OBJECT, STT_SECTION,
} from './elfFile';

const R_PC32 = 2, R_PLT32 = 4, R_GOTPCREL = 9, R_GOTPCRELX = 41, R_REX_GOTPCRELX = 42;
/** Objects larger than this are not indexed (a kernel object with debug info is a few MB at most). */
const MAX_INDEXED_OBJECT = 64 * 1024 * 1024;

/** Why an object of the tree was linked: the symbol that made the run reach it, and from where. */
export interface TreeLinkReason {
  object: string;
  symbol: string;
  /** The function or data object whose relocation reached it (`tdx_mcall_get_report0`), or the root kind. */
  from: string;
}

export interface TreeLinkResult {
  /** Objects of the tree to link, in the order they were reached. */
  added: TreeLinkReason[];
  /** Objects indexed (the candidates), and how many of them came from the index cache (unchanged since the last launch). */
  indexed: number;
  cached: number;
  /** Candidates the run does not reach (not loaded). */
  skipped: string[];
  /** Symbols still undefined after the walk that the tree defines in an object not loaded (never, by construction) — kept for messages. */
  definedElsewhere: Map<string, string>;
  /** Milliseconds spent indexing and walking. */
  indexMs: number;
  walkMs: number;
}

interface Loaded {
  path: string;
  elf: ElfFile;
  /** Sized function/object symbols per section, sorted by start. */
  units: Map<number, { start: bigint; end: bigint; name: string }[]>;
  /** Relocation sections by the section they apply to. */
  relocs: Map<number, number[]>;
  /** Global definitions: name → section and value. */
  defs: Map<string, { shndx: number; value: bigint; weak: boolean }>;
}

function open(path: string): Loaded | undefined {
  let elf: ElfFile;
  try {
    if (statSync(path).size > MAX_INDEXED_OBJECT) return undefined;
    elf = new ElfFile(path, readFileSync(path));
  } catch { return undefined; }
  if (elf.type !== ET_REL) return undefined;
  const units = new Map<number, { start: bigint; end: bigint; name: string }[]>();
  const defs = new Map<string, { shndx: number; value: bigint; weak: boolean }>();
  for (const y of elf.symbols) {
    if (y.index === 0 || !y.name || y.shndx === SHN_UNDEF) continue;
    if (y.bind !== STB_LOCAL && !defs.has(y.name)) defs.set(y.name, { shndx: y.shndx, value: y.value, weak: y.bind === STB_WEAK });
    if ((y.type === STT_FUNC || y.type === STT_OBJECT) && y.size > 0n && y.shndx < elf.sections.length) {
      const list = units.get(y.shndx) ?? [];
      list.push({ start: y.value, end: y.value + y.size, name: y.name });
      units.set(y.shndx, list);
    }
  }
  for (const l of units.values()) l.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const relocs = new Map<number, number[]>();
  for (const s of elf.sections) {
    if (s.type !== SHT_RELA && s.type !== SHT_REL) continue;
    const list = relocs.get(s.info) ?? [];
    list.push(s.index);
    relocs.set(s.info, list);
  }
  return { path, elf, units, relocs, defs };
}

/** Each indexed object's global definitions, kept while its size and modification time stay the same. */
const indexCache = new Map<string, { mtimeMs: number; size: number; defs: [string, boolean][] }>();
const MAX_CACHED_INDEXES = 4096;

function indexEntry(path: string): { defs: [string, boolean][]; cached: boolean } | undefined {
  let st;
  try { st = statSync(path); } catch { return undefined; }
  const hit = indexCache.get(path);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return { defs: hit.defs, cached: true };
  const o = open(path);
  if (!o) return undefined;
  const defs: [string, boolean][] = [...o.defs].map(([n, d]) => [n, d.weak]);
  if (indexCache.size >= MAX_CACHED_INDEXES) indexCache.delete(indexCache.keys().next().value as string);
  indexCache.set(path, { mtimeMs: st.mtimeMs, size: st.size, defs });
  return { defs, cached: false };
}

/** The kbuild objects of `dirs` other than `exclude` (not `.mod.o`, not archives). */
export function treeCandidates(dirs: string[], exclude: Set<string>): string[] {
  const out: string[] = [];
  for (const dir of dirs) {
    let names: string[] = [];
    try { names = readdirSync(dir); } catch { continue; }
    for (const n of names.sort()) {
      const p = join(dir, n);
      if (n.endsWith('.o') && !n.endsWith('.mod.o') && !exclude.has(p)) out.push(p);
    }
  }
  return out;
}

export interface TreeLinkRoots {
  /** Function or data names the run starts from or names (entry, before, stub calls, data). Empty: every allocated section of `objects`. */
  names: string[];
  /** Names the configuration stubs: never taken from the tree (the user's stub wins over the tree's definition). */
  stubbed?: string[];
}

/**
 * Which of `candidates` (the tree's other objects) the run can reach from `roots` in `objects`
 * (the objects the user named). The walk follows relocations per function or data object
 * (per section where no sized symbol covers the place).
 */
export function linkReachable(objects: string[], candidates: string[], roots: TreeLinkRoots): TreeLinkResult {
  const t0 = Date.now();
  // The index: each candidate's global definitions (the first definition of a name wins; a strong one over a weak one).
  const index = new Map<string, { path: string; weak: boolean }>();
  const indexed: string[] = [];
  let cached = 0;
  for (const p of candidates) {
    const e = indexEntry(p);
    if (!e) continue;
    indexed.push(p);
    if (e.cached) cached++;
    for (const [name, weak] of e.defs) {
      const had = index.get(name);
      if (!had || (had.weak && !weak)) index.set(name, { path: p, weak });
    }
  }
  const t1 = Date.now();

  const stubbed = new Set(roots.stubbed ?? []);
  const loaded: Loaded[] = [];
  const loadedPaths = new Set<string>();
  for (const p of objects) { const o = open(p); if (o) { loaded.push(o); loadedPaths.add(p); } }
  const added: TreeLinkReason[] = [];
  const visited = new Set<string>();
  const queue: { o: Loaded; shndx: number; start: bigint; end: bigint; name: string }[] = [];

  const reachAt = (o: Loaded, shndx: number, off: bigint, onlySized = false) => {
    const sec = o.elf.sections[shndx];
    if (!sec || !(sec.flags & SHF_ALLOC)) return;
    const u = o.units.get(shndx)?.find((x) => off >= x.start && off < x.end);
    if (!u && onlySized) return;
    const unit = u ?? { start: 0n, end: BigInt(o.elf.memSize(sec)) + 1n, name: sec.name };
    const key = `${o.path}\0${shndx}\0${unit.start}\0${unit.end}`;
    if (visited.has(key)) return;
    visited.add(key);
    queue.push({ o, shndx, ...unit });
  };
  /** A global name: a loaded object's definition (strong first), else the tree's (loading its object). */
  const reachName = (name: string, from: string) => {
    let def: { o: Loaded; shndx: number; value: bigint } | undefined;
    for (const o of loaded) {
      const d = o.defs.get(name);
      if (d && (!def || !d.weak)) { def = { o, shndx: d.shndx, value: d.value }; if (!d.weak) break; }
    }
    if (!def) {
      if (stubbed.has(name)) return;
      const hit = index.get(name);
      if (!hit || loadedPaths.has(hit.path)) return;
      const o = open(hit.path);
      if (!o) return;
      loaded.push(o);
      loadedPaths.add(hit.path);
      added.push({ object: hit.path, symbol: name, from });
      const d = o.defs.get(name)!;
      def = { o, shndx: d.shndx, value: d.value };
    }
    if (def.shndx === SHN_ABS || def.shndx === SHN_COMMON) return;
    reachAt(def.o, def.shndx, def.value);
  };

  if (roots.names.length === 0) {
    // Every byte of the program's objects may run: each allocated section is one unit.
    for (const o of [...loaded]) {
      for (const s of o.elf.sections) {
        if (!(s.flags & SHF_ALLOC)) continue;
        const end = BigInt(o.elf.memSize(s)) + 1n;
        visited.add(`${o.path}\0${s.index}\0${0n}\0${end}`);
        queue.push({ o, shndx: s.index, start: 0n, end, name: s.name });
      }
    }
  } else {
    for (const n of roots.names) reachName(n, 'the launch configuration');
  }
  while (queue.length) {
    const u = queue.shift()!;
    const f = u.o.elf;
    const sec = f.sections[u.shndx];
    const relocs = (u.o.relocs.get(u.shndx) ?? []).flatMap((ri) => f.relocations(f.sections[ri])).filter((r) => r.offset >= u.start && r.offset < u.end);
    if (sec.flags & SHF_EXECINSTR && sec.type !== SHT_NOBITS) {
      // Direct calls and jumps to another function of the same section carry no relocation (the
      // assembler resolved them); a branch whose field is relocated is followed through its relocation.
      const data = f.data(sec);
      const end = Number(u.end > BigInt(data.length) ? BigInt(data.length) : u.end);
      const fields = new Set(relocs.map((r) => Number(r.offset)));
      const { insns } = decodeRun(data.subarray(Number(u.start), end), Number(u.start), Number.MAX_SAFE_INTEGER, () => false);
      for (const i of insns) {
        if (i.k0 !== K.IMM || !(i.mnemonic === 'call' || i.mnemonic.startsWith('j') || i.mnemonic.startsWith('loop'))) continue;
        if ([...Array(i.len).keys()].some((k) => fields.has(i.addr + k))) continue;
        const t = BigInt(i.target);
        if (t >= 0n && t < BigInt(data.length) && (t < u.start || t >= u.end)) reachAt(u.o, u.shndx, t);
      }
    }
    for (const r of relocs) {
      const y = f.symbols[r.sym];
      if (!y || r.sym === 0) continue;
      if (y.shndx === SHN_UNDEF) { reachName(y.name, u.name); continue; }
      if (y.shndx === SHN_ABS || y.shndx === SHN_COMMON) continue;
      if (y.type === STT_SECTION) {
        // A PC-relative reference's addend is the target less the 4 bytes to the end of the field.
        const pcrel = r.type === R_PC32 || r.type === R_PLT32 || r.type === R_GOTPCREL || r.type === R_GOTPCRELX || r.type === R_REX_GOTPCRELX;
        // An immediate after a rip-relative field moves the addend down by its size (1, 2 or 4 bytes): every place it may mean is reached.
        for (const k of pcrel ? [4n, 5n, 6n, 8n] : [0n]) reachAt(u.o, y.shndx, r.addend + k, k > 4n);
      } else if (y.bind !== STB_LOCAL) reachName(y.name, u.name); // a global defined here may be overridden by a strong definition
      else reachAt(u.o, y.shndx, y.value);
    }
  }
  const t2 = Date.now();
  const definedElsewhere = new Map<string, string>();
  for (const [name, d] of index) if (!loadedPaths.has(d.path)) definedElsewhere.set(name, d.path);
  return {
    added, indexed: indexed.length, cached, skipped: indexed.filter((p) => !loadedPaths.has(p)), definedElsewhere,
    indexMs: t1 - t0, walkMs: t2 - t1,
  };
}

/** The folders of `objects` (where kbuild puts the objects the tree links with them). */
export const foldersOf = (objects: string[]): string[] => [...new Set(objects.map((o) => dirname(o)))];

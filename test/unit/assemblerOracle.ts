// The oracle for the assembler tests: GNU as (through `gcc -c`) and `ld`. Each fixture is
// assembled by us and by gcc; the object is linked with ld at the addresses our Image chose
// (undefined symbols `--defsym`ed to our stub addresses), so relocations are resolved the
// same way, and the linked sections are read back from the ELF to compare byte for byte.
// Expected bytes never come from our own code.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Image } from '../../emulator/loader/image';
import { ListingRow } from '../../emulator/loader/assembler';

const run = promisify(execFile);

/** A section read back from an ELF file. */
export interface ElfSection {
  name: string;
  address: bigint;
  bytes: Uint8Array;
  /** sh_flags. */
  flags?: bigint;
}

/** Reads every section with its address from an ELF64 little-endian file. */
export function readElfSections(buf: Uint8Array): Map<string, ElfSection> {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const shoff = Number(dv.getBigUint64(0x28, true));
  const shentsize = dv.getUint16(0x3a, true);
  const shnum = dv.getUint16(0x3c, true);
  const shstrndx = dv.getUint16(0x3e, true);
  const hdr = (i: number) => {
    const o = shoff + i * shentsize;
    return {
      name: dv.getUint32(o, true),
      type: dv.getUint32(o + 4, true),
      flags: dv.getBigUint64(o + 8, true),
      addr: dv.getBigUint64(o + 0x10, true),
      offset: Number(dv.getBigUint64(o + 0x18, true)),
      size: Number(dv.getBigUint64(o + 0x20, true)),
    };
  };
  const strtab = hdr(shstrndx);
  const name = (off: number) => {
    let end = strtab.offset + off;
    while (buf[end]) end++;
    return Buffer.from(buf.subarray(strtab.offset + off, end)).toString('latin1');
  };
  const out = new Map<string, ElfSection>();
  for (let i = 1; i < shnum; i++) {
    const h = hdr(i);
    const bytes = h.type === 8 ? new Uint8Array(h.size) : buf.slice(h.offset, h.offset + h.size);
    out.set(name(h.name), { name: name(h.name), address: h.addr, bytes, flags: h.flags });
  }
  return out;
}

/** One fixture for the oracle. */
export interface OracleCase {
  name: string;
  /** `.s` (plain) or `.S` (through cpp). */
  ext: '.s' | '.S';
  source: string;
  image: Image;
  listing: ListingRow[];
  /** Extra gcc flags (include paths, -D). */
  flags?: string[];
}

/** Per-case outcome: empty `problems` means byte-exact. */
export interface OracleResult {
  name: string;
  problems: string[];
}

function describeDiff(c: Pick<OracleCase, 'name' | 'listing'>, section: string, ours: Uint8Array, theirs: Uint8Array, base: bigint): string {
  let i = 0;
  while (i < ours.length && i < theirs.length && ours[i] === theirs[i]) i++;
  const at = base + BigInt(i);
  const row = [...c.listing].reverse().find((r) => r.section === section && r.address <= at);
  const hex = (b: Uint8Array) => Buffer.from(b.subarray(Math.max(0, i - 4), i + 12)).toString('hex');
  return `${c.name}: ${section} differs at 0x${at.toString(16)} (lengths ${ours.length}/${theirs.length})` +
    `${row ? ` near line ${row.line} '${row.text}'` : ''}\n    ours: ${hex(ours)}\n    gas:  ${hex(theirs)}`;
}

/** Assembles every case with gcc in one invocation, links each with ld, compares sections and `__ex_table`. */
export async function compareWithGas(cases: OracleCase[]): Promise<OracleResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tdxdbg-asm-'));
  const files = cases.map((c, i) => {
    const f = join(dir, `f${i}${c.ext}`);
    writeFileSync(f, c.source);
    return f;
  });
  // One gcc run per distinct flag set (each kernel generation has its own headers).
  const groups = new Map<string, string[]>();
  cases.forEach((c, i) => {
    const key = JSON.stringify(c.flags ?? []);
    groups.set(key, [...(groups.get(key) ?? []), files[i]]);
  });
  await Promise.all([...groups].map(([flags, fs]) => run('gcc', ['-c', ...JSON.parse(flags), ...fs], { cwd: dir })));
  return Promise.all(cases.map((c, i) => compareWithObject(c, join(dir, `f${i}.o`), join(dir, `f${i}`))));
}

/**
 * Links an object made by GNU as (ours to compare with: a gcc -c of the case, or an object of a
 * kernel build) at the addresses of our Image, undefined symbols at our stub addresses, and
 * compares every section and the decoded `__ex_table`. `stem`: where the link's files go.
 */
export async function compareWithObject(c: Pick<OracleCase, 'name' | 'image' | 'listing'>, object: string, stem: string, opts: { symbols?: boolean } = {}): Promise<OracleResult> {
  let obj = object;
  const problems: string[] = [];
  const elf = `${stem}.elf`;
  // One output section per input section at our address: ld's default script would merge
  // .text.* into .text and move things around.
  const script = `${stem}.ld`;
  // Non-allocated sections we do not model (the kernel's .discard.* annotations) are dropped:
  // their 32-bit relocations cannot reach code placed at the kernel's addresses.
  const ours = new Set(c.image.sections.map((s) => s.name));
  const drop = [...readElfSections(readFileSync(obj)).values()]
    .filter((x) => x.flags !== undefined && (x.flags & 0x2n) === 0n && x.name.startsWith('.discard') && !ours.has(x.name))
    .map((x) => ` *(${x.name})`).join('');
  writeFileSync(script, `SECTIONS {\n${c.image.sections.map((s, k) => `  ${s.name} 0x${s.address.toString(16)} : { *(${s.name})${s.bytes.length ? '' : ` __keep_empty_${k} = .;`} }`).join('\n')}\n  /DISCARD/ : { *(.eh_frame) *(.comment) *(.note.*)${drop} }\n}\n`);
  const args = ['-o', elf, '-e', '0', '-z', 'noexecstack', '--no-warn-rwx-segments', '-T', script];
  for (const u of c.image.undefinedSymbols) {
    const sym = c.image.symbols.find((s) => s.name === u)!;
    args.push(`--defsym=${u}=0x${sym.address.toString(16)}`);
  }
  // ld merges duplicate strings of SHF_MERGE sections (`__ksymtab_strings`, "aMS"); the
  // object's bytes are what we compare, so the flag goes before linking.
  const merged = [...readElfSections(readFileSync(obj)).values()].filter((x) => x.flags !== undefined && (x.flags & 0x10n) !== 0n && (x.flags & 0x2n) !== 0n);
  if (merged.length) {
    const copy = `${stem}.merged.o`;
    await run('objcopy', [...merged.flatMap((x) => ['--set-section-flags', `${x.name}=alloc,load,readonly,data,contents`]), obj, copy]);
    obj = copy;
  }
  try {
    await run('ld', [...args, obj]);
  } catch (e) {
    return { name: c.name, problems: [`ld failed: ${(e as { stderr?: string }).stderr ?? e}`] };
  }
  const theirs = readElfSections(readFileSync(elf));
  for (const s of c.image.sections) {
    const t = theirs.get(s.name);
    if (!t && !s.bytes.length) continue;
    if (!t) {
      problems.push(`${c.name}: gas produced no section ${s.name}`);
      continue;
    }
    if (t.address !== s.address) problems.push(`${c.name}: ${s.name} linked at 0x${t.address.toString(16)}, ours at 0x${s.address.toString(16)}`);
    if (Buffer.compare(Buffer.from(s.bytes), Buffer.from(t.bytes)) !== 0) problems.push(describeDiff(c, s.name, s.bytes, t.bytes, s.address));
  }
  const names = new Set(c.image.sections.map((s) => s.name));
  for (const [n, t] of theirs) {
    const alloc = n.startsWith('.text') || n.startsWith('.data') || n.startsWith('.rodata') || n === '__ex_table';
    if (alloc && t.bytes.length && !names.has(n)) problems.push(`${c.name}: gas has section ${n} (${t.bytes.length} bytes) that we lack`);
  }
  // The resolved exception table, decoded from gas's bytes the way the kernel reads it.
  const ex = theirs.get('__ex_table');
  if (ex) {
    const dv = new DataView(ex.bytes.buffer, ex.bytes.byteOffset, ex.bytes.byteLength);
    const gasEntries = [];
    for (let o = 0; o + 12 <= ex.bytes.length; o += 12) {
      const at = ex.address + BigInt(o);
      gasEntries.push({ insn: at + BigInt(dv.getInt32(o, true)), fixup: at + 4n + BigInt(dv.getInt32(o + 4, true)), type: dv.getInt32(o + 8, true) });
    }
    const ours = JSON.stringify(c.image.exTable, (_, v) => (typeof v === 'bigint' ? v.toString(16) : v));
    const want = JSON.stringify(gasEntries, (_, v) => (typeof v === 'bigint' ? v.toString(16) : v));
    if (ours !== want) problems.push(`${c.name}: __ex_table entries differ\n    ours: ${ours}\n    gas:  ${want}`);
  }
  if (opts.symbols) problems.push(...(await compareSymbols(c, elf)));
  return { name: c.name, problems };
}

/**
 * The linked object's symbols in allocated sections (nm: name, address, global or local) against
 * ours: the same names at the same addresses with the same binding, none missing on either side.
 */
async function compareSymbols(c: Pick<OracleCase, 'name' | 'image'>, elf: string): Promise<string[]> {
  const { stdout } = await run('nm', ['--defined-only', elf]);
  const undef = new Set(c.image.undefinedSymbols);
  const theirs = new Map<string, string>();
  for (const l of stdout.split('\n')) {
    const m = /^([0-9a-f]+) (\w) (\S+)$/.exec(l);
    if (!m || /^[aA]$/.test(m[2]) || m[3].startsWith('__keep_empty_') || undef.has(m[3])) continue;
    theirs.set(m[3], `0x${BigInt('0x' + m[1]).toString(16)} ${m[2] === m[2].toUpperCase() ? 'global' : 'local'}`);
  }
  const ours = new Map<string, string>();
  for (const s of c.image.symbols) {
    if (s.section === undefined || s.type === 'section' || s.type === 'file' || undef.has(s.name) || s.name.startsWith('.L')) continue;
    ours.set(s.name, `0x${s.address.toString(16)} ${s.binding === 'local' ? 'local' : 'global'}`);
  }
  const problems: string[] = [];
  for (const [n, v] of theirs) {
    const o = ours.get(n);
    if (o === undefined) problems.push(`${c.name}: symbol ${n} (${v}) is missing from ours`);
    else if (o !== v) problems.push(`${c.name}: symbol ${n} is ${o} in ours, ${v} in the object`);
  }
  for (const [n, v] of ours) if (!theirs.has(n)) problems.push(`${c.name}: symbol ${n} (${v}) is ours only`);
  return problems;
}

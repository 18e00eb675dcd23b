// Test helpers for the ELF/DWARF loader: compile our fixture sources with the host gcc
// (cached under .cache/ by a hash of sources, flags and gcc version), link the same objects
// with GNU ld at the loader's own placement, and read what binutils says about the result.
// Everything runs with argument arrays, never a shell.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fromRoot } from '../support/paths';
import type { ElfLoadResult } from '../../emulator/loader/loadElf';

export const FIXTURES = fromRoot('test', 'fixtures', 'elf');

let gccVersion: string | undefined;
function toolVersions(): string {
  gccVersion ??= execFileSync('gcc', ['--version'], { encoding: 'utf8' }).split('\n')[0] + execFileSync('as', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  return gccVersion;
}

/**
 * Compiles `sources` (names in the fixture folder) with one gcc run and returns the object
 * paths, in order. Objects are cached under .cache/elf-fixtures/<hash>/; the hash covers the
 * sources, every header of the folder, the flags and the tool versions.
 */
export function compile(sources: string[], flags: string[]): string[] {
  const h = createHash('sha256');
  h.update(toolVersions());
  h.update(JSON.stringify(flags));
  for (const f of [...sources, 'tdx_args.h']) h.update(f).update(readFileSync(join(FIXTURES, f)));
  const dir = fromRoot('.cache', 'elf-fixtures', h.digest('hex').slice(0, 20));
  const objs = sources.map((s) => join(dir, s.replace(/\.[^.]+$/, '.o')));
  if (objs.every((o) => existsSync(o))) return objs;
  const tmp = mkdtempSync(join(tmpdir(), 'elfcc-'));
  const r = spawnSync('gcc', ['-c', ...flags, ...sources.map((s) => join(FIXTURES, s))], { cwd: tmp, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc ${flags.join(' ')} failed:\n${r.stderr}`);
  mkdirSync(dir, { recursive: true });
  for (const o of objs) renameSync(join(tmp, basename(o)), o);
  return objs;
}

/** Loader input for object paths. */
export function inputs(paths: string[]): { path: string; bytes: Uint8Array }[] {
  return paths.map((p) => ({ path: p, bytes: readFileSync(p) }));
}

/**
 * Links the objects with `ld -T` at exactly the loader's placement (one output section per
 * input section, stubs as absolute symbols, the GOT where the loader put it) and returns the
 * output path. ld then is the oracle for relocated bytes, symbol values and line addresses.
 */
export function ldAtPlacement(r: ElfLoadResult, dir: string): string {
  const lines = ['SECTIONS {'];
  r.placements.forEach((p, i) => lines.push(`  ${outputName(r, i)} 0x${p.address.toString(16)} : { "${p.file}"(${sectionPattern(p.section)}) }`));
  if (r.got) lines.push(`  .got 0x${r.got.address.toString(16)} : { *(.got) }`);
  const last = r.image.sections.reduce((m, s) => (s.address + BigInt(s.bytes.length) > m ? s.address + BigInt(s.bytes.length) : m), 0n);
  lines.push(`  .got.plt 0x${((last + 0x100000n) & ~0xfffn).toString(16)} : { *(.got.plt) }`);
  lines.push('}');
  for (const [name, a] of r.stubs) lines.push(`${name} = 0x${a.toString(16)};`);
  const script = join(dir, 'link.ld');
  writeFileSync(script, lines.join('\n') + '\n');
  const out = join(dir, 'linked.elf');
  const files = [...new Set(r.placements.map((p) => p.file))];
  const res = spawnSync('ld', ['-T', script, '-o', out, '--no-warn-rwx-segments', '-e', '0', ...files], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`ld failed:\n${res.stderr}\n${lines.join('\n')}`);
  return out;
}

/**
 * Name of placement `i`'s output section in the ld output: `.o<i>`, except that a single
 * `__ex_table` keeps its name (as in vmlinux), so the executable path can find it.
 */
export function outputName(r: ElfLoadResult, i: number): string {
  const p = r.placements[i];
  return p.section === '__ex_table' && r.placements.filter((x) => x.section === '__ex_table').length === 1 ? '__ex_table' : `.o${i}`;
}

function sectionPattern(name: string): string {
  return name.replace(/[*?[\]]/g, '\\$&');
}

/**
 * Section headers of a linked executable, read directly (not with the loader under test):
 * name → { address, bytes }.
 */
export function linkedSections(path: string): Map<string, { address: bigint; bytes: Uint8Array }> {
  const f = readFileSync(path);
  const shoff = Number(f.readBigUInt64LE(0x28));
  const shnum = f.readUInt16LE(0x3c);
  const shstrndx = f.readUInt16LE(0x3e);
  const hdr = (i: number) => {
    const o = shoff + i * 64;
    return { name: f.readUInt32LE(o), type: f.readUInt32LE(o + 4), addr: f.readBigUInt64LE(o + 16), off: Number(f.readBigUInt64LE(o + 24)), size: Number(f.readBigUInt64LE(o + 32)) };
  };
  const strs = hdr(shstrndx);
  const out = new Map<string, { address: bigint; bytes: Uint8Array }>();
  for (let i = 0; i < shnum; i++) {
    const h = hdr(i);
    const start = strs.off + h.name;
    const name = f.subarray(start, f.indexOf(0, start)).toString('latin1');
    out.set(name, { address: h.addr, bytes: h.type === 8 ? new Uint8Array(h.size) : new Uint8Array(f.subarray(h.off, h.off + h.size)) });
  }
  return out;
}

/** `nm` of a file: name → values (locals may repeat). */
export function nm(path: string): Map<string, bigint[]> {
  const out = new Map<string, bigint[]>();
  for (const l of execFileSync('nm', ['--defined-only', path], { encoding: 'utf8' }).split('\n')) {
    const m = /^([0-9a-f]+) (\w) (.+)$/.exec(l);
    if (!m) continue;
    const v = out.get(m[3]) ?? [];
    v.push(BigInt('0x' + m[1]));
    out.set(m[3], v);
  }
  return out;
}

/** One row of `objdump --dwarf=decodedline`: base name, line (undefined for end of sequence), address, is_stmt. */
export interface DecodedRow {
  file: string;
  line?: number;
  address: bigint;
  stmt: boolean;
}

/** Rows of `objdump --dwarf=decodedline` (every row, in order). */
export function decodedLines(path: string): DecodedRow[] {
  const text = execFileSync('objdump', ['--dwarf=decodedline', path], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const rows: DecodedRow[] = [];
  for (const l of text.split('\n')) {
    const m = /^(\S+)\s+(\d+|-)\s+(0x[0-9a-f]+|0)(?:\s+(\d+))?\s*(x?)\s*$/.exec(l);
    if (!m) continue;
    rows.push({ file: m[1], line: m[2] === '-' ? undefined : Number(m[2]), address: BigInt(m[3]), stmt: m[5] === 'x' });
  }
  return rows;
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'elftest-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Hex of bytes, for readable assertion failures. */
export function hexBytes(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** A set of fixture objects built one way and loaded at one base. */
export interface FixtureSet {
  name: string;
  sources: string[];
  flags: string[];
  base: bigint;
}

const KERNEL_BASE = 0xffffffff81000000n;
const ALL = ['tdcall_like.S', 'wrapper.c', 'layout.c'];
const KEEP_TYPES = '-fno-eliminate-unused-debug-types';

/** The builds every oracle test runs over: kernel-like and user-space code, DWARF 2 to 5, compressed debug info. */
export const FIXTURE_SETS: FixtureSet[] = [
  { name: 'kernel -O2 DWARF 5', sources: ALL, flags: ['-g', '-gdwarf-5', '-O2', '-mcmodel=kernel', '-fno-pic', '-fno-asynchronous-unwind-tables', KEEP_TYPES], base: KERNEL_BASE },
  { name: 'PIE -O0 DWARF 4', sources: ALL, flags: ['-g', '-gdwarf-4', '-O0', KEEP_TYPES], base: 0x10000000n },
  { name: 'PIE -O2 DWARF 3', sources: ALL, flags: ['-g', '-gdwarf-3', '-O2', KEEP_TYPES], base: 0x400000n },
  { name: 'no-pic -O1 DWARF 2', sources: ALL, flags: ['-g', '-gdwarf-2', '-gstrict-dwarf', '-O1', '-fno-pic', KEEP_TYPES], base: 0x400000n },
  { name: 'kernel -O2 zlib debug', sources: ALL, flags: ['-g', '-gz=zlib', '-O2', '-mcmodel=kernel', '-fno-pic', '-fno-asynchronous-unwind-tables', KEEP_TYPES], base: KERNEL_BASE },
  { name: 'GOTPCREL low', sources: ['gotuse.S', 'gotdef.s'], flags: [], base: 0x400000n },
  { name: 'GOTPCREL kernel', sources: ['gotuse.S', 'gotdef.s'], flags: ['-DKERNEL_BASE'], base: KERNEL_BASE },
];

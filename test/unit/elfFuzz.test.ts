// Fuzzing the ELF/DWARF loader with mutated real objects (seeded, so a failure replays):
// every case must either load or throw LoadError — never another exception type — and each
// must finish well inside a per-case deadline (the loader is linear in its input; a hang or
// a runaway allocation shows up here as a blown deadline).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadElfObjects } from '../../emulator/loader/loadElf';
import { LoadError } from '../../emulator/loader/diagnostics';
import { ElfFile } from '../../emulator/loader/elf/elfFile';
import { compile, FIXTURE_SETS } from './elfOracle';

/** mulberry32: small, fast, and the same sequence everywhere for a seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Sample {
  path: string;
  bytes: Uint8Array;
  /** [offset, size] of every section's contents and of the section header table. */
  regions: [number, number][];
}

function samples(): Sample[] {
  const picks: [number, string[]][] = [[0, ['tdcall_like.o', 'wrapper.o', 'layout.o']], [1, ['layout.o']], [3, ['wrapper.o']], [4, ['wrapper.o']]];
  const out: Sample[] = [];
  for (const [i, names] of picks) {
    const set = FIXTURE_SETS[i];
    for (const p of compile(set.sources, set.flags).filter((p) => names.some((n) => p.endsWith(n)))) {
      const bytes = new Uint8Array(readFileSync(p));
      const f = new ElfFile(p, bytes);
      const shoff = Number(Buffer.from(bytes).readBigUInt64LE(40));
      const regions: [number, number][] = f.sections.filter((s) => s.size > 0 && s.type !== 8).map((s) => [s.offset, s.size]);
      regions.push([shoff, f.sections.length * 64], [0, 64]);
      out.push({ path: p, bytes, regions });
    }
  }
  return out;
}

const SIZES = [0n, 1n, 0x7fn, 0xffn, 0x7fffffffn, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0xffffffffffffffffn];

/** One mutation of `s`, chosen and placed by `rnd`. */
function mutate(s: Sample, rnd: () => number): Uint8Array {
  const b = s.bytes.slice();
  const int = (n: number) => Math.floor(rnd() * n);
  const region = s.regions[int(s.regions.length)];
  const inRegion = () => region[0] + int(Math.max(1, region[1]));
  switch (int(5)) {
    case 0: // flip a few bytes anywhere
      for (let n = 1 + int(8); n > 0; n--) b[int(b.length)] ^= 1 + int(255);
      return b;
    case 1: // flip bytes inside one section (reaches the DWARF and relocation readers)
      for (let n = 1 + int(4); n > 0; n--) {
        const at = inRegion();
        if (at < b.length) b[at] = int(3) === 0 ? [0x00, 0x80, 0xff][int(3)] : b[at] ^ (1 << int(8));
      }
      return b;
    case 2: // truncate
      return b.subarray(0, int(b.length));
    case 3: { // splice a size-like value into a field
      const width = [2, 4, 8][int(3)];
      const at = Math.min(b.length - width, inRegion() & ~(width - 1));
      if (at < 0) return b;
      const v = int(4) === 0 ? BigInt(int(2 ** 32)) * BigInt(int(2 ** 32)) : int(4) === 0 ? BigInt(b.length) : SIZES[int(SIZES.length)];
      for (let i = 0; i < width; i++) b[at + i] = Number((v >> BigInt(8 * i)) & 0xffn);
      return b;
    }
    default: { // copy one stretch of the file over another (misplaced but plausible structures)
      const len = 1 + int(64);
      const from = int(Math.max(1, b.length - len));
      b.copyWithin(inRegion(), from, from + len);
      return b;
    }
  }
}

test('mutated objects either load or throw LoadError, each within its deadline', () => {
  const all = samples();
  assert.ok(all.length >= 6);
  const CASES = 4000;
  const DEADLINE_MS = 1000;
  const rnd = prng(0x7dc0ffee);
  const counts = { loaded: 0, rejected: 0 };
  let slowest = 0;
  const t0 = Date.now();
  for (let i = 0; i < CASES; i++) {
    const si = Math.floor(rnd() * all.length);
    const s = all[si];
    const bytes = mutate(s, rnd);
    // A quarter of the cases link the mutant against the other kernel objects.
    const files = si < 3 && rnd() < 0.25 ? all.slice(0, 3).map((o, j) => (j === si ? { path: o.path, bytes } : o)) : [{ path: s.path, bytes }];
    const start = Date.now();
    try {
      loadElfObjects(files, { base: 0xffffffff81000000n });
      counts.loaded++;
    } catch (e) {
      if (!(e instanceof LoadError)) assert.fail(`case ${i} (${s.path}): ${(e as Error).stack}`);
      counts.rejected++;
    }
    const took = Date.now() - start;
    slowest = Math.max(slowest, took);
    assert.ok(took < DEADLINE_MS, `case ${i} (${s.path}) took ${took} ms`);
  }
  // Both outcomes must be common, or the mutations test nothing.
  assert.ok(counts.loaded > CASES / 20 && counts.rejected > CASES / 5, JSON.stringify(counts));
  console.log(`# fuzz: ${CASES} cases, ${counts.loaded} loaded, ${counts.rejected} rejected, slowest ${slowest} ms, total ${Date.now() - t0} ms`);
});

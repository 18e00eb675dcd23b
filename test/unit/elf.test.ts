// ELF loading checked against binutils on objects gcc builds at test time: every placed
// section's bytes after relocation equal `ld -T` output at the same addresses, symbol values
// equal `nm` of that output, and `__ex_table` entries equal readelf's relocations.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { loadElfDetailed, ElfLoadResult } from '../../emulator/loader/loadElf';
import { compile, FIXTURE_SETS, FixtureSet, hexBytes, inputs, ldAtPlacement, linkedSections, nm, outputName, tempDir } from './elfOracle';

interface Built {
  set: FixtureSet;
  objs: string[];
  r: ElfLoadResult;
  linked: string;
}

const built = new Map<string, Built>();
function build(set: FixtureSet): Built {
  let b = built.get(set.name);
  if (!b) {
    const objs = compile(set.sources, set.flags);
    const r = loadElfDetailed(inputs(objs), { base: set.base });
    b = { set, objs, r, linked: ldAtPlacement(r, tempDir()) };
    built.set(set.name, b);
  }
  return b;
}

for (const set of FIXTURE_SETS) {
  test(`${set.name}: relocated bytes equal ld's at the same placement`, () => {
    const { r, linked } = build(set);
    const out = linkedSections(linked);
    assert.ok(r.placements.length > 0);
    for (const [i, p] of r.placements.entries()) {
      if (p.size === 0) continue;
      const ld = out.get(outputName(r, i));
      assert.ok(ld, `ld has no output section for ${p.file}(${p.section})`);
      assert.equal(ld.address, p.address, `${p.section} address`);
      const mine = r.image.sections.find((s) => s.address === p.address && s.name === p.section);
      assert.ok(mine, `no image section ${p.section} at ${p.address.toString(16)}`);
      assert.equal(hexBytes(mine.bytes), hexBytes(ld.bytes), `${p.file}(${p.section}) bytes`);
    }
    if (r.got) {
      const ldGot = out.get('.got');
      assert.ok(ldGot, 'ld made no .got');
      const mine = r.image.sections.find((s) => s.name === '.got')!;
      assert.equal(hexBytes(mine.bytes), hexBytes(ldGot.bytes), '.got contents');
    }
  });

  test(`${set.name}: symbol values equal nm of the linked output`, () => {
    const { r, linked } = build(set);
    const theirs = nm(linked);
    for (const s of r.image.symbols) {
      const vals = theirs.get(s.name);
      assert.ok(vals, `nm does not list ${s.name}`);
      assert.ok(vals.includes(s.address), `${s.name}: ours 0x${s.address.toString(16)}, nm ${vals.map((v) => v.toString(16))}`);
    }
    // Every named object or function symbol of the inputs is in the Image.
    const ours = new Set(r.image.symbols.map((s) => s.name));
    for (const o of build(set).objs) {
      for (const l of execFileSync('nm', ['--defined-only', o], { encoding: 'utf8' }).split('\n')) {
        const m = /^[0-9a-f]+ ([TtDdBbRr]) (.+)$/.exec(l);
        if (m && !m[2].startsWith('.L')) assert.ok(ours.has(m[2]), `${o}: ${m[2]} missing`);
      }
    }
  });
}

test('undefined kernel symbols become distinct stubs after the sections', () => {
  const { r } = build(FIXTURE_SETS[0]);
  const img = r.image;
  assert.deepEqual([...img.undefinedSymbols].sort(), ['__tdx_hypercall_failed', '__x86_return_thunk', 'panic']);
  const end = img.sections.reduce((m, s) => (s.address + BigInt(s.bytes.length) > m ? s.address + BigInt(s.bytes.length) : m), 0n);
  const addrs = img.undefinedSymbols.map((n) => img.symbols.find((s) => s.name === n)!);
  for (const s of addrs) {
    assert.equal(s.type, 'func');
    assert.ok(s.address >= end, `${s.name} stub inside the sections`);
  }
  assert.equal(new Set(addrs.map((s) => s.address)).size, addrs.length);
  // The C caller's call to the assembly function resolved across objects, not to a stub.
  assert.ok(!img.undefinedSymbols.includes('__tdcall_like'));
  const f = img.symbols.find((s) => s.name === '__tdcall_like')!;
  assert.equal(f.binding, 'global');
  assert.ok(f.size && f.size > 20);
  assert.equal(img.sections[0].address, 0xffffffff81000000n);
  assert.equal(img.sections[0].name, '.text');
});

test('__ex_table entries equal readelf -r of the object and the data words in objdump -s', () => {
  for (const set of FIXTURE_SETS.slice(0, 2)) {
    const { r, objs } = build(set);
    const obj = objs[0]; // tdcall_like.o
    const rel = execFileSync('readelf', ['-rW', obj], { encoding: 'utf8' });
    const part = rel.slice(rel.indexOf("'.rela__ex_table'"));
    const targets = [...part.matchAll(/R_X86_64_PC32\s+[0-9a-f]+\s+(\S+)\s+\+\s+([0-9a-f]+)/g)].map((m) => ({ sym: m[1], add: BigInt('0x' + m[2]) }));
    assert.equal(targets.length, 4);
    const text = r.placements.find((p) => p.file === obj && p.section === '.text')!.address;
    assert.ok(targets.every((t) => t.sym === '.text'));
    const dump = execFileSync('objdump', ['-s', '-j', '__ex_table', obj], { encoding: 'utf8' });
    const words = [...dump.matchAll(/^ [0-9a-f]{4} ((?:[0-9a-f]{8} ?){1,4})/gm)].flatMap((m) => m[1].trim().split(/\s+/));
    const le = (w: string) => Number(BigInt.asIntN(32, BigInt('0x' + w.match(/../g)!.reverse().join(''))));
    const expected = [0, 1].map((i) => ({ insn: text + targets[2 * i].add, fixup: text + targets[2 * i + 1].add, type: le(words[3 * i + 2]) }));
    assert.deepEqual(r.image.exTable, expected);
    assert.equal(r.image.exTable[0].type, 2); // EX_TYPE_FAULT on the SEAMCALL
    assert.equal(r.image.exTable[1].type, 0x3001);
  }
});

test('GOTPCREL loads relax like ld and keep one GOT slot only where ld does', () => {
  const low = build(FIXTURE_SETS.find((s) => s.name === 'GOTPCREL low')!).r;
  const kern = build(FIXTURE_SETS.find((s) => s.name === 'GOTPCREL kernel')!).r;
  assert.equal(low.got?.size, 8);
  assert.equal(kern.got?.size, 8);
  assert.ok(low.image.undefinedSymbols.includes('undefined_fn'));
  assert.ok(!low.image.undefinedSymbols.includes('_GLOBAL_OFFSET_TABLE_'));

  // Where ld gives up (a 32-bit load of an address above 4 GiB), the loader keeps the GOT load.
  const objs = compile(['gotuse.S', 'gotdef.s'], []);
  const r = loadElfDetailed(inputs(objs), { base: 0xffffffff81000000n });
  const text = r.image.sections[0];
  const rel = execFileSync('readelf', ['-rW', objs[0]], { encoding: 'utf8' });
  const movl = Number.parseInt([...rel.matchAll(/^([0-9a-f]+)\s+\S+\s+R_X86_64_GOTPCRELX\s/gm)][0][1], 16);
  assert.equal(hexBytes(text.bytes.subarray(movl - 2, movl)), '8b05');
  const disp = BigInt(Buffer.from(text.bytes).readInt32LE(movl));
  assert.equal(text.address + BigInt(movl) + 4n + disp, r.got!.address);
  const slot = r.image.sections.find((s) => s.name === '.got')!;
  assert.equal(Buffer.from(slot.bytes).readBigUInt64LE(0), r.image.symbols.find((s) => s.name === 'foo')!.address);
});

test('an executable loads at its own addresses: same bytes, symbols and lines as the objects it was linked from', () => {
  const { r, linked } = build(FIXTURE_SETS[0]);
  const exe = loadElfDetailed(inputs([linked]), { base: 0x1234n }).image; // base is ignored for ET_EXEC
  for (const s of r.image.sections) {
    if (s.name === '.got') continue;
    const e = exe.sections.find((x) => x.address === s.address && x.bytes.length === s.bytes.length);
    assert.ok(e, `${s.name} at ${s.address.toString(16)} missing from the executable`);
    assert.equal(hexBytes(e.bytes), hexBytes(s.bytes), s.name);
  }
  for (const s of r.image.symbols) assert.ok(exe.symbols.some((x) => x.name === s.name && x.address === s.address), s.name);
  assert.deepEqual(exe.lines, r.image.lines);
  assert.deepEqual(exe.exTable, r.image.exTable);
  assert.deepEqual([...exe.structs.keys()].sort(), [...r.image.structs.keys()].sort());
  assert.deepEqual(exe.undefinedSymbols, []);
});

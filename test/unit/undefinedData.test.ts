// Undefined symbols in objects GNU as builds (issue 15): data gets zero-filled storage of its
// own (never stub code bytes), per-CPU data read through %gs goes to the per-CPU template, and
// a symbol both called and read as data is refused with its name and place.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadElfDetailed } from '../../emulator/loader/loadElf';

function assemble(text: string): { path: string; bytes: Uint8Array } {
  const dir = mkdtempSync(join(tmpdir(), 'tdx-undef-'));
  writeFileSync(join(dir, 'a.s'), text);
  execFileSync('as', ['--64', '-o', join(dir, 'a.o'), join(dir, 'a.s')]);
  return { path: join(dir, 'a.o'), bytes: readFileSync(join(dir, 'a.o')) };
}

test('undefined data read rip-relative gets non-executable storage; a called symbol a stub; %gs data goes per-CPU', () => {
  const o = assemble('.text\n.globl f\nf: mov some_var(%rip), %rax\n call some_fn\n mov %gs:pcpu_thing(%rip), %rdx\n lea other_fn(%rip), %rdi\n ret\n');
  const r = loadElfDetailed([o], { base: 0xffffffff81000000n });
  assert.deepEqual(r.image.undefinedSymbols.sort(), ['other_fn', 'some_fn']);
  const data = new Map((r.image.undefinedData ?? []).map((u) => [u.name, u]));
  assert.equal(data.get('some_var')?.perCpu, false);
  assert.equal(data.get('some_var')?.sizedBy, 'default', 'no DWARF: the default size');
  assert.equal(data.get('pcpu_thing')?.perCpu, true);
  const v = data.get('some_var')!;
  const sec = r.image.sections.find((s) => v.address >= s.address && v.address < s.address + BigInt(s.bytes.length))!;
  assert.equal(sec.exec, false);
  assert.ok(r.image.sections.find((s) => s.perCpu && data.get('pcpu_thing')!.address >= s.address));
  // The displacement of `mov some_var(%rip)` reaches the storage (S + A - P with A = -4).
  const text = r.image.sections.find((s) => s.exec)!;
  const disp = BigInt(new DataView(text.bytes.buffer, text.bytes.byteOffset).getInt32(3, true));
  assert.equal(text.address + 7n + disp, v.address);
});

test('an undefined symbol called and also read as data is refused, naming it and both places', () => {
  const o = assemble('.text\n.globl g\ng: call both\n mov both(%rip), %rax\n ret\n');
  assert.throws(() => loadElfDetailed([o], { base: 0xffffffff81000000n }), /undefined symbol 'both' is called or jumped to .* and accessed as data here: it cannot be both code and data/);
});

// The Image the assembler builds: line table with macro expansion frames, stubs for undefined
// call targets, the decoded exception table, constants, placement at a base address, and
// the `tdxdbg asm` command's JSON and error output.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assembleText } from '../../emulator/loader/assembler';
import { asmCommand } from '../../cli/asm';
import { assembleWithGcc, hasTool, sectionBytes } from '../support/native';

const SRC = `.macro LOAD reg, off
	movq \\off(%rdi), %\\reg
.endm
	.text
	.globl f
f:	LOAD r10, 8
	call helper_missing
1:	seamcall
	ret
2:	movq $-1, %rax
	ret
	.pushsection "__ex_table", "a"
	.balign 4
	.long 1b - .
	.long 2b - .
	.long 2
	.popsection
	.set LIMIT, 0x40
`;

test('line table maps macro code to the invocation and the body line', () => {
  const img = assembleText(SRC, 'img.s', { base: 0x1000n }).image!;
  const e = img.lines.find((l) => l.address === 0x1000n)!;
  assert.equal(e.file, 'img.s');
  assert.equal(e.line, 6);
  assert.deepEqual(e.expansion, [{ file: 'img.s', line: 2 }]);
  assert.equal(e.length, 4);
  assert.ok(img.lines.some((l) => l.line === 8 && l.length === 4));
});

test('undefined call targets get stub addresses after the sections', () => {
  const img = assembleText(SRC, 'img.s', { base: 0x1000n }).image!;
  assert.deepEqual(img.undefinedSymbols, ['helper_missing']);
  const stub = img.symbols.find((s) => s.name === 'helper_missing')!;
  const end = Math.max(...img.sections.map((s) => Number(s.address) + s.bytes.length));
  assert.ok(Number(stub.address) >= end);
  const text = img.sections.find((s) => s.name === '.text')!;
  const rel = Buffer.from(text.bytes).readInt32LE(5); // e8 rel32 after the 4-byte movq
  assert.equal(0x1000n + 9n + BigInt(rel), stub.address);
});

test('exception table entries are decoded; constants and symbols are there', () => {
  const img = assembleText(SRC, 'img.s', { base: 0xffffffff81000000n }).image!;
  const f = img.symbols.find((s) => s.name === 'f')!;
  assert.equal(f.address, 0xffffffff81000000n);
  assert.equal(f.binding, 'global');
  assert.deepEqual(img.exTable, [{ insn: f.address + 9n, fixup: f.address + 14n, type: 2 }]);
  assert.equal(img.constants.get('LIMIT'), 0x40n);
});

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const w = { out: '', err: '' };
  const so = process.stdout.write.bind(process.stdout);
  const se = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((w.out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((w.err += s), true)) as typeof process.stderr.write;
  try {
    const code = await asmCommand(argv);
    return { code, ...w };
  } finally {
    process.stdout.write = so;
    process.stderr.write = se;
  }
}

test('tdxdbg asm --json and errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdxdbg-cli-'));
  const good = join(dir, 'good.S');
  writeFileSync(good, '#include <asm/shared/tdx.h>\n.text\n.globl g\ng: movl $TDVMCALL_EXPOSE_REGS_MASK, %ecx\n tdcall\n ret\n');
  const r = await capture([good, '--json', '--base', '0x2000']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.deepEqual(j.sections['.text'], { address: '0x2000', bytes: 'b9ccff0000660f01ccc3' });
  assert.equal(j.symbols.g, '0x2000');
  assert.deepEqual(j.exTable, []);
  assert.deepEqual(j.errors, []);
  const l = await capture([good, '--listing', '--generation', 'G1']);
  assert.equal(l.code, 0);
  assert.match(l.out, /B900FC0000/);
  const bad = join(dir, 'bad.S');
  writeFileSync(bad, '.text\n  movq %rax\n  bogus\n');
  const b = await capture([bad]);
  assert.equal(b.code, 1);
  assert.match(b.err, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2:3: error: invalid operands for 'movq'`));
  assert.match(b.err, /:3:3: error: unknown instruction 'bogus'/);
  assert.equal(b.out, '');
  const u = await capture(['--frobnicate']);
  assert.equal(u.code, 2);
});

test('the listing and the line table, made on first read, cover every byte the sections hold', () => {
  const r = assembleText(SRC, 'img.s', { base: 0x1000n });
  const img = r.image!;
  // Every listing row's bytes are the section's bytes at that address, in address order per section.
  for (const row of r.listing) {
    const sec = img.sections.find((s) => s.name === row.section)!;
    const off = Number(row.address - sec.address);
    assert.deepEqual([...sec.bytes.subarray(off, off + row.bytes.length)], [...row.bytes], `${row.text} at ${row.address.toString(16)}`);
  }
  const text = img.sections.find((s) => s.name === '.text')!;
  const covered = r.listing.filter((x) => x.section === '.text').reduce((n, x) => n + x.bytes.length, 0);
  assert.equal(covered, text.bytes.length);
  // The same rows, one per line-table entry, sorted by address; the object stays the same once read.
  assert.equal(img.lines.length, r.listing.length);
  assert.ok(img.lines.every((l, k) => k === 0 || img.lines[k - 1].address <= l.address));
  assert.equal(img.lines, img.lines);
  assert.equal(r.listing.find((x) => x.address === 0x1000n)?.text, 'movq 8(%rdi), %r10');
});

test('the same instruction text after a register equate or a .set constant changes assembles anew', () => {
  // Each line's bytes depend on what `R` and `K` stand for at that line, not on the first time
  // the text was seen.
  const src = ['R = %rax', 'K = 8', 'mov K(R), R', 'add $K, R', 'R = %rcx', 'mov K(R), R', 'add $K, R', 'K = 0x100', 'mov K(R), R', 'add $K, R', ''].join('\n');
  const img = assembleText(src, 'eq.s').image!;
  const hex = Buffer.from(img.sections.find((s) => s.name === '.text')!.bytes).toString('hex');
  // GNU as on the same source is the reference when the toolchain is here.
  if (hasTool('gcc') && hasTool('objcopy')) assert.equal(hex, Buffer.from(sectionBytes(assembleWithGcc(src))).toString('hex'));
  // Three encodings per register, never one cached for all: rax, rcx with disp8, rcx with disp32.
  assert.equal(hex, ['488b4008', '4883c008', '488b4908', '4883c108', '488b8900010000', '4881c100010000'].join(''));
});

test('a sym(%rip) instruction seen again keeps its own displacement when the symbol moves or comes later, and follows equates', () => {
  // The same texts before and after a relaxed jump moves T, as forward and backward references;
  // the register equate R and the constant K change between copies.
  const body = ['R = %xmm3', 'K = 1', 'vpaddd T(%rip), R, R', 'pinsrw $K, T(%rip), %xmm0', 'R = %xmm12', 'K = 2', 'vpaddd T(%rip), R, R', 'pinsrw $K, T(%rip), %xmm0', 'lea T(%rip), %rax', 'vpaddd T(%rip), %xmm1, %xmm1', 'vpshufb T+16(%rip), %xmm2, %xmm2', 'pinsrw $3, T(%rip), %xmm0', 'lea C(%rip), %rcx'];
  const src = [...body, 'jmp F', ...body, '.fill 200, 1, 0x90', 'F:', ...body, 'T: .quad 1', ...body, 'C:', ...body, ''].join('\n');
  const r = assembleText(src, 'rip.s');
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  const hex = Buffer.from(r.image!.sections.find((s) => s.name === '.text')!.bytes).toString('hex');
  if (hasTool('gcc') && hasTool('objcopy')) assert.equal(hex, Buffer.from(sectionBytes(assembleWithGcc(src))).toString('hex'));
  // Each copy of `lea T(%rip), %rax` has its own displacement (T - end of that lea).
  const lea = [...hex.matchAll(/488d05(........)/g)].map((m) => m[1]);
  assert.equal(new Set(lea).size, lea.length);
});

test('a location set again with = or .set: each use keeps the definition in force at its line, as in gas', () => {
  // gas binds an instruction or datum to the value the symbol has where it stands; resolving every
  // use at link time to the last definition would point the first `lea x(%rip)` at T2.
  const body = ['lea x(%rip), %rax', 'vpaddd x(%rip), %xmm1, %xmm1', '.long x - .'];
  const src = ['x = T1', ...body, 'x = T2', ...body, '.set x, x + 8', ...body,
    'here = .', 'lea here(%rip), %rcx', 'here = .', 'lea here(%rip), %rcx', 'T1: .quad 1', 'T2: .quad 2', '.quad 3', ''].join('\n');
  const r = assembleText(src, 'reset.s');
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  const text = r.image!.sections.find((s) => s.name === '.text')!.bytes;
  if (hasTool('gcc') && hasTool('objcopy')) assert.equal(Buffer.from(text).toString('hex'), Buffer.from(sectionBytes(assembleWithGcc(src))).toString('hex'));
  // The three `lea x(%rip), %rax` (48 8d 05 disp32, 7 bytes) reach three different places.
  const hex = Buffer.from(text).toString('hex');
  const targets = [...hex.matchAll(/488d05(........)/g)].map((m) => (m.index! / 2) + 7 + Buffer.from(m[1], 'hex').readInt32LE(0));
  assert.equal(new Set(targets.slice(0, 3)).size, 3);
});

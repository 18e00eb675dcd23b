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

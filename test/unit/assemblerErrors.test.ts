// Bad input: every error names file:line:column and what was expected, several are reported
// in one run, runaway macros and repetitions stop with a message, and no Image comes back.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assembleText } from '../../emulator/loader/assembler';
import { Diagnostic, formatDiagnostic } from '../../emulator/loader/diagnostics';

function errors(src: string): Diagnostic[] {
  const r = assembleText(src, 'bad.s');
  const errs = r.diagnostics.filter((d) => d.severity === 'error');
  assert.ok(errs.length > 0, 'expected an error');
  assert.equal(r.image, undefined, 'no Image on error');
  return errs;
}

function one(src: string, re: RegExp, line?: number, column?: number): Diagnostic {
  const errs = errors(src);
  const d = errs.find((e) => re.test(e.message));
  assert.ok(d, `no error matching ${re}; got:\n${errs.map(formatDiagnostic).join('\n')}`);
  if (line !== undefined) assert.equal(d.location?.line, line);
  if (column !== undefined) assert.equal(d.location?.column, column);
  return d;
}

test('unknown mnemonic suggests the closest ones', () => {
  const d = one('  nop\n  mvo %rax, %rbx\n', /unknown instruction 'mvo'/, 2, 3);
  assert.match(d.message, /did you mean .*'mov'/);
});

test('invalid operand combination lists valid forms', () => {
  const d = one('\tmov %rax, $1\n', /invalid operands for 'mov'/, 1, 2);
  assert.match(d.message, /expected one of: .*mov/);
});

test('operand size mismatch and missing size are explained', () => {
  one('movl %rax, %rbx\n', /operand size mismatch for 'movl': the suffix says 32-bit but %rax is 64-bit/, 1);
  // GNU as assembles these as 32-bit with a warning (the bytes are checked in kernel-classes-2.s).
  const w = assembleText('inc (%rax)\nshl $6, (%rbx)\n', 'w.s');
  assert.ok(w.image);
  assert.match(w.diagnostics.find((d) => d.severity === 'warning' && d.location?.line === 1)?.message ?? '', /assembled as incl \(32-bit\), as GNU as does; write incb\/incw\/incl\/incq/);
  assert.ok(w.diagnostics.some((d) => d.severity === 'warning' && d.location?.line === 2));
  one('mov (%ax), %rax\n', /not a valid 64-bit base/, 1);
  one('mov (%eax,%rbx), %rax\n', /not a valid 64-bit base/, 1);
  one('mov 8(%rax,%rsp), %rax\n', /cannot be an index/, 1);
});

test('undefined symbols: branch targets become stubs; data references too, with a warning', () => {
  const r = assembleText('call ext\njmp ext\nmov missing(%rip), %rax\n.quad missing\n');
  assert.deepEqual(r.image?.undefinedSymbols.sort(), ['ext', 'missing']);
  const w = r.diagnostics.find((d) => d.severity === 'warning' && /'missing' is not defined/.test(d.message));
  assert.equal(w?.location?.line, 3);
  assert.ok(!r.diagnostics.some((d) => /'ext'/.test(d.message)));
  // A value that is never defined (an asm-offsets name added to a register, an immediate) stays an error.
  one('movq TDX_HYPERCALL_r10(%rdi), %r10\n', /undefined symbol 'TDX_HYPERCALL_r10' \(a value such as an asm-offsets name/, 1);
  one('movl $TDX_HCALL_HAS_OUTPUT, %eax\n', /undefined symbol 'TDX_HCALL_HAS_OUTPUT'/, 1);
  const ok = assembleText('call ext\njne ext\nret\n');
  assert.deepEqual(ok.image?.undefinedSymbols, ['ext']);
});

test('an undefined value used in a macro body expanded three times: each place named once', () => {
  // Lines 2 and 5 use it; the body's line 2 is expanded three times (lines 7-9).
  const d = one('.macro m\n  movl $OFF, %eax\n.endm\n.text\n  movl $OFF+4, %ecx\n  nop\n  m\n  m\n  m\n', /undefined symbol 'OFF'/);
  const at = (l?: { line: number; column: number }) => `${l?.line}:${l?.column}`;
  assert.deepEqual([at(d.location), ...(d.related ?? []).map((r) => at(r.location))].sort(), ['2:9', '5:9']);
});

test('unterminated macro, conditional and repetition', () => {
  one('.macro foo\nnop\n', /\.macro 'foo' has no matching \.endm/, 1);
  one('.if 1\nnop\n', /\.if has no matching \.endif/, 1);
  one('.rept 3\nnop\n', /\.rept has no matching \.endr/, 1);
  one('.endif\n', /\.endif without \.if/, 1);
  one('.else\n', /\.else without \.if/, 1);
});

test('runaway macros and repetitions stop with a message instead of hanging', () => {
  const t0 = Date.now();
  one('.macro r\nr\n.endm\nr\n', /nested more than 100 deep \(recursive macro 'r'\?\)/);
  one('.rept 100000000000\nnop\n.endr\n', /\.rept count 100000000000 is over the limit of 500,000 rounds/);
  assert.ok(Date.now() - t0 < 3000);
});

test('a LEB128 value known only after layout is refused by name, never dropped', () => {
  one('.uleb128 2f - 1f\n1: jmp 1b\n2:\n', /\.uleb128 of a value known only after layout \('2f - 1f'\) is not supported/, 1, 10);
  // GNU as's .sleb128 of a location difference, or of a 65-bit value below -2^63, depends on
  // its fragments or is written in more than one way: refused by name; .uleb128 takes them.
  one('L0: nop\nL1: nop\n.sleb128 L1 - L0\n', /\.sleb128 of a value made of locations .* is not supported; use a constant, or \.uleb128/, 3);
  one('x = -1\n.sleb128 ~x\n', /\.sleb128 of a value below -2\^63 .* is not supported/, 2);
  assert.ok(assembleText('L0: nop\nL1: nop\n.uleb128 L1 - L0\n', 'u.s').image);
});

test('past 100 warnings an error is still reported, and no Image is made', () => {
  // 150 truncation warnings (GNU as warns of each), then an error GNU as makes too.
  const errs = errors('.rept 150\n.byte 256\n.endr\n.rept -1\nnop\n.endr\n');
  assert.match(errs[0].message, /\.rept count -1 is negative/);
});

test('an undefined symbol takes + or - a constant and nothing else, as in GNU as', () => {
  one('.quad ext + 4\n.quad ext2 * 2\n', /invalid operands: 'ext2' is not defined in this file, and '\*' cannot apply/, 2);
  one('.quad 5 - (ext3 - 3)\n', /'ext3' is not defined in this file and is subtracted/, 1);
});

test('every .set resolves, used or not (GNU as resolves them all when it writes the object)', () => {
  one('.section .rodata\nL0: .long 0\n.data\n.set s0, . - L0\n.word 1\n', /a location in .rodata is subtracted from one in .data .*\(the value of 's0'\)/, 4);
});

test('several errors in one run, each with its own place', () => {
  const errs = errors('mvo %rax, %rbx\n.byte 1\nmovl %rax, %rbx\n.bogus 3\naddq $1\n');
  assert.deepEqual(errs.map((e) => e.location?.line), [1, 3, 4, 5]);
});

test('errors inside a macro point at the body line and the invocation', () => {
  const d = one('.macro m\n  bad_insn %rax\n.endm\n  m\n', /unknown instruction 'bad_insn'/, 2, 3);
  assert.equal(d.related?.[0].location.line, 4);
});

test('vector instructions, .org and .altmacro explain what is wrong', () => {
  one('vpaddd %xmm1, %ymm2, %xmm3\n', /invalid operands for 'vpaddd' \(%xmm1, %ymm2, %xmm3\); its forms/, 1);
  one('vaddps %xmm1, %xmm2, %xmm3{%k1}{y}\n', /unknown operand decoration '\{y\}'/, 1);
  one('vaddps {rq-sae}, %zmm1, %zmm2, %zmm3\n', /unknown rounding operand/, 1);
  one('paddd %xmm1, %xmm17\n', /invalid operands for 'paddd'/, 1);
  one('.code32\npush %rax\n', /'%rax' does not exist in 32-bit code/, 2);
  one('.code32\npushq $1\n', /'pushq' does not exist in 32-bit code/, 2);
  one('.code16\n', /\.code16 is not supported/, 1);
  one('a: nop\nnop\n.org a+1\n', /\.org cannot move the location backwards/, 3);
  one('.macro m x\n.byte \\x\n.endm\n.altmacro\nm %undefined_thing\n', /must be an absolute expression/, 5);
});

test('more directive and expression errors', () => {
  one('.intel_syntax noprefix\n', /Intel syntax is not supported/, 1);
  one('jmp 1b\n', /no previous definition of local label '1'/, 1);
  one('x:\nnop\nx:\n', /symbol 'x' is already defined/, 3);
  one('.data\na: .long 0\n.section .rodata\nc: .long 0\n.text\n.long a - c\n', /a location in .rodata is subtracted from one in .data/, 6);
  one('.byte 1 +\n', /expected an expression/, 1);
  one('.p2align 3,,\n.balign 3\n', /power of two/, 2);
  one('.section\n', /expected a section name/, 1);
  one('.rept undefined_count\n.endr\n', /\.rept count must be an absolute expression/, 1);
  one('.error "stop here"\n', /stop here/, 1);
  one('jmp 2f\n', /local label '2'/, 1);
  one('loop far\n.skip 200\nfar: ret\n', /does not fit|out of range/, 1);
});

// The encoder's templates (a form iced encoded once, its displacement patched for the next
// instruction of the same shape) and the per-shape form choice, against GNU as: every shape
// below is assembled many times with displacements of every size and sign, RIP-relative
// targets before and after, numeric RIP displacements, segment overrides, EVEX compressed
// disp8 (which must never be patched as a plain byte), 32-bit and absolute addressing — then
// compared byte for byte with GNU as's object.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assembleText } from '../../emulator/loader/assembler';
import { formatDiagnostic } from '../../emulator/loader/diagnostics';
import { compareWithGas } from './assemblerOracle';

const DISPS = ['0', '1', '-1', '0x7f', '-0x80', '0x80', '-0x81', '0x40', '-0x40', '0x100', '0x1234', '-0x1234', '0x7fffffff', '-0x80000000', '64*3', '-64*5'];

/** Vector and SSE shapes iced encodes (the table encoder does not), each with a memory operand. */
const SHAPES = [
  'vpxor D(%rdi), %xmm1, %xmm2', 'vpxor D(%r13), %ymm9, %ymm12', 'vmovdqu D(%rsp,%rax,8), %ymm3',
  'vmovdqa %xmm7, D(%rbp)', 'vaesenc D(%rsi), %xmm0, %xmm0', 'vpclmulqdq $0x11, D(%rdx), %xmm5, %xmm6',
  'vpshufb D(%r12,%r9,2), %xmm15, %xmm14', 'pxor D(%rax), %xmm3', 'movdqu %xmm9, D(%r8)', 'aesenc D(%rcx), %xmm1',
  'pshufd $0x4e, D(%rbx), %xmm2', 'vbroadcastss D(%rdi), %ymm4', 'vpinsrq $1, D(%rsi), %xmm1, %xmm1',
  'vpxord D(%rdi), %zmm1, %zmm2', 'vmovdqu64 D(%rax), %zmm17', 'vpaddd D(%rsi){1to16}, %zmm3, %zmm4',
  'vpternlogd $0x96, D(%rdx), %ymm20, %ymm21', 'vmovdqu8 %zmm1, D(%rcx){%k1}',
  'crc32q D(%rdi), %rax', 'movbe D(%rsi), %ecx', 'andn D(%rdx), %rax, %rbx', 'movnti %rax, D(%rdi)',
  'lgdt D(%rax)', 'cmpxchg16b D(%rsi)', 'prefetcht0 D(%rdi)', 'clflush D(%rax)',
];

function source(): string {
  const l = ['.text', 'back:'];
  for (const shape of SHAPES) for (const d of DISPS) l.push(`\t${shape.replace('D(', `${d}(`)}`);
  // RIP-relative: labels before and after, numeric displacements, an undefined symbol (a stub).
  for (const shape of SHAPES.filter((s) => !/,%r|\(%r\w+,/.test(s) && s.includes('D(%r'))) {
    for (const t of ['back', 'fwd', 'back+16', 'fwd-8', 'ext_sym', '0', '0x40', '-0x1000', '0x7fff0000']) l.push(`\t${shape.replace(/D\(%r\w+\)/, `${t}(%rip)`)}`);
  }
  for (const d of ['0x10', '-0x10', '0x12345']) l.push(`\tvpxor %fs:${d}(%rax), %xmm1, %xmm2`, `\tpxor %gs:${d}(%rdx), %xmm0`, `\tvmovdqu %gs:${d}(%rip), %xmm4`);
  // 32-bit addressing (0x67) goes to iced every time; absolute addresses (no base) too.
  for (const d of ['0x10', '-0x10', '0x1000']) l.push(`\tvpxor ${d}(%eax), %xmm1, %xmm2`, `\tvpxor ${d}, %xmm1, %xmm2`, `\tpxor ${d}(,%rcx,4), %xmm5`);
  l.push('\t.skip 300, 0x90', 'fwd:', '\tret');
  return l.join('\n') + '\n';
}

test('assembler: templated encodings and per-shape form choice are byte-identical to GNU as', async () => {
  const src = source();
  const r = assembleText(src, 'templates.s', { objectMode: true });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors.length, 0, errors.map(formatDiagnostic).join('\n'));
  // A second assembly in the same process uses the templates and choices the first one made.
  const again = assembleText(src, 'templates.s', { objectMode: true });
  assert.deepEqual(again.image!.sections.map((s) => Buffer.from(s.bytes).toString('hex')), r.image!.sections.map((s) => Buffer.from(s.bytes).toString('hex')));
  const [res] = await compareWithGas([{ name: 'templates.s', ext: '.s', source: src, image: r.image!, listing: r.listing }]);
  assert.equal(res.problems.length, 0, res.problems.slice(0, 12).join('\n'));
});

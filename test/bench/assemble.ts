// Benchmark for issue 3's number: assemble a generated 5,000-line kernel-style file with the
// built-in assembler (best of a few runs) and with `gcc -c` in the same run, for the ratio.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { assembleText } from '../../emulator/loader/assembler';

/** 5,000 lines: macros, loads/stores with offsets, ALU, local branches, alignment. */
export function generateSource(lines = 5000): string {
  const out = ['.macro LOADP reg, off', '\tmovq \\off(%rdi), %\\reg', '.endm', '\t.text'];
  let n = 0;
  while (out.length < lines) {
    out.push(`\t.globl fn${n}`, '\t.p2align 4', `fn${n}:`, '\tpush %rbp', '\tmov %rsp, %rbp');
    for (let k = 0; k < 8; k++) out.push(`\tLOADP r${8 + k}, ${k * 8}`);
    out.push('\txor %eax, %eax', '\tmovl $0xffcc, %ecx', '\t.byte 0x66,0x0f,0x01,0xcc', '\ttest %rax, %rax', `\tjnz .Lfail${n}`);
    for (let k = 0; k < 8; k++) out.push(`\tmovq %r${8 + k}, ${k * 8}(%rsi)`, `\taddq $${k + 1}, %r${8 + k}`);
    out.push(`1:\tdecl %ecx`, '\tjnz 1b', '\tpop %rbp', '\tret', `.Lfail${n}:`, '\tcall panic_stub', `\tjmp .Lfail${n}`);
    n++;
  }
  return out.slice(0, lines).join('\n') + '\n';
}

/** Milliseconds for ours (best of 5) and for `gcc -c` on the same file. */
export async function benchAssemble(): Promise<{ ms: number; gccMs: number }> {
  const src = generateSource();
  let ms = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const r = assembleText(src, 'bench.s');
    const dt = performance.now() - t0;
    if (!r.image) throw new Error(`bench source failed to assemble: ${r.diagnostics[0]?.message}`);
    ms = Math.min(ms, dt);
  }
  const dir = mkdtempSync(join(tmpdir(), 'tdxdbg-bench-'));
  const file = join(dir, 'bench.s');
  writeFileSync(file, src);
  let gccMs = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    execFileSync('gcc', ['-c', file, '-o', join(dir, 'bench.o')]);
    gccMs = Math.min(gccMs, performance.now() - t0);
  }
  return { ms: Math.round(ms * 10) / 10, gccMs: Math.round(gccMs * 10) / 10 };
}

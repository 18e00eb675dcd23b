// Benchmark for issue 3's number: assemble a generated 5,000-line kernel-style file with the
// built-in assembler (best of a few runs) and with `gcc -c` in the same run, for the ratio.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

/** Best wall time in ms of `runs` runs of a command (spawned: process start included). */
function timeCommand(cmd: string, args: string[], runs: number): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    execFileSync(cmd, args, { stdio: 'ignore' });
    best = Math.min(best, performance.now() - t0);
  }
  return Math.round(best * 10) / 10;
}

/** Best (and first, cold) in-process time in ms of the built-in assembler on `src`. */
function timeOurs(src: string, name: string, runs: number, objectMode = false): { ms: number; coldMs: number } {
  let ms = Infinity;
  let coldMs = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = assembleText(src, name, { objectMode });
    const dt = performance.now() - t0;
    if (!r.image) throw new Error(`${name} failed to assemble: ${r.diagnostics.find((d) => d.severity === 'error')?.message}`);
    if (i === 0) coldMs = dt;
    ms = Math.min(ms, dt);
  }
  return { ms: Math.round(ms * 10) / 10, coldMs: Math.round(coldMs * 10) / 10 };
}

/** A real kernel file, preprocessed by kbuild, when a prepared tree is at hand (scripts/kernel-tree.sh). */
function kernelFile(): string | undefined {
  const cache = process.env.TDX_KERNEL_CACHE ?? join(__dirname, '..', '..', '..', '.cache/kernel');
  const f = join(cache, 'build-6.12/arch/x86/crypto/des3_ede-asm_64.s');
  return existsSync(f) ? f : undefined;
}

/**
 * The 5,000-line file: ours in-process (best of 5, and the first, cold run), GNU `as` and
 * `gcc -c` on the same file, and `tdxdbg asm` as a user runs it (Node start included). And a
 * kernel file (des3_ede-asm_64, kbuild's `.s`) in-process beside `as`, when a tree is prepared.
 */
export async function benchAssemble(): Promise<{
  ms: number; coldMs: number; gccMs: number; asMs: number; cliMs?: number;
  kernel?: { file: string; lines: number; ms: number; coldMs: number; asMs: number };
}> {
  const src = generateSource();
  const ours = timeOurs(src, 'bench.s', 5);
  const dir = mkdtempSync(join(tmpdir(), 'tdxdbg-bench-'));
  const file = join(dir, 'bench.s');
  writeFileSync(file, src);
  const gccMs = timeCommand('gcc', ['-c', file, '-o', join(dir, 'bench.o')], 3);
  const asMs = timeCommand('as', ['--64', file, '-o', join(dir, 'bench-as.o')], 3);
  const cli = join(__dirname, '..', '..', '..', 'dist', 'cli.js');
  const cliMs = existsSync(cli) ? timeCommand(process.execPath, [cli, 'asm', file], 3) : undefined;
  let kernel;
  const kf = kernelFile();
  if (kf) {
    const text = readFileSync(kf, 'latin1');
    const k = timeOurs(text, kf, 5, true);
    kernel = { file: 'arch/x86/crypto/des3_ede-asm_64.s (6.12)', lines: text.split('\n').length, ...k, asMs: timeCommand('as', ['--64', kf, '-o', join(dir, 'k.o')], 3) };
  }
  return { ...ours, gccMs, asMs, cliMs, kernel };
}

// Benchmark for issue 3's number: assemble a generated 5,000-line kernel-style file with the
// built-in assembler (best of a few runs) and with `gcc -c` in the same run, for the ratio.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
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

const kernelCache = () => process.env.TDX_KERNEL_CACHE ?? join(__dirname, '..', '..', '..', '.cache/kernel');

/** A real kernel file, preprocessed by kbuild, when a prepared tree is at hand (scripts/kernel-tree.sh). */
function kernelFile(): string | undefined {
  const f = join(kernelCache(), 'build-6.12/arch/x86/crypto/des3_ede-asm_64.s');
  return existsSync(f) ? f : undefined;
}

/** One corpus tree's comparison: files where ours (in-process) beat GNU as (process), and the slowest ratios. */
export interface CorpusSpeed {
  tree: string;
  files: number;
  faster: number;
  /** Sums over the tree, ms. */
  oursMs: number;
  asMs: number;
  /** The files with the highest ours/as ratio. */
  slowest: { file: string; ms: number; asMs: number }[];
  /** Every file where ours was not faster, slowest ratio first. */
  slower: { file: string; ms: number; asMs: number }[];
  /**
   * The same files in steady state: ours best of STEADY_RUNS runs (the 4 above included), once
   * V8 has compiled what the file reaches. The figure above is what a process that assembles a
   * file a few times sees, with the optimising compiler still at work; this one is the
   * assembler's own speed.
   */
  steady: { faster: number; oursMs: number; asMs: number; slower: { file: string; ms: number; asMs: number }[] };
}

/** Runs of each corpus file for the steady-state figure (the first is never the best); GNU as gets AS_STEADY_RUNS, so neither side is the only one with more draws on a noisy machine. */
const STEADY_RUNS = 20;
const AS_STEADY_RUNS = 10;

/** kbuild's `.s` of the 64-bit arch/x86 `.S` files (the corpus of scripts/kernel-corpus.ts) in a prepared build folder. */
function corpusFiles(build: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.s')) out.push(p);
    }
  };
  walk(join(build, 'arch/x86'));
  return out
    .filter((f) => !/\/arch\/x86\/(boot|realmode)\//.test(f))
    .filter((f) => !/_32\.s$|\/vdso32\/|\/entry\/vdso\/vdso-note|efi_stub_32|wakeup_32|head_32|relocate_kernel_32|\/um\//.test(f))
    .filter((f) => existsSync(join(build, '..', `linux-source-${build.split('build-')[1]}`, relative(build, f).replace(/\.s$/, '.S'))))
    .sort();
}

/**
 * Issue 14's per-file figure: every corpus file of each prepared tree, the built-in assembler
 * in-process (best of 3 after a first run, as the 5,000-line figure) beside GNU as on the
 * same file (best of 3, process start included); then the steady-state figure (see
 * CorpusSpeed.steady). Files GNU as rejects are not in the corpus.
 */
export function benchCorpus(log: (s: string) => void): CorpusSpeed[] {
  const out: CorpusSpeed[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tdxdbg-bench-'));
  const measured: { row: CorpusSpeed; build: string; files: { f: string; text: string; ms: number; asMs: number }[] }[] = [];
  // The short figure first, over both trees, as before the steady-state figure existed: what a
  // file's runs find compiled depends on the runs before them.
  for (const v of ['6.12', '6.1']) {
    const build = join(kernelCache(), `build-${v}`);
    if (!existsSync(join(build, '.tdx-prepared'))) continue;
    const row: CorpusSpeed = { tree: v, files: 0, faster: 0, oursMs: 0, asMs: 0, slowest: [], slower: [], steady: { faster: 0, oursMs: 0, asMs: 0, slower: [] } };
    const files: { f: string; text: string; ms: number; asMs: number }[] = [];
    for (const f of corpusFiles(build)) {
      let asMs: number;
      try {
        asMs = timeCommand('as', ['--64', f, '-o', join(dir, 'k.o')], 3);
      } catch {
        continue; // GNU as rejects it: not part of the corpus
      }
      const text = readFileSync(f, 'latin1');
      let ms: number;
      try {
        timeOurs(text, f, 1, true); // the first run: JIT warm-up, as for the other in-process figures
        ms = timeOurs(text, f, 3, true).ms;
      } catch {
        continue; // rejected: the corpus test reports that
      }
      row.files++;
      if (ms < asMs) row.faster++;
      row.oursMs += ms;
      row.asMs += asMs;
      files.push({ f, text, ms, asMs });
    }
    const all = files.map((x) => ({ file: relative(build, x.f), ms: x.ms, asMs: x.asMs }));
    row.oursMs = Math.round(row.oursMs);
    row.asMs = Math.round(row.asMs);
    row.slowest = [...all].sort((a, b) => b.ms / b.asMs - a.ms / a.asMs).slice(0, 5);
    row.slower = all.filter((x) => x.ms >= x.asMs).sort((a, b) => b.ms / b.asMs - a.ms / a.asMs);
    log(`assemble: corpus ${v}: ours faster than GNU as on ${row.faster} of ${row.files} files (in-process, best of 3, vs as process); sums ${row.oursMs} ms vs ${row.asMs} ms; slowest ratios ${row.slowest.map((s) => `${s.file} ${s.ms}/${s.asMs} ms`).join(', ')}`);
    if (row.slower.length) log(`assemble: corpus ${v}: not faster (ours/as ms): ${row.slower.map((s) => `${s.file.replace(/^arch\/x86\//, '')} ${s.ms}/${s.asMs}`).join(', ')}`);
    measured.push({ row, build, files });
    out.push(row);
  }
  // Then steady state: more runs of each file, on both sides.
  for (const { row, build, files } of measured) {
    let steadyMs = 0, asSteadyMs = 0;
    for (const x of files) {
      const steady = Math.min(x.ms, timeOurs(x.text, x.f, STEADY_RUNS - 4, true).ms);
      const asSteady = Math.min(x.asMs, timeCommand('as', ['--64', x.f, '-o', join(dir, 'k.o')], AS_STEADY_RUNS - 3));
      steadyMs += steady;
      asSteadyMs += asSteady;
      if (steady < asSteady) row.steady.faster++;
      else row.steady.slower.push({ file: relative(build, x.f), ms: steady, asMs: asSteady });
    }
    row.steady.oursMs = Math.round(steadyMs);
    row.steady.asMs = Math.round(asSteadyMs);
    log(`assemble: corpus ${row.tree}, steady state (ours best of ${STEADY_RUNS} in-process runs, as best of ${AS_STEADY_RUNS}): ours faster on ${row.steady.faster} of ${row.files} files; sums ${row.steady.oursMs} ms vs ${row.steady.asMs} ms${row.steady.slower.length ? `; not faster: ${row.steady.slower.map((s) => `${s.file.replace(/^arch\/x86\//, '')} ${s.ms}/${s.asMs}`).join(', ')}` : ''}`);
  }
  return out;
}

/**
 * The 5,000-line file: ours in-process (best of 5, and the first, cold run), GNU `as` and
 * `gcc -c` on the same file, and `tdxdbg asm` as a user runs it (Node start included). And a
 * kernel file (des3_ede-asm_64, kbuild's `.s`) in-process beside `as`, when a tree is prepared.
 */
export async function benchAssemble(): Promise<{
  ms: number; coldMs: number; gccMs: number; asMs: number; cliMs?: number; cliOneLineMs?: number; nodeMs: number; nodeNoCaMs?: number;
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
  // The same command on a one-instruction file: what starting ours costs beyond Node's start.
  const one = join(dir, 'one.s');
  writeFileSync(one, '\tnop\n');
  const cliOneLineMs = existsSync(cli) ? timeCommand(process.execPath, [cli, 'asm', one], 3) : undefined;
  // Node's own start, for reading the figures above: what is left is ours. NODE_EXTRA_CA_CERTS
  // (set on some machines) makes every Node start read a certificate file: shown apart.
  const nodeMs = timeCommand(process.execPath, ['-e', '0'], 3);
  let nodeNoCaMs: number | undefined;
  if (process.env.NODE_EXTRA_CA_CERTS) {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      execFileSync(process.execPath, ['-e', '0'], { stdio: 'ignore', env });
      best = Math.min(best, performance.now() - t0);
    }
    nodeNoCaMs = Math.round(best * 10) / 10;
  }
  let kernel;
  const kf = kernelFile();
  if (kf) {
    const text = readFileSync(kf, 'latin1');
    const k = timeOurs(text, kf, 5, true);
    kernel = { file: 'arch/x86/crypto/des3_ede-asm_64.s (6.12)', lines: text.split('\n').length, ...k, asMs: timeCommand('as', ['--64', kf, '-o', join(dir, 'k.o')], 3) };
  }
  return { ...ours, gccMs, asMs, cliMs, cliOneLineMs, nodeMs, nodeNoCaMs, kernel };
}

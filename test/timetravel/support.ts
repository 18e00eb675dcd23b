// Helpers of the reverse-execution tests: a hash of a Session's complete state (every register,
// lazy flag, control register, MSR, shadow-stack frame, page and the platform models), and
// seeded random programs (loops, calls, stack and memory traffic, REP STOS) that always end.

import type { Session } from '../../emulator/session/session';

/** A hash over everything that makes up the state at this position (two 32-bit lanes, hex). */
export function stateHash(s: Session): string {
  let h1 = 0x811c9dc5 | 0, h2 = 0x1b873593 | 0;
  const mix = (v: number) => { h1 = Math.imul(h1 ^ v, 0x01000193); h2 = Math.imul(h2 + v, 0x5bd1e995) ^ (h2 >>> 13); };
  const text = (t: string) => { for (let i = 0; i < t.length; i++) mix(t.charCodeAt(i)); };
  const cpu = s.machine.captureCpu();
  text(JSON.stringify(cpu, (_k, v) => (typeof v === 'bigint' ? v.toString(16)
    : v instanceof Map ? [...v.entries()] : ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v)));
  const keys = [...s.machine.mem.pages.keys()].sort((a, b) => a - b);
  for (const k of keys) {
    const p = s.machine.mem.pages.get(k)!;
    mix(k); mix(p.perms);
    const w = p.i32;
    for (let i = 0; i < w.length; i++) mix(w[i]);
  }
  text(JSON.stringify(s.platformSnapshot(), (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v instanceof Map ? [...v.entries()] : v)));
  text(`calls=${s.platform.calls.length} notes=${s.notes.length}`);
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REGS = ['%rax', '%rbx', '%rdx', '%rsi', '%r8', '%r9', '%r10', '%r11', '%r12', '%r13', '%r14', '%r15'];

/** A random straight-line op on registers and the 256-byte frame at (%rsp). */
function op(r: () => number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const a = pick(REGS), b = pick(REGS), off = 8 * Math.floor(r() * 30), imm = Math.floor(r() * 0x7fffffff);
  switch (Math.floor(r() * 14)) {
    case 0: return `movq $${imm}, ${a}`;
    case 1: return `addq ${b}, ${a}`;
    case 2: return `subq ${b}, ${a}`;
    case 3: return `xorq ${b}, ${a}`;
    case 4: return `imulq ${b}, ${a}`;
    case 5: return `shlq $${1 + Math.floor(r() * 7)}, ${a}`;
    case 6: return `rorq $${1 + Math.floor(r() * 60)}, ${a}`;
    case 7: return `movq ${a}, ${off}(%rsp)`;
    case 8: return `addq ${off}(%rsp), ${a}`;
    case 9: return `leaq 7(${a},${b},4), ${a}`;
    case 10: return `pushq ${a}\n\tpopq ${b}`;
    case 11: return `cmpq ${b}, ${a}\n\tcmovbq ${b}, ${a}\n\tsetz %cl`;
    case 12: return `incq ${a}\n\tadcq $3, ${b}`;
    default: return `notq ${a}\n\tnegq ${b}`;
  }
}

/** A program whose `entry` runs loops and calls over random ops and returns (a few thousand steps). */
export function randomProgram(seed: number): string {
  const r = rng(seed);
  const ops = (n: number) => Array.from({ length: n }, () => '\t' + op(r)).join('\n');
  const lines = ['\t.text', '\t.globl entry', '\t.type entry, @function', 'entry:', '\tpushq %rbp', '\tmovq %rsp, %rbp', '\tsubq $256, %rsp'];
  for (let blk = 0; blk < 4; blk++) {
    lines.push(ops(4 + Math.floor(r() * 6)));
    lines.push(`\tmovl $${2 + Math.floor(r() * 6)}, %ecx`, `.Lloop${blk}:`, '\tpushq %rcx', ops(3 + Math.floor(r() * 5)), `\tcall helper${blk % 2}`, '\tpopq %rcx', '\tdecl %ecx', `\tjnz .Lloop${blk}`);
    lines.push('\tleaq 16(%rsp), %rdi', `\tmovl $${1 + Math.floor(r() * 12)}, %ecx`, '\tmovq %r9, %rax', '\trep stosq');
  }
  lines.push('\tmovq %rbp, %rsp', '\tpopq %rbp', '\tret');
  for (let hlp = 0; hlp < 2; hlp++) {
    lines.push(`\t.type helper${hlp}, @function`, `helper${hlp}:`, '\tsubq $264, %rsp', ops(5 + Math.floor(r() * 8)), '\taddq $264, %rsp', '\tret');
  }
  return lines.join('\n') + '\n';
}

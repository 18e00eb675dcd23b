// Compares one case's emulator outcome with the host CPU's and renders mismatches readably:
// the form, the GAS text, the inputs, expected vs actual per register, flag and buffer byte,
// and a one-line command that reproduces just that case.

import type { StopReason } from '../../emulator/machine';
import type { Case } from './builder';
import { BUF_ADDR, COMPARED_FLAGS, GPR64, flagNames } from './layout';
import type { NativeResult, Outcome } from './records';
import { hex } from './rng';

export interface Mismatch {
  c: Case;
  expected: NativeResult;
  actual: Outcome;
  stop: StopReason;
  problems: string[];
}

function where(r: NativeResult, rip: bigint): string {
  if (rip === r.end0) return `END0 (${hex(rip)})`;
  if (r.end1 && rip === r.end1) return `END1 (${hex(rip)})`;
  return hex(rip);
}

export function compareCase(c: Case, expected: NativeResult, actual: Outcome, stop: StopReason): Mismatch | null {
  const problems: string[] = [];
  const faulted = expected.vector >= 0;
  if (faulted) {
    if (stop.kind !== 'fault' || actual.vector !== expected.vector) {
      problems.push(`stop: expected fault vector ${expected.vector} at ${hex(expected.rip)}, got ${stop.kind}${stop.vector !== undefined ? ` vector ${stop.vector}` : ''} at ${where(expected, stop.address)}: ${stop.message}`);
    } else if (actual.rip !== expected.rip) {
      problems.push(`fault RIP: expected ${hex(expected.rip)}, got ${hex(actual.rip)}`);
    } else if (expected.vector === 13 && actual.errorCode !== expected.errorCode) {
      problems.push(`error code: expected ${expected.errorCode}, got ${actual.errorCode}`);
    } else if (expected.vector === 14) {
      // The host runs the case at CPL 3 (error code bit 2, U/S); the emulator at CPL 0.
      if ((actual.errorCode & ~4) !== (expected.errorCode & ~4)) problems.push(`#PF error code: expected ${expected.errorCode & ~4} (U/S bit aside), got ${actual.errorCode}`);
      if (actual.cr2 !== expected.cr2) problems.push(`CR2: expected ${hex(expected.cr2)}, got ${hex(actual.cr2)}`);
    }
  } else if (stop.kind !== 'breakpoint' || stop.address !== expected.rip) {
    problems.push(`stop: expected exit at ${where(expected, expected.rip)}, got ${stop.kind} at ${where(expected, stop.address)}: ${stop.message}`);
  }
  for (let i = 0; i < 16; i++) {
    if (c.undefRegs.includes(i)) continue;
    if (actual.regs[i] !== expected.regs[i]) problems.push(`${GPR64[i]}: expected ${hex(expected.regs[i])}, got ${hex(actual.regs[i])}`);
  }
  for (let i = 0; i < 16; i++) {
    if (actual.xmm[i] !== expected.xmm[i]) problems.push(`xmm${i}: expected ${hex128(expected.xmm[i])}, got ${hex128(actual.xmm[i])} (input ${hex128(c.xmm[i])})`);
  }
  const mxMask = 0xffff & ~(faulted ? 0 : c.undefMxcsr);
  if ((actual.mxcsr & mxMask) !== (expected.mxcsr & mxMask)) {
    problems.push(`mxcsr: expected 0x${expected.mxcsr.toString(16)}, got 0x${actual.mxcsr.toString(16)} (input 0x${c.mxcsr.toString(16)})`);
  }
  // At a fault the instruction has not completed, so every flag is the input's and defined.
  const compared = COMPARED_FLAGS & ~(faulted ? 0 : c.undefFlags);
  const e = Number(expected.rflags & 0xfffn) & compared;
  const a = Number(actual.rflags & 0xfffn) & compared;
  if (e !== a) {
    problems.push(`flags: expected ${flagNames(e)}, got ${flagNames(a)} (differ: ${flagNames(e ^ a)}${c.undefFlags && !faulted ? `; masked as undefined: ${flagNames(c.undefFlags)}` : ''})`);
  }
  const memProblems: string[] = [];
  const offsets = new Set([...expected.memory.keys(), ...actual.memory.keys()]);
  for (const off of [...offsets].sort((x, y) => x - y)) {
    const ev = expected.memory.get(off);
    const av = actual.memory.get(off);
    if (ev !== av) memProblems.push(`[${hex(BUF_ADDR + BigInt(off))}] expected ${ev === undefined ? 'unchanged' : hex(ev)}, got ${av === undefined ? 'unchanged' : hex(av)}`);
  }
  if (memProblems.length) problems.push(`memory (${memProblems.length} bytes differ): ${memProblems.slice(0, 8).join('; ')}${memProblems.length > 8 ? '; …' : ''}`);
  return problems.length ? { c, expected, actual, stop, problems } : null;
}

/** A 128-bit value as four 32-bit groups, high first. */
function hex128(v: bigint): string {
  const parts: string[] = [];
  for (let k = 3; k >= 0; k--) parts.push(((v >> BigInt(32 * k)) & 0xffffffffn).toString(16).padStart(8, '0'));
  return '0x' + parts.join('_');
}

/** The XMM registers the case's code names, and MXCSR, as inputs. */
function xmmInputs(c: Case): string[] {
  const used = new Set<number>();
  for (const l of c.asm) for (const m of l.matchAll(/%xmm(\d+)/g)) used.add(Number(m[1]));
  if (used.size === 0) return [];
  return [`          ${[...used].sort((a, b) => a - b).map((r) => `xmm${r}=${hex128(c.xmm[r])}`).join(' ')} mxcsr=0x${c.mxcsr.toString(16)}`];
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function reproCommand(c: Case): string {
  return `node scripts/build.mjs --tests && node out/test/differential/run.harness.js --form '^${escapeRegex(c.form.name).replace(/'/g, "'\\''")}$' --case ${c.index}`;
}

export function formatMismatch(m: Mismatch): string {
  const { c } = m;
  const inputs: string[] = [];
  for (let i = 0; i < 16; i += 4) inputs.push(GPR64.slice(i, i + 4).map((r, k) => `${r}=${hex(c.regs[i + k])}`).join(' '));
  const patches = c.patches.slice(0, 6).map((p) => `[${hex(BUF_ADDR + BigInt(p.off))}]=${[...p.bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`).join(' ');
  return [
    `✗ ${c.form.name} (input #${c.index}, case ${c.id})`,
    ...c.asm.map((l) => `    | ${l}`),
    `  inputs: ${inputs.join('\n          ')}`,
    `          rflags=${hex(c.rflags)} (${flagNames(Number(c.rflags))})${patches ? ` memory ${patches}${c.patches.length > 6 ? ' …' : ''}` : ''}`,
    ...xmmInputs(c),
    ...m.problems.map((p) => `  - ${p}`),
    `  repro: ${reproCommand(c)}`,
  ].join('\n');
}

export interface Summary {
  forms: number;
  cases: number;
  mismatches: Mismatch[];
  ms?: number;
}

/** The whole report: counts, mismatches per form, and the first `limit` mismatches in full. */
export function formatReport(r: Summary, opts: { limit: number }): string {
  const lines = [`differential: ${r.forms} forms, ${r.cases} cases, ${r.mismatches.length} mismatches${r.ms !== undefined ? ` (emulator side ${r.ms} ms)` : ''}`];
  if (r.mismatches.length === 0) return lines[0];
  const perForm = new Map<string, number>();
  for (const m of r.mismatches) perForm.set(m.c.form.name, (perForm.get(m.c.form.name) ?? 0) + 1);
  lines.push(`forms with mismatches (${perForm.size}): ${[...perForm].slice(0, 60).map(([f, n]) => `${f} ×${n}`).join(', ')}${perForm.size > 60 ? ', …' : ''}`);
  // One example per form first, then the rest, up to the limit.
  const firstPerForm = new Set<string>();
  const ordered: Mismatch[] = [];
  for (const m of r.mismatches) if (!firstPerForm.has(m.c.form.name)) { firstPerForm.add(m.c.form.name); ordered.push(m); }
  for (const m of r.mismatches) if (!ordered.includes(m) && ordered.length < opts.limit) ordered.push(m);
  for (const m of ordered.slice(0, opts.limit)) lines.push(formatMismatch(m));
  if (r.mismatches.length > opts.limit) lines.push(`… ${r.mismatches.length - Math.min(opts.limit, ordered.length)} more mismatches not shown`);
  return lines.join('\n');
}

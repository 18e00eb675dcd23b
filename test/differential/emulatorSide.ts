// The emulator side: runs each case's machine code — the very bytes of the native program, at
// their native addresses — in a Machine with the same registers, flags and buffer contents,
// until the case's exit label (a breakpoint) or a fault, and compares with the native result.

import type { Form } from '../../emulator/exec/table';
import type { Insn } from '../../emulator/decode/insn';
import { Machine, StopReason } from '../../emulator/machine';
import type { Case } from './builder';
import { Mismatch, compareCase } from './compare';
import { ElfImage } from './elf';
import { BUF_ADDR, BUF_SIZE, GPR64, fillBuffer } from './layout';
import type { NativeRun } from './native';
import type { Outcome } from './records';

const PAGE = 4096n;
/** CF PF AF ZF SF OF. */
const STATUS_FLAGS = 0x8d5n;
/** Enough for the longest case (rep with 31 elements plus a few instructions). */
const BUDGET = 1000;

export interface Report {
  forms: number;
  cases: number;
  mismatches: Mismatch[];
  ms: number;
  /** The specialised forms (emulator/exec/table.ts) of the instructions that ran, with how many decoded instructions took each. */
  formsUsed: Map<Form, number>;
}

/** The initial buffer of a case: the seeded fill, then the case's patches. */
export function initialBuffer(c: Case): Uint8Array {
  const buf = new Uint8Array(BUF_SIZE);
  fillBuffer(c.seed, buf);
  for (const p of c.patches) buf.set(p.bytes, p.off);
  return buf;
}

function machineFor(elf: ElfImage, lo: bigint, hi: bigint, blockThreshold: number, genericHandlers: boolean, allFlagsDead: boolean): Machine {
  const m = new Machine({ blockThreshold, genericHandlers, allFlagsDead });
  const start = lo & ~(PAGE - 1n);
  const end = (hi + PAGE - 1n) & ~(PAGE - 1n);
  m.map(start, Number(end - start), 'rx', 'cases');
  m.writeBytes(start, elf.read(start, Number(end - start)));
  m.map(BUF_ADDR, BUF_SIZE, 'rw', 'buffer');
  return m;
}

/**
 * The machine's buffer pages as views, so per-case resets and diffs run at memcpy speed. The
 * buffer is data only (never decoded as code), so bypassing writeBytes skips no invalidation.
 */
function bufferViews(m: Machine): Uint8Array[] | null {
  const views: Uint8Array[] = [];
  for (let off = 0; off < BUF_SIZE; off += 4096) {
    const page = m.mem.pageAt?.(Number(BUF_ADDR) + off);
    if (!page?.data || page.data.length !== 4096) return null;
    views.push(page.data);
  }
  return views;
}

function runOne(m: Machine, views: Uint8Array[] | null, c: Case, start: bigint, init: Uint8Array): { outcome: Outcome; stop: StopReason } {
  if (views) views.forEach((v, k) => v.set(init.subarray(k * 4096, (k + 1) * 4096)));
  else m.writeBytes(BUF_ADDR, init);
  c.regs.forEach((v, i) => m.setReg(GPR64[i], v));
  m.setReg('rflags', c.rflags);
  c.xmm.forEach((v, i) => m.setReg(`xmm${i}`, v));
  m.setReg('mxcsr', BigInt(c.mxcsr));
  m.setReg('rip', start);
  const stop = m.run(BUDGET);
  const memory = new Map<number, number>();
  const pages = views ?? [m.readBytes(BUF_ADDR, BUF_SIZE)];
  let base = 0;
  for (const page of pages) {
    const a32 = new Uint32Array(page.buffer, page.byteOffset, page.length >>> 2);
    const i32 = new Uint32Array(init.buffer, init.byteOffset + base, page.length >>> 2);
    for (let w = 0; w < a32.length; w++) {
      if (a32[w] === i32[w]) continue;
      for (let i = w * 4; i < w * 4 + 4; i++) if (page[i] !== init[base + i]) memory.set(base + i, page[i]);
    }
    base += page.length;
  }
  return {
    stop,
    outcome: {
      regs: GPR64.map((r) => m.getReg(r)),
      rflags: m.getReg('rflags'),
      xmm: Array.from({ length: 16 }, (_, i) => m.getReg(`xmm${i}`)),
      mxcsr: Number(m.getReg('mxcsr')),
      cr2: stop.kind === 'fault' && stop.vector === 14 ? stop.faultAddress ?? 0n : 0n,
      rip: m.getReg('rip'),
      vector: stop.kind === 'fault' ? stop.vector ?? -2 : -1,
      errorCode: stop.errorCode ?? 0,
      memory,
    },
  };
}

/**
 * Runs every case in the emulator. `blockThreshold` picks the execution path: Infinity
 * interprets instruction by instruction, 0 compiles every straight-line run into a block first;
 * `genericHandlers` interprets with the generic handlers only (no specialised forms);
 * `allFlagsDead` compiles blocks whose forms all leave the status flags alone where they can
 * (the code the block compiler uses where a later instruction sets them): the status flags
 * are then not compared.
 */
export function runEmulatorSide(cases: readonly Case[], native: NativeRun, blockThreshold = Infinity, genericHandlers = false, allFlagsDead = false): Report {
  const t0 = Date.now();
  const elf = new ElfImage(native.program);
  const mismatches: Mismatch[] = [];
  let i = 0;
  let forms = 0;
  const formsUsed = new Map<Form, number>();
  while (i < cases.length) {
    // One fresh machine per form: cases of a form are contiguous in the program.
    let j = i;
    while (j < cases.length && cases[j].form === cases[i].form) j++;
    forms++;
    let lo = native.results[i].start;
    let hi = lo;
    for (let k = i; k < j; k++) {
      const r = native.results[k];
      for (const a of [r.start, r.end0, r.end1]) {
        if (a === 0n) continue;
        if (a < lo) lo = a;
        if (a > hi) hi = a;
      }
    }
    // The tail of a case (call targets) lies past its exits: map up to the next case's start.
    hi = j < cases.length ? native.results[j].start + 16n : hi + 256n;
    const m = machineFor(elf, lo, hi, blockThreshold, genericHandlers, allFlagsDead);
    const views = bufferViews(m);
    for (let k = i; k < j; k++) {
      const r = native.results[k];
      m.addBreakpoint(r.end0);
      if (r.end1) m.addBreakpoint(r.end1);
    }
    for (let k = i; k < j; k++) {
      const c = cases[k];
      const expected = native.results[k];
      const { outcome, stop } = runOne(m, views, c, expected.start, initialBuffer(c));
      if (allFlagsDead) outcome.rflags = (outcome.rflags & ~STATUS_FLAGS) | (expected.rflags & STATUS_FLAGS);
      const mm = compareCase(c, expected, outcome, stop);
      if (mm) mismatches.push(mm);
    }
    for (let a = Number(lo & ~(PAGE - 1n)); a < Number(hi); a += 4096) {
      for (const ins of (m.mem.pageAt(a)?.code ?? []) as (Insn | undefined)[]) {
        if (ins?.form) formsUsed.set(ins.form, (formsUsed.get(ins.form) ?? 0) + 1);
      }
    }
    i = j;
  }
  return { forms, cases: cases.length, mismatches, ms: Date.now() - t0, formsUsed };
}

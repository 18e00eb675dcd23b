// Shared helpers of the real-object tests (issue 7): the kernel-like gcc flag sets, building our C
// fixtures into objects once per flag set, a source-line stepper over Session.lineAt, and the
// shadow call stack as function names.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session, type SessionStop } from '../../emulator/session/session';
import { compileWithToolchain } from '../../emulator/loader/toolchain';
import { fromRoot } from '../support/paths';
import { tempDir } from '../unit/elfOracle';

export const C_DIR = fromRoot('test/fixtures/c');

/** The kernel's code model and the things it turns off (no FPU/SSE, no red zone, freestanding). */
export const KERNEL_FLAGS = ['-mcmodel=kernel', '-fno-pic', '-mno-red-zone', '-mno-sse', '-mno-mmx', '-mno-sse2', '-ffreestanding',
  '-fno-stack-protector', '-fno-asynchronous-unwind-tables', '-fno-jump-tables'];

/** The defaults distribution kernels build with: IBT's endbr64, return thunks, retpolines, call padding. */
export const MITIGATION_FLAGS = ['-fcf-protection=branch', '-mfunction-return=thunk-extern', '-mindirect-branch=thunk-extern',
  '-mindirect-branch-register', '-fpatchable-function-entry=16,16', '-DRETHUNK'];

/** One way of building the fixtures. */
export interface Variant {
  name: string;
  args: string[];
}

export const VARIANTS: Variant[] = [
  { name: '-O0', args: ['-O0', ...KERNEL_FLAGS] },
  { name: '-O2', args: ['-O2', ...KERNEL_FLAGS] },
  { name: '-O0 +mitigations', args: ['-O0', ...KERNEL_FLAGS, ...MITIGATION_FLAGS] },
  { name: '-O2 +mitigations', args: ['-O2', ...KERNEL_FLAGS, ...MITIGATION_FLAGS] },
];

const built = new Map<string, string>();
const outRoot = tempDir('tdx-realobj-');

/** The object of a fixture source built with a variant's flags (compiled once per test file). */
export async function fixtureObject(source: string, v: Variant): Promise<string> {
  const key = `${source}|${v.name}`;
  let o = built.get(key);
  if (!o) {
    const outDir = join(outRoot, v.name.replace(/\W+/g, '_'));
    o = (await compileWithToolchain(join(C_DIR, source), { compiler: 'gcc', args: v.args }, { cwd: C_DIR, outDir })).object;
    built.set(key, o);
  }
  return o;
}

/** The 1-based line of the first source line of `file` (in the fixture folder) containing `text`. */
export function lineOf(file: string, text: string, from = 1): number {
  const lines = readFileSync(join(C_DIR, file), 'utf8').split('\n');
  for (let k = from - 1; k < lines.length; k++) if (lines[k].includes(text)) return k + 1;
  throw new Error(`${file} has no line containing ${JSON.stringify(text)}`);
}

/** `file:line` of an address, with the base name of the file. */
export function where(s: Session, address: bigint): string | undefined {
  const l = s.lineAt(address);
  return l ? `${l.file.replace(/^.*\//, '')}:${l.line}` : undefined;
}

/**
 * Steps instructions and records each change of source line (what "step into" by lines shows),
 * until the run stops or `max` instructions ran. Addresses without a line (stubs) are skipped.
 */
export function stepLines(s: Session, max = 5000): { lines: string[]; stop: SessionStop | null } {
  const lines: string[] = [];
  let last: string | undefined;
  for (let n = 0; n < max; n++) {
    const here = where(s, s.machine.getReg('rip'));
    if (here && here !== last) { lines.push(here); last = here; }
    const stop = s.step();
    if (stop) return { lines, stop };
  }
  return { lines, stop: null };
}

/** The shadow call stack as "function" names, innermost (the current function) first. */
export function callChain(s: Session): string[] {
  const c = s.machine.cpu;
  const out = [s.symbolize(s.machine.getReg('rip'))?.name ?? '?'];
  for (let k = c.ssN - 1; k >= 0; k--) {
    // The call instruction is before the return address: a call to a noreturn function may be
    // the last instruction of its function, so the return address can lie in the next symbol.
    const ret = BigInt.asUintN(64, BigInt(c.ssRet[k]));
    out.push(s.symbolize(ret - 1n)?.name ?? s.describe(ret));
  }
  return out;
}

/** Runs until RIP reaches `address` (a machine breakpoint), or throws with the stop. */
export function runTo(s: Session, address: bigint): void {
  s.machine.addBreakpoint(address);
  try {
    const st = s.run();
    if (st.reason !== 'breakpoint' || st.address !== address) throw new Error(`expected to reach ${s.describe(address)}, stopped: ${st.reason} ${st.message}`);
  } finally {
    s.machine.removeBreakpoint(address);
  }
}

/** A function symbol's address. */
export function sym(s: Session, name: string): bigint {
  const x = s.image.symbols.find((y) => y.name === name && !s.image.undefinedSymbols.includes(y.name));
  if (!x) throw new Error(`no symbol ${name}`);
  return x.address;
}

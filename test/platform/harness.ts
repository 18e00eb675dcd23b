// Shared helpers of the platform tests: build a Session from one of our fixtures under
// test/fixtures/tdx/, preset registers (callee-saved values, garbage) before the call, run it,
// and read registers and struct fields back. Expected values never come from here: the tests
// write them as literals from the references.

import { Session, LAYOUT, type SessionStop } from '../../emulator/session/session';
import type { LaunchConfig } from '../../emulator/session/config';
import { fromRoot } from '../support/paths';

export const FIXTURES = fromRoot('test/fixtures/tdx');

/** A fixture path under test/fixtures/tdx. */
export function fixture(name: string): string {
  return `${FIXTURES}/${name}`;
}

/** Callee-saved registers of the SysV ABI with recognisable values (set before the call). */
export const CALLEE_SAVED: Record<string, bigint> = {
  rbx: 0xb0b0_0000_0000_00bbn,
  rbp: 0xb0b0_0000_0000_0bb0n,
  r12: 0xc12c_0000_0000_0012n,
  r13: 0xc13c_0000_0000_0013n,
  r14: 0xc14c_0000_0000_0014n,
  r15: 0xc15c_0000_0000_0015n,
};

export interface Run {
  s: Session;
  stop: SessionStop;
  /** A register after the run (lower-case name). */
  reg(name: string): bigint;
  /** A field of the n-th struct argument (default the first). */
  field(name: string, arg?: number): bigint;
}

export interface RunOptions extends Omit<LaunchConfig, 'program'> {
  /** Registers to set right before the run (after the session laid out the arguments). */
  regs?: Record<string, bigint>;
}

/** Creates a session on `test/fixtures/tdx/<file>` and runs it to its stop. */
export async function run(file: string, opts: RunOptions): Promise<Run> {
  const { regs, ...config } = opts;
  const s = await Session.create({ program: fixture(file), maxInstructions: 100_000, ...config });
  for (const [r, v] of Object.entries(regs ?? {})) s.machine.setReg(r, v);
  const stop = s.run();
  return wrap(s, stop);
}

export function wrap(s: Session, stop: SessionStop): Run {
  return {
    s, stop,
    reg: (name) => s.machine.getReg(name),
    field: (name, arg = 0) => readField(s, arg, name),
  };
}

/** Reads a (≤ 8-byte) field of a struct argument from emulated memory. */
export function readField(s: Session, arg: number, name: string): bigint {
  const a = s.structArgs[arg];
  if (!a) throw new Error(`no struct argument #${arg}`);
  const f = a.layout.fields.find((x) => x.name === name);
  if (!f) throw new Error(`${a.layout.name} has no field ${name}`);
  const bytes = s.machine.readBytes(a.address + BigInt(f.offset), f.size);
  let v = 0n;
  for (let b = f.size - 1; b >= 0; b--) v = (v << 8n) | BigInt(bytes[b]);
  return v;
}

/** `0x…` for assertion messages. */
export const hex = (v: bigint | undefined) => (v === undefined ? 'undefined' : '0x' + BigInt.asUintN(64, v).toString(16));

/** A u64 at a data symbol of the Image. */
export function readSym(s: Session, name: string): bigint {
  const sym = s.image.symbols.find((x) => x.name === name);
  if (!sym) throw new Error(`no symbol ${name}`);
  return new DataView(s.machine.readBytes(sym.address, 8).slice().buffer).getBigUint64(0, true);
}

/**
 * Calls another function of the same session after a run returned, keeping the platform state
 * (TDX module, VMM, VMX) — how a test drives a sequence of calls the way the kernel would.
 */
export function callAgain(s: Session, fn: string, args: bigint[]): SessionStop {
  const sym = s.image.symbols.find((x) => x.name === fn);
  if (!sym) throw new Error(`no symbol ${fn}`);
  ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'].forEach((r, k) => { if (k < args.length) s.machine.setReg(r, args[k]); });
  const sp = LAYOUT.stackTop - 8n;
  const ret = new Uint8Array(8);
  new DataView(ret.buffer).setBigUint64(0, LAYOUT.returnTrap, true);
  s.machine.writeBytes(sp, ret);
  s.machine.setReg('rsp', sp);
  s.machine.setReg('rip', sym.address);
  return s.run();
}

/** Zeroes a struct argument and sets some of its fields (u64 fields by name). */
export function setStruct(s: Session, arg: number, fields: Record<string, bigint>): void {
  const a = s.structArgs[arg];
  s.machine.writeBytes(a.address, new Uint8Array(a.layout.size));
  for (const [name, v] of Object.entries(fields)) {
    const f = a.layout.fields.find((x) => x.name === name);
    if (!f) throw new Error(`${a.layout.name} has no field ${name}`);
    const b = new Uint8Array(f.size);
    for (let k = 0; k < f.size; k++) b[k] = Number((v >> BigInt(8 * k)) & 0xffn);
    s.machine.writeBytes(a.address + BigInt(f.offset), b);
  }
}

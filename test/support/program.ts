// Builds a Machine around a small GNU-as program for tests: code at a fixed address, a data
// page, a stack with a guard page below it, and a return trap so `ret` from the entry stops.

import { Machine, type MachineOptions } from '../../emulator/machine';
import { assembleWithGcc, sectionBytes, symbols } from './native';

export const CODE = 0x401000n;
export const DATA = 0x600000n;
export const STACK_TOP = 0x7ff00000n;
export const TRAP = 0x7fff0000n;

export interface Program {
  m: Machine;
  /** Address of a label in the code. */
  sym(name: string): bigint;
}

/** Assembles `asm` (GAS syntax; `.text` only, labels global or local) and loads it. */
export function load(asm: string, opts: { dataPerms?: string; codePerms?: string; machine?: MachineOptions } = {}): Program {
  const obj = assembleWithGcc(`\t.text\n${asm}\n\t.section .note.GNU-stack,"",@progbits\n`);
  const text = sectionBytes(obj);
  const syms = symbols(obj);
  const m = new Machine(opts.machine);
  m.map(CODE, Math.max(text.length, 1), opts.codePerms ?? 'rx');
  m.writeBytes(CODE, text);
  m.map(DATA, 0x2000, opts.dataPerms ?? 'rw');
  m.map(STACK_TOP - 0x10000n, 0x10000, 'rw');
  m.map(TRAP, 4096, 'rx');
  m.returnAddress = Number(TRAP);
  const sp = STACK_TOP - 8n;
  m.writeBytes(sp, new Uint8Array(new BigUint64Array([TRAP]).buffer));
  m.setReg('rsp', sp);
  m.setReg('rip', CODE);
  return {
    m,
    sym(name: string): bigint {
      const v = syms.get(name);
      if (v === undefined) throw new Error(`no symbol ${name}`);
      return CODE + v;
    },
  };
}

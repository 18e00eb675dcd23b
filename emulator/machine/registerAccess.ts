// Reading and writing registers of a Machine by name (what a debugger or a test names them):
// the GPRs and their parts from the register module (x86/registers.ts), RIP, RFLAGS, the control
// registers, EFER, the segment bases, CPL, MXCSR and the XMM registers.

import { Cpu, GPR_NAMES, addrToBig, Fl } from '../cpu/cpu';
import { getRflags, setArith } from '../cpu/flags';
import type { Memory } from '../memory/memory';
import { SUB_REGISTERS, SUB_REGISTER_NAMES, subRegisterBytes } from '../x86/registers';

/** Sub-register name → [GPR number, size in bytes, 1 for the high byte AH…BH]. */
const SUB_REGS = new Map<string, readonly [number, number, number]>();
for (const name of SUB_REGISTER_NAMES) {
  const owner = /^r(\d+)l$/.exec(name)?.[0].slice(0, -1)
    ?? Object.keys(SUB_REGISTERS).find((r) => SUB_REGISTERS[r].includes(name))!;
  SUB_REGS.set(name, [(GPR_NAMES as readonly string[]).indexOf(owner), subRegisterBytes(name), /^[a-d]h$/.test(name) ? 1 : 0]);
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/^[$%]/, '');
}

/** The value of a register by name (`rax`, `$eax`, `%ah`, `cr4`, `xmm3`, …); throws for an unknown name. */
export function readRegister(c: Cpu, name: string): bigint {
  const n = normalise(name);
  const g = (GPR_NAMES as readonly string[]).indexOf(n);
  if (g >= 0) return c.getGpr(g);
  const sub = SUB_REGS.get(n);
  if (sub) {
    const v = c.getGpr(sub[0]);
    return sub[2] ? (v >> 8n) & 0xffn : BigInt.asUintN(sub[1] * 8, v);
  }
  switch (n) {
    case 'rip': return addrToBig(c.rip);
    case 'rflags': case 'eflags': return BigInt(getRflags(c) >>> 0);
    case 'cr0': return c.cr0;
    case 'cr2': return c.cr2;
    case 'cr3': return c.cr3;
    case 'cr4': return c.cr4;
    case 'efer': return c.efer;
    case 'fs_base': case 'fsbase': return addrToBig(c.fsBase);
    case 'gs_base': case 'gsbase': return addrToBig(c.gsBase);
    case 'cpl': return BigInt(c.cpl);
    case 'mxcsr': return BigInt(c.mxcsr >>> 0);
  }
  const x = /^xmm(\d|1[0-5])$/.exec(n);
  if (x) return c.getXmm(Number(x[1]));
  throw new Error(`unknown register '${name}'`);
}

/**
 * Writes a register by name; a 32-bit part zero-extends into its 64-bit register as an
 * instruction writing it would. `addr` turns a value into a canonical address (or throws).
 */
export function writeRegister(c: Cpu, mem: Memory, name: string, value: bigint, addr: (a: bigint) => number): void {
  const n = normalise(name);
  const g = (GPR_NAMES as readonly string[]).indexOf(n);
  if (g >= 0) { c.setGpr(g, value); return; }
  const sub = SUB_REGS.get(n);
  if (sub) {
    const [r, size, high] = sub;
    const old = c.getGpr(r);
    if (size === 4) c.setGpr(r, BigInt.asUintN(32, value));
    else {
      const shift = high ? 8n : 0n, mask = ((1n << BigInt(size * 8)) - 1n) << shift;
      c.setGpr(r, (old & ~mask) | ((BigInt.asUintN(size * 8, value) << shift) & mask));
    }
    return;
  }
  switch (n) {
    case 'rip': c.rip = addr(value); return;
    case 'rflags': case 'eflags': {
      const v = Number(BigInt.asUintN(32, value));
      setArith(c, v);
      c.flags = (v & ~0x30000) | Fl.FIXED;
      return;
    }
    case 'cr0': c.cr0 = value; return;
    case 'cr2': c.cr2 = value; return;
    case 'cr3': c.cr3 = value; return;
    case 'cr4': c.cr4 = value; return;
    case 'efer': c.efer = value; return;
    case 'fs_base': case 'fsbase': c.fsBase = addr(value); return;
    case 'gs_base': case 'gsbase': c.gsBase = addr(value); return;
    case 'cpl': c.cpl = Number(value) & 3; mem.user = c.cpl === 3; return;
    case 'mxcsr':
      if (value < 0n || value > 0xffffn) throw new Error(`mxcsr 0x${value.toString(16)}: only bits 0-15 exist (a value above 0xffff would #GP in LDMXCSR)`);
      c.mxcsr = Number(value); return;
  }
  const x = /^xmm(\d|1[0-5])$/.exec(n);
  if (x) { c.setXmm(Number(x[1]), value); return; }
  throw new Error(`unknown register '${name}'`);
}

// Flag control, hints and system instructions: CLC STC CMC CLD STD CLI STI, NOP forms,
// ENDBR64, PAUSE, fences, INT3, UD2, HLT, CPUID, RDMSR/WRMSR, MOV to/from CR0/CR3/CR4,
// RDTSC, and the VMX/TDX instructions that leave for the platform hook.

import { Cpu, Fl } from '../cpu/cpu';
import { getCF, materialize } from '../cpu/flags';
import { CpuFault, Vector, gp } from '../cpu/fault';
import { MachineStop, PlatformInsn, notEmulated } from '../cpu/system';
import { Insn, K } from '../decode/insn';
import type { Handler } from '../decode/insn';
import { rec, type InsnRecord } from './table';
import { readReg, writeReg } from './operands';
import { UNDEFINED_AT_RESET, msrName } from '../x86/registers';

function flagOp(fn: (c: Cpu) => void): Handler {
  return (c) => fn(c);
}

function requireCpl0(c: Cpu, i: Insn): void {
  if (c.cpl !== 0) throw gp(`${i.mnemonic} at CPL ${c.cpl}`);
}

const nop: Handler = () => {};

/** CR0/CR3/CR4 moves. Reserved CR4 bits and CR0 combinations that would leave long mode raise #GP(0). */
export function movCr(c: Cpu, i: Insn): void {
  requireCpl0(c, i);
  if (i.k1 === K.CR) {
    const v = i.r1 === 0 ? c.cr0 : i.r1 === 2 ? c.cr2 : i.r1 === 3 ? c.cr3 : i.r1 === 4 ? c.cr4 : i.r1 === 8 ? 0n : undefined;
    if (v === undefined) throw new CpuFault(Vector.UD, undefined, `mov from cr${i.r1}: no such control register`);
    writeReg(c, i.r0, 8, Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
    return;
  }
  const lo = readReg(c, i.r1, 8), hi = c.readHigh;
  const v = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  switch (i.r0) {
    case 0:
      if (v >> 32n) throw gp('mov to cr0: bits 63:32 must be zero');
      if (!(v & 1n) || !(v & 0x80000000n)) throw gp('mov to cr0: clearing PE or PG in long mode');
      { const why = c.crFixedCheck?.(0, v); if (why) throw gp(`mov to cr0: ${why}`); }
      c.cr0 = v; return;
    case 2: c.cr2 = v; return;
    case 3: c.cr3 = v; return;
    case 4:
      // Bits the SDM reserves (as of CR4.LAM_SUP, bit 28) must be zero; PAE must stay set in long mode.
      if (v & ~0x1ff7fffn) throw gp(`mov to cr4: reserved bits set in 0x${v.toString(16)}`);
      if (!(v & 0x20n)) throw gp('mov to cr4: clearing PAE in long mode');
      // "If this bit [CPUID.01H:ECX.XSAVE] is 0, the processor will not allow software to set
      // [CR4.OSXSAVE]" (SDM Vol. 1, 13.2); XSAVE is never announced (UNIMPLEMENTED_FEATURES).
      if (v & 0x40000n) throw gp('mov to cr4: OSXSAVE (bit 18) cannot be set, the processor has no XSAVE (CPUID.01H:ECX.XSAVE = 0)');
      { const why = c.crFixedCheck?.(4, v); if (why) throw gp(`mov to cr4: ${why}`); }
      c.cr4 = v; return;
    case 8: return;
    default: throw new CpuFault(Vector.UD, undefined, `mov to cr${i.r0}: no such control register`);
  }
}

function cpuid(c: Cpu): void {
  const [a, b, cx, d] = c.sys.cpuid(c.r[0] >>> 0, c.r[2] >>> 0);
  writeReg(c, 0, 4, a | 0, 0); writeReg(c, 3, 4, b | 0, 0); writeReg(c, 1, 4, cx | 0, 0); writeReg(c, 2, 4, d | 0, 0);
}

function rdmsr(c: Cpu, i: Insn): void {
  requireCpl0(c, i);
  const msr = c.r[2] >>> 0;
  const v = c.sys.rdmsr(c, msr);
  if (v === undefined && UNDEFINED_AT_RESET.includes(msr)) {
    throw notEmulated(`rdmsr of ${msrName(msr)}: the program has not written it and its value after power-up or reset is undefined (SDM Vol. 3A Table 10-1, "all other MSRs")`);
  }
  if (v === undefined) throw gp(`rdmsr: MSR 0x${msr.toString(16)} is not modelled by this machine`);
  writeReg(c, 0, 4, Number(v & 0xffffffffn) | 0, 0);
  writeReg(c, 2, 4, Number((v >> 32n) & 0xffffffffn) | 0, 0);
}

function wrmsr(c: Cpu, i: Insn): void {
  requireCpl0(c, i);
  const msr = c.r[2] >>> 0;
  const v = (BigInt(c.r[4] >>> 0) << 32n) | BigInt(c.r[0] >>> 0);
  if (!c.sys.wrmsr(c, msr, v)) throw gp(`wrmsr: MSR 0x${msr.toString(16)} is not modelled by this machine or the value 0x${v.toString(16)} is invalid`);
}

/** RDTSC: a deterministic counter derived from retired instructions; #GP(0) at CPL > 0 when CR4.TSD is set. */
function rdtsc(c: Cpu): void {
  if (c.cpl > 0 && c.cr4 & 0x4n) throw gp(`rdtsc at CPL ${c.cpl} with CR4.TSD set`);
  const t = BigInt(c.icount) * 4n + (c.msrs.get(0x10) ?? 0n);
  writeReg(c, 0, 4, Number(t & 0xffffffffn) | 0, 0);
  writeReg(c, 2, 4, Number((t >> 32n) & 0xffffffffn) | 0, 0);
}

function platform(kind: PlatformInsn): Handler {
  return (c, i) => c.sys.platform(c, i, kind);
}

/** Not checked against the host CPU: privileged, leaves for the platform, or stops the run. */
const SYS = { diff: false } as const;
/** Runs alone too: reads the instruction count, leaves for the platform, or stops the run. */
const SOLO = { diff: false, solo: true } as const;

export const records: InsnRecord[] = [
  rec('clc', flagOp((c) => { materialize(c); c.flags &= ~Fl.CF; })),
  rec('stc', flagOp((c) => { materialize(c); c.flags |= Fl.CF; })),
  rec('cmc', flagOp((c) => { const cf = getCF(c); materialize(c); c.flags = (c.flags & ~Fl.CF) | (cf ^ 1); })),
  rec('cld', flagOp((c) => { c.flags &= ~Fl.DF; })),
  rec('std', flagOp((c) => { c.flags |= Fl.DF; })),
  rec('cli', (c, i) => { requireCpl0(c, i); c.flags &= ~Fl.IF; }, SYS),
  // STI: interrupts stay blocked for one more instruction (the shadow that makes "sti; hlt" and
  // "sti; tdcall" atomic).
  rec('sti', (c, i) => { requireCpl0(c, i); if (!(c.flags & Fl.IF)) c.stiShadowUntil = c.icount + 1; c.flags |= Fl.IF; }, SOLO),
  rec('nop', nop),
  rec('endbr64', nop),
  rec('endbr32', nop, { ...SYS, asm: [] }), // a no-op in 64-bit mode (kernel 64-bit code never has it; the assembler does not take it)
  rec('pause', nop),
  rec('lfence', nop),
  rec('mfence', nop),
  rec('sfence', nop),
  rec('int3', () => { throw new MachineStop('int3', 'int3 breakpoint instruction', false); }, { ...SOLO, noFallThrough: true }),
  rec('int', (_c, i) => {
    if ((i.immLo & 0xff) === 3) throw new MachineStop('int3', 'int $3 breakpoint instruction', false);
    throw new CpuFault(Vector.GP, ((i.immLo & 0xff) << 3) | 2, `int $${i.immLo & 0xff}: no interrupt descriptor table is modelled`);
  }, SOLO),
  rec('ud2', () => { throw new CpuFault(Vector.UD, undefined, 'ud2: invalid opcode'); }, { ...SOLO, noFallThrough: true }),
  rec('hlt', (c, i) => { requireCpl0(c, i); throw new MachineStop('halt', 'hlt: processor halted', false); }, { ...SOLO, noFallThrough: true }),
  rec('cpuid', cpuid, SYS), // answers come from the machine's CPUID table, not the host's
  rec('rdmsr', rdmsr, SOLO),
  rec('wrmsr', wrmsr, SOLO),
  rec('rdtsc', rdtsc, SOLO),
  rec('tdcall', platform('tdcall'), SOLO),
  rec('seamcall', platform('seamcall'), SOLO),
  rec('vmcall', platform('vmcall'), SOLO),
  rec('vmxon', platform('vmxon'), SOLO),
  rec('vmxoff', platform('vmxoff'), SOLO),
];

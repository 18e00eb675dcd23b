// RDMSR / WRMSR of a Machine: the architectural MSRs that live in CPU fields (EFER, FS/GS base,
// the TSC derived from the instruction count) and the table of MSRs a platform declared.

import { Cpu, MSR, addrToBig, bigToAddr } from '../cpu/cpu';

/** The value of an MSR, or undefined when the machine does not model it (RDMSR then #GPs). */
export function readMsr(c: Cpu, msr: number): bigint | undefined {
  switch (msr) {
    case MSR.IA32_EFER: return c.efer;
    case MSR.IA32_FS_BASE: return addrToBig(c.fsBase);
    case MSR.IA32_GS_BASE: return addrToBig(c.gsBase);
    case MSR.IA32_TSC: return BigInt(c.icount) * 4n + (c.msrs.get(MSR.IA32_TSC) ?? 0n);
  }
  return c.msrs.get(msr);
}

/** Writes an MSR; false when the MSR is not modelled or the value is invalid for it (WRMSR then #GPs). */
export function writeMsr(c: Cpu, msr: number, value: bigint): boolean {
  switch (msr) {
    case MSR.IA32_EFER:
      if (value & ~0xd01n) return false; // SCE, LME, LMA, NXE only
      c.efer = value | 0x500n; return true; // long mode stays active
    case MSR.IA32_FS_BASE: case MSR.IA32_GS_BASE: {
      const a = bigToAddr(value);
      if (a === undefined) return false;
      if (msr === MSR.IA32_FS_BASE) c.fsBase = a; else c.gsBase = a;
      return true;
    }
    case MSR.IA32_TSC: c.msrs.set(MSR.IA32_TSC, value - BigInt(c.icount) * 4n); return true;
    // The SYSCALL/SYSRET MSRs (SDM Vol. 4 Table 2-2): any STAR; a canonical LSTAR; FMASK bits 63:32 reserved.
    case MSR.IA32_STAR: c.msrs.set(msr, value); return true;
    case MSR.IA32_LSTAR: if (bigToAddr(value) === undefined) return false; c.msrs.set(msr, value); return true;
    case MSR.IA32_FMASK: if (value >> 32n) return false; c.msrs.set(msr, value); return true;
  }
  if (!c.msrs.has(msr)) return false;
  c.msrs.set(msr, value);
  return true;
}

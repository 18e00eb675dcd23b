// System instructions kernel code executes, with their privilege and mode checks (Intel SDM
// Vol. 2): SWAPGS, RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE (CR4.FSGSBASE), LGDT/SGDT/LIDT/SIDT
// (descriptor-table registers; SGDT/SIDT honour CR4.UMIP), INVLPG, WBINVD/INVD,
// CLFLUSH/CLFLUSHOPT/CLWB (checked like a byte read), XGETBV/XSETBV (#UD: XSAVE is not implemented and CPUID says so).

import { Cpu, MSR } from '../cpu/cpu';
import { gp, ud } from '../cpu/fault';
import { Insn } from '../decode/insn';
import type { Handler } from '../decode/insn';
import { ea, readReg, writeReg, hiOf, loOf } from './operands';
import { FEATURE, InsnRecord, rec } from './table';

function cpl0(c: Cpu, i: Insn): void {
  if (c.cpl !== 0) throw gp(`${i.mnemonic} at CPL ${c.cpl}`);
}

const TWO32 = 4294967296;

/** SWAPGS: GS.base ⇄ IA32_KERNEL_GS_BASE (CPL 0 only). */
const swapgs: Handler = (c, i) => {
  cpl0(c, i);
  const k = c.msrs.get(MSR.IA32_KERNEL_GS_BASE) ?? 0n;
  c.msrs.set(MSR.IA32_KERNEL_GS_BASE, BigInt.asUintN(64, BigInt(c.gsBase)));
  const s = BigInt.asIntN(64, k);
  c.gsBase = Number(s); // the MSR only ever holds canonical values (WRMSR checks them)
};

function fsgs(write: boolean, gs: boolean): Handler {
  return (c, i) => {
    if (!(c.cr4 & 0x10000n)) throw ud(`${i.mnemonic}: CR4.FSGSBASE is clear`);
    if (!write) {
      const b = gs ? c.gsBase : c.fsBase;
      writeReg(c, i.r0, i.s0, loOf(b), i.s0 === 8 ? hiOf(b) : 0);
      return;
    }
    const lo = readReg(c, i.r0, i.s0), hi = i.s0 === 8 ? c.readHigh : 0;
    if ((hi >> 15) !== 0 && (hi >> 15) !== -1) throw gp(`${i.mnemonic}: non-canonical base 0x${((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString(16)}`);
    const a = hi * TWO32 + (lo >>> 0);
    if (gs) c.gsBase = a; else c.fsBase = a;
  };
}

/** LGDT/LIDT m16&64 (CPL 0) and SGDT/SIDT (CR4.UMIP: CPL 0 only). */
function dtr(load: boolean, idt: boolean): Handler {
  return (c, i) => {
    const a = ea(c, i);
    if (load) {
      cpl0(c, i);
      const limit = c.mem.read16(a), lo = c.mem.read64(a + 2), hi = c.mem.hi;
      const base = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
      if (idt) { c.idtrBase = base; c.idtrLimit = limit; } else { c.gdtrBase = base; c.gdtrLimit = limit; }
      return;
    }
    if (c.cpl !== 0 && c.cr4 & 0x800n) throw gp(`${i.mnemonic} at CPL ${c.cpl} with CR4.UMIP set`);
    const base = idt ? c.idtrBase : c.gdtrBase;
    c.mem.probeWrite(a, 10);
    c.mem.write16(a, idt ? c.idtrLimit : c.gdtrLimit);
    c.mem.write64(a + 2, Number(base & 0xffffffffn) | 0, Number(base >> 32n) | 0);
  };
}

/** INVLPG m: CPL 0; drops cached translations (the machine's TLBs). */
const invlpg: Handler = (c, i) => {
  cpl0(c, i);
  ea(c, i);
  c.mem.flushTlb();
};

const wbinvd: Handler = (c, i) => cpl0(c, i);

/** CLFLUSH/CLFLUSHOPT/CLWB m8: no cache to model, but the address is checked like a byte read. */
const clflush: Handler = (c, i) => {
  c.mem.read8(ea(c, i));
};

/**
 * XGETBV/XSETBV: #UD whenever CPUID.01H:ECX.XSAVE[26] = 0 or CR4.OSXSAVE[18] = 0 (SDM Vol. 2,
 * XGETBV/XSETBV, exceptions). XSAVE is never announced (see UNIMPLEMENTED_FEATURES), so both are
 * always #UD; MOV to CR4 refuses OSXSAVE for the same reason (exec/system.ts).
 */
const xgetbv: Handler = (c, i) => {
  throw ud(`${i.mnemonic}: XSAVE is not supported (CPUID.01H:ECX.XSAVE = 0)${c.cr4 & 0x40000n ? '' : ' and CR4.OSXSAVE is clear'}`);
};

export const records: InsnRecord[] = [
  // Privileged or host-specific state: checked by unit tests, not on the host CPU.
  rec('swapgs', swapgs, { diff: false }),
  rec('rdfsbase', fsgs(false, false), { cpuid: FEATURE.FSGSBASE, diff: false }),
  rec('rdgsbase', fsgs(false, true), { cpuid: FEATURE.FSGSBASE, diff: false }),
  rec('wrfsbase', fsgs(true, false), { cpuid: FEATURE.FSGSBASE, diff: false }),
  rec('wrgsbase', fsgs(true, true), { cpuid: FEATURE.FSGSBASE, diff: false }),
  rec('lgdt', dtr(true, false), { diff: false }),
  rec('lidt', dtr(true, true), { diff: false }),
  rec('sgdt', dtr(false, false), { diff: false }),
  rec('sidt', dtr(false, true), { diff: false }),
  rec('invlpg', invlpg, { diff: false }),
  rec('wbinvd', wbinvd, { diff: false }),
  rec('invd', wbinvd, { diff: false }),
  rec('clflush', clflush, { cpuid: FEATURE.CLFSH }),
  rec('clflushopt', clflush, { cpuid: FEATURE.CLFLUSHOPT }),
  rec('clwb', clflush, { cpuid: FEATURE.CLWB }),
  rec('xgetbv', xgetbv, { diff: false }),
  rec('xsetbv', xgetbv, { diff: false }),
];

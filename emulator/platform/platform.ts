// The TDX platform around the CPU: execution context, VMX state (CR4.VMXE, VMXON/VMXOFF),
// BIOS enablement (MSRs 0x3A and 0x87), CPUID leaf 0x21 in a guest, and TDCALL/SEAMCALL/VMCALL
// checked in the CPU's order before the TDX module model answers. Fault-plan rules are applied
// at each call; every call becomes a TdxCallEvent.

import { Cpu, MSR, addrToBig } from '../cpu/cpu';
import { setArith } from '../cpu/flags';
import { CpuFault, Vector } from '../cpu/fault';
import { MachineStop, PlatformInsn } from '../cpu/system';
import { Insn } from '../decode/insn';
import type { Machine } from '../machine';
import { ea, readMem } from '../exec/operands';
import { TdxModule, type TdxCallResult } from '../tdx/module';
import { VmmModel, type VmmConfig } from '../tdx/vmm';
import type { TdxModuleConfig } from '../tdx/moduleConfig';
import { FaultInjector, vmmOverrideFor, formatFaultRule, type FaultRule, type FaultHit } from '../tdx/faultPlan';
import { decodeSeamldrStatus, decodeTdxStatus, decodeTdvmcallStatus } from '../tdx/statusDecoder';
import { findLeaf, KVM_HYPERCALL_ERRNO } from '../tdx/catalog';
import { vmcallName } from './format';
import { GPR_NAMES, type TdxCpuAccess } from '../tdx/types';
import type { ExecContext, PlatformState } from './config';
import type { PlatformEvent, TdxCallEvent } from './events';
import { callTitle } from './format';
import { DEFAULT_RECENT, RecentLog } from './recentLog';
import { CR4_BITS, bitOf } from '../x86/registers';

/** CR4.VMXE (SDM vol. 3 §2.5). */
const CR4_VMXE = 1n << BigInt(bitOf(CR4_BITS, 'VMXE'));
/** IA32_FEATURE_CONTROL bits: locked, VMX outside SMX (SDM vol. 3 §24.7, vol. 4 MSR 3AH). */
const FEAT_CTL_LOCKED = 1n, FEAT_CTL_VMX_OUTSIDE_SMX = 4n;
const MSR_VMX_BASIC = MSR.IA32_VMX_BASIC;
/**
 * IA32_VMX_CR0_FIXED0/1 and IA32_VMX_CR4_FIXED0/1 (SDM Vol. 3D, Appendix A.7 and A.8): in VMX
 * operation a CR bit set in FIXED0 must be 1 and a bit clear in FIXED1 must be 0. FIXED0 values are
 * PE, NE, PG for CR0 and VMXE for CR4 (A.7/A.8); FIXED1 allows every CR0 bit and the CR4 bits this
 * CPU implements (the complement of the reserved bits MOV to CR4 checks).
 */
const MSR_VMX_CR0_FIXED0 = 0x486, MSR_VMX_CR0_FIXED1 = 0x487, MSR_VMX_CR4_FIXED0 = 0x488, MSR_VMX_CR4_FIXED1 = 0x489;
const VMX_CR0_FIXED0 = 0x8000_0021n, VMX_CR0_FIXED1 = 0xffff_ffffn, VMX_CR4_FIXED0 = 0x2000n, VMX_CR4_FIXED1 = 0x1ff_7fffn;
const CR_NAMES: Record<0 | 4, Record<number, string>> = { 0: { 0: 'PE', 5: 'NE', 31: 'PG' }, 4: { 13: 'VMXE' } };
/** x86-64 direct map (PAGE_OFFSET, 4-level paging) and kernel image map (__START_KERNEL_map). */
const PAGE_OFFSET = 0xffff_8880_0000_0000n, START_KERNEL_MAP = 0xffff_ffff_8000_0000n;
/** VMCS revision identifier this machine reports in IA32_VMX_BASIC[30:0]. */
const VMCS_REVISION = 4n;
/** RFLAGS after VMX instructions: VMsucceed clears all six status flags; VMfailInvalid sets CF alone. */
const VM_SUCCEED = 0, VM_FAIL_INVALID = 0x1;

export interface PlatformSetup {
  state: PlatformState & { vmxe: boolean };
  module?: TdxModuleConfig;
  vmm?: VmmConfig;
  faults?: FaultRule[];
  seed?: bigint;
  /** Names an address for events and fault-rule call sites (`__tdx_hypercall+0x2c`). */
  symbolize?: (address: bigint) => { name: string; offset: bigint } | undefined;
  /** TDX calls kept in full (the most recent; older ones are counted by title). Default DEFAULT_RECENT. */
  callHistory?: number;
  /** The logical processor running now (the module's per-LP state, e.g. TDH.SYS.LP.INIT, follows it); default 0. */
  currentLp?: () => number;
}

export class Platform {
  readonly module: TdxModule;
  readonly vmm: VmmModel;
  readonly injector: FaultInjector;
  /** The call timeline: the most recent `callHistory` calls in full, the older ones counted. */
  readonly calls: RecentLog<TdxCallEvent>;
  readonly state: PlatformState;
  private readonly listeners: ((e: PlatformEvent) => void)[] = [];
  private readonly access: TdxCpuAccess;

  constructor(readonly machine: Machine, private readonly setup: PlatformSetup) {
    const s = setup.state;
    this.calls = new RecentLog<TdxCallEvent>(setup.callHistory ?? DEFAULT_RECENT, callTitle, (c) => c.address);
    this.state = { ...s };
    this.vmm = new VmmModel(setup.vmm ?? {}, {
      ...(setup.module?.gpaw !== undefined ? { gpaw: setup.module.gpaw } : {}),
      ...(setup.module?.numVcpus !== undefined ? { numVcpus: setup.module.numVcpus } : {}),
    });
    this.module = new TdxModule({ ...(setup.module ?? {}), ...(s.noRbpMod ? { noRbpMod: true } : {}) } as TdxModuleConfig, this.vmm);
    this.injector = new FaultInjector(setup.faults ?? [], setup.seed ?? 0n);
    const m = machine;
    this.access = {
      getReg: (i) => m.cpu.getGpr(i),
      setReg: (i, v) => m.cpu.setGpr(i, v),
      readMemory: (gpa, len) => m.readBytes(this.phys(gpa, len), len),
      writeMemory: (gpa, bytes) => m.writeBytes(this.phys(gpa, bytes.length), bytes),
      isMapped: (gpa, len) => this.mapped(this.phys(gpa, len), len),
    };
    const c = m.cpu;
    c.cr4 = s.vmxe ? c.cr4 | CR4_VMXE : c.cr4 & ~CR4_VMXE;
    c.cpl = s.cpl;
    m.setReg('cpl', BigInt(s.cpl));
    m.defineMsr(MSR.IA32_FEATURE_CONTROL, s.featureControl);
    // MSR 0x87: bits 31:0 MKTME KeyIDs, 63:32 TDX private KeyIDs (at least 2 when the BIOS enabled TDX).
    m.defineMsr(MSR.IA32_MKTME_KEYID_PARTITIONING, ((s.tdxBios ? 32n : 0n) << 32n) | 31n);
    m.defineMsr(MSR_VMX_BASIC, VMCS_REVISION | (0x1000n << 32n) | (6n << 50n));
    m.defineMsr(MSR_VMX_CR0_FIXED0, VMX_CR0_FIXED0);
    m.defineMsr(MSR_VMX_CR0_FIXED1, VMX_CR0_FIXED1);
    m.defineMsr(MSR_VMX_CR4_FIXED0, VMX_CR4_FIXED0);
    m.defineMsr(MSR_VMX_CR4_FIXED1, VMX_CR4_FIXED1);
    // MOV to CR0/CR4 in VMX operation (SDM Vol. 2B MOV—Move to/from Control Registers: #GP(0)
    // "if an attempt is made to leave VMX operation's fixed bits", Vol. 3C 24.8 "Restrictions on VMX
    // operation"): clearing CR4.VMXE, PE, NE or PG raises #GP(0) while VMXON is in effect.
    c.crFixedCheck = (cr, v) => {
      if (!this.state.vmxon || this.state.context === 'guest') return undefined;
      const [f0, f1] = cr === 0 ? [VMX_CR0_FIXED0, VMX_CR0_FIXED1] : [VMX_CR4_FIXED0, VMX_CR4_FIXED1];
      const clear = f0 & ~v, set = v & ~f1;
      if (!clear && !set) return undefined;
      const bits = (m: bigint) => [...Array(64).keys()].filter((b) => (m >> BigInt(b)) & 1n).map((b) => CR_NAMES[cr][b] ?? `bit ${b}`).join(', ');
      return clear ? `${bits(clear)} must stay set in VMX operation (IA32_VMX_CR${cr}_FIXED0)` : `${bits(set)} must stay clear in VMX operation (IA32_VMX_CR${cr}_FIXED1)`;
    };
    if (s.context === 'guest') {
      // CPUID 0x21 "IntelTDX    " in EBX, EDX, ECX (GHCI; Linux asm/shared/tdx.h, arch/x86/kvm/vmx/tdx.c), and the hypervisor bit.
      const le = (t: string) => t.charCodeAt(0) | (t.charCodeAt(1) << 8) | (t.charCodeAt(2) << 16) | (t.charCodeAt(3) << 24);
      m.setCpuid(0x21, 0, [0, le('Inte'), le('    '), le('lTDX')]);
      const l1 = m.cpuid(1, 0);
      m.setCpuid(1, undefined, [l1[0], l1[1], (l1[2] | (1 << 31)) & ~(1 << 5), l1[3]]);
    }
    m.platformHook = (cpu, i, kind) => this.execute(cpu, i, kind);
  }

  private mapped(a: bigint, len: number): boolean {
    return this.machine.mem.mappedLength(Number(BigInt.asIntN(64, a)), len) === len;
  }

  /**
   * Physical → emulator address. TDX operands (and the VMXON pointer) are physical addresses:
   * the kernel passes __pa()/virt_to_phys() values, while the emulator keeps memory at kernel
   * virtual addresses. A physical address is found through the direct map, then the kernel-image
   * map (phys_base 0). In a TD the shared bit names the same page (set_memory_decrypted()
   * changes the mapping, not the address). Addresses that are not physical (bits 63:52 set) or
   * are mapped as given are used as they are.
   */
  phys(pa: bigint, len: number): bigint {
    const p = BigInt.asUintN(64, pa);
    if (p >> 52n || this.mapped(p, len)) return p;
    const shared = this.state.context === 'guest' ? (this.setup.module?.gpaw ? 1n << 51n : 1n << 47n) : 0n;
    const q = p & ~shared;
    for (const base of [PAGE_OFFSET, START_KERNEL_MAP]) if (this.mapped(base + q, len)) return base + q;
    return p;
  }

  /**
   * Replaces the fault plan (what-if branches, fault-matrix scenarios): the new rules count
   * calls from now on (`@N` is the N-th matching call after this point), or from `state` when
   * it is given (a snapshot of an injector with the same rules).
   */
  setFaults(rules: readonly FaultRule[], state?: ReturnType<FaultInjector['snapshot']>): void {
    const next = new FaultInjector(rules, this.setup.seed ?? 0n);
    if (state) next.restore(state);
    (this as { injector: FaultInjector }).injector = next;
  }

  onEvent(listener: (e: PlatformEvent) => void): void {
    this.listeners.push(listener);
  }

  emit(e: PlatformEvent): void {
    for (const l of this.listeners) l(e);
  }

  get context(): ExecContext {
    return this.state.context;
  }

  /** CR4.VMXE as the CPU has it now (code may change it). */
  get vmxe(): boolean {
    return (this.machine.cpu.cr4 & CR4_VMXE) !== 0n;
  }

  private execute(c: Cpu, i: Insn, kind: PlatformInsn): void {
    switch (kind) {
      case 'tdcall': return this.tdcall(c, i);
      case 'seamcall': return this.seamcall(c, i);
      case 'vmxon': return this.vmxon(c, i);
      case 'vmxoff': return this.vmxoff(c, i);
      case 'vmcall': return this.vmcall(c, i);
    }
  }

  private regs(): Record<string, bigint> {
    const out: Record<string, bigint> = {};
    GPR_NAMES.forEach((n, k) => { out[n] = this.machine.cpu.getGpr(k); });
    return out;
  }

  private newEvent(insn: 'tdcall' | 'seamcall', i: Insn): TdxCallEvent {
    const address = addrToBig(i.addr);
    const rax = this.machine.cpu.getGpr(0);
    const sym = this.setup.symbolize?.(address);
    const ev: TdxCallEvent = {
      seq: this.calls.length + 1, insn, address, leafNumber: Number(rax & 0xffffn), version: Number((rax >> 16n) & 0xffn),
      before: this.regs(), injected: false, icount: this.machine.cpu.icount,
    };
    if (sym) ev.site = sym.offset ? `${sym.name}+0x${sym.offset.toString(16)}` : sym.name;
    const leaf = findLeaf(insn, rax);
    if (leaf) ev.leaf = leaf.name;
    if (insn === 'tdcall' && ev.leafNumber === 0 && (rax >> 16n) === 0n) {
      const r11 = this.machine.cpu.getGpr(11);
      ev.subfunctionNumber = r11;
      Object.assign(ev, vmcallName(this.machine.cpu.getGpr(10), r11));
    }
    return ev;
  }

  private fault(ev: TdxCallEvent, vector: number, code: number | undefined, why: string): never {
    ev.fault = vector === Vector.UD ? '#UD' : vector === Vector.GP ? '#GP' : '#PF';
    ev.faultDetail = why;
    this.record(ev);
    throw new CpuFault(vector, code, why);
  }

  private record(ev: TdxCallEvent): void {
    this.calls.push(ev);
    this.emit({ kind: 'call', call: ev });
  }

  private hitFor(insn: 'tdcall' | 'seamcall', i: Insn): FaultHit | undefined {
    const address = addrToBig(i.addr);
    return this.injector.next({ instruction: insn, getReg: (k) => this.machine.cpu.getGpr(k), rip: address, symbol: this.setup.symbolize?.(address) });
  }

  /** Applies a hit's exception/status/skip action; returns true when the call is done. */
  private applyHit(ev: TdxCallEvent, hit: FaultHit): boolean {
    const a = hit.action;
    ev.injected = true;
    ev.rule = hit.rule.text || formatFaultRule(hit.rule);
    switch (a.kind) {
      case 'exception':
        this.fault(ev, a.vector, a.vector === Vector.UD ? undefined : a.errorCode ?? 0,
          `${a.exception}${a.vector === Vector.UD ? '' : `(${a.errorCode ?? 0})`} injected by fault rule '${ev.rule}'`);
        break;
      case 'status':
        this.machine.cpu.setGpr(0, a.value);
        this.complete(ev, a.value);
        return true;
      case 'skip':
        this.complete(ev, undefined);
        return true;
    }
    return false;
  }

  private complete(ev: TdxCallEvent, status: bigint | undefined): void {
    ev.after = this.regs();
    if (status !== undefined) {
      ev.status = status;
      ev.statusName = ev.insn === 'seamcall' && ev.before.RAX >> 63n ? decodeSeamldrStatus(status).name : decodeTdxStatus(status).name;
    }
    // R10 holds the VMM's answer only when the module handed the call to the VMM (not when it
    // rejected the RCX bitmap, or a fault rule decided the TDCALL's status).
    if (ev.vmcall) {
      ev.vmcallStatus = ev.after.R10;
      ev.vmcallStatusName = ev.hypercallNr !== undefined ? kvmResultName(ev.after.R10) : decodeTdvmcallStatus(ev.after.R10).name;
    }
    this.record(ev);
  }

  // ---- TDCALL -------------------------------------------------------------------------------

  /** TDCALL: #UD outside a TD guest, #GP(0) at CPL > 0, then the module (TDX module tdx_td_dispatcher.c). */
  private tdcall(c: Cpu, i: Insn): void {
    const ev = this.newEvent('tdcall', i);
    if (this.state.context !== 'guest') this.fault(ev, Vector.UD, undefined, `tdcall outside a TD guest (context: ${this.state.context})`);
    if (c.cpl > 0) this.fault(ev, Vector.GP, 0, `tdcall at CPL ${c.cpl}`);
    const hit = this.hitFor('tdcall', i);
    if (hit && this.applyHit(ev, hit)) return;
    const setAfter = hit && hit.action.kind === 'set' && hit.rule.where !== 'tdvmcall' ? hit.action : undefined;
    const override = hit ? vmmOverrideFor(hit, this.setup.seed ?? 0n) : undefined;
    if (hit && override) { ev.injected = true; ev.rule = hit.rule.text || formatFaultRule(hit.rule); }
    let r = this.module.tdcall(this.access, override ? { vmm: override } : {});
    if (r.kind === 'td-exit' && this.vmm.profile === 'kvm') {
      // KVM handles the EPT violation (tdx_handle_ept_violation → the TDP MMU faults the page in
      // with TDH.MEM.PAGE.AUG for a private GPA, or maps a shared one) and re-enters the TD at the
      // same TDCALL, which then runs again. The page appears in the direct map (__va(gpa)).
      const page = r.gpa & ~0xfffn & ~(this.setup.module?.gpaw ? 1n << 51n : 1n << 47n);
      const size = r.leaf?.name === 'TDG.MEM.PAGE.ACCEPT' && (ev.before.RCX & 7n) === 1n ? 0x20_0000 : 0x1000;
      for (let off = 0; off < size; off += 0x1000) {
        const va = PAGE_OFFSET + page + BigInt(off);
        if (!this.mapped(va, 0x1000)) this.machine.map(va, 0x1000, 'rw', 'vmm-added');
      }
      ev.vmmAdded = { gpa: page, size, reason: r.detail };
      r = this.module.tdcall(this.access, override ? { vmm: override } : {});
    }
    this.finish(ev, r);
    if (setAfter && setAfter.kind === 'set') { c.setGpr(GPR_NAMES.indexOf(setAfter.reg as (typeof GPR_NAMES)[number]), setAfter.value); ev.after = this.regs(); }
  }

  private finish(ev: TdxCallEvent, r: TdxCallResult): void {
    if (r.leaf) ev.leaf = r.leaf.name;
    if (r.kind === 'completed') {
      if (r.vmcall) ev.vmcall = r.vmcall;
      if (r.detail) ev.detail = r.detail;
      this.complete(ev, r.status);
      return;
    }
    if (r.kind === 'td-exit') {
      ev.stopped = 'td-exit';
      ev.detail = r.detail;
      this.record(ev);
      throw new MachineStop('platform', `TD exit to the VMM: ${r.detail}`, true, { kind: 'td-exit', gpa: r.gpa, call: ev });
    }
    ev.stopped = 'fatal-error';
    ev.vmcall = r.vmcall;
    ev.detail = r.message;
    this.record(ev);
    throw new MachineStop('platform', `TDG.VP.VMCALL<ReportFatalError> error code 0x${r.errorCode.toString(16)}: ${r.message}`, false,
      { kind: 'fatal-error', errorCode: r.errorCode, message: r.message, call: ev });
  }

  // ---- SEAMCALL -----------------------------------------------------------------------------

  /**
   * SEAMCALL in the CPU's order (Intel SDM vol. 3; TDX module ABI specification): #UD when not in VMX operation (or in a TD,
   * where the module injects #UD), #GP(0) at CPL > 0 or with TDX not enabled by the BIOS,
   * VMfailInvalid (CF=1, RAX unchanged, nothing else written) with no module loaded.
   */
  private seamcall(c: Cpu, i: Insn): void {
    const ev = this.newEvent('seamcall', i);
    const s = this.state;
    if (s.context === 'guest') this.fault(ev, Vector.UD, undefined, 'seamcall in a TD guest (the TDX module injects #UD)');
    if (!this.vmxe || !s.vmxon) this.fault(ev, Vector.UD, undefined, `seamcall while not in VMX operation (${!this.vmxe ? 'CR4.VMXE is clear' : 'no VMXON'})`);
    if (c.cpl > 0) this.fault(ev, Vector.GP, 0, `seamcall at CPL ${c.cpl}`);
    if (!s.tdxBios) this.fault(ev, Vector.GP, 0, 'seamcall with TDX not enabled by the BIOS');
    const hit = this.hitFor('seamcall', i);
    if (hit && hit.action.kind === 'vmfailinvalid') {
      ev.injected = true; ev.rule = hit.rule.text || formatFaultRule(hit.rule);
      this.vmfailInvalid(ev, 'injected VMfailInvalid');
      return;
    }
    if (hit && this.applyHit(ev, hit)) { setArith(c, VM_SUCCEED); return; }
    if (c.getGpr(0) >> 63n) {
      // RAX bit 63: the CPU enters the P-SEAMLDR, whatever the module's state (SEAMCALL
      // pseudo-code, SDM "Intel TDX" SEAMCALL: loader mode); the module's presence does not matter.
      if (!s.seamldr.loaded) { this.vmfailInvalid(ev, 'no P-SEAMLDR loaded'); return; }
      if (s.seamldr.busy) { this.vmfailInvalid(ev, 'P-SEAMLDR busy (another logical processor is in the loader)'); return; }
      const r = this.module.seamldr(this.access, s.module);
      s.module = r.moduleLoaded;
      setArith(c, VM_SUCCEED);
      this.finish(ev, r);
      return;
    }
    if (!s.module) { this.vmfailInvalid(ev, 'no TDX module loaded'); return; }
    const r = this.module.seamcall(this.access, { lp: this.setup.currentLp?.() ?? 0 });
    setArith(c, VM_SUCCEED);
    this.finish(ev, r);
    if (hit && hit.action.kind === 'set') {
      c.setGpr(GPR_NAMES.indexOf(hit.action.reg as (typeof GPR_NAMES)[number]), hit.action.value);
      ev.injected = true; ev.rule = hit.rule.text || formatFaultRule(hit.rule);
      ev.after = this.regs();
    }
  }

  private vmfailInvalid(ev: TdxCallEvent, why: string): void {
    setArith(this.machine.cpu, VM_FAIL_INVALID);
    ev.fault = 'VMfailInvalid';
    ev.faultDetail = why;
    ev.after = this.regs();
    this.record(ev);
  }

  // ---- VMX ------------------------------------------------------------------------------------

  /** VMXON m64: #UD without CR4.VMXE (or in a TD); #GP(0) at CPL > 0 or unless FEATURE_CONTROL is locked with VMX outside SMX. */
  private vmxon(c: Cpu, i: Insn): void {
    if (this.state.context === 'guest' || !this.vmxe) throw new CpuFault(Vector.UD, undefined, this.state.context === 'guest' ? 'vmxon in a TD guest' : 'vmxon with CR4.VMXE clear');
    if (c.cpl > 0) throw new CpuFault(Vector.GP, 0, `vmxon at CPL ${c.cpl}`);
    const fc = c.msrs.get(MSR.IA32_FEATURE_CONTROL) ?? 0n;
    if (!(fc & FEAT_CTL_LOCKED) || !(fc & FEAT_CTL_VMX_OUTSIDE_SMX)) {
      throw new CpuFault(Vector.GP, 0, `vmxon: IA32_FEATURE_CONTROL is 0x${fc.toString(16)} (needs locked and VMX outside SMX)`);
    }
    const lo = readMem(c, ea(c, i), 8), region = (BigInt(c.readHigh >>> 0) << 32n) | BigInt(lo >>> 0);
    if (this.state.vmxon) { setArith(c, VM_FAIL_INVALID); return; } // already in VMX root, no current VMCS
    if (region & 0xfffn || region >> 46n) { setArith(c, VM_FAIL_INVALID); return; }
    let rev: bigint;
    try { rev = BigInt(new DataView(this.machine.readBytes(this.phys(region, 4), 4).slice().buffer).getUint32(0, true) & 0x7fffffff); } catch { rev = -1n; }
    if (rev !== VMCS_REVISION) { setArith(c, VM_FAIL_INVALID); return; }
    this.state.vmxon = true;
    setArith(c, VM_SUCCEED);
  }

  /** VMXOFF: #UD outside VMX operation, #GP(0) at CPL > 0. */
  private vmxoff(c: Cpu, _i: Insn): void {
    if (!this.state.vmxon || !this.vmxe) throw new CpuFault(Vector.UD, undefined, 'vmxoff while not in VMX operation');
    if (c.cpl > 0) throw new CpuFault(Vector.GP, 0, `vmxoff at CPL ${c.cpl}`);
    this.state.vmxon = false;
    setArith(c, VM_SUCCEED);
  }

  /** VMCALL: #UD outside VMX operation; in VMX root with no current VMCS, VMfailInvalid; in a TD the module injects #UD. */
  private vmcall(c: Cpu, _i: Insn): void {
    if (this.state.context === 'guest') throw new CpuFault(Vector.UD, undefined, 'vmcall in a TD guest (use TDG.VP.VMCALL)');
    if (!this.state.vmxon || !this.vmxe) throw new CpuFault(Vector.UD, undefined, 'vmcall while not in VMX operation');
    setArith(c, VM_FAIL_INVALID);
  }
}


/** A KVM hypercall's result as KVM's code spells it: `-KVM_ENOSYS`, or the number. */
function kvmResultName(v: bigint): string {
  const n = BigInt.asIntN(64, v);
  const e = Object.entries(KVM_HYPERCALL_ERRNO).find(([, x]) => -x === n);
  return e ? `-${e[0]}` : String(n);
}

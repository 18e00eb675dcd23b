// The TDX module model: TDCALL and SEAMCALL dispatch in the module's order
// (TDX module tdx_td_dispatcher.c and TDX module tdx_vmm_dispatcher.c), then the leaf handlers in guestLeaves.ts/hostLeaves.ts.
// The platform layer has already done the CPU-level checks (#UD, #GP, VMfailInvalid, contexts);
// this is called only when the leaf really runs in the module. It writes registers through
// `TdxCpuAccess`, the status into RAX, and tells the platform what happened.

import { findLeaf, normalizeTdxName } from './catalog';
import { tdgMemPageAccept, tdgMrReport, tdgMrRtmrExtend, tdgVmRdWr, tdgVpInfo, tdgVpVeinfoGet, tdgVpVmcall } from './guestLeaves';
import { configuredSuccess, tdhSysConfig, tdhSysInfoOrRdall, tdhSysInit, tdhSysKeyConfig, tdhSysLpInit, tdhSysRd, tdhSysShutdown, tdhSysTdmrInit, tdhSysUpdate } from './hostLeaves';
import type { TdxInstruction, TdxLeaf } from './leaves';
import { initialModuleState, resolveModuleConfig, type ResolvedModuleConfig, type TdxModuleConfig, type TdxModuleState, type VeInfo } from './moduleConfig';
import { TDX_STATUS } from './modelStatuses';
import { seamldrCall } from './seamldr';
import { VmmModel, type VmmOverride, type VmmResult } from './vmm';
import { GPR, ModelConfigError, toU64, u64, type GprName, type TdxCpuAccess } from './types';

export type { TdxModuleConfig, TdxModuleState, VeInfo } from './moduleConfig';

/** What the VMM exchange of one TDG.VP.VMCALL looked like. */
export interface VmcallRecord {
  /** RCX[15:0] of the guest. */
  exposedMask: number;
  /** The exposed GPRs (RDX..R15) by name. */
  exposed: GprName[];
  /** The VMM's answer (its register view included). */
  vmm: VmmResult;
  /** GPRs written back into the guest (the exposed ones). */
  written: GprName[];
}

/** A leaf handler's outcome (module.ts adds the common fields). */
export type LeafOutcome =
  /** The leaf completed: `status` is in RAX, the platform moves RIP past the instruction. */
  | { kind: 'completed'; status: bigint; detail?: string; vmcall?: VmcallRecord }
  /**
   * The module would exit to the VMM (EPT violation on a page the VMM has not mapped). RAX is
   * not written and RIP stays on TDCALL; the VMM model cannot map pages, so the platform stops.
   */
  | { kind: 'td-exit'; reason: 'ept-violation'; gpa: bigint; detail: string }
  /** TDG.VP.VMCALL<ReportFatalError>: the TD never resumes; the platform stops the run. */
  | { kind: 'fatal-error'; errorCode: bigint; message: string; vmcall: VmcallRecord };

/** What one TDCALL or SEAMCALL did in the module. */
export type TdxCallResult = LeafOutcome & {
  instruction: TdxInstruction;
  /** RAX as the call found it. */
  rax: bigint;
  /** RAX[15:0]. */
  leafNumber: number;
  /** RAX[23:16]. */
  version: number;
  /** The catalogued leaf, when RAX names one. */
  leaf?: TdxLeaf;
};

/** Everything a handler may touch. */
export interface LeafContext {
  cpu: TdxCpuAccess;
  cfg: ResolvedModuleConfig;
  st: TdxModuleState;
  leaf: TdxLeaf;
  version: number;
  /** The logical processor making a SEAMCALL (0 for TDCALL). */
  lp: number;
  vmm: VmmModel;
  vmmOverride?: VmmOverride;
}

/** Per-call options. */
export interface TdxCallOptions {
  /** SEAMCALL: the logical processor making the call (default 0). */
  lp?: number;
  /** TDG.VP.VMCALL: a fault rule's override of the VMM's answer. */
  vmm?: VmmOverride;
}


const TDCALL_HANDLERS: Record<string, (c: LeafContext) => LeafOutcome> = {
  'TDG.VP.VMCALL': tdgVpVmcall,
  'TDG.VP.INFO': tdgVpInfo,
  'TDG.MR.RTMR.EXTEND': tdgMrRtmrExtend,
  'TDG.VP.VEINFO.GET': tdgVpVeinfoGet,
  'TDG.MR.REPORT': tdgMrReport,
  'TDG.MEM.PAGE.ACCEPT': tdgMemPageAccept,
  'TDG.VM.RD': (c) => tdgVmRdWr(c, false),
  'TDG.VM.WR': (c) => tdgVmRdWr(c, true),
};

const SEAMCALL_HANDLERS: Record<string, (c: LeafContext) => LeafOutcome> = {
  'TDH.SYS.INIT': tdhSysInit,
  'TDH.SYS.LP.INIT': tdhSysLpInit,
  'TDH.SYS.CONFIG': tdhSysConfig,
  'TDH.SYS.KEY.CONFIG': tdhSysKeyConfig,
  'TDH.SYS.TDMR.INIT': tdhSysTdmrInit,
  'TDH.SYS.RD': tdhSysRd,
  'TDH.SYS.INFO': tdhSysInfoOrRdall,
  'TDH.SYS.RDALL': tdhSysInfoOrRdall,
  'TDH.SYS.UPDATE': tdhSysUpdate,
  'TDH.SYS.SHUTDOWN': tdhSysShutdown,
};

/** The TDX module (and, for RAX bit 63, the P-SEAMLDR) as TDCALL and SEAMCALL reach it. */
export class TdxModule {
  /** The VMM that TDG.VP.VMCALL hands calls to. */
  readonly vmm: VmmModel;
  private readonly cfg: ResolvedModuleConfig;
  private st: TdxModuleState;

  /** Throws a ModelConfigError naming the bad configuration entry (`tdxModule.…`). */
  constructor(private readonly config: TdxModuleConfig = {}, vmm: VmmModel = new VmmModel()) {
    this.cfg = resolveModuleConfig(config);
    this.st = initialModuleState(config, this.cfg);
    this.vmm = vmm;
    for (const k of this.st.noEntropy.keys()) {
      if (!findLeaf('seamcall', k) && !findLeaf('tdcall', k)) throw new ModelConfigError(`tdxModule.noEntropy.${k}`, `unknown leaf "${k}"`);
    }
  }

  /** Runs a TDCALL whose leaf is in RAX (TD guest context, CPL 0, 64-bit mode: checked by the platform). */
  tdcall(cpu: TdxCpuAccess, opts: TdxCallOptions = {}): TdxCallResult {
    const rax = u64(cpu.getReg(GPR.RAX));
    const leafNumber = Number(rax & 0xffffn);
    const version = Number((rax >> 16n) & 0xffn);
    const leaf = findLeaf('tdcall', leafNumber);
    const base = { instruction: 'tdcall' as const, rax, leafNumber, version, ...(leaf ? { leaf } : {}) };
    const reject = (detail: string) => this.finish(cpu, base, { kind: 'completed', status: TDX_STATUS.TDX_OPERAND_INVALID, detail });
    // tdx_td_dispatcher.c order: reserved bits, version, unknown leaf (all → OPERAND_INVALID+RAX).
    if ((rax >> 24n) & 0xffn || rax >> 32n) return reject('RAX reserved bits 31:24 or 63:32 set');
    if (version > 0 && leafNumber !== 7) return reject(`version ${version} not supported by this leaf`);
    if (!leaf) return reject(`unknown TDCALL leaf ${leafNumber}`);
    const handler = TDCALL_HANDLERS[leaf.name] ?? configuredSuccess;
    const ctx: LeafContext = { cpu, cfg: this.cfg, st: this.st, leaf, version, lp: 0, vmm: this.vmm, ...(opts.vmm ? { vmmOverride: opts.vmm } : {}) };
    return this.finish(cpu, base, handler(ctx));
  }

  /** Runs a SEAMCALL whose leaf is in RAX (VMX root, CPL 0, TDX enabled, module loaded: checked by the platform). */
  seamcall(cpu: TdxCpuAccess, opts: TdxCallOptions = {}): TdxCallResult {
    const rax = u64(cpu.getReg(GPR.RAX));
    const leafNumber = Number(rax & 0xffffn);
    const version = Number((rax >> 16n) & 0xffn);
    const lp = opts.lp ?? 0;
    if (!Number.isInteger(lp) || lp < 0 || lp >= this.cfg.numLps) throw new RangeError(`seamcall: LP ${lp} out of range (numLps ${this.cfg.numLps})`);
    const leaf = findLeaf('seamcall', rax);
    const base = { instruction: 'seamcall' as const, rax, leafNumber, version, ...(leaf ? { leaf } : {}) };
    const fail = (status: bigint, detail: string) => this.finish(cpu, base, { kind: 'completed', status, detail });

    // tdx_vmm_dispatcher.c order (TDX module tdx_vmm_dispatcher.c). Loader calls (RAX bit 63) never
    // reach the module: the platform sends them to the P-SEAMLDR (seamldr.ts).
    if ((rax >> 24n) & 0xffn || rax >> 32n) return fail(TDX_STATUS.TDX_OPERAND_INVALID, 'RAX reserved bits 31:24 or 63:32 set');
    if (version > (leaf?.maxVersion ?? 0)) return fail(TDX_STATUS.TDX_OPERAND_INVALID, `version ${version} not supported by this leaf`);
    if (this.st.sysState === 'SYS_SHUTDOWN' && leaf?.name !== 'TDH.SYS.LP.SHUTDOWN') return fail(TDX_STATUS.TDX_SYS_SHUTDOWN, 'module shut down');
    // Only the init and system leaves run before SYS_READY (the leaf's `allowedBeforeReady`).
    if (this.st.sysState !== 'SYS_READY' && !leaf?.allowedBeforeReady) return fail(TDX_STATUS.TDX_SYS_NOT_READY, `state ${this.st.sysState}`);
    if (!leaf) return fail(TDX_STATUS.TDX_OPERAND_INVALID, `unknown SEAMCALL leaf ${leafNumber}`);
    if (this.takeNoEntropy(leaf)) return fail(TDX_STATUS.TDX_RND_NO_ENTROPY, 'entropy exhausted (configured)');
    const handler = SEAMCALL_HANDLERS[leaf.name] ?? configuredSuccess;
    return this.finish(cpu, base, handler({ cpu, cfg: this.cfg, st: this.st, leaf, version, lp, vmm: this.vmm }));
  }

  /**
   * Runs a P-SEAMLDR call (SEAMCALL with RAX bit 63; the platform checked that a loader is
   * present and not busy). INSTALL starts a fresh module (state SYSINIT_PENDING).
   */
  seamldr(cpu: TdxCpuAccess, moduleLoaded: boolean): TdxCallResult & { moduleLoaded: boolean } {
    const rax = u64(cpu.getReg(GPR.RAX));
    const leaf = findLeaf('seamcall', rax);
    const out = seamldrCall({ cpu, leaf, rax, moduleLoaded, physAddrBits: this.cfg.physAddrBits, keyIdBits: this.cfg.keyIdBits });
    if (out.freshModule) {
      const { startReady: _ready, ...fresh } = this.config;
      this.st = initialModuleState(fresh, this.cfg);
    }
    const base = { instruction: 'seamcall' as const, rax, leafNumber: Number(rax & 0xffffn), version: Number((rax >> 16n) & 0xffn), ...(leaf ? { leaf } : {}) };
    const r = this.finish(cpu, base, { kind: 'completed', status: out.status, ...(out.detail ? { detail: out.detail } : {}) });
    return { ...r, moduleLoaded: out.moduleLoaded };
  }

  /** Sets (or clears) the pending #VE that TDG.VP.VEINFO.GET reports; the platform calls this when it delivers #VE. */
  setVeInfo(ve: VeInfo | undefined): void {
    if (!ve) {
      delete this.st.veInfo;
      return;
    }
    this.st.veInfo = {
      exitReason: toU64(ve.exitReason, 'veInfo.exitReason'),
      exitQualification: toU64(ve.exitQualification ?? 0n, 'veInfo.exitQualification'),
      gla: toU64(ve.gla ?? 0n, 'veInfo.gla'),
      gpa: toU64(ve.gpa ?? 0n, 'veInfo.gpa'),
      lengthAndInfo: (toU64(ve.instructionInfo ?? 0n, 'veInfo.instructionInfo') << 32n) | (toU64(ve.instructionLength ?? 0n, 'veInfo.instructionLength') & 0xffff_ffffn),
    };
  }

  /** Makes the next `count` calls of `leaf` (name or number) fail with TDX_RND_NO_ENTROPY. */
  injectNoEntropy(leaf: string, count: number): void {
    const l = findLeaf('seamcall', leaf) ?? findLeaf('tdcall', leaf);
    if (!l) throw new RangeError(`injectNoEntropy: unknown leaf "${leaf}"`);
    this.st.noEntropy.set(l.name, count);
  }

  /** Read-only view of the state, for the adapter's "TDX module" scope. */
  get state(): Readonly<TdxModuleState> {
    return this.st;
  }

  /** A deep copy of the module's and the VMM's state (reverse execution, "run again"). */
  snapshot(): { module: TdxModuleState; vmm: ReturnType<VmmModel['snapshot']> } {
    return { module: structuredClone(this.st), vmm: this.vmm.snapshot() };
  }

  /** Restores a snapshot taken from a module with the same configuration. */
  restore(s: { module: TdxModuleState; vmm: ReturnType<VmmModel['snapshot']> }): void {
    this.st = structuredClone(s.module);
    this.vmm.restore(s.vmm);
  }

  private takeNoEntropy(leaf: TdxLeaf): boolean {
    for (const [k, n] of this.st.noEntropy) {
      if (n > 0 && normalizeTdxName(findLeaf(leaf.instruction, k)?.name ?? k) === normalizeTdxName(leaf.name)) {
        this.st.noEntropy.set(k, n - 1);
        return true;
      }
    }
    return false;
  }

  private finish(cpu: TdxCpuAccess, base: Omit<TdxCallResult, keyof LeafOutcome | 'kind'>, out: LeafOutcome): TdxCallResult {
    if (out.kind === 'completed') cpu.setReg(GPR.RAX, out.status);
    return { ...base, ...out } as TdxCallResult;
  }
}

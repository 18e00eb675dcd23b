// The untrusted VMM as a TD guest meets it through TDG.VP.VMCALL: answers each sub-function from
// configurable tables and ordered scripts, optionally behaves hostile (garbage in every exposed
// register the ABI does not define as an output), and reports ReportFatalError as a stop.
// It sees only the registers the module hands it (unexposed ones are zero): see module.ts.

import { findSubfunction, findTdvmcallStatus } from './catalog';
import { seededValue } from './prng';
import { findKvmHypercall, KVM_HYPERCALL_ERRNO, REPORT_FATAL_ERROR_MESSAGE_REGS, TDVMCALL_SUBFUNCTIONS, type KvmHypercall, type TdvmcallSubfunction } from './vmcalls';
import { GPR, GPR_NAMES, gprIndex, hex64, toU64, u64, type GprIndex, type GprName, type U64Like } from './types';

/** TDVMCALL statuses the model returns (tdx-abi.md §4 "TDVMCALL status"). */
const TDVMCALL_STATUS_SUCCESS = 0x0n;
const TDVMCALL_STATUS_RETRY = 0x1n;
const TDVMCALL_STATUS_INVALID_OPERAND = 0x8000_0000_0000_0000n;
const TDVMCALL_STATUS_ALIGN_ERROR = 0x8000_0000_0000_0002n;
const TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED = 0x8000_0000_0000_0003n;

/** Sub-function numbers (tdx-abi.md §5.3). */
const EXIT_REASON_CPUID = 10n;
const EXIT_REASON_HLT = 12n;
const EXIT_REASON_IO_INSTRUCTION = 30n;
const EXIT_REASON_MSR_READ = 31n;
const EXIT_REASON_MSR_WRITE = 32n;
const EXIT_REASON_EPT_VIOLATION = 48n;
const TDVMCALL_GET_TD_VM_CALL_INFO = 0x10000n;
const TDVMCALL_MAP_GPA = 0x10001n;
const TDVMCALL_GET_QUOTE = 0x10002n;
const TDVMCALL_REPORT_FATAL_ERROR = 0x10003n;
const TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT = 0x10004n;

/** How the VMM answers one call; every field optional, the model's default fills the rest. */
export interface TdvmcallAnswer {
  /** R10: a TDVMCALL status name (`TDVMCALL_STATUS_RETRY`) or value. */
  status?: U64Like;
  /** Registers the VMM writes; only exposed ones reach the guest. */
  regs?: Partial<Record<GprName, U64Like>>;
  /** Make this one answer hostile (see `HostileVmmConfig`). */
  hostile?: boolean;
}

/** The hostile-VMM option. */
export interface HostileVmmConfig {
  /** Seed of the deterministic values (default 0). */
  seed?: U64Like;
  /** Chosen values for particular registers; the others get seeded values. */
  values?: Partial<Record<GprName, U64Like>>;
}

/**
 * Whose answers the VMM model gives by default:
 * - `kvm`: mainline KVM's (arch/x86/kvm/vmx/tdx.c, Linux 6.16+): operand checks per sub-function,
 *   the TD's shared bit and GPA width, R11 = the GPA to resume from after a MapGPA error or retry,
 *   KVM hypercalls for R10 ≠ 0;
 * - `permissive`: the model's earlier answers (no shared-bit or GPA-width checks, vendor calls
 *   answered TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED).
 * Scripts, tables and hostile mode apply on top of either.
 */
export type VmmProfile = 'kvm' | 'permissive';
export const VMM_PROFILES: readonly VmmProfile[] = ['kvm', 'permissive'];

/** What the VMM knows about the TD it runs (from the TD's parameters). */
export interface VmmTdInfo {
  /** GPAW: the guest physical address width is 52 (shared bit 51) instead of 48 (shared bit 47). */
  gpaw?: boolean;
  /** vCPUs the TD runs (APIC ids 0..n-1), for KVM_HC_SEND_IPI. Default 1. */
  numVcpus?: number;
}

/** TDX_MAP_GPA_MAX_LEN (arch/x86/kvm/vmx/tdx.c): KVM converts MapGPA ranges 2 MiB at a time. */
const KVM_MAP_GPA_CHUNK = 0x20_0000n;
/** GetTdVmCallInfo leaf 1, R11 bit 1: SetupEventNotifyInterrupt (TDVMCALLINFO_SETUP_EVENT_NOTIFY_INTERRUPT). */
const TDVMCALLINFO_SETUP_EVENT_NOTIFY_INTERRUPT = 1n << 1n;

/** VMM model configuration. Every field is optional; defaults are documented per field. */
export interface VmmConfig {
  /** Default answers: `kvm` (default) or `permissive`. */
  profile?: VmmProfile;
  /** CPUID answers; `subleaf` omitted matches any ECX. Default: all zeros. */
  cpuid?: { leaf: U64Like; subleaf?: U64Like; eax?: U64Like; ebx?: U64Like; ecx?: U64Like; edx?: U64Like }[];
  /** RDMSR values; WRMSR stores into the same table. An MSR absent here reads as INVALID_OPERAND. */
  msrs?: { msr: U64Like; value: U64Like }[];
  /** IN values per port. Default for other ports: all ones of the access size (floating bus). */
  ioPorts?: { port: U64Like; value: U64Like }[];
  /** MMIO read values per GPA; MMIO writes store here. Default for other GPAs: 0. */
  mmio?: { gpa: U64Like; value: U64Like }[];
  /** Bytes GetQuote writes into the shared buffer (clipped to R13). Default: buffer untouched. */
  quoteResponse?: Uint8Array;
  /** MapGPA RETRY without an explicit R11: resume at start + this many bytes. Default 2 MiB (KVM's chunk; `permissive`: 0x1000). */
  mapGpaRetryProgress?: U64Like;
  /** Fixed answers per sub-function (kernel, GHCI or short name, or number). */
  answers?: Record<string, TdvmcallAnswer>;
  /** Ordered scripts per sub-function: the n-th call takes the n-th answer, then `answers`/default. */
  scripts?: Record<string, TdvmcallAnswer[]>;
  /** Answer to vendor calls (R10 ≠ 0). Default: `kvm` runs the KVM hypercall R10 names; `permissive` answers SUBFUNC_UNSUPPORTED. */
  vendor?: TdvmcallAnswer;
  /** Be hostile on every call. Default: off. */
  hostile?: HostileVmmConfig | false;
}

/** The VMM's view of a TDG.VP.VMCALL, as the module hands it over (tdx-module-behaviour.md §2). */
export interface VmmExit {
  /**
   * 16 GPRs in encoding order. RAX = exit reason 77 (TDCALL), RCX = exit qualification (GPR
   * mask in [15:0], XMM mask in [31:16]); exposed GPRs hold the guest's values; others are 0.
   */
  regs: bigint[];
  /** The GPR exposure mask (RCX[15:0] of the guest). */
  exposed: number;
}

/** Per-call overrides the platform passes from a fault rule (see faultPlan.ts). */
export interface VmmOverride {
  /** Force R10 and skip the sub-function's own behaviour. */
  status?: bigint;
  /** Be hostile on this call with this seed. */
  hostileSeed?: bigint;
  /** Force registers in the VMM's answer (only exposed ones reach the guest). */
  set?: Partial<Record<GprName, bigint>>;
}

/** What the VMM did. */
export interface VmmResult {
  /** The catalogued sub-function, when the (visible) R11 names one and R10 was 0. */
  subfunction?: TdvmcallSubfunction;
  /** R11 as the VMM saw it. */
  subfunctionValue: bigint;
  /** True for a vendor call (R10 ≠ 0 as seen). */
  vendor: boolean;
  /** Vendor call under the `kvm` profile: the KVM hypercall R10 names (`nr`), when catalogued. */
  hypercall?: KvmHypercall;
  /** Vendor call: R10 as the VMM saw it (the KVM hypercall number). */
  hypercallNr?: bigint;
  /** The TDVMCALL status written to R10. */
  status: bigint;
  /** All 16 registers as the VMM leaves them; the module copies back only exposed ones. */
  regs: bigint[];
  /** Where the answer came from. */
  source: 'default' | 'table' | 'script' | 'override';
  /** Registers filled by hostile mode. */
  hostileRegs: GprName[];
  /** One line for the call timeline, e.g. `IO write port 0x3F8 = 0x41 (1 byte)`. */
  summary: string;
  /** Set when the TD must stop: ReportFatalError never returns to the guest. */
  stop?: { reason: 'fatal-error'; errorCode: bigint; message: string };
}

/** The VMM's mutable state, for snapshots (reverse execution, "run again from the call"). */
export interface VmmState {
  calls: number;
  scriptPos: Record<string, number>;
  msrs: [string, string][];
  mmio: [string, string][];
  eventNotifyVector?: number;
  conversions: { start: string; size: string }[];
}

interface Resolved {
  answers: Map<bigint, TdvmcallAnswer>;
  scripts: Map<bigint, TdvmcallAnswer[]>;
}

/** The VMM model. One instance per run; deterministic given its configuration. */
export class VmmModel {
  private readonly cfg: VmmConfig;
  private readonly resolved: Resolved;
  private calls = 0;
  private scriptPos = new Map<bigint, number>();
  private msrs = new Map<bigint, bigint>();
  private mmio = new Map<bigint, bigint>();
  private eventNotifyVector: number | undefined;
  private conversions: { start: bigint; size: bigint }[] = [];
  /** The answering profile. */
  readonly profile: VmmProfile;
  private readonly td: Required<VmmTdInfo>;

  /** Throws a one-line RangeError naming the bad configuration entry. */
  constructor(config: VmmConfig = {}, td: VmmTdInfo = {}) {
    this.cfg = config;
    const profile = config.profile ?? 'kvm';
    if (!VMM_PROFILES.includes(profile)) throw new RangeError(`vmm.profile: "${String(profile)}" is not a profile (known: ${VMM_PROFILES.join(', ')})`);
    this.profile = profile;
    this.td = { gpaw: td.gpaw ?? false, numVcpus: td.numVcpus ?? 1 };
    this.resolved = { answers: new Map(), scripts: new Map() };
    for (const [k, a] of Object.entries(config.answers ?? {})) this.resolved.answers.set(subfnKey(k, 'answers'), checkAnswer(a, `answers.${k}`));
    for (const [k, list] of Object.entries(config.scripts ?? {})) {
      this.resolved.scripts.set(subfnKey(k, 'scripts'), list.map((a, i) => checkAnswer(a, `scripts.${k}[${i}]`)));
    }
    if (config.vendor) checkAnswer(config.vendor, 'vendor');
    for (const m of config.msrs ?? []) this.msrs.set(toU64(m.msr, 'msrs.msr'), toU64(m.value, 'msrs.value'));
    for (const m of config.mmio ?? []) this.mmio.set(toU64(m.gpa, 'mmio.gpa'), toU64(m.value, 'mmio.value'));
  }

  /** Handles one TDG.VP.VMCALL. `mem` is the guest memory (for GetQuote's shared buffer). */
  handle(exit: VmmExit, mem?: { writeMemory(gpa: bigint, bytes: Uint8Array): void }, override?: VmmOverride): VmmResult {
    const callIndex = this.calls++;
    const inRegs = exit.regs.map(u64);
    const regs = inRegs.slice();
    const r10 = regs[GPR.R10];
    const fn = regs[GPR.R11];
    const vendor = r10 !== 0n;
    const sub = vendor ? undefined : findSubfunction(fn);
    let answerHostile = false;
    const hc = vendor && this.profile === 'kvm' ? findKvmHypercall(r10) : undefined;
    let result: VmmResult = {
      ...(sub ? { subfunction: sub } : {}),
      ...(vendor ? { hypercallNr: r10 } : {}), ...(hc ? { hypercall: hc } : {}),
      subfunctionValue: fn, vendor, status: TDVMCALL_STATUS_SUCCESS, regs, source: 'default', hostileRegs: [], summary: '',
    };

    if (override?.status !== undefined) {
      result.status = u64(override.status);
      result.source = 'override';
      result.summary = `${vendor ? `vendor call R10=${hex64(r10)}` : sub?.ghciName ?? hex64(fn)}: status forced by fault rule`;
    } else {
      result = vendor ? (this.profile === 'kvm' && !this.cfg.vendor ? this.answerKvmHypercall(result, inRegs) : this.answerVendor(result, inRegs))
        : this.answerStandard(result, inRegs, mem);
      const scripted = vendor ? undefined : this.nextScripted(fn);
      const fixed = scripted ?? (vendor ? undefined : this.resolved.answers.get(fn));
      if (fixed && !result.stop) {
        result = this.applyAnswer(result, fixed, inRegs);
        result.source = scripted ? 'script' : 'table';
        answerHostile = fixed.hostile === true;
      }
    }

    for (const [name, v] of Object.entries(override?.set ?? {})) result.regs[GPR[name as GprName]] = u64(v as bigint);
    const configSeed = this.cfg.hostile ? toU64(this.cfg.hostile.seed ?? 0n, 'hostile.seed') : undefined;
    const hostileSeed = override?.hostileSeed ?? configSeed ?? (answerHostile ? 0n : undefined);
    if (hostileSeed !== undefined && !result.stop) this.beHostile(result, inRegs, exit.exposed, hostileSeed, callIndex);
    result.regs[GPR.R10] = result.status;
    return result;
  }

  /** Snapshot of the mutable state (JSON-safe). */
  snapshot(): VmmState {
    return {
      calls: this.calls,
      scriptPos: Object.fromEntries([...this.scriptPos].map(([k, v]) => [k.toString(), v])),
      msrs: [...this.msrs].map(([k, v]) => [k.toString(), v.toString()]),
      mmio: [...this.mmio].map(([k, v]) => [k.toString(), v.toString()]),
      ...(this.eventNotifyVector !== undefined ? { eventNotifyVector: this.eventNotifyVector } : {}),
      conversions: this.conversions.map((c) => ({ start: c.start.toString(), size: c.size.toString() })),
    };
  }

  /** Restores a snapshot taken from a model with the same configuration. */
  restore(s: VmmState): void {
    this.calls = s.calls;
    this.scriptPos = new Map(Object.entries(s.scriptPos).map(([k, v]) => [BigInt(k), v]));
    this.msrs = new Map(s.msrs.map(([k, v]) => [BigInt(k), BigInt(v)]));
    this.mmio = new Map(s.mmio.map(([k, v]) => [BigInt(k), BigInt(v)]));
    this.eventNotifyVector = s.eventNotifyVector;
    this.conversions = s.conversions.map((c) => ({ start: BigInt(c.start), size: BigInt(c.size) }));
  }

  /** GPA ranges MapGPA converted so far, in call order (the shared bit is part of `start`). */
  get mapGpaConversions(): readonly { start: bigint; size: bigint }[] {
    return this.conversions;
  }

  /** The vector registered by SetupEventNotifyInterrupt, if any. */
  get eventNotifyInterruptVector(): number | undefined {
    return this.eventNotifyVector;
  }

  private nextScripted(fn: bigint): TdvmcallAnswer | undefined {
    const list = this.resolved.scripts.get(fn);
    if (!list) return undefined;
    const pos = this.scriptPos.get(fn) ?? 0;
    if (pos >= list.length) return undefined;
    this.scriptPos.set(fn, pos + 1);
    return list[pos];
  }

  private applyAnswer(res: VmmResult, a: TdvmcallAnswer, inRegs: bigint[]): VmmResult {
    if (a.status !== undefined) res.status = statusValue(a.status, 'answer.status');
    for (const [name, v] of Object.entries(a.regs ?? {})) res.regs[GPR[name as GprName]] = toU64(v as U64Like, `answer.regs.${name}`);
    // A scripted MapGPA RETRY needs a resume address; the kernel gives up without progress. KVM
    // (tdx_complete_vmcall_map_gpa) puts the next GPA in R11 after each 2 MiB chunk, and the GPA
    // it stopped at after an error (tdx_map_gpa: the start of the range).
    if (res.subfunctionValue === TDVMCALL_MAP_GPA && res.status !== TDVMCALL_STATUS_SUCCESS && a.regs?.R11 === undefined) {
      const start = inRegs[GPR.R12];
      const end = start + inRegs[GPR.R13];
      const kvm = this.profile === 'kvm';
      const step = toU64(this.cfg.mapGpaRetryProgress ?? (kvm ? KVM_MAP_GPA_CHUNK : 0x1000n), 'mapGpaRetryProgress');
      if (res.status === TDVMCALL_STATUS_RETRY) res.regs[GPR.R11] = u64(start + step < end ? start + step : end);
      else if (kvm) res.regs[GPR.R11] = start;
    }
    if (a.status !== undefined) res.summary += ` → ${statusName(res.status)}`;
    return res;
  }

  private answerVendor(res: VmmResult, inRegs: bigint[]): VmmResult {
    res.status = TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED;
    res.summary = `vendor call R10=${hex64(res.regs[GPR.R10])}`;
    if (this.cfg.vendor) {
      res = this.applyAnswer(res, this.cfg.vendor, inRegs);
      res.source = 'table';
    }
    return res;
  }

  /**
   * A vendor call under the `kvm` profile: KVM's common hypercall code (arch/x86/kvm/x86.c
   * __kvm_emulate_hypercall, reached from tdx_emulate_vmcall with nr = R10, a0..a3 = R11..R14).
   * The result goes to R10; an unknown nr gets -KVM_ENOSYS.
   */
  private answerKvmHypercall(res: VmmResult, inRegs: bigint[]): VmmResult {
    const nr = inRegs[GPR.R10];
    const [a0, a1, a2] = [inRegs[GPR.R11], inRegs[GPR.R12], inRegs[GPR.R13]];
    const E = KVM_HYPERCALL_ERRNO;
    const neg = (e: bigint) => u64(-e);
    const name = res.hypercall?.name ?? `KVM hypercall ${nr}`;
    const done = (ret: bigint, what: string) => ((res.status = ret), (res.summary = `${name}: ${what}`), res);
    switch (res.hypercall?.name) {
      case 'KVM_HC_VAPIC_POLL_IRQ': return done(0n, 'returns 0');
      case 'KVM_HC_KICK_CPU': return done(0n, `kick APIC id ${a1} (PV unhalt)`);
      case 'KVM_HC_SCHED_YIELD': return done(0n, `yield to APIC id ${a0}`);
      case 'KVM_HC_SEND_IPI': {
        // kvm_pv_send_ipi: one IPI per set bit whose APIC id (min + bit) names a vCPU.
        let sent = 0n;
        for (let b = 0n; b < 128n; b++) {
          const set = b < 64n ? (a0 >> b) & 1n : (a1 >> (b - 64n)) & 1n;
          if (set && a2 + b < BigInt(this.td.numVcpus)) sent++;
        }
        return done(sent, `${sent} IPI(s) sent (TD has ${this.td.numVcpus} vCPU(s), APIC ids 0..${this.td.numVcpus - 1})`);
      }
      case 'KVM_HC_MAP_GPA_RANGE':
        if (a0 & 0xfffn || a1 === 0n || (a0 >> 12n) + a1 > (1n << 52n)) return done(neg(E.KVM_EINVAL), `GPA ${hexShort(a0)}, ${a1} page(s): -KVM_EINVAL`);
        this.conversions.push({ start: a0, size: a1 << 12n });
        return done(0n, `GPA ${hexShort(a0)}, ${a1} page(s), attributes ${hexShort(a2)} (user space completes it)`);
      case 'KVM_HC_CLOCK_PAIRING':
        // kvm_pv_clock_pairing depends on the host's clocksource; not modelled.
        return done(neg(E.KVM_EOPNOTSUPP), '-KVM_EOPNOTSUPP (host clock pairing is not modelled: as KVM answers when the host clocksource is not TSC-based)');
      default: return done(neg(E.KVM_ENOSYS), `nr ${nr}: -KVM_ENOSYS`);
    }
  }

  /** The GHCI-standard behaviour of each sub-function (tdx-abi.md §5.3). */
  private answerStandard(res: VmmResult, inRegs: bigint[], mem?: { writeMemory(gpa: bigint, bytes: Uint8Array): void }): VmmResult {
    const R = res.regs;
    const a0 = inRegs[GPR.R12], a1 = inRegs[GPR.R13], a2 = inRegs[GPR.R14], a3 = inRegs[GPR.R15];
    const ok = (summary: string) => ((res.status = TDVMCALL_STATUS_SUCCESS), (res.summary = summary), res);
    const kvm = this.profile === 'kvm';
    const shared = this.td.gpaw ? 1n << 51n : 1n << 47n;
    const gpaLimit = 1n << (this.td.gpaw ? 52n : 48n);
    const isPrivate = (gpa: bigint) => (gpa & shared) === 0n;
    const fail = (status: bigint, summary: string) => ((res.status = status), (res.summary = summary), res);
    switch (res.subfunctionValue) {
      case EXIT_REASON_CPUID: {
        const e = (this.cfg.cpuid ?? []).find((c) => toU64(c.leaf, 'cpuid.leaf') === (a0 & 0xffff_ffffn)
          && (c.subleaf === undefined || toU64(c.subleaf, 'cpuid.subleaf') === (a1 & 0xffff_ffffn)));
        R[GPR.R12] = e?.eax !== undefined ? toU64(e.eax, 'cpuid.eax') : 0n;
        R[GPR.R13] = e?.ebx !== undefined ? toU64(e.ebx, 'cpuid.ebx') : 0n;
        R[GPR.R14] = e?.ecx !== undefined ? toU64(e.ecx, 'cpuid.ecx') : 0n;
        R[GPR.R15] = e?.edx !== undefined ? toU64(e.edx, 'cpuid.edx') : 0n;
        return ok(`CPUID leaf ${hexShort(a0)} sub-leaf ${hexShort(a1)}`);
      }
      case EXIT_REASON_HLT:
        // No interrupt model: the halt ends at once, as if an interrupt had arrived.
        return ok(`HLT (interrupts ${a0 ? 'disabled' : 'enabled'})`);
      case EXIT_REASON_IO_INSTRUCTION: {
        // KVM (tdx_emulate_io) checks size and direction; the port is a u16 there.
        if (![1n, 2n, 4n].includes(a0) || a1 > 1n || (!kvm && a2 > 0xffffn)) return fail(TDVMCALL_STATUS_INVALID_OPERAND, `IO with bad size/direction/port`);
        if (kvm) R[GPR.R14] = a2 & 0xffffn;
        const mask = (1n << (a0 * 8n)) - 1n;
        if (a1 === 0n) {
          const port = a2 & 0xffffn;
          const e = (this.cfg.ioPorts ?? []).find((p) => toU64(p.port, 'ioPorts.port') === port);
          R[GPR.R11] = (e ? toU64(e.value, 'ioPorts.value') : mask) & mask;
          return ok(`IO read port ${hexShort(port)} → ${hexShort(R[GPR.R11])} (${a0} byte${a0 > 1n ? 's' : ''})`);
        }
        return ok(`IO write port ${hexShort(a2 & 0xffffn)} = ${hexShort(a3 & mask)} (${a0} byte${a0 > 1n ? 's' : ''})`);
      }
      case EXIT_REASON_MSR_READ: {
        const v = this.msrs.get(a0);
        if (v === undefined) return fail(TDVMCALL_STATUS_INVALID_OPERAND, `RDMSR ${hexShort(a0)}: unknown MSR`);
        R[GPR.R11] = v;
        return ok(`RDMSR ${hexShort(a0)} → ${hexShort(v)}`);
      }
      case EXIT_REASON_MSR_WRITE:
        this.msrs.set(a0, a1);
        return ok(`WRMSR ${hexShort(a0)} = ${hexShort(a1)}`);
      case EXIT_REASON_EPT_VIOLATION: {
        if (![1n, 2n, 4n, 8n].includes(a0) || a1 > 1n) return fail(TDVMCALL_STATUS_INVALID_OPERAND, `MMIO with bad size/direction`);
        // KVM (tdx_emulate_mmio): only shared GPAs; the shared bit is stripped before the MMIO lookup.
        if (kvm && (isPrivate(a2) || isPrivate(a2 + a0 - 1n))) return fail(TDVMCALL_STATUS_INVALID_OPERAND, `MMIO at ${hexShort(a2)}: private GPA (the shared bit ${hexShort(shared)} is clear)`);
        const mask = a0 === 8n ? (1n << 64n) - 1n : (1n << (a0 * 8n)) - 1n;
        if (a1 === 0n) {
          R[GPR.R11] = (this.mmio.get(a2) ?? (kvm ? this.mmio.get(a2 & ~shared) : undefined) ?? 0n) & mask;
          return ok(`MMIO read ${hexShort(a2)} → ${hexShort(R[GPR.R11])} (${a0} bytes)`);
        }
        this.mmio.set(a2, a3 & mask);
        return ok(`MMIO write ${hexShort(a2)} = ${hexShort(a3 & mask)} (${a0} bytes)`);
      }
      case TDVMCALL_GET_TD_VM_CALL_INFO:
        // KVM (tdx_get_td_vm_call_info): leaf 1 reports the optional TDVMCALLs in R11..R14 (the
        // base ones, GetQuote included, have no bit since "KVM: TDX: Don't report base TDVMCALLs").
        if (kvm && a0 === 1n) {
          R[GPR.R11] = TDVMCALLINFO_SETUP_EVENT_NOTIFY_INTERRUPT;
          R[GPR.R12] = R[GPR.R13] = R[GPR.R14] = 0n;
          return ok('GetTdVmCallInfo leaf 1: R11 bit 1 SetupEventNotifyInterrupt');
        }
        if (a0 !== 0n) return fail(TDVMCALL_STATUS_INVALID_OPERAND, `GetTdVmCallInfo leaf ${hexShort(a0)} (must be 0)`);
        R[GPR.R11] = R[GPR.R12] = R[GPR.R13] = R[GPR.R14] = 0n; // as KVM does
        return ok('GetTdVmCallInfo');
      case TDVMCALL_MAP_GPA: {
        if (kvm) {
          // tdx_map_gpa: range checks, then alignment; on either error R11 = the GPA (nothing converted).
          const end = a0 + a1;
          const range = `MapGPA ${hexShort(a0)}+${hexShort(a1)}`;
          const err = (status: bigint, why: string) => ((R[GPR.R11] = a0), fail(status, `${range}: ${why}`));
          if (end <= a0 || end > (1n << 64n) - 1n) return err(TDVMCALL_STATUS_INVALID_OPERAND, 'empty or wrapping range');
          if (a0 >= gpaLimit || end - 1n >= gpaLimit) return err(TDVMCALL_STATUS_INVALID_OPERAND, `beyond the GPA width (${this.td.gpaw ? 52 : 48} bits)`);
          if (isPrivate(a0) !== isPrivate(end - 1n)) return err(TDVMCALL_STATUS_INVALID_OPERAND, `crosses the shared bit ${hexShort(shared)}`);
          if ((a0 & 0xfffn) !== 0n || (a1 & 0xfffn) !== 0n) return err(TDVMCALL_STATUS_ALIGN_ERROR, 'not 4K aligned');
          this.conversions.push({ start: a0, size: a1 });
          return ok(`${range} → ${isPrivate(a0) ? 'private' : 'shared'}`);
        }
        // Misalignment → ALIGN_ERROR: our reading of the status name; the reference gives no rule.
        if ((a0 & 0xfffn) !== 0n || (a1 & 0xfffn) !== 0n) return fail(TDVMCALL_STATUS_ALIGN_ERROR, `MapGPA ${hexShort(a0)}+${hexShort(a1)}: not 4K aligned`);
        if (a1 === 0n || a0 + a1 > (1n << 64n) - 1n) return fail(TDVMCALL_STATUS_INVALID_OPERAND, `MapGPA ${hexShort(a0)}+${hexShort(a1)}: empty or wrapping range`);
        this.conversions.push({ start: a0, size: a1 });
        return ok(`MapGPA ${hexShort(a0)}+${hexShort(a1)}`);
      }
      case TDVMCALL_GET_QUOTE: {
        // KVM (tdx_get_quote): the buffer must be shared, then GPA and size 4K aligned.
        if (kvm && isPrivate(a0)) return fail(TDVMCALL_STATUS_INVALID_OPERAND, `GetQuote buffer ${hexShort(a0)}: private GPA (the shared bit ${hexShort(shared)} is clear)`);
        if (kvm && ((a0 & 0xfffn) !== 0n || (a1 & 0xfffn) !== 0n)) return fail(TDVMCALL_STATUS_ALIGN_ERROR, `GetQuote buffer ${hexShort(a0)} size ${hexShort(a1)}: not 4K aligned`);
        const q = this.cfg.quoteResponse;
        if (q && mem && a1 > 0n) mem.writeMemory(a0, q.subarray(0, Number(a1 < BigInt(q.length) ? a1 : BigInt(q.length))));
        return ok(`GetQuote buffer ${hexShort(a0)} size ${hexShort(a1)}${q ? '' : ' (no quote configured)'}`);
      }
      case TDVMCALL_REPORT_FATAL_ERROR: {
        const message = decodeFatalErrorMessage(inRegs);
        res.stop = { reason: 'fatal-error', errorCode: a0, message };
        res.summary = `ReportFatalError code ${hexShort(a0)}: "${message}"`;
        return res;
      }
      case TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT:
        if (a0 < 32n || a0 > 255n) return fail(TDVMCALL_STATUS_INVALID_OPERAND, `SetupEventNotifyInterrupt vector ${a0} (KVM accepts 32–255)`);
        this.eventNotifyVector = Number(a0);
        return ok(`SetupEventNotifyInterrupt vector ${a0}`);
      default:
        return fail(TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED, `unsupported sub-function ${hexShort(res.subfunctionValue)}`);
    }
  }

  private beHostile(res: VmmResult, inRegs: bigint[], exposed: number, seed: bigint, callIndex: number): void {
    const outputs = definedOutputs({ ...res, inRegs });
    const chosen = this.cfg.hostile ? this.cfg.hostile.values ?? {} : {};
    for (let i = 2; i < 16; i++) {
      if (!(exposed & (1 << i)) || outputs.has(i)) continue;
      const name = GPR_NAMES[i];
      const v = chosen[name];
      res.regs[i] = v !== undefined ? toU64(v, `hostile.values.${name}`) : seededValue(seed, BigInt(callIndex), BigInt(i));
      res.hostileRegs.push(name);
    }
  }
}

/**
 * The registers the ABI defines as outputs of this answer (tdx-abi.md §5.3): R10 always, plus
 * each sub-function's results, the conditional ones only in their case.
 */
export function definedOutputs(res: Pick<VmmResult, 'subfunctionValue' | 'vendor' | 'status'> & { inRegs: readonly bigint[] }): Set<GprIndex> {
  const out = new Set<GprIndex>([GPR.R10]);
  if (res.vendor) {
    out.add(GPR.R11); // KVM: "writes the status to R10 and the value to R11"
    return out;
  }
  const sub = TDVMCALL_SUBFUNCTIONS.find((f) => f.value === res.subfunctionValue);
  if (!sub) return out;
  for (const o of sub.outputs) {
    if (!o.role.startsWith('if ')) out.add(GPR[o.reg]);
  }
  const dir = res.inRegs[GPR.R13];
  if ((sub.value === EXIT_REASON_IO_INSTRUCTION || sub.value === EXIT_REASON_EPT_VIOLATION) && dir === 0n) out.add(GPR.R11);
  if (sub.value === TDVMCALL_MAP_GPA && res.status !== TDVMCALL_STATUS_SUCCESS) out.add(GPR.R11);
  if (sub.value === TDVMCALL_GET_TD_VM_CALL_INFO) [GPR.R11, GPR.R12, GPR.R13, GPR.R14].forEach((r) => out.add(r));
  return out;
}

/**
 * The ReportFatalError message: 64 bytes packed little-endian into R14, R15, RBX, RDI, RSI, R8,
 * R9, RDX (GHCI order, tdx-abi.md §5.3), up to the first NUL.
 */
export function decodeFatalErrorMessage(regs: readonly bigint[]): string {
  const bytes: number[] = [];
  for (const name of REPORT_FATAL_ERROR_MESSAGE_REGS) {
    const v = u64(regs[GPR[name]]);
    for (let b = 0n; b < 8n; b++) bytes.push(Number((v >> (8n * b)) & 0xffn));
  }
  const end = bytes.indexOf(0);
  return Buffer.from(bytes.slice(0, end < 0 ? bytes.length : end)).toString('latin1');
}

function subfnKey(k: string, where: string): bigint {
  const f = findSubfunction(k);
  if (f) return f.value;
  const n = gprIndex(k) === undefined ? tryNumber(k) : undefined;
  if (n !== undefined) return n;
  throw new RangeError(`vmm.${where}: unknown TDG.VP.VMCALL sub-function "${k}"`);
}

function tryNumber(k: string): bigint | undefined {
  try {
    return toU64(k, 'sub-function');
  } catch {
    return undefined;
  }
}

function checkAnswer(a: TdvmcallAnswer, where: string): TdvmcallAnswer {
  if (a.status !== undefined) statusValue(a.status, `vmm.${where}.status`);
  for (const [name, v] of Object.entries(a.regs ?? {})) {
    if (gprIndex(name) === undefined) throw new RangeError(`vmm.${where}.regs: "${name}" is not a 64-bit GPR`);
    toU64(v as U64Like, `vmm.${where}.regs.${name}`);
  }
  return { ...a, regs: Object.fromEntries(Object.entries(a.regs ?? {}).map(([k, v]) => [GPR_NAMES[gprIndex(k)!], v])) };
}

function statusValue(s: U64Like, what: string): bigint {
  if (typeof s === 'string') {
    // Full names or the short ones `--vmm` accepts (`RETRY` for TDVMCALL_STATUS_RETRY).
    const c = findTdvmcallStatus(s) ?? findTdvmcallStatus(`TDVMCALL_STATUS_${s.trim()}`);
    if (c) return c.value;
  }
  return toU64(s, what);
}

function statusName(v: bigint): string {
  return findTdvmcallStatus(v)?.name ?? hex64(v);
}

function hexShort(v: bigint): string {
  return '0x' + u64(v).toString(16).toUpperCase();
}

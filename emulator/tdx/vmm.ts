// The untrusted VMM as a TD guest meets it through TDG.VP.VMCALL: answers each sub-function from
// configurable tables and ordered scripts, optionally behaves hostile (garbage in every exposed
// register the ABI does not define as an output), and reports ReportFatalError as a stop.
// It sees only the registers the module hands it (unexposed ones are zero): see module.ts.

import { findSubfunction, findTdvmcallStatus } from './catalog';
import { seededValue } from './prng';
import { findKvmHypercall, type KvmHypercall, type TdvmcallSubfunction } from './vmcalls';
import { GPR, GPR_NAMES, gprIndex, hex64, ModelConfigError, toU64, u64, type GprIndex, type GprName, type U64Like } from './types';
import { answerKvmHypercall, answerStandard, KVM_MAP_GPA_CHUNK, TDVMCALL_STATUS, type BehaviourResult, type VmmWorld } from './vmmBehaviours';

export { decodeFatalErrorMessage } from './vmmBehaviours';

const { TDVMCALL_STATUS_SUCCESS, TDVMCALL_STATUS_RETRY, TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED } = TDVMCALL_STATUS;

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

/** The VMM's view of a TDG.VP.VMCALL, as the module hands it over (TDX module tdg_vp_vmcall.c). */
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
  /** What the behaviours read and change: MSRs, MMIO, conversions, the notify vector. */
  private readonly world: VmmWorld;
  /** The answering profile. */
  readonly profile: VmmProfile;

  /** Throws a ModelConfigError naming the bad configuration entry (`vmm.…`). */
  constructor(config: VmmConfig = {}, td: VmmTdInfo = {}) {
    this.cfg = config;
    const profile = config.profile ?? 'kvm';
    if (!VMM_PROFILES.includes(profile)) throw new ModelConfigError('vmm.profile', `"${String(profile)}" is not a profile (known: ${VMM_PROFILES.join(', ')})`);
    this.profile = profile;
    this.world = {
      cfg: config, kvm: profile === 'kvm', gpaw: td.gpaw ?? false, numVcpus: td.numVcpus ?? 1,
      msrs: new Map(), mmio: new Map(), conversions: [], eventNotifyVector: undefined,
    };
    this.resolved = { answers: new Map(), scripts: new Map() };
    for (const [k, a] of Object.entries(config.answers ?? {})) this.resolved.answers.set(subfnKey(k, 'answers'), checkAnswer(a, `answers.${k}`));
    for (const [k, list] of Object.entries(config.scripts ?? {})) {
      this.resolved.scripts.set(subfnKey(k, 'scripts'), list.map((a, i) => checkAnswer(a, `scripts.${k}[${i}]`)));
    }
    if (config.vendor) checkAnswer(config.vendor, 'vendor');
    (config.msrs ?? []).forEach((m, i) => this.world.msrs.set(toU64(m.msr, `vmm.msrs[${i}].msr`), toU64(m.value, `vmm.msrs[${i}].value`)));
    (config.mmio ?? []).forEach((m, i) => this.world.mmio.set(toU64(m.gpa, `vmm.mmio[${i}].gpa`), toU64(m.value, `vmm.mmio[${i}].value`)));
    (config.cpuid ?? []).forEach((c, i) => {
      for (const k of ['leaf', 'subleaf', 'eax', 'ebx', 'ecx', 'edx'] as const) if (c[k] !== undefined) toU64(c[k]!, `vmm.cpuid[${i}].${k}`);
    });
    (config.ioPorts ?? []).forEach((p, i) => { toU64(p.port, `vmm.ioPorts[${i}].port`); toU64(p.value, `vmm.ioPorts[${i}].value`); });
    if (config.hostile) {
      toU64(config.hostile.seed ?? 0n, 'vmm.hostile.seed');
      for (const [name, v] of Object.entries(config.hostile.values ?? {})) toU64(v as U64Like, `vmm.hostile.values.${name}`);
    }
    if (config.mapGpaRetryProgress !== undefined) toU64(config.mapGpaRetryProgress, 'vmm.mapGpaRetryProgress');
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
      result = vendor ? (this.profile === 'kvm' && !this.cfg.vendor ? withAnswer(result, answerKvmHypercall(this.world, hc, inRegs)) : this.answerVendor(result, inRegs))
        : withAnswer(result, answerStandard(this.world, fn, { inRegs, regs, ...(mem ? { mem } : {}) }));
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
      msrs: [...this.world.msrs].map(([k, v]) => [k.toString(), v.toString()]),
      mmio: [...this.world.mmio].map(([k, v]) => [k.toString(), v.toString()]),
      ...(this.world.eventNotifyVector !== undefined ? { eventNotifyVector: this.world.eventNotifyVector } : {}),
      conversions: this.world.conversions.map((c) => ({ start: c.start.toString(), size: c.size.toString() })),
    };
  }

  /** Restores a snapshot taken from a model with the same configuration. */
  restore(s: VmmState): void {
    this.calls = s.calls;
    this.scriptPos = new Map(Object.entries(s.scriptPos).map(([k, v]) => [BigInt(k), v]));
    this.world.msrs = new Map(s.msrs.map(([k, v]) => [BigInt(k), BigInt(v)]));
    this.world.mmio = new Map(s.mmio.map(([k, v]) => [BigInt(k), BigInt(v)]));
    this.world.eventNotifyVector = s.eventNotifyVector;
    this.world.conversions = s.conversions.map((c) => ({ start: BigInt(c.start), size: BigInt(c.size) }));
  }

  /** GPA ranges MapGPA converted so far, in call order (the shared bit is part of `start`). */
  get mapGpaConversions(): readonly { start: bigint; size: bigint }[] {
    return this.world.conversions;
  }

  /** The vector registered by SetupEventNotifyInterrupt, if any. */
  get eventNotifyInterruptVector(): number | undefined {
    return this.world.eventNotifyVector;
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
    if (res.subfunction?.name === 'TDVMCALL_MAP_GPA' && res.status !== TDVMCALL_STATUS_SUCCESS && a.regs?.R11 === undefined) {
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
 * The registers the ABI defines as outputs of this answer (GHCI; Linux asm/shared/tdx.h, arch/x86/kvm/vmx/tdx.c): R10 always, plus
 * each sub-function's results, the conditional ones only in their case.
 */
export function definedOutputs(res: Pick<VmmResult, 'subfunctionValue' | 'vendor' | 'status'> & { inRegs: readonly bigint[] }): Set<GprIndex> {
  const out = new Set<GprIndex>([GPR.R10]);
  // A KVM hypercall's result is R10 alone (tdx_emulate_vmcall → complete_hypercall_exit).
  if (res.vendor) return out;
  const sub = findSubfunction(res.subfunctionValue);
  for (const o of sub?.outputs ?? []) {
    const applies = o.when === undefined || (o.when === 'read' ? res.inRegs[GPR.R13] === 0n : res.status !== TDVMCALL_STATUS_SUCCESS);
    if (applies) out.add(GPR[o.reg]);
  }
  return out;
}

function subfnKey(k: string, where: string): bigint {
  const f = findSubfunction(k);
  if (f) return f.value;
  const n = gprIndex(k) === undefined ? tryNumber(k) : undefined;
  if (n !== undefined) return n;
  throw new ModelConfigError(`vmm.${where}.${k}`, `unknown TDG.VP.VMCALL sub-function "${k}"`);
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
    if (gprIndex(name) === undefined) throw new ModelConfigError(`vmm.${where}.regs.${name}`, `"${name}" is not a 64-bit GPR`);
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

/** The result with a behaviour's status, summary and stop. */
function withAnswer(res: VmmResult, a: BehaviourResult): VmmResult {
  res.status = a.status;
  res.summary = a.summary;
  if (a.stop) res.stop = a.stop;
  return res;
}

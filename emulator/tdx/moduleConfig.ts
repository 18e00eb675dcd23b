// Configuration and mutable state of the TDX module model, with documented defaults. Kept apart
// from the leaf handlers so the adapter's launch configuration and the CLI's `--platform` keys
// can map onto it without importing the model.

import { ModelConfigError, toU64, type GprName, type U64Like } from './types';

/** The pending #VE that TDG.VP.VEINFO.GET reports (Linux asm/shared/tdx.h TDCALL leaves leaf 3 outputs). */
export interface VeInfo {
  exitReason: U64Like;
  exitQualification?: U64Like;
  gla?: U64Like;
  gpa?: U64Like;
  /** R10[31:0]. */
  instructionLength?: U64Like;
  /** R10[63:32]. */
  instructionInfo?: U64Like;
}

/** One TD-scope metadata field for TDG.VM.RD/WR. */
export interface TdMetadataField {
  fieldId: U64Like;
  value: U64Like;
  /** Whether TDG.VM.WR may change it (default false). */
  writable?: boolean;
  /** Display name, e.g. `TDCS_TD_CTLS`. */
  name?: string;
}

/** TDX module model configuration. Every field is optional; defaults are given per field. */
export interface TdxModuleConfig {
  // ---- the TD (guest side) ----
  /** TD ATTRIBUTES (TDG.VP.INFO RDX; TDREPORT). Default 0. */
  attributes?: U64Like;
  /** XFAM written into the TDREPORT. Default 0. */
  xfam?: U64Like;
  /** TD GPAW bit: true = 52-bit GPA width (shared bit 51), false = 48 (shared bit 47). Default false. */
  gpaw?: boolean;
  /** TDG.VP.INFO R8[31:0]. Default 1. */
  numVcpus?: number;
  /** TDG.VP.INFO R8[63:32]. Default 1. */
  maxVcpus?: number;
  /** TDG.VP.INFO R9. Default 0. */
  vcpuIndex?: number;
  /** TD config flag `no_rbp_mod`: RBP may not be exposed to the VMM (bit 5 of RCX rejected). Default false. */
  noRbpMod?: boolean;
  /** A pending #VE for TDG.VP.VEINFO.GET. Default none (the leaf returns TDX_NO_VALID_VE_INFO). */
  veInfo?: VeInfo;
  /** Initial RTMR0..3 values, 48 bytes each. Default all zero. */
  rtmrs?: Uint8Array[];
  /** MRTD in the TDREPORT (48 bytes). Default zero. */
  mrtd?: Uint8Array;
  /**
   * Page state that TDG.MEM.PAGE.ACCEPT starts from: `'pending'` (every private page awaits
   * acceptance) or `'accepted'` (all memory already accepted at 2M, as firmware leaves it).
   * Default `'pending'`.
   */
  initialPageState?: 'pending' | 'accepted';
  /** Zero the pages TDG.MEM.PAGE.ACCEPT accepts, as the module does. Default true. */
  zeroAcceptedPages?: boolean;
  /** TD-scope metadata for TDG.VM.RD/WR. Default: the four fields the kernel uses (see DEFAULT_TD_METADATA). */
  tdMetadata?: TdMetadataField[];

  // ---- the platform (host side) ----
  /** Logical processors; TDH.SYS.LP.INIT must run on each before TDH.SYS.CONFIG. Default 1. */
  numLps?: number;
  /** Package of each LP (index = LP). Default: all on package 0. */
  lpPackage?: number[];
  /** Private (TDX) HKIDs accepted as the global KeyID by TDH.SYS.CONFIG. Default first 32, count 32. */
  privateHkids?: { first: number; count: number };
  /** MAX_PA: physical address width. Default 52. */
  physAddrBits?: number;
  /** KeyID bits at the top of a physical address (below MAX_PA). Default 6. */
  keyIdBits?: number;
  /** Bytes of TDMR one TDH.SYS.TDMR.INIT call initialises: 1024 4K PAMT entries = 4 MiB. Default 0x400000. */
  tdmrInitChunk?: U64Like;
  /** Global metadata for TDH.SYS.RD (field id → value). Default empty (every read: TDX_METADATA_FIELD_ID_INCORRECT). */
  sysMetadata?: { fieldId: U64Like; value: U64Like }[];
  /**
   * Start the module already initialised (state SYS_READY, every LP initialised) with these
   * TDMRs fully initialised — for debugging code that runs after platform init. Default: start
   * in SYSINIT_PENDING.
   */
  startReady?: { tdmrs?: { base: U64Like; size: U64Like }[] };
  /** TDX_RND_NO_ENTROPY for the next N calls of the named leaves (name or number → N). Default none. */
  noEntropy?: Record<string, number>;
  /** Outputs of leaves that otherwise just succeed, by leaf name: register → value. */
  leafOutputs?: Record<string, Partial<Record<GprName, U64Like>>>;
}

/**
 * TD metadata field ids from Linux asm/shared/tdx.h TDCALL leaves ("Metadata field IDs", Linux 6.12). Which ones the
 * guest may write is our choice: the kernel writes TD_CTLS and NOTIFY_ENABLES, reads the others.
 */
export const DEFAULT_TD_METADATA: readonly TdMetadataField[] = Object.freeze([
  { name: 'TDCS_CONFIG_FLAGS', fieldId: 0x1110_0003_0000_0016n, value: 0n, writable: false },
  { name: 'TDCS_TD_CTLS', fieldId: 0x1110_0003_0000_0017n, value: 0n, writable: true },
  { name: 'TDCS_NOTIFY_ENABLES', fieldId: 0x9100_0000_0000_0010n, value: 0n, writable: true },
  { name: 'TDCS_TOPOLOGY_ENUM_CONFIGURED', fieldId: 0x9100_0000_0000_0019n, value: 0n, writable: false },
]);

/** Global init state (`sysinit_state_e`, TDX module tdh_sys_*.c). */
export type SysInitState = 'SYSINIT_PENDING' | 'SYSINIT_DONE' | 'SYSCONFIG_DONE' | 'SYS_READY' | 'SYS_SHUTDOWN';

/** A configured TDMR and how far TDH.SYS.TDMR.INIT got. */
export interface TdmrState {
  base: bigint;
  size: bigint;
  /** First address not yet initialised; `base + size` when done. */
  next: bigint;
}

/** The module model's mutable state. Plain data (bigints, arrays): `structuredClone` copies it. */
export interface TdxModuleState {
  sysState: SysInitState;
  lpInit: boolean[];
  packageKeyConfigured: boolean[];
  globalHkid?: number;
  tdmrs: TdmrState[];
  rtmrs: Uint8Array[];
  /** Accepted 4K pages (GPA >> 12) and 2M pages (GPA >> 21). */
  accepted4k: Set<bigint>;
  accepted2m: Set<bigint>;
  veInfo?: { exitReason: bigint; exitQualification: bigint; gla: bigint; gpa: bigint; lengthAndInfo: bigint };
  tdMetadata: { fieldId: bigint; value: bigint; writable: boolean; name?: string }[];
  noEntropy: Map<string, number>;
}

/** Resolved configuration: every default applied, every number a bigint. */
export interface ResolvedModuleConfig {
  attributes: bigint;
  xfam: bigint;
  gpaw: boolean;
  numVcpus: number;
  maxVcpus: number;
  vcpuIndex: number;
  noRbpMod: boolean;
  mrtd: Uint8Array;
  initialPageState: 'pending' | 'accepted';
  zeroAcceptedPages: boolean;
  numLps: number;
  lpPackage: number[];
  numPackages: number;
  privateHkids: { first: number; count: number };
  physAddrBits: number;
  keyIdBits: number;
  tdmrInitChunk: bigint;
  sysMetadata: Map<bigint, bigint>;
  leafOutputs: Map<string, Partial<Record<GprName, bigint>>>;
}

export function resolveModuleConfig(c: TdxModuleConfig): ResolvedModuleConfig {
  const numLps = c.numLps ?? 1;
  if (!Number.isInteger(numLps) || numLps < 1) throw new ModelConfigError('tdxModule.numLps', `${numLps} is not a positive integer`);
  const lpPackage = Array.from({ length: numLps }, (_, i) => c.lpPackage?.[i] ?? 0);
  const leafOutputs = new Map<string, Partial<Record<GprName, bigint>>>();
  for (const [leaf, regs] of Object.entries(c.leafOutputs ?? {})) {
    leafOutputs.set(leaf, Object.fromEntries(Object.entries(regs).map(([r, v]) => [r.toUpperCase(), toU64(v as U64Like, `tdxModule.leafOutputs.${leaf}.${r}`)])));
  }
  return {
    attributes: toU64(c.attributes ?? 0n, 'tdxModule.attributes'),
    xfam: toU64(c.xfam ?? 0n, 'tdxModule.xfam'),
    gpaw: c.gpaw ?? false,
    numVcpus: c.numVcpus ?? 1,
    maxVcpus: c.maxVcpus ?? 1,
    vcpuIndex: c.vcpuIndex ?? 0,
    noRbpMod: c.noRbpMod ?? false,
    mrtd: c.mrtd ?? new Uint8Array(48),
    initialPageState: c.initialPageState ?? 'pending',
    zeroAcceptedPages: c.zeroAcceptedPages ?? true,
    numLps,
    lpPackage,
    numPackages: Math.max(...lpPackage) + 1,
    privateHkids: c.privateHkids ?? { first: 32, count: 32 },
    physAddrBits: c.physAddrBits ?? 52,
    keyIdBits: c.keyIdBits ?? 6,
    tdmrInitChunk: toU64(c.tdmrInitChunk ?? 0x40_0000n, 'tdxModule.tdmrInitChunk'),
    sysMetadata: new Map((c.sysMetadata ?? []).map((f) => [toU64(f.fieldId, 'tdxModule.sysMetadata.fieldId'), toU64(f.value, 'tdxModule.sysMetadata.value')])),
    leafOutputs,
  };
}

export function initialModuleState(c: TdxModuleConfig, r: ResolvedModuleConfig): TdxModuleState {
  const ready = c.startReady !== undefined;
  const rtmrs = [0, 1, 2, 3].map((i) => {
    const v = c.rtmrs?.[i];
    if (v && v.length !== 48) throw new ModelConfigError(`tdxModule.rtmrs[${i}]`, `an RTMR is 48 bytes, got ${v.length}`);
    return v ? Uint8Array.from(v) : new Uint8Array(48);
  });
  const ve = c.veInfo;
  return {
    sysState: ready ? 'SYS_READY' : 'SYSINIT_PENDING',
    lpInit: Array.from({ length: r.numLps }, () => ready),
    packageKeyConfigured: Array.from({ length: r.numPackages }, () => ready),
    tdmrs: (c.startReady?.tdmrs ?? []).map((t) => {
      const base = toU64(t.base, 'tdxModule.startReady.tdmrs.base');
      const size = toU64(t.size, 'tdxModule.startReady.tdmrs.size');
      return { base, size, next: base + size };
    }),
    rtmrs,
    accepted4k: new Set(),
    accepted2m: new Set(),
    ...(ve ? {
      veInfo: {
        exitReason: toU64(ve.exitReason, 'tdxModule.veInfo.exitReason'),
        exitQualification: toU64(ve.exitQualification ?? 0n, 'tdxModule.veInfo.exitQualification'),
        gla: toU64(ve.gla ?? 0n, 'tdxModule.veInfo.gla'),
        gpa: toU64(ve.gpa ?? 0n, 'tdxModule.veInfo.gpa'),
        lengthAndInfo: (toU64(ve.instructionInfo ?? 0n, 'tdxModule.veInfo.instructionInfo') << 32n) | (toU64(ve.instructionLength ?? 0n, 'tdxModule.veInfo.instructionLength') & 0xffff_ffffn),
      },
    } : {}),
    tdMetadata: (c.tdMetadata ?? DEFAULT_TD_METADATA).map((f) => ({
      fieldId: toU64(f.fieldId, 'tdxModule.tdMetadata.fieldId'), value: toU64(f.value, 'tdxModule.tdMetadata.value'), writable: f.writable ?? false,
      ...(f.name ? { name: f.name } : {}),
    })),
    noEntropy: new Map(Object.entries(c.noEntropy ?? {})),
  };
}

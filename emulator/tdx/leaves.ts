// Catalogue of TDCALL leaves (guest → TDX module), SEAMCALL leaves (host → TDX module) and
// P-SEAMLDR leaves (SEAMCALL with RAX bit 63), with their register roles as the references give
// them. Numbers: Linux asm/shared/tdx.h TDCALL leaves/Linux arch/x86/virt/vmx/tdx/tdx.h SEAMCALL leaves and TDX module tdx_td_dispatcher.c/TDX module tdx_vmm_dispatcher.c. Register roles that the
// references do not state are left out rather than guessed.

import type { HeaderDefinition } from './generation';
import type { GprName, Provenance, RegisterRole } from './types';

/** The instruction that reaches a leaf. */
export type TdxInstruction = 'tdcall' | 'seamcall';

/** One TDCALL, SEAMCALL or P-SEAMLDR leaf. */
export interface TdxLeaf extends Provenance {
  instruction: TdxInstruction;
  /** ABI spelling, e.g. `TDH.SYS.INIT`, `SEAMLDR.INFO`. */
  name: string;
  /** C-identifier spelling, e.g. `TDH_SYS_INIT`. */
  symbol: string;
  /** RAX[15:0]. */
  leaf: number;
  /** RAX bit 63 set: the call goes to the P-SEAMLDR, not the TDX module. */
  seamldr: boolean;
  /** The full RAX value for ABI version 0 (`0x8000000000000000` for SEAMLDR.INFO). */
  rax: bigint;
  /** Names the kernel has used for this leaf over time, e.g. `TDX_GET_INFO`. */
  kernelNames?: string[];
  /** Input registers and their roles (RAX, the leaf itself, is implied). */
  inputs: RegisterRole[];
  /** Output registers and their roles (RAX, the status, is implied). */
  outputs: RegisterRole[];
  /**
   * Highest RAX[23:16] version the module's dispatcher lets through. Versions above it get
   * TDX_OPERAND_INVALID with operand RAX (TDX module tdx_td_dispatcher.c order 3, TDX module tdx_vmm_dispatcher.c order 2).
   */
  maxVersion: number;
  /** One line for hovers and call cards. */
  summary: string;
  /** The kernel headers and generations that define the leaf's number (the built-in headers are generated from these). */
  headers?: HeaderDefinition[];
  /**
   * The statuses this leaf's own checks can return (`NAME` or `NAME+OPERAND`), as the module's
   * source traces them (tdh_sys_*.c, tdg_*.c); the matrix tries each. Absent when untraced:
   * the matrix then tries the dispatcher's generic answers.
   */
  returns?: readonly string[];
  /**
   * SEAMCALL leaves the module's dispatcher lets through before SYS_READY (the init and
   * read-only system leaves, src/vmm_dispatcher/tdx_vmm_dispatcher.c); the others get
   * TDX_SYS_NOT_READY.
   */
  allowedBeforeReady?: boolean;
}

function r(reg: GprName, role: string, bits?: string, caveat?: string): RegisterRole {
  return Object.freeze({ reg, role, ...(bits ? { bits } : {}), ...(caveat ? { caveat } : {}) });
}

interface LeafSpec extends Partial<Provenance> {
  name: string;
  leaf: number;
  summary: string;
  in?: RegisterRole[];
  out?: RegisterRole[];
  kernelNames?: string[];
  maxVersion?: number;
  headers?: HeaderDefinition[];
  returns?: readonly string[];
  allowedBeforeReady?: boolean;
}

function leaf(instruction: TdxInstruction, spec: LeafSpec, defaultSource: string, seamldr = false): TdxLeaf {
  const rax = seamldr ? (1n << 63n) | BigInt(spec.leaf) : BigInt(spec.leaf);
  return Object.freeze({
    instruction,
    name: spec.name,
    symbol: spec.name.replace(/\./g, '_'),
    leaf: spec.leaf,
    seamldr,
    rax,
    ...(spec.kernelNames ? { kernelNames: spec.kernelNames } : {}),
    inputs: spec.in ?? [],
    outputs: spec.out ?? [],
    maxVersion: spec.maxVersion ?? 0,
    summary: spec.summary,
    source: spec.source ?? defaultSource,
    ...(spec.caveat ? { caveat: spec.caveat } : {}),
    ...(spec.note ? { note: spec.note } : {}),
    ...(spec.headers ? { headers: spec.headers } : {}),
    ...(spec.returns ? { returns: Object.freeze([...spec.returns]) } : {}),
    ...(spec.allowedBeforeReady ? { allowedBeforeReady: true } : {}),
  });
}

/** SEAMCALL leaf numbers are in <asm/tdx.h> in every generation. */
const HOST_H: HeaderDefinition[] = [{ header: 'asm/tdx.h' }];

const MODULE_LEAF_SOURCE = 'intel/tdx-module tdx_1.5 include/tdx_api_defs.h';

/**
 * TDCALL leaves. Source tables: Linux asm/shared/tdx.h TDCALL leaves (registers as the kernel uses them) and
 * TDX module tdx_td_dispatcher.c "Leaf numbers" and TDX module tdg_*.c (the module's own outputs).
 */
export const TDCALL_LEAVES: readonly TdxLeaf[] = Object.freeze([
  {
    name: 'TDG.VP.VMCALL', returns: ['TDX_OPERAND_INVALID+RCX'], headers: [{ header: 'asm/shared/tdx.h', from: 'G4' }], leaf: 0, kernelNames: ['TDG_VP_VMCALL'], source: 'Linux 6.12; module tdg_vp_vmcall.c',
    summary: 'Hand a hypercall (sub-function in R11) to the untrusted VMM, exposing the registers selected in RCX.',
    in: [
      r('RCX', 'GPR exposure bitmap: bit n exposes GPR n; RAX, RCX, RSP (and RBP when the TD sets no_rbp_mod) must be 0', '15:0'),
      r('RCX', 'XMM0–15 exposure bitmap (not checked)', '31:16'),
      r('RCX', 'reserved, must be 0', '63:32'),
      r('R10', '0 = GHCI-standard call (TDX_HYPERCALL_STANDARD); nonzero = vendor ABI'),
      r('R11', 'sub-function (TDG.VP.VMCALL leaf)'),
      r('R12', 'argument a0'), r('R13', 'argument a1'), r('R14', 'argument a2'), r('R15', 'argument a3'),
      r('RBX', 'argument (G2 and later)'), r('RDX', 'argument (G2 and later)'), r('RDI', 'argument (G2 and later)'),
      r('RSI', 'argument (G2 and later)'), r('R8', 'argument (G2 and later)'), r('R9', 'argument (G2 and later)'),
    ],
    out: [
      r('R10', 'TDVMCALL status from the VMM (TDVMCALL_STATUS_*)'),
      r('R11', 'result'), r('R12', 'result'), r('R13', 'result'), r('R14', 'result'), r('R15', 'result'),
    ],
  },
  {
    name: 'TDG.VP.INFO', returns: [], headers: [{ header: 'asm/shared/tdx.h', name: 'TDX_GET_INFO', to: 'G3.5' }, { header: 'asm/shared/tdx.h', from: 'G4' }], leaf: 1, kernelNames: ['TDX_GET_INFO', 'TDG_VP_INFO'], source: 'Linux 6.1, 6.12; module tdg_vp_info.c',
    summary: 'Read the TD execution environment: GPA width, attributes, vCPU counts.',
    out: [
      r('RCX', 'GPA width: 52 with GPAW, else 48 (the shared bit is bit width−1)', '5:0'),
      r('RDX', 'TD ATTRIBUTES (ATTR_DEBUG bit 0, ATTR_SEPT_VE_DISABLE bit 28)'),
      r('R8', 'NUM_VCPUS [31:0], MAX_VCPUS [63:32]'),
      r('R9', 'VCPU_INDEX of this vCPU'),
      r('R10', 'bit 0 = TDG.SYS.RD available (1 in module 1.5, 0 in 1.0)'),
      r('R11', 'reserved, 0'),
    ],
  },
  {
    name: 'TDG.MR.RTMR.EXTEND', headers: [{ header: 'asm/shared/tdx.h', from: 'G5' }], leaf: 2, kernelNames: ['TDG_MR_RTMR_EXTEND'], source: 'analogdevicesinc/linux; module tdg_mr_rtmr_extend.c',
    summary: 'Extend RTMR[RDX] with the 48-byte value at GPA RCX: RTMR = SHA-384(RTMR || data).',
    in: [
      r('RCX', 'GPA of the 48-byte extend data, 64-byte aligned, private', undefined, 'alignment from the module source, not the reference'),
      r('RDX', 'RTMR index 0..3'),
    ],
  },
  {
    name: 'TDG.VP.VEINFO.GET', headers: [{ header: 'asm/shared/tdx.h', name: 'TDX_GET_VEINFO', to: 'G3.5' }, { header: 'asm/shared/tdx.h', from: 'G4' }], leaf: 3, kernelNames: ['TDX_GET_VEINFO', 'TDG_VP_VEINFO_GET'], source: 'Linux 6.1, 6.12',
    summary: 'Read (and consume) the information of the pending #VE.',
    out: [
      r('RCX', 'exit reason'), r('RDX', 'exit qualification'), r('R8', 'guest linear address'), r('R9', 'guest physical address'),
      r('R10', 'instruction length (trustworthy for instruction-caused #VE, not for EPT violations)', '31:0'),
      r('R10', 'instruction information', '63:32'),
    ],
  },
  {
    name: 'TDG.MR.REPORT', returns: ['TDX_OPERAND_INVALID+RCX', 'TDX_OPERAND_INVALID+RDX', 'TDX_OPERAND_INVALID+R8'], headers: [{ header: 'asm/shared/tdx.h', name: 'TDX_GET_REPORT', to: 'G3.5' }, { header: 'asm/shared/tdx.h', from: 'G4' }], leaf: 4, kernelNames: ['TDX_GET_REPORT', 'TDG_MR_REPORT'], source: 'mainline 019b383d, Linux 6.12; module tdg_mr_report.c',
    summary: 'Write a 1024-byte TDREPORT_STRUCT that binds 64 bytes of REPORTDATA.',
    in: [
      r('RCX', 'GPA of the TDREPORT_STRUCT output, 1024-byte aligned'),
      r('RDX', 'GPA of the 64-byte REPORTDATA, 64-byte aligned'),
      r('R8', 'report sub-type, must be 0'),
    ],
  },
  { name: 'TDG.VP.CPUIDVE.SET', leaf: 5, summary: 'Control #VE on CPUID (registers not in the reference).' },
  {
    name: 'TDG.MEM.PAGE.ACCEPT', returns: ['TDX_OPERAND_INVALID+RCX', 'TDX_OPERAND_BUSY+RCX', 'TDX_PAGE_ALREADY_ACCEPTED', 'TDX_PAGE_SIZE_MISMATCH'], headers: [{ header: 'asm/shared/tdx.h', name: 'TDX_ACCEPT_PAGE', to: 'G3.5' }, { header: 'asm/shared/tdx.h', from: 'G4' }], leaf: 6, kernelNames: ['TDX_ACCEPT_PAGE', 'TDG_MEM_PAGE_ACCEPT'], source: 'Linux 6.1, 6.12; module tdg_mem_page_accept.c',
    summary: 'Accept a PENDING private page (4K or 2M) into the TD; it is zeroed.',
    in: [
      r('RCX', 'page level: 0 = 4K, 1 = 2M (the kernel also defines 2 = 1G; module 1.5 rejects it)', '2:0'),
      r('RCX', 'reserved, must be 0', '11:3'),
      r('RCX', 'GPA (aligned to the page size)', '51:12'),
      r('RCX', 'reserved, must be 0', '63:52'),
    ],
  },
  {
    name: 'TDG.VM.RD', returns: ['TDX_OPERAND_INVALID+RCX', 'TDX_METADATA_FIELD_ID_INCORRECT'], headers: [{ header: 'asm/shared/tdx.h', from: 'G4' }], leaf: 7, kernelNames: ['TDG_VM_RD'], source: 'Linux 6.12; module tdg_vm_rd_wr.c', maxVersion: 1,
    summary: 'Read a TD-scope metadata field.',
    in: [r('RCX', 'VM index, must be 0 (1.5 ABI)'), r('RDX', 'field id (version 1: -1 asks for the first field id)')],
    out: [r('R8', 'value read (0 on failure)'), r('RDX', 'version 1: next field id (-1 if none)')],
  },
  {
    name: 'TDG.VM.WR', returns: ['TDX_OPERAND_INVALID+RCX', 'TDX_METADATA_FIELD_ID_INCORRECT'], headers: [{ header: 'asm/shared/tdx.h', name: 'TDX_WR', from: 'G3', to: 'G3.5' }, { header: 'asm/shared/tdx.h', from: 'G4' }], leaf: 8, kernelNames: ['TDX_WR', 'TDG_VM_WR'], source: 'mainline 019b383d, Linux 6.12; module tdg_vm_rd_wr.c',
    summary: 'Write a TD-scope metadata field under a mask.',
    in: [r('RCX', 'VM index, must be 0 (1.5 ABI)'), r('RDX', 'field id'), r('R8', 'value'), r('R9', 'write mask')],
    out: [r('R8', 'previous value (0 on failure)')],
  },
  { name: 'TDG.VP.RD', leaf: 9, summary: 'Read a vCPU-scope metadata field (registers not in the reference).' },
  { name: 'TDG.VP.WR', leaf: 10, summary: 'Write a vCPU-scope metadata field (registers not in the reference).' },
  {
    name: 'TDG.SYS.RD', leaf: 11, kernelNames: ['TDG_SYS_RD'], source: 'proposed LKML patches', caveat: 'unverified',
    note: 'needs TDX module 1.5+; only in proposed LKML patches, not in 6.12 or analogdevicesinc',
    summary: 'Read a global (module-scope) metadata field.',
  },
  { name: 'TDG.SYS.RDALL', leaf: 12, summary: 'Read all global metadata fields (registers not in the reference).' },
  { name: 'TDG.SERVTD.RD', leaf: 18, summary: 'Read a field of a bound TD as its service TD.' },
  { name: 'TDG.SERVTD.WR', leaf: 20, summary: 'Write a field of a bound TD as its service TD.' },
  { name: 'TDG.MR.VERIFYREPORT', leaf: 22, summary: 'Verify a TDREPORT\'s MAC.' },
  { name: 'TDG.MEM.PAGE.ATTR.RD', leaf: 23, summary: 'Read the attributes of a private page.' },
  { name: 'TDG.MEM.PAGE.ATTR.WR', leaf: 24, summary: 'Write the attributes of a private page.' },
  { name: 'TDG.VP.ENTER', leaf: 25, summary: 'Enter an L2 VM (TD partitioning).' },
  { name: 'TDG.VP.INVEPT', leaf: 26, summary: 'Invalidate cached L2 EPT translations.' },
  { name: 'TDG.VP.INVVPID', leaf: 27, summary: 'Invalidate cached L2 linear translations.' },
].map((spec) => leaf('tdcall', spec as LeafSpec, MODULE_LEAF_SOURCE)));

const HOST_SOURCE = 'mainline a4a508df virt tdx.c, 43db1111 virt tdx.h';
/** The leaves the module's SEAMCALL dispatcher lets through with RAX[23:16] > 0 (§6 order 2). */
const ANY_VERSION = 255;

/**
 * SEAMCALL leaves. Source tables: Linux arch/x86/virt/vmx/tdx/tdx.h SEAMCALL leaves and TDX module tdh_sys_*.c/TDX module tdx_vmm_dispatcher.c.
 * "page"/"TDR"/"TDVPR" are host physical addresses.
 */
export const SEAMCALL_LEAVES: readonly TdxLeaf[] = Object.freeze([
  { name: 'TDH.VP.ENTER', headers: HOST_H, leaf: 0, summary: 'Enter the TD vCPU; all 13 GPRs go both ways (__seamcall_saved_ret).', in: [r('RCX', 'TDVPR')] },
  { name: 'TDH.MNG.ADDCX', headers: HOST_H, leaf: 1, summary: 'Add a TDCS control page.', in: [r('RCX', 'page'), r('RDX', 'TDR')] },
  { name: 'TDH.MEM.PAGE.ADD', headers: HOST_H, leaf: 2, summary: 'Add and measure an initial private page.', in: [r('RCX', 'GPA'), r('RDX', 'TDR'), r('R8', 'page'), r('R9', 'source page')], out: [r('RCX', 'extended error'), r('RDX', 'extended error')] },
  { name: 'TDH.MEM.SEPT.ADD', headers: HOST_H, leaf: 3, maxVersion: ANY_VERSION, summary: 'Add a Secure-EPT page.', in: [r('RCX', 'GPA | level'), r('RDX', 'TDR'), r('R8', 'page')] },
  { name: 'TDH.VP.ADDCX', headers: HOST_H, leaf: 4, summary: 'Add a TDVPS control page.', in: [r('RCX', 'page'), r('RDX', 'TDVPR')] },
  { name: 'TDH.MEM.PAGE.AUG', headers: HOST_H, leaf: 6, summary: 'Add a PENDING private page after TD build.', in: [r('RCX', 'GPA | level'), r('RDX', 'TDR'), r('R8', 'page')] },
  { name: 'TDH.MEM.RANGE.BLOCK', headers: HOST_H, leaf: 7, summary: 'Block a GPA range in the Secure EPT.', in: [r('RCX', 'GPA | level'), r('RDX', 'TDR')] },
  { name: 'TDH.MNG.KEY.CONFIG', headers: HOST_H, leaf: 8, summary: 'Program the TD\'s key on this package.', in: [r('RCX', 'TDR')] },
  { name: 'TDH.MNG.CREATE', headers: HOST_H, leaf: 9, summary: 'Create a TD (TDR) with an HKID.', in: [r('RCX', 'TDR'), r('RDX', 'HKID')] },
  { name: 'TDH.VP.CREATE', headers: HOST_H, leaf: 10, summary: 'Create a vCPU (TDVPR).', in: [r('RCX', 'TDVPR'), r('RDX', 'TDR')] },
  { name: 'TDH.MNG.RD', headers: HOST_H, leaf: 11, maxVersion: ANY_VERSION, summary: 'Read a TD-scope metadata field.', in: [r('RCX', 'TDR'), r('RDX', 'field id')], out: [r('R8', 'value')] },
  { name: 'TDH.MR.EXTEND', headers: HOST_H, leaf: 16, summary: 'Extend MRTD with a 256-byte chunk.', in: [r('RCX', 'GPA'), r('RDX', 'TDR')] },
  { name: 'TDH.MR.FINALIZE', headers: HOST_H, leaf: 17, summary: 'Finalise the TD measurement.', in: [r('RCX', 'TDR')] },
  { name: 'TDH.VP.FLUSH', headers: HOST_H, leaf: 18, summary: 'Flush a vCPU\'s cached state.', in: [r('RCX', 'TDVPR')] },
  { name: 'TDH.MNG.VPFLUSHDONE', headers: HOST_H, leaf: 19, summary: 'Confirm every vCPU was flushed.', in: [r('RCX', 'TDR')] },
  { name: 'TDH.MNG.KEY.FREEID', headers: HOST_H, leaf: 20, summary: 'Free the TD\'s HKID.', in: [r('RCX', 'TDR')] },
  { name: 'TDH.MNG.INIT', headers: HOST_H, leaf: 21, summary: 'Initialise the TD from TD_PARAMS.', in: [r('RCX', 'TDR'), r('RDX', 'TD_PARAMS PA')], out: [r('RCX', 'extended error')] },
  {
    name: 'TDH.VP.INIT', headers: HOST_H, leaf: 22, maxVersion: 1,
    note: 'Linux calls it with version 1 (x2APIC id operand, mainline a4a508df); module 1.5.01\'s dispatcher list does not include leaf 22, we accept version 1 so kernel code runs',
    summary: 'Initialise a vCPU.', in: [r('RCX', 'TDVPR'), r('RDX', 'initial guest RCX'), r('R8', 'x2APIC id (version 1)')],
  },
  { name: 'TDH.MEM.PAGE.PROMOTE', leaf: 23, maxVersion: ANY_VERSION, source: 'TDX module tdx_vmm_dispatcher.c', summary: 'Merge 512 4K pages into a 2M page (registers not in the reference).' },
  { name: 'TDH.PHYMEM.PAGE.RDMD', headers: HOST_H, leaf: 24, summary: 'Read a physical page\'s metadata.', in: [r('RCX', 'PA')], out: [r('RCX', 'page type (PT_NDA 0, PT_RSVD 1)')] },
  { name: 'TDH.VP.RD', headers: HOST_H, leaf: 26, maxVersion: ANY_VERSION, summary: 'Read a vCPU-scope metadata field.', in: [r('RCX', 'TDVPR'), r('RDX', 'field id')], out: [r('R8', 'value')] },
  { name: 'TDH.PHYMEM.PAGE.RECLAIM', headers: HOST_H, leaf: 28, summary: 'Reclaim a physical page from a TD.', in: [r('RCX', 'PA')], out: [r('RCX', 'page type'), r('RDX', 'owner'), r('R8', 'size')] },
  { name: 'TDH.MEM.PAGE.REMOVE', headers: HOST_H, leaf: 29, summary: 'Remove a private page.', in: [r('RCX', 'GPA | level'), r('RDX', 'TDR')] },
  { name: 'TDH.MEM.SEPT.REMOVE', leaf: 30, maxVersion: ANY_VERSION, source: 'TDX module tdx_vmm_dispatcher.c', summary: 'Remove a Secure-EPT page (registers not in the reference).' },
  { name: 'TDH.SYS.KEY.CONFIG', allowedBeforeReady: true, returns: ['TDX_SYS_KEY_CONFIG_NOT_PENDING', 'TDX_KEY_CONFIGURED', 'TDX_KEY_GENERATION_FAILED', 'TDX_RND_NO_ENTROPY', 'TDX_SYS_SHUTDOWN'], headers: HOST_H, leaf: 31, source: 'Linux 6.12; module tdh_sys_key_config.c', summary: 'Program the global private key on this package; once per package.' },
  {
    name: 'TDH.SYS.INFO', allowedBeforeReady: true, returns: ['TDX_SYS_LP_INIT_NOT_DONE', 'TDX_SYS_SHUTDOWN'], headers: HOST_H, leaf: 32, caveat: 'fork-only', source: 'sangfor/kvm, an unidentified fork', note: 'not in Linux 6.12+',
    summary: 'Read module and CMR information.',
    in: [r('RCX', 'sysinfo PA'), r('RDX', 'size'), r('R8', 'CMR array PA'), r('R9', 'MAX_CMRS (32)')],
    out: [r('RDX', 'bytes written'), r('R9', 'CMR count')],
  },
  { name: 'TDH.SYS.INIT', allowedBeforeReady: true, returns: ['TDX_OPERAND_INVALID+RCX', 'TDX_SYS_INIT_NOT_PENDING', 'TDX_SYS_BUSY', 'TDX_SYS_SHUTDOWN'], headers: HOST_H, leaf: 33, source: 'Linux 6.12; module tdh_sys_init.c', summary: 'Global module initialisation; the first SEAMCALL the kernel makes.', in: [r('RCX', 'attributes, must be 0 (all bits reserved)')] },
  { name: 'TDH.SYS.RD', allowedBeforeReady: true, returns: ['TDX_SYS_LP_INIT_NOT_DONE', 'TDX_SYS_SHUTDOWN'], headers: HOST_H, leaf: 34, source: 'Linux 6.12; module tdh_sys_rd.c', summary: 'Read a global metadata field.', in: [r('RDX', 'field id')], out: [r('R8', 'value')] },
  { name: 'TDH.SYS.LP.INIT', allowedBeforeReady: true, returns: ['TDX_SYS_LP_INIT_NOT_PENDING', 'TDX_SYS_LP_INIT_DONE', 'TDX_RND_NO_ENTROPY', 'TDX_INCOMPATIBLE_SEAM_CAPABILITIES', 'TDX_SYS_SHUTDOWN'], headers: HOST_H, leaf: 35, source: 'Linux 6.12; module tdh_sys_lp_init.c', summary: 'Per-logical-processor initialisation; once on every LP.' },
  { name: 'TDH.SYS.TDMR.INIT', returns: ['TDX_SYS_NOT_READY', 'TDX_OPERAND_INVALID+RCX', 'TDX_OPERAND_BUSY+RCX', 'TDX_TDMR_ALREADY_INITIALIZED', 'TDX_SYS_SHUTDOWN'], headers: HOST_H, leaf: 36, source: 'Linux 6.12; module tdh_sys_tdmr_init.c', summary: 'Initialise part of a TDMR\'s PAMT; called in a loop until RDX reaches the TDMR end.', in: [r('RCX', 'TDMR base')], out: [r('RDX', 'next address to initialise')] },
  {
    name: 'TDH.SYS.RDALL', allowedBeforeReady: true, returns: ['TDX_SYS_LP_INIT_NOT_DONE', 'TDX_SYS_SHUTDOWN'], leaf: 37, caveat: 'unverified', source: 'a non-kernel header; module tdh_sys_rdall.c',
    note: 'appears in no kernel file consulted', summary: 'Read all global metadata fields.',
  },
  { name: 'TDH.MEM.TRACK', headers: HOST_H, leaf: 38, summary: 'Advance the TD\'s TLB epoch.', in: [r('RCX', 'TDR')] },
  { name: 'TDH.PHYMEM.CACHE.WB', headers: HOST_H, leaf: 40, summary: 'Write back and invalidate caches.', in: [r('RCX', '1 to resume an interrupted call, else 0')] },
  { name: 'TDH.PHYMEM.PAGE.WBINVD', headers: HOST_H, leaf: 41, summary: 'Write back and invalidate one page.', in: [r('RCX', 'PA with KeyID')] },
  { name: 'TDH.VP.WR', headers: HOST_H, leaf: 43, summary: 'Write a vCPU-scope metadata field.', in: [r('RCX', 'TDVPR'), r('RDX', 'field id'), r('R8', 'data'), r('R9', 'mask')] },
  { name: 'TDH.SYS.LP.SHUTDOWN', allowedBeforeReady: true, leaf: 44, source: 'TDX module tdx_vmm_dispatcher.c', summary: 'Shut the module down on this LP (registers not in the reference).' },
  {
    name: 'TDH.SYS.CONFIG', allowedBeforeReady: true, returns: ['TDX_SYS_CONFIG_NOT_PENDING', 'TDX_OPERAND_INVALID+RCX', 'TDX_OPERAND_INVALID+RDX', 'TDX_OPERAND_INVALID+R8', 'TDX_INVALID_TDMR', 'TDX_NON_ORDERED_TDMR', 'TDX_TDMR_OUTSIDE_CMRS', 'TDX_INVALID_PAMT', 'TDX_PAMT_OUTSIDE_CMRS', 'TDX_PAMT_OVERLAP', 'TDX_SYS_SHUTDOWN'], headers: HOST_H, leaf: 45, source: 'Linux 6.12; module tdh_sys_config.c', summary: 'Configure the TDMRs and the global KeyID.',
    in: [r('RCX', 'PA of the array of TDMR_INFO PAs (512-byte aligned)'), r('RDX', 'number of TDMRs, 1..64'), r('R8', 'global private KeyID (HKID)')],
  },
  { name: 'TDH.SYS.SHUTDOWN', headers: HOST_H, leaf: 52, source: 'analogdevicesinc, an unidentified fork, LKML patches', summary: 'Shut the module down (e.g. before an update).', in: [r('RCX', 'module handoff version')] },
  { name: 'TDH.SYS.UPDATE', allowedBeforeReady: true, returns: ['TDX_SYS_STATE_INCORRECT', 'TDX_SYS_SHUTDOWN'], headers: HOST_H, leaf: 53, source: 'analogdevicesinc; an unidentified fork', summary: 'Finish a module update (operands not recorded).' },
  { name: 'TDH.PHYMEM.PAMT.ADD', headers: HOST_H, leaf: 58, source: 'analogdevicesinc', summary: 'Add PAMT pages (operands not recorded).' },
  { name: 'TDH.PHYMEM.PAMT.REMOVE', headers: HOST_H, leaf: 59, source: 'analogdevicesinc', summary: 'Remove PAMT pages (operands not recorded).' },
  { name: 'TDH.SYS.DISABLE', headers: HOST_H, leaf: 69, source: 'analogdevicesinc', summary: 'Disable the module (operands not recorded).' },
].map((spec) => leaf('seamcall', spec as LeafSpec, HOST_SOURCE)));

/** P-SEAMLDR leaves (SEAMCALL with RAX bit 63). Source table: Linux asm/tdx.h: RAX leaf and version and Linux arch/x86/virt/vmx/tdx/tdx.h SEAMCALL leaves. */
export const SEAMLDR_LEAVES: readonly TdxLeaf[] = Object.freeze([
  { name: 'SEAMLDR.INFO', headers: [{ header: 'asm/tdx.h', from: 'G5', format: 'ul' }], leaf: 0, summary: 'Ask the P-SEAMLDR for its information (SEAMLDR_INFO, 256 bytes).', in: [r('RCX', 'PA of the SEAMLDR_INFO output, 256-byte aligned')] },
  { name: 'SEAMLDR.INSTALL', headers: [{ header: 'asm/tdx.h', from: 'G5', format: 'ul' }], leaf: 1, summary: 'Install (load or update) the TDX module from SEAMLDR_PARAMS.', in: [r('RCX', 'PA of SEAMLDR_PARAMS, 4K aligned')] },
  { name: 'SEAMLDR.SHUTDOWN', leaf: 2, source: 'intel/tdx arch/x86/virt/vmx/tdx/p-seamldr.c', summary: 'Shut the loaded TDX module down (before an update).' },
  {
    name: 'SEAMLDR.SEAMINFO', leaf: 3, source: 'Intel SEAM loader specification', caveat: 'supplement',
    note: 'not in a kernel header; leaf number from the loader specification', summary: 'Read the SEAM information (SEAMLDR_SEAMINFO).',
    in: [r('RCX', 'PA of the SEAMLDR_SEAMINFO output, 2K aligned')],
  },
].map((spec) => leaf('seamcall', spec as LeafSpec, 'mainline b2128290 seamldr.c; intel/tdx p-seamldr.h', true)));

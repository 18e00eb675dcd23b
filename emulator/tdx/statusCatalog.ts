// Catalogue of TDX completion statuses (RAX after TDCALL/SEAMCALL), the software codes the kernel
// makes in TDX_SW_ERROR's class, operand ids, and TDVMCALL statuses (R10 after TDG.VP.VMCALL).
// Values are copied from Linux asm/shared/tdx_errno.h, asm/tdx.h and TDX module tdx_error_codes_defs.h, tdx_api_defs.h; the few
// "supplement" entries come from the public module source and are marked so.

import type { HeaderDefinition } from './generation';
import type { Provenance } from './types';
import { MODULE_STATUS_TABLE } from './moduleStatusTable';

/** Status layout (TDX module tdx_error_codes_defs.h, tdx_api_defs.h, `api_error_code_t` in include/tdx_api_defs.h). */
export const TDX_STATUS_BITS = Object.freeze({
  /** Bit 63: error. Clear means success or a warning (e.g. TDX_PAGE_ALREADY_ACCEPTED). */
  ERROR: 1n << 63n,
  /** Bit 62: non-recoverable (kernel `TDX_NON_RECOVERABLE`). */
  NON_RECOVERABLE: 1n << 62n,
  /** Bit 61: fatal; the module's "fatal" variant of a code sets it. */
  FATAL: 1n << 61n,
  /** Bit 60: host-recoverability hint. */
  HOST_RECOVERABILITY_HINT: 1n << 60n,
  /** Bits 59:48 are reserved. */
  RESERVED_MASK: 0xfffn << 48n,
  /** Bits 47:40: status class. */
  CLASS_SHIFT: 40n,
  /** Bits 39:32: details L1. */
  DETAILS_L1_SHIFT: 32n,
  /** Bits 31:0: operand id or details L2. */
  DETAILS_L2_MASK: 0xffff_ffffn,
  /** `TDX_SEAMCALL_STATUS_MASK` (mainline b2128290): the status proper is bits 63:32. */
  STATUS_MASK: 0xffff_ffff_0000_0000n,
  /** Class 0xFF is reserved for software-made codes; the module never produces it. */
  SW_CLASS: 0xff,
});

/** How the low 32 bits of a status are read (TDX module tdx_error_codes_defs.h, tdx_api_defs.h). */
export type StatusDetailKind =
  /** An operand id is always present; 0 means RAX (e.g. unknown leaf → TDX_OPERAND_INVALID). */
  | 'operand'
  /** Low bits are an operand id when nonzero, otherwise nothing. */
  | 'details'
  /** The SEPT level reached: 0 = 4K, 1 = 2M, 2 = 1G (tdg_mem_page_accept.c). */
  | 'level'
  /** The TDMR index in byte 0 (`api_error_with_multiple_info`, tdh_sys_config.c). */
  | 'tdmr-index'
  /** TDX_SW_ERROR | trap number, from the kernel's exception-table fixup (Linux arch/x86/mm/extable.c). */
  | 'trap';

/** One catalogued TDX completion status. */
export interface TdxStatusCode extends Provenance {
  /** ABI spelling, e.g. `TDX_OPERAND_INVALID`. */
  name: string;
  /** The code with its low 32 bits zero (the base the module adds an operand id to). */
  value: bigint;
  /** How to read the low 32 bits when a returned status matches this code's bits 63:32. */
  detail: StatusDetailKind;
  /** One line for hovers and call cards. */
  summary: string;
  /** Other names the same value has carried (accepted by name lookups). */
  aliases?: string[];
  /** Values other sources give for the same name (see `caveat: 'discrepancy'`). */
  alternativeValues?: bigint[];
  /** Made by kernel software (class 0xFF), never returned by the module itself. */
  software?: boolean;
  /** A P-SEAMLDR status rather than a TDX module status. */
  seamldr?: boolean;
  /** The kernel headers and generations that define this status (see `KERNEL_HEADER_STATUSES`). */
  headers?: HeaderDefinition[];
}

function s(name: string, value: bigint, detail: StatusDetailKind, summary: string, p: Provenance, extra: Partial<TdxStatusCode> = {}): TdxStatusCode {
  return Object.freeze({ name, value, detail, summary, ...p, ...extra });
}

const MODULE_DEFS: Provenance = { source: 'intel/tdx-module tdx_1.5 include/auto_gen/tdx_error_codes_defs.h' };
const KERNEL_ERRNO: Provenance = { source: 'tdx_errno.h (mainline b2128290, analogdevicesinc/linux, intel/tdx)' };
const MODULE: Provenance = { source: 'intel/tdx-module tdx_1.5 include/auto_gen/tdx_error_codes_defs.h' };
const SUPPLEMENT: Provenance = {
  source: 'intel/tdx-module include/auto_gen/tdx_error_codes_defs.h',
  caveat: 'supplement',
  note: 'not in the project references; value read from the public module source',
};

const SEAMLDR_SOURCE: Provenance = { source: 'intel/tdx arch/x86/virt/vmx/tdx/p-seamldr.h (P-SEAMLDR error codes)' };
/** P-SEAMLDR statuses (RAX after a SEAMCALL with RAX bit 63). They share values with nothing the module returns but are decoded only for loader calls. */
const SEAMLDR_STATUSES: TdxStatusCode[] = [
  ['P_SEAMLDR_EBADPARAM', 0x8000_0000_0000_0000n, 'A parameter (the RCX physical address or a SEAMLDR_PARAMS field) is invalid.'],
  ['P_SEAMLDR_EBADCALL', 0x8000_0000_0000_0003n, 'No such P-SEAMLDR function (RAX).'],
  ['P_SEAMLDR_ENOMEM', 0x8000_0000_0001_0002n, 'The SEAM range has no room for the module.'],
  ['P_SEAMLDR_EUNSPECERR', 0x8000_0000_0001_0003n, 'Unspecified loader error.'],
  ['P_SEAMLDR_EUNSUPCPU', 0x8000_0000_0001_0004n, 'The CPU does not support this module.'],
  ['P_SEAMLDR_EBADSIG', 0x8000_0000_0002_0000n, 'The module\'s SEAMSIGSTRUCT signature is invalid.'],
  ['P_SEAMLDR_EBADHASH', 0x8000_0000_0002_0001n, 'The module image does not match its signed hash.'],
  ['P_SEAMLDR_EINTERRUPT', 0x8000_0000_0003_0000n, 'The install was interrupted; call again.'],
  ['P_SEAMLDR_ENOENTROPY', 0x8000_0000_0003_0001n, 'The loader ran out of entropy; call again.'],
].map(([name, value, summary]) => s(name as string, value as bigint, 'details', summary as string, SEAMLDR_SOURCE,
  { seamldr: true, ...(name === 'P_SEAMLDR_ENOENTROPY' ? { aliases: ['P_SEAMCALL_NO_ENTROPY'] } : {}) }));

/**
 * Every completion status in the references. Source tables: Linux asm/shared/tdx_errno.h, asm/tdx.h "Status / error codes"
 * (kernel headers) and TDX module tdx_error_codes_defs.h, tdx_api_defs.h (module source); the two agree wherever both
 * list a code.
 */
const DESCRIBED: readonly TdxStatusCode[] = Object.freeze([
  // Linux asm/shared/tdx_errno.h, asm/tdx.h: kernel-side and software codes
  s('TDX_SUCCESS', 0x0n, 'details', 'Success.', { source: 'Linux 6.12 asm/tdx.h' }),
  s('TDX_SW_ERROR', 0x8000_ff00_0000_0000n, 'trap', 'Software-made error class 0xFF; the kernel ORs a trap number into it after a faulting SEAMCALL.', { source: 'asm/tdx.h, Linux 6.1+' }, { software: true }),
  s('TDX_SEAMCALL_VMFAILINVALID', 0x8000_ff00_ffff_0000n, 'details', 'SEAMCALL failed with VMfailInvalid (CF=1): no module loaded, module disabled, or P-SEAMLDR busy.', { source: 'asm/tdx.h, Linux 6.1+' }, { software: true }),
  s('TDX_SEAMCALL_GP', 0x8000_ff00_0000_000dn, 'details', 'SEAMCALL raised #GP (TDX not enabled by the BIOS, or CPL > 0); made by the exception-table fixup.', { source: 'LKML v10 SEAMCALL series, Linux 6.12+ (not in 6.1)' }, { software: true }),
  s('TDX_SEAMCALL_UD', 0x8000_ff00_0000_0006n, 'details', 'SEAMCALL raised #UD (CPU not in VMX operation); made by the exception-table fixup.', { source: 'LKML v10 SEAMCALL series, Linux 6.12+ (not in 6.1)' }, { software: true }),
  s('TDX_RND_NO_ENTROPY', 0x8000_0203_0000_0000n, 'details', 'The module ran out of entropy; sc_retry() retries the call.', { source: 'Linux 6.12 asm/tdx.h; intel/tdx' }),
  s('TDX_NON_RECOVERABLE_VCPU', 0x4000_0001_0000_0000n, 'details', 'The vCPU cannot run any more.', KERNEL_ERRNO),
  s('TDX_NON_RECOVERABLE_TD', 0x6000_0002_0000_0000n, 'details', 'The TD cannot run any more.', {
    ...MODULE_DEFS, caveat: 'discrepancy',
    note: 'the module returns 0x6000000200000000 (tdx_error_codes_defs.h); the kernel\'s tdx_errno.h defines 0x4000000200000000',
  }, { alternativeValues: [0x4000_0002_0000_0000n] }),
  s('TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE', 0x6000_0005_0000_0000n, 'details', 'The TD is non-recoverable and its memory is no longer accessible.', KERNEL_ERRNO),
  s('TDX_NON_RECOVERABLE_TD_WRONG_APIC_MODE', 0xe000_0007_0000_0000n, 'details', 'The TD is non-recoverable: wrong APIC mode.', {
    ...MODULE_DEFS, caveat: 'discrepancy',
    note: 'the module returns 0xE000000700000000 (tdx_error_codes_defs.h); the kernel\'s tdx_errno.h defines 0x6000000700000000',
  }, { alternativeValues: [0x6000_0007_0000_0000n] }),
  s('TDX_INTERRUPTED_RESUMABLE', 0x8000_0003_0000_0000n, 'details', 'Interrupted; call again to resume.', KERNEL_ERRNO),
  s('TDX_OPERAND_INVALID', 0xc000_0100_0000_0000n, 'operand', 'An operand is invalid; the low bits name it (0 = RAX: unknown leaf or bad version).', { source: 'tdx_errno.h; module tdx_error_codes_defs.h' }),
  s('TDX_OPERAND_BUSY', 0x8000_0200_0000_0000n, 'operand', 'An operand (its lock) is busy; retry.', { source: 'tdx_errno.h; module tdx_error_codes_defs.h' }),
  s('TDX_PREVIOUS_TLB_EPOCH_BUSY', 0x8000_0201_0000_0000n, 'details', 'The previous TLB epoch is still busy.', KERNEL_ERRNO),
  s('TDX_SYS_BUSY', 0x8000_0202_0000_0000n, 'details', 'The module\'s global lock is contended.', { source: 'mainline b2128290 (not analogdevicesinc 53642715 or intel/tdx); module tdx_error_codes_defs.h' }),
  s('TDX_PAGE_METADATA_INCORRECT', 0xc000_0300_0000_0000n, 'details', 'Page metadata (PAMT) is not as the leaf requires.', KERNEL_ERRNO),
  s('TDX_VCPU_NOT_ASSOCIATED', 0x8000_0702_0000_0000n, 'details', 'The vCPU is not associated with this logical processor.', KERNEL_ERRNO),
  s('TDX_KEY_GENERATION_FAILED', 0x8000_0800_0000_0000n, 'details', 'Key generation failed; the call may be retried.', KERNEL_ERRNO),
  s('TDX_KEY_STATE_INCORRECT', 0xc000_0811_0000_0000n, 'details', 'The TD key state does not allow this leaf.', KERNEL_ERRNO),
  s('TDX_KEY_CONFIGURED', 0x0000_0815_0000_0000n, 'details', 'Warning: the key (package) is already configured.', KERNEL_ERRNO),
  s('TDX_NO_HKID_READY_TO_WBCACHE', 0x0000_0821_0000_0000n, 'details', 'Warning: no HKID is ready for cache write-back.', KERNEL_ERRNO),
  s('TDX_FLUSHVP_NOT_DONE', 0x8000_0824_0000_0000n, 'details', 'vCPUs have not all been flushed.', KERNEL_ERRNO),
  s('TDX_EPT_WALK_FAILED', 0xc000_0b00_0000_0000n, 'details', 'The Secure-EPT walk failed.', KERNEL_ERRNO),
  s('TDX_EPT_ENTRY_STATE_INCORRECT', 0xc000_0b0d_0000_0000n, 'details', 'The Secure-EPT entry is in the wrong state.', KERNEL_ERRNO),
  s('TDX_METADATA_FIELD_NOT_READABLE', 0xc000_0c02_0000_0000n, 'details', 'The metadata field is not readable by this caller.', KERNEL_ERRNO),
  ...SEAMLDR_STATUSES,

  // TDX module tdx_error_codes_defs.h, tdx_api_defs.h: module codes not in the kernel headers
  s('TDX_OPERAND_ADDR_RANGE_ERROR', 0xc000_0101_0000_0000n, 'operand', 'An operand address is out of range.', MODULE),
  s('TDX_OPERAND_BUSY_HOST_PRIORITY', 0x8000_0204_0000_0000n, 'operand', 'Operand busy because the host has priority; the guest sees TDX_OPERAND_BUSY.', MODULE),
  s('TDX_HOST_PRIORITY_BUSY_TIMEOUT', 0x9000_0205_0000_0000n, 'details', 'Host-priority busy persisted past hp_lock_timeout; the TD exits to the VMM.', MODULE),
  s('TDX_SYS_INIT_NOT_PENDING', 0xc000_0500_0000_0000n, 'details', 'TDH.SYS.INIT was already done.', MODULE),
  s('TDX_SYS_LP_INIT_NOT_DONE', 0xc000_0502_0000_0000n, 'details', 'This logical processor has not run TDH.SYS.LP.INIT.', MODULE),
  s('TDX_SYS_LP_INIT_DONE', 0xc000_0503_0000_0000n, 'details', 'TDH.SYS.LP.INIT already ran on this logical processor.', MODULE),
  s('TDX_SYS_NOT_READY', 0xc000_0505_0000_0000n, 'details', 'The module is not initialised (state is not SYS_READY).', MODULE),
  s('TDX_SYS_SHUTDOWN', 0xc000_0506_0000_0000n, 'details', 'The module was shut down.', MODULE),
  s('TDX_SYS_KEY_CONFIG_NOT_PENDING', 0xc000_0507_0000_0000n, 'details', 'TDH.SYS.KEY.CONFIG is not expected in this state (before TDH.SYS.CONFIG or after SYS_READY).', MODULE, {
    aliases: ['TDX_SYSCONFIG_NOT_DONE'],
    note: 'old out-of-tree Linux patch headers call 0xC000050700000000 TDX_SYSCONFIG_NOT_DONE (provenance unconfirmed); the module source calls it TDX_SYS_KEY_CONFIG_NOT_PENDING',
  }),
  s('TDX_SYS_STATE_INCORRECT', 0xc000_0508_0000_0000n, 'details', 'The module state does not allow this leaf.', MODULE),
  s('TDX_SYS_LP_INIT_NOT_PENDING', 0xc000_050b_0000_0000n, 'details', 'TDH.SYS.LP.INIT is not expected in this state (before TDH.SYS.INIT or after TDH.SYS.CONFIG).', MODULE),
  s('TDX_SYS_CONFIG_NOT_PENDING', 0xc000_050c_0000_0000n, 'details', 'TDH.SYS.CONFIG is not expected: TDH.SYS.INIT not done, an LP not initialised, or already configured.', MODULE),
  s('TDX_INCOMPATIBLE_SEAM_CAPABILITIES', 0xc000_050d_0000_0000n, 'details', 'The CPU\'s SEAM capabilities do not match the module.', MODULE),
  s('TDX_INVALID_TDMR', 0xc000_0a00_0000_0000n, 'tdmr-index', 'A TDMR is invalid (e.g. base or size not 1 GiB aligned).', MODULE),
  s('TDX_NON_ORDERED_TDMR', 0xc000_0a01_0000_0000n, 'tdmr-index', 'TDMRs are not in ascending address order.', MODULE),
  s('TDX_TDMR_OUTSIDE_CMRS', 0xc000_0a02_0000_0000n, 'tdmr-index', 'A TDMR is not covered by CMRs.', MODULE),
  s('TDX_TDMR_ALREADY_INITIALIZED', 0x0000_0a03_0000_0000n, 'details', 'Warning: the TDMR is fully initialised.', MODULE),
  s('TDX_INVALID_PAMT', 0xc000_0a10_0000_0000n, 'tdmr-index', 'A PAMT is invalid.', MODULE),
  s('TDX_PAMT_OUTSIDE_CMRS', 0xc000_0a11_0000_0000n, 'tdmr-index', 'A PAMT is not covered by CMRs.', MODULE),
  s('TDX_PAMT_OVERLAP', 0xc000_0a12_0000_0000n, 'tdmr-index', 'A PAMT overlaps another region.', MODULE),
  s('TDX_PAGE_ALREADY_ACCEPTED', 0x0000_0b0a_0000_0000n, 'level', 'Warning: the page is already accepted; the low bits give the level reached.', MODULE),
  s('TDX_PAGE_SIZE_MISMATCH', 0xc000_0b0b_0000_0000n, 'level', 'The page is mapped at a smaller size than requested; the low bits give the level.', MODULE),
  s('TDX_METADATA_FIELD_ID_INCORRECT', 0xc000_0c00_0000_0000n, 'details', 'The metadata field id is not valid.', MODULE),
  s('TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT', 0x0000_0c0b_0000_0000n, 'details', 'Warning: a null field id was read; RDX holds the first field id.', MODULE),

  // Supplements: statuses the leaves modelled here return that neither reference lists.
  s('TDX_NO_VALID_VE_INFO', 0xc000_0704_0000_0000n, 'details', 'TDG.VP.VEINFO.GET: no #VE information is pending.', SUPPLEMENT),
  s('TDX_METADATA_FIELD_NOT_WRITABLE', 0xc000_0c01_0000_0000n, 'details', 'The metadata field is not writable by this caller.', SUPPLEMENT),
]);

const ERRNO_H: HeaderDefinition = { header: 'asm/shared/tdx_errno.h', from: 'G5', format: 'ull' };
const ERRNO_H_KERNEL_VALUE: HeaderDefinition = { ...ERRNO_H, kernelValue: true };

/**
 * Where the kernel defines each status: <asm/tdx.h> (the software-made codes, with the kernel's
 * own expressions) and, from G5, <asm/shared/tdx_errno.h> (the module's codes; where the kernel's
 * value differs from the module's, the header has the kernel's).
 */
const KERNEL_HEADER_STATUSES: Readonly<Record<string, HeaderDefinition[]>> = {
  TDX_SUCCESS: [{ header: 'asm/tdx.h' }],
  TDX_SW_ERROR: [{ header: 'asm/tdx.h', expr: '(TDX_ERROR | _AC(0x0000FF0000000000, UL))' }],
  TDX_SEAMCALL_VMFAILINVALID: [{ header: 'asm/tdx.h', expr: '(TDX_SW_ERROR | _AC(0xFFFF0000, UL))' }],
  TDX_SEAMCALL_GP: [{ header: 'asm/tdx.h', from: 'G4', expr: '(TDX_SW_ERROR | X86_TRAP_GP)' }],
  TDX_SEAMCALL_UD: [{ header: 'asm/tdx.h', from: 'G4', expr: '(TDX_SW_ERROR | X86_TRAP_UD)' }],
  TDX_RND_NO_ENTROPY: [{ header: 'asm/tdx.h', from: 'G4', format: 'ul' }],
  TDX_NON_RECOVERABLE_VCPU: [ERRNO_H],
  TDX_NON_RECOVERABLE_TD: [ERRNO_H_KERNEL_VALUE],
  TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE: [ERRNO_H],
  TDX_NON_RECOVERABLE_TD_WRONG_APIC_MODE: [ERRNO_H_KERNEL_VALUE],
  TDX_INTERRUPTED_RESUMABLE: [ERRNO_H],
  TDX_OPERAND_INVALID: [ERRNO_H],
  TDX_OPERAND_BUSY: [ERRNO_H],
  TDX_PREVIOUS_TLB_EPOCH_BUSY: [ERRNO_H],
  TDX_SYS_BUSY: [ERRNO_H],
  TDX_PAGE_METADATA_INCORRECT: [ERRNO_H],
  TDX_VCPU_NOT_ASSOCIATED: [ERRNO_H],
  TDX_KEY_GENERATION_FAILED: [ERRNO_H],
  TDX_KEY_STATE_INCORRECT: [ERRNO_H],
  TDX_KEY_CONFIGURED: [ERRNO_H],
  TDX_NO_HKID_READY_TO_WBCACHE: [ERRNO_H],
  TDX_FLUSHVP_NOT_DONE: [ERRNO_H],
  TDX_EPT_WALK_FAILED: [ERRNO_H],
  TDX_EPT_ENTRY_STATE_INCORRECT: [ERRNO_H],
  TDX_METADATA_FIELD_NOT_READABLE: [ERRNO_H],
};

/**
 * Every completion status: the described codes above, then every other status the module
 * defines (moduleStatusTable.ts, from tdx_error_codes_defs.h) so each decodes to its name.
 */
export const TDX_STATUS_CODES: readonly TdxStatusCode[] = Object.freeze([
  ...DESCRIBED.map((c) => (KERNEL_HEADER_STATUSES[c.name] ? Object.freeze({ ...c, headers: KERNEL_HEADER_STATUSES[c.name] }) : c)),
  ...MODULE_STATUS_TABLE.filter(([name]) => !DESCRIBED.some((c) => c.name === name)).map(([name, value]) =>
    s(name, value, 'details', `Module status ${name} (no further description catalogued).`, MODULE_DEFS)),
]);

/**
 * Operand ids carried in bits 31:0 (TDX module tdx_error_codes_defs.h, tdx_api_defs.h; `TDX_OPERAND_ID_*` of the kernel TDX headers
 * Linux asm/shared/tdx_errno.h, asm/tdx.h). 0..15 are the GPRs in encoding order; 4 (RSP) is reserved and listed only by `[1.0]`.
 */
export const TDX_OPERAND_IDS: ReadonlyMap<number, string> = new Map<number, string>([
  [0, 'RAX'], [1, 'RCX'], [2, 'RDX'], [3, 'RBX'], [4, 'RSP'], [5, 'RBP'], [6, 'RSI'], [7, 'RDI'],
  [8, 'R8'], [9, 'R9'], [10, 'R10'], [11, 'R11'], [12, 'R12'], [13, 'R13'], [14, 'R14'], [15, 'R15'],
  [64, 'ATTRIBUTES'], [65, 'XFAM'], [68, 'MAX_VCPUS'], [96, 'TDMR_INFO_PA'],
  [128, 'TDR'], [144, 'TDCS'], [145, 'TDVPS'],
  // 0x92 is the kernel's TDX_OPERAND_ID_SEPT (tdx_errno.h); the module header lists SEPT_ENTRY = 147.
  [146, 'SEPT'], [147, 'SEPT_ENTRY'],
  [168, 'RTMR'], [169, 'TD_EPOCH'], [176, 'METADATA_FIELD'], [184, 'SYS'], [185, 'TDMR'], [186, 'KOT'],
]);

/** Trap numbers the kernel ORs into TDX_SW_ERROR (Intel SDM vol. 3 "Trap vectors", X86_TRAP_*). */
export const X86_TRAP_NAMES: ReadonlyMap<number, string> = new Map([
  [0, '#DE'], [6, '#UD'], [13, '#GP'], [14, '#PF'], [20, '#VE'],
]);

/**
 * Informal labels for status classes (bits 47:40), derived from the catalogued codes that share
 * each class. The references do not name classes; these labels are ours, for display only.
 */
export const TDX_STATUS_CLASS_LABELS: ReadonlyMap<number, string> = new Map([
  [0x00, 'general'], [0x01, 'operand'], [0x02, 'busy/resource'], [0x03, 'page metadata'],
  [0x05, 'system state'], [0x07, 'vCPU'], [0x08, 'key management'], [0x0a, 'TDMR/PAMT'],
  [0x0b, 'Secure EPT / page'], [0x0c, 'metadata'], [0xff, 'software (kernel-made)'],
]);

/**
 * Kernel constants around statuses that are not statuses themselves (masks, shifted compares).
 * Source table: Linux asm/shared/tdx_errno.h, asm/tdx.h.
 */
export const TDX_STATUS_CONSTANTS = Object.freeze({
  /** `TDX_ERROR`, bit 63 (asm/tdx.h 6.1, 6.12). */
  TDX_ERROR: 0x8000_0000_0000_0000n,
  /** `TDX_NON_RECOVERABLE`, bit 62 (analogdevicesinc 2c8ca2ba, intel/tdx only). */
  TDX_NON_RECOVERABLE: 0x4000_0000_0000_0000n,
  /** `TDX_SEAMCALL_STATUS_MASK`: the status proper is bits 63:32. */
  TDX_SEAMCALL_STATUS_MASK: 0xffff_ffff_0000_0000n,
  /** Guest `TDCALL_INVALID_OPERAND`, compared with `status >> 32` (`TDCALL_RETURN_CODE`). */
  TDCALL_INVALID_OPERAND: 0xc000_0100n,
  /** Guest `TDCALL_OPERAND_BUSY`, compared with `status >> 32` (analogdevicesinc only). */
  TDCALL_OPERAND_BUSY: 0x8000_0200n,
  /** `TDX_OPERAND_ID_RCX` / `_TDR` / `_SEPT` / `_TD_EPOCH` (tdx_errno.h). */
  TDX_OPERAND_ID_RCX: 0x01n,
  TDX_OPERAND_ID_TDR: 0x80n,
  TDX_OPERAND_ID_SEPT: 0x92n,
  TDX_OPERAND_ID_TD_EPOCH: 0xa9n,
});

/** One catalogued TDVMCALL status (R10 after TDG.VP.VMCALL). */
export interface TdvmcallStatusCode extends Provenance {
  /** ABI spelling, e.g. `TDVMCALL_STATUS_RETRY`. */
  name: string;
  value: bigint;
  summary: string;
  /** The kernel headers and generations that define it (asm/shared/tdx.h). */
  headers?: HeaderDefinition[];
}

/** TDVMCALL statuses, returned in R10. Source table: Linux asm/shared/tdx_errno.h, asm/tdx.h "TDVMCALL status". */
export const TDVMCALL_STATUS_CODES: readonly TdvmcallStatusCode[] = Object.freeze([
  { name: 'TDVMCALL_STATUS_SUCCESS', headers: [{ header: 'asm/shared/tdx.h', from: 'G5' }], value: 0x0n, summary: 'The VMM completed the request.', source: 'analogdevicesinc shared/tdx.h (arrived with KVM TDX)' },
  { name: 'TDVMCALL_STATUS_RETRY', headers: [{ header: 'asm/shared/tdx.h', from: 'G3' }], value: 0x1n, summary: 'Partial progress; call again (MapGPA: from the GPA in R11).', source: 'mainline 019b383d, Linux 6.12, analogdevicesinc; absent in 6.1' },
  { name: 'TDVMCALL_STATUS_INVALID_OPERAND', headers: [{ header: 'asm/shared/tdx.h', from: 'G5', format: 'ull' }], value: 0x8000_0000_0000_0000n, summary: 'The VMM rejected an operand.', source: 'analogdevicesinc shared/tdx.h' },
  { name: 'TDG_VP_VMCALL_GPA_INUSE', value: 0x8000_0000_0000_0001n, summary: 'The GPA is in use (QEMU only).', source: 'QEMU', caveat: 'non-kernel', note: 'QEMU only, not the kernel' },
  { name: 'TDVMCALL_STATUS_ALIGN_ERROR', headers: [{ header: 'asm/shared/tdx.h', from: 'G5', format: 'ull' }], value: 0x8000_0000_0000_0002n, summary: 'An operand is misaligned.', source: 'analogdevicesinc shared/tdx.h' },
  { name: 'TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED', headers: [{ header: 'asm/shared/tdx.h', from: 'G5', format: 'ull' }], value: 0x8000_0000_0000_0003n, summary: 'The VMM does not implement this sub-function.', source: 'analogdevicesinc shared/tdx.h' },
].map((c) => Object.freeze(c as TdvmcallStatusCode)));

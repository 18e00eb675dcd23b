// Which faults the matrix tries at a call site. The catalogue has no per-leaf status list, so
// the statuses each leaf can return are written down here from the references, section by
// section; leaves the references do not trace get the dispatcher's generic answers. Every entry
// is a `--fault` ACTION string, so a scenario can be replayed with `tdxdbg run --fault`.

/** A call site as the matrix found it. */
export interface SiteKind {
  insn: 'tdcall' | 'seamcall';
  /** RAX[15:0] (SEAMCALL: with bit 63 for P-SEAMLDR leaves). */
  leafNumber: number;
  /** Catalogued leaf name, e.g. `TDH.SYS.INIT`. */
  leaf?: string;
  /** TDG.VP.VMCALL: R11, and its catalogued name (`TDVMCALL_MAP_GPA`). */
  subfunctionNumber?: bigint;
  subfunction?: string;
  seamldr?: boolean;
}

/**
 * The dispatchers' own answers, possible for every leaf: a bad RAX (reserved bits, version) gets
 * TDX_OPERAND_INVALID with operand RAX (tdx-module-behaviour.md §3 order 2–4, §6 order 1–2, 5).
 */
const DISPATCH = ['status:TDX_OPERAND_INVALID'];

/**
 * SEAMCALL leaves whose statuses tdx-module-behaviour.md §5 traces (state machine and operand
 * checks), plus §6 order 3 (TDX_SYS_SHUTDOWN after shutdown) for all of them.
 */
const SEAMCALL_STATUSES: Record<string, string[]> = {
  'TDH.SYS.INIT': ['status:TDX_OPERAND_INVALID+RCX', 'status:TDX_SYS_INIT_NOT_PENDING', 'status:TDX_SYS_BUSY', 'status:TDX_SYS_SHUTDOWN'],
  'TDH.SYS.LP.INIT': ['status:TDX_SYS_LP_INIT_NOT_PENDING', 'status:TDX_SYS_LP_INIT_DONE', 'status:TDX_RND_NO_ENTROPY', 'status:TDX_INCOMPATIBLE_SEAM_CAPABILITIES', 'status:TDX_SYS_SHUTDOWN'],
  'TDH.SYS.CONFIG': ['status:TDX_SYS_CONFIG_NOT_PENDING', 'status:TDX_OPERAND_INVALID+RCX', 'status:TDX_OPERAND_INVALID+RDX', 'status:TDX_OPERAND_INVALID+R8',
    'status:TDX_INVALID_TDMR', 'status:TDX_NON_ORDERED_TDMR', 'status:TDX_TDMR_OUTSIDE_CMRS', 'status:TDX_INVALID_PAMT', 'status:TDX_PAMT_OUTSIDE_CMRS', 'status:TDX_PAMT_OVERLAP', 'status:TDX_SYS_SHUTDOWN'],
  'TDH.SYS.KEY.CONFIG': ['status:TDX_SYS_KEY_CONFIG_NOT_PENDING', 'status:TDX_KEY_CONFIGURED', 'status:TDX_KEY_GENERATION_FAILED', 'status:TDX_RND_NO_ENTROPY', 'status:TDX_SYS_SHUTDOWN'],
  'TDH.SYS.TDMR.INIT': ['status:TDX_SYS_NOT_READY', 'status:TDX_OPERAND_INVALID+RCX', 'status:TDX_OPERAND_BUSY+RCX', 'status:TDX_TDMR_ALREADY_INITIALIZED', 'status:TDX_SYS_SHUTDOWN'],
  'TDH.SYS.INFO': ['status:TDX_SYS_LP_INIT_NOT_DONE', 'status:TDX_SYS_SHUTDOWN'],
  'TDH.SYS.RD': ['status:TDX_SYS_LP_INIT_NOT_DONE', 'status:TDX_SYS_SHUTDOWN'],
  'TDH.SYS.RDALL': ['status:TDX_SYS_LP_INIT_NOT_DONE', 'status:TDX_SYS_SHUTDOWN'],
  'TDH.SYS.UPDATE': ['status:TDX_SYS_STATE_INCORRECT', 'status:TDX_SYS_SHUTDOWN'],
};

/**
 * Any other SEAMCALL leaf: before SYS_READY the dispatcher answers TDX_SYS_NOT_READY (§6 order
 * 4), after shutdown TDX_SYS_SHUTDOWN; operand locks give TDX_OPERAND_BUSY and the kernel
 * retries TDX_RND_NO_ENTROPY (tdx-abi.md §3 sc_retry).
 */
const SEAMCALL_GENERIC = ['status:TDX_SYS_NOT_READY', 'status:TDX_SYS_SHUTDOWN', 'status:TDX_OPERAND_BUSY', 'status:TDX_RND_NO_ENTROPY'];

/** TDCALL leaves traced in tdx-module-behaviour.md §2 and §4. */
const TDCALL_STATUSES: Record<string, string[]> = {
  // §2: a bitmap exposing RAX/RCX/RSP (or RBP with no_rbp_mod) never reaches the VMM.
  'TDG.VP.VMCALL': ['status:TDX_OPERAND_INVALID+RCX'],
  // §4: no input checks, always TDX_SUCCESS.
  'TDG.VP.INFO': [],
  'TDG.MEM.PAGE.ACCEPT': ['status:TDX_OPERAND_INVALID+RCX', 'status:TDX_OPERAND_BUSY+RCX', 'status:TDX_PAGE_ALREADY_ACCEPTED', 'status:TDX_PAGE_SIZE_MISMATCH'],
  'TDG.MR.REPORT': ['status:TDX_OPERAND_INVALID+RCX', 'status:TDX_OPERAND_INVALID+RDX', 'status:TDX_OPERAND_INVALID+R8'],
  'TDG.VM.RD': ['status:TDX_OPERAND_INVALID+RCX', 'status:TDX_METADATA_FIELD_ID_INCORRECT'],
  'TDG.VM.WR': ['status:TDX_OPERAND_INVALID+RCX', 'status:TDX_METADATA_FIELD_ID_INCORRECT'],
};

/** Untraced TDCALL leaves: an operand lock (the guest sees TDX_OPERAND_BUSY, §3 "post"). */
const TDCALL_GENERIC = ['status:TDX_OPERAND_BUSY'];

/**
 * TDVMCALL statuses in R10 (tdx-abi.md §4): every sub-function may be refused or be unknown to
 * the VMM; MapGPA also has RETRY (resume from R11) and ALIGN_ERROR.
 */
const TDVMCALL_GENERIC = ['r10:TDVMCALL_STATUS_INVALID_OPERAND', 'r10:TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED'];
const TDVMCALL_STATUSES: Record<string, string[]> = {
  TDVMCALL_MAP_GPA: ['r10:TDVMCALL_STATUS_RETRY', 'r10:TDVMCALL_STATUS_ALIGN_ERROR'],
};

/** The `--fault` ACTIONs the matrix runs at a site, in a stable order. */
export function applicableFaults(site: SiteKind): string[] {
  const out: string[] = [];
  if (site.insn === 'seamcall') {
    // The CPU's own refusals (tdx-abi.md §8): not in VMX operation, TDX off in the BIOS, no module.
    out.push('#UD', '#GP', 'vmfailinvalid');
    if (!site.seamldr) out.push(...DISPATCH, ...(site.leaf && SEAMCALL_STATUSES[site.leaf] ? SEAMCALL_STATUSES[site.leaf] : SEAMCALL_GENERIC));
    return dedupe(out);
  }
  out.push(...DISPATCH, ...(site.leaf && TDCALL_STATUSES[site.leaf] ? TDCALL_STATUSES[site.leaf] : TDCALL_GENERIC));
  if (site.leafNumber === 0) {
    out.push(...TDVMCALL_GENERIC, ...(site.subfunction ? TDVMCALL_STATUSES[site.subfunction] ?? [] : []), 'hostile');
  }
  return dedupe(out);
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}

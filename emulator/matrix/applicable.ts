// Which faults the matrix tries at a call site: the statuses each leaf (and TDVMCALL
// sub-function) can return are on its catalogue entry (`returns`); leaves the module source does
// not trace get the dispatcher's generic answers. Every entry is a `--fault` ACTION string, so a
// scenario can be replayed with `tdxdbg run --fault`.

import { findLeaf, findSubfunction } from '../tdx/catalog';

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
 * TDX_OPERAND_INVALID with operand RAX (TDX module tdx_td_dispatcher.c order 2–4, TDX module tdx_vmm_dispatcher.c order 1–2, 5).
 */
const DISPATCH = ['status:TDX_OPERAND_INVALID'];

/**
 * Any other SEAMCALL leaf: before SYS_READY the dispatcher answers TDX_SYS_NOT_READY (§6 order
 * 4), after shutdown TDX_SYS_SHUTDOWN; operand locks give TDX_OPERAND_BUSY and the kernel
 * retries TDX_RND_NO_ENTROPY (Linux arch/x86/virt/vmx/tdx/tdxcall.S sc_retry).
 */
const SEAMCALL_GENERIC = ['status:TDX_SYS_NOT_READY', 'status:TDX_SYS_SHUTDOWN', 'status:TDX_OPERAND_BUSY', 'status:TDX_RND_NO_ENTROPY'];

/** Untraced TDCALL leaves: an operand lock (the guest sees TDX_OPERAND_BUSY, §3 "post"). */
const TDCALL_GENERIC = ['status:TDX_OPERAND_BUSY'];

/**
 * TDVMCALL statuses in R10: every sub-function may be refused or be unknown to the VMM; a
 * sub-function's own ones (MapGPA's RETRY and ALIGN_ERROR) are on its catalogue entry.
 */
const TDVMCALL_GENERIC = ['r10:TDVMCALL_STATUS_INVALID_OPERAND', 'r10:TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED'];

/** The `--fault` ACTIONs the matrix runs at a site, in a stable order. */
export function applicableFaults(site: SiteKind): string[] {
  const out: string[] = [];
  if (site.insn === 'seamcall') {
    // The CPU's own refusals (Intel SDM vol. 3; TDX module ABI specification): not in VMX operation, TDX off in the BIOS, no module.
    out.push('#UD', '#GP', 'vmfailinvalid');
    if (!site.seamldr) out.push(...DISPATCH, ...(leafReturns('seamcall', site.leaf) ?? SEAMCALL_GENERIC));
    return dedupe(out);
  }
  out.push(...DISPATCH, ...(leafReturns('tdcall', site.leaf) ?? TDCALL_GENERIC));
  if (site.leafNumber === 0) {
    const sub = site.subfunction ? findSubfunction(site.subfunction) : undefined;
    out.push(...TDVMCALL_GENERIC, ...(sub?.returns ?? []).map((n) => `r10:${n}`), 'hostile');
  }
  return dedupe(out);
}

/** The leaf's traced statuses (on its catalogue entry) as `status:` actions; undefined when untraced. */
function leafReturns(insn: 'tdcall' | 'seamcall', name: string | undefined): string[] | undefined {
  const returns = name ? findLeaf(insn, name)?.returns : undefined;
  return returns?.map((r) => `status:${r}`);
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}

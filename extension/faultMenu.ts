// The "TDX: Inject Fault at Next Call" menu, without VS Code: items from the catalogue (#UD,
// #GP, VMfailInvalid, the module's statuses for the leaf, TDVMCALL statuses, a hostile VMM),
// each with the fault rule(s) it stands for. Live sessions get the rule as "next matching
// call" (`tdx/injectFault`); before a launch it is pinned to the first call (`@1`).

import { TDX_STATUS_CODES, TDVMCALL_STATUS_CODES, findLeaf, type TdxInstruction } from '../emulator/tdx/catalog';
import type { ExecContext } from '../emulator/platform/config';

export interface FaultItem {
  /** Quick-pick label; starts with the fault's own name (`#GP(0)`, `VMfailInvalid`, a status). */
  label: string;
  description: string;
  /** Group heading in the quick pick. */
  group: 'Exceptions' | 'TDX status' | 'TDVMCALL (VMM)';
  /** Rules without an occurrence: `WHERE[:LEAF]=ACTION`. */
  rules: { where: 'tdcall' | 'seamcall' | 'tdvmcall'; leaf?: string; action: string }[];
}

/**
 * Statuses only the host side ever sees: module initialisation (TDH.SYS.*), TDMR/PAMT setup,
 * keys and HKIDs, vCPU association and flushing, TLB epochs, entropy, non-recoverable TD/vCPU
 * states (TDH.VP.ENTER) and host-priority locking (the guest sees TDX_OPERAND_BUSY instead).
 */
const HOST_ONLY = /^TDX_(SYS_|INVALID_TDMR|NON_ORDERED_TDMR|TDMR_|INVALID_PAMT|PAMT_|KEY_|NO_HKID|FLUSHVP|VCPU_NOT_ASSOCIATED|PREVIOUS_TLB_EPOCH|RND_NO_ENTROPY|NON_RECOVERABLE|INCOMPATIBLE_SEAM|HOST_PRIORITY|OPERAND_BUSY_HOST_PRIORITY|PAGE_METADATA_INCORRECT)/;
/** Guest statuses that belong to one family of TDCALL leaves (the summaries in the catalogue say which). */
const GUEST_LEAF_ONLY: [RegExp, RegExp][] = [
  [/^TDX_NO_VALID_VE_INFO$/, /^TDG\.VP\.VEINFO\.GET$/],
  [/^TDX_METADATA_/, /^TDG\.(VM|VP)\.(RD|WR)$/],
  [/^TDX_(PAGE_ALREADY_ACCEPTED|PAGE_SIZE_MISMATCH|EPT_)/, /^TDG\.MEM\.PAGE\.ACCEPT$/],
];

/** Whether a status fits the instruction (and leaf, when known) it would be injected at. */
export function statusFits(insn: TdxInstruction, status: string, leaf?: string): boolean {
  if (insn === 'seamcall') return status !== 'TDX_NO_VALID_VE_INFO';
  if (HOST_ONLY.test(status)) return false;
  const family = GUEST_LEAF_ONLY.find(([st]) => st.test(status));
  return !family || (leaf !== undefined && family[1].test(leaf));
}

/** Instructions a context executes (both when we cannot tell). */
function instructionsOf(context: ExecContext): TdxInstruction[] {
  return context === 'guest' ? ['tdcall'] : context === 'host' ? ['seamcall'] : ['tdcall', 'seamcall'];
}

/**
 * Menu items for a context and, when known, the leaf of the next call (a catalogue name or
 * symbol such as `TDH_SYS_INIT`; the status items then target that leaf).
 */
export function faultItems(context: ExecContext, leafName?: string): FaultItem[] {
  const insns = instructionsOf(context);
  const where = insns.join(' or ').toUpperCase();
  const items: FaultItem[] = [
    { label: '#GP(0)', description: `general-protection fault on the next ${where}`, group: 'Exceptions', rules: insns.map((w) => ({ where: w, action: '#GP(0)' })) },
    { label: '#UD', description: `invalid-opcode fault on the next ${where}`, group: 'Exceptions', rules: insns.map((w) => ({ where: w, action: '#UD' })) },
  ];
  if (insns.includes('seamcall')) {
    items.push({ label: 'VMfailInvalid', description: 'next SEAMCALL fails with CF=1, RAX unchanged (no TDX module loaded)', group: 'Exceptions', rules: [{ where: 'seamcall', action: 'vmfailinvalid' }] });
  }
  for (const insn of insns) {
    const leaf = leafName ? findLeaf(insn, leafName) : undefined;
    const statuses = TDX_STATUS_CODES.filter((s) => !s.software && !s.seamldr && s.value !== 0n && statusFits(insn, s.name, leaf?.name));
    for (const s of statuses) {
      items.push({
        label: s.name,
        description: `${leaf ? leaf.name : `next ${insn.toUpperCase()}`} returns it in RAX — ${s.summary}`,
        group: 'TDX status',
        rules: [{ where: insn, ...(leaf ? { leaf: leaf.name } : {}), action: `status:${s.name}` }],
      });
    }
  }
  if (insns.includes('tdcall')) {
    for (const s of TDVMCALL_STATUS_CODES.filter((c) => c.value !== 0n)) {
      items.push({ label: s.name, description: `the VMM answers the next TDG.VP.VMCALL with it in R10 — ${s.summary}`, group: 'TDVMCALL (VMM)', rules: [{ where: 'tdvmcall', action: `r10:${s.name}` }] });
    }
    items.push({ label: 'Hostile VMM', description: 'the VMM writes adversarial values into every exposed register of the next TDG.VP.VMCALL', group: 'TDVMCALL (VMM)', rules: [{ where: 'tdvmcall', action: 'hostile' }] });
  }
  return items;
}

/**
 * The rule text. `nth` pins it to the n-th matching call (used before a launch: the next call
 * is the first); without it the adapter arms the rule for the next matching call.
 */
export function ruleText(r: FaultItem['rules'][number], nth?: number): string {
  return `${r.where}${r.leaf ? `:${r.leaf}` : ''}${nth !== undefined ? `@${nth}` : ''}=${r.action}`;
}

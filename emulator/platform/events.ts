// What the platform reports while code runs: one event per TDCALL/SEAMCALL (the call
// timeline), exception-table fixups, stub calls and kernel log lines. The CLI prints them,
// the adapter turns them into output events and the TDX Calls view.

import type { VmcallRecord } from '../tdx/module';

/** One TDCALL or SEAMCALL as it happened. */
export interface TdxCallEvent {
  /** 1-based sequence number in the run. */
  seq: number;
  insn: 'tdcall' | 'seamcall';
  /** Address of the instruction, and the symbol it is in (`__tdx_hypercall+0x2c`). */
  address: bigint;
  site?: string;
  /** Catalogued leaf name (`TDG.VP.VMCALL`, `TDH.SYS.INIT`), RAX[15:0] and RAX[23:16]. */
  leaf?: string;
  leafNumber: number;
  version: number;
  /**
   * TDG.VP.VMCALL: the sub-function's GHCI name (R11) when catalogued, and its number. For a
   * vendor call (R10 ≠ 0) the name is the KVM hypercall's (`KVM_HC_SEND_IPI`, or `KVM hypercall nr N`).
   */
  subfunction?: string;
  subfunctionNumber?: bigint;
  /** TDG.VP.VMCALL with R10 ≠ 0: R10, the KVM hypercall number. */
  hypercallNr?: bigint;
  /** The 16 GPRs before the call, by upper-case name. */
  before: Record<string, bigint>;
  /** The 16 GPRs after the call (absent when it faulted). */
  after?: Record<string, bigint>;
  /** RAX after the call: the TDX status, when the call completed. */
  status?: bigint;
  statusName?: string;
  /** TDG.VP.VMCALL: R10 after the call (the VMM's status) and its name — only when the VMM was reached. */
  vmcallStatus?: bigint;
  vmcallStatusName?: string;
  /** How the call ended when it did not simply complete. */
  fault?: '#UD' | '#GP' | '#PF' | 'VMfailInvalid';
  /** The fault's error code and the explanation (why the CPU refused). */
  faultDetail?: string;
  /** True when a fault-plan rule decided the outcome (or changed the VMM's answer). */
  injected: boolean;
  /** The rule text that fired. */
  rule?: string;
  /** TDG.VP.VMCALL exposure: RCX[15:0], the exposed registers, the VMM's exchange. */
  vmcall?: VmcallRecord;
  /**
   * The module exited to the VMM on an EPT violation and the VMM (profile `kvm`) added the page(s)
   * at `gpa` before re-entering the TD at the same TDCALL, which then ran again.
   */
  vmmAdded?: { gpa: bigint; size: number; reason: string };
  /** The module stopped the TD (ReportFatalError, EPT violation TD exit). */
  stopped?: 'fatal-error' | 'td-exit';
  /** What the module, the P-SEAMLDR or the VMM said about the call: why an error status, what a stop or a success did. */
  detail?: string;
  /** Instructions retired before the call. */
  icount: number;
}

/** Everything else worth a line in the trace. */
export type PlatformNote =
  | { kind: 'fixup'; vector: number; from: bigint; to: bigint; type: number; message: string }
  | { kind: 'log'; level: string; text: string; address: bigint }
  | { kind: 'stub'; name: string; address: bigint; text: string };

export type PlatformEvent = { kind: 'call'; call: TdxCallEvent } | PlatformNote;

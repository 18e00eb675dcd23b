// Catalogue of TDG.VP.VMCALL sub-functions (R11 on TDCALL leaf 0): number, kernel and GHCI names,
// and the registers each takes and returns. Source: GHCI; Linux asm/shared/tdx.h, arch/x86/kvm/vmx/tdx.c. Instruction-emulation
// sub-functions are the VMX exit reasons (`hcall_func(exit_reason)` is the identity).

import type { HeaderDefinition } from './generation';
import type { GprName, Provenance, RegisterRole } from './types';

/** One VMX exit reason (SDM Vol. 3C Appendix C; Linux arch/x86/include/uapi/asm/vmx.h). */
export interface VmxExitReason {
  name: string;
  value: number;
  headers: HeaderDefinition[];
}

const VMX_H: HeaderDefinition[] = [{ header: 'uapi/asm/vmx.h' }];

/**
 * VMX exit reasons that TDX code meets (Linux 6.12 uapi/asm/vmx.h; SEAMCALL and TDCALL from the
 * KVM TDX series, not tied to a release, so not in the built-in header).
 */
export const VMX_EXIT_REASON_LIST: readonly VmxExitReason[] = Object.freeze([
  { name: 'EXIT_REASON_CPUID', value: 10, headers: VMX_H },
  { name: 'EXIT_REASON_HLT', value: 12, headers: VMX_H },
  { name: 'EXIT_REASON_VMCALL', value: 18, headers: VMX_H },
  { name: 'EXIT_REASON_IO_INSTRUCTION', value: 30, headers: VMX_H },
  { name: 'EXIT_REASON_MSR_READ', value: 31, headers: VMX_H },
  { name: 'EXIT_REASON_MSR_WRITE', value: 32, headers: VMX_H },
  { name: 'EXIT_REASON_EPT_VIOLATION', value: 48, headers: VMX_H },
  { name: 'EXIT_REASON_SEAMCALL', value: 76, headers: [] },
  { name: 'EXIT_REASON_TDCALL', value: 77, headers: [] },
].map((e) => Object.freeze(e)));

/** Exit reason by name, e.g. `VMX_EXIT_REASONS.EXIT_REASON_CPUID === 10`. */
export const VMX_EXIT_REASONS: Readonly<Record<string, number>> = Object.freeze(Object.fromEntries(VMX_EXIT_REASON_LIST.map((e) => [e.name, e.value])));

/** The sub-function number of an instruction-emulation TDVMCALL: its VMX exit reason. */
function exitReason(name: string): bigint {
  const v = VMX_EXIT_REASONS[name];
  if (v === undefined) throw new Error(`vmcalls: ${name} is not a catalogued exit reason`);
  return BigInt(v);
}

/** One TDG.VP.VMCALL sub-function. */
export interface TdvmcallSubfunction extends Provenance {
  /** Kernel spelling, e.g. `EXIT_REASON_CPUID`, `TDVMCALL_MAP_GPA`. */
  name: string;
  /** The GHCI specification's name, e.g. `Instruction.CPUID`, `MapGPA` (for display). */
  ghciName: string;
  /** Short names accepted by lookups and fault rules, e.g. `CPUID`, `MapGPA`, `MMIO`. */
  shortNames: string[];
  /** The R11 value. */
  value: bigint;
  /** Argument registers (R10 = 0 and R11 = sub-function are implied). */
  inputs: RegisterRole[];
  /**
   * Result registers the ABI defines, besides R10 (the TDVMCALL status, always an output).
   * A role whose text starts with "if" applies only in that case; the VMM model knows which.
   */
  outputs: RegisterRole[];
  /** One line for hovers and call cards. */
  summary: string;
  /**
   * The kernel headers and generations that define the sub-function's number (the
   * instruction-emulation ones are VMX exit reasons, defined in <uapi/asm/vmx.h>).
   */
  headers?: HeaderDefinition[];
  /** TDVMCALL statuses particular to this sub-function, besides INVALID_OPERAND and SUBFUNC_UNSUPPORTED. */
  returns?: readonly string[];
}

function r(reg: GprName, role: string, when?: RegisterRole['when']): RegisterRole {
  return Object.freeze({ reg, role, ...(when ? { when } : {}) });
}

const KERNEL = 'Linux 6.1, 6.12';
const GHCI_NAME_NOTE = 'GHCI names are given for display; the reference names the kernel macros';

/**
 * TDG.VP.VMCALL sub-functions. Source table: GHCI; Linux asm/shared/tdx.h, arch/x86/kvm/vmx/tdx.c "sub-function (R11)".
 * The ReportFatalError message registers are in GHCI order: R14, R15, RBX, RDI, RSI, R8, R9, RDX.
 */
export const TDVMCALL_SUBFUNCTIONS: readonly TdvmcallSubfunction[] = Object.freeze([
  {
    name: 'EXIT_REASON_CPUID', ghciName: 'Instruction.CPUID', shortNames: ['CPUID'], value: exitReason('EXIT_REASON_CPUID'), source: KERNEL,
    summary: 'Emulate CPUID. The guest forwards only leaves 0x40000000–0x4FFFFFFF; the rest read as zeros.',
    inputs: [r('R12', 'EAX (leaf)'), r('R13', 'ECX (sub-leaf)')],
    outputs: [r('R12', 'EAX'), r('R13', 'EBX'), r('R14', 'ECX'), r('R15', 'EDX')],
  },
  {
    name: 'EXIT_REASON_HLT', ghciName: 'Instruction.HLT', shortNames: ['HLT'], value: exitReason('EXIT_REASON_HLT'), source: KERNEL,
    summary: 'Halt the vCPU until an interrupt arrives.',
    inputs: [r('R12', 'interrupts-disabled flag')], outputs: [],
  },
  {
    name: 'EXIT_REASON_IO_INSTRUCTION', ghciName: 'Instruction.IO', shortNames: ['IO', 'IO_INSTRUCTION'], value: exitReason('EXIT_REASON_IO_INSTRUCTION'), source: KERNEL,
    summary: 'Emulate IN/OUT.',
    inputs: [r('R12', 'size in bytes (1, 2, 4)'), r('R13', 'direction: PORT_READ 0, PORT_WRITE 1'), r('R14', 'port'), r('R15', 'value (OUT)')],
    outputs: [r('R11', 'if direction is PORT_READ: value read (IN)', 'read')],
  },
  {
    name: 'EXIT_REASON_MSR_READ', ghciName: 'Instruction.RDMSR', shortNames: ['RDMSR', 'MSR_READ'], value: exitReason('EXIT_REASON_MSR_READ'), source: KERNEL,
    summary: 'Emulate RDMSR.', inputs: [r('R12', 'MSR index')], outputs: [r('R11', 'value (EDX:EAX)')],
  },
  {
    name: 'EXIT_REASON_MSR_WRITE', ghciName: 'Instruction.WRMSR', shortNames: ['WRMSR', 'MSR_WRITE'], value: exitReason('EXIT_REASON_MSR_WRITE'), source: KERNEL,
    summary: 'Emulate WRMSR.', inputs: [r('R12', 'MSR index'), r('R13', 'value (EDX << 32) | EAX')], outputs: [],
  },
  {
    name: 'EXIT_REASON_EPT_VIOLATION', ghciName: '#VE.RequestMMIO', shortNames: ['MMIO', 'EPT_VIOLATION', 'RequestMMIO'], value: exitReason('EXIT_REASON_EPT_VIOLATION'), source: KERNEL,
    summary: 'Emulate an MMIO access (after an EPT-violation #VE on shared memory).',
    inputs: [r('R12', 'size in bytes'), r('R13', 'direction: EPT_READ 0, EPT_WRITE 1'), r('R14', 'GPA'), r('R15', 'value (write)')],
    outputs: [r('R11', 'if direction is EPT_READ: value read', 'read')],
  },
  {
    name: 'TDVMCALL_GET_TD_VM_CALL_INFO', headers: [{ header: 'asm/shared/tdx.h', from: 'G5', format: 'hex' }], ghciName: 'GetTdVmCallInfo', shortNames: ['GetTdVmCallInfo', 'GET_TD_VM_CALL_INFO'], value: 0x10000n,
    source: 'GHCI 1.5; Linux arch/x86/kvm/vmx/tdx.c (tdx_get_td_vm_call_info)', summary: 'Ask which TDVMCALL sub-functions the VMM supports.',
    inputs: [r('R12', 'leaf, must be 0')],
    outputs: [r('R11', 'result (0 in KVM)'), r('R12', 'result (0 in KVM)'), r('R13', 'result (0 in KVM)'), r('R14', 'result (0 in KVM)')],
  },
  {
    name: 'TDVMCALL_MAP_GPA', returns: ['TDVMCALL_STATUS_RETRY', 'TDVMCALL_STATUS_ALIGN_ERROR'], headers: [{ header: 'asm/shared/tdx.h', format: 'hex' }], ghciName: 'MapGPA', shortNames: ['MapGPA', 'MAP_GPA'], value: 0x10001n, source: KERNEL,
    summary: 'Convert a GPA range between private and shared (shared bit set in R12 = to shared).',
    inputs: [r('R12', 'start GPA (shared bit set when converting to shared)'), r('R13', 'size in bytes')],
    outputs: [r('R11', 'if R10 ≠ TDVMCALL_STATUS_SUCCESS: GPA to resume from (RETRY; 6.12 gives up after 3 retries without progress) or where the error stopped (KVM)', 'not-success')],
  },
  {
    name: 'TDVMCALL_GET_QUOTE', headers: [{ header: 'asm/shared/tdx.h', from: 'G4', format: 'hex' }], ghciName: 'GetQuote', shortNames: ['GetQuote', 'GET_QUOTE'], value: 0x10002n, source: 'Linux 6.12',
    summary: 'Ask the VMM\'s quoting service to turn a TDREPORT in a shared buffer into a quote.',
    inputs: [r('R12', 'shared GPA of the buffer'), r('R13', 'buffer size')], outputs: [],
  },
  {
    name: 'TDVMCALL_REPORT_FATAL_ERROR', headers: [{ header: 'asm/shared/tdx.h', from: 'G4', format: 'hex' }], ghciName: 'ReportFatalError', shortNames: ['ReportFatalError', 'REPORT_FATAL_ERROR'], value: 0x10003n,
    source: 'Linux 6.12 tdx_panic', summary: 'Report a fatal guest error with a 64-byte message; never returns (issued in a loop).',
    inputs: [
      r('R12', 'error code (0 = panic)'),
      r('R14', 'message bytes 0–7'), r('R15', 'message bytes 8–15'), r('RBX', 'message bytes 16–23'), r('RDI', 'message bytes 24–31'),
      r('RSI', 'message bytes 32–39'), r('R8', 'message bytes 40–47'), r('R9', 'message bytes 48–55'), r('RDX', 'message bytes 56–63'),
    ],
    outputs: [],
  },
  {
    name: 'TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT', headers: [{ header: 'asm/shared/tdx.h', from: 'G5', format: 'hex' }], ghciName: 'SetupEventNotifyInterrupt', shortNames: ['SetupEventNotifyInterrupt', 'SETUP_EVENT_NOTIFY_INTERRUPT'], value: 0x10004n,
    source: 'GHCI 1.5; Linux arch/x86/kvm/vmx/tdx.c (tdx_setup_event_notify)', summary: 'Register the interrupt vector the VMM uses for event notification.',
    inputs: [r('R12', 'vector (KVM accepts 32–255)')], outputs: [],
  },
].map((f) => Object.freeze({ ...f, note: GHCI_NAME_NOTE } as TdvmcallSubfunction)));

/** The register order of the ReportFatalError message (GHCI; Linux asm/shared/tdx.h, arch/x86/kvm/vmx/tdx.c). */
export const REPORT_FATAL_ERROR_MESSAGE_REGS: readonly GprName[] = Object.freeze(['R14', 'R15', 'RBX', 'RDI', 'RSI', 'R8', 'R9', 'RDX']);

/** Guest TDX detection: CPUID leaf 0x21 sub-leaf 0, "IntelTDX    " in EBX, EDX, ECX (asm/shared/tdx.h). */
export { TDX_CPUID_LEAF_ID, TDX_CPUID_SIGNATURE } from './abiConstants';

/** One KVM hypercall: a TDG.VP.VMCALL with R10 ≠ 0 is one under KVM (R10 = nr, R11..R14 = a0..a3). */
export interface KvmHypercall extends Provenance {
  /** `KVM_HC_*`. */
  name: string;
  nr: bigint;
  summary: string;
  /** Arguments as the TDX guest passes them (tdx_kvm_hypercall: R11..R14 = a0..a3). */
  inputs: RegisterRole[];
}

const KVM_PARA = 'Linux include/uapi/linux/kvm_para.h';

/**
 * KVM hypercall numbers (include/uapi/linux/kvm_para.h). A TD guest makes them with
 * TDG.VP.VMCALL and R10 = nr (arch/x86/coco/tdx/tdx.c tdx_kvm_hypercall); KVM moves R10..R14 into
 * RAX, RBX, RCX, RDX, RSI and runs its common hypercall code (arch/x86/kvm/vmx/tdx.c
 * tdx_emulate_vmcall), the result coming back in R10.
 */
export const KVM_HYPERCALLS: readonly KvmHypercall[] = Object.freeze([
  { name: 'KVM_HC_VAPIC_POLL_IRQ', nr: 1n, summary: 'Poll for a pending interrupt (returns 0).', inputs: [] },
  { name: 'KVM_HC_MMU_OP', nr: 2n, summary: 'Obsolete MMU operations (removed; -KVM_ENOSYS).', inputs: [] },
  { name: 'KVM_HC_FEATURES', nr: 3n, summary: 'PowerPC only.', inputs: [] },
  { name: 'KVM_HC_PPC_MAP_MAGIC_PAGE', nr: 4n, summary: 'PowerPC only.', inputs: [] },
  { name: 'KVM_HC_KICK_CPU', nr: 5n, summary: 'Wake a halted vCPU (PV unhalt).', inputs: [r('R11', 'flags'), r('R12', 'APIC id')] },
  { name: 'KVM_HC_MIPS_GET_CLOCK_FREQ', nr: 6n, summary: 'MIPS only.', inputs: [] },
  { name: 'KVM_HC_MIPS_EXIT_VM', nr: 7n, summary: 'MIPS only.', inputs: [] },
  { name: 'KVM_HC_MIPS_CONSOLE_OUTPUT', nr: 8n, summary: 'MIPS only.', inputs: [] },
  { name: 'KVM_HC_CLOCK_PAIRING', nr: 9n, summary: 'Read a host clock / TSC pair.', inputs: [r('R11', 'GPA of struct kvm_clock_pairing'), r('R12', 'clock type')] },
  { name: 'KVM_HC_SEND_IPI', nr: 10n, summary: 'Send IPIs to the vCPUs in a bitmap (PV send IPI); returns how many were sent.', inputs: [r('R11', 'bitmap low'), r('R12', 'bitmap high'), r('R13', 'lowest APIC id'), r('R14', 'ICR')] },
  { name: 'KVM_HC_SCHED_YIELD', nr: 11n, summary: 'Yield to the vCPU with an APIC id (PV sched yield).', inputs: [r('R11', 'APIC id')] },
  { name: 'KVM_HC_MAP_GPA_RANGE', nr: 12n, summary: 'Change the private/shared attribute of a GPA range (user space completes it).', inputs: [r('R11', 'GPA'), r('R12', 'number of 4K pages'), r('R13', 'attributes')] },
].map((h) => Object.freeze({ ...h, source: KVM_PARA } as KvmHypercall)));

/** KVM hypercall error numbers (include/uapi/linux/kvm_para.h); the hypercall returns their negation. */
export const KVM_HYPERCALL_ERRNO = Object.freeze({ KVM_EPERM: 1n, KVM_E2BIG: 7n, KVM_EFAULT: 14n, KVM_EINVAL: 22n, KVM_EOPNOTSUPP: 95n, KVM_ENOSYS: 1000n });

/** Finds a KVM hypercall by number or `KVM_HC_*` name. */
export function findKvmHypercall(key: bigint | string): KvmHypercall | undefined {
  return typeof key === 'bigint' ? KVM_HYPERCALLS.find((h) => h.nr === key) : KVM_HYPERCALLS.find((h) => h.name === key.trim().toUpperCase());
}

// Built-in TDX headers (<asm/tdx.h>, <asm/shared/tdx.h>, <asm/shared/tdx_errno.h>,
// <asm/vmx.h>) for one kernel generation. Every value comes from the reference
// (tdx-abi.md §1–§5); a name appears only in the generations the reference places it in.

import { inGenerations, type Generation } from './generation';
import { tdxStructDeclarations } from './tdxStructs';

const guard = (name: string, body: string[]) => `#ifndef ${name}\n#define ${name}\n${body.join('\n')}\n#endif\n`;
const defs = (pairs: [string, string][]) => pairs.map(([n, v]) => `#define ${n} ${v}`);

/** <asm/shared/tdx.h>: hypercall ABI shared by the kernel and its decompressor. */
export function sharedTdxH(g: Generation): string {
  const b: string[] = ['#include <linux/bits.h>', '#include <linux/types.h>'];
  b.push(...defs([['TDX_HYPERCALL_STANDARD', '0'], ['TDX_CPUID_LEAF_ID', '0x21'], ['TDX_IDENT', '"IntelTDX    "']]));
  if (inGenerations(g, 'G1', 'G2')) b.push(...defs([['TDX_HCALL_HAS_OUTPUT', 'BIT(0)'], ['TDX_HCALL_ISSUE_STI', 'BIT(1)']]));
  // RCX exposure bitmap for TDG.VP.VMCALL (§2.4): bit n = GPR n.
  b.push(...defs([['TDX_RDX', 'BIT(2)'], ['TDX_RBX', 'BIT(3)'], ['TDX_RSI', 'BIT(6)'], ['TDX_RDI', 'BIT(7)']]));
  for (let r = 8; r <= 15; r++) b.push(`#define TDX_R${r} BIT(${r})`);
  b.push(`#define TDVMCALL_EXPOSE_REGS_MASK ${inGenerations(g, 'G0', 'G1') ? '0xFC00' : '0xFFCC'}`);
  // TDG.VP.VMCALL sub-functions (§5.3).
  b.push('#define TDVMCALL_MAP_GPA 0x10001');
  if (inGenerations(g, 'G4')) b.push(...defs([['TDVMCALL_GET_QUOTE', '0x10002'], ['TDVMCALL_REPORT_FATAL_ERROR', '0x10003']]));
  if (g === 'G5') b.push(...defs([['TDVMCALL_GET_TD_VM_CALL_INFO', '0x10000'], ['TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT', '0x10004']]));
  // TDVMCALL status in R10 (§4).
  if (inGenerations(g, 'G3')) b.push('#define TDVMCALL_STATUS_RETRY 1');
  if (g === 'G5') {
    b.push(...defs([
      ['TDVMCALL_STATUS_SUCCESS', '0'],
      ['TDVMCALL_STATUS_INVALID_OPERAND', '_AC(0x8000000000000000, ULL)'],
      ['TDVMCALL_STATUS_ALIGN_ERROR', '_AC(0x8000000000000002, ULL)'],
      ['TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED', '_AC(0x8000000000000003, ULL)'],
    ]));
  }
  // TDCALL leaves (§5.1): the pre-6.7 names, then the TDG_* names.
  if (inGenerations(g, 'G0', 'G3.5')) {
    b.push(...defs([['TDX_GET_INFO', '1'], ['TDX_GET_VEINFO', '3'], ['TDX_GET_REPORT', '4'], ['TDX_ACCEPT_PAGE', '6']]));
    if (inGenerations(g, 'G3')) b.push('#define TDX_WR 8');
  } else {
    b.push(...defs([['TDG_VP_VMCALL', '0'], ['TDG_VP_INFO', '1'], ['TDG_VP_VEINFO_GET', '3'], ['TDG_MR_REPORT', '4'], ['TDG_MEM_PAGE_ACCEPT', '6'], ['TDG_VM_RD', '7'], ['TDG_VM_WR', '8']]));
    if (g === 'G5') b.push('#define TDG_MR_RTMR_EXTEND 2');
    b.push(...defs([
      ['TDCS_CONFIG_FLAGS', '_AC(0x1110000300000016, ULL)'],
      ['TDCS_TD_CTLS', '_AC(0x1110000300000017, ULL)'],
      ['TDCS_NOTIFY_ENABLES', '_AC(0x9100000000000010, ULL)'],
      ['TDCS_TOPOLOGY_ENUM_CONFIGURED', '_AC(0x9100000000000019, ULL)'],
    ]));
  }
  b.push(...defs([['TDX_PS_4K', '0'], ['TDX_PS_2M', '1'], ['TDX_PS_1G', '2']]));
  // The kernel emits the instructions as bytes (binutils < 2.36 lacks the mnemonics).
  b.push('#ifdef __ASSEMBLY__', '#define tdcall .byte 0x66,0x0f,0x01,0xcc', '#define seamcall .byte 0x66,0x0f,0x01,0xcf', '#else');
  b.push(tdxStructDeclarations(g).trimEnd(), '#endif');
  return guard('_TDXDBG_ASM_SHARED_TDX_H', b);
}

/** <asm/shared/tdx_errno.h>: TDX module completion statuses (§4). */
export function tdxErrnoH(): string {
  const codes: [string, string][] = [
    ['TDX_SEAMCALL_STATUS_MASK', '0xFFFFFFFF00000000'],
    ['TDX_NON_RECOVERABLE_VCPU', '0x4000000100000000'],
    ['TDX_NON_RECOVERABLE_TD', '0x4000000200000000'],
    ['TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE', '0x6000000500000000'],
    ['TDX_NON_RECOVERABLE_TD_WRONG_APIC_MODE', '0x6000000700000000'],
    ['TDX_INTERRUPTED_RESUMABLE', '0x8000000300000000'],
    ['TDX_OPERAND_INVALID', '0xC000010000000000'],
    ['TDX_OPERAND_BUSY', '0x8000020000000000'],
    ['TDX_PREVIOUS_TLB_EPOCH_BUSY', '0x8000020100000000'],
    ['TDX_SYS_BUSY', '0x8000020200000000'],
    ['TDX_PAGE_METADATA_INCORRECT', '0xC000030000000000'],
    ['TDX_VCPU_NOT_ASSOCIATED', '0x8000070200000000'],
    ['TDX_KEY_GENERATION_FAILED', '0x8000080000000000'],
    ['TDX_KEY_STATE_INCORRECT', '0xC000081100000000'],
    ['TDX_KEY_CONFIGURED', '0x0000081500000000'],
    ['TDX_NO_HKID_READY_TO_WBCACHE', '0x0000082100000000'],
    ['TDX_FLUSHVP_NOT_DONE', '0x8000082400000000'],
    ['TDX_EPT_WALK_FAILED', '0xC0000B0000000000'],
    ['TDX_EPT_ENTRY_STATE_INCORRECT', '0xC0000B0D00000000'],
    ['TDX_METADATA_FIELD_NOT_READABLE', '0xC0000C0200000000'],
  ];
  const b = ['#include <linux/const.h>', ...codes.map(([n, v]) => `#define ${n} _AC(${v}, ULL)`)];
  b.push(...defs([['TDX_OPERAND_ID_RCX', '0x01'], ['TDX_OPERAND_ID_TDR', '0x80'], ['TDX_OPERAND_ID_SEPT', '0x92'], ['TDX_OPERAND_ID_TD_EPOCH', '0xa9']]));
  return guard('_TDXDBG_ASM_SHARED_TDX_ERRNO_H', b);
}

/** SEAMCALL leaf numbers (§5.2). */
const HOST_LEAVES: [string, number][] = [
  ['TDH_VP_ENTER', 0], ['TDH_MNG_ADDCX', 1], ['TDH_MEM_PAGE_ADD', 2], ['TDH_MEM_SEPT_ADD', 3], ['TDH_VP_ADDCX', 4],
  ['TDH_MEM_PAGE_AUG', 6], ['TDH_MEM_RANGE_BLOCK', 7], ['TDH_MNG_KEY_CONFIG', 8], ['TDH_MNG_CREATE', 9], ['TDH_VP_CREATE', 10],
  ['TDH_MNG_RD', 11], ['TDH_MR_EXTEND', 16], ['TDH_MR_FINALIZE', 17], ['TDH_VP_FLUSH', 18], ['TDH_MNG_VPFLUSHDONE', 19],
  ['TDH_MNG_KEY_FREEID', 20], ['TDH_MNG_INIT', 21], ['TDH_VP_INIT', 22], ['TDH_PHYMEM_PAGE_RDMD', 24], ['TDH_VP_RD', 26],
  ['TDH_PHYMEM_PAGE_RECLAIM', 28], ['TDH_MEM_PAGE_REMOVE', 29], ['TDH_SYS_KEY_CONFIG', 31], ['TDH_SYS_INFO', 32],
  ['TDH_SYS_INIT', 33], ['TDH_SYS_RD', 34], ['TDH_SYS_LP_INIT', 35], ['TDH_SYS_TDMR_INIT', 36], ['TDH_MEM_TRACK', 38],
  ['TDH_PHYMEM_CACHE_WB', 40], ['TDH_PHYMEM_PAGE_WBINVD', 41], ['TDH_VP_WR', 43], ['TDH_SYS_CONFIG', 45],
  ['TDH_SYS_SHUTDOWN', 52], ['TDH_SYS_UPDATE', 53], ['TDH_PHYMEM_PAMT_ADD', 58], ['TDH_PHYMEM_PAMT_REMOVE', 59], ['TDH_SYS_DISABLE', 69],
];

/** <asm/tdx.h>: software-made statuses, host leaves, and the shared header. */
export function asmTdxH(g: Generation): string {
  const b = ['#include <linux/const.h>', '#include <asm/trapnr.h>', '#include <asm/shared/tdx.h>'];
  b.push(...defs([
    ['TDX_SUCCESS', '0'],
    ['TDX_ERROR', '_AC(0x8000000000000000, UL)'],
    ['TDX_SW_ERROR', '(TDX_ERROR | _AC(0x0000FF0000000000, UL))'],
    ['TDX_SEAMCALL_VMFAILINVALID', '(TDX_SW_ERROR | _AC(0xFFFF0000, UL))'],
  ]));
  if (inGenerations(g, 'G4')) {
    b.push(...defs([['TDX_SEAMCALL_GP', '(TDX_SW_ERROR | X86_TRAP_GP)'], ['TDX_SEAMCALL_UD', '(TDX_SW_ERROR | X86_TRAP_UD)'], ['TDX_RND_NO_ENTROPY', '_AC(0x8000020300000000, UL)']]));
  }
  if (g === 'G5') {
    b.push('#define TDX_NON_RECOVERABLE _AC(0x4000000000000000, UL)', '#include <asm/shared/tdx_errno.h>');
    b.push(...defs([['SEAMLDR_INFO', '_AC(0x8000000000000000, UL)'], ['SEAMLDR_INSTALL', '_AC(0x8000000000000001, UL)']]));
  }
  b.push('#define TDX_VERSION_SHIFT 16');
  b.push(...HOST_LEAVES.map(([n, v]) => `#define ${n} ${v}`));
  return guard('_TDXDBG_ASM_TDX_H', b);
}

/** <uapi/asm/vmx.h> (and <asm/vmx.h>): the VMX exit reasons TDVMCALL reuses (§5.3). */
export const VMX_H = guard('_TDXDBG_UAPI_ASM_VMX_H', defs([
  ['EXIT_REASON_CPUID', '10'], ['EXIT_REASON_HLT', '12'], ['EXIT_REASON_VMCALL', '18'], ['EXIT_REASON_IO_INSTRUCTION', '30'],
  ['EXIT_REASON_MSR_READ', '31'], ['EXIT_REASON_MSR_WRITE', '32'], ['EXIT_REASON_EPT_VIOLATION', '48'],
]));

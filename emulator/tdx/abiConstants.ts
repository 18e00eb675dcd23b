// Catalogue of the TDX ABI's remaining constants: kernel macros that are neither a leaf, a
// sub-function nor a status (hypercall kind, CPUID leaf, exposure bits, masks, page levels,
// metadata field ids), each tagged with the kernel headers and generations that define it.
// Sources: arch/x86/include/asm/shared/tdx.h and asm/tdx.h of Linux 6.1 and 6.12, and the
// LKML/vendor trees each generation names (emulator/tdx/generation.ts).

import { DEFAULT_TD_METADATA } from './moduleConfig';
import { TDX_STATUS_CONSTANTS } from './statusCatalog';
import { GPR_NAMES, toU64, type GprName } from './types';
import type { HeaderDefinition } from './generation';

/** One catalogued constant. */
export interface TdxAbiConstant {
  /** Kernel spelling. */
  name: string;
  /** The value; `text` instead when it is not a number (the CPUID vendor string). */
  value: bigint;
  text?: string;
  /** Where the kernel defines it. */
  headers: HeaderDefinition[];
}

/** `TDX_CPUID_LEAF_ID`: CPUID leaf 0x21 sub-leaf 0 returns the TDX signature (asm/shared/tdx.h). */
export const TDX_CPUID_LEAF_ID = 0x21;
/** `TDX_IDENT`, in EBX, EDX, ECX of CPUID leaf 0x21 (asm/shared/tdx.h). */
export const TDX_CPUID_SIGNATURE = 'IntelTDX    ';
/** `TDX_HYPERCALL_STANDARD`: R10 = 0 selects a GHCI-standard TDG.VP.VMCALL (asm/shared/tdx.h). */
export const TDX_HYPERCALL_STANDARD = 0n;
/** `TDX_VERSION_SHIFT`: the leaf ABI version sits in RAX[23:16] (arch/x86/virt/vmx/tdx/tdx.h). */
export const TDX_VERSION_SHIFT = 16n;

/**
 * The GPRs the RCX exposure bitmap names with a `TDX_<reg>` macro (bit n = GPR n, asm/shared/tdx.h):
 * RDX, RBX, RSI, RDI and R8–R15.
 */
const EXPOSURE_MACRO_REGS: readonly GprName[] = ['RDX', 'RBX', 'RSI', 'RDI', 'R8', 'R9', 'R10', 'R11', 'R12', 'R13', 'R14', 'R15'];

function regMask(regs: readonly GprName[]): bigint {
  return regs.reduce((m, r) => m | (1n << BigInt(GPR_NAMES.indexOf(r))), 0n);
}

const SHARED: HeaderDefinition = { header: 'asm/shared/tdx.h' };
const metadata = (name: string): bigint => {
  const f = DEFAULT_TD_METADATA.find((m) => m.name === name);
  if (!f) throw new Error(`abiConstants: ${name} is not a catalogued metadata field`);
  return toU64(f.fieldId, name);
};

/** Every catalogued constant, in header order. */
export const TDX_ABI_CONSTANTS: readonly TdxAbiConstant[] = Object.freeze([
  { name: 'TDX_HYPERCALL_STANDARD', value: TDX_HYPERCALL_STANDARD, headers: [SHARED] },
  { name: 'TDX_CPUID_LEAF_ID', value: BigInt(TDX_CPUID_LEAF_ID), headers: [{ ...SHARED, format: 'hex' }] },
  { name: 'TDX_IDENT', value: 0n, text: JSON.stringify(TDX_CPUID_SIGNATURE), headers: [SHARED] },
  // The G1/G2 `__tdx_hypercall` flags argument (gone in G3).
  { name: 'TDX_HCALL_HAS_OUTPUT', value: 1n << 0n, headers: [{ ...SHARED, from: 'G1', to: 'G2', format: 'bit' }] },
  { name: 'TDX_HCALL_ISSUE_STI', value: 1n << 1n, headers: [{ ...SHARED, from: 'G1', to: 'G2', format: 'bit' }] },
  ...EXPOSURE_MACRO_REGS.map((reg) => ({ name: `TDX_${reg}`, value: 1n << BigInt(GPR_NAMES.indexOf(reg)), headers: [{ ...SHARED, format: 'bit' as const }] })),
  // The registers TDG.VP.VMCALL exposes: R10–R15 up to G1, then RDX, RBX, RSI, RDI, R8–R15.
  // Spelled as Linux 6.1's tdcall.S spells it (there the file defines it again: the same tokens, no redefinition).
  { name: 'TDVMCALL_EXPOSE_REGS_MASK', value: regMask(['R10', 'R11', 'R12', 'R13', 'R14', 'R15']), headers: [{ ...SHARED, to: 'G1', expr: '( TDX_R10 | TDX_R11 | TDX_R12 | TDX_R13 | TDX_R14 | TDX_R15 )' }] },
  { name: 'TDVMCALL_EXPOSE_REGS_MASK', value: regMask(EXPOSURE_MACRO_REGS), headers: [{ ...SHARED, from: 'G2', format: 'hex' }] },
  { name: 'TDCS_CONFIG_FLAGS', value: metadata('TDCS_CONFIG_FLAGS'), headers: [{ ...SHARED, from: 'G4', format: 'ull' }] },
  { name: 'TDCS_TD_CTLS', value: metadata('TDCS_TD_CTLS'), headers: [{ ...SHARED, from: 'G4', format: 'ull' }] },
  { name: 'TDCS_NOTIFY_ENABLES', value: metadata('TDCS_NOTIFY_ENABLES'), headers: [{ ...SHARED, from: 'G4', format: 'ull' }] },
  { name: 'TDCS_TOPOLOGY_ENUM_CONFIGURED', value: metadata('TDCS_TOPOLOGY_ENUM_CONFIGURED'), headers: [{ ...SHARED, from: 'G4', format: 'ull' }] },
  // TDG.MEM.PAGE.ACCEPT page levels.
  { name: 'TDX_PS_4K', value: 0n, headers: [SHARED] },
  { name: 'TDX_PS_2M', value: 1n, headers: [SHARED] },
  { name: 'TDX_PS_1G', value: 2n, headers: [SHARED] },
  { name: 'TDX_ERROR', value: TDX_STATUS_CONSTANTS.TDX_ERROR, headers: [{ header: 'asm/tdx.h', format: 'ul' }] },
  { name: 'TDX_NON_RECOVERABLE', value: TDX_STATUS_CONSTANTS.TDX_NON_RECOVERABLE, headers: [{ header: 'asm/tdx.h', from: 'G5', format: 'ul' }] },
  { name: 'TDX_VERSION_SHIFT', value: TDX_VERSION_SHIFT, headers: [{ header: 'asm/tdx.h' }] },
  { name: 'TDX_SEAMCALL_STATUS_MASK', value: TDX_STATUS_CONSTANTS.TDX_SEAMCALL_STATUS_MASK, headers: [{ header: 'asm/shared/tdx_errno.h', format: 'ull' }] },
  ...(['TDX_OPERAND_ID_RCX', 'TDX_OPERAND_ID_TDR', 'TDX_OPERAND_ID_SEPT', 'TDX_OPERAND_ID_TD_EPOCH'] as const).map((name) => ({
    name, value: TDX_STATUS_CONSTANTS[name], headers: [{ header: 'asm/shared/tdx_errno.h' as const, format: 'hex' as const }],
  })),
].map((c) => Object.freeze(c as TdxAbiConstant)));

/** TDCALL's encoding, `66 0F 01 CC` (SDM Vol. 2 / TDX module ABI spec). */
export const TDCALL_BYTES: readonly number[] = Object.freeze([0x66, 0x0f, 0x01, 0xcc]);
/** SEAMCALL's encoding, `66 0F 01 CF`. */
export const SEAMCALL_BYTES: readonly number[] = Object.freeze([0x66, 0x0f, 0x01, 0xcf]);

// The kernel configuration the built-in headers assume for each generation with no kernel tree
// (`<generated/autoconf.h>`, read by the pre-included <linux/kconfig.h>): the options of the
// kernel each pinned generation is, built from x86_64_defconfig + TDX, that change what the
// assembly macros expand to (docs/kernel-generations.md, "Built-in shims"). With them the
// SYM_FUNC_START family gets the kernel's call padding and `endbr64`, RET jumps through the
// return thunk, and objtool's REACHABLE leaves its record. Generations that are no release keep
// no options: plain `ret`, no landing pads, no padding.
// A `-D CONFIG_…=0` (launch `defines`, `-D`) turns one off; the values are facts of the kernel's
// Kconfig for that configuration, not code.

import type { Generation } from './generation';

/** One pinned configuration: the kernel it is and the options (name → value as autoconf.h has it). */
export interface KernelConfig {
  kernel: string;
  options: [string, string][];
}

const COMMON: [string, string][] = [
  ['CONFIG_X86_64', '1'],
  ['CONFIG_X86_KERNEL_IBT', '1'],
  ['CONFIG_OBJTOOL', '1'],
  ['CONFIG_UNWINDER_ORC', '1'],
  ['CONFIG_INTEL_TDX_GUEST', '1'],
];

export const KERNEL_CONFIGS: Partial<Record<Generation, KernelConfig>> = {
  // Linux 6.1: the mitigations under their pre-6.9 names; functions aligned to 16, no padding.
  G1: { kernel: 'Linux 6.1, x86_64_defconfig + INTEL_TDX_GUEST (IBT, RETHUNK, RETPOLINE on; SLS off)', options: [...COMMON, ['CONFIG_RETPOLINE', '1'], ['CONFIG_RETHUNK', '1']] },
  // Linux 6.12: CONFIG_MITIGATION_* names, 16 bytes of call padding before every SYM_FUNC_START.
  G4: {
    kernel: 'Linux 6.12, x86_64_defconfig + INTEL_TDX_GUEST + INTEL_TDX_HOST (IBT, MITIGATION_RETHUNK, CALL_PADDING on; MITIGATION_SLS off)',
    options: [...COMMON, ['CONFIG_INTEL_TDX_HOST', '1'], ['CONFIG_MITIGATION_RETPOLINE', '1'], ['CONFIG_MITIGATION_RETHUNK', '1'],
      ['CONFIG_CALL_PADDING', '1'], ['CONFIG_FUNCTION_ALIGNMENT', '16'], ['CONFIG_FUNCTION_PADDING_BYTES', '16']],
  },
};

/** `<generated/autoconf.h>` of a generation (each option overridable by an earlier `-D`). */
export function autoconfH(g: Generation): string {
  const c = KERNEL_CONFIGS[g];
  const lines = ['#ifndef _TDXDBG_GENERATED_AUTOCONF_H', '#define _TDXDBG_GENERATED_AUTOCONF_H'];
  if (c) {
    lines.push(`/* ${c.kernel} */`);
    for (const [k, v] of c.options) lines.push(`#ifndef ${k}`, `#define ${k} ${v}`, '#endif');
  }
  lines.push('#endif', '');
  return lines.join('\n');
}

/**
 * <linux/objtool.h>: objtool's annotations. REACHABLE (a GAS macro) leaves the record objtool
 * reads when CONFIG_OBJTOOL is on — relative in 6.1 (G1), absolute in 6.12 (G4); the other
 * annotations emit nothing here.
 */
export function objtoolH(g: Generation): string {
  const at = GENERATIONS_BEFORE_G4.includes(g) ? '.Lhere_\\@ - .' : '.Lhere_\\@';
  return `#ifndef _TDXDBG_LINUX_OBJTOOL_H
#define _TDXDBG_LINUX_OBJTOOL_H
#define ANNOTATE_NOENDBR
#define ANNOTATE_RETPOLINE_SAFE
#define ANNOTATE_UNRET_SAFE
#define ANNOTATE_INTRA_FUNCTION_CALL
#define ANNOTATE_NOCFI_SYM(sym)
#define ANNOTATE_REACHABLE
#define ANNOTATE_NORETURN
#define ANNOTATE_UNRET_BEGIN
#define VALIDATE_UNRET_BEGIN
#define VALIDATE_UNRET_END
#define STACK_FRAME_NON_STANDARD(func)
#define STACK_FRAME_NON_STANDARD_FP(func)
#ifdef __ASSEMBLY__
.macro REACHABLE
#if IS_ENABLED(CONFIG_OBJTOOL)
.Lhere_\\@: ; .pushsection .discard.reachable ; .long ${at} ; .popsection
#endif
.endm
#endif
#endif
`;
}

const GENERATIONS_BEFORE_G4: Generation[] = ['G0', 'G1', 'G2', 'G3', 'G3.5'];

// The built-in kernel headers, by include name (`linux/linkage.h`), for one kernel
// generation: searched after the user's include paths. `asm/asm-offsets.h` carries the
// asm-offsets symbols (by default the generation's TDX struct preset).

import { ASM_ERRNO_H, BITS_H, COMPILER_H, CONST_H, EXPORT_H, INIT_H, KBUILD_H, KCONFIG_H, LINKAGE_H, LINUX_ERRNO_H, STDDEF_H, TYPES_H } from './linux';
import { ASM_H, ASM_LINKAGE_H, EXTABLE_TYPES_H, FRAME_H, IBT_H, MSR_INDEX_H, NOSPEC_H, PROCESSOR_FLAGS_H, TRAPNR_H, UNWIND_HINTS_H } from './x86';
import { asmTdxH, sharedTdxH, tdxErrnoH, vmxH } from './tdx';
import type { Generation } from './generation';
import { autoconfH, objtoolH } from './kernelConfig';
import { presetAsmOffsets } from '../structPresets';

export type { Generation } from './generation';
export { GENERATIONS } from './generation';

/** Path prefix under which built-in headers appear in diagnostics and line records. */
export const BUILTIN_PREFIX = '<builtin>/';

/** `#define` lines for asm-offsets symbols, as the kernel's generated header has them. */
export function asmOffsetsHeader(symbols: Map<string, bigint>): string {
  const lines = ['#ifndef _TDXDBG_GENERATED_ASM_OFFSETS_H', '#define _TDXDBG_GENERATED_ASM_OFFSETS_H'];
  for (const [name, v] of symbols) lines.push(`#define ${name} ${v} /* ${name} */`);
  lines.push('#endif', '');
  return lines.join('\n');
}

/** Every built-in header for `generation`; `asmOffsets` overrides the preset's symbols. */
export function builtinHeaders(generation: Generation, asmOffsets?: Map<string, bigint>): Map<string, string> {
  const offsets = asmOffsetsHeader(asmOffsets ?? presetAsmOffsets(generation));
  const h = new Map<string, string>([
    ['linux/kconfig.h', KCONFIG_H],
    ['generated/autoconf.h', autoconfH(generation)],
    ['linux/const.h', CONST_H],
    ['uapi/linux/const.h', CONST_H],
    ['vdso/const.h', CONST_H],
    ['linux/bits.h', BITS_H],
    ['vdso/bits.h', BITS_H],
    ['linux/errno.h', LINUX_ERRNO_H],
    ['asm/errno.h', ASM_ERRNO_H],
    ['uapi/asm-generic/errno-base.h', ASM_ERRNO_H],
    ['linux/types.h', TYPES_H],
    ['linux/compiler.h', COMPILER_H],
    ['linux/compiler_attributes.h', COMPILER_H],
    ['linux/compiler_types.h', COMPILER_H],
    ['linux/stddef.h', STDDEF_H],
    ['linux/export.h', EXPORT_H],
    ['asm/export.h', EXPORT_H],
    ['linux/init.h', INIT_H],
    ['linux/objtool.h', objtoolH(generation)],
    ['linux/linkage.h', LINKAGE_H],
    ['linux/kbuild.h', KBUILD_H],
    ['asm/linkage.h', ASM_LINKAGE_H],
    ['asm/ibt.h', IBT_H],
    ['asm/frame.h', FRAME_H],
    ['asm/asm.h', ASM_H],
    ['asm/extable_fixup_types.h', EXTABLE_TYPES_H],
    ['asm/unwind_hints.h', UNWIND_HINTS_H],
    ['asm/nospec-branch.h', NOSPEC_H],
    ['asm/trapnr.h', TRAPNR_H],
    ['asm/processor-flags.h', PROCESSOR_FLAGS_H],
    ['uapi/asm/processor-flags.h', PROCESSOR_FLAGS_H],
    ['asm/msr-index.h', MSR_INDEX_H],
    ['asm/tdx.h', asmTdxH(generation)],
    ['asm/shared/tdx.h', sharedTdxH(generation)],
    ['asm/shared/tdx_errno.h', tdxErrnoH()],
    ['asm/vmx.h', vmxH()],
    ['uapi/asm/vmx.h', vmxH()],
    ['asm/asm-offsets.h', '#include <generated/asm-offsets.h>\n'],
    ['generated/asm-offsets.h', offsets],
  ]);
  return h;
}

// Built-in TDX headers (<asm/tdx.h>, <asm/shared/tdx.h>, <asm/shared/tdx_errno.h>,
// <asm/vmx.h>) for one kernel generation, generated from the TDX catalogue: every macro is a
// catalogue entry tagged with the headers and generations that define it (tdx/generation.ts).

import { kernelHeaderDefines } from '../../tdx/headerDefines';
import { SEAMCALL_BYTES, TDCALL_BYTES } from '../../tdx/abiConstants';
import type { Generation } from './generation';
import { tdxStructDeclarations } from './tdxStructs';

const guard = (name: string, body: string[]) => `#ifndef ${name}\n#define ${name}\n${body.join('\n')}\n#endif\n`;
const defs = (pairs: [string, string][]) => pairs.map(([n, v]) => `#define ${n} ${v}`);
const byteList = (bytes: readonly number[]) => bytes.map((x) => '0x' + x.toString(16).padStart(2, '0')).join(',');

/** <asm/shared/tdx.h>: hypercall ABI shared by the kernel and its decompressor. */
export function sharedTdxH(g: Generation): string {
  const b: string[] = ['#include <linux/bits.h>', '#include <linux/types.h>', ...defs(kernelHeaderDefines('asm/shared/tdx.h', g))];
  // The kernel emits the instructions as bytes (binutils < 2.36 lacks the mnemonics).
  b.push('#ifdef __ASSEMBLY__', `#define tdcall .byte ${byteList(TDCALL_BYTES)}`, `#define seamcall .byte ${byteList(SEAMCALL_BYTES)}`, '#else');
  b.push(tdxStructDeclarations(g).trimEnd(), '#endif');
  return guard('_TDXDBG_ASM_SHARED_TDX_H', b);
}

/** <asm/shared/tdx_errno.h>: TDX module completion statuses (G5; the file exists only there). */
export function tdxErrnoH(): string {
  const b = ['#include <linux/const.h>', ...defs(kernelHeaderDefines('asm/shared/tdx_errno.h', 'G5'))];
  return guard('_TDXDBG_ASM_SHARED_TDX_ERRNO_H', b);
}

/** <asm/tdx.h>: software-made statuses, host leaves, and the shared header. */
export function asmTdxH(g: Generation): string {
  const b = ['#include <linux/const.h>', '#include <asm/trapnr.h>', '#include <asm/shared/tdx.h>', ...defs(kernelHeaderDefines('asm/tdx.h', g))];
  if (g === 'G5') b.push('#include <asm/shared/tdx_errno.h>');
  return guard('_TDXDBG_ASM_TDX_H', b);
}

let vmx: string | undefined;

/** <uapi/asm/vmx.h> (and <asm/vmx.h>): the VMX exit reasons TDVMCALL reuses (made on first use, not at load). */
export function vmxH(): string {
  return (vmx ??= guard('_TDXDBG_UAPI_ASM_VMX_H', defs(kernelHeaderDefines('uapi/asm/vmx.h', 'G5'))));
}

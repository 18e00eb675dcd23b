// SPDX-License-Identifier: MIT
/* The offsets tdcall.S reads its struct with (kbuild turns these into <asm/asm-offsets.h>). */
#include <linux/kbuild.h>
#include "tdx.h"

static void __used common(void)
{
	BLANK();
	OFFSET(TDX_HYPERCALL_r10, tdx_hypercall_args, r10);
	OFFSET(TDX_HYPERCALL_r11, tdx_hypercall_args, r11);
	OFFSET(TDX_HYPERCALL_r12, tdx_hypercall_args, r12);
	OFFSET(TDX_HYPERCALL_r13, tdx_hypercall_args, r13);
	OFFSET(TDX_HYPERCALL_r14, tdx_hypercall_args, r14);
	OFFSET(TDX_HYPERCALL_r15, tdx_hypercall_args, r15);
}

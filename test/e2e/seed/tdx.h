/* SPDX-License-Identifier: MIT */
/*
 * The guest hypercall interface of the earliest TDX guest series (generation G0 in the
 * README's table): six registers, R10 to R15, passed in a struct, and a flag asking for
 * them to be written back.
 */
#ifndef SEED_TDX_H
#define SEED_TDX_H

#include <linux/bits.h>
#include <linux/types.h>

#define TDX_HYPERCALL_STANDARD	0

/* Write R10..R15 back into the struct after the call. */
#define TDX_HCALL_HAS_OUTPUT	BIT(0)

#ifndef __ASSEMBLY__

/* Registers of a TDG.VP.VMCALL, in the order the GHCI lists them. */
struct tdx_hypercall_args {
	u64 r10;
	u64 r11;
	u64 r12;
	u64 r13;
	u64 r14;
	u64 r15;
};

u64 __tdx_hypercall(struct tdx_hypercall_args *args, u64 flags);

#endif /* !__ASSEMBLY__ */
#endif /* SEED_TDX_H */

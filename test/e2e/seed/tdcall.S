/* SPDX-License-Identifier: MIT */
/*
 * A TD-guest hypercall in the shape of the earliest TDX guest series (G0): the six hypercall
 * registers come from struct tdx_hypercall_args, RCX exposes exactly those six to the VMM,
 * and a failed TDCALL ends in ud2 since the guest cannot go on without its VMM.
 */
#include <asm/asm-offsets.h>
#include <linux/linkage.h>
#include <linux/bits.h>
#include "tdx.h"

/* GPR bits of the TDG.VP.VMCALL exposure bitmap in RCX (GHCI). */
#define TDX_R10		BIT(10)
#define TDX_R11		BIT(11)
#define TDX_R12		BIT(12)
#define TDX_R13		BIT(13)
#define TDX_R14		BIT(14)
#define TDX_R15		BIT(15)

#define TDVMCALL_EXPOSE_REGS_MASK	( TDX_R10 | TDX_R11 | TDX_R12 | \
					  TDX_R13 | TDX_R14 | TDX_R15 )

.section .noinstr.text, "ax"

/*
 * u64 __tdx_hypercall(struct tdx_hypercall_args *args, u64 flags)
 *
 * Returns the VMM's status (R10). With TDX_HCALL_HAS_OUTPUT in @flags the six registers
 * the VMM answered with are stored back into @args.
 */
SYM_FUNC_START(__tdx_hypercall)
	/* R12..R15 belong to the caller. */
	push	%r15
	push	%r14
	push	%r13
	push	%r12

	/* TDCALL leaf 0: TDG.VP.VMCALL */
	xor	%eax, %eax

	movq	TDX_HYPERCALL_r10(%rdi), %r10
	movq	TDX_HYPERCALL_r11(%rdi), %r11
	movq	TDX_HYPERCALL_r12(%rdi), %r12
	movq	TDX_HYPERCALL_r13(%rdi), %r13
	movq	TDX_HYPERCALL_r14(%rdi), %r14
	movq	TDX_HYPERCALL_r15(%rdi), %r15

	/* Only the hypercall registers go to the VMM; RDI and RSI stay ours. */
	movl	$TDVMCALL_EXPOSE_REGS_MASK, %ecx

	tdcall

	/* RAX != 0: the TDCALL itself failed; nothing sane is left to do. */
	test	%rax, %rax
	jnz	.Lpanic

	/* The VMM's status is the return value. */
	movq	%r10, %rax

	test	$TDX_HCALL_HAS_OUTPUT, %rsi
	jz	.Lno_output

	movq	%r10, TDX_HYPERCALL_r10(%rdi)
	movq	%r11, TDX_HYPERCALL_r11(%rdi)
	movq	%r12, TDX_HYPERCALL_r12(%rdi)
	movq	%r13, TDX_HYPERCALL_r13(%rdi)
	movq	%r14, TDX_HYPERCALL_r14(%rdi)
	movq	%r15, TDX_HYPERCALL_r15(%rdi)
.Lno_output:
	/* The VMM's values must not reach the caller. */
	xor	%r10d, %r10d
	xor	%r11d, %r11d

	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	RET
.Lpanic:
	ud2
SYM_FUNC_END(__tdx_hypercall)

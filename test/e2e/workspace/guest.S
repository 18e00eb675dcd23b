/*
 * Sample workspace of the real-editor test (test/e2e): the guest side of a TDX hypercall.
 * tdx_hypercall() fills the RCX exposure bitmap of a struct tdx_module_args, loads the
 * registers from it, executes TDCALL(TDG.VP.VMCALL) and copies the exposed outputs back.
 * The e2e test sets its breakpoint on the `tdcall` line below: keep exactly one.
 */
#include <linux/linkage.h>
#include <asm/frame.h>
#include <asm/asm-offsets.h>
#include <asm/shared/tdx.h>

/* u64 tdx_hypercall(struct tdx_module_args *args): returns the VMM's status (R10). */
SYM_FUNC_START(tdx_hypercall)
	FRAME_BEGIN
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	pushq	%rdi			/* keep the struct pointer */

	movq	$TDVMCALL_EXPOSE_REGS_MASK, TDX_MODULE_rcx(%rdi)
	movq	TDX_MODULE_rcx(%rdi), %rcx
	movq	TDX_MODULE_r10(%rdi), %r10
	movq	TDX_MODULE_r11(%rdi), %r11
	movq	TDX_MODULE_r12(%rdi), %r12
	movq	TDX_MODULE_r13(%rdi), %r13
	movq	TDX_MODULE_r14(%rdi), %r14
	movq	TDX_MODULE_r15(%rdi), %r15
	movl	$TDG_VP_VMCALL, %eax

	tdcall

	popq	%rdi
	movq	%r10, TDX_MODULE_r10(%rdi)
	movq	%r11, TDX_MODULE_r11(%rdi)
	movq	%r12, TDX_MODULE_r12(%rdi)
	movq	%r13, TDX_MODULE_r13(%rdi)
	movq	%r14, TDX_MODULE_r14(%rdi)
	movq	%r15, TDX_MODULE_r15(%rdi)
	testq	%rax, %rax
	jnz	1f			/* the TDCALL itself failed: fatal */
	movq	%r10, %rax		/* the VMM's status */
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	FRAME_END
	RET
1:	call	__tdx_hypercall_failed
	ud2
SYM_FUNC_END(tdx_hypercall)

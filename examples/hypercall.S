/*
 * Guest side of a TDX call, written from the G4/G5 register flow (tdx-abi.md §2.5):
 * tdx_hypercall() fills the exposure bitmap, calls __tdcall_saved_ret(TDG_VP_VMCALL, args)
 * and panics when the TDCALL itself failed (RAX != 0), else returns the VMM's status (R10).
 *
 *   npm run demo                                 # this file, in the emulator, as a DAP session
 *   tdxdbg run examples/hypercall.S --entry tdx_hypercall \
 *       --struct tdx_module_args:r11=TDVMCALL_MAP_GPA,r12=0x100000,r13=0x2000
 */
#include <linux/linkage.h>
#include <asm/frame.h>
#include <asm/asm-offsets.h>
#include <asm/shared/tdx.h>

/* u64 __tdcall_saved_ret(u64 fn, struct tdx_module_args *args): all 13 registers in and out. */
SYM_FUNC_START(__tdcall_saved_ret)
	FRAME_BEGIN
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15

	/* RAX = leaf | (version << 16): the G5 form reads the version byte of the struct. */
	movq	%rdi, %rax
	movzbl	TDX_MODULE_version(%rsi), %edi
	shlq	$16, %rdi
	orq	%rdi, %rax

	movq	TDX_MODULE_rcx(%rsi), %rcx
	movq	TDX_MODULE_rdx(%rsi), %rdx
	movq	TDX_MODULE_r8(%rsi), %r8
	movq	TDX_MODULE_r9(%rsi), %r9
	movq	TDX_MODULE_r10(%rsi), %r10
	movq	TDX_MODULE_r11(%rsi), %r11
	movq	TDX_MODULE_r12(%rsi), %r12
	movq	TDX_MODULE_r13(%rsi), %r13
	movq	TDX_MODULE_r14(%rsi), %r14
	movq	TDX_MODULE_r15(%rsi), %r15
	movq	TDX_MODULE_rbx(%rsi), %rbx
	movq	TDX_MODULE_rdi(%rsi), %rdi
	pushq	%rsi			/* keep the struct pointer: RSI is loaded last */
	movq	TDX_MODULE_rsi(%rsi), %rsi

	tdcall

	xchgq	%rsi, (%rsp)		/* RSI = struct pointer, (%rsp) = the output RSI */
	movq	%rcx, TDX_MODULE_rcx(%rsi)
	movq	%rdx, TDX_MODULE_rdx(%rsi)
	movq	%r8, TDX_MODULE_r8(%rsi)
	movq	%r9, TDX_MODULE_r9(%rsi)
	movq	%r10, TDX_MODULE_r10(%rsi)
	movq	%r11, TDX_MODULE_r11(%rsi)
	movq	%r12, TDX_MODULE_r12(%rsi)
	movq	%r13, TDX_MODULE_r13(%rsi)
	movq	%r14, TDX_MODULE_r14(%rsi)
	movq	%r15, TDX_MODULE_r15(%rsi)
	movq	%rbx, TDX_MODULE_rbx(%rsi)
	movq	%rdi, TDX_MODULE_rdi(%rsi)
	popq	TDX_MODULE_rsi(%rsi)

	/* Nothing the VMM wrote may leak into the caller. */
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	xorl	%r11d, %r11d
	xorl	%ebx, %ebx
	xorl	%edi, %edi

	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	FRAME_END
	RET
SYM_FUNC_END(__tdcall_saved_ret)

/* u64 tdx_hypercall(struct tdx_module_args *args): the C wrapper's job, in assembly. */
SYM_FUNC_START(tdx_hypercall)
	FRAME_BEGIN
	pushq	%rbx
	movq	%rdi, %rbx
	movq	$TDVMCALL_EXPOSE_REGS_MASK, TDX_MODULE_rcx(%rdi)
	movq	%rdi, %rsi
	movl	$TDG_VP_VMCALL, %edi
	call	__tdcall_saved_ret
	testq	%rax, %rax
	jnz	1f			/* the TDCALL mechanism failed: fatal */
	movq	TDX_MODULE_r10(%rbx), %rax	/* the VMM's status */
	popq	%rbx
	FRAME_END
	RET
1:	call	__tdx_hypercall_failed
	ud2
SYM_FUNC_END(tdx_hypercall)

/*
 * Host side: __seamcall_ret in the H3/H4 shape (tdx-abi.md §3) — VMfailInvalid becomes
 * TDX_SEAMCALL_VMFAILINVALID, a #GP or #UD on SEAMCALL is fixed up through the exception
 * table (EX_TYPE_FAULT puts the trap number in RAX) into TDX_SW_ERROR | trap, and outputs are
 * copied back only on success. tdx_sys_init() calls TDH.SYS.INIT and maps the result to an
 * errno the way the kernel's sc_retry_prerr() does, logging failures with printk.
 *
 *   tdxdbg run examples/seamcall.S --entry tdx_sys_init
 *   tdxdbg run examples/seamcall.S --entry tdx_sys_init --platform vmxe=0      # -EACCES
 *   tdxdbg run examples/seamcall.S --entry tdx_sys_init --platform tdx-bios=0  # -EOPNOTSUPP
 *   tdxdbg run examples/seamcall.S --entry tdx_sys_init --platform module=0    # -ENODEV
 */
#include <linux/linkage.h>
#include <linux/errno.h>
#include <asm/asm.h>
#include <asm/frame.h>
#include <asm/asm-offsets.h>
#include <asm/tdx.h>
#include <asm/shared/tdx.h>

/* u64 __seamcall_ret(u64 fn, struct tdx_module_args *args): RCX, RDX, R8-R11 in and out. */
SYM_FUNC_START(__seamcall_ret)
	FRAME_BEGIN
	movq	%rdi, %rax
	movzbl	TDX_MODULE_version(%rsi), %edi
	shlq	$16, %rdi
	orq	%rdi, %rax
	pushq	%rsi
	movq	TDX_MODULE_rcx(%rsi), %rcx
	movq	TDX_MODULE_rdx(%rsi), %rdx
	movq	TDX_MODULE_r8(%rsi), %r8
	movq	TDX_MODULE_r9(%rsi), %r9
	movq	TDX_MODULE_r10(%rsi), %r10
	movq	TDX_MODULE_r11(%rsi), %r11
.Lseamcall:
	seamcall
	jc	.Lvmfailinvalid
	popq	%rsi
	movq	%rcx, TDX_MODULE_rcx(%rsi)
	movq	%rdx, TDX_MODULE_rdx(%rsi)
	movq	%r8, TDX_MODULE_r8(%rsi)
	movq	%r9, TDX_MODULE_r9(%rsi)
	movq	%r10, TDX_MODULE_r10(%rsi)
	movq	%r11, TDX_MODULE_r11(%rsi)
.Lout:
	FRAME_END
	RET
.Lvmfailinvalid:
	popq	%rsi
	movq	$TDX_SEAMCALL_VMFAILINVALID, %rax
	jmp	.Lout
.Lfault:
	/* The exception table put the trap number in RAX. */
	popq	%rsi
	movq	$TDX_SW_ERROR, %rdi
	orq	%rdi, %rax
	jmp	.Lout
	_ASM_EXTABLE_FAULT(.Lseamcall, .Lfault)
SYM_FUNC_END(__seamcall_ret)

/* int tdx_sys_init(void): TDH.SYS.INIT with an on-stack struct tdx_module_args. */
SYM_FUNC_START(tdx_sys_init)
	FRAME_BEGIN
	pushq	%rbx
	subq	$128, %rsp			/* struct tdx_module_args, zeroed */
	movq	%rsp, %rdi
	xorl	%eax, %eax
	movl	$16, %ecx
	rep stosq
	movl	$TDH_SYS_INIT, %edi
	movq	%rsp, %rsi
	call	__seamcall_ret
	movq	%rax, %rbx
	testq	%rax, %rax
	jz	.Ldone
	movq	$TDX_SEAMCALL_VMFAILINVALID, %rcx
	movl	$-ENODEV, %edx
	cmpq	%rcx, %rax
	je	.Lreport
	movq	$TDX_SEAMCALL_GP, %rcx
	movl	$-EOPNOTSUPP, %edx
	cmpq	%rcx, %rax
	je	.Lreport
	movq	$TDX_SEAMCALL_UD, %rcx
	movl	$-EACCES, %edx
	cmpq	%rcx, %rax
	je	.Lreport
	movl	$-EIO, %edx
.Lreport:
	pushq	%rdx
	pushq	%rdx
	leaq	.Lmsg(%rip), %rdi
	movl	$TDH_SYS_INIT, %esi
	movq	%rbx, %rdx
	call	_printk
	popq	%rax
	popq	%rax
	jmp	.Lret
.Ldone:
	xorl	%eax, %eax
.Lret:
	addq	$128, %rsp
	popq	%rbx
	FRAME_END
	RET
SYM_FUNC_END(tdx_sys_init)

	.section .rodata
.Lmsg:	.asciz	"\0013virt/tdx: SEAMCALL (0x%016llx) failed: 0x%016llx\n"

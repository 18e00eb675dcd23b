/*
 * Sample workspace of the real-editor test (test/e2e): the host side, TDH.SYS.INIT through
 * SEAMCALL in VMX root. A #GP or #UD on SEAMCALL is fixed up by the exception table into
 * TDX_SW_ERROR | trap (the kernel's TDX_SEAMCALL_GP/UD); the e2e test injects #GP here with
 * "TDX: Inject Fault at Next Call". Keep exactly one `seamcall` line.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/frame.h>
#include <asm/tdx.h>
#include <asm/shared/tdx.h>

/* u64 tdx_sys_init(void): TDH.SYS.INIT; 0, a module status, or TDX_SW_ERROR | trap. */
SYM_FUNC_START(tdx_sys_init)
	FRAME_BEGIN
	movl	$TDH_SYS_INIT, %eax
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
.Lseamcall:
	seamcall
	jc	.Lvmfailinvalid
.Lout:
	FRAME_END
	RET
.Lvmfailinvalid:
	movq	$TDX_SEAMCALL_VMFAILINVALID, %rax
	jmp	.Lout
.Lfault:
	/* The exception table put the trap number in RAX. */
	movq	$TDX_SW_ERROR, %rdi
	orq	%rdi, %rax
	jmp	.Lout
	_ASM_EXTABLE_FAULT(.Lseamcall, .Lfault)
SYM_FUNC_END(tdx_sys_init)

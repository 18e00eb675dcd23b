/*
 * TDG.VP.VMCALL<GetQuote> from a request block described by our own C header (quote.h) and
 * asm-offsets source (asm-offsets.c): the built-in assembler resolves QUOTE_* exactly as a
 * kernel build's generated asm-offsets.h would.
 *
 *   tdxdbg run examples/custom/quote.S --entry get_quote --header examples/custom/quote.h \
 *       --asm-offsets examples/custom/asm-offsets.c --struct quote_req:buf_gpa=0x800000200000,buf_len=4096
 */
#include <linux/linkage.h>
#include <asm/asm-offsets.h>
#include <asm/shared/tdx.h>

/* void get_quote(struct quote_req *req) */
SYM_FUNC_START(get_quote)
	pushq	%r12
	pushq	%r13
	pushq	%rdi
	movq	QUOTE_buf_gpa(%rdi), %r12
	movl	QUOTE_buf_len(%rdi), %r13d
	xorl	%r10d, %r10d			/* TDX_HYPERCALL_STANDARD */
	movl	$TDVMCALL_GET_QUOTE, %r11d
	movl	$(TDX_R10 | TDX_R11 | TDX_R12 | TDX_R13), %ecx
	xorl	%eax, %eax			/* TDG.VP.VMCALL */
	tdcall
	popq	%rdi
	movq	%rax, QUOTE_tdcall_status(%rdi)
	movq	%r10, QUOTE_status(%rdi)
	xorl	%r10d, %r10d			/* nothing the VMM wrote stays in registers */
	xorl	%r11d, %r11d
	popq	%r13
	popq	%r12
	RET
SYM_FUNC_END(get_quote)

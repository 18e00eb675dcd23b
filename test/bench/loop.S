/* Benchmark loop of mixed integer work: loads, ALU, stores, push/call/ret/pop, cmp/jcc.
 * 16 instructions per iteration. bench_loop(iterations in %rdi, 1 KiB buffer in %rsi). */
	.text
	.globl	bench_loop
	.type	bench_loop, @function
bench_loop:
	xor	%eax, %eax
1:	mov	%rdi, %rdx
	and	$0x3f8, %rdx
	mov	(%rsi,%rdx), %rcx
	add	%rdi, %rcx
	xor	%rax, %rcx
	mov	%rcx, (%rsi,%rdx)
	push	%rcx
	call	bench_work
	pop	%rcx
	add	%rcx, %rax
	sub	$1, %rdi
	cmp	$0, %rdi
	jne	1b
	ret
	.size	bench_loop, .-bench_loop

	.type	bench_work, @function
bench_work:
	mov	8(%rsp), %r8
	add	%r8, %rax
	ret
	.size	bench_work, .-bench_work

#ifdef NATIVE_MAIN
/* A freestanding static program: _start runs the loop ITERATIONS times and exits with the low byte of the sum. */
	.globl	_start
_start:
	mov	$ITERATIONS, %rdi
	lea	buffer(%rip), %rsi
	call	bench_loop
	mov	%eax, %edi
	and	$0x7f, %edi
	mov	$60, %eax
	syscall
	.bss
	.balign	64
buffer:	.skip	1024
#endif
	.section .note.GNU-stack,"",@progbits

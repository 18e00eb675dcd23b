// Built-in <asm/*.h> headers for x86-64 (everything but TDX): alignment and RET, frame
// pointer, exception-table entries in the kernel's 12-byte format (arch/x86/include/asm/extable.h), objtool
// hints that emit nothing, trap numbers and the VMX/platform MSRs (SDM vol. 4).

/** <asm/linkage.h>: function alignment and RET (CONFIG_* options choose the return sequence). */
export const ASM_LINKAGE_H = `#ifndef _TDXDBG_ASM_LINKAGE_H
#define _TDXDBG_ASM_LINKAGE_H
#ifdef __ASSEMBLY__
#ifdef CONFIG_FUNCTION_ALIGNMENT
#define __ALIGN .balign CONFIG_FUNCTION_ALIGNMENT, 0x90;
#else
#define __ALIGN .p2align 4, 0x90
#endif
#define __ALIGN_STR __stringify(__ALIGN)
#ifndef __stringify
#define __stringify_1(x...) #x
#define __stringify(x...) __stringify_1(x)
#endif
/* Functions: with CONFIG_CALL_PADDING, CONFIG_FUNCTION_PADDING_BYTES of nops before the label. */
#if IS_ENABLED(CONFIG_CALL_PADDING)
#define __FUNC_ALIGN __ALIGN; .skip CONFIG_FUNCTION_PADDING_BYTES, 0x90;
#else
#define __FUNC_ALIGN __ALIGN
#endif
#define SYM_F_ALIGN __FUNC_ALIGN
#define ALIGN __ALIGN
#define ALIGN_STR __ALIGN_STR
#if IS_ENABLED(CONFIG_MITIGATION_RETHUNK) || IS_ENABLED(CONFIG_RETHUNK)
#define RET jmp __x86_return_thunk
#elif IS_ENABLED(CONFIG_MITIGATION_SLS) || IS_ENABLED(CONFIG_SLS)
#define RET ret; int3
#else
#define RET ret
#endif
#endif
#endif
`;

/** <asm/ibt.h>: ENDBR only with CONFIG_X86_KERNEL_IBT. */
export const IBT_H = `#ifndef _TDXDBG_ASM_IBT_H
#define _TDXDBG_ASM_IBT_H
#ifdef __ASSEMBLY__
#if IS_ENABLED(CONFIG_X86_KERNEL_IBT)
#define ENDBR endbr64
#else
#define ENDBR
#endif
#endif
#endif
`;

/** <asm/frame.h>: FRAME_BEGIN/FRAME_END build a frame only with CONFIG_FRAME_POINTER. */
export const FRAME_H = `#ifndef _TDXDBG_ASM_FRAME_H
#define _TDXDBG_ASM_FRAME_H
#ifdef __ASSEMBLY__
#ifdef CONFIG_FRAME_POINTER
#define FRAME_BEGIN push %rbp; mov %rsp, %rbp
#define FRAME_END pop %rbp
#define FRAME_OFFSET 8
#else
#define FRAME_BEGIN
#define FRAME_END
#define FRAME_OFFSET 0
#endif
#endif
#endif
`;

/** <asm/extable_fixup_types.h>: EX_TYPE_* and the data-word packing. */
export const EXTABLE_TYPES_H = `#ifndef _TDXDBG_ASM_EXTABLE_FIXUP_TYPES_H
#define _TDXDBG_ASM_EXTABLE_FIXUP_TYPES_H
#define EX_DATA_TYPE_MASK 0x000000FF
#define EX_DATA_REG_MASK 0x00000F00
#define EX_DATA_FLAG_MASK 0x0000F000
#define EX_DATA_IMM_MASK 0xFFFF0000
#define EX_DATA_REG_SHIFT 8
#define EX_DATA_FLAG_SHIFT 12
#define EX_DATA_IMM_SHIFT 16
#define EX_DATA_REG(reg) ((reg) << EX_DATA_REG_SHIFT)
#define EX_DATA_FLAG(flag) ((flag) << EX_DATA_FLAG_SHIFT)
#define EX_DATA_IMM(imm) ((imm) << EX_DATA_IMM_SHIFT)
#define EX_FLAG_CLEAR_AX EX_DATA_FLAG(1)
#define EX_FLAG_CLEAR_DX EX_DATA_FLAG(2)
#define EX_FLAG_CLEAR_AX_DX EX_DATA_FLAG(3)
#define EX_TYPE_NONE 0
#define EX_TYPE_DEFAULT 1
#define EX_TYPE_FAULT 2
#define EX_TYPE_UACCESS 3
#define EX_TYPE_CLEAR_FS 5
#endif
`;

/**
 * <asm/asm.h>: register-name helpers and _ASM_EXTABLE*. An entry is three 32-bit words in
 * "__ex_table": insn and fixup relative to the word itself, then the type/data word.
 * _ASM_EXTABLE_TYPE_REG takes the register as its number (0 = rax ... 15 = r15) in assembly.
 */
export const ASM_H = `#ifndef _TDXDBG_ASM_ASM_H
#define _TDXDBG_ASM_ASM_H
#include <asm/extable_fixup_types.h>
#ifdef __ASSEMBLY__
#define _ASM_PTR .quad
#define _ASM_ALIGN .balign 8
#define _ASM_MOV movq
#define _ASM_INC incq
#define _ASM_DEC decq
#define _ASM_ADD addq
#define _ASM_SUB subq
#define _ASM_AX %rax
#define _ASM_BX %rbx
#define _ASM_CX %rcx
#define _ASM_DX %rdx
#define _ASM_SP %rsp
#define _ASM_BP %rbp
#define _ASM_SI %rsi
#define _ASM_DI %rdi
#define _ASM_EXTABLE_TYPE(from, to, type) .pushsection "__ex_table","a" ; .balign 4 ; .long (from) - . ; .long (to) - . ; .long type ; .popsection
#define _ASM_EXTABLE(from, to) _ASM_EXTABLE_TYPE(from, to, EX_TYPE_DEFAULT)
#define _ASM_EXTABLE_UA(from, to) _ASM_EXTABLE_TYPE(from, to, EX_TYPE_UACCESS)
#define _ASM_EXTABLE_FAULT(from, to) _ASM_EXTABLE_TYPE(from, to, EX_TYPE_FAULT)
#define _ASM_EXTABLE_TYPE_REG(from, to, type, regnum) _ASM_EXTABLE_TYPE(from, to, (type) | EX_DATA_REG(regnum))
#endif
#endif
`;

/**
 * <asm/unwind_hints.h>: objtool unwind hints. In assembly the kernel's are GAS macros taking
 * keyword arguments (\`UNWIND_HINT_IRET_REGS offset=8\`), so ours are GAS macros with the same
 * parameters and empty bodies.
 */
export const UNWIND_HINTS_H = `#ifndef _TDXDBG_ASM_UNWIND_HINTS_H
#define _TDXDBG_ASM_UNWIND_HINTS_H
#include <linux/objtool.h>
#ifdef __ASSEMBLY__
.macro UNWIND_HINT type:req sp_reg=0 sp_offset=0 signal=0
.endm
.macro UNWIND_HINT_EMPTY
.endm
.macro UNWIND_HINT_UNDEFINED
.endm
.macro UNWIND_HINT_END_OF_STACK
.endm
.macro UNWIND_HINT_ENTRY
.endm
.macro UNWIND_HINT_REGS base=%rsp offset=0 indirect=0 extra=1 partial=0 signal=1
.endm
.macro UNWIND_HINT_IRET_REGS base=%rsp offset=0 signal=1
.endm
.macro UNWIND_HINT_IRET_ENTRY base=%rsp offset=0 signal=1
.endm
.macro UNWIND_HINT_FUNC
.endm
.macro UNWIND_HINT_SAVE
.endm
.macro UNWIND_HINT_RESTORE
.endm
#endif
#endif
`;

/** <asm/nospec-branch.h>: speculation-hardening annotations; no code unless CONFIG_* asks (RET). */
export const NOSPEC_H = `#ifndef _TDXDBG_ASM_NOSPEC_BRANCH_H
#define _TDXDBG_ASM_NOSPEC_BRANCH_H
#include <linux/linkage.h>
#include <linux/objtool.h>
#ifdef __ASSEMBLY__
#define UNTRAIN_RET
#define UNTRAIN_RET_VM
#define UNTRAIN_RET_FROM_CALL
#define CALL_DEPTH_ACCOUNT
#define CLEAR_CPU_BUFFERS
#endif
#endif
`;

/** <asm/trapnr.h>: the exception vectors (SDM vol. 3 §6.3). */
export const TRAPNR_H = `#ifndef _TDXDBG_ASM_TRAPNR_H
#define _TDXDBG_ASM_TRAPNR_H
#define X86_TRAP_DE 0
#define X86_TRAP_UD 6
#define X86_TRAP_GP 13
#define X86_TRAP_VE 20
#endif
`;

/** <asm/processor-flags.h>: CR4.VMXE. */
export const PROCESSOR_FLAGS_H = `#ifndef _TDXDBG_ASM_PROCESSOR_FLAGS_H
#define _TDXDBG_ASM_PROCESSOR_FLAGS_H
#include <linux/const.h>
#define X86_CR4_VMXE_BIT 13
#define X86_CR4_VMXE _BITUL(X86_CR4_VMXE_BIT)
#endif
`;

/** <asm/msr-index.h>: the VMX/TDX platform MSRs (SDM vol. 4). */
export const MSR_INDEX_H = `#ifndef _TDXDBG_ASM_MSR_INDEX_H
#define _TDXDBG_ASM_MSR_INDEX_H
#include <linux/bits.h>
#define MSR_IA32_FEAT_CTL 0x0000003a
#define MSR_IA32_FEATURE_CONTROL MSR_IA32_FEAT_CTL
#define FEAT_CTL_LOCKED BIT(0)
#define FEAT_CTL_VMX_ENABLED_INSIDE_SMX BIT(1)
#define FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX BIT(2)
#define MSR_IA32_MKTME_KEYID_PARTITIONING 0x00000087
#define MSR_IA32_VMX_BASIC 0x00000480
#define MSR_IA32_VMX_CR0_FIXED0 0x00000486
#define MSR_IA32_VMX_CR0_FIXED1 0x00000487
#define MSR_IA32_VMX_CR4_FIXED0 0x00000488
#define MSR_IA32_VMX_CR4_FIXED1 0x00000489
#endif
`;

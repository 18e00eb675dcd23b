// Built-in <linux/*.h> headers: our own minimal equivalents of the kernel headers that TDX
// assembly and the argument-struct headers include. They define the kernel's macro names
// with the kernel's meaning; nothing here is copied kernel source.

/** <linux/kconfig.h>, pre-included like the kernel build does: IS_ENABLED() over -D CONFIG_* values. */
export const KCONFIG_H = `#ifndef _TDXDBG_LINUX_KCONFIG_H
#define _TDXDBG_LINUX_KCONFIG_H
/* __cfg_one(v) is 1 when v expands to exactly 1, else 0: pasting v onto a probe name only
   yields a macro (with an extra leading argument) when v is 1. */
#define __cfg_second(a, b, ...) b
#define __cfg_probe_1 ~, 1
#define __cfg_one(v) __cfg_one_(__cfg_probe_##v)
#define __cfg_one_(probe) __cfg_second(probe, 0, ~)
#define __cfg_or(x, y) __cfg_or_(x, y)
#define __cfg_or_(x, y) __cfg_or_##x(y)
#define __cfg_or_0(y) y
#define __cfg_or_1(y) 1
#define IS_BUILTIN(option) __cfg_one(option)
#define IS_MODULE(option) __cfg_one(option##_MODULE)
#define IS_ENABLED(option) __cfg_or(IS_BUILTIN(option), IS_MODULE(option))
#define IS_REACHABLE(option) IS_ENABLED(option)
#include <generated/autoconf.h>
#endif
`;

/** <linux/const.h>: _AC() and friends, so one constant serves asm (no suffix) and C. */
export const CONST_H = `#ifndef _TDXDBG_LINUX_CONST_H
#define _TDXDBG_LINUX_CONST_H
#ifdef __ASSEMBLY__
#define _AC(X, Y) X
#define _AT(T, X) X
#else
#define __AC(X, Y) (X##Y)
#define _AC(X, Y) __AC(X, Y)
#define _AT(T, X) ((T)(X))
#endif
#define _UL(x) (_AC(x, UL))
#define _ULL(x) (_AC(x, ULL))
#define _BITUL(x) (_UL(1) << (x))
#define _BITULL(x) (_ULL(1) << (x))
#endif
`;

/** <linux/bits.h>: BIT(), GENMASK() usable in asm, #if and C. */
export const BITS_H = `#ifndef _TDXDBG_LINUX_BITS_H
#define _TDXDBG_LINUX_BITS_H
#include <linux/const.h>
#define BITS_PER_BYTE 8
#define BITS_PER_LONG 64
#define BITS_PER_LONG_LONG 64
#define BIT(nr) (_UL(1) << (nr))
#define BIT_ULL(nr) (_ULL(1) << (nr))
#define BIT_MASK(nr) (_UL(1) << ((nr) % BITS_PER_LONG))
#define BIT_WORD(nr) ((nr) / BITS_PER_LONG)
/* Bits h..l set. Two shifts keep h == 63 defined (no shift by 64). */
#define GENMASK(h, l) ((~_UL(0) << (l)) & ~(~_UL(0) << (h) << 1))
#define GENMASK_ULL(h, l) ((~_ULL(0) << (l)) & ~(~_ULL(0) << (h) << 1))
#endif
`;

/** <asm/errno.h> (the asm-generic numbering x86 uses). */
export const ASM_ERRNO_H = `#ifndef _TDXDBG_ASM_ERRNO_H
#define _TDXDBG_ASM_ERRNO_H
#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define ENOEXEC 8
#define EBADF 9
#define ECHILD 10
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define ENOTBLK 15
#define EBUSY 16
#define EEXIST 17
#define EXDEV 18
#define ENODEV 19
#define ENOTDIR 20
#define EISDIR 21
#define EINVAL 22
#define ENFILE 23
#define EMFILE 24
#define ENOTTY 25
#define ETXTBSY 26
#define EFBIG 27
#define ENOSPC 28
#define ESPIPE 29
#define EROFS 30
#define EMLINK 31
#define EPIPE 32
#define EDOM 33
#define ERANGE 34
#define EDEADLK 35
#define ENAMETOOLONG 36
#define ENOLCK 37
#define ENOSYS 38
#define ENOTEMPTY 39
#define ELOOP 40
#define ENODATA 61
#define ETIME 62
#define EPROTO 71
#define EOVERFLOW 75
#define EOPNOTSUPP 95
#define ETIMEDOUT 110
#define EALREADY 114
#define EINPROGRESS 115
#define EHWPOISON 133
#endif
`;

/** <linux/errno.h>: the uapi numbers plus the kernel-internal ones. */
export const LINUX_ERRNO_H = `#ifndef _TDXDBG_LINUX_ERRNO_H
#define _TDXDBG_LINUX_ERRNO_H
#include <asm/errno.h>
#define ERESTARTSYS 512
#define ENOTSUPP 524
#endif
`;

/** <linux/types.h>: the kernel's integer type names for C (nothing in assembly). */
export const TYPES_H = `#ifndef _TDXDBG_LINUX_TYPES_H
#define _TDXDBG_LINUX_TYPES_H
#ifndef __ASSEMBLY__
typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef signed short __s16;
typedef unsigned int __u32;
typedef signed int __s32;
typedef unsigned long long __u64;
typedef signed long long __s64;
typedef __u8 u8;
typedef __s8 s8;
typedef __u16 u16;
typedef __s16 s16;
typedef __u32 u32;
typedef __s32 s32;
typedef __u64 u64;
typedef __s64 s64;
typedef __u16 __le16;
typedef __u32 __le32;
typedef __u64 __le64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u64 __be64;
typedef _Bool bool;
typedef unsigned long size_t;
typedef long ssize_t;
typedef long ptrdiff_t;
typedef unsigned long uintptr_t;
typedef u64 phys_addr_t;
typedef u64 dma_addr_t;
typedef phys_addr_t resource_size_t;
typedef unsigned int gfp_t;
typedef struct { int counter; } atomic_t;
typedef struct { s64 counter; } atomic64_t;
#endif
#endif
`;

/** <linux/compiler_attributes.h> / <linux/compiler.h>: attribute spellings the struct parser understands. */
export const COMPILER_H = `#ifndef _TDXDBG_LINUX_COMPILER_H
#define _TDXDBG_LINUX_COMPILER_H
#ifndef __ASSEMBLY__
#define __packed __attribute__((__packed__))
#define __aligned(x) __attribute__((__aligned__(x)))
#define __always_inline inline __attribute__((__always_inline__))
#define __noreturn __attribute__((__noreturn__))
#define __used __attribute__((__used__))
#define __maybe_unused __attribute__((__unused__))
#define __visible __attribute__((__externally_visible__))
#define __section(s) __attribute__((__section__(s)))
#define noinline __attribute__((__noinline__))
#define notrace
#define noinstr
#define __init
#define __iomem
#define __user
#define __force
#define __must_check
#define asmlinkage
#define likely(x) (x)
#define unlikely(x) (x)
#endif
#endif
`;

/** <linux/stddef.h>. */
export const STDDEF_H = `#ifndef _TDXDBG_LINUX_STDDEF_H
#define _TDXDBG_LINUX_STDDEF_H
#ifndef __ASSEMBLY__
#define NULL ((void *)0)
#define offsetof(TYPE, MEMBER) __builtin_offsetof(TYPE, MEMBER)
#define sizeof_field(TYPE, MEMBER) sizeof((((TYPE *)0)->MEMBER))
#endif
#endif
`;

/** <linux/export.h>, <asm/export.h>: symbol exports produce nothing here. */
export const EXPORT_H = `#ifndef _TDXDBG_LINUX_EXPORT_H
#define _TDXDBG_LINUX_EXPORT_H
#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)
#define EXPORT_SYMBOL_NS(sym, ns)
#define EXPORT_SYMBOL_NS_GPL(sym, ns)
#define EXPORT_SYMBOL_FOR_KVM(sym)
#endif
`;

/** <linux/init.h>: the init section switches. */
export const INIT_H = `#ifndef _TDXDBG_LINUX_INIT_H
#define _TDXDBG_LINUX_INIT_H
#ifdef __ASSEMBLY__
#define __HEAD .section ".head.text","ax"
#define __INIT .section ".init.text","ax"
#define __FINIT .previous
#define __INITDATA .section ".init.data","aw",%progbits
#define __INITRODATA .section ".init.rodata","a",%progbits
#endif
#endif
`;

/** <linux/linkage.h>: symbol start/end macros; statements joined with \`;\` as GAS allows. */
export const LINKAGE_H = `#ifndef _TDXDBG_LINUX_LINKAGE_H
#define _TDXDBG_LINUX_LINKAGE_H
#include <linux/compiler.h>
#include <asm/linkage.h>
#include <asm/ibt.h>
#ifdef __ASSEMBLY__
#define ASM_NL ;
#define SYM_L_GLOBAL(name) .globl name
#define SYM_L_WEAK(name) .weak name
#define SYM_L_LOCAL(name)
#define SYM_A_ALIGN ALIGN
#define SYM_A_NONE
#define SYM_T_FUNC STT_FUNC
#define SYM_T_OBJECT STT_OBJECT
#define SYM_T_NONE STT_NOTYPE
/* linkage, alignment, label; the end records the size for SYM_FUNC_ALIAS. */
#define SYM_ENTRY(name, linkage, align...) linkage(name) ASM_NL align ASM_NL name:
#define SYM_START(name, linkage, align...) SYM_ENTRY(name, linkage, align)
#define SYM_END(name, sym_type) .type name, sym_type ASM_NL .set .L__size_of_##name, .-name ASM_NL .size name, .L__size_of_##name
/* x86 functions: aligned with the call padding (SYM_F_ALIGN), an IBT landing pad right after the label. */
#define SYM_FUNC_START(name) SYM_START(name, SYM_L_GLOBAL, SYM_F_ALIGN) ENDBR
#define SYM_FUNC_START_NOALIGN(name) SYM_START(name, SYM_L_GLOBAL, SYM_A_NONE) ENDBR
#define SYM_FUNC_START_LOCAL(name) SYM_START(name, SYM_L_LOCAL, SYM_F_ALIGN) ENDBR
#define SYM_FUNC_START_LOCAL_NOALIGN(name) SYM_START(name, SYM_L_LOCAL, SYM_A_NONE) ENDBR
#define SYM_FUNC_START_WEAK(name) SYM_START(name, SYM_L_WEAK, SYM_F_ALIGN) ENDBR
#define SYM_FUNC_START_WEAK_NOALIGN(name) SYM_START(name, SYM_L_WEAK, SYM_A_NONE) ENDBR
#define SYM_TYPED_FUNC_START(name) SYM_FUNC_START(name)
#define SYM_FUNC_END(name) SYM_END(name, @function)
#define SYM_FUNC_ALIAS(alias, name) SYM_L_GLOBAL(alias) ASM_NL .set alias, name ASM_NL .type alias, @function ASM_NL .size alias, .L__size_of_##name
#define SYM_FUNC_ALIAS_LOCAL(alias, name) .set alias, name ASM_NL .type alias, @function ASM_NL .size alias, .L__size_of_##name
#define SYM_FUNC_ALIAS_WEAK(alias, name) SYM_L_WEAK(alias) ASM_NL .set alias, name ASM_NL .type alias, @function ASM_NL .size alias, .L__size_of_##name
#define SYM_CODE_START(name) SYM_START(name, SYM_L_GLOBAL, SYM_A_ALIGN)
#define SYM_CODE_START_NOALIGN(name) SYM_START(name, SYM_L_GLOBAL, SYM_A_NONE)
#define SYM_CODE_START_LOCAL(name) SYM_START(name, SYM_L_LOCAL, SYM_A_ALIGN)
#define SYM_CODE_START_LOCAL_NOALIGN(name) SYM_START(name, SYM_L_LOCAL, SYM_A_NONE)
#define SYM_CODE_END(name) SYM_END(name, @notype)
#define SYM_INNER_LABEL_ALIGN(name, linkage) .type name, @notype ASM_NL SYM_ENTRY(name, linkage, SYM_A_ALIGN)
#define SYM_INNER_LABEL(name, linkage) .type name, @notype ASM_NL SYM_ENTRY(name, linkage, SYM_A_NONE)
#define SYM_DATA_START(name) SYM_START(name, SYM_L_GLOBAL, SYM_A_NONE)
#define SYM_DATA_START_LOCAL(name) SYM_START(name, SYM_L_LOCAL, SYM_A_NONE)
#define SYM_DATA_END(name) SYM_END(name, @object)
#define SYM_DATA_END_LABEL(name, linkage, label) linkage(label) ASM_NL .type label, @object ASM_NL label: ASM_NL SYM_END(name, @object)
#define SYM_DATA(name, data...) SYM_DATA_START(name) ASM_NL data ASM_NL SYM_DATA_END(name)
#define SYM_DATA_LOCAL(name, data...) SYM_DATA_START_LOCAL(name) ASM_NL data ASM_NL SYM_DATA_END(name)
/* The pre-5.5 spellings. */
#define GLOBAL(name) .globl name ASM_NL name:
#define ENTRY(name) .globl name ASM_NL ALIGN ASM_NL name:
#define WEAK(name) .weak name ASM_NL name:
#define END(name) .size name, .-name
#define ENDPROC(name) .type name, @function ASM_NL END(name)
#endif
#endif
`;

/** <linux/kbuild.h>: left empty on purpose, so asmOffsets.ts sees OFFSET()/DEFINE() calls as written. */
export const KBUILD_H = `#ifndef _TDXDBG_LINUX_KBUILD_H
#define _TDXDBG_LINUX_KBUILD_H
#endif
`;

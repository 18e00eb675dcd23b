/* A request block of our own, handed to assembly through asm-offsets (the kernel's way). */
#ifndef QUOTE_H
#define QUOTE_H

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;

struct quote_req {
	u64 buf_gpa;		/* shared buffer the VMM fills */
	u32 buf_len;
	u8 flags;
	u8 pad[3];
	u64 status;		/* TDVMCALL status (R10) */
	u64 tdcall_status;	/* TDCALL status (RAX) */
};

#endif

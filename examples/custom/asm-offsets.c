/* asm-offsets for quote.S, in the kernel's style: OFFSET()/DEFINE() inside a function. */
#include <linux/kbuild.h>
#include "quote.h"

static void __used common(void)
{
	OFFSET(QUOTE_buf_gpa, quote_req, buf_gpa);
	OFFSET(QUOTE_buf_len, quote_req, buf_len);
	OFFSET(QUOTE_flags, quote_req, flags);
	OFFSET(QUOTE_status, quote_req, status);
	OFFSET(QUOTE_tdcall_status, quote_req, tdcall_status);
	BLANK();
	DEFINE(QUOTE_SIZE, sizeof(struct quote_req));
}

// SSE/SSE2/SSE3/SSE4.1 floating point: scalar and packed arithmetic, compares, conversions,
// MXCSR (LDMXCSR/STMXCSR) and FXSAVE/FXRSTOR.

import type { Handler } from '../decode/insn';

export const sseFpHandlers: Record<string, Handler> = {};
/** SSE-family instructions without an XMM operand (MXCSR and state save). */
export const sseGprHandlers: Record<string, Handler> = {};

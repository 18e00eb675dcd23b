// Control transfer: JMP Jcc JRCXZ/JECXZ LOOP/LOOPE/LOOPNE CALL RET (near, direct and
// indirect). CALL and RET also keep the shadow call stack the debugger shows as frames.

import { Cpu, SHADOW_DEPTH } from '../cpu/cpu';
import { testCond, getZF } from '../cpu/flags';
import { Insn, K } from '../decode/insn';
import type { Handler } from '../decode/insn';
import { rd0, push64, jumpTo, addRsp, addrOfStack } from './operands';

const TWO32 = 4294967296;

function jmp(c: Cpu, i: Insn): void {
  if (i.k0 === K.IMM) { c.rip = i.target; return; }
  const lo = rd0(c, i);
  jumpTo(c, lo, i.s0 === 8 ? c.th : 0);
}

function jcc(c: Cpu, i: Insn): void {
  if (testCond(c, i.cc)) c.rip = i.target;
}

function jrcxz(c: Cpu, i: Insn): void {
  const R = c.r;
  if (i.mnemonic === 'jecxz' ? R[2] === 0 : (R[2] | R[3]) === 0) c.rip = i.target;
}

/** LOOP decrements RCX (ECX with an address-size prefix) without touching flags. */
function loop(c: Cpu, i: Insn): void {
  const R = c.r;
  let zero: boolean;
  if (i.mA32 || i.bytes[0] === 0x67) {
    R[2] = (R[2] - 1) | 0; R[3] = 0; zero = R[2] === 0;
  } else {
    const lo = (R[2] >>> 0) - 1;
    if (lo < 0) { R[2] = -1; R[3] = (R[3] - 1) | 0; } else R[2] = lo | 0;
    zero = (R[2] | R[3]) === 0;
  }
  if (zero) return;
  if (i.mnemonic === 'loope' && !getZF(c)) return;
  if (i.mnemonic === 'loopne' && getZF(c)) return;
  c.rip = i.target;
}

function call(c: Cpu, i: Insn): void {
  let target: number;
  if (i.k0 === K.IMM) target = i.target;
  else {
    // The target is read before the return address is pushed (a fault leaves RSP intact).
    const lo = rd0(c, i), hi = c.th;
    if ((hi >> 15) !== 0 && (hi >> 15) !== -1) { jumpTo(c, lo, hi); return; }
    target = hi * TWO32 + (lo >>> 0);
  }
  const ret = i.next;
  push64(c, (ret % TWO32) | 0, Math.floor(ret / TWO32) | 0);
  c.rip = target;
  const n = c.ssN;
  if (n < SHADOW_DEPTH) {
    c.ssRet[n] = ret; c.ssTarget[n] = target; c.ssSp[n] = c.r[9] * TWO32 + (c.r[8] >>> 0);
  }
  c.ssN = n + 1;
}

/** RET [imm16]: the return address is checked (#GP if non-canonical) before RSP moves. */
function ret(c: Cpu, i: Insn): void {
  const R = c.r;
  const lo = c.mem.read64(addrOfStack(R[8], R[9])), hi = c.mem.hi;
  if ((hi >> 15) !== 0 && (hi >> 15) !== -1) jumpTo(c, lo, hi);
  addRsp(c, 8 + (i.k0 === K.IMM ? i.immLo & 0xffff : 0));
  jumpTo(c, lo, hi);
  popShadow(c, c.rip);
}

/** Pops the shadow stack to the frame whose return address was just taken (longjmp-style unwinds too). */
function popShadow(c: Cpu, to: number): void {
  let n = Math.min(c.ssN, SHADOW_DEPTH);
  if (n > 0 && c.ssRet[n - 1] === to) { c.ssN = n - 1; return; }
  while (n > 0) {
    n--;
    if (c.ssRet[n] === to) { c.ssN = n; return; }
  }
  if (c.ssN > SHADOW_DEPTH) c.ssN--;
}

export const controlHandlers: Record<string, Handler> = {
  jmp, jrcxz, jecxz: jrcxz, loop, loope: loop, loopne: loop, call, ret,
  /** Not a mnemonic: the shadow-stack unwind for the specialised RET (see fast.ts). */
  __popShadow: (c) => popShadow(c, c.rip),
};
for (const cc of ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g']) {
  controlHandlers['j' + cc] = jcc;
}

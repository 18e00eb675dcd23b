// Control transfer: JMP Jcc JRCXZ/JECXZ LOOP/LOOPE/LOOPNE CALL RET (near, direct and
// indirect). CALL and RET also keep the shadow call stack the debugger shows as frames.
// Their records (at the end) carry the templates of the direct forms and RET.

import { Cpu, SHADOW_DEPTH } from '../cpu/cpu';
import { testCond, getZF, COND_NAMES } from '../cpu/flags';
import { Insn, K } from '../decode/insn';
import { rd0, push64, jumpTo, addRsp, addrOfStack, popShadow } from './operands';
import { rec, type Form, type InsnRecord } from './table';

const TWO32 = 4294967296;

function jmp(c: Cpu, i: Insn): void {
  if (i.k0 === K.IMM) { c.rip = i.target; return; }
  const lo = rd0(c, i);
  jumpTo(c, lo, i.s0 === 8 ? c.readHigh : 0);
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
    const lo = rd0(c, i), hi = c.readHigh;
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

/** PUSH of the 64-bit value (lo, hi) as template code: the write happens before RSP moves. */
export function pushSource(lo: string, hi: string): string {
  return `let sLo = (R[8] >>> 0) - 8, sHi = R[9]; if (sLo < 0) { sLo += ${TWO32}; sHi = (sHi - 1) | 0; }
    const a = (sHi >> 15) === 0 || (sHi >> 15) === -1 ? sHi * ${TWO32} + sLo : addrOfStack(sLo, sHi);
    M.write64(a, ${lo}, ${hi}); R[8] = sLo | 0; R[9] = sHi;`;
}

/** The 64-bit value at RSP as template code, into `lo`/`hi` (RSP does not move). */
export const TOP_OF_STACK = `const h = R[9], a = (h >> 15) === 0 || (h >> 15) === -1 ? h * ${TWO32} + (R[8] >>> 0) : addrOfStack(R[8], h);
    const lo = M.read64(a), hi = M.hi;`;

/** RSP += 8 as template code. */
export const RSP_PLUS_8 = `{ let sLo = (R[8] >>> 0) + 8, sHi = R[9]; if (sLo >= ${TWO32}) { sLo -= ${TWO32}; sHi = (sHi + 1) | 0; } R[8] = sLo | 0; R[9] = sHi; }`;

const direct = (i: Insn) => i.k0 === K.IMM && !i.lock && !i.rep;

export const jccForm: Form = { match: direct, faults: false, src: (o) => `if (cond(c, ${o.cc})) c.rip = ${o.target};` };
const jmpForm: Form = { match: direct, faults: false, flags: 'none', src: (o) => `c.rip = ${o.target};` };
const callForm: Form = {
  match: direct, faults: true, flags: 'none',
  src: (o) => `${pushSource(`(${o.next} % ${TWO32}) | 0`, `Math.floor(${o.next} / ${TWO32}) | 0`)}
    c.rip = ${o.target}; const n = c.ssN;
    if (n < SHADOW_DEPTH) { c.ssRet[n] = ${o.next}; c.ssTarget[n] = ${o.target}; c.ssSp[n] = sHi * ${TWO32} + sLo; }
    c.ssN = n + 1;`,
};
/** RET: the target is checked before RSP moves, so a non-canonical return address faults precisely. */
const retForm: Form = {
  match: (i) => i.nops === 0 && !i.rep, faults: true, flags: 'none',
  src: () => `${TOP_OF_STACK}
    if ((hi >> 15) !== 0 && (hi >> 15) !== -1) jumpTo(c, lo, hi);
    ${RSP_PLUS_8}
    const to = hi * ${TWO32} + (lo >>> 0); c.rip = to;
    const n = c.ssN; if (n > 0 && n <= SHADOW_DEPTH && c.ssRet[n - 1] === to) c.ssN = n - 1; else popShadow(c, to);`,
};

const END = { endsBlock: true } as const;

export const records: InsnRecord[] = [
  rec('jmp', jmp, { ...END, trace: 'jump', noFallThrough: true, forms: [jmpForm] }),
  rec('jcc', jcc, { ...END, mnemonics: COND_NAMES.map((cc) => 'j' + cc), forms: [jccForm] }),
  rec('jrcxz', jrcxz, { ...END, mnemonics: ['jrcxz', 'jecxz'] }),
  rec('loop', loop, { ...END, mnemonics: ['loop', 'loope', 'loopne'] }),
  rec('call', call, { ...END, trace: 'call', forms: [callForm] }),
  rec('ret', ret, { ...END, trace: 'return', noFallThrough: true, forms: [retForm] }),
];

// The dispatch table: mnemonic → handler, merged from one module per instruction family.
// The table is also the list of what we emulate; anything else stops with "not emulated".

import { CpuFault, Vector } from '../cpu/fault';
import { MachineStop } from '../cpu/system';
import { Insn, K } from '../decode/insn';
import type { Handler } from '../decode/insn';
import { aluHandlers } from './alu';
import { atomicHandlers } from './atomic';
import { bitHandlers } from './bit';
import { controlHandlers } from './control';
import { moveHandlers } from './move';
import { muldivHandlers } from './muldiv';
import { shiftHandlers } from './shift';
import { stackHandlers } from './stack';
import { stringHandlers } from './string';
import { systemHandlers } from './system';
import { fastHandler } from './fast';
import { sseHandlers, sseNoXmmHandlers } from './sse';
import { sseFpHandlers, sseGprHandlers } from './ssefp';
import { extHandlers } from './ext';

export const HANDLERS: Readonly<Record<string, Handler>> = Object.freeze({
  ...aluHandlers, ...atomicHandlers, ...bitHandlers, ...controlHandlers, ...moveHandlers,
  ...muldivHandlers, ...shiftHandlers, ...stackHandlers, ...stringHandlers, ...systemHandlers,
  ...sseGprHandlers, ...sseNoXmmHandlers, ...extHandlers,
});

/**
 * Forms with an XMM operand, by mnemonic (MOVSD and CMPSD name both a string instruction and an
 * SSE2 one: the operands choose the table).
 */
export const SSE_HANDLERS: Readonly<Record<string, Handler>> = Object.freeze({ ...sseHandlers, ...sseFpHandlers });

/** Whether a mnemonic is executed in some form. */
export function isEmulated(mnemonic: string): boolean {
  return mnemonic in HANDLERS || mnemonic in SSE_HANDLERS;
}

/** Instructions that accept a LOCK prefix (with a memory destination). */
const LOCKABLE = new Set(['add', 'adc', 'and', 'btc', 'btr', 'bts', 'cmpxchg', 'cmpxchg8b', 'cmpxchg16b',
  'dec', 'inc', 'neg', 'not', 'or', 'sbb', 'sub', 'xadd', 'xchg', 'xor']);

function hexAddr(a: number): string {
  return '0x' + BigInt.asUintN(64, BigInt(a)).toString(16);
}

const notEmulated: Handler = (_c, i) => {
  throw new MachineStop('not-emulated', `not emulated: ${i.text()} at ${hexAddr(i.addr)}`, true);
};

const invalidOpcode: Handler = (_c, i) => {
  throw new CpuFault(Vector.UD, undefined, `invalid opcode (bytes ${[...i.bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ')}) at ${hexAddr(i.addr)}`);
};

const badLock: Handler = (_c, i) => {
  throw new CpuFault(Vector.UD, undefined, `lock prefix not allowed on '${i.text()}'`);
};

/**
 * Chooses the handler for a decoded instruction: the specialised form when one exists, unless
 * `generic` (the differential suite runs the generic handlers that way too).
 */
export function resolveHandler(i: Insn, generic = false): Handler {
  if (i.mnemonic === '(bad)') return invalidOpcode;
  const xmm = i.k0 === K.XMM || i.k1 === K.XMM || i.k2 === K.XMM;
  // SSE forms without an XMM operand (CVTSS2SI r32, m32 …) are found in the SSE table too.
  const h = xmm ? SSE_HANDLERS[i.mnemonic] : HANDLERS[i.mnemonic] ?? SSE_HANDLERS[i.mnemonic];
  if (!h) return notEmulated;
  // Operands we do not model (MMX/YMM, segment or debug registers) mean another instruction form.
  if (i.k0 === K.SEG || i.k1 === K.SEG || i.k2 === K.SEG || i.k0 === K.OTHER || i.k1 === K.OTHER || i.k2 === K.OTHER) return notEmulated;
  if (xmm) {
    if (i.lock) return badLock;
    return h;
  }
  if (i.lock && !(LOCKABLE.has(i.mnemonic) && i.k0 === K.MEM)) return badLock;
  return (generic ? undefined : fastHandler(i)) ?? h;
}

/** Lowercase mnemonics the emulator executes. */
export function emulatedMnemonics(): string[] {
  return [...new Set([...Object.keys(HANDLERS), ...Object.keys(SSE_HANDLERS)])].filter((m) => !m.startsWith('__')).sort();
}

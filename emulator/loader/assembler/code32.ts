// `.code32`: the 32-bit code the kernel's 64-bit files switch to (the PVH entry, the EFI
// mixed-mode thunk). Selection is the 64-bit table's with gas's 32-bit defaults — push/pop,
// near branches and returns are 32-bit, 64-bit registers and REX do not exist — and the
// encoder works in 32-bit mode (32-bit addressing without 0x67).

import { Expr } from './expr';
import { Entry, TABLE } from './isa';
import { Operand } from './operands';
import { Early, SelectError, Selected, select } from './select';

/** Codes whose 32-bit-mode counterpart has another name. */
const RENAME: Record<string, string> = {
  Push_r64: 'Push_r32', Pop_r64: 'Pop_r32', Pushq_imm8: 'Pushd_imm8', Pushq_imm32: 'Pushd_imm32',
  Push_rm64: 'Push_rm32', Pop_rm64: 'Pop_rm32', Jmp_rm64: 'Jmp_rm32', Call_rm64: 'Call_rm32',
  Retnq: 'Retnd', Retnq_imm16: 'Retnd_imm16', Pushfq: 'Pushfd', Popfq: 'Popfd', Leaveq: 'Leaved', Iretq: 'Iretd',
  Enterq_imm16_imm8: 'Enterd_imm16_imm8', Lgdt_m1664: 'Lgdt_m1632', Lidt_m1664: 'Lidt_m1632', Sgdt_m1664: 'Sgdt_m1632',
  Sidt_m1664: 'Sidt_m1632',
};

/** push/pop in 32-bit code: `l` is the default size and the only suffix (besides `w`, not modelled). */
const TABLE32 = new Map<string, Entry>(Object.entries({
  push: {
    suffixes: 'l',
    defaultSize: 32,
    forms: [
      { size: 32, ops: ['r32'], code: 'Push_r32' },
      { size: 32, ops: ['i8s'], code: 'Pushd_imm8' },
      { size: 32, ops: ['i32'], code: 'Pushd_imm32' },
      { size: 32, ops: ['rm32'], code: 'Push_rm32' },
    ],
  },
  // gas's accumulator-to-absolute-address moves (a0-a3) come first in 32-bit code.
  mov: {
    suffixes: 'bwl',
    forms: [
      { size: 8, ops: ['moffs', 'al'], code: 'Mov_moffs8_AL' }, { size: 16, ops: ['moffs', 'ax'], code: 'Mov_moffs16_AX' },
      { size: 32, ops: ['moffs', 'eax'], code: 'Mov_moffs32_EAX' }, { size: 8, ops: ['al', 'moffs'], code: 'Mov_AL_moffs8' },
      { size: 16, ops: ['ax', 'moffs'], code: 'Mov_AX_moffs16' }, { size: 32, ops: ['eax', 'moffs'], code: 'Mov_EAX_moffs32' },
      ...TABLE.get('mov')!.forms,
    ],
  },
  // inc/dec of a 16/32-bit register keep their one-byte forms (40+r, 48+r: REX in 64-bit code).
  ...Object.fromEntries(['inc', 'dec'].map((n) => [n, {
    suffixes: 'bwlq',
    forms: [
      { size: 16, ops: ['r16'], code: `${n === 'inc' ? 'Inc' : 'Dec'}_r16` }, { size: 32, ops: ['r32'], code: `${n === 'inc' ? 'Inc' : 'Dec'}_r32` },
      ...TABLE.get(n)!.forms,
    ],
  }])),
  ljmp: { suffixes: 'l', noReverse: true, forms: [{ ops: ['i16', 'i32'], code: 'Jmp_ptr1632' }] },
  lcall: { suffixes: 'l', noReverse: true, forms: [{ ops: ['i16', 'i32'], code: 'Call_ptr1632' }] },
  jmp: { branch: 'jmp', defaultSize: 32, forms: [{ ops: ['rel'], code: 'Jmp_rel8_64', near: 'Jmp_rel32_64' }, { size: 32, ops: ['ind32'], code: 'Jmp_rm32' }] },
  call: { branch: 'call', defaultSize: 32, forms: [{ ops: ['rel'], code: 'Call_rel32_64' }, { size: 32, ops: ['ind32'], code: 'Call_rm32' }] },
  pop: { suffixes: 'l', defaultSize: 32, forms: [{ size: 32, ops: ['r32'], code: 'Pop_r32' }, { size: 32, ops: ['rm32'], code: 'Pop_rm32' }] },
} as Record<string, Entry>));

function is64Only(o: Operand): string | undefined {
  const regs = o.k === 'reg' ? [o.reg] : o.k === 'mem' ? [o.base, o.index] : [];
  for (const r of regs) {
    if (!r) continue;
    if (r.kind === 'rip' || (r.kind === 'gpr' && (r.size === 64 || r.num >= 8 || /^(spl|bpl|sil|dil)$/.test(r.name)))) return r.name;
    if ((r.kind === 'xmm' || r.kind === 'ymm' || r.kind === 'zmm') && r.num >= 8) return r.name;
  }
  return undefined;
}

/** Selects an instruction of 32-bit code. */
export function select32(mnemonic: string, ops: Operand[], early: (e: Expr) => Early): Selected {
  for (const o of ops) {
    const r = is64Only(o);
    if (r) throw new SelectError(`'%${r}' does not exist in 32-bit code (.code32)`, o.col);
  }
  if (/^(push|pop|iret|lret|ret|call|jmp|sysret)q$/.test(mnemonic)) throw new SelectError(`'${mnemonic}' does not exist in 32-bit code (.code32)`);
  const sel = select(mnemonic, ops, early, TABLE32);
  const rename = (c: string) => RENAME[c] ?? c.replace(/_rel(8|32)_64$/, '_rel$1_32').replace(/_rel8_64_RCX$/, '_rel8_32_ECX');
  return { mnemonic: sel.mnemonic, code: rename(sel.code), near: sel.near && rename(sel.near), ops: sel.ops, entry: sel.entry, evex: sel.evex, warning: sel.warning, bits: 32, alts: sel.alts };
}

// Atomic and miscellaneous forms: xadd, cmpxchg and cmpxchg16b (with and without lock, the
// comparison made to succeed half the time, and a misaligned cmpxchg16b that must #GP), the
// flag instructions clc/stc/cmc/cld/std, and the no-ops: nop forms, endbr64, pause, fences.

import type { CaseBuilder, Form } from '../builder';
import { WIDTHS, form } from './common';

function atomicForms(): Form[] {
  const out: Form[] = [];
  for (const w of WIDTHS) {
    out.push(form(`xadd r${w}, r${w}`, (b) => {
      const s = b.reg(w, w === 8 ? { kind8: 'rex' } : {});
      b.emit(`xadd ${s.name}, ${b.reg(w).name}`);
    }, 'xadd'));
    out.push(form(`lock xadd m${w}, r${w}`, (b) => {
      const m = b.mem(w / 8);
      b.emit(`lock xadd ${b.reg(w).name}, ${m.text}`);
    }, 'xadd'));
    out.push(form(`cmpxchg r${w}, r${w}`, (b) => {
      const acc = b.reg(w, { idx: 0 });
      const s = b.reg(w, w === 8 ? { kind8: 'rex' } : {});
      const d = b.reg(w);
      if (b.rng.chance(0.5)) b.setOperand(acc, b.regs[d.idx]);
      b.emit(`cmpxchg ${s.name}, ${d.name}`);
    }, 'cmpxchg'));
    out.push(form(`lock cmpxchg m${w}, r${w}`, (b) => {
      const acc = b.reg(w, { idx: 0 });
      const v = b.val(w);
      const m = b.mem(w / 8, { value: v });
      if (b.rng.chance(0.5)) b.setOperand(acc, v);
      b.emit(`lock cmpxchg ${b.reg(w).name}, ${m.text}`);
    }, 'cmpxchg'));
  }
  out.push(form('xadd m64, r64 (no lock)', (b) => {
    const m = b.mem(8);
    b.emit(`xadd ${b.reg(64).name}, ${m.text}`);
  }, 'xadd'));
  out.push(form('cmpxchg m32, r32 (no lock)', (b) => {
    const acc = b.reg(32, { idx: 0 });
    const v = b.val(32);
    const m = b.mem(4, { value: v });
    if (b.rng.chance(0.5)) b.setOperand(acc, v);
    b.emit(`cmpxchg ${b.reg(32).name}, ${m.text}`);
  }, 'cmpxchg'));
  for (const [name, prefix, aligned] of [['lock cmpxchg16b m128', 'lock ', true], ['cmpxchg16b m128 (no lock)', '', true], ['lock cmpxchg16b m128 (misaligned: #GP)', 'lock ', false]] as const) {
    out.push(form(name, (b) => {
      const rax = b.reg(64, { idx: 0 });
      const rdx = b.reg(64, { idx: 2 });
      b.reg(64, { idx: 1 });
      b.reg(64, { idx: 3 });
      const lo = b.val(64);
      const hi = b.val(64);
      const off = aligned ? b.pickOff(16, { align: 16 }) : b.pickOff(16, { align: 8 }) | 8;
      const m = b.mem(16, { off, value: lo | (hi << 64n) });
      if (b.rng.chance(0.5)) {
        b.setOperand(rax, lo);
        b.setOperand(rdx, b.rng.chance(0.8) ? hi : hi ^ 1n);
      }
      b.emit(`${prefix}cmpxchg16b ${m.text}`);
      if (!aligned) b.mayFault = true;
    }, 'cmpxchg16b'));
  }
  return out;
}

function simple(name: string, text: string, mnemonic = name.split(' ')[0]): Form {
  return form(name, (b: CaseBuilder) => b.emit(text), mnemonic);
}

export function miscForms(): Form[] {
  return [
    ...atomicForms(),
    ...['clc', 'stc', 'cmc', 'cld', 'std'].map((op) => simple(op, op)),
    simple('nop', 'nop'),
    simple('nop (66 90)', 'xchg %ax, %ax', 'nop'),
    simple('nop r/m32 (0f 1f /0)', 'nopl (%rax)', 'nop'),
    simple('nop r/m32 disp8', 'nopl 0x0(%rax)', 'nop'),
    simple('nop r/m16 with SIB', 'nopw 0x0(%rax,%rax,1)', 'nop'),
    simple('nop r/m16 with cs and disp32', 'nopw %cs:0x0(%rax,%rax,1)', 'nop'),
    simple('nop r64 (rex.w 0f 1f)', 'nopq %rax', 'nop'),
    simple('nop 11-byte (.nops)', '.nops 11', 'nop'),
    simple('endbr64', 'endbr64'),
    simple('pause', 'pause'),
    simple('lfence', 'lfence'),
    simple('mfence', 'mfence'),
    simple('sfence', 'sfence'),
  ];
}

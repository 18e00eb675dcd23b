// A flag-setting instruction followed by Jcc, for every condition: compiled blocks decide such a
// branch from the compare's operands instead of the flags (exec/jit.ts), so each pairing the
// block compiler fuses runs here with operands that are equal, ordered either way and of
// either sign (the random edge values), at 32 and 64 bits, from registers, immediates and memory.

import type { CaseBuilder, Form } from '../builder';
import { LOGIC_UNDEF } from '../flagMasks';
import { $, CONDS, form, immLong } from './common';

export function fusedForms(): Form[] {
  const out: Form[] = [];
  const pair = (name: string, cc: string, build: (b: CaseBuilder) => void) => out.push(form(`${name}; j${cc}`, (b) => {
    build(b);
    b.emit(`j${cc} ${b.END1}`);
  }, 'jcc'));
  for (const cc of CONDS) {
    for (const w of [32, 64] as const) {
      const sfx = w === 64 ? 'q' : 'l';
      pair(`cmp r${w}, r${w}`, cc, (b) => {
        const s = b.reg(w), d = b.reg(w);
        if (b.rng.chance(0.3)) b.setOperand(d, b.regs[s.idx]);
        b.emit(`cmp ${s.name}, ${d.name}`);
      });
      pair(`sub imm, r${w}`, cc, (b) => {
        const d = b.reg(w);
        b.emit(`sub${sfx} ${$(immLong(b, 32))}, ${d.name}`);
      });
      pair(`cmp r${w}, m${w}`, cc, (b) => {
        const m = b.mem(w / 8);
        b.emit(`cmp ${b.reg(w).name}, ${m.text}`);
      });
      pair(`test r${w}, r${w}`, cc, (b) => {
        const s = b.reg(w);
        const same = b.rng.chance(0.5);
        b.emit(`test ${s.name}, ${same ? s.name : b.reg(w).name}`);
        b.undef(LOGIC_UNDEF);
      });
    }
  }
  return out;
}

// Stack forms: push/pop of registers, memory and immediates in 64- and 16-bit sizes (incl.
// push %rsp, pop %rsp and rsp-relative memory operands), pushf/popf, leave and enter with
// nesting levels 0..3. The stack lives in the data buffer, so pushed bytes are compared.

import type { CaseBuilder, Form } from '../builder';
import { BUF_ADDR, DF, RBP, RFLAGS_FIXED } from '../layout';
import { $, form, imm, immLong } from './common';

function f(name: string, build: (b: CaseBuilder) => void, mn = name.split(' ')[0]): Form {
  return form(name, build, mn);
}

/** A popf image user mode can load: status flags and DF only (no TF/AC), IF as it is. */
function flagsImage(b: CaseBuilder): bigint {
  return RFLAGS_FIXED | b.randomStatus() | (b.rng.chance(0.3) ? BigInt(DF) : 0n);
}

export function stackForms(): Form[] {
  return [
    f('push r64', (b) => { b.stack(); b.emit(`push ${b.reg(64).name}`); }),
    f('push r16', (b) => { b.stack(); b.emit(`push ${b.reg(16).name}`); }),
    f('push m64', (b) => { b.stack(); b.emit(`pushq ${b.mem(8).text}`); }),
    f('push m16', (b) => { b.stack(); b.emit(`pushw ${b.mem(2).text}`); }),
    f('push imm8', (b) => { b.stack(); b.emit(`pushq ${$(imm(b, 8))}`); }),
    f('push imm32', (b) => { b.stack(); b.emit(`pushq ${$(immLong(b, 32))}`); }),
    f('push imm16 (pushw)', (b) => { b.stack(); b.emit(`pushw ${$(imm(b, 16))}`); }),
    f('push rsp', (b) => { b.stack(); b.emit('push %rsp'); }),
    f('push m64 (rsp-relative)', (b) => { b.stack(); b.emit(`pushq ${b.rng.range(-16, 16) * 8}(%rsp)`); }),
    f('pop r64', (b) => { const sp = b.stack(); b.poke(sp, b.val(64), 8); b.emit(`pop ${b.reg(64).name}`); }),
    f('pop r16', (b) => { const sp = b.stack(); b.poke(sp, b.val(16), 2); b.emit(`pop ${b.reg(16).name}`); }),
    f('pop m64', (b) => { const sp = b.stack(); b.poke(sp, b.val(64), 8); b.emit(`popq ${b.mem(8).text}`); }),
    f('pop m16', (b) => { const sp = b.stack(); b.poke(sp, b.val(16), 2); b.emit(`popw ${b.mem(2).text}`); }),
    f('pop rsp', (b) => {
      const sp = b.stack();
      b.poke(sp, BUF_ADDR + BigInt(0x3000 + b.rng.int(0x800)), 8);
      b.emit('pop %rsp');
    }),
    f('pop m64 (rsp-relative: address after the increment)', (b) => {
      const sp = b.stack({ aligned: true });
      b.poke(sp, b.val(64), 8);
      b.emit(`popq ${b.rng.range(-4, 8) * 8}(%rsp)`);
    }),
    f('pushf (pushfq)', (b) => { b.stack(); b.emit('pushfq'); }, 'pushf'),
    f('pushf (pushfw)', (b) => { b.stack(); b.emit('pushfw'); }, 'pushf'),
    f('popf (popfq)', (b) => { const sp = b.stack(); b.poke(sp, flagsImage(b), 8); b.emit('popfq'); }, 'popf'),
    f('popf (popfw)', (b) => { const sp = b.stack(); b.poke(sp, flagsImage(b), 2); b.emit('popfw'); }, 'popf'),
    f('pushf/popf round trip', (b) => { b.stack(); b.emit('pushfq', 'xorq $0xcd5, (%rsp)', 'popfq'); }, 'popf'),
    f('leave', (b) => {
      b.stack();
      const off = 0x3000 + b.rng.int(0x700);
      b.reg(64, { idx: RBP, value: BUF_ADDR + BigInt(off) });
      b.poke(off, b.val(64), 8);
      b.emit('leave');
    }),
    f('leave (16-bit, leavew)', (b) => {
      b.stack();
      const off = 0x3000 + b.rng.int(0x700);
      // The stack address size stays 64: RSP takes all of RBP, only the pop is 16-bit.
      b.reg(64, { idx: RBP, value: BUF_ADDR + BigInt(off) });
      b.poke(off, b.val(16), 2);
      b.emit('leavew');
    }, 'leave'),
    ...[0, 1, 2, 3].map((level) => f(`enter imm16, ${level}`, (b) => {
      b.stack();
      // Nesting copies level-1 frame pointers from below RBP, so RBP must point into the buffer.
      b.reg(64, { idx: RBP, value: level > 1 ? BUF_ADDR + BigInt(0x1800 + b.rng.int(0x1000)) : b.val(64) });
      // Keep the final RSP inside the buffer: ENTER faults if a write at it would (SDM, ENTER).
      const size = b.rng.chance(0.5) ? b.rng.pick([0, 8, 16, 1, 0x1fff]) : b.rng.int(0x2000);
      b.emit(`enter ${$(size)}, ${$(level)}`);
    }, 'enter')),
    f('enter imm16, 0 (frame below the mapped stack: #PF)', (b) => {
      b.stack();
      b.mayFault = true;
      b.emit(`enter ${$(0xf000 + b.rng.int(0x1000))}, $0`);
    }, 'enter'),
    f('enter imm16, 33 (level masked to 1)', (b) => {
      b.stack();
      b.emit(`enter ${$(b.rng.int(0x200))}, $33`);
    }, 'enter'),
    f('push/pop pair (rsp restored)', (b) => {
      b.stack();
      const s = b.reg(64);
      b.emit(`push ${s.name}`, `pop ${b.reg(64).name}`);
    }, 'push'),
  ];
}

// Flag chains: short sequences where one instruction consumes flags another produced (or left
// alone), which is where lazily computed flags go wrong: add/adc, sub/sbb, inc keeping CF,
// cmp/setcc, flags surviving a zero-count shift, bt/adc, imul/jo, pushf after arithmetic.

import type { CaseBuilder, Form } from '../builder';
import { MUL_UNDEF, shiftUndef } from '../flagMasks';
import { CONDS, form } from './common';

function f(name: string, build: (b: CaseBuilder) => void, mnemonic: string): Form {
  return form(`chain: ${name}`, build, mnemonic);
}

export function chainForms(): Form[] {
  return [
    f('add r64, r64; adc r64, r64 (128-bit add)', (b) => {
      const [a, c, d, e] = [b.reg(64), b.reg(64), b.reg(64), b.reg(64)];
      b.emit(`add ${a.name}, ${c.name}`, `adc ${d.name}, ${e.name}`);
    }, 'adc'),
    f('sub r32, r32; sbb r32, r32', (b) => {
      const [a, c, d, e] = [b.reg(32), b.reg(32), b.reg(32), b.reg(32)];
      b.emit(`sub ${a.name}, ${c.name}`, `sbb ${d.name}, ${e.name}`);
    }, 'sbb'),
    f('sub r8, r8; sbb r8, r8; adc r8, r8', (b) => {
      const [a, c, d] = [b.reg(8), b.reg(8), b.reg(8)];
      b.emit(`sub ${a.name}, ${c.name}`, `sbb ${d.name}, ${a.name}`, `adc ${c.name}, ${d.name}`);
    }, 'sbb'),
    f('cmp r64, r64; setcc (every condition)', (b) => {
      const [a, c] = [b.reg(64), b.reg(64)];
      if (b.rng.chance(0.3)) b.setOperand(c, b.regs[a.idx]);
      b.emit(`cmp ${a.name}, ${c.name}`, `set${b.rng.pick(CONDS)} ${b.reg(8).name}`);
    }, 'setcc'),
    f('cmp r16, imm; jcc (every condition)', (b) => {
      const a = b.reg(16);
      b.emit(`cmpw $${b.rng.signed(16)}, ${a.name}`, `j${b.rng.pick(CONDS)} ${b.END1}`);
    }, 'jcc'),
    f('inc r64; adc r64, r64 (inc keeps CF)', (b) => {
      const [a, c, d] = [b.reg(64), b.reg(64), b.reg(64)];
      b.emit(`inc ${a.name}`, `adc ${c.name}, ${d.name}`);
    }, 'inc'),
    f('add r32, r32; dec r32; jc/jo', (b) => {
      const [a, c] = [b.reg(32), b.reg(32)];
      b.emit(`add ${a.name}, ${c.name}`, `dec ${a.name}`, `j${b.rng.pick(['c', 'o', 'nc', 'no', 's', 'z', 'be', 'l'])} ${b.END1}`);
    }, 'dec'),
    f('sub r64, r64; shl cl, r64 (flags survive a zero count)', (b) => {
      const count = b.rng.pick([0, 0, 64, 128, 1, 5]);
      const rcx = b.reg(64, { idx: 1 });
      b.setOperand({ ...rcx, width: 8 }, BigInt(count));
      const [a, c, d] = [b.reg(64), b.reg(64), b.reg(64)];
      b.emit(`sub ${a.name}, ${c.name}`, `shl %cl, ${d.name}`);
      b.undef(shiftUndef('shl', 64, count));
    }, 'shl'),
    f('add r64, r64; rol $0 / rcl $0, r32 (flags survive)', (b) => {
      const [a, c, d] = [b.reg(64), b.reg(64), b.reg(32)];
      b.emit(`add ${a.name}, ${c.name}`, `${b.rng.pick(['rol', 'rcl', 'ror', 'rcr'])}l $0, ${d.name}`);
    }, 'rol'),
    f('bt r64, r64; adc r64, r64', (b) => {
      const [a, c, d, e] = [b.reg(64), b.reg(64), b.reg(64), b.reg(64)];
      b.emit(`bt ${a.name}, ${c.name}`, `adc ${d.name}, ${e.name}`);
    }, 'bt'),
    f('imul r64, r64; jo', (b) => {
      const [a, c] = [b.reg(64), b.reg(64)];
      b.emit(`imul ${a.name}, ${c.name}`, `jo ${b.END1}`);
      b.undef(MUL_UNDEF);
    }, 'imul'),
    f('neg r64; sbb r64, r64 (same register)', (b) => {
      const [a, c] = [b.reg(64), b.reg(64)];
      b.emit(`neg ${a.name}`, `sbb ${c.name}, ${c.name}`);
    }, 'neg'),
    f('xor r32, r32 (zero idiom); adc r32, r32', (b) => {
      const [a, c] = [b.reg(32), b.reg(32)];
      b.emit(`xor ${a.name}, ${a.name}`, `adc ${c.name}, ${a.name}`);
    }, 'xor'),
    f('add r64, r64; cmc; adc r64, r64', (b) => {
      const [a, c, d] = [b.reg(64), b.reg(64), b.reg(64)];
      b.emit(`add ${a.name}, ${c.name}`, 'cmc', `adc ${a.name}, ${d.name}`);
    }, 'cmc'),
    f('sub r16, r16; pushfq (flag image in memory)', (b) => {
      b.stack();
      const [a, c] = [b.reg(16), b.reg(16)];
      b.emit(`sub ${a.name}, ${c.name}`, 'pushfq');
    }, 'pushf'),
    f('lock cmpxchg m64, r64; jz', (b) => {
      const acc = b.reg(64, { idx: 0 });
      const v = b.val(64);
      const m = b.mem(8, { value: v });
      if (b.rng.chance(0.5)) b.setOperand(acc, v);
      b.emit(`lock cmpxchg ${b.reg(64).name}, ${m.text}`, `jz ${b.END1}`);
    }, 'cmpxchg'),
    f('rcl r64, 1; rcl r64, 1 (carry through)', (b) => {
      const [a, c] = [b.reg(64), b.reg(64)];
      b.emit(`rcl ${a.name}`, `rcl ${c.name}`);
    }, 'rcl'),
    f('add r64, r64; dec r64; jnz back (countdown loop)', (b) => {
      const r = b.reg(64, { value: BigInt(b.rng.range(1, 20)) });
      const loop = b.local('loop');
      const acc = b.reg(64);
      b.emit(`${loop}:`, `add ${r.name}, ${acc.name}`, `dec ${r.name}`, `jnz ${loop}`);
    }, 'dec'),
  ];
}

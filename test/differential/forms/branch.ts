// Control-transfer forms: jcc (all 16 conditions; rel8 forward and backward, rel32), jmp
// (rel8, rel32, register and memory indirect), jrcxz/jecxz, loop/loope/loopne, call (direct,
// register and memory indirect) with ret and ret imm16. Paths end at distinct exit labels.

import type { CaseBuilder, Form } from '../builder';
import { $, CONDS, form } from './common';

function f(name: string, build: (b: CaseBuilder) => void, mn = name.split(' ')[0]): Form {
  return form(name, build, mn);
}

/** RCX values around the loop and jrcxz edges (zero in ECX but not in RCX, and so on). */
function rcxValue(b: CaseBuilder): bigint {
  return b.rng.chance(0.7) ? b.rng.pick([0n, 1n, 2n, 0x100000000n, 0x100000001n, 0xffffffffn, 0xffffffffffffffffn]) : b.val(64);
}

function jccForms(): Form[] {
  const out: Form[] = [];
  for (const cc of CONDS) {
    out.push(f(`j${cc} rel8`, (b) => b.emit(`j${cc} ${b.END1}`), 'jcc'));
    out.push(f(`j${cc} rel32`, (b) => b.emit(`{disp32} j${cc} ${b.END1}`), 'jcc'));
    out.push(f(`j${cc} rel8 backward`, (b) => {
      b.end1First = true;
      b.emit(`j${cc} ${b.END1}`);
    }, 'jcc'));
  }
  return out;
}

export function branchForms(): Form[] {
  return [
    ...jccForms(),
    f('jmp rel8', (b) => b.emit(`jmp ${b.END1}`)),
    f('jmp rel32', (b) => b.emit(`{disp32} jmp ${b.END1}`)),
    f('jmp r64 (indirect)', (b) => {
      const r = b.reg(64);
      b.emit(`lea ${b.END1}(%rip), ${r.name}`, `jmp *${r.name}`);
    }),
    f('jmp m64 (indirect)', (b) => {
      const m = b.mem(8);
      const r = b.reg(64);
      b.emit(`lea ${b.END1}(%rip), ${r.name}`, `mov ${r.name}, ${m.text}`, `jmp *${m.text}`);
    }),
    f('jrcxz rel8', (b) => {
      b.reg(64, { idx: 1, value: rcxValue(b) });
      b.emit(`jrcxz ${b.END1}`);
    }),
    f('jecxz rel8', (b) => {
      b.reg(64, { idx: 1, value: rcxValue(b) });
      b.emit(`jecxz ${b.END1}`);
    }, 'jrcxz'),
    ...['loop', 'loope', 'loopne'].map((op) => f(`${op} rel8`, (b) => {
      b.reg(64, { idx: 1, value: rcxValue(b) });
      b.emit(`${op} ${b.END1}`);
    }, 'loop')),
    f('call rel32, ret', (b) => {
      b.stack();
      b.emit(`call ${b.local('f')}`);
      b.tail(`${b.local('f')}:`, 'ret');
    }),
    f('call rel32 (return address popped)', (b) => {
      b.stack();
      const r = b.reg(64);
      b.emit(`call ${b.local('f')}`);
      b.tail(`${b.local('f')}:`, `pop ${r.name}`, `jmp ${b.END1}`);
    }, 'call'),
    f('call r64 (indirect), ret', (b) => {
      b.stack();
      const r = b.reg(64);
      b.emit(`lea ${b.local('f')}(%rip), ${r.name}`, `call *${r.name}`);
      b.tail(`${b.local('f')}:`, 'ret');
    }, 'call'),
    f('call m64 (indirect), ret', (b) => {
      b.stack();
      const m = b.mem(8);
      const r = b.reg(64);
      b.emit(`lea ${b.local('f')}(%rip), ${r.name}`, `mov ${r.name}, ${m.text}`, `call *${m.text}`);
      b.tail(`${b.local('f')}:`, 'ret');
    }, 'call'),
    f('ret imm16', (b) => {
      b.stack();
      const n = b.rng.pick([0, 8, 16, 0x100, 2, 0x7f8]);
      b.emit(`call ${b.local('f')}`);
      b.tail(`${b.local('f')}:`, `ret ${$(n)}`);
    }, 'ret'),
    f('ret (to a pushed address)', (b) => {
      b.stack();
      const r = b.reg(64);
      b.emit(`lea ${b.END1}(%rip), ${r.name}`, `push ${r.name}`, 'ret');
    }, 'ret'),
  ];
}

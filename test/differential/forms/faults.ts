// Faulting forms: accesses that run off the data buffer into unmapped memory. The host CPU
// raises #PF before anything is written (a page-crossing store writes neither part), reads a
// CMOVcc memory source even when the condition is false, and leaves REP string registers at
// the iteration that faulted. The emulator must match the vector, RIP, registers and memory.

import type { CaseBuilder, Form } from '../builder';
import { BUF_ADDR, BUF_SIZE } from '../layout';
import { hex } from '../rng';
import { CONDS, form } from './common';

function f(name: string, build: (b: CaseBuilder) => void, mnemonic: string): Form {
  return form(`fault: ${name}`, (b) => {
    b.mayFault = true;
    build(b);
  }, mnemonic);
}

/** An offset so an access of `bytes` starts in the buffer and ends past it. */
function straddleEnd(b: CaseBuilder, bytes: number): number {
  return BUF_SIZE - b.rng.range(1, bytes - 1);
}

export function faultForms(): Form[] {
  return [
    f('mov m64, r64 crossing into an unmapped page (#PF, nothing written)', (b) => {
      b.emit(`mov ${b.reg(64).name}, DATABUF+${hex(straddleEnd(b, 8))}(%rip)`);
    }, 'mov'),
    f('mov m32, r32 crossing below the buffer (#PF, nothing written)', (b) => {
      const r = b.reg(64, { noRsp: true, value: BUF_ADDR - BigInt(b.rng.range(1, 3)) });
      b.emit(`mov ${b.reg(32).name}, (${r.name})`);
    }, 'mov'),
    f('add m32, r32 read-modify-write crossing into an unmapped page', (b) => {
      b.emit(`add ${b.reg(32).name}, DATABUF+${hex(straddleEnd(b, 4))}(%rip)`);
    }, 'add'),
    f('lock xadd m64 crossing into an unmapped page', (b) => {
      b.emit(`lock xadd ${b.reg(64).name}, DATABUF+${hex(straddleEnd(b, 8))}(%rip)`);
    }, 'xadd'),
    f('cmovcc r32, m32 from an unmapped page (read even when false)', (b) => {
      b.emit(`cmov${b.rng.pick(CONDS)} DATABUF+${hex(BUF_SIZE + b.rng.int(0x800))}(%rip), ${b.reg(32).name}`);
    }, 'cmovcc'),
    f('push r64 with RSP at the bottom of the buffer', (b) => {
      b.stack();
      b.setReg(4, BUF_ADDR + BigInt(b.rng.range(0, 7)));
      b.emit(`push ${b.reg(64).name}`);
    }, 'push'),
    f('rep stosb running off the end of the buffer', (b) => {
      b.setDF(false);
      b.reg(64, { idx: 0 });
      b.reg(64, { idx: 1, value: BigInt(b.rng.range(20, 60)) });
      b.reg(64, { idx: 7, value: BUF_ADDR + BigInt(BUF_SIZE - b.rng.range(1, 19)) });
      b.emit('rep stosb');
    }, 'stos'),
    f('rep movsq into an unmapped page', (b) => {
      b.setDF(false);
      b.reg(64, { idx: 1, value: BigInt(b.rng.range(4, 12)) });
      b.reg(64, { idx: 6, value: BUF_ADDR + 0x1000n });
      b.reg(64, { idx: 7, value: BUF_ADDR + BigInt(BUF_SIZE - 8 * b.rng.range(1, 3)) });
      b.emit('rep movsq');
    }, 'movs'),
    f('rep lodsl reading below the buffer (DF set)', (b) => {
      b.setDF(true);
      b.reg(64, { idx: 0 });
      b.reg(64, { idx: 1, value: BigInt(b.rng.range(4, 12)) });
      b.reg(64, { idx: 6, value: BUF_ADDR + BigInt(4 * b.rng.range(0, 3)) });
      b.emit('rep lodsl');
    }, 'lods'),
  ];
}

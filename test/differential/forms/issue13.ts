// Corner cases where the emulator once differed from the CPU: XADD with one register as both
// operands (every size), 16-bit ENTER (ENTERW), read-modify-write instructions on a page they
// cannot write (the #PF error code carries the W bit; CR2 is compared), accesses that start in
// canonical space and run past 0x7fffffffffff (#GP(0), not #PF).

import { regName, type CaseBuilder, type Form } from '../builder';
import { BUF_ADDR, BUF_SIZE, RBP } from '../layout';
import { hex } from '../rng';
import { BT_UNDEF, LOGIC_UNDEF, MUL_UNDEF } from '../flagMasks';
import { $, form, SUFFIX } from './common';

function fault(name: string, build: (b: CaseBuilder) => void, mnemonic: string): Form {
  return form(`fault: ${name}`, (b) => { b.mayFault = true; build(b); }, mnemonic);
}

export function issue13Forms(): Form[] {
  const out: Form[] = [];
  for (const [w, opts] of [[8, { kind8: 'legacy' as const }], [8, { kind8: 'rex' as const }], [16, {}], [32, {}], [64, {}]] as const) {
    out.push(form(`xadd r${w}, same register${w === 8 ? ` (${opts.kind8})` : ''}`, (b) => {
      const r = b.reg(w, opts);
      b.emit(`xadd ${r.name}, ${r.name}`);
    }, 'xadd'));
  }
  // Two-operand forms with one register as both operands in every size (the ALU ops are in alu.ts).
  for (const w of [8, 16, 32, 64] as const) {
    const same = (op: string, undef = 0, sizes = true) => out.push(form(`${op} r${w}, same register`, (b) => {
      const r = b.reg(w);
      b.emit(`${op}${sizes ? SUFFIX[w] : ''} ${r.name}, ${r.name}`);
      if (undef) b.undef(undef);
    }, op));
    same('test', LOGIC_UNDEF);
    same('xchg');
    same('cmpxchg');
    if (w !== 8) {
      same('imul', MUL_UNDEF);
      for (const op of ['bt', 'bts', 'btr', 'btc']) same(op, BT_UNDEF);
      same('cmovs', 0, false);
    }
  }
  // A null selector into DS or ES, read back into a register of every size or memory: the one
  // selector load user mode can make natively. RPL 0 only: the host does not keep a non-zero RPL
  // of a null selector across an interrupt or task switch taken between the two instructions (the
  // return to user mode left 0 in one case of 128,000), so with RPL 1..3 its answer hangs on timing.
  for (const seg of ['ds', 'es']) {
    for (const w of [16, 32, 64, 0] as const) {
      out.push(form(`mov r32 to %${seg} (null selector), mov %${seg} to ${w ? `r${w}` : 'm16'}`, (b) => {
        const s = b.reg(64, { value: b.rng.bits(48) << 16n });
        if (w === 0) { const m = b.mem(2); b.emit(`mov ${regName(s.idx, 32)}, %${seg}`, `mov %${seg}, ${m.text}`); return; }
        const d = b.reg(w as 16 | 32 | 64);
        b.emit(`mov ${regName(s.idx, 32)}, %${seg}`, `mov %${seg}, ${d.name}`);
      }, 'mov'));
    }
  }
  for (const level of [0, 1, 2, 3]) {
    out.push(form(`enterw imm16, ${level}`, (b) => {
      b.stack();
      b.reg(64, { idx: RBP, value: BUF_ADDR + BigInt(0x1800 + b.rng.int(0x1000)) });
      const size = b.rng.chance(0.5) ? b.rng.pick([0, 8, 1, 0x1fff]) : b.rng.int(0x2000);
      b.emit(`enterw ${$(size)}, ${$(level)}`);
    }, 'enter'));
  }
  // Read-modify-write of the read-only code page (present: error code P|W) and of the unmapped
  // page after the buffer (not present: W), whole and straddling.
  const rmw: [string, string, number][] = [
    ['incl', 'inc', 4], ['addq %rax,', 'add', 8], ['btsq $3,', 'bts', 8], ['xchg %ecx,', 'xchg', 4], ['negw', 'neg', 2],
    ['shll $1,', 'shl', 4], ['cmpxchg %edx,', 'cmpxchg', 4], ['lock xaddq %rbx,', 'xadd', 8], ['notb', 'not', 1],
  ];
  for (const [text, mn, bytes] of rmw) {
    out.push(fault(`${text.split(' ')[0]} on the read-only code page (#PF P W)`, (b) => {
      b.emit(`${text} ${b.local('here')}(%rip)`, `${b.local('here')}:`, 'nop');
    }, mn));
    out.push(fault(`${text.split(' ')[0]} past the buffer (#PF W, CR2)`, (b) => {
      const straddle = b.rng.chance(0.5) && bytes > 1;
      const off = straddle ? BUF_SIZE - b.rng.range(1, bytes - 1) : BUF_SIZE + b.rng.int(0x800);
      b.emit(`${text} DATABUF+${hex(off)}(%rip)`);
    }, mn));
  }
  // Canonical start, non-canonical end: #GP(0) before paging looks at the (unmapped) top page.
  for (const [mn, bytes] of [['mov', 8], ['mov', 4], ['add', 8], ['movdqu', 16]] as const) {
    out.push(fault(`${mn} ${bytes} bytes running past 0x7fffffffffff (#GP)`, (b) => {
      const base = b.reg(64, { noRsp: true, value: 0x800000000000n - BigInt(b.rng.range(1, bytes - 1)) });
      b.claim(RBP);
      if (mn === 'movdqu') b.emit(`movdqu (${base.name}), %xmm${b.rng.int(16)}`);
      else b.emit(`${mn}${bytes === 8 ? 'q' : 'l'} (${base.name}), ${bytes === 8 ? '%rbp' : '%ebp'}`);
    }, mn));
  }
  for (const op of ['clflush', 'clflushopt', 'clwb']) {
    out.push(form(`${op} m8`, (b) => { const m = b.mem(1); b.emit(`${op} ${m.text}`); }, op));
    out.push(fault(`${op} m8 past the buffer (#PF)`, (b) => { b.emit(`${op} DATABUF+${hex(BUF_SIZE + b.rng.int(0x800))}(%rip)`); }, op));
  }
  return out;
}

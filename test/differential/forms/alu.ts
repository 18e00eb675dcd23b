// Integer ALU forms: add adc sub sbb and or xor cmp test, and the unary not neg inc dec, in
// every operand size, register/memory/immediate variant (including the accumulator short forms,
// sign-extended imm8 forms, AH..BH and REX byte registers, lock prefixes and aliased operands).

import type { CaseBuilder, Form, Width } from '../builder';
import { LOGIC_UNDEF } from '../flagMasks';
import { BUF_ADDR } from '../layout';
import { $, SUFFIX, WIDTHS, form, imm, immLong } from './common';

const BINARY = ['add', 'adc', 'sub', 'sbb', 'and', 'or', 'xor', 'cmp'] as const;
const LOGIC = new Set(['and', 'or', 'xor', 'test']);

function flagsFor(op: string, b: CaseBuilder): void {
  if (LOGIC.has(op)) b.undef(LOGIC_UNDEF);
}

function binaryForms(op: string): Form[] {
  const out: Form[] = [];
  const f = (name: string, build: (b: CaseBuilder) => void) => out.push(form(`${op} ${name}`, (b) => { build(b); flagsFor(op, b); }, op));
  f('r8, r8 (legacy, AH..BH)', (b) => {
    const s = b.reg(8, { kind8: 'legacy' });
    const d = b.reg(8, { kind8: 'legacy' });
    b.emit(`${op} ${s.name}, ${d.name}`);
  });
  f('r8, r8 (rex)', (b) => {
    const s = b.reg(8, { kind8: 'rex' });
    const d = b.reg(8);
    b.emit(`${op} ${s.name}, ${d.name}`);
  });
  for (const w of [16, 32, 64] as Width[]) {
    f(`r${w}, r${w}`, (b) => {
      const s = b.reg(w);
      const d = b.reg(w);
      b.emit(`${op} ${s.name}, ${d.name}`);
    });
  }
  for (const w of WIDTHS) {
    f(`r${w}, m${w}`, (b) => {
      const m = b.mem(w / 8);
      const d = b.reg(w);
      b.emit(`${op} ${m.text}, ${d.name}`);
    });
    f(`m${w}, r${w}`, (b) => {
      const m = b.mem(w / 8);
      const s = b.reg(w);
      b.emit(`${op} ${s.name}, ${m.text}`);
    });
    f(`m${w}, imm${Math.min(w, 32)}`, (b) => {
      const m = b.mem(w / 8);
      b.emit(`${op}${SUFFIX[w]} ${$(w === 8 ? imm(b, 8) : immLong(b, w === 16 ? 16 : 32))}, ${m.text}`);
    });
  }
  f('r8, imm8', (b) => {
    const d = b.reg(8, { kind8: b.rng.chance(0.3) ? 'legacy' : 'low' });
    b.emit(`${op} ${$(imm(b, 8))}, ${d.name}`);
  });
  for (const w of [16, 32, 64] as Width[]) {
    f(`r${w}, imm${Math.min(w, 32)}`, (b) => {
      const d = b.reg(w);
      b.emit(`${op}${SUFFIX[w]} ${$(immLong(b, w === 16 ? 16 : 32))}, ${d.name}`);
    });
    f(`r${w}, imm8 (sign-extended)`, (b) => {
      const d = b.reg(w);
      b.emit(`${op}${SUFFIX[w]} ${$(imm(b, 8))}, ${d.name}`);
    });
    f(`m${w}, imm8 (sign-extended)`, (b) => {
      const m = b.mem(w / 8);
      b.emit(`${op}${SUFFIX[w]} ${$(imm(b, 8))}, ${m.text}`);
    });
  }
  for (const w of WIDTHS) {
    f(`acc${w}, imm (short form)`, (b) => {
      const d = b.reg(w, { idx: 0 });
      b.emit(`${op} ${$(w === 8 ? imm(b, 8) : immLong(b, w === 16 ? 16 : 32))}, ${d.name}`);
    });
  }
  if (op !== 'cmp') {
    f('m32, r32 (lock)', (b) => {
      const m = b.mem(4);
      const s = b.reg(32);
      b.emit(`lock ${op} ${s.name}, ${m.text}`);
    });
    f('m8, r8 (legacy, AH..BH)', (b) => {
      const m = b.mem(1, { noRex: true });
      const s = b.reg(8, { kind8: 'legacy' });
      b.emit(`${op} ${s.name}, ${m.text}`);
    });
  }
  f('m64, r64 (source is the base)', (b) => {
    const off = b.pickOff(8);
    b.poke(off, b.val(64), 8);
    const r = b.reg(64, { value: BUF_ADDR + BigInt(off), noRsp: true });
    b.emit(`${op} ${r.name}, (${r.name})`);
  });
  for (const w of WIDTHS) {
    f(`r${w}, r${w} (same register)`, (b) => {
      const r = b.reg(w);
      b.emit(`${op} ${r.name}, ${r.name}`);
    });
  }
  return out;
}

function testForms(): Form[] {
  const out: Form[] = [];
  const f = (name: string, build: (b: CaseBuilder) => void) => out.push(form(`test ${name}`, (b) => { build(b); b.undef(LOGIC_UNDEF); }, 'test'));
  f('r8, r8 (legacy)', (b) => {
    const s = b.reg(8, { kind8: 'legacy' });
    const d = b.reg(8, { kind8: 'legacy' });
    b.emit(`test ${s.name}, ${d.name}`);
  });
  for (const w of WIDTHS) {
    if (w !== 8) {
      f(`r${w}, r${w}`, (b) => {
        const s = b.reg(w);
        const d = b.reg(w);
        b.emit(`test ${s.name}, ${d.name}`);
      });
    }
    f(`m${w}, r${w}`, (b) => {
      const m = b.mem(w / 8);
      const s = b.reg(w);
      b.emit(`test ${s.name}, ${m.text}`);
    });
    f(`r${w}, imm`, (b) => {
      const d = b.reg(w, w === 8 ? { kind8: 'rex' } : { idx: b.rng.range(1, 15) });
      b.emit(`test${SUFFIX[w]} ${$(imm(b, w === 8 ? 8 : w === 16 ? 16 : 32))}, ${d.name}`);
    });
    f(`acc${w}, imm (short form)`, (b) => {
      const d = b.reg(w, { idx: 0 });
      b.emit(`test${SUFFIX[w]} ${$(imm(b, w === 8 ? 8 : w === 16 ? 16 : 32))}, ${d.name}`);
    });
    f(`m${w}, imm`, (b) => {
      const m = b.mem(w / 8);
      b.emit(`test${SUFFIX[w]} ${$(imm(b, w === 8 ? 8 : w === 16 ? 16 : 32))}, ${m.text}`);
    });
  }
  return out;
}

function unaryForms(op: string): Form[] {
  const out: Form[] = [];
  const f = (name: string, build: (b: CaseBuilder) => void) => out.push(form(`${op} ${name}`, build, op));
  f('r8 (legacy, AH..BH)', (b) => b.emit(`${op} ${b.reg(8, { kind8: 'legacy' }).name}`));
  f('r8 (rex)', (b) => b.emit(`${op} ${b.reg(8, { kind8: 'rex' }).name}`));
  for (const w of [16, 32, 64] as Width[]) f(`r${w}`, (b) => b.emit(`${op} ${b.reg(w).name}`));
  for (const w of WIDTHS) f(`m${w}`, (b) => b.emit(`${op}${SUFFIX[w]} ${b.mem(w / 8).text}`));
  f('m64 (lock)', (b) => b.emit(`lock ${op}q ${b.mem(8).text}`));
  return out;
}

export function aluForms(): Form[] {
  return [
    ...BINARY.flatMap(binaryForms),
    ...testForms(),
    ...['not', 'neg', 'inc', 'dec'].flatMap(unaryForms),
  ];
}

// Shift and rotate forms: shl shr sar rol ror rcl rcr by 1, by imm8 and by %cl (counts 0, 1,
// around the width, ≥ width and > the count mask), in every size, register and memory; and
// shld/shrd by imm8 and %cl. Undefined flags come from flagMasks.ts per count.

import type { CaseBuilder, Form, Width } from '../builder';
import { ShiftOp, doubleShiftUndef, maskedCount, shiftUndef } from '../flagMasks';
import { $, SUFFIX, WIDTHS, form } from './common';

const OPS: readonly ShiftOp[] = ['shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr'];

function count(b: CaseBuilder, width: number): number {
  if (b.rng.chance(0.7)) return b.rng.pick([0, 1, 2, 7, 8, 9, 15, 16, 17, 18, 31, 32, 33, 63, 64, 65, 127, 128, 255, width - 1, width, width + 1]);
  return b.rng.int(256);
}

/** Claims RCX and loads CL with `c` (the rest of RCX stays random). */
function loadCl(b: CaseBuilder, c: number): void {
  const rcx = b.reg(64, { idx: 1 });
  b.setOperand({ ...rcx, width: 8 }, BigInt(c));
}

function dest(b: CaseBuilder, w: Width): string {
  return w === 8 ? b.reg(8, { kind8: b.rng.chance(0.4) ? 'legacy' : 'low' }).name : b.reg(w).name;
}

function formsFor(op: ShiftOp): Form[] {
  const out: Form[] = [];
  const f = (name: string, build: (b: CaseBuilder) => void) => out.push(form(`${op} ${name}`, build, op));
  for (const w of WIDTHS) {
    f(`r${w}, 1`, (b) => {
      b.emit(`${op}${SUFFIX[w]} ${dest(b, w)}`);
      b.undef(shiftUndef(op, w, 1));
    });
    f(`r${w}, imm8`, (b) => {
      const c = count(b, w);
      b.emit(`${op}${SUFFIX[w]} ${$(c)}, ${dest(b, w)}`);
      b.undef(shiftUndef(op, w, c));
    });
    f(`r${w}, cl`, (b) => {
      const c = count(b, w);
      loadCl(b, c);
      b.emit(`${op}${SUFFIX[w]} %cl, ${dest(b, w)}`);
      b.undef(shiftUndef(op, w, c));
    });
    f(`m${w}, cl`, (b) => {
      const c = count(b, w);
      loadCl(b, c);
      b.emit(`${op}${SUFFIX[w]} %cl, ${b.mem(w / 8).text}`);
      b.undef(shiftUndef(op, w, c));
    });
  }
  f('m32, 1', (b) => {
    b.emit(`${op}l ${b.mem(4).text}`);
    b.undef(shiftUndef(op, 32, 1));
  });
  f('m16, imm8', (b) => {
    const c = count(b, 16);
    b.emit(`${op}w ${$(c)}, ${b.mem(2).text}`);
    b.undef(shiftUndef(op, 16, c));
  });
  f('m64, imm8', (b) => {
    const c = count(b, 64);
    b.emit(`${op}q ${$(c)}, ${b.mem(8).text}`);
    b.undef(shiftUndef(op, 64, c));
  });
  f('cl, cl (count register is the destination)', (b) => {
    const c = count(b, 8);
    loadCl(b, c);
    b.emit(`${op}b %cl, %cl`);
    b.undef(shiftUndef(op, 8, c));
  });
  return out;
}

function doubleForms(op: 'shld' | 'shrd'): Form[] {
  const out: Form[] = [];
  for (const w of [16, 32, 64] as Width[]) {
    for (const byCl of [false, true]) {
      for (const inMem of [false, true]) {
        const name = `${op} ${inMem ? 'm' : 'r'}${w}, r${w}, ${byCl ? 'cl' : 'imm8'}`;
        out.push(form(name, (b) => {
          let c = count(b, w);
          // A memory result the SDM leaves undefined cannot be masked: keep the count in range.
          if (inMem && maskedCount(c, w) > w) c &= ~16;
          if (byCl) loadCl(b, c);
          const src = b.reg(w);
          const cnt = byCl ? '%cl' : $(c);
          const u = doubleShiftUndef(w, c);
          if (inMem) b.emit(`${op}${SUFFIX[w]} ${cnt}, ${src.name}, ${b.mem(w / 8).text}`);
          else {
            const d = b.reg(w);
            b.emit(`${op}${SUFFIX[w]} ${cnt}, ${src.name}, ${d.name}`);
            if (u.dest) b.undefRegs.push(d.idx);
          }
          b.undef(u.flags);
        }, op));
      }
    }
  }
  return out;
}

export function shiftForms(): Form[] {
  return [...OPS.flatMap(formsFor), ...doubleForms('shld'), ...doubleForms('shrd')];
}

// String forms: movs stos lods cmps scas in all four sizes, single and with rep/repe/repne,
// DF set and clear, counts 0..31, overlapping movs, and cmps/scas inputs that match for a
// random prefix so repe/repne stop at interesting places.

import type { CaseBuilder, Form, Width } from '../builder';
import { BUF_ADDR } from '../layout';
import { WIDTHS, SUFFIX, form } from './common';

const SRC = 0x1800;
const DST = 0x2800;

interface Setup {
  size: number;
  count: number;
  down: boolean;
  /** Buffer offset of element j at a string pointer starting at `base`. */
  at(base: number, j: number): number;
}

function setup(b: CaseBuilder, w: Width, rep: boolean): Setup {
  const down = b.rng.chance(0.5);
  b.setDF(down);
  const count = rep ? (b.rng.chance(0.6) ? b.rng.pick([0, 1, 2, 3, 4, 7, 8, 16]) : b.rng.int(32)) : 1;
  const size = w / 8;
  if (rep) b.reg(64, { idx: 1, value: BigInt(count) });
  return { size, count, down, at: (base, j) => base + (down ? -j : j) * size };
}

function pointer(b: CaseBuilder, idx: number, center: number): number {
  const off = center + b.rng.range(-64, 64);
  b.reg(64, { idx, value: BUF_ADDR + BigInt(off) });
  return off;
}

function formsFor(w: Width): Form[] {
  const s = SUFFIX[w];
  const out: Form[] = [];
  for (const rep of [false, true]) {
    const p = rep ? 'rep ' : '';
    out.push(form(`${p}movs${s}`, (b) => {
      setup(b, w, rep);
      pointer(b, 6, SRC);
      pointer(b, 7, DST);
      b.emit(`${p}movs${s}`);
    }, 'movs'));
    out.push(form(`${p}stos${s}`, (b) => {
      setup(b, w, rep);
      b.reg(64, { idx: 0 });
      pointer(b, 7, DST);
      b.emit(`${p}stos${s}`);
    }, 'stos'));
    out.push(form(`${p}lods${s}`, (b) => {
      setup(b, w, rep);
      b.reg(64, { idx: 0 });
      pointer(b, 6, SRC);
      b.emit(`${p}lods${s}`);
    }, 'lods'));
  }
  out.push(form(`rep movs${s} (overlapping)`, (b) => {
    setup(b, w, true);
    const src = pointer(b, 6, SRC);
    const delta = b.rng.pick([1, 2, 3, 4, 8, 16, -1, -4, -8]);
    b.reg(64, { idx: 7, value: BUF_ADDR + BigInt(src + delta) });
    b.emit(`rep movs${s}`);
  }, 'movs'));
  for (const prefix of ['', 'repe ', 'repne ']) {
    const rep = prefix !== '';
    out.push(form(`${prefix}cmps${s}`, (b) => {
      const st = setup(b, w, rep);
      const src = pointer(b, 6, SRC);
      const dst = pointer(b, 7, DST);
      // Equal elements for a random prefix, so repe runs on and repne stops early (or the reverse).
      const equal = b.rng.int(st.count + 2);
      for (let j = 0; j < Math.max(st.count, 1) + 1; j++) {
        const v = b.val(w);
        b.poke(st.at(src, j), v, st.size);
        const same = prefix === 'repne ' ? j >= equal : j < equal;
        b.poke(st.at(dst, j), same ? v : v ^ (1n << BigInt(b.rng.int(w))), st.size);
      }
      b.emit(`${prefix}cmps${s}`);
    }, 'cmps'));
    out.push(form(`${prefix}scas${s}`, (b) => {
      const st = setup(b, w, rep);
      const a = b.val(w);
      b.setOperand(b.reg(w, { idx: 0 }), a);
      const dst = pointer(b, 7, DST);
      const equal = b.rng.int(st.count + 2);
      for (let j = 0; j < Math.max(st.count, 1) + 1; j++) {
        const same = prefix === 'repne ' ? j >= equal : j < equal;
        b.poke(st.at(dst, j), same ? a : a ^ (1n << BigInt(b.rng.int(w))), st.size);
      }
      b.emit(`${prefix}scas${s}`);
    }, 'scas'));
  }
  return out;
}

export function stringForms(): Form[] {
  return WIDTHS.flatMap(formsFor);
}

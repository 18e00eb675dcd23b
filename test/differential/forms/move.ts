// Data movement forms: mov (every size, reg/mem/imm, moffs via movabs), movabs imm64,
// movzx/movsx/movsxd, lea (all addressing modes, 16/32/64-bit results, 32-bit addressing),
// xchg (incl. the accumulator short forms and xchg %eax,%eax), bswap, cmovcc, setcc, and the
// accumulator sign extensions cbw/cwde/cdqe/cwd/cdq/cqo.

import type { CaseBuilder, Form, Width } from '../builder';
import { BUF_ADDR } from '../layout';
import { hex } from '../rng';
import { $, CONDS, SUFFIX, WIDTHS, form, imm } from './common';

function movForms(): Form[] {
  const out: Form[] = [];
  const f = (name: string, build: (b: CaseBuilder) => void, mn = 'mov') => out.push(form(name, build, mn));
  f('mov r8, r8 (legacy, AH..BH)', (b) => {
    const s = b.reg(8, { kind8: 'legacy' });
    b.emit(`mov ${s.name}, ${b.reg(8, { kind8: 'legacy' }).name}`);
  });
  f('mov r8, r8 (rex)', (b) => {
    const s = b.reg(8, { kind8: 'rex' });
    b.emit(`mov ${s.name}, ${b.reg(8).name}`);
  });
  for (const w of [16, 32, 64] as Width[]) {
    f(`mov r${w}, r${w}`, (b) => {
      const s = b.reg(w);
      b.emit(`mov ${s.name}, ${b.reg(w).name}`);
    });
  }
  for (const w of WIDTHS) {
    f(`mov r${w}, m${w}`, (b) => {
      const m = b.mem(w / 8);
      b.emit(`mov ${m.text}, ${b.reg(w).name}`);
    });
    f(`mov m${w}, r${w}`, (b) => {
      const m = b.mem(w / 8);
      b.emit(`mov ${b.reg(w).name}, ${m.text}`);
    });
    f(`mov m${w}, imm`, (b) => {
      const m = b.mem(w / 8);
      b.emit(`mov${SUFFIX[w]} ${$(imm(b, w === 8 ? 8 : w === 16 ? 16 : 32))}, ${m.text}`);
    });
    f(`mov r${w}, imm`, (b) => {
      const d = b.reg(w, w === 8 ? { kind8: b.rng.chance(0.3) ? 'legacy' : 'low' } : {});
      b.emit(`mov${SUFFIX[w]} ${$(imm(b, w === 8 ? 8 : w === 16 ? 16 : 32))}, ${d.name}`);
    });
  }
  f('mov m8, r8 (AH..BH)', (b) => {
    const m = b.mem(1, { noRex: true });
    b.emit(`mov ${b.reg(8, { kind8: 'legacy', high: true }).name}, ${m.text}`);
  });
  f('mov r64, m64 (destination is the base)', (b) => {
    const off = b.pickOff(8);
    b.poke(off, b.val(64), 8);
    const r = b.reg(64, { value: BUF_ADDR + BigInt(off), noRsp: true });
    b.emit(`mov (${r.name}), ${r.name}`);
  });
  f('movabs r64, imm64', (b) => {
    b.emit(`movabs ${$(b.val(64))}, ${b.reg(64).name}`);
  }, 'movabs');
  for (const w of WIDTHS) {
    f(`movabs acc${w}, moffs64`, (b) => {
      const off = b.pickOff(w / 8);
      b.poke(off, b.val(w), w / 8);
      b.emit(`movabs DATABUF+${hex(off)}, ${b.reg(w, { idx: 0 }).name}`);
    }, 'movabs');
    f(`movabs moffs64, acc${w}`, (b) => {
      const off = b.pickOff(w / 8);
      b.poke(off, b.val(w), w / 8);
      b.emit(`movabs ${b.reg(w, { idx: 0 }).name}, DATABUF+${hex(off)}`);
    }, 'movabs');
  }
  return out;
}

function extendForms(): Form[] {
  const out: Form[] = [];
  const kinds: [string, string, Width, Width][] = [
    ['movzx', 'movzbw', 8, 16], ['movzx', 'movzbl', 8, 32], ['movzx', 'movzbq', 8, 64],
    ['movzx', 'movzwl', 16, 32], ['movzx', 'movzwq', 16, 64],
    ['movsx', 'movsbw', 8, 16], ['movsx', 'movsbl', 8, 32], ['movsx', 'movsbq', 8, 64],
    ['movsx', 'movswl', 16, 32], ['movsx', 'movswq', 16, 64],
    ['movsxd', 'movslq', 32, 64],
  ];
  for (const [mn, att, from, to] of kinds) {
    out.push(form(`${mn} r${to}, r${from} (${att})`, (b) => {
      // AH..BH cannot be encoded with REX.W, so only narrower destinations take them.
      const legacy = from === 8 && to !== 64 && b.rng.chance(0.4);
      const s = b.reg(from, legacy ? { kind8: 'legacy' } : {});
      b.emit(`${att} ${s.name}, ${b.reg(to, legacy ? { noRex: true } : {}).name}`);
    }, mn));
    out.push(form(`${mn} r${to}, m${from} (${att})`, (b) => {
      const m = b.mem(from / 8);
      b.emit(`${att} ${m.text}, ${b.reg(to).name}`);
    }, mn));
  }
  return out;
}

function leaForms(): Form[] {
  const out: Form[] = [];
  for (const w of [16, 32, 64] as Width[]) {
    out.push(form(`lea r${w}, m`, (b) => {
      const m = b.mem(1, { noAccess: true });
      b.emit(`lea ${m.text}, ${b.reg(w).name}`);
    }, 'lea'));
  }
  out.push(form('lea r64, m (32-bit addressing)', (b) => {
    const m = b.mem(1, { noAccess: true, mode: 'addr32' });
    b.emit(`lea ${m.text}, ${b.reg(64).name}`);
  }, 'lea'));
  out.push(form('lea r64, m (rip-relative)', (b) => {
    const m = b.mem(1, { noAccess: true, mode: 'rip' });
    b.emit(`lea ${m.text}, ${b.reg(64).name}`);
  }, 'lea'));
  return out;
}

function xchgForms(): Form[] {
  const out: Form[] = [];
  const f = (name: string, build: (b: CaseBuilder) => void) => out.push(form(`xchg ${name}`, build, 'xchg'));
  f('r8, r8 (legacy, AH..BH)', (b) => {
    const s = b.reg(8, { kind8: 'legacy' });
    b.emit(`xchg ${s.name}, ${b.reg(8, { kind8: 'legacy' }).name}`);
  });
  f('r8, r8 (rex)', (b) => {
    const s = b.reg(8, { kind8: 'rex' });
    b.emit(`xchg ${s.name}, ${b.reg(8).name}`);
  });
  for (const w of [16, 32, 64] as Width[]) {
    f(`r${w}, r${w}`, (b) => {
      // Not the accumulator, which has the short form of its own.
      const s = b.reg(w, { idx: b.rng.range(1, 15) });
      b.emit(`xchg ${s.name}, ${b.reg(w).name}`);
    });
    f(`acc${w}, r${w} (short form)`, (b) => {
      const a = b.reg(w, { idx: 0 });
      b.emit(`xchg ${b.reg(w).name}, ${a.name}`);
    });
  }
  for (const w of WIDTHS) {
    f(`m${w}, r${w}`, (b) => {
      const m = b.mem(w / 8);
      b.emit(`xchg ${b.reg(w).name}, ${m.text}`);
    });
  }
  f('r32, r32 (same register: 87 /r zero-extends)', (b) => {
    const r = b.reg(32);
    b.emit(`xchg ${r.name}, ${r.name}`);
  });
  return out;
}

function condForms(): Form[] {
  const out: Form[] = [];
  for (const cc of CONDS) {
    for (const w of [16, 32, 64] as Width[]) {
      out.push(form(`cmov${cc} r${w}, r${w}`, (b) => {
        const s = b.reg(w);
        b.emit(`cmov${cc} ${s.name}, ${b.reg(w).name}`);
      }, 'cmovcc'));
    }
    out.push(form(`cmov${cc} r32, m32`, (b) => {
      const m = b.mem(4);
      b.emit(`cmov${cc} ${m.text}, ${b.reg(32).name}`);
    }, 'cmovcc'));
    out.push(form(`set${cc} r8`, (b) => {
      b.emit(`set${cc} ${b.reg(8, { kind8: b.rng.pick(['legacy', 'rex', 'low'] as const) }).name}`);
    }, 'setcc'));
    out.push(form(`set${cc} m8`, (b) => {
      b.emit(`set${cc} ${b.mem(1).text}`);
    }, 'setcc'));
  }
  return out;
}

function accForms(): Form[] {
  const list: [string, string][] = [['cbw', 'cbtw'], ['cwde', 'cwtl'], ['cdqe', 'cltq'], ['cwd', 'cwtd'], ['cdq', 'cltd'], ['cqo', 'cqto']];
  return list.map(([intel, att]) => form(`${intel} (${att})`, (b) => {
    b.reg(64, { idx: 0, value: b.rng.chance(0.5) ? b.val(64) : b.rng.pick([0x80n, 0x7fn, 0x8000n, 0x7fffn, 0x80000000n, 0x7fffffffn, 1n << 63n]) });
    b.emit(att);
  }, intel));
}

export function moveForms(): Form[] {
  return [
    ...movForms(),
    ...extendForms(),
    ...leaForms(),
    ...xchgForms(),
    form('bswap r32', (b) => b.emit(`bswap ${b.reg(32).name}`)),
    form('bswap r64', (b) => b.emit(`bswap ${b.reg(64).name}`)),
    ...condForms(),
    ...accForms(),
  ];
}

// BMI1, BMI2, ADX, LAHF/SAHF, MOVBE, CMPXCHG8B, XLAT, CRC32, UD0/UD1 forms: every operand size
// they have, register and memory sources, the same register in several operands, and control
// values (BEXTR start/length, BZHI index, shift counts) across and beyond the operand width.

import type { CaseBuilder, Form } from '../builder';
import { $, SUFFIX, form } from './common';
import { recordOf } from '../../../emulator/exec/index';

const W = [32, 64] as const;

/** `op a, b, dst`; the r/m operand is `a` for ANDN/PDEP/PEXT (`memFirst`), `b` for the others (whose `a` is the control). */
function three(op: string, ctl?: (b: CaseBuilder, w: number) => bigint, memFirst = false): Form[] {
  const out: Form[] = [];
  for (const w of W) {
    const v = (b: CaseBuilder) => (ctl ? ctl(b, w) : b.val(w));
    out.push(form(`${op} r${w}, r${w}, r${w}`, (b) => {
      const s2 = b.reg(w, { value: v(b) }), s1 = b.reg(w);
      b.emit(`${op} ${s2.name}, ${s1.name}, ${b.reg(w).name}`);
    }, op));
    out.push(form(`${op} r${w}, m${w}, r${w}`, (b) => {
      const s2 = b.reg(w, { value: v(b) });
      const m = b.mem(w / 8);
      b.emit(memFirst ? `${op} ${m.text}, ${s2.name}, ${b.reg(w).name}` : `${op} ${s2.name}, ${m.text}, ${b.reg(w).name}`);
    }, op));
    out.push(form(`${op} same register r${w}`, (b) => {
      const r = b.reg(w, { value: v(b) });
      b.emit(`${op} ${r.name}, ${r.name}, ${r.name}`);
    }, op));
  }
  return out;
}

function two(op: string): Form[] {
  const out: Form[] = [];
  for (const w of W) {
    const val = (b: CaseBuilder) => (b.rng.chance(0.2) ? 0n : b.val(w));
    out.push(form(`${op} r${w}, r${w}`, (b) => { const s = b.reg(w, { value: val(b) }); b.emit(`${op} ${s.name}, ${b.reg(w).name}`); }, op));
    out.push(form(`${op} m${w}, r${w}`, (b) => { const m = b.mem(w / 8, { value: val(b) }); b.emit(`${op}${SUFFIX[w]} ${m.text}, ${b.reg(w).name}`); }, op));
    out.push(form(`${op} same register r${w}`, (b) => { const r = b.reg(w, { value: val(b) }); b.emit(`${op} ${r.name}, ${r.name}`); }, op));
  }
  return out;
}

export function extForms(): Form[] {
  const out: Form[] = [];
  // AT&T: `andn src2, src1, dst` (dst = ~src1 & src2); bextr/bzhi/shifts: `op ctl, src, dst`.
  out.push(...three('andn', undefined, true));
  out.push(...three('bextr', (b, w) => BigInt(b.rng.int(w + 8) | (b.rng.int(w + 8) << 8)) | (b.rng.chance(0.2) ? b.val(w) & ~0xffffn : 0n)));
  out.push(...three('bzhi', (b, w) => BigInt(b.rng.int(w + 20)) | (b.rng.chance(0.2) ? b.val(w) & ~0xffn : 0n)));
  out.push(...three('pdep', undefined, true), ...three('pext', undefined, true));
  for (const op of ['sarx', 'shlx', 'shrx']) out.push(...three(op, (b, w) => (b.rng.chance(0.7) ? BigInt(b.rng.int(w)) : b.val(w))));
  out.push(...two('blsi'), ...two('blsmsk'), ...two('blsr'));
  for (const w of W) {
    out.push(form(`rorx imm8, r${w}, r${w}`, (b) => { const s = b.reg(w); b.emit(`rorx ${$(b.rng.int(256))}, ${s.name}, ${b.reg(w).name}`); }, 'rorx'));
    out.push(form(`rorx imm8, m${w}, r${w}`, (b) => { const m = b.mem(w / 8); b.emit(`rorx${SUFFIX[w]} ${$(b.rng.int(256))}, ${m.text}, ${b.reg(w).name}`); }, 'rorx'));
    out.push(form(`mulx r${w}, r${w}, r${w}`, (b) => {
      b.reg(w, { idx: 2 });
      const s = b.reg(w), lo = b.reg(w);
      b.emit(`mulx ${s.name}, ${lo.name}, ${b.rng.chance(0.2) ? lo.name : b.reg(w).name}`);
    }, 'mulx'));
    out.push(form(`mulx m${w}, r${w}, r${w}`, (b) => {
      b.reg(w, { idx: 2 });
      const m = b.mem(w / 8);
      b.emit(`mulx ${m.text}, ${b.reg(w).name}, ${b.reg(w).name}`);
    }, 'mulx'));
    for (const op of ['adcx', 'adox']) {
      out.push(form(`${op} r${w}, r${w}`, (b) => { const s = b.reg(w); b.emit(`${op} ${s.name}, ${b.reg(w).name}`); }, op));
      out.push(form(`${op} m${w}, r${w}`, (b) => { const m = b.mem(w / 8); b.emit(`${op}${SUFFIX[w]} ${m.text}, ${b.reg(w).name}`); }, op));
      out.push(form(`${op} same register r${w}`, (b) => { const r = b.reg(w); b.emit(`${op} ${r.name}, ${r.name}`); }, op));
    }
  }
  out.push(form('lahf', (b) => { b.reg(8, { idx: 0, kind8: 'legacy', high: true }); b.emit('lahf'); }, 'lahf'));
  out.push(form('sahf', (b) => { b.reg(8, { idx: 0, kind8: 'legacy', high: true }); b.emit('sahf'); }, 'sahf'));
  for (const w of [16, 32, 64] as const) {
    out.push(form(`movbe m${w}, r${w}`, (b) => { const m = b.mem(w / 8); b.emit(`movbe ${m.text}, ${b.reg(w).name}`); }, 'movbe'));
    out.push(form(`movbe r${w}, m${w}`, (b) => { const m = b.mem(w / 8); b.emit(`movbe ${b.reg(w).name}, ${m.text}`); }, 'movbe'));
  }
  for (const lock of ['', 'lock ']) {
    out.push(form(`${lock}cmpxchg8b m64`, (b) => {
      for (const r of [0, 1, 2, 3]) b.reg(64, { idx: r });
      const v = b.val(64);
      const m = b.mem(8, { value: v });
      // Half the cases compare equal: EDX:EAX set to the memory value.
      if (b.rng.chance(0.5)) {
        b.setReg(0, (b.regs[0] & ~0xffffffffn) | (v & 0xffffffffn));
        b.setReg(2, (b.regs[2] & ~0xffffffffn) | (v >> 32n));
      }
      b.emit(`${lock}cmpxchg8b ${m.text}`);
    }, 'cmpxchg8b'));
  }
  out.push(form('xlat', (b) => {
    const off = 0x1000 + b.rng.int(0x1f00);
    b.reg(64, { idx: 3, value: 0x60000000n + BigInt(off) });
    b.reg(8, { idx: 0, kind8: 'legacy', high: false });
    b.emit('xlat');
  }, 'xlat'));
  for (const [w, sw] of [[32, 8], [32, 16], [32, 32], [64, 8], [64, 64]] as const) {
    out.push(form(`crc32 r${w}, r${sw}`, (b) => { const s = b.reg(sw); b.emit(`crc32${SUFFIX[sw]} ${s.name}, ${b.reg(w).name}`); }, 'crc32'));
    out.push(form(`crc32 r${w}, m${sw}`, (b) => { const m = b.mem(sw / 8); b.emit(`crc32${SUFFIX[sw]} ${m.text}, ${b.reg(w).name}`); }, 'crc32'));
  }
  out.push(form('ud0 (#UD)', (b) => { b.mayFault = true; b.emit(`ud0 ${b.reg(32).name}, ${b.reg(32).name}`); }, 'ud0'));
  out.push(form('ud1 (#UD)', (b) => { b.mayFault = true; b.emit(`ud1 ${b.reg(32).name}, ${b.reg(32).name}`); }, 'ud1'));
  // The flags the SDM leaves undefined come from the instruction's record.
  return out.map((f) => ({ ...f, build: (b: CaseBuilder) => { f.build(b); const u = recordOf(f.mnemonic)?.undefinedFlags; if (typeof u === 'number') b.undef(u); } }));
}

// Bit forms: bt bts btr btc with register and imm8 offsets on registers and memory (register
// offsets into memory reach far beyond the operand, both directions), bsf bsr tzcnt lzcnt
// popcnt with register and memory sources, zero sources included.

import type { CaseBuilder, Form, Width } from '../builder';
import { BSF_UNDEF, BT_UNDEF, CNT_UNDEF } from '../flagMasks';
import { mask } from '../rng';
import { $, SUFFIX, form } from './common';

const SIZES: readonly Width[] = [16, 32, 64];

function btForms(op: string): Form[] {
  const out: Form[] = [];
  const f = (name: string, build: (b: CaseBuilder) => void) => out.push(form(`${op} ${name}`, (b) => { build(b); b.undef(BT_UNDEF); }, op));
  for (const w of SIZES) {
    f(`r${w}, r${w}`, (b) => {
      const s = b.reg(w);
      b.emit(`${op} ${s.name}, ${b.reg(w).name}`);
    });
    f(`r${w}, imm8`, (b) => {
      b.emit(`${op}${SUFFIX[w]} ${$(b.rng.chance(0.5) ? b.rng.int(w) : b.rng.int(256))}, ${b.reg(w).name}`);
    });
    f(`m${w}, r${w} (offset beyond the operand)`, (b) => {
      // Bit offsets are signed and address memory at base + (offset >> log2(w)) * (w / 8).
      const bitOff = b.rng.chance(0.3) ? b.rng.range(-w, 2 * w) : b.rng.range(-0x7000, 0x7000);
      const m = b.mem(w / 8, { lo: 0x1800, hi: 0x2800 });
      const s = b.reg(w);
      b.setOperand(s, BigInt(bitOff) & mask(w));
      b.emit(`${op}${SUFFIX[w]} ${s.name}, ${m.text}`);
    });
    f(`m${w}, imm8`, (b) => {
      const m = b.mem(w / 8);
      b.emit(`${op}${SUFFIX[w]} ${$(b.rng.int(256))}, ${m.text}`);
    });
  }
  if (op !== 'bt') {
    f('m64, r64 (lock)', (b) => {
      const m = b.mem(8, { lo: 0x1800, hi: 0x2800 });
      const s = b.reg(64);
      b.setOperand(s, BigInt(b.rng.range(-0x7000, 0x7000)) & mask(64));
      b.emit(`lock ${op}q ${s.name}, ${m.text}`);
    });
  }
  return out;
}

function scanForms(op: string, undef: number): Form[] {
  const out: Form[] = [];
  const source = (b: CaseBuilder, w: number) => (b.rng.chance(0.2) ? 0n : b.rng.chance(0.3) ? 1n << BigInt(b.rng.int(w)) : b.val(w));
  for (const w of SIZES) {
    out.push(form(`${op} r${w}, r${w}`, (b) => {
      const s = b.reg(w, { value: source(b, w) });
      b.emit(`${op} ${s.name}, ${b.reg(w).name}`);
      b.undef(undef);
    }, op));
    out.push(form(`${op} r${w}, m${w}`, (b) => {
      const m = b.mem(w / 8, { value: source(b, w) });
      b.emit(`${op}${SUFFIX[w]} ${m.text}, ${b.reg(w).name}`);
      b.undef(undef);
    }, op));
  }
  return out;
}

export function bitForms(): Form[] {
  return [
    ...['bt', 'bts', 'btr', 'btc'].flatMap(btForms),
    ...scanForms('bsf', BSF_UNDEF),
    ...scanForms('bsr', BSF_UNDEF),
    ...scanForms('tzcnt', CNT_UNDEF),
    ...scanForms('lzcnt', CNT_UNDEF),
    ...scanForms('popcnt', 0),
  ];
}

// Multiply and divide forms: mul, one-, two- and three-operand imul, div and idiv in every size,
// register and memory. Division inputs are biased so that about half divide cleanly and the
// rest raise #DE by a zero divisor or a quotient that does not fit (the native side records it).

import type { CaseBuilder, Form, RegOp, Width } from '../builder';
import { DIV_UNDEF, MUL_UNDEF } from '../flagMasks';
import { mask, signExtend } from '../rng';
import { $, SUFFIX, WIDTHS, form, imm, immLong } from './common';

type Op = 'mul' | 'imul' | 'div' | 'idiv';

/** The r/m operand of a one-operand form: legacy/REX byte register, wider register or memory. */
type Rm = 'r8legacy' | 'r8rex' | 'reg' | 'mem';

function operand(b: CaseBuilder, w: Width, rm: Rm, value: bigint): string {
  if (rm === 'mem') return `${SUFFIX[w]} ${b.mem(w / 8, { value }).text}`;
  const r = b.reg(w, w === 8 ? { kind8: rm === 'r8legacy' ? 'legacy' : 'rex' } : {});
  b.setOperand(r, value);
  return ` ${r.name}`;
}

/** Sets the implicit dividend (AX for 8-bit, DX:AX style otherwise) to a 2w-bit value. */
function setDividend(b: CaseBuilder, w: Width, rax: RegOp, rdx: RegOp | null, value: bigint): void {
  if (w === 8) b.setOperand({ ...rax, width: 16 }, value & 0xffffn);
  else {
    b.setOperand({ ...rax, width: w }, value & mask(w));
    b.setOperand({ ...rdx!, width: w }, (value >> BigInt(w)) & mask(w));
  }
}

function divInputs(b: CaseBuilder, w: Width, signed: boolean): { divisor: bigint; dividend: bigint } {
  const r = b.rng.int(100);
  let divisor = b.val(w);
  if (r < 15) return { divisor: 0n, dividend: b.rng.bits(2 * w) };
  if (r < 45) return { divisor, dividend: b.rng.chance(0.5) ? b.rng.bits(2 * w) : b.rng.edge(2 * w) };
  if (signed && r < 52) {
    // INT_MIN / -1: the one signed overflow with small operands.
    return { divisor: mask(w), dividend: (1n << BigInt(2 * w - 1)) | (b.rng.chance(0.5) ? 0n : mask(2 * w) ^ (mask(w) >> 1n)) };
  }
  if (divisor === 0n) divisor = 1n;
  if (!signed) {
    const q = b.val(w);
    const rem = b.rng.bits(w) % divisor;
    return { divisor, dividend: (q * divisor + rem) & mask(2 * w) };
  }
  const d = signExtend(divisor, w);
  const q = signExtend(b.val(w), w);
  const absD = d < 0n ? -d : d;
  let rem = BigInt(b.rng.bits(w)) % absD;
  let dividend = q * d;
  if (dividend < 0n || (dividend === 0n && b.rng.chance(0.5))) rem = -rem;
  dividend += rem;
  return { divisor, dividend: dividend & mask(2 * w) };
}

function oneOperandForms(op: Op): Form[] {
  const out: Form[] = [];
  const kinds: [string, Width, Rm][] = [
    ['r8 (legacy, AH..BH)', 8, 'r8legacy'], ['r8 (rex)', 8, 'r8rex'],
    ['r16', 16, 'reg'], ['r32', 32, 'reg'], ['r64', 64, 'reg'],
    ...WIDTHS.map((w): [string, Width, Rm] => [`m${w}`, w, 'mem']),
  ];
  for (const [name, w, rm] of kinds) {
    out.push(form(`${op} ${name}`, (b) => {
      const rax = b.reg(64, { idx: 0 });
      const rdx = w === 8 && rm === 'r8legacy' ? null : b.reg(64, { idx: 2 });
      if (op === 'mul' || op === 'imul') {
        b.emit(`${op}${operand(b, w, rm, b.val(w))}`);
        b.undef(MUL_UNDEF);
      } else {
        const { divisor, dividend } = divInputs(b, w, op === 'idiv');
        setDividend(b, w, rax, rdx, dividend);
        b.emit(`${op}${operand(b, w, rm, divisor)}`);
        b.undef(DIV_UNDEF);
        b.mayFault = true;
      }
    }, op));
  }
  return out;
}

function imulForms(): Form[] {
  const out: Form[] = [];
  for (const w of [16, 32, 64] as Width[]) {
    out.push(form(`imul r${w}, r${w}`, (b) => {
      const s = b.reg(w);
      b.emit(`imul ${s.name}, ${b.reg(w).name}`);
      b.undef(MUL_UNDEF);
    }, 'imul'));
    out.push(form(`imul r${w}, m${w}`, (b) => {
      const m = b.mem(w / 8);
      b.emit(`imul ${m.text}, ${b.reg(w).name}`);
      b.undef(MUL_UNDEF);
    }, 'imul'));
    out.push(form(`imul r${w}, r${w}, imm8`, (b) => {
      const s = b.reg(w);
      b.emit(`imul ${$(imm(b, 8))}, ${s.name}, ${b.reg(w).name}`);
      b.undef(MUL_UNDEF);
    }, 'imul'));
    out.push(form(`imul r${w}, r${w}, imm${w === 16 ? 16 : 32}`, (b) => {
      const s = b.reg(w);
      b.emit(`imul ${$(immLong(b, w === 16 ? 16 : 32))}, ${s.name}, ${b.reg(w).name}`);
      b.undef(MUL_UNDEF);
    }, 'imul'));
    out.push(form(`imul r${w}, m${w}, imm`, (b) => {
      const m = b.mem(w / 8);
      b.emit(`imul${SUFFIX[w]} ${$(b.rng.chance(0.5) ? imm(b, 8) : immLong(b, w === 16 ? 16 : 32))}, ${m.text}, ${b.reg(w).name}`);
      b.undef(MUL_UNDEF);
    }, 'imul'));
  }
  out.push(form('imul r64, r64 (same register)', (b) => {
    const r = b.reg(64);
    b.emit(`imul ${r.name}, ${r.name}`);
    b.undef(MUL_UNDEF);
  }, 'imul'));
  return out;
}

export function mulDivForms(): Form[] {
  return [...(['mul', 'imul', 'div', 'idiv'] as Op[]).flatMap(oneOperandForms), ...imulForms()];
}

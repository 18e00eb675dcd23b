// SSE floating-point forms: scalar and packed arithmetic, min/max, compares, conversions,
// rounding, horizontal and dot-product forms, LDMXCSR/STMXCSR. Operands are drawn from the
// values where IEEE arithmetic is delicate (zeros, denormals, the normal boundaries, infinities,
// quiet and signalling NaNs, halfway cases, integers near the conversion limits) and every case
// runs under a random MXCSR: each rounding mode, DAZ, FTZ, sticky flags already set, and
// sometimes unmasked exceptions (the host then raises #XM, which must match).

import type { CaseBuilder, Form, XmmOp } from '../builder';
import { $, form } from './common';
import { vec } from './sse';

type W = 32 | 64;

function special(b: CaseBuilder, w: W): bigint {
  const m = w === 32 ? 23 : 52, e = w === 32 ? 8 : 11;
  const sign = b.rng.chance(0.5) ? 1n << BigInt(w - 1) : 0n;
  const expMax = (1n << BigInt(e)) - 1n, fracMask = (1n << BigInt(m)) - 1n;
  const bias = (1n << BigInt(e - 1)) - 1n;
  const enc = (ex: bigint, frac: bigint) => sign | (ex << BigInt(m)) | (frac & fracMask);
  const r = b.rng.int(20);
  switch (r) {
    case 0: return sign; // ±0
    case 1: return enc(0n, 1n + b.rng.bits(b.rng.int(m) + 1)); // denormal
    case 2: return enc(0n, fracMask); // largest denormal
    case 3: return enc(1n, b.rng.chance(0.5) ? 0n : b.rng.bits(m)); // near the smallest normal
    case 4: return enc(expMax - 1n, fracMask - BigInt(b.rng.int(4))); // near the largest
    case 5: return enc(expMax, 0n); // ±inf
    case 6: return enc(expMax, (1n << BigInt(m - 1)) | b.rng.bits(m - 1)); // QNaN
    case 7: return enc(expMax, 1n + b.rng.bits(m - 2)); // SNaN
    case 8: return enc(bias, 0n); // ±1
    case 9: return enc(bias + BigInt(b.rng.int(w === 32 ? 32 : 64)), b.rng.chance(0.5) ? 0n : b.rng.bits(m) & ~((1n << BigInt(Math.max(0, m - b.rng.int(8)))) - 1n)); // integers, halves
    case 10: return enc(bias - 1n + BigInt(b.rng.int(3)), (1n << BigInt(m - 1)) * BigInt(b.rng.int(2))); // 0.5, 1.5, 2, 3
    case 11: return enc(bias + BigInt(w - 2 + b.rng.int(3)), b.rng.bits(m)); // near the integer limits
    case 12: return enc(BigInt(b.rng.int(Number(m + 2))), b.rng.bits(m)); // tiny normals (underflow region)
    case 13: return enc(expMax - 1n - BigInt(b.rng.int(m + 2)), b.rng.bits(m)); // huge (overflow region)
    default: return enc(bias - 20n + BigInt(b.rng.int(40)), b.rng.bits(m)); // ordinary
  }
}

/** 128 bits of lanes of width w. */
function fvec(b: CaseBuilder, w: W): bigint {
  let v = 0n;
  for (let k = 0; k < 128 / w; k++) v |= special(b, w) << BigInt(w * k);
  return v;
}

/** A random MXCSR: rounding mode, DAZ/FTZ, some sticky flags, sometimes unmasked exceptions. */
function mxcsr(b: CaseBuilder): void {
  let v = 0x1f80;
  v = (v & ~0x6000) | ((b.rng.chance(0.4) ? 0 : b.rng.int(4)) << 13);
  if (b.rng.chance(0.15)) v |= 0x40; // DAZ
  if (b.rng.chance(0.15)) v |= 0x8000; // FTZ
  if (b.rng.chance(0.2)) v |= b.rng.int(64);
  if (b.rng.chance(0.1)) {
    v &= ~(b.rng.int(64) << 7);
    b.mayFault = true;
  }
  b.mxcsr = v;
}

function x(b: CaseBuilder, w: W): XmmOp {
  return b.xreg(b.rng.chance(0.1) ? vec(b) : fvec(b, w));
}

function fpForm(name: string, mnemonic: string, build: (b: CaseBuilder) => void): Form {
  return form(name, (b) => { mxcsr(b); build(b); }, mnemonic);
}

/** `op src, dst` with an XMM source, the same register, and memory (scalar width or aligned m128). */
function binary(op: string, w: W, packed: boolean, imm?: () => number): Form[] {
  const bytes = packed ? 16 : w / 8;
  const immText = (b: CaseBuilder) => (imm ? `${$(imm.call(b) & 0xff)}, ` : '');
  const pick = imm ? (b: CaseBuilder) => `${$(b.rng.int(256))}, ` : immText;
  return [
    fpForm(`${op} xmm, xmm`, op, (b) => { const s = x(b, w); b.emit(`${op} ${pick(b)}${s.name}, ${x(b, w).name}`); }),
    fpForm(`${op} xmm, same xmm`, op, (b) => { const d = x(b, w); b.emit(`${op} ${pick(b)}${d.name}, ${d.name}`); }),
    fpForm(`${op} m${bytes * 8}, xmm`, op, (b) => {
      const m = b.mem(bytes, { value: fvec(b, w) & ((1n << BigInt(bytes * 8)) - 1n), align: packed ? 16 : undefined });
      b.emit(`${op} ${pick(b)}${m.text}, ${x(b, w).name}`);
    }),
  ];
}

export function sseFpForms(): Form[] {
  const out: Form[] = [];
  for (const base of ['add', 'sub', 'mul', 'div', 'min', 'max', 'sqrt']) {
    out.push(...binary(`${base}ss`, 32, false), ...binary(`${base}sd`, 64, false), ...binary(`${base}ps`, 32, true), ...binary(`${base}pd`, 64, true));
  }
  for (const [op, w, packed] of [['cmpss', 32, false], ['cmpsd', 64, false], ['cmpps', 32, true], ['cmppd', 64, true]] as const) {
    out.push(...binary(op, w, packed, () => 0));
  }
  for (const [op, w] of [['comiss', 32], ['ucomiss', 32], ['comisd', 64], ['ucomisd', 64]] as const) out.push(...binary(op, w, false));
  for (const [op, w] of [['roundss', 32], ['roundsd', 64], ['roundps', 32], ['roundpd', 64]] as const) {
    out.push(...binary(op, w, op.endsWith('p' + (w === 32 ? 's' : 'd')), () => 0));
  }
  for (const op of ['haddps', 'hsubps', 'addsubps', 'dpps']) out.push(...binary(op, 32, true, op === 'dpps' ? () => 0 : undefined));
  for (const op of ['haddpd', 'hsubpd', 'addsubpd', 'dppd']) out.push(...binary(op, 64, true, op === 'dppd' ? () => 0 : undefined));
  // Conversions.
  for (const [op, w] of [['cvtss2sd', 32], ['cvtsd2ss', 64], ['cvtps2pd', 32], ['cvtpd2ps', 64], ['cvtps2dq', 32], ['cvttps2dq', 32], ['cvtpd2dq', 64], ['cvttpd2dq', 64]] as const) {
    const memBytes = op === 'cvtss2sd' ? 4 : op === 'cvtsd2ss' || op === 'cvtps2pd' ? 8 : 16;
    out.push(fpForm(`${op} xmm, xmm`, op, (b) => { const s = x(b, w); b.emit(`${op} ${s.name}, ${x(b, w).name}`); }));
    out.push(fpForm(`${op} m${memBytes * 8}, xmm`, op, (b) => {
      const m = b.mem(memBytes, { value: fvec(b, w) & ((1n << BigInt(memBytes * 8)) - 1n), align: memBytes === 16 ? 16 : undefined });
      b.emit(`${op} ${m.text}, ${x(b, w).name}`);
    }));
  }
  for (const op of ['cvtdq2ps', 'cvtdq2pd']) {
    out.push(fpForm(`${op} xmm, xmm`, op, (b) => { const s = b.xreg(vec(b)); b.emit(`${op} ${s.name}, ${x(b, 32).name}`); }));
  }
  for (const [op, w] of [['cvtsi2ss', 32], ['cvtsi2sd', 64]] as const) {
    for (const iw of [32, 64] as const) {
      out.push(fpForm(`${op} r${iw}, xmm`, op, (b) => { const r = b.reg(iw); b.emit(`${op} ${r.name}, ${x(b, w).name}`); }));
      out.push(fpForm(`${op} m${iw}, xmm`, op, (b) => { const m = b.mem(iw / 8); b.emit(`${op}${iw === 32 ? 'l' : 'q'} ${m.text}, ${x(b, w).name}`); }));
    }
  }
  for (const [op, w] of [['cvtss2si', 32], ['cvttss2si', 32], ['cvtsd2si', 64], ['cvttsd2si', 64]] as const) {
    for (const iw of [32, 64] as const) {
      out.push(fpForm(`${op} xmm, r${iw}`, op, (b) => { const s = x(b, w); b.emit(`${op} ${s.name}, ${b.reg(iw).name}`); }));
      out.push(fpForm(`${op} m${w}, r${iw}`, op, (b) => { const m = b.mem(w / 8, { value: special(b, w) }); b.emit(`${op} ${m.text}, ${b.reg(iw).name}`); }));
    }
  }
  out.push(form('ldmxcsr m32 / stmxcsr m32', (b) => {
    const v = b.rng.chance(0.8) ? b.rng.int(0x10000) | 0x1f80 : b.rng.chance(0.5) ? b.rng.int(0x10000) : b.rng.u32();
    if (v & ~0xffff) b.mayFault = true;
    const m = b.mem(4, { value: BigInt(v >>> 0), align: 4 });
    const o = b.mem(4, { align: 4, lo: 0x3000, hi: 0x3100, mode: 'rip' });
    b.emit(`ldmxcsr ${m.text}`, `stmxcsr ${o.text}`);
  }, 'ldmxcsr'));
  return out;
}

// SSE–SSE4.2 integer, move, shuffle and logic forms: every operation with an XMM source, the
// same register as both operands, and an aligned m128 source; moves to and from GPRs and memory;
// imm8 forms over the whole immediate range; a misaligned m128 (#GP(0)) for the forms that
// require alignment and an unaligned one for those that do not. Lane values are edge-biased per
// byte, word and dword (0, ±1, sign boundaries, maxima) so saturation and signedness show.

import type { CaseBuilder, Form, XmmOp } from '../builder';
import { $, form } from './common';

/** A 128-bit value with edge-biased lanes of a random width. */
export function vec(b: CaseBuilder): bigint {
  const w = b.rng.pick([8, 16, 32, 64]);
  let v = 0n;
  for (let k = 0; k < 128 / w; k++) v |= b.rng.edge(w) << BigInt(w * k);
  return v;
}

function x(b: CaseBuilder, idx?: number): XmmOp {
  return b.xreg(vec(b), idx);
}

/** Binary `op src, dst` forms: XMM source, same register, aligned m128; optionally a misaligned m128. */
function binary(op: string, opts: { imm?: boolean; unaligned?: 'ok' | 'gp'; memBytes?: number } = {}): Form[] {
  const immOf = (b: CaseBuilder) => (opts.imm ? `${$(b.rng.int(256))}, ` : '');
  const bytes = opts.memBytes ?? 16;
  const out: Form[] = [
    form(`${op} xmm, xmm`, (b) => { const s = x(b); b.emit(`${op} ${immOf(b)}${s.name}, ${x(b).name}`); }, op),
    form(`${op} xmm, same xmm`, (b) => { const d = x(b); b.emit(`${op} ${immOf(b)}${d.name}, ${d.name}`); }, op),
    form(`${op} xmm, m${bytes * 8}`, (b) => {
      const m = b.mem(bytes, { value: vec(b), align: bytes });
      b.emit(`${op} ${immOf(b)}${m.text}, ${x(b).name}`);
    }, op),
  ];
  if (opts.unaligned) {
    out.push(form(`${op} xmm, m128 misaligned${opts.unaligned === 'gp' ? ' (#GP)' : ''}`, (b) => {
      if (opts.unaligned === 'gp') b.mayFault = true;
      const m = b.mem(16, { value: vec(b), off: 0x1000 + 16 * b.rng.int(0x100) + b.rng.range(1, 15) });
      b.emit(`${op} ${immOf(b)}${m.text}, ${x(b).name}`);
    }, op));
  }
  return out;
}

const BINARY = [
  'paddb', 'paddw', 'paddd', 'paddq', 'psubb', 'psubw', 'psubd', 'psubq',
  'paddsb', 'paddsw', 'paddusb', 'paddusw', 'psubsb', 'psubsw', 'psubusb', 'psubusw',
  'pmullw', 'pmulhw', 'pmulhuw', 'pmuludq', 'pmaddwd', 'psadbw', 'pavgb', 'pavgw',
  'pand', 'pandn', 'por', 'pxor', 'andps', 'andnps', 'orps', 'xorps', 'andpd', 'andnpd', 'orpd', 'xorpd',
  'pcmpeqb', 'pcmpeqw', 'pcmpeqd', 'pcmpgtb', 'pcmpgtw', 'pcmpgtd',
  'pmaxub', 'pminub', 'pmaxsw', 'pminsw',
  'punpcklbw', 'punpcklwd', 'punpckldq', 'punpcklqdq', 'punpckhbw', 'punpckhwd', 'punpckhdq', 'punpckhqdq',
  'unpcklps', 'unpckhps', 'unpcklpd', 'unpckhpd',
  'packsswb', 'packuswb', 'packssdw',
  // SSSE3
  'pshufb', 'pabsb', 'pabsw', 'pabsd', 'psignb', 'psignw', 'psignd', 'phaddw', 'phaddd', 'phsubw', 'phsubd',
  'phaddsw', 'phsubsw', 'pmaddubsw', 'pmulhrsw',
  // SSE4.1 / SSE4.2
  'pmulld', 'pmuldq', 'pcmpeqq', 'pcmpgtq', 'packusdw', 'pmaxsb', 'pminsb', 'pmaxuw', 'pminuw', 'pmaxsd', 'pminsd',
  'pmaxud', 'pminud', 'phminposuw', 'ptest',
];

const IMM_BINARY = ['pshufd', 'pshuflw', 'pshufhw', 'shufps', 'shufpd', 'palignr', 'pblendw', 'blendps', 'blendpd', 'mpsadbw'];

function shifts(): Form[] {
  const out: Form[] = [];
  for (const op of ['psllw', 'pslld', 'psllq', 'psrlw', 'psrld', 'psrlq', 'psraw', 'psrad']) {
    const count = (b: CaseBuilder) => (b.rng.chance(0.7) ? b.rng.int(70) : b.rng.chance(0.5) ? 255 : b.rng.int(256));
    out.push(form(`${op} imm8, xmm`, (b) => b.emit(`${op} ${$(count(b))}, ${x(b).name}`), op));
    const countVec = (b: CaseBuilder) => (b.rng.chance(0.7) ? BigInt(b.rng.int(70)) : b.rng.chance(0.5) ? vec(b) : (BigInt(b.rng.int(70)) | (1n << BigInt(32 + b.rng.int(32)))) | (vec(b) & ~((1n << 64n) - 1n)));
    out.push(form(`${op} xmm, xmm`, (b) => { const s = b.xreg(countVec(b)); b.emit(`${op} ${s.name}, ${x(b).name}`); }, op));
    out.push(form(`${op} m128, xmm`, (b) => { const m = b.mem(16, { value: countVec(b), align: 16 }); b.emit(`${op} ${m.text}, ${x(b).name}`); }, op));
  }
  for (const op of ['pslldq', 'psrldq']) {
    out.push(form(`${op} imm8, xmm`, (b) => b.emit(`${op} ${$(b.rng.chance(0.8) ? b.rng.int(18) : b.rng.int(256))}, ${x(b).name}`), op));
  }
  return out;
}

function moves(): Form[] {
  const out: Form[] = [];
  for (const op of ['movdqa', 'movdqu', 'movaps', 'movups', 'movapd', 'movupd']) {
    const aligned = op.includes('a');
    out.push(form(`${op} xmm, xmm`, (b) => { const s = x(b); b.emit(`${op} ${s.name}, ${x(b).name}`); }, op));
    out.push(form(`${op} m128, xmm`, (b) => { const m = b.mem(16, { value: vec(b), align: aligned ? 16 : undefined }); b.emit(`${op} ${m.text}, ${x(b).name}`); }, op));
    out.push(form(`${op} xmm, m128`, (b) => { const m = b.mem(16, { align: aligned ? 16 : undefined }); b.emit(`${op} ${x(b).name}, ${m.text}`); }, op));
    if (aligned) {
      out.push(form(`${op} m128 misaligned (#GP)`, (b) => {
        b.mayFault = true;
        const m = b.mem(16, { off: 0x1000 + 16 * b.rng.int(0x100) + b.rng.range(1, 15) });
        if (b.rng.chance(0.5)) b.emit(`${op} ${m.text}, ${x(b).name}`); else b.emit(`${op} ${x(b).name}, ${m.text}`);
      }, op));
    }
  }
  out.push(form('lddqu m128, xmm', (b) => { const m = b.mem(16, { value: vec(b) }); b.emit(`lddqu ${m.text}, ${x(b).name}`); }, 'lddqu'));
  out.push(form('movntdq xmm, m128', (b) => { const m = b.mem(16, { align: 16 }); b.emit(`movntdq ${x(b).name}, ${m.text}`); }, 'movntdq'));
  out.push(form('movntps xmm, m128', (b) => { const m = b.mem(16, { align: 16 }); b.emit(`movntps ${x(b).name}, ${m.text}`); }, 'movntps'));
  out.push(form('movntpd xmm, m128', (b) => { const m = b.mem(16, { align: 16 }); b.emit(`movntpd ${x(b).name}, ${m.text}`); }, 'movntpd'));
  out.push(form('movntdqa m128, xmm', (b) => { const m = b.mem(16, { value: vec(b), align: 16 }); b.emit(`movntdqa ${m.text}, ${x(b).name}`); }, 'movntdqa'));
  out.push(form('movnti r64, m64', (b) => { const m = b.mem(8); b.emit(`movnti ${b.reg(64).name}, ${m.text}`); }, 'movnti'));
  out.push(form('movnti r32, m32', (b) => { const m = b.mem(4); b.emit(`movnti ${b.reg(32).name}, ${m.text}`); }, 'movnti'));
  // MOVD / MOVQ
  out.push(form('movd r32, xmm', (b) => { const r = b.reg(32); b.emit(`movd ${r.name}, ${x(b).name}`); }, 'movd'));
  out.push(form('movd xmm, r32', (b) => { const s = x(b); b.emit(`movd ${s.name}, ${b.reg(32).name}`); }, 'movd'));
  out.push(form('movd m32, xmm', (b) => { const m = b.mem(4); b.emit(`movd ${m.text}, ${x(b).name}`); }, 'movd'));
  out.push(form('movd xmm, m32', (b) => { const m = b.mem(4); b.emit(`movd ${x(b).name}, ${m.text}`); }, 'movd'));
  out.push(form('movq r64, xmm', (b) => { const r = b.reg(64); b.emit(`movq ${r.name}, ${x(b).name}`); }, 'movq'));
  out.push(form('movq xmm, r64', (b) => { const s = x(b); b.emit(`movq ${s.name}, ${b.reg(64).name}`); }, 'movq'));
  out.push(form('movq m64, xmm', (b) => { const m = b.mem(8); b.emit(`movq ${m.text}, ${x(b).name}`); }, 'movq'));
  out.push(form('movq xmm, m64', (b) => { const m = b.mem(8); b.emit(`movq ${x(b).name}, ${m.text}`); }, 'movq'));
  out.push(form('movq xmm, xmm', (b) => { const s = x(b); b.emit(`movq ${s.name}, ${x(b).name}`); }, 'movq'));
  for (const [op, bytes] of [['movss', 4], ['movsd', 8]] as const) {
    out.push(form(`${op} xmm, xmm`, (b) => { const s = x(b); b.emit(`${op} ${s.name}, ${x(b).name}`); }, op));
    out.push(form(`${op} m, xmm`, (b) => { const m = b.mem(bytes); b.emit(`${op} ${m.text}, ${x(b).name}`); }, op));
    out.push(form(`${op} xmm, m`, (b) => { const m = b.mem(bytes); b.emit(`${op} ${x(b).name}, ${m.text}`); }, op));
  }
  for (const op of ['movlps', 'movhps', 'movlpd', 'movhpd']) {
    out.push(form(`${op} m64, xmm`, (b) => { const m = b.mem(8); b.emit(`${op} ${m.text}, ${x(b).name}`); }, op));
    out.push(form(`${op} xmm, m64`, (b) => { const m = b.mem(8); b.emit(`${op} ${x(b).name}, ${m.text}`); }, op));
  }
  for (const op of ['movhlps', 'movlhps']) out.push(form(`${op} xmm, xmm`, (b) => { const s = x(b); b.emit(`${op} ${s.name}, ${x(b).name}`); }, op));
  out.push(form('movddup xmm, xmm', (b) => { const s = x(b); b.emit(`movddup ${s.name}, ${x(b).name}`); }, 'movddup'));
  out.push(form('movddup m64, xmm', (b) => { const m = b.mem(8); b.emit(`movddup ${m.text}, ${x(b).name}`); }, 'movddup'));
  for (const op of ['movsldup', 'movshdup']) out.push(...binary(op));
  // masks, inserts, extracts
  out.push(form('pmovmskb xmm, r32', (b) => { const s = x(b); b.emit(`pmovmskb ${s.name}, ${b.reg(32).name}`); }, 'pmovmskb'));
  out.push(form('movmskps xmm, r32', (b) => { const s = x(b); b.emit(`movmskps ${s.name}, ${b.reg(32).name}`); }, 'movmskps'));
  out.push(form('movmskpd xmm, r32', (b) => { const s = x(b); b.emit(`movmskpd ${s.name}, ${b.reg(32).name}`); }, 'movmskpd'));
  for (const [op, bytes] of [['pinsrb', 1], ['pinsrw', 2], ['pinsrd', 4], ['pinsrq', 8]] as const) {
    const rw = bytes === 8 ? 64 : 32;
    out.push(form(`${op} imm8, r${rw}, xmm`, (b) => { const r = b.reg(rw); b.emit(`${op} ${$(b.rng.int(256))}, ${r.name}, ${x(b).name}`); }, op));
    out.push(form(`${op} imm8, m${bytes * 8}, xmm`, (b) => { const m = b.mem(bytes); b.emit(`${op} ${$(b.rng.int(256))}, ${m.text}, ${x(b).name}`); }, op));
  }
  for (const [op, bytes] of [['pextrb', 1], ['pextrw', 2], ['pextrd', 4], ['pextrq', 8], ['extractps', 4]] as const) {
    const rw = bytes === 8 ? 64 : 32;
    out.push(form(`${op} imm8, xmm, r${rw}`, (b) => { const s = x(b); b.emit(`${op} ${$(b.rng.int(256))}, ${s.name}, ${b.reg(rw).name}`); }, op));
    out.push(form(`${op} imm8, xmm, m${bytes * 8}`, (b) => { const m = b.mem(bytes); b.emit(`${op} ${$(b.rng.int(256))}, ${x(b).name}, ${m.text}`); }, op));
  }
  out.push(form('insertps imm8, xmm, xmm', (b) => { const s = x(b); b.emit(`insertps ${$(b.rng.int(256))}, ${s.name}, ${x(b).name}`); }, 'insertps'));
  out.push(form('insertps imm8, m32, xmm', (b) => { const m = b.mem(4); b.emit(`insertps ${$(b.rng.int(256))}, ${m.text}, ${x(b).name}`); }, 'insertps'));
  for (const [from, to] of [['b', 'w'], ['b', 'd'], ['b', 'q'], ['w', 'd'], ['w', 'q'], ['d', 'q']] as const) {
    const bytes = { b: 1, w: 2, d: 4, q: 8 };
    const memBytes = (16 / bytes[to]) * bytes[from];
    for (const s of ['s', 'z']) {
      const op = `pmov${s}x${from}${to}`;
      out.push(form(`${op} xmm, xmm`, (b) => { const src = x(b); b.emit(`${op} ${src.name}, ${x(b).name}`); }, op));
      out.push(form(`${op} m${memBytes * 8}, xmm`, (b) => { const m = b.mem(memBytes, { value: vec(b) & ((1n << BigInt(memBytes * 8)) - 1n) }); b.emit(`${op} ${m.text}, ${x(b).name}`); }, op));
    }
  }
  for (const op of ['pblendvb', 'blendvps', 'blendvpd']) {
    out.push(form(`${op} xmm0, xmm, xmm`, (b) => { b.xreg(vec(b), 0); const s = x(b); b.emit(`${op} %xmm0, ${s.name}, ${x(b).name}`); }, op));
    out.push(form(`${op} xmm0, m128, xmm`, (b) => { b.xreg(vec(b), 0); const m = b.mem(16, { value: vec(b), align: 16 }); b.emit(`${op} %xmm0, ${m.text}, ${x(b).name}`); }, op));
  }
  return out;
}

/** A string of 16 bytes (or 8 words) from a small alphabet, with NULs sometimes. */
function strVec(b: CaseBuilder): bigint {
  const alphabet = [0x41, 0x42, 0x43, 0x61, 0x30, 0x7f, 0x80, 0xff, 0];
  let v = 0n;
  for (let k = 0; k < 16; k++) {
    const c = b.rng.chance(0.06) ? 0 : b.rng.chance(0.7) ? b.rng.pick(alphabet.slice(0, 4)) : b.rng.pick(alphabet);
    v |= BigInt(c) << BigInt(8 * k);
  }
  return v;
}

function stringCompare(): Form[] {
  const out: Form[] = [];
  for (const op of ['pcmpistri', 'pcmpistrm', 'pcmpestri', 'pcmpestrm']) {
    const explicit = op.includes('pcmpe');
    const lens = (b: CaseBuilder) => {
      if (!explicit) return;
      const len = () => BigInt(b.rng.chance(0.8) ? b.rng.range(-20, 20) : b.rng.int(1 << 30) * (b.rng.chance(0.5) ? -1 : 1));
      b.reg(64, { idx: 0, value: len() & ((1n << 64n) - 1n) });
      b.reg(64, { idx: 2, value: len() & ((1n << 64n) - 1n) });
    };
    const claim = (b: CaseBuilder) => { if (op.endsWith('i')) b.claim(1); else b.xreg(undefined, 0); };
    out.push(form(`${op} imm8, xmm, xmm`, (b) => {
      lens(b); claim(b);
      const s = b.xreg(strVec(b));
      b.emit(`${op} ${$(b.rng.int(128))}, ${s.name}, ${b.xreg(strVec(b)).name}`);
    }, op));
    out.push(form(`${op} imm8, m128 (unaligned), xmm`, (b) => {
      lens(b); claim(b);
      const m = b.mem(16, { value: strVec(b) });
      b.emit(`${op} ${$(b.rng.int(128))}, ${m.text}, ${b.xreg(strVec(b)).name}`);
    }, op));
    if (explicit) {
      out.push(form(`${op} imm8, xmm, xmm (REX.W lengths)`, (b) => {
        lens(b); claim(b);
        const s = b.xreg(strVec(b));
        b.emit(`${op}q ${$(b.rng.int(128))}, ${s.name}, ${b.xreg(strVec(b)).name}`);
      }, op));
    }
  }
  return out;
}

export function sseForms(): Form[] {
  const out: Form[] = [];
  for (const op of BINARY) out.push(...binary(op, { unaligned: op === 'paddd' || op === 'pxor' || op === 'pshufb' ? 'gp' : undefined }));
  for (const op of IMM_BINARY) out.push(...binary(op, { imm: true }));
  out.push(...shifts(), ...moves(), ...stringCompare());
  return out;
}

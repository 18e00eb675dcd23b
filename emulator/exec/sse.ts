// SSE–SSE4.2 integer, move, shuffle and logic instructions on XMM0–15 (packed and scalar
// floating-point arithmetic lives in ssefp.ts). Every handler first checks the conditions under
// which an SSE instruction may execute (CR0.EM, CR4.OSFXSR → #UD; CR0.TS → #NM); a 16-byte memory
// operand of a legacy-SSE instruction must be 16-byte aligned (#GP(0)) except for the explicitly
// unaligned forms (MOVDQU, MOVUPS, MOVUPD, LDDQU, PCMPxSTRx).
//
// Why one file of this size: it is the table of one family — every integer SSE mnemonic, each
// a record of a few lines over the same lane helpers at the top. Split by extension (SSE2, SSSE3,
// SSE4.1 …) the helpers would have to be shared or repeated, and a reader looking up one mnemonic
// would have to know which extension introduced it.

import { Cpu, Fl } from '../cpu/cpu';
import { setArith } from '../cpu/flags';
import { CpuFault, Vector, gp } from '../cpu/fault';
import { Insn, K } from '../decode/insn';
import type { Handler } from '../decode/insn';
import { ea, readReg, writeReg } from './operands';
import { FEATURE, InsnRecord, rec } from './table';

// ---- views ------------------------------------------------------------------------------

/** Scratch source operand (16 bytes) and its views. */
const TB = new ArrayBuffer(16);
const T8 = new Uint8Array(TB), TI8 = new Int8Array(TB), T16 = new Uint16Array(TB), TI16 = new Int16Array(TB);
const T32 = new Uint32Array(TB), TI32 = new Int32Array(TB);
/** A second scratch (results that read the destination while writing it). */
const RB = new ArrayBuffer(16);
const R8 = new Uint8Array(RB), R16 = new Uint16Array(RB), R32 = new Int32Array(RB);

interface Views { u8: Uint8Array; i8: Int8Array; u16: Uint16Array; i16: Int16Array; u32: Uint32Array; i32: Int32Array }
const viewCache = new WeakMap<ArrayBuffer, Views>();
/** Typed views of a CPU's XMM file (made once per CPU). */
export function xv(c: Cpu): Views {
  let v = viewCache.get(c.xmm);
  if (v === undefined) {
    const b = c.xmm;
    v = { u8: c.x8, i8: new Int8Array(b), u16: c.x16, i16: new Int16Array(b), u32: new Uint32Array(b), i32: c.x32 };
    viewCache.set(b, v);
  }
  return v;
}

// ---- checks and operand access -----------------------------------------------------------

let okCr0 = -1n, okCr4 = -1n;
/** #UD when CR0.EM=1 or CR4.OSFXSR=0, #NM when CR0.TS=1 (SDM Vol. 3A 13.1.3/2.5). */
export function sseCheck(c: Cpu, i: Insn): void {
  if (c.cr0 === okCr0 && c.cr4 === okCr4) return;
  if (c.cr0 & 4n) throw new CpuFault(Vector.UD, undefined, `${i.mnemonic}: CR0.EM is set (SSE instructions raise #UD)`);
  if (!(c.cr4 & 0x200n)) throw new CpuFault(Vector.UD, undefined, `${i.mnemonic}: CR4.OSFXSR is clear (SSE instructions raise #UD)`);
  if (c.cr0 & 8n) throw new CpuFault(Vector.NM, undefined, `${i.mnemonic}: CR0.TS is set (device not available)`);
  okCr0 = c.cr0; okCr4 = c.cr4;
}

const UNALIGNED = new Set(['movdqu', 'movups', 'movupd', 'lddqu', 'pcmpestri', 'pcmpestrm', 'pcmpistri', 'pcmpistrm']);

/** Effective address of a memory operand of `size` bytes, with the legacy-SSE alignment rule. */
export function sseEa(c: Cpu, i: Insn, size: number): number {
  const a = ea(c, i);
  if (size === 16 && a % 16 !== 0 && !UNALIGNED.has(i.mnemonic)) {
    throw gp(`${i.mnemonic}: 16-byte memory operand at 0x${BigInt.asUintN(64, BigInt(a)).toString(16)} is not 16-byte aligned`);
  }
  return a;
}

/** Reads `size` bytes (4, 8 or 16) at `a` into T32 (the rest zeroed). */
function readInto(c: Cpu, a: number, size: number, dst: Uint32Array | Int32Array): void {
  const m = c.mem;
  if (size === 16) {
    dst[0] = m.read64(a); dst[1] = m.hi; dst[2] = m.read64(a + 8); dst[3] = m.hi;
  } else if (size === 8) {
    dst[0] = m.read64(a); dst[1] = m.hi; dst[2] = 0; dst[3] = 0;
  } else if (size === 4) {
    dst[0] = m.read32(a); dst[1] = 0; dst[2] = 0; dst[3] = 0;
  } else if (size === 2) {
    dst[0] = m.read16(a); dst[1] = 0; dst[2] = 0; dst[3] = 0;
  } else {
    dst[0] = m.read8(a); dst[1] = 0; dst[2] = 0; dst[3] = 0;
  }
}

/** Writes `size` bytes (4, 8 or 16) of XMM register `r` to `a` (a 16-byte store is checked whole first). */
function storeXmm(c: Cpu, a: number, size: number, r: number): void {
  const X = c.x32, m = c.mem, o = 4 * r;
  if (size === 16) {
    m.probeWrite(a, 16);
    m.write64(a, X[o], X[o + 1]); m.write64(a + 8, X[o + 2], X[o + 3]);
  } else if (size === 8) m.write64(a, X[o], X[o + 1]);
  else m.write32(a, X[o]);
}

/**
 * Loads source operand `k` (an XMM register or memory of the operand's size) into the scratch T.
 * A memory operand narrower than 16 bytes fills the low bytes and zeroes the rest.
 */
export function loadSrc(c: Cpu, i: Insn, k: number): void {
  const kind = k === 1 ? i.k1 : i.k2, r = k === 1 ? i.r1 : i.r2, s = k === 1 ? i.s1 : i.s2;
  if (kind === K.XMM) {
    const X = c.x32, o = 4 * r;
    T32[0] = X[o]; T32[1] = X[o + 1]; T32[2] = X[o + 2]; T32[3] = X[o + 3];
  } else if (kind === K.MEM) {
    readInto(c, sseEa(c, i, s), s, T32);
  } else throw new Error(`${i.mnemonic}: unexpected source operand kind ${kind}`);
}

/** The scratch views, for other SSE families. */
export const SCRATCH = { TB, T8, T16, T32, TI32 };

function unimpl(i: Insn, why: string): never {
  throw new CpuFault(Vector.UD, undefined, `${i.mnemonic}: ${why}`);
}

// ---- moves ---------------------------------------------------------------------------------

/** MOVDQA MOVDQU MOVAPS MOVUPS MOVAPD MOVUPD LDDQU MOVNTDQ MOVNTPS MOVNTPD MOVNTDQA: 128-bit moves. */
const mov128: Handler = (c, i) => {
  sseCheck(c, i);
  if (i.k0 === K.MEM) {
    if (i.k1 !== K.XMM) unimpl(i, 'bad operands');
    storeXmm(c, sseEa(c, i, 16), 16, i.r1);
    return;
  }
  loadSrc(c, i, 1);
  const X = c.x32, o = 4 * i.r0;
  X[o] = T32[0]; X[o + 1] = T32[1]; X[o + 2] = T32[2]; X[o + 3] = T32[3];
};

function setXmmHalves(c: Cpu, r: number, a: number, b: number, cc: number, d: number): void {
  const X = c.x32, o = 4 * r;
  X[o] = a; X[o + 1] = b; X[o + 2] = cc; X[o + 3] = d;
}

/** MOVD/MOVQ between XMM, GPR and memory: a load into XMM zeroes the bits above. */
const movdq: Handler = (c, i) => {
  sseCheck(c, i);
  const size = i.mnemonic === 'movd' ? 4 : 8;
  if (i.k0 === K.XMM) {
    if (i.k1 === K.REG) {
      const lo = readReg(c, i.r1, size);
      setXmmHalves(c, i.r0, lo, size === 8 ? c.readHigh : 0, 0, 0);
    } else {
      loadSrc(c, i, 1);
      setXmmHalves(c, i.r0, T32[0], size === 8 ? T32[1] : 0, 0, 0);
    }
    return;
  }
  const X = c.x32, o = 4 * i.r1;
  if (i.k0 === K.REG) writeReg(c, i.r0, size, X[o], size === 8 ? X[o + 1] : 0);
  else storeXmm(c, ea(c, i), size, i.r1);
};

/** MOVSS/MOVSD (the SSE2 move, not the string instruction): a load zeroes the rest; register to register merges. */
function movScalar(size: 4 | 8): Handler {
  return (c, i) => {
    sseCheck(c, i);
    if (i.k0 === K.MEM) { storeXmm(c, ea(c, i), size, i.r1); return; }
    const X = c.x32, o = 4 * i.r0;
    if (i.k1 === K.MEM) {
      readInto(c, ea(c, i), size, T32);
      X[o] = T32[0]; X[o + 1] = T32[1]; X[o + 2] = 0; X[o + 3] = 0;
      return;
    }
    const s = 4 * i.r1;
    X[o] = X[s];
    if (size === 8) X[o + 1] = X[s + 1];
  };
}

/** MOVLPS/MOVLPD/MOVHPS/MOVHPD (memory forms) and MOVHLPS/MOVLHPS. */
function movHalf(high: boolean): Handler {
  return (c, i) => {
    sseCheck(c, i);
    const X = c.x32;
    if (i.k0 === K.MEM) {
      const a = ea(c, i), o = 4 * i.r1 + (high ? 2 : 0);
      c.mem.write64(a, X[o], X[o + 1]);
      return;
    }
    const o = 4 * i.r0 + (high ? 2 : 0);
    if (i.k1 === K.MEM) {
      readInto(c, ea(c, i), 8, T32);
      X[o] = T32[0]; X[o + 1] = T32[1];
      return;
    }
    // Register forms: MOVHLPS moves the source's high half low; MOVLHPS its low half high.
    const s = 4 * i.r1 + (high ? 0 : 2);
    X[o] = X[s]; X[o + 1] = X[s + 1];
  };
}

const movhlps: Handler = (c, i) => { sseCheck(c, i); const X = c.x32, d = 4 * i.r0, s = 4 * i.r1; X[d] = X[s + 2]; X[d + 1] = X[s + 3]; };
const movlhps: Handler = (c, i) => { sseCheck(c, i); const X = c.x32, d = 4 * i.r0, s = 4 * i.r1; X[d + 2] = X[s]; X[d + 3] = X[s + 1]; };

/** MOVQ2DQ-free SSE3 duplicates: MOVDDUP MOVSLDUP MOVSHDUP. */
const movddup: Handler = (c, i) => {
  sseCheck(c, i);
  if (i.k1 === K.MEM) readInto(c, ea(c, i), 8, T32); else loadSrc(c, i, 1);
  setXmmHalves(c, i.r0, T32[0], T32[1], T32[0], T32[1]);
};
function movdup(odd: number): Handler {
  return (c, i) => { sseCheck(c, i); loadSrc(c, i, 1); setXmmHalves(c, i.r0, T32[odd], T32[odd], T32[2 + odd], T32[2 + odd]); };
}

/** MOVNTI: a non-temporal GPR store (an ordinary store here). */
const movnti: Handler = (c, i) => {
  const lo = readReg(c, i.r1, i.s1);
  if (i.s1 === 8) c.mem.write64(ea(c, i), lo, c.readHigh); else c.mem.write32(ea(c, i), lo);
};

// ---- packed integer lane operations -----------------------------------------------------------

type VK = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32';
const TV: Record<VK, ArrayLike<number>> = { u8: T8, i8: TI8, u16: T16, i16: TI16, u32: T32, i32: TI32 };
const LANES: Record<VK, number> = { u8: 16, i8: 16, u16: 8, i16: 8, u32: 4, i32: 4 };

/** dst[k] = f(dst[k], src[k]) over the lanes of view `vk` (the typed array wraps the result). */
function lanes(vk: VK, f: (a: number, b: number) => number): Handler {
  const n = LANES[vk], S = TV[vk];
  return (c, i) => {
    sseCheck(c, i);
    loadSrc(c, i, 1);
    const D = xv(c)[vk], o = i.r0 * n;
    for (let k = 0; k < n; k++) D[o + k] = f(D[o + k], S[k]);
  };
}

const sat = (lo: number, hi: number) => (v: number) => (v < lo ? lo : v > hi ? hi : v);
const s8 = sat(-128, 127), u8 = sat(0, 255), s16 = sat(-32768, 32767), u16 = sat(0, 65535);

/** 64-bit lanes as 32-bit halves. */
function qlanes(f: (aLo: number, aHi: number, bLo: number, bHi: number, out: Int32Array, k: number) => void): Handler {
  return (c, i) => {
    sseCheck(c, i);
    loadSrc(c, i, 1);
    const X = c.x32, o = 4 * i.r0;
    f(X[o], X[o + 1], TI32[0], TI32[1], X, o);
    f(X[o + 2], X[o + 3], TI32[2], TI32[3], X, o + 2);
  };
}

const paddq = qlanes((al, ah, bl, bh, out, k) => {
  const lo = (al >>> 0) + (bl >>> 0);
  out[k] = lo | 0; out[k + 1] = (ah + bh + (lo > 0xffffffff ? 1 : 0)) | 0;
});
const psubq = qlanes((al, ah, bl, bh, out, k) => {
  const lo = (al >>> 0) - (bl >>> 0);
  out[k] = lo | 0; out[k + 1] = (ah - bh - (lo < 0 ? 1 : 0)) | 0;
});
function cmp64(al: number, ah: number, bl: number, bh: number): number {
  return ah !== bh ? (ah < bh ? -1 : 1) : al === bl ? 0 : (al >>> 0) < (bl >>> 0) ? -1 : 1;
}
const pcmpeqq = qlanes((al, ah, bl, bh, out, k) => { const v = al === bl && ah === bh ? -1 : 0; out[k] = v; out[k + 1] = v; });
const pcmpgtq = qlanes((al, ah, bl, bh, out, k) => { const v = cmp64(al, ah, bl, bh) > 0 ? -1 : 0; out[k] = v; out[k + 1] = v; });

/** PMULUDQ: unsigned 32×32→64 of the even dwords. */
const pmuludq = qlanes((al, _ah, bl, _bh, out, k) => {
  const p = BigInt(al >>> 0) * BigInt(bl >>> 0);
  out[k] = Number(p & 0xffffffffn) | 0; out[k + 1] = Number(p >> 32n) | 0;
});
/** PMULDQ: signed 32×32→64 of the even dwords. */
const pmuldq = qlanes((al, _ah, bl, _bh, out, k) => {
  const p = BigInt.asUintN(64, BigInt(al) * BigInt(bl));
  out[k] = Number(p & 0xffffffffn) | 0; out[k + 1] = Number(p >> 32n) | 0;
});

/** The bitwise operations, on dwords. */
const bitwise = (f: (a: number, b: number) => number): Handler => lanes('i32', f);

/** PMADDWD: pairs of signed word products summed into dwords. */
const pmaddwd: Handler = (c, i) => {
  sseCheck(c, i); loadSrc(c, i, 1);
  const D = xv(c).i16, o = 8 * i.r0;
  for (let k = 0; k < 4; k++) R32[k] = (D[o + 2 * k] * TI16[2 * k] + D[o + 2 * k + 1] * TI16[2 * k + 1]) | 0;
  const X = c.x32, x = 4 * i.r0;
  for (let k = 0; k < 4; k++) X[x + k] = R32[k];
};

/** PSADBW: sums of absolute byte differences per quadword. */
const psadbw: Handler = (c, i) => {
  sseCheck(c, i); loadSrc(c, i, 1);
  const D = c.x8, o = 16 * i.r0;
  const X = c.x32, x = 4 * i.r0;
  for (let q = 0; q < 2; q++) {
    let s = 0;
    for (let k = 0; k < 8; k++) s += Math.abs(D[o + 8 * q + k] - T8[8 * q + k]);
    X[x + 2 * q] = s; X[x + 2 * q + 1] = 0;
  }
};

/** PMADDUBSW: unsigned bytes of the destination times signed bytes of the source, pairs summed with signed saturation. */
const pmaddubsw: Handler = (c, i) => {
  sseCheck(c, i); loadSrc(c, i, 1);
  const D = c.x8, o = 16 * i.r0;
  for (let k = 0; k < 8; k++) R16[k] = s16(D[o + 2 * k] * TI8[2 * k] + D[o + 2 * k + 1] * TI8[2 * k + 1]);
  const W = c.x16;
  for (let k = 0; k < 8; k++) W[8 * i.r0 + k] = R16[k];
};

/** PHADD/PHSUB families: horizontal pairs of the destination, then of the source. */
function horizontal(vk: 'i16' | 'i32', f: (a: number, b: number) => number): Handler {
  const n = vk === 'i16' ? 8 : 4;
  return (c, i) => {
    sseCheck(c, i); loadSrc(c, i, 1);
    const D = xv(c)[vk], o = n * i.r0, S = vk === 'i16' ? TI16 : TI32;
    const tmp: number[] = [];
    for (let k = 0; k < n / 2; k++) tmp.push(f(D[o + 2 * k], D[o + 2 * k + 1]));
    for (let k = 0; k < n / 2; k++) tmp.push(f(S[2 * k], S[2 * k + 1]));
    for (let k = 0; k < n; k++) D[o + k] = tmp[k];
  };
}

/** PSIGNB/W/D: negate, zero or keep each destination lane by the sign of the source lane. */
function psign(vk: 'i8' | 'i16' | 'i32'): Handler {
  return lanes(vk, (a, b) => (b < 0 ? -a : b === 0 ? 0 : a));
}

/** PABSB/W/D: absolute values of the source lanes. */
function pabs(vk: 'i8' | 'i16' | 'i32'): Handler {
  const n = LANES[vk], S = TV[vk];
  return (c, i) => {
    sseCheck(c, i); loadSrc(c, i, 1);
    const D = xv(c)[vk], o = n * i.r0;
    for (let k = 0; k < n; k++) D[o + k] = Math.abs(S[k]);
  };
}

// ---- masks, shuffles, unpacks, packs ---------------------------------------------------------

const pmovmskb: Handler = (c, i) => {
  sseCheck(c, i);
  const B = c.x8, o = 16 * i.r1;
  let m = 0;
  for (let k = 0; k < 16; k++) m |= (B[o + k] >> 7) << k;
  writeReg(c, i.r0, i.s0, m, 0);
};

function movmsk(ps: boolean): Handler {
  return (c, i) => {
    sseCheck(c, i);
    const X = c.x32, o = 4 * i.r1;
    const m = ps ? ((X[o] >>> 31) | ((X[o + 1] >>> 31) << 1) | ((X[o + 2] >>> 31) << 2) | ((X[o + 3] >>> 31) << 3))
      : ((X[o + 1] >>> 31) | ((X[o + 3] >>> 31) << 1));
    writeReg(c, i.r0, i.s0, m, 0);
  };
}

const pshufd: Handler = (c, i) => {
  sseCheck(c, i); loadSrc(c, i, 1);
  const n = i.immLo;
  setXmmHalves(c, i.r0, T32[n & 3], T32[(n >> 2) & 3], T32[(n >> 4) & 3], T32[(n >> 6) & 3]);
};

function pshufw(high: boolean): Handler {
  return (c, i) => {
    sseCheck(c, i); loadSrc(c, i, 1);
    const n = i.immLo, W = c.x16, o = 8 * i.r0, b = high ? 4 : 0;
    for (let k = 0; k < 8; k++) W[o + k] = T16[k];
    for (let k = 0; k < 4; k++) W[o + b + k] = T16[b + ((n >> (2 * k)) & 3)];
  };
}

const pshufb: Handler = (c, i) => {
  sseCheck(c, i); loadSrc(c, i, 1);
  const B = c.x8, o = 16 * i.r0;
  for (let k = 0; k < 16; k++) R8[k] = T8[k] & 0x80 ? 0 : B[o + (T8[k] & 15)];
  for (let k = 0; k < 16; k++) B[o + k] = R8[k];
};

const palignr: Handler = (c, i) => {
  sseCheck(c, i); loadSrc(c, i, 1);
  const B = c.x8, o = 16 * i.r0, n = i.immLo;
  // The 32-byte concatenation dest:src shifted right by n bytes.
  for (let k = 0; k < 16; k++) {
    const j = k + n;
    R8[k] = j < 16 ? T8[j] : j < 32 ? B[o + j - 16] : 0;
  }
  for (let k = 0; k < 16; k++) B[o + k] = R8[k];
};

/** SHUFPS/SHUFPD. */
const shufps: Handler = (c, i) => {
  sseCheck(c, i); loadSrc(c, i, 1);
  const X = c.x32, o = 4 * i.r0, n = i.immLo;
  setXmmHalves(c, i.r0, X[o + (n & 3)], X[o + ((n >> 2) & 3)], T32[(n >> 4) & 3], T32[(n >> 6) & 3]);
};
const shufpd: Handler = (c, i) => {
  sseCheck(c, i); loadSrc(c, i, 1);
  const X = c.x32, o = 4 * i.r0, n = i.immLo;
  const d = (n & 1) * 2, s = ((n >> 1) & 1) * 2;
  setXmmHalves(c, i.r0, X[o + d], X[o + d + 1], T32[s], T32[s + 1]);
};

/** Interleaves lanes of `bytes` width from the low (or high) halves of destination and source. */
function unpack(bytes: 1 | 2 | 4 | 8, high: boolean): Handler {
  return (c, i) => {
    sseCheck(c, i); loadSrc(c, i, 1);
    const B = c.x8, o = 16 * i.r0, base = high ? 8 : 0;
    let w = 0;
    for (let k = 0; k < 8 / bytes; k++) {
      for (let b = 0; b < bytes; b++) R8[w++] = B[o + base + k * bytes + b];
      for (let b = 0; b < bytes; b++) R8[w++] = T8[base + k * bytes + b];
    }
    for (let k = 0; k < 16; k++) B[o + k] = R8[k];
  };
}

/** PACKSSWB PACKUSWB PACKSSDW PACKUSDW: narrow destination then source lanes with saturation. */
function pack(from: 'i16' | 'i32', clamp: (v: number) => number): Handler {
  const n = from === 'i16' ? 8 : 4;
  return (c, i) => {
    sseCheck(c, i); loadSrc(c, i, 1);
    const D = xv(c)[from], o = n * i.r0, S = from === 'i16' ? TI16 : TI32;
    const out: number[] = [];
    for (let k = 0; k < n; k++) out.push(clamp(D[o + k]));
    for (let k = 0; k < n; k++) out.push(clamp(S[k]));
    if (from === 'i16') { const B = c.x8; for (let k = 0; k < 16; k++) B[16 * i.r0 + k] = out[k]; }
    else { const W = c.x16; for (let k = 0; k < 8; k++) W[8 * i.r0 + k] = out[k]; }
  };
}

// ---- shifts ------------------------------------------------------------------------------------

/** The shift count of PSLL/PSRL/PSRA: an imm8, or the low 64 bits of an XMM/m128 source (saturating). */
function shiftCount(c: Cpu, i: Insn): number {
  if (i.k1 === K.IMM) return i.immLo & 0xff;
  loadSrc(c, i, 1);
  return T32[1] !== 0 || T32[0] > 0xffff ? 0xffff : T32[0];
}

function pshift(bits: 16 | 32 | 64, kind: 'l' | 'r' | 'a'): Handler {
  return (c, i) => {
    sseCheck(c, i);
    const n = shiftCount(c, i);
    const X = c.x32, o = 4 * i.r0;
    if (bits === 16) {
      const W = kind === 'a' ? xv(c).i16 : c.x16, w = 8 * i.r0;
      for (let k = 0; k < 8; k++) {
        if (kind === 'a') W[w + k] = W[w + k] >> (n > 15 ? 15 : n);
        else W[w + k] = n > 15 ? 0 : kind === 'l' ? W[w + k] << n : W[w + k] >>> n;
      }
    } else if (bits === 32) {
      for (let k = 0; k < 4; k++) {
        if (kind === 'a') X[o + k] = X[o + k] >> (n > 31 ? 31 : n);
        else X[o + k] = n > 31 ? 0 : kind === 'l' ? X[o + k] << n : X[o + k] >>> n;
      }
    } else {
      for (let q = 0; q < 2; q++) {
        const lo = X[o + 2 * q], hi = X[o + 2 * q + 1];
        let rl: number, rh: number;
        if (n > 63) { rl = 0; rh = 0; }
        else if (n === 0) { rl = lo; rh = hi; }
        else if (kind === 'l') { if (n >= 32) { rh = lo << (n - 32); rl = 0; } else { rh = (hi << n) | (lo >>> (32 - n)); rl = lo << n; } }
        else { if (n >= 32) { rl = hi >>> (n - 32); rh = 0; } else { rl = (lo >>> n) | (hi << (32 - n)); rh = hi >>> n; } }
        X[o + 2 * q] = rl; X[o + 2 * q + 1] = rh;
      }
    }
  };
}

/** PSLLDQ/PSRLDQ: whole-register byte shifts. */
function pshiftdq(left: boolean): Handler {
  return (c, i) => {
    sseCheck(c, i);
    const n = i.immLo & 0xff, B = c.x8, o = 16 * i.r0;
    for (let k = 0; k < 16; k++) {
      const j = left ? k - n : k + n;
      R8[k] = j >= 0 && j < 16 ? B[o + j] : 0;
    }
    for (let k = 0; k < 16; k++) B[o + k] = R8[k];
  };
}

// ---- inserts, extracts, zero/sign extension, blends, tests ----------------------------------

/** PINSRB/W/D/Q: a GPR or memory value into the lane the immediate selects. */
function pinsr(bytes: 1 | 2 | 4 | 8): Handler {
  return (c, i) => {
    sseCheck(c, i);
    let lo: number, hi = 0;
    if (i.k1 === K.REG) { lo = readReg(c, i.r1, bytes === 8 ? 8 : 4); hi = c.readHigh; }
    else { readInto(c, ea(c, i), bytes, T32); lo = T32[0]; hi = T32[1]; }
    const lanesN = 16 / bytes, k = i.immLo & (lanesN - 1);
    if (bytes === 1) c.x8[16 * i.r0 + k] = lo;
    else if (bytes === 2) c.x16[8 * i.r0 + k] = lo;
    else if (bytes === 4) c.x32[4 * i.r0 + k] = lo;
    else { c.x32[4 * i.r0 + 2 * k] = lo; c.x32[4 * i.r0 + 2 * k + 1] = hi; }
  };
}

/** PEXTRB/W/D/Q and EXTRACTPS: a lane into a GPR (zero-extended) or memory. */
function pextr(bytes: 1 | 2 | 4 | 8): Handler {
  return (c, i) => {
    sseCheck(c, i);
    const lanesN = 16 / bytes, k = i.immLo & (lanesN - 1), r = i.r1;
    let lo: number, hi = 0;
    if (bytes === 1) lo = c.x8[16 * r + k];
    else if (bytes === 2) lo = c.x16[8 * r + k];
    else if (bytes === 4) lo = c.x32[4 * r + k];
    else { lo = c.x32[4 * r + 2 * k]; hi = c.x32[4 * r + 2 * k + 1]; }
    if (i.k0 === K.REG) { writeReg(c, i.r0, i.s0 === 8 ? 8 : 4, lo, i.s0 === 8 ? hi : 0); return; }
    const a = ea(c, i), m = c.mem;
    if (bytes === 1) m.write8(a, lo); else if (bytes === 2) m.write16(a, lo); else if (bytes === 4) m.write32(a, lo); else m.write64(a, lo, hi);
  };
}

/** PMOVZX/PMOVSX: lanes of `from` bytes widened to `to` bytes. The memory source is only as wide as needed. */
function pmovx(from: 1 | 2 | 4, to: 2 | 4 | 8, signed: boolean): Handler {
  const n = 16 / to;
  return (c, i) => {
    sseCheck(c, i);
    if (i.k1 === K.MEM) readInto(c, ea(c, i), n * from, T32); else loadSrc(c, i, 1);
    const vals: number[] = [];
    for (let k = 0; k < n; k++) {
      let v = from === 1 ? T8[k] : from === 2 ? T16[k] : T32[k];
      if (signed) v = from === 1 ? (v << 24) >> 24 : from === 2 ? (v << 16) >> 16 : v | 0;
      vals.push(v);
    }
    const o = i.r0;
    if (to === 2) { const W = c.x16; for (let k = 0; k < 8; k++) W[8 * o + k] = vals[k]; }
    else if (to === 4) { const X = c.x32; for (let k = 0; k < 4; k++) X[4 * o + k] = vals[k]; }
    else { const X = c.x32; for (let k = 0; k < 2; k++) { X[4 * o + 2 * k] = vals[k]; X[4 * o + 2 * k + 1] = signed && vals[k] < 0 ? -1 : 0; } }
  };
}

/** PTEST: ZF = (dst AND src) == 0, CF = (NOT dst AND src) == 0; AF OF PF SF cleared. */
const ptest: Handler = (c, i) => {
  sseCheck(c, i); loadSrc(c, i, 1);
  const X = c.x32, o = 4 * i.r0;
  let and = 0, andn = 0;
  for (let k = 0; k < 4; k++) { and |= X[o + k] & TI32[k]; andn |= ~X[o + k] & TI32[k]; }
  setArith(c, (and === 0 ? Fl.ZF : 0) | (andn === 0 ? Fl.CF : 0));
};

/** PBLENDW / BLENDPS / BLENDPD (immediate) and PBLENDVB / BLENDVPS / BLENDVPD (XMM0 mask). */
function blendImm(bytes: 2 | 4 | 8): Handler {
  return (c, i) => {
    sseCheck(c, i); loadSrc(c, i, 1);
    const B = c.x8, o = 16 * i.r0, n = i.immLo;
    for (let k = 0; k < 16 / bytes; k++) if ((n >> k) & 1) for (let b = 0; b < bytes; b++) B[o + k * bytes + b] = T8[k * bytes + b];
  };
}
function blendVar(bytes: 1 | 4 | 8): Handler {
  return (c, i) => {
    sseCheck(c, i); loadSrc(c, i, 1);
    const B = c.x8, o = 16 * i.r0;
    for (let k = 0; k < 16 / bytes; k++) {
      if (B[(k + 1) * bytes - 1] & 0x80) for (let b = 0; b < bytes; b++) B[o + k * bytes + b] = T8[k * bytes + b];
    }
  };
}

/** PMINPOSUW: the minimum unsigned word and its index. */
const phminposuw: Handler = (c, i) => {
  sseCheck(c, i); loadSrc(c, i, 1);
  let m = T16[0], at = 0;
  for (let k = 1; k < 8; k++) if (T16[k] < m) { m = T16[k]; at = k; }
  setXmmHalves(c, i.r0, m | (at << 16), 0, 0, 0);
};

/** MPSADBW: eight sums of absolute differences of 4-byte groups. */
const mpsadbw: Handler = (c, i) => {
  sseCheck(c, i); loadSrc(c, i, 1);
  const B = c.x8, o = 16 * i.r0, n = i.immLo;
  const so = (n & 3) * 4, dO = ((n >> 2) & 1) * 4;
  for (let k = 0; k < 8; k++) {
    let s = 0;
    for (let j = 0; j < 4; j++) s += Math.abs(B[o + dO + k + j] - T8[so + j]);
    R16[k] = s;
  }
  const W = c.x16;
  for (let k = 0; k < 8; k++) W[8 * i.r0 + k] = R16[k];
};

/** INSERTPS: one single from a register lane (or memory) into a lane, then a zero mask. */
const insertps: Handler = (c, i) => {
  sseCheck(c, i);
  const n = i.immLo;
  let v: number;
  if (i.k1 === K.MEM) { readInto(c, ea(c, i), 4, T32); v = T32[0]; } else v = c.x32[4 * i.r1 + ((n >> 6) & 3)];
  const X = c.x32, o = 4 * i.r0;
  X[o + ((n >> 4) & 3)] = v;
  for (let k = 0; k < 4; k++) if ((n >> k) & 1) X[o + k] = 0;
};

// ---- SSE4.2 string compare ---------------------------------------------------------------------

/**
 * PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM (SDM Vol. 2B 4.1): the aggregation over byte or word
 * elements, signed or unsigned, with explicit (RAX/RDX) or implicit (NUL-terminated) lengths.
 */
function pcmpstr(explicit: boolean, index: boolean): Handler {
  return (c, i) => {
    sseCheck(c, i); loadSrc(c, i, 1);
    const imm = i.immLo, words = (imm & 1) !== 0, signed = (imm & 2) !== 0;
    const n = words ? 8 : 16;
    const A: number[] = [], Bv: number[] = [];
    const o = i.r0;
    for (let k = 0; k < n; k++) {
      let a = words ? c.x16[8 * o + k] : c.x8[16 * o + k];
      let b = words ? T16[k] : T8[k];
      if (signed) { a = words ? (a << 16) >> 16 : (a << 24) >> 24; b = words ? (b << 16) >> 16 : (b << 24) >> 24; }
      A.push(a); Bv.push(b);
    }
    let la: number, lb: number;
    if (explicit) {
      // EAX/EDX (RAX/RDX with REX.W) as signed lengths; the absolute value saturates at n.
      const w = /64/.test(i.codeName);
      const len = (r: number) => {
        const lo = c.r[2 * r], hi = c.r[2 * r + 1];
        if (w) {
          const v = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo >>> 0));
          const m = v < 0n ? -v : v;
          return m > BigInt(n) ? n : Number(m);
        }
        return Math.min(Math.abs(lo | 0), n);
      };
      la = len(0); lb = len(2);
    } else {
      la = A.indexOf(0); if (la < 0) la = n;
      lb = Bv.indexOf(0); if (lb < 0) lb = n;
    }
    const agg = (imm >> 2) & 3;
    let res = 0;
    for (let j = 0; j < n; j++) {
      const bValid = j < lb;
      let bit = 0;
      if (agg === 0) { // equal any
        if (bValid) for (let k = 0; k < la; k++) if (A[k] === Bv[j]) { bit = 1; break; }
      } else if (agg === 1) { // ranges
        if (bValid) for (let k = 0; k + 1 < la; k += 2) if (Bv[j] >= A[k] && Bv[j] <= A[k + 1]) { bit = 1; break; }
      } else if (agg === 2) { // equal each
        const aValid = j < la;
        bit = aValid && bValid ? (A[j] === Bv[j] ? 1 : 0) : !aValid && !bValid ? 1 : 0;
      } else { // equal ordered: A (the needle) starts at element j of B
        bit = 1;
        for (let k = 0; k < n - j; k++) {
          if (k >= la) break;
          if (j + k >= lb || A[k] !== Bv[j + k]) { bit = 0; break; }
        }
      }
      res |= bit << j;
    }
    // Polarity.
    const pol = (imm >> 4) & 3, full = (1 << n) - 1;
    let r2 = res;
    if (pol === 1) r2 = ~res & full;
    else if (pol === 3) r2 = res ^ ((1 << lb) - 1);
    r2 &= full;
    if (index) {
      let idx: number;
      if (r2 === 0) idx = n;
      else idx = imm & 0x40 ? 31 - Math.clz32(r2) : 31 - Math.clz32(r2 & -r2);
      writeReg(c, 1, 4, idx, 0);
    } else {
      const X = c.x32;
      if (imm & 0x40) {
        for (let k = 0; k < n; k++) {
          const v = (r2 >> k) & 1 ? -1 : 0;
          if (words) c.x16[k] = v; else c.x8[k] = v;
        }
      } else { X[0] = r2; X[1] = 0; X[2] = 0; X[3] = 0; }
    }
    setArith(c, (r2 !== 0 ? Fl.CF : 0) | (lb < n ? Fl.ZF : 0) | (la < n ? Fl.SF : 0) | (r2 & 1 ? Fl.OF : 0));
  };
}

// ---- the table -------------------------------------------------------------------------------

const avg = (a: number, b: number) => (a + b + 1) >> 1;

const sseHandlers: Record<string, Handler> = {
  movdqa: mov128, movdqu: mov128, movaps: mov128, movups: mov128, movapd: mov128, movupd: mov128,
  lddqu: mov128, movntdq: mov128, movntps: mov128, movntpd: mov128, movntdqa: mov128,
  movd: movdq, movq: movdq, movss: movScalar(4), movsd: movScalar(8),
  movlps: movHalf(false), movlpd: movHalf(false), movhps: movHalf(true), movhpd: movHalf(true),
  movhlps, movlhps, movddup, movsldup: movdup(0), movshdup: movdup(1),

  paddb: lanes('u8', (a, b) => a + b), paddw: lanes('u16', (a, b) => a + b), paddd: lanes('i32', (a, b) => a + b), paddq,
  psubb: lanes('u8', (a, b) => a - b), psubw: lanes('u16', (a, b) => a - b), psubd: lanes('i32', (a, b) => a - b), psubq,
  paddsb: lanes('i8', (a, b) => s8(a + b)), paddsw: lanes('i16', (a, b) => s16(a + b)),
  paddusb: lanes('u8', (a, b) => u8(a + b)), paddusw: lanes('u16', (a, b) => u16(a + b)),
  psubsb: lanes('i8', (a, b) => s8(a - b)), psubsw: lanes('i16', (a, b) => s16(a - b)),
  psubusb: lanes('u8', (a, b) => u8(a - b)), psubusw: lanes('u16', (a, b) => u16(a - b)),
  pmullw: lanes('i16', (a, b) => Math.imul(a, b)), pmulhw: lanes('i16', (a, b) => (a * b) >> 16),
  pmulhuw: lanes('u16', (a, b) => (a * b) >>> 16), pmulld: lanes('i32', (a, b) => Math.imul(a, b)),
  pmulhrsw: lanes('i16', (a, b) => (((a * b) >> 14) + 1) >> 1),
  pmuludq, pmuldq, pmaddwd, psadbw, pmaddubsw,
  pavgb: lanes('u8', avg), pavgw: lanes('u16', avg),
  pand: bitwise((a, b) => a & b), pandn: bitwise((a, b) => ~a & b), por: bitwise((a, b) => a | b), pxor: bitwise((a, b) => a ^ b),
  andps: bitwise((a, b) => a & b), andnps: bitwise((a, b) => ~a & b), orps: bitwise((a, b) => a | b), xorps: bitwise((a, b) => a ^ b),
  andpd: bitwise((a, b) => a & b), andnpd: bitwise((a, b) => ~a & b), orpd: bitwise((a, b) => a | b), xorpd: bitwise((a, b) => a ^ b),
  pcmpeqb: lanes('u8', (a, b) => (a === b ? 0xff : 0)), pcmpeqw: lanes('u16', (a, b) => (a === b ? 0xffff : 0)),
  pcmpeqd: lanes('i32', (a, b) => (a === b ? -1 : 0)), pcmpeqq,
  pcmpgtb: lanes('i8', (a, b) => (a > b ? -1 : 0)), pcmpgtw: lanes('i16', (a, b) => (a > b ? -1 : 0)),
  pcmpgtd: lanes('i32', (a, b) => (a > b ? -1 : 0)), pcmpgtq,
  pmaxub: lanes('u8', Math.max), pminub: lanes('u8', Math.min), pmaxsw: lanes('i16', Math.max), pminsw: lanes('i16', Math.min),
  pmaxsb: lanes('i8', Math.max), pminsb: lanes('i8', Math.min), pmaxuw: lanes('u16', Math.max), pminuw: lanes('u16', Math.min),
  pmaxsd: lanes('i32', Math.max), pminsd: lanes('i32', Math.min), pmaxud: lanes('u32', Math.max), pminud: lanes('u32', Math.min),
  pabsb: pabs('i8'), pabsw: pabs('i16'), pabsd: pabs('i32'),
  psignb: psign('i8'), psignw: psign('i16'), psignd: psign('i32'),
  phaddw: horizontal('i16', (a, b) => a + b), phaddd: horizontal('i32', (a, b) => a + b),
  phsubw: horizontal('i16', (a, b) => a - b), phsubd: horizontal('i32', (a, b) => a - b),
  phaddsw: horizontal('i16', (a, b) => s16(a + b)), phsubsw: horizontal('i16', (a, b) => s16(a - b)),

  pmovmskb, movmskps: movmsk(true), movmskpd: movmsk(false),
  pshufd, pshuflw: pshufw(false), pshufhw: pshufw(true), pshufb, palignr, shufps, shufpd,
  punpcklbw: unpack(1, false), punpcklwd: unpack(2, false), punpckldq: unpack(4, false), punpcklqdq: unpack(8, false),
  punpckhbw: unpack(1, true), punpckhwd: unpack(2, true), punpckhdq: unpack(4, true), punpckhqdq: unpack(8, true),
  unpcklps: unpack(4, false), unpckhps: unpack(4, true), unpcklpd: unpack(8, false), unpckhpd: unpack(8, true),
  packsswb: pack('i16', s8), packuswb: pack('i16', u8), packssdw: pack('i32', s16), packusdw: pack('i32', u16),

  psllw: pshift(16, 'l'), pslld: pshift(32, 'l'), psllq: pshift(64, 'l'),
  psrlw: pshift(16, 'r'), psrld: pshift(32, 'r'), psrlq: pshift(64, 'r'),
  psraw: pshift(16, 'a'), psrad: pshift(32, 'a'),
  pslldq: pshiftdq(true), psrldq: pshiftdq(false),

  pinsrb: pinsr(1), pinsrw: pinsr(2), pinsrd: pinsr(4), pinsrq: pinsr(8),
  pextrb: pextr(1), pextrw: pextr(2), pextrd: pextr(4), pextrq: pextr(8), extractps: pextr(4), insertps,
  pmovzxbw: pmovx(1, 2, false), pmovzxbd: pmovx(1, 4, false), pmovzxbq: pmovx(1, 8, false),
  pmovzxwd: pmovx(2, 4, false), pmovzxwq: pmovx(2, 8, false), pmovzxdq: pmovx(4, 8, false),
  pmovsxbw: pmovx(1, 2, true), pmovsxbd: pmovx(1, 4, true), pmovsxbq: pmovx(1, 8, true),
  pmovsxwd: pmovx(2, 4, true), pmovsxwq: pmovx(2, 8, true), pmovsxdq: pmovx(4, 8, true),
  ptest, pblendw: blendImm(2), blendps: blendImm(4), blendpd: blendImm(8),
  pblendvb: blendVar(1), blendvps: blendVar(4), blendvpd: blendVar(8),
  phminposuw, mpsadbw,
  pcmpestri: pcmpstr(true, true), pcmpestrm: pcmpstr(true, false), pcmpistri: pcmpstr(false, true), pcmpistrm: pcmpstr(false, false),
  pcmpestri64: pcmpstr(true, true), pcmpestrm64: pcmpstr(true, false),
};

/** The SSE extension each mnemonic belongs to (Intel SDM Vol. 2, the CPUID feature flag of each instruction); the rest is SSE2. */
const LEVEL: [typeof FEATURE[keyof typeof FEATURE], string][] = [
  [FEATURE.SSE, 'movaps movups movss movlps movhps movhlps movlhps movntps movmskps andps andnps orps xorps shufps unpcklps unpckhps ' +
    'addps addss subps subss mulps mulss divps divss sqrtps sqrtss minps minss maxps maxss cmpps cmpss comiss ucomiss ' +
    'cvtsi2ss cvtss2si cvttss2si rcpps rcpss rsqrtps rsqrtss ldmxcsr stmxcsr'],
  [FEATURE.SSE3, 'movddup movsldup movshdup lddqu haddps haddpd hsubps hsubpd addsubps addsubpd'],
  [FEATURE.SSSE3, 'pshufb palignr pabsb pabsw pabsd psignb psignw psignd phaddw phaddd phsubw phsubd phaddsw phsubsw pmaddubsw pmulhrsw'],
  [FEATURE.SSE41, 'pmulld pmuldq pcmpeqq packusdw pmaxsb pminsb pmaxuw pminuw pmaxsd pminsd pmaxud pminud phminposuw ptest ' +
    'pblendw blendps blendpd pblendvb blendvps blendvpd pinsrb pinsrd pinsrq pextrb pextrd pextrq extractps insertps mpsadbw movntdqa ' +
    'pmovzxbw pmovzxbd pmovzxbq pmovzxwd pmovzxwq pmovzxdq pmovsxbw pmovsxbd pmovsxbq pmovsxwd pmovsxwq pmovsxdq ' +
    'roundss roundsd roundps roundpd dpps dppd'],
  [FEATURE.SSE42, 'pcmpgtq pcmpestri pcmpestrm pcmpistri pcmpistrm pcmpestri64 pcmpestrm64'],
  [FEATURE.FXSR, 'fxsave fxrstor fxsave64 fxrstor64'],
];
const FEATURE_OF = new Map<string, typeof FEATURE[keyof typeof FEATURE]>();
for (const [f, names] of LEVEL) for (const n of names.split(' ')) FEATURE_OF.set(n, f);

/** The CPUID feature of an SSE-family mnemonic. */
export function sseFeature(mnemonic: string): typeof FEATURE[keyof typeof FEATURE] {
  return FEATURE_OF.get(mnemonic) ?? FEATURE.SSE2;
}

/** Records of SSE-family forms with an XMM operand (`xmm`) or without one. */
export function sseRecords(handlers: Record<string, Handler>, xmm: boolean, diff: (m: string) => readonly string[] | false | undefined = () => undefined): InsnRecord[] {
  return Object.entries(handlers).map(([m, h]) => rec(m, h, { cpuid: sseFeature(m), xmm: xmm || undefined, diff: diff(m) }));
}

// PCMPESTRI/M with REX.W are their own iced-x86 mnemonics; the differential suite checks them in the pcmpestri/m groups.
export const records: InsnRecord[] = [
  ...sseRecords(sseHandlers, true, (m) => (m.endsWith('64') ? [m.slice(0, -2)] : undefined)),
  rec('movnti', movnti, { cpuid: FEATURE.SSE2 }),
];

// Scalar extensions beyond the base integer set: BMI1 (ANDN BEXTR BLSI BLSMSK BLSR), BMI2 (BZHI
// PDEP PEXT SARX SHLX SHRX RORX MULX), ADX (ADCX ADOX), LAHF/SAHF, MOVBE, CMPXCHG8B, XLAT, CRC32,
// RDRAND/RDSEED (deterministic: a generator seeded from the launch `seed`), UD0/UD1. Widths are
// handled as BigInt: these are rare in hot loops and exactness matters more here.

import { Cpu, Fl } from '../cpu/cpu';
import { getRflags, materialize, setArith } from '../cpu/flags';
import { CpuFault, Vector } from '../cpu/fault';
import { Insn, K } from '../decode/insn';
import type { Handler } from '../decode/insn';
import { ea, rd1, rd2, readMem, readReg, writeMem, writeReg } from './operands';
import { FEATURE, InsnRecord, rec } from './table';

const M64 = (1n << 64n) - 1n;

function big(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

function mask(bits: number): bigint {
  return (1n << BigInt(bits)) - 1n;
}

/** Operand k (1 or 2) as an unsigned value of its size. */
function src(c: Cpu, i: Insn, k: 1 | 2): bigint {
  const lo = k === 1 ? rd1(c, i) : rd2(c, i);
  const s = k === 1 ? i.s1 : i.s2;
  return big(lo, c.readHigh) & mask(8 * s);
}

function put(c: Cpu, r: number, size: number, v: bigint): void {
  v = BigInt.asUintN(64, v);
  writeReg(c, r, size, Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
}

/** SF and ZF from a result of `bits` bits. */
function sz(v: bigint, bits: number): number {
  return (v === 0n ? Fl.ZF : 0) | ((v >> BigInt(bits - 1)) & 1n ? Fl.SF : 0);
}

// ---- BMI1 ------------------------------------------------------------------------------------

const andn: Handler = (c, i) => {
  const n = i.s0 * 8, r = ~src(c, i, 1) & src(c, i, 2) & mask(n);
  put(c, i.r0, i.s0, r);
  setArith(c, sz(r, n));
};

const bextr: Handler = (c, i) => {
  const n = i.s0 * 8, v = src(c, i, 1), ctl = Number(src(c, i, 2) & 0xffffn);
  const start = ctl & 0xff, len = ctl >> 8;
  const r = start >= n ? 0n : (v >> BigInt(start)) & mask(Math.min(len, n));
  put(c, i.r0, i.s0, r);
  setArith(c, r === 0n ? Fl.ZF : 0);
};

function blsx(kind: 'i' | 'msk' | 'r'): Handler {
  return (c, i) => {
    const n = i.s0 * 8, v = src(c, i, 1), m = mask(n);
    const r = kind === 'i' ? -v & v & m : kind === 'msk' ? ((v - 1n) ^ v) & m : ((v - 1n) & v) & m;
    put(c, i.r0, i.s0, r);
    const cf = kind === 'i' ? v !== 0n : v === 0n;
    setArith(c, (kind === 'msk' ? (r >> BigInt(n - 1)) & 1n ? Fl.SF : 0 : sz(r, n)) | (cf ? Fl.CF : 0));
  };
}

// ---- BMI2 ------------------------------------------------------------------------------------

const bzhi: Handler = (c, i) => {
  const n = i.s0 * 8, v = src(c, i, 1), idx = Number(src(c, i, 2) & 0xffn);
  const r = idx < n ? v & mask(idx) : v;
  put(c, i.r0, i.s0, r);
  setArith(c, sz(r, n) | (idx > n - 1 ? Fl.CF : 0));
};

function pdepext(dep: boolean): Handler {
  return (c, i) => {
    const n = i.s0 * 8, v = src(c, i, 1), m = src(c, i, 2);
    let r = 0n, k = 0n;
    for (let b = 0n; b < BigInt(n); b++) {
      if (!((m >> b) & 1n)) continue;
      if (dep) { if ((v >> k) & 1n) r |= 1n << b; } else if ((v >> b) & 1n) r |= 1n << k;
      k++;
    }
    put(c, i.r0, i.s0, r);
  };
}

function shiftx(kind: 'sar' | 'shl' | 'shr'): Handler {
  return (c, i) => {
    const n = i.s0 * 8, v = src(c, i, 1), cnt = src(c, i, 2) & BigInt(n - 1);
    const r = kind === 'shl' ? (v << cnt) & mask(n) : kind === 'shr' ? v >> cnt : BigInt.asUintN(n, BigInt.asIntN(n, v) >> cnt);
    put(c, i.r0, i.s0, r);
  };
}

const rorx: Handler = (c, i) => {
  const n = i.s0 * 8, v = src(c, i, 1), k = BigInt(i.immLo & (n - 1));
  put(c, i.r0, i.s0, ((v >> k) | (v << (BigInt(n) - k))) & mask(n));
};

/** MULX hi, lo, r/m: RDX/EDX × source; the low half is written first, so one register gets the high half. */
const mulx: Handler = (c, i) => {
  const n = i.s0 * 8;
  const a = big(readReg(c, 2, i.s0), c.readHigh) & mask(n), b = src(c, i, 2);
  const p = a * b;
  put(c, i.r1, i.s0, p & mask(n));
  put(c, i.r0, i.s0, p >> BigInt(n));
};

// ---- ADX, LAHF/SAHF ----------------------------------------------------------------------------

/** ADCX (carry in and out through CF) and ADOX (through OF); no other flag changes. */
function adx(flag: number): Handler {
  return (c, i) => {
    const n = i.s0 * 8;
    materialize(c);
    const cin = c.flags & flag ? 1n : 0n;
    const s = big(readReg(c, i.r0, i.s0), c.readHigh) + src(c, i, 1) + cin;
    put(c, i.r0, i.s0, s & mask(n));
    c.flags = (c.flags & ~flag) | (s >> BigInt(n) ? flag : 0);
  };
}

const lahf: Handler = (c) => {
  const f = getRflags(c) & 0xd7; // SF ZF AF PF CF and bit 1
  writeReg(c, 16, 1, f | 2, 0);
};

const sahf: Handler = (c) => {
  const ah = (c.r[0] >> 8) & 0xff;
  materialize(c);
  c.flags = (c.flags & ~0xd5) | (ah & 0xd5);
};

// ---- MOVBE, CMPXCHG8B, XLAT, CRC32 -----------------------------------------------------------

function bswap(v: bigint, bytes: number): bigint {
  let r = 0n;
  for (let k = 0; k < bytes; k++) r |= ((v >> BigInt(8 * k)) & 0xffn) << BigInt(8 * (bytes - 1 - k));
  return r;
}

const movbe: Handler = (c, i) => {
  if (i.k0 === K.REG) { put(c, i.r0, i.s0, bswap(big(readMem(c, ea(c, i), i.s1), c.readHigh), i.s1)); return; }
  const v = bswap(big(readReg(c, i.r1, i.s1), c.readHigh) & mask(8 * i.s1), i.s1);
  writeMem(c, ea(c, i), i.s1, Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
};

/** CMPXCHG8B m64: EDX:EAX against memory; ECX:EBX stored on a match, else the value loaded (the destination is written either way). */
const cmpxchg8b: Handler = (c, i) => {
  const a = ea(c, i);
  c.mem.probeWrite(a, 8);
  const lo = c.mem.read64(a), hi = c.mem.hi;
  const R = c.r;
  const equal = R[0] === lo && R[4] === hi;
  if (equal) c.mem.write64(a, R[6], R[2]);
  else { c.mem.write64(a, lo, hi); writeReg(c, 0, 4, lo, 0); writeReg(c, 2, 4, hi, 0); }
  materialize(c);
  c.flags = (c.flags & ~Fl.ZF) | (equal ? Fl.ZF : 0);
};

/** XLAT: AL = [RBX + AL] (EBX with a 0x67 prefix; a segment override applies). */
const xlat: Handler = (c, i) => {
  const al = c.r[0] & 0xff;
  let a: number;
  if (i.mA32) a = ((c.r[6] >>> 0) + al) % 4294967296;
  else {
    const lo = (c.r[6] >>> 0) + al;
    a = c.r[7] * 4294967296 + lo;
  }
  if (i.mSeg !== 0) a += i.mSeg === 1 ? c.fsBase : c.gsBase;
  writeReg(c, 0, 1, c.mem.read8(a), 0);
};

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let x = n;
    for (let k = 0; k < 8; k++) x = x & 1 ? (x >>> 1) ^ 0x82f63b78 : x >>> 1;
    t[n] = x;
  }
  return t;
})();

/** CRC32 (the CRC-32C polynomial, reflected) of the source's bytes into the destination's low 32 bits. */
const crc32: Handler = (c, i) => {
  let crc = readReg(c, i.r0, 4) >>> 0;
  const v = src(c, i, 1);
  for (let k = 0; k < i.s1; k++) crc = (CRC_TABLE[(crc ^ Number((v >> BigInt(8 * k)) & 0xffn)) & 0xff] ^ (crc >>> 8)) >>> 0;
  writeReg(c, i.r0, i.s0, crc | 0, 0);
};

// ---- RDRAND/RDSEED, UD0/UD1 ----------------------------------------------------------------

/** A 64-bit xorshift* step of the processor's generator (state in Cpu.rngState, seeded by the session). */
function nextRandom(c: Cpu): bigint {
  let x = c.rngState || 0x9e3779b97f4a7c15n;
  x ^= x >> 12n; x ^= (x << 25n) & M64; x ^= x >> 27n;
  c.rngState = x;
  return (x * 0x2545f4914f6cdd1dn) & M64;
}

/** RDRAND/RDSEED: always succeed (CF=1, OF SF ZF AF PF cleared) with the next value of the seeded generator. */
const rdrand: Handler = (c, i) => {
  put(c, i.r0, i.s0, nextRandom(c) & mask(8 * i.s0));
  setArith(c, Fl.CF);
};

const ud: Handler = (_c, i) => {
  throw new CpuFault(Vector.UD, undefined, `${i.mnemonic}: undefined instruction (raises #UD by definition)`);
};


export const records: InsnRecord[] = [
  rec('andn', andn, { cpuid: FEATURE.BMI1, undefinedFlags: Fl.AF | Fl.PF }),
  rec('bextr', bextr, { cpuid: FEATURE.BMI1, undefinedFlags: Fl.AF | Fl.SF | Fl.PF }),
  rec('blsi', blsx('i'), { cpuid: FEATURE.BMI1, undefinedFlags: Fl.AF | Fl.PF }),
  rec('blsmsk', blsx('msk'), { cpuid: FEATURE.BMI1, undefinedFlags: Fl.AF | Fl.PF }),
  rec('blsr', blsx('r'), { cpuid: FEATURE.BMI1, undefinedFlags: Fl.AF | Fl.PF }),
  rec('bzhi', bzhi, { cpuid: FEATURE.BMI2, undefinedFlags: Fl.AF | Fl.PF }),
  rec('pdep', pdepext(true), { cpuid: FEATURE.BMI2 }),
  rec('pext', pdepext(false), { cpuid: FEATURE.BMI2 }),
  rec('sarx', shiftx('sar'), { cpuid: FEATURE.BMI2 }),
  rec('shlx', shiftx('shl'), { cpuid: FEATURE.BMI2 }),
  rec('shrx', shiftx('shr'), { cpuid: FEATURE.BMI2 }),
  rec('rorx', rorx, { cpuid: FEATURE.BMI2 }),
  rec('mulx', mulx, { cpuid: FEATURE.BMI2 }),
  rec('adcx', adx(Fl.CF), { cpuid: FEATURE.ADX }),
  rec('adox', adx(Fl.OF), { cpuid: FEATURE.ADX }),
  rec('lahf', lahf, { cpuid: FEATURE.LAHF }),
  rec('sahf', sahf, { cpuid: FEATURE.LAHF }),
  rec('movbe', movbe, { cpuid: FEATURE.MOVBE }),
  rec('cmpxchg8b', cmpxchg8b, { cpuid: FEATURE.CX8, lockable: true, withoutFeature: 'runs' }),
  rec('xlat', xlat, { mnemonics: ['xlatb'], asm: ['xlat'] }),
  rec('crc32', crc32, { cpuid: FEATURE.SSE42 }),
  // Values from a generator, not the host's entropy: the suite checks them by unit tests.
  rec('rdrand', rdrand, { cpuid: FEATURE.RDRAND, diff: false }),
  rec('rdseed', rdrand, { cpuid: FEATURE.RDSEED, diff: false }),
  rec('ud0', ud, { solo: true }),
  rec('ud1', ud, { solo: true }),
];

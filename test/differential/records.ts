// Binary records exchanged with the native driver: the input file (per case: GPRs, RFLAGS,
// buffer seed, buffer patches) and the result file (final GPRs, RFLAGS, RIP, case addresses,
// fault vector, exit taken, changed buffer bytes). Little endian throughout.

import type { Case } from './builder';

/** What one case did, natively or in the emulator. */
export interface Outcome {
  regs: bigint[];
  rflags: bigint;
  xmm: bigint[];
  mxcsr: number;
  /** #PF: the faulting linear address (CR2; si_addr natively). */
  cr2: bigint;
  rip: bigint;
  /** CPU exception vector, or -1 when the case reached an exit label. */
  vector: number;
  errorCode: number;
  /** Changed buffer bytes: offset → final value. */
  memory: Map<number, number>;
}

/** A native result also carries the case's code addresses, read from the program's table. */
export interface NativeResult extends Outcome {
  start: bigint;
  end0: bigint;
  end1: bigint;
}

/** XMM0–15 then MXCSR (padded to 8 bytes): the same block in the input and result records. */
export const XMM_BYTES = 16 * 16 + 8;

function writeXmm(buf: Buffer, o: number, xmm: readonly bigint[], mxcsr: number): void {
  for (let i = 0; i < 16; i++) {
    buf.writeBigUInt64LE(xmm[i] & 0xffffffffffffffffn, o + 16 * i);
    buf.writeBigUInt64LE(xmm[i] >> 64n, o + 16 * i + 8);
  }
  buf.writeUInt32LE(mxcsr >>> 0, o + 256);
}

function readXmm(buf: Buffer, o: number): { xmm: bigint[]; mxcsr: number } {
  const xmm: bigint[] = [];
  for (let i = 0; i < 16; i++) xmm.push(buf.readBigUInt64LE(o + 16 * i) | (buf.readBigUInt64LE(o + 16 * i + 8) << 64n));
  return { xmm, mxcsr: buf.readUInt32LE(o + 256) };
}

export function encodeInputs(cases: readonly Case[]): Buffer {
  let size = 16;
  for (const c of cases) {
    size += 17 * 8 + XMM_BYTES + 8;
    for (const p of c.patches) size += 8 + ((p.bytes.length + 7) & ~7);
  }
  const buf = Buffer.alloc(size);
  buf.write('TDXDIFF1', 0, 'latin1');
  buf.writeUInt32LE(cases.length, 8);
  let o = 16;
  for (const c of cases) {
    for (const r of c.regs) {
      buf.writeBigUInt64LE(r, o);
      o += 8;
    }
    buf.writeBigUInt64LE(c.rflags, o);
    o += 8;
    writeXmm(buf, o, c.xmm, c.mxcsr);
    o += XMM_BYTES;
    buf.writeUInt32LE(c.seed >>> 0, o);
    buf.writeUInt32LE(c.patches.length, o + 4);
    o += 8;
    for (const p of c.patches) {
      buf.writeUInt32LE(p.off, o);
      buf.writeUInt32LE(p.bytes.length, o + 4);
      buf.set(p.bytes, o + 8);
      o += 8 + ((p.bytes.length + 7) & ~7);
    }
  }
  return buf;
}

export function decodeResults(buf: Buffer): NativeResult[] {
  if (buf.toString('latin1', 0, 8) !== 'TDXDOUT1') throw new Error('native results: bad magic');
  const n = buf.readUInt32LE(8);
  const out: NativeResult[] = [];
  let o = 16;
  for (let c = 0; c < n; c++) {
    const regs: bigint[] = [];
    for (let i = 0; i < 16; i++) regs.push(buf.readBigUInt64LE(o + i * 8));
    const rflags = buf.readBigUInt64LE(o + 128);
    const rip = buf.readBigUInt64LE(o + 136);
    const start = buf.readBigUInt64LE(o + 144);
    const end0 = buf.readBigUInt64LE(o + 152);
    const end1 = buf.readBigUInt64LE(o + 160);
    const vector = buf.readInt32LE(o + 168);
    const errorCode = buf.readUInt32LE(o + 172);
    const nd = buf.readUInt32LE(o + 180);
    o += 184;
    const { xmm, mxcsr } = readXmm(buf, o);
    const cr2 = buf.readBigUInt64LE(o + XMM_BYTES);
    o += XMM_BYTES + 8;
    const memory = new Map<number, number>();
    for (let k = 0; k < nd; k++) {
      const v = buf.readUInt32LE(o + 4 * k);
      memory.set(v >>> 8, v & 0xff);
    }
    o += 4 * nd;
    out.push({ regs, rflags, xmm, mxcsr, cr2, rip, start, end0, end1, vector, errorCode, memory });
  }
  if (o !== buf.length) throw new Error(`native results: ${buf.length - o} trailing bytes`);
  return out;
}

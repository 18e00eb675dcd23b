// The only importer of iced-x86 for decoding and formatting: bytes in, plain `Insn` records
// and text out. Every iced object is freed before returning.

import {
  Code, Decoder, DecoderOptions, DecoderError, Formatter, FormatterSyntax, Mnemonic, OpKind, Register,
  RegisterExt, MemorySizeExt, Instruction,
} from 'iced-x86';
import { Insn, K } from './insn';

interface RegInfo { kind: K; num: number; size: number }
const regInfo: RegInfo[] = [];

const LEGACY = ['AX', 'CX', 'DX', 'BX', 'SP', 'BP', 'SI', 'DI'];

/** GPR number and size by iced's register name (AH..BH are 16..19). */
function gprByName(name: string): RegInfo {
  let m = /^R(\d+)([DWL]?)$/.exec(name);
  if (m) return { kind: K.REG, num: Number(m[1]), size: m[2] === 'D' ? 4 : m[2] === 'W' ? 2 : m[2] === 'L' ? 1 : 8 };
  if (name.length === 3 && (name[0] === 'R' || name[0] === 'E') && LEGACY.includes(name.slice(1))) {
    return { kind: K.REG, num: LEGACY.indexOf(name.slice(1)), size: name[0] === 'R' ? 8 : 4 };
  }
  if (LEGACY.includes(name)) return { kind: K.REG, num: LEGACY.indexOf(name), size: 2 };
  const b8 = ['AL', 'CL', 'DL', 'BL', 'SPL', 'BPL', 'SIL', 'DIL'].indexOf(name);
  if (b8 >= 0) return { kind: K.REG, num: b8, size: 1 };
  const h8 = ['AH', 'CH', 'DH', 'BH'].indexOf(name);
  if (h8 >= 0) return { kind: K.REG, num: 16 + h8, size: 1 };
  m = /^R(\d+)B$/.exec(name);
  if (m) return { kind: K.REG, num: Number(m[1]), size: 1 };
  throw new Error(`unknown general-purpose register ${name}`);
}

function infoOf(r: Register): RegInfo {
  let v = regInfo[r];
  if (v) return v;
  const name = Register[r] ?? '';
  if (RegisterExt.isGPR(r)) {
    v = gprByName(name);
  } else if (/^CR\d+$/.test(name)) {
    v = { kind: K.CR, num: Number(name.slice(2)), size: 8 };
  } else if (RegisterExt.isSegmentRegister(r)) {
    v = { kind: K.SEG, num: ['ES', 'CS', 'SS', 'DS', 'FS', 'GS'].indexOf(name), size: 2 };
  } else if (/^XMM\d+$/.test(name)) {
    v = { kind: K.XMM, num: Number(name.slice(3)), size: 16 };
  } else {
    v = { kind: K.OTHER, num: 0, size: 0 };
  }
  regInfo[r] = v;
  return v;
}

const mnemonicNames: string[] = [];
function mnemonicName(m: Mnemonic): string {
  return mnemonicNames[m] ?? (mnemonicNames[m] = (Mnemonic[m] ?? 'unknown').toLowerCase());
}

function split(v: bigint, size: number, i: Insn): void {
  const u = BigInt.asUintN(64, v);
  let lo = Number(u & 0xffffffffn) | 0, hi = Number(u >> 32n) | 0;
  if (size === 1) { lo &= 0xff; hi = 0; } else if (size === 2) { lo &= 0xffff; hi = 0; } else if (size === 4) hi = 0;
  i.immLo = lo;
  i.immHi = hi;
}

function toAddr(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}

/** Result of decoding: an instruction, or a note that the bytes ran out (fetch must fault). */
export type DecodeResult = { insn: Insn } | { incomplete: true };

/**
 * Decodes the instruction at the start of `bytes`, which sit at `address` (signed canonical).
 * `bytes` may be shorter than 15 when the next page is not mapped.
 */
export function decodeOne(bytes: Uint8Array, address: number): DecodeResult {
  const dec = new Decoder(64, bytes, DecoderOptions.None);
  dec.ip = BigInt.asUintN(64, BigInt(address));
  const ins = dec.decode();
  try {
    if (ins.isInvalid && dec.lastError === DecoderError.NoMoreBytes && bytes.length < 15) return { incomplete: true };
    return { insn: build(ins, bytes, address) };
  } finally {
    ins.free();
    dec.free();
  }
}

/** The one Instruction every run decode writes into (freed by disposeFormatters). */
let scratch: Instruction | undefined;

/**
 * Decodes straight-line instructions from the start of `bytes` (which sit at `address`): one
 * Decoder for the whole run and one reused Instruction, instead of one of each per
 * instruction. Stops after `max` instructions, after one for which `last` says so, or before
 * one whose bytes run past `bytes` (`incomplete` is set when that is the very first).
 */
export function decodeRun(bytes: Uint8Array, address: number, max: number, last: (i: Insn) => boolean): { insns: Insn[]; incomplete: boolean } {
  const insns: Insn[] = [];
  const dec = new Decoder(64, bytes, DecoderOptions.None);
  dec.ip = BigInt.asUintN(64, BigInt(address));
  const ins = scratch ?? (scratch = new Instruction());
  try {
    let pos = 0;
    while (insns.length < max && pos < bytes.length) {
      dec.decodeOut(ins);
      if (ins.isInvalid && dec.lastError === DecoderError.NoMoreBytes) {
        if (insns.length === 0 && bytes.length < 15) return { insns, incomplete: true };
        break;
      }
      const i = build(ins, bytes.subarray(pos), address + pos);
      insns.push(i);
      pos += i.len;
      if (ins.isInvalid) { dec.position = pos; break; }
      if (last(i)) break;
    }
    return { insns, incomplete: false };
  } finally {
    dec.free();
  }
}

/** GAS/AT&T text of a decoded instruction (one function for all, not a closure per instruction). */
const attText = (x: Insn): string => formatBytes(x.bytes, x.addr, 'att');

function build(ins: Instruction, bytes: Uint8Array, address: number): Insn {
  const i = new Insn();
  i.addr = address;
  i.len = ins.isInvalid ? 1 : ins.length;
  i.next = address + i.len;
  i.bytes = bytes.slice(0, i.len);
  i.formatter = attText;
  if (ins.isInvalid) { i.mnemonic = '(bad)'; return i; }
  i.mnemonic = mnemonicName(ins.mnemonic);
  i.code = ins.code;
  i.codeName = Code[ins.code] ?? '';
  i.cc = ins.conditionCode - 1;
  i.rep = ins.hasRepePrefix || ins.hasRepPrefix ? 1 : ins.hasRepnePrefix ? 2 : 0;
  i.lock = ins.hasLockPrefix;
  const n = ins.opCount;
  i.nops = n;
  let os = 0;
  for (let k = 0; k < n && k < 3; k++) {
    const kind = ins.opKind(k);
    let ok: K = K.NONE, num = 0, size = 0;
    switch (kind) {
      case OpKind.Register: {
        const info = infoOf(ins.opRegister(k));
        ok = info.kind; num = info.num; size = info.size;
        break;
      }
      case OpKind.NearBranch16: case OpKind.NearBranch32: case OpKind.NearBranch64:
        i.target = toAddr(ins.nearBranchTarget);
        ok = K.IMM; size = 8;
        break;
      case OpKind.Immediate8: case OpKind.Immediate8_2nd: case OpKind.Immediate16: case OpKind.Immediate32:
      case OpKind.Immediate64: case OpKind.Immediate8to16: case OpKind.Immediate8to32: case OpKind.Immediate8to64:
      case OpKind.Immediate32to64: {
        ok = K.IMM;
        const v = ins.immediate(k);
        // Immediate8 is an unsigned byte (shift counts, INT n); the others are sign-extended
        // by iced-x86 and take the size of the operation they feed.
        if (kind === OpKind.Immediate8_2nd) { i.imm2 = Number(v) & 0xff; size = 1; }
        else if (kind === OpKind.Immediate8) { i.immLo = Number(v) & 0xff; i.immHi = 0; size = 1; }
        else { size = os || 8; split(v, size, i); }
        break;
      }
      case OpKind.Memory: {
        ok = K.MEM; size = MemorySizeExt.size(ins.memorySize);
        i.memOp = k;
        const base = ins.memoryBase, index = ins.memoryIndex;
        const seg = ins.segmentPrefix;
        i.mSeg = seg === Register.FS ? 1 : seg === Register.GS ? 2 : 0;
        if (base === Register.RIP || base === Register.EIP) {
          const abs = BigInt.asUintN(64, ins.ipRelMemoryAddress);
          i.mBase = -1;
          i.mDispLo = Number(abs & 0xffffffffn) | 0;
          i.mDispHi = Number(abs >> 32n) | 0;
          i.mA32 = base === Register.EIP;
        } else {
          const bi = base === Register.None ? undefined : infoOf(base);
          const xi = index === Register.None ? undefined : infoOf(index);
          i.mBase = bi ? bi.num : -1;
          i.mIndex = xi ? xi.num : -1;
          i.mScale = ins.memoryIndexScale;
          const d = BigInt.asUintN(64, ins.memoryDisplacementU64);
          i.mDispLo = Number(d & 0xffffffffn) | 0;
          i.mDispHi = Number(d >> 32n) | 0;
          i.mA32 = (bi?.size ?? xi?.size ?? 8) === 4;
          if (i.mA32) i.mDispHi = 0;
        }
        break;
      }
      case OpKind.MemorySegRSI: case OpKind.MemorySegESI: case OpKind.MemoryESRDI: case OpKind.MemoryESEDI:
      case OpKind.MemorySegRDI: case OpKind.MemorySegEDI:
        ok = K.MEM; size = MemorySizeExt.size(ins.memorySize);
        i.mA32 = kind === OpKind.MemorySegESI || kind === OpKind.MemoryESEDI || kind === OpKind.MemorySegEDI;
        if (kind === OpKind.MemorySegRSI || kind === OpKind.MemorySegESI) {
          const seg = ins.segmentPrefix;
          i.mSeg = seg === Register.FS ? 1 : seg === Register.GS ? 2 : 0;
        }
        break;
      default:
        ok = K.OTHER;
    }
    if (k === 0) { i.k0 = ok; i.r0 = num; i.s0 = size; os = size; }
    else if (k === 1) { i.k1 = ok; i.r1 = num; i.s1 = size; }
    else { i.k2 = ok; i.r2 = num; i.s2 = size; }
  }
  i.os = os || 8;
  // PUSH imm and LEAVE take their width from the operand-size prefix, not from an operand.
  if (i.codeName === 'Push_imm16' || i.codeName === 'Pushw_imm8') { i.s0 = 2; i.os = 2; }
  if (i.codeName === 'Leavew') i.os = 2;
  return i;
}

let gas: Formatter | undefined;
let intel: Formatter | undefined;

/** Disassembly flavours. */
export type Flavor = 'att' | 'intel';

function formatter(flavor: Flavor): Formatter {
  if (flavor === 'intel') {
    if (!intel) { intel = new Formatter(FormatterSyntax.Intel); intel.firstOperandCharIndex = 0; }
    return intel;
  }
  if (!gas) { gas = new Formatter(FormatterSyntax.Gas); gas.firstOperandCharIndex = 0; }
  return gas;
}

/** Text of the first instruction in `bytes` at `address`. */
export function formatBytes(bytes: Uint8Array, address: number, flavor: Flavor): string {
  const dec = new Decoder(64, bytes, DecoderOptions.None);
  dec.ip = BigInt.asUintN(64, BigInt(address));
  const ins = dec.decode();
  try {
    if (ins.isInvalid) return '(bad)';
    return formatter(flavor).format(ins);
  } finally {
    ins.free();
    dec.free();
  }
}

/** Disassembles a run of bytes: one entry per instruction, each with its length and text. */
export function disassemble(bytes: Uint8Array, address: number, flavor: Flavor, max = Infinity): { address: number; length: number; text: string; bytes: Uint8Array }[] {
  const out: { address: number; length: number; text: string; bytes: Uint8Array }[] = [];
  const dec = new Decoder(64, bytes, DecoderOptions.None);
  dec.ip = BigInt.asUintN(64, BigInt(address));
  const ins = new Instruction();
  const f = formatter(flavor);
  try {
    let pos = 0;
    while (dec.canDecode && out.length < max) {
      dec.decodeOut(ins);
      const len = ins.isInvalid ? 1 : ins.length;
      if (ins.isInvalid && dec.lastError === DecoderError.NoMoreBytes) break;
      out.push({ address: address + pos, length: len, text: ins.isInvalid ? '(bad)' : f.format(ins), bytes: bytes.slice(pos, pos + len) });
      pos += len;
      if (ins.isInvalid) dec.position = pos;
    }
  } finally {
    ins.free();
    dec.free();
  }
  return out;
}

/** Frees the long-lived formatters (tests that count WASM memory call this). */
export function disposeFormatters(): void {
  gas?.free(); intel?.free(); scratch?.free();
  gas = intel = scratch = undefined;
}

/** Current size of iced-x86's WebAssembly memory in bytes. */
export function wasmMemoryBytes(): number {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mod = require('iced-x86') as { __wasm?: { memory: { buffer: ArrayBuffer } } };
  return mod.__wasm?.memory.buffer.byteLength ?? 0;
}

// The assembler's one door into iced-x86's encoder (architecture §2: only emulator/decode/
// imports iced-x86). Callers describe one instruction form as plain data — an iced `Code`
// *name* chosen by the assembler's selection table, and operands — and get bytes back.
// Every WASM object created here is freed here, also when encoding throws.

import type { Code, Encoder, Instruction, MemoryOperand, Register } from 'iced-x86';
import { fastEncode } from './fastEncode';

// iced-x86 is a megabyte of JavaScript plus its WebAssembly: it is loaded on the first form the
// assembler's own legacy table (fastEncode.ts) does not cover, not when this module loads, so a
// file of ordinary instructions never pays for it.
type Iced = typeof import('iced-x86');
let icedModule: Iced | undefined;
function iced(): Iced {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (icedModule ??= require('iced-x86') as Iced);
}

/** A register by its GNU as name without `%` (`rax`, `r8d`, `sil`, `cr3`, `gs`). */
export type RegName = string;

/** A memory operand; `disp` is the absolute target address when `base` is `rip`. */
export interface EncMem {
  kind: 'mem';
  base?: RegName;
  index?: RegName;
  scale: 1 | 2 | 4 | 8;
  disp: bigint;
  /** 0: none if zero (else the smallest), 1: disp8 if it fits, 4: always disp32. */
  dispSize: 0 | 1 | 4;
  seg?: RegName;
  /** EVEX embedded broadcast (`(%rax){1to16}`). */
  broadcast?: boolean;
}

/** One operand of an instruction form, in Intel operand order. */
export type EncOperand =
  | { kind: 'reg'; reg: RegName }
  | { kind: 'imm'; value: bigint }
  | EncMem
  /** A relative branch target (absolute address; the encoder computes the displacement). */
  | { kind: 'branch'; target: bigint };

/** Everything needed to encode one instruction. */
export interface EncRequest {
  /** The iced-x86 `Code` name, e.g. `Mov_rm64_r64`. */
  code: string;
  /** Operands in Intel order (destination first). */
  ops: EncOperand[];
  /** Address of the instruction (for RIP-relative memory and branches). */
  ip: bigint;
  /** Prefixes the Code does not carry: `lock`, `rep`, `repne`. */
  prefix?: 'lock' | 'rep' | 'repne';
  /** Code size (`.code32`); 64 when absent. */
  bitness?: 32 | 64;
  /** EVEX decorations: opmask register (`k1`..`k7`), zeroing, rounding (`rn` `rd` `ru` `rz`), suppress-all-exceptions. */
  evex?: { mask?: RegName; zeroing?: boolean; rounding?: 'rn' | 'rd' | 'ru' | 'rz'; sae?: boolean };
}

/** Thrown for a form iced cannot encode (a bug in the selection table, or an out-of-range value). */
export class EncodeError extends Error {}

const codeCache = new Map<string, Code>();
const regCache = new Map<string, Register>();
let encoder: Encoder | undefined;
let encoder32: Encoder | undefined;

/** Every iced-x86 Code name, in the enum's (opcode) order: the assembler derives its SIMD forms from them. */
export function allCodeNames(): string[] {
  // The enum maps each value (0, 1, ... in order) back to its name: reading those is several
  // times cheaper than listing its ~10,000 keys and dropping the numeric ones.
  const byValue = iced().Code as unknown as Record<number, string | undefined>;
  const out: string[] = [];
  for (let v = 0, n = byValue[0]; n !== undefined; n = byValue[++v]) out.push(n);
  return out;
}

/** True when iced-x86 knows a Code of that name (used by the selection table's self-check). */
export function isKnownCode(name: string): boolean {
  return (iced().Code as unknown as Record<string, number | undefined>)[name] !== undefined;
}

function code(name: string): Code {
  let c = codeCache.get(name);
  if (c === undefined) {
    const v = (iced().Code as unknown as Record<string, number | undefined>)[name];
    if (v === undefined) throw new EncodeError(`unknown iced Code ${name}`);
    c = v as Code;
    codeCache.set(name, c);
  }
  return c;
}

function reg(name: RegName | undefined): Register {
  if (name === undefined) return iced().Register.None;
  let r = regCache.get(name);
  if (r === undefined) {
    // GNU as spells the low byte of r8..r15 `r8b`; iced calls it R8L.
    const icedName = /^r\d+b$/.test(name) ? name.slice(0, -1).toUpperCase() + 'L' : name.toUpperCase();
    const v = (iced().Register as unknown as Record<string, number | undefined>)[icedName];
    if (v === undefined) throw new EncodeError(`unknown register ${name}`);
    r = v as Register;
    regCache.set(name, r);
  }
  return r;
}

function memOperand(m: EncMem, bitness: 32 | 64): MemoryOperand {
  // iced's displSize: 0 = none, 1 = disp8 when it fits (else disp32), 8 = disp32 in 64-bit
  // addressing, 4 = disp32 in 32-bit addressing (32-bit code, or 32-bit registers with 0x67).
  const a32 = bitness === 32 || /^(e..|r\d+d)$/.test(m.base ?? m.index ?? '');
  let size: number = m.dispSize === 4 ? (a32 ? 4 : 8) : m.dispSize;
  if (size === 0 && m.disp !== 0n) size = 1;
  const disp = m.base === 'rip' ? m.disp : BigInt.asUintN(64, m.disp);
  return iced().MemoryOperand.new64(reg(m.base), reg(m.index), m.scale, disp, size, m.broadcast ?? false, reg(m.seg));
}

function immI32(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

/** Builds the iced Instruction for a request; the caller frees it. */
function build(req: EncRequest): Instruction {
  const { Instruction } = iced();
  const c = code(req.code);
  const ops = req.ops;
  const shape = ops.map((o) => o.kind[0]).join(''); // r, i, m, b
  const r = (i: number) => reg((ops[i] as { reg: RegName }).reg);
  const imm = (i: number) => (ops[i] as { value: bigint }).value;
  const mem = (i: number) => memOperand(ops[i] as EncMem, req.bitness ?? 64);
  switch (shape) {
    case '': return Instruction.create(c);
    case 'r': return Instruction.createReg(c, r(0));
    case 'i': return Instruction.createI32(c, immI32(imm(0)));
    case 'm': return Instruction.createMem(c, mem(0));
    case 'b': return Instruction.createBranch(c, (ops[0] as { target: bigint }).target);
    case 'rr': return Instruction.createRegReg(c, r(0), r(1));
    case 'ri': {
      const v = imm(1);
      if (req.code.includes('imm64')) return Instruction.createRegU64(c, r(0), BigInt.asUintN(64, v));
      return Instruction.createRegI32(c, r(0), immI32(v));
    }
    case 'rm': return Instruction.createRegMem(c, r(0), mem(1));
    case 'mr': return Instruction.createMemReg(c, mem(0), r(1));
    case 'mi': return Instruction.createMemI32(c, mem(0), immI32(imm(1)));
    case 'ii':
      // A far branch `ljmp $sel, $off`: selector first.
      if (/_ptr16(16|32)$/.test(req.code)) return Instruction.createFarBranch(c, Number(imm(0)) & 0xffff, Number(BigInt.asUintN(32, imm(1))));
      return Instruction.createI32I32(c, immI32(imm(0)), immI32(imm(1)));
    case 'rrr': return Instruction.createRegRegReg(c, r(0), r(1), r(2));
    case 'rri': return Instruction.createRegRegI32(c, r(0), r(1), immI32(imm(2)));
    case 'rmi': return Instruction.createRegMemI32(c, r(0), mem(1), immI32(imm(2)));
    case 'mri': return Instruction.createMemRegI32(c, mem(0), r(1), immI32(imm(2)));
    case 'rmr': return Instruction.createRegMemReg(c, r(0), mem(1), r(2));
    case 'mrr': return Instruction.createMemRegReg(c, mem(0), r(1), r(2));
    case 'rrm': return Instruction.createRegRegMem(c, r(0), r(1), mem(2));
    case 'rrrr': return Instruction.createRegRegRegReg(c, r(0), r(1), r(2), r(3));
    case 'rrmr': return Instruction.createRegRegMemReg(c, r(0), r(1), mem(2), r(3));
    case 'rrrm': return Instruction.createRegRegRegMem(c, r(0), r(1), r(2), mem(3));
    case 'rrri': return Instruction.createRegRegRegI32(c, r(0), r(1), r(2), immI32(imm(3)));
    case 'rrmi': return Instruction.createRegRegMemI32(c, r(0), r(1), mem(2), immI32(imm(3)));
    case 'rrrri': return Instruction.createRegRegRegRegI32(c, r(0), r(1), r(2), r(3), immI32(imm(4)));
    case 'rrrmi': return Instruction.createRegRegRegMemI32(c, r(0), r(1), r(2), mem(3), immI32(imm(4)));
    case 'rrmri': return Instruction.createRegRegMemRegI32(c, r(0), r(1), mem(2), r(3), immI32(imm(4)));
    default: throw new EncodeError(`no encoder shape for ${req.code} with operands ${shape}`);
  }
}

/** Encodes one instruction; throws EncodeError when iced rejects the form or a value. */
export function encodeInstruction(req: EncRequest): Uint8Array {
  return fastEncode(req) ?? encodeWithIced(req);
}

/** Encodes one instruction with iced-x86 alone (the reference the fast table is tested against). */
export function encodeWithIced(req: EncRequest): Uint8Array {
  const encoder = req.bitness === 32 ? (encoder32 ??= new (iced().Encoder)(32)) : (module64());
  let insn: Instruction | undefined;
  try {
    insn = build(req);
    if (req.prefix === 'lock') insn.hasLockPrefix = true;
    else if (req.prefix === 'rep') insn.hasRepPrefix = true;
    else if (req.prefix === 'repne') insn.hasRepnePrefix = true;
    const x = req.evex;
    if (x) {
      if (x.mask) insn.opMask = reg(x.mask);
      if (x.zeroing) insn.zeroingMasking = true;
      if (x.rounding) {
        const { RoundingControl } = iced();
        insn.roundingControl = { rn: RoundingControl.RoundToNearest, rd: RoundingControl.RoundDown, ru: RoundingControl.RoundUp, rz: RoundingControl.RoundTowardZero }[x.rounding];
      }
      if (x.sae) insn.suppressAllExceptions = true;
    }
    encoder.encode(insn, req.ip);
    return encoder.takeBuffer();
  } catch (e) {
    // Drop whatever a failed encode left in the buffer so the next call starts clean.
    encoder.takeBuffer();
    throw e instanceof EncodeError ? e : new EncodeError(String((e as Error)?.message ?? e));
  } finally {
    insn?.free();
  }
}

/** Releases the shared encoder (tests and long-lived hosts may call it; encoding recreates it). */
export function disposeEncoder(): void {
  encoder?.free();
  encoder = undefined;
  encoder32?.free();
  encoder32 = undefined;
}

function module64(): Encoder {
  return (encoder ??= new (iced().Encoder)(64));
}

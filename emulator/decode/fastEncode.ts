// A table-driven encoder for the common legacy general-purpose forms in 64-bit code: ALU,
// mov/lea/movzx/movsx, test, inc/dec/not/neg/mul/div/imul, shifts, bit tests, push/pop, jumps,
// calls, setcc/cmovcc, the operand-less instructions kernel assembly is made of, and the system
// forms of its entry and boot code (mov to/from control and segment registers, verw, lsl,
// descriptor tables, rd/wrgsbase). It answers with exactly the bytes iced-x86's encoder gives
// for the same request (test/unit/fastEncode.test compares the two over every form it knows),
// or `undefined` for anything else — another form,
// 32-bit code or addressing, EVEX decorations, a value out of range — and the caller asks iced.
// Kernel files are almost entirely these forms: they no longer cost a WebAssembly round trip
// each, and a file of nothing else never loads iced at all.

import type { EncMem, EncRequest } from './encoder';

/** How the operands map onto the encoding. */
const enum F {
  /** No operands: the opcode bytes alone. */
  Z,
  /** ModRM.rm = ops[0] (register or memory), ModRM.reg = ops[1]; then an optional immediate ops[2]. */
  MR,
  /** ModRM.reg = ops[0], ModRM.rm = ops[1]; then an optional immediate ops[2]. */
  RM,
  /** ModRM.rm = ops[0], ModRM.reg = the opcode extension; then an optional immediate ops[1]. */
  M,
  /** Register in the opcode's low 3 bits (ops[0]); then an optional immediate ops[1]. */
  O,
  /** Register in the opcode's low 3 bits, which is ops[1] (`xchg %reg, %rax` forms are r, acc). */
  O2,
  /** The accumulator ops[0] is implied; immediate ops[1]. */
  A,
  /** Immediate ops[0] alone. */
  I,
  /** A relative branch ops[0]: rel8 or rel32 by `imm`. */
  J,
}

interface Spec {
  op: number[];
  f: F;
  /** ModRM.reg for F.M. */
  digit?: number;
  /** Operand size in bits: 16 takes 0x66, 64 takes REX.W unless `d64`; 0 for sizeless. */
  size: 0 | 8 | 16 | 32 | 64;
  /** 64-bit by default (push, pop, indirect jmp/call): no REX.W. */
  d64?: boolean;
  /** Immediate (or relative displacement) bytes. */
  imm: 0 | 1 | 2 | 4 | 8;
  /** Size of the register in ModRM.reg / the opcode when it differs from `size` (movzx, movsx). */
  rmSize?: 8 | 16 | 32 | 64;
  /** The form needs a memory operand (lea). */
  memOnly?: boolean;
  /** A second operand the form implies: the constant 1 (shift by one) or %cl (shift by %cl). */
  implied?: 'one' | 'cl';
  /** The ModRM.reg operand is a control or segment register, not a general one. */
  regKind?: 'cr' | 'sreg';
  /** The ModRM.rm operand must be a register (mov to/from %crN, rd/wrgsbase). */
  regOnly?: boolean;
  /** A mandatory prefix, before any REX (F3 of rd/wrgsbase). */
  mp?: number;
}

const SIZES = [8, 16, 32, 64] as const;
type Size = (typeof SIZES)[number];
const ACCN: Record<Size, string> = { 8: 'AL', 16: 'AX', 32: 'EAX', 64: 'RAX' };
const immOf = (s: Size): 1 | 2 | 4 => (s === 8 ? 1 : s === 16 ? 2 : 4);

let specs: Map<string, Spec> | undefined;

function table(): Map<string, Spec> {
  if (specs) return specs;
  const t = new Map<string, Spec>();
  const put = (code: string, s: Spec) => t.set(code, s);
  const cap = (n: string) => n[0].toUpperCase() + n.slice(1);

  ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'].forEach((name, d) => {
    const N = cap(name);
    const base = d * 8;
    for (const s of SIZES) {
      const w = s === 8 ? 0 : 1;
      put(`${N}_rm${s}_r${s}`, { op: [base + w], f: F.MR, size: s, imm: 0 });
      put(`${N}_r${s}_rm${s}`, { op: [base + 2 + w], f: F.RM, size: s, imm: 0 });
      put(`${N}_${ACCN[s]}_imm${s === 64 ? 32 : s}`, { op: [base + 4 + w], f: F.A, size: s, imm: immOf(s) });
      put(`${N}_rm${s}_imm${s === 64 ? 32 : s}`, { op: [s === 8 ? 0x80 : 0x81], f: F.M, digit: d, size: s, imm: immOf(s) });
      if (s !== 8) put(`${N}_rm${s}_imm8`, { op: [0x83], f: F.M, digit: d, size: s, imm: 1 });
    }
  });
  for (const s of SIZES) {
    const w = s === 8 ? 0 : 1;
    const i = s === 64 ? 32 : s;
    put(`Test_rm${s}_r${s}`, { op: [0x84 + w], f: F.MR, size: s, imm: 0 });
    put(`Test_${ACCN[s]}_imm${i}`, { op: [0xa8 + w], f: F.A, size: s, imm: immOf(s) });
    put(`Test_rm${s}_imm${i}`, { op: [0xf6 + w], f: F.M, digit: 0, size: s, imm: immOf(s) });
    put(`Mov_rm${s}_r${s}`, { op: [0x88 + w], f: F.MR, size: s, imm: 0 });
    put(`Mov_r${s}_rm${s}`, { op: [0x8a + w], f: F.RM, size: s, imm: 0 });
    put(`Mov_rm${s}_imm${i}`, { op: [0xc6 + w], f: F.M, digit: 0, size: s, imm: immOf(s) });
    if (s !== 64) put(`Mov_r${s}_imm${s}`, { op: [s === 8 ? 0xb0 : 0xb8], f: F.O, size: s, imm: immOf(s) });
    put(`Xchg_rm${s}_r${s}`, { op: [0x86 + w], f: F.MR, size: s, imm: 0 });
    if (s !== 8) put(`Xchg_r${s}_${ACCN[s]}`, { op: [0x90], f: F.O, size: s, imm: 0 });
    ['Not', 'Neg', 'Mul', 'Imul', 'Div', 'Idiv'].forEach((N, k) => put(`${N}_rm${s}`, { op: [0xf6 + w], f: F.M, digit: k + 2, size: s, imm: 0 }));
    put(`Inc_rm${s}`, { op: [0xfe + w], f: F.M, digit: 0, size: s, imm: 0 });
    put(`Dec_rm${s}`, { op: [0xfe + w], f: F.M, digit: 1, size: s, imm: 0 });
    put(`Xadd_rm${s}_r${s}`, { op: [0x0f, 0xc0 + w], f: F.MR, size: s, imm: 0 });
    put(`Cmpxchg_rm${s}_r${s}`, { op: [0x0f, 0xb0 + w], f: F.MR, size: s, imm: 0 });
    ['Rol', 'Ror', 'Rcl', 'Rcr', 'Shl', 'Shr', '', 'Sar'].forEach((N, k) => {
      if (!N) return;
      put(`${N}_rm${s}_1`, { op: [0xd0 + w], f: F.M, digit: k, size: s, imm: 0, implied: 'one' });
      put(`${N}_rm${s}_imm8`, { op: [0xc0 + w], f: F.M, digit: k, size: s, imm: 1 });
      put(`${N}_rm${s}_CL`, { op: [0xd2 + w], f: F.M, digit: k, size: s, imm: 0, implied: 'cl' });
    });
  }
  put('Mov_r64_imm64', { op: [0xb8], f: F.O, size: 64, imm: 8 });
  for (const s of [16, 32, 64] as const) {
    put(`Lea_r${s}_m`, { op: [0x8d], f: F.RM, size: s, imm: 0, memOnly: true });
    put(`Imul_r${s}_rm${s}`, { op: [0x0f, 0xaf], f: F.RM, size: s, imm: 0 });
    put(`Imul_r${s}_rm${s}_imm8`, { op: [0x6b], f: F.RM, size: s, imm: 1 });
    put(`Imul_r${s}_rm${s}_imm${s === 16 ? 16 : 32}`, { op: [0x69], f: F.RM, size: s, imm: s === 16 ? 2 : 4 });
    put(`Movzx_r${s}_rm8`, { op: [0x0f, 0xb6], f: F.RM, size: s, rmSize: 8, imm: 0 });
    put(`Movsx_r${s}_rm8`, { op: [0x0f, 0xbe], f: F.RM, size: s, rmSize: 8, imm: 0 });
    if (s !== 16) put(`Movzx_r${s}_rm16`, { op: [0x0f, 0xb7], f: F.RM, size: s, rmSize: 16, imm: 0 });
    if (s !== 16) put(`Movsx_r${s}_rm16`, { op: [0x0f, 0xbf], f: F.RM, size: s, rmSize: 16, imm: 0 });
    ['Bt', 'Bts', 'Btr', 'Btc'].forEach((N, k) => {
      put(`${N}_rm${s}_r${s}`, { op: [0x0f, 0xa3 + k * 8], f: F.MR, size: s, imm: 0 });
      put(`${N}_rm${s}_imm8`, { op: [0x0f, 0xba], f: F.M, digit: 4 + k, size: s, imm: 1 });
    });
    put(`Bsf_r${s}_rm${s}`, { op: [0x0f, 0xbc], f: F.RM, size: s, imm: 0 });
    put(`Bsr_r${s}_rm${s}`, { op: [0x0f, 0xbd], f: F.RM, size: s, imm: 0 });
  }
  put('Movsxd_r64_rm32', { op: [0x63], f: F.RM, size: 64, rmSize: 32, imm: 0 });
  put('Bswap_r32', { op: [0x0f, 0xc8], f: F.O, size: 32, imm: 0 });
  put('Bswap_r64', { op: [0x0f, 0xc8], f: F.O, size: 64, imm: 0 });

  const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
  CC.forEach((cc, k) => {
    put(`J${cc}_rel8_64`, { op: [0x70 + k], f: F.J, size: 0, imm: 1 });
    put(`J${cc}_rel32_64`, { op: [0x0f, 0x80 + k], f: F.J, size: 0, imm: 4 });
    put(`Set${cc}_rm8`, { op: [0x0f, 0x90 + k], f: F.M, digit: 0, size: 8, imm: 0 });
    for (const s of [16, 32, 64] as const) put(`Cmov${cc}_r${s}_rm${s}`, { op: [0x0f, 0x40 + k], f: F.RM, size: s, imm: 0 });
  });
  put('Jmp_rel8_64', { op: [0xeb], f: F.J, size: 0, imm: 1 });
  put('Jmp_rel32_64', { op: [0xe9], f: F.J, size: 0, imm: 4 });
  put('Call_rel32_64', { op: [0xe8], f: F.J, size: 0, imm: 4 });
  put('Jmp_rm64', { op: [0xff], f: F.M, digit: 4, size: 64, d64: true, imm: 0 });
  put('Call_rm64', { op: [0xff], f: F.M, digit: 2, size: 64, d64: true, imm: 0 });
  put('Push_r64', { op: [0x50], f: F.O, size: 64, d64: true, imm: 0 });
  put('Pop_r64', { op: [0x58], f: F.O, size: 64, d64: true, imm: 0 });
  put('Push_r16', { op: [0x50], f: F.O, size: 16, imm: 0 });
  put('Pop_r16', { op: [0x58], f: F.O, size: 16, imm: 0 });
  put('Push_rm64', { op: [0xff], f: F.M, digit: 6, size: 64, d64: true, imm: 0 });
  put('Pop_rm64', { op: [0x8f], f: F.M, digit: 0, size: 64, d64: true, imm: 0 });
  put('Pushq_imm8', { op: [0x6a], f: F.I, size: 64, d64: true, imm: 1 });
  put('Pushq_imm32', { op: [0x68], f: F.I, size: 64, d64: true, imm: 4 });
  put('Retnq_imm16', { op: [0xc2], f: F.I, size: 0, imm: 2 });
  put('Int_imm8', { op: [0xcd], f: F.I, size: 0, imm: 1 });

  // System forms of kernel entry and boot code (entry_64, head_64): with these, such a file
  // never loads iced-x86. In 64-bit code mov to/from %crN is 64-bit without REX.W (REX.R picks
  // cr8); the segment, verw and descriptor-table forms take no operand-size prefix.
  put('Mov_cr_r64', { op: [0x0f, 0x22], f: F.RM, size: 0, rmSize: 64, imm: 0, regKind: 'cr', regOnly: true });
  put('Mov_r64_cr', { op: [0x0f, 0x20], f: F.MR, size: 0, rmSize: 64, imm: 0, regKind: 'cr', regOnly: true });
  put('Mov_Sreg_r32m16', { op: [0x8e], f: F.RM, size: 0, rmSize: 32, imm: 0, regKind: 'sreg' });
  put('Mov_r32m16_Sreg', { op: [0x8c], f: F.MR, size: 0, rmSize: 32, imm: 0, regKind: 'sreg' });
  put('Verw_r32m16', { op: [0x0f, 0x00], f: F.M, digit: 5, size: 0, rmSize: 32, imm: 0 });
  put('Lsl_r64_r64m16', { op: [0x0f, 0x03], f: F.RM, size: 64, imm: 0 });
  ['Sgdt', 'Sidt', 'Lgdt', 'Lidt'].forEach((N, k) => put(`${N}_m1664`, { op: [0x0f, 0x01], f: F.M, digit: k, size: 0, imm: 0, memOnly: true }));
  ['Rdfsbase', 'Rdgsbase', 'Wrfsbase', 'Wrgsbase'].forEach((N, k) => put(`${N}_r64`, { op: [0x0f, 0xae], f: F.M, digit: k, size: 64, imm: 0, regOnly: true, mp: 0xf3 }));

  const Z: Record<string, number[]> = {
    Retnq: [0xc3], Leaveq: [0xc9], Nopd: [0x90], Pushfq: [0x9c], Popfq: [0x9d], Cbw: [0x66, 0x98], Cwde: [0x98],
    Cdqe: [0x48, 0x98], Cwd: [0x66, 0x99], Cdq: [0x99], Cqo: [0x48, 0x99], Clc: [0xf8], Stc: [0xf9], Cmc: [0xf5],
    Cld: [0xfc], Std: [0xfd], Cli: [0xfa], Sti: [0xfb], Int3: [0xcc], Ud2: [0x0f, 0x0b], Hlt: [0xf4],
    Cpuid: [0x0f, 0xa2], Rdmsr: [0x0f, 0x32], Wrmsr: [0x0f, 0x30], Rdtsc: [0x0f, 0x31], Rdtscp: [0x0f, 0x01, 0xf9],
    Pause: [0xf3, 0x90], Lfence: [0x0f, 0xae, 0xe8], Mfence: [0x0f, 0xae, 0xf0], Sfence: [0x0f, 0xae, 0xf8],
    Endbr64: [0xf3, 0x0f, 0x1e, 0xfa], Swapgs: [0x0f, 0x01, 0xf8], Tdcall: [0x66, 0x0f, 0x01, 0xcc],
    Seamcall: [0x66, 0x0f, 0x01, 0xcf], Vmcall: [0x0f, 0x01, 0xc1], Lahf: [0x9f], Sahf: [0x9e],
    Iretq: [0x48, 0xcf], Clac: [0x0f, 0x01, 0xca], Stac: [0x0f, 0x01, 0xcb], Wbinvd: [0x0f, 0x09],
    Sysretq: [0x48, 0x0f, 0x07], Sysretd: [0x0f, 0x07], Syscall: [0x0f, 0x05], Retfq: [0x48, 0xcb],
  };
  for (const [code, op] of Object.entries(Z)) put(code, { op, f: F.Z, size: 0, imm: 0 });
  specs = t;
  return t;
}

/** The Code names this encoder covers (for the differential test). */
export function fastCodes(): string[] {
  return [...table().keys()];
}

interface Gpr { num: number; size: 8 | 16 | 32 | 64; /** spl bpl sil dil: only with REX */ rex?: boolean; /** ah ch dh bh: never with REX */ high?: boolean }

const GPR = new Map<string, Gpr>();
{
  const n64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi'];
  const n32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
  const n16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
  const n8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil'];
  for (let i = 0; i < 8; i++) {
    GPR.set(n64[i], { num: i, size: 64 });
    GPR.set(n32[i], { num: i, size: 32 });
    GPR.set(n16[i], { num: i, size: 16 });
    GPR.set(n8[i], { num: i, size: 8, rex: i >= 4 });
  }
  ['ah', 'ch', 'dh', 'bh'].forEach((n, i) => GPR.set(n, { num: 4 + i, size: 8, high: true }));
  for (let i = 8; i < 16; i++) {
    GPR.set(`r${i}`, { num: i, size: 64 });
    GPR.set(`r${i}d`, { num: i, size: 32 });
    GPR.set(`r${i}w`, { num: i, size: 16 });
    GPR.set(`r${i}b`, { num: i, size: 8 });
  }
}

/** Per immediate width in bytes: the signed range (for 8 bytes: -2^63 up to, not including, 2^64). */
const IMM_RANGE: Record<number, [bigint, bigint]> = {
  1: [-(1n << 7n), (1n << 7n) - 1n],
  2: [-(1n << 15n), (1n << 15n) - 1n],
  4: [-(1n << 31n), (1n << 31n) - 1n],
  8: [-(1n << 63n), 1n << 64n],
};

const I8_MIN = -128n, I8_MAX = 127n, I32_MIN = -(1n << 31n), I32_MAX = (1n << 31n) - 1n;

/**
 * The bytes of `req` as iced-x86 encodes it, or undefined when the request is outside this
 * table (the caller then asks iced, which also reports any error).
 */
export function fastEncode(req: EncRequest): Uint8Array | undefined {
  if (req.evex || req.prefix || (req.bitness !== undefined && req.bitness !== 64)) return undefined;
  const s = table().get(req.code);
  if (!s) return undefined;
  const ops = req.ops;
  let regOp: Gpr | undefined; // ModRM.reg or the opcode register
  let special = -1; // ModRM.reg when it is a control or segment register
  let rmReg: Gpr | undefined;
  let mem: EncMem | undefined;
  let immIdx = -1;
  let nOps: number;
  switch (s.f) {
    case F.Z: nOps = 0; break;
    case F.MR: case F.RM: {
      const a = ops[s.f === F.MR ? 1 : 0], b = ops[s.f === F.MR ? 0 : 1];
      if (!a || a.kind !== 'reg' || !b) return undefined;
      if (s.regKind) {
        const num = (s.regKind === 'cr' ? CR : SREG).get(a.reg);
        if (num === undefined) return undefined;
        special = num;
      } else {
        regOp = GPR.get(a.reg);
        if (!regOp) return undefined;
      }
      if (b.kind === 'reg') { rmReg = GPR.get(b.reg); if (!rmReg || s.memOnly) return undefined; }
      else if (b.kind === 'mem' && !s.regOnly) mem = b;
      else return undefined;
      if (s.imm) immIdx = 2;
      nOps = s.imm ? 3 : 2;
      break;
    }
    case F.M: {
      const b = ops[0];
      if (!b) return undefined;
      if (b.kind === 'reg') { rmReg = GPR.get(b.reg); if (!rmReg || s.memOnly) return undefined; }
      else if (b.kind === 'mem' && !s.regOnly) mem = b;
      else return undefined;
      nOps = 1;
      if (s.imm) { immIdx = 1; nOps = 2; }
      else if (s.implied === 'one') {
        // The shift-by-one forms carry the implied 1 as an operand.
        const one = ops[1];
        if (!one || one.kind !== 'imm' || one.value !== 1n) return undefined;
        nOps = 2;
      } else if (s.implied === 'cl') {
        const cl = ops[1];
        if (!cl || cl.kind !== 'reg' || cl.reg !== 'cl') return undefined;
        nOps = 2;
      }
      break;
    }
    case F.O: case F.O2: {
      const a = ops[s.f === F.O ? 0 : 1];
      if (!a || a.kind !== 'reg') return undefined;
      regOp = GPR.get(a.reg);
      if (!regOp) return undefined;
      nOps = 1;
      if (s.imm) { immIdx = 1; nOps = 2; }
      else if (req.code.startsWith('Xchg_')) {
        const acc = ops[1];
        if (!acc || acc.kind !== 'reg' || GPR.get(acc.reg)?.num !== 0 || GPR.get(acc.reg)?.size !== s.size) return undefined;
        nOps = 2;
      }
      break;
    }
    case F.A: {
      const a = ops[0];
      if (!a || a.kind !== 'reg') return undefined;
      const g = GPR.get(a.reg);
      if (!g || g.num !== 0 || g.size !== s.size || g.high) return undefined;
      immIdx = 1;
      nOps = 2;
      break;
    }
    case F.I: immIdx = 0; nOps = 1; break;
    case F.J: nOps = 1; break;
  }
  if (ops.length !== nOps) return undefined;
  // Register sizes must be the form's (iced rejects a mismatch: leave that to it).
  if (regOp && regOp.size !== s.size) return undefined;
  if (rmReg && (s.rmSize ?? s.size) && rmReg.size !== (s.rmSize ?? s.size)) return undefined;

  let imm = 0n;
  if (immIdx >= 0) {
    const o = ops[immIdx];
    if (!o || o.kind !== 'imm') return undefined;
    imm = o.value;
    // The assembler hands over values already fitted to the field; anything else goes to iced.
    const [lo, hi] = IMM_RANGE[s.imm];
    if (imm < lo || (s.imm === 8 ? imm >= hi : imm > hi)) return undefined;
  }

  const out: number[] = [];
  if (s.mp) out.push(s.mp);
  if (mem?.seg) {
    const seg = SEG[mem.seg];
    if (seg === undefined) return undefined;
    out.push(seg);
  }
  if (s.size === 16) out.push(0x66);
  let rex = s.size === 64 && !s.d64 ? 0x48 : 0;
  let needRex = false;
  let forbidRex = false;
  const noteByte = (g: Gpr | undefined) => {
    if (!g || g.size !== 8) return;
    if (g.rex) needRex = true;
    if (g.high) forbidRex = true;
  };
  noteByte(regOp);
  noteByte(rmReg);
  if (regOp && regOp.num >= 8) rex |= s.f === F.O || s.f === F.O2 ? 0x41 : 0x44;
  if (rmReg && rmReg.num >= 8) rex |= 0x41;
  if (special >= 8) rex |= 0x44;

  // ModRM / SIB / displacement.
  let modrm = -1;
  let sib = -1;
  let dispBytes = 0;
  let disp = 0n;
  let ripTarget: bigint | undefined;
  if (rmReg || mem) {
    const regField = s.f === F.M ? s.digit! : special >= 0 ? special & 7 : regOp!.num & 7;
    if (rmReg) modrm = 0xc0 | (regField << 3) | (rmReg.num & 7);
    else {
      const m = mem!;
      if (m.broadcast) return undefined;
      if (m.base === 'rip') {
        if (m.index) return undefined;
        modrm = (regField << 3) | 5;
        dispBytes = 4;
        ripTarget = BigInt.asUintN(64, m.disp);
      } else {
        const base = m.base === undefined ? undefined : GPR.get(m.base);
        const index = m.index === undefined ? undefined : GPR.get(m.index);
        if ((m.base !== undefined && (!base || base.size !== 64)) || (m.index !== undefined && (!index || index.size !== 64 || index.num === 4))) return undefined;
        disp = BigInt.asIntN(64, m.disp);
        let size: number = m.dispSize === 4 ? 4 : m.dispSize;
        if (size === 0 && disp !== 0n) size = 1;
        if (base && size === 0 && (base.num & 7) === 5) size = 1;
        if (size === 1 && (disp < I8_MIN || disp > I8_MAX)) size = 4;
        if (disp < I32_MIN || disp > I32_MAX) return undefined;
        const scaleBits = m.scale === 1 ? 0 : m.scale === 2 ? 1 : m.scale === 4 ? 2 : m.scale === 8 ? 3 : -1;
        if (scaleBits < 0) return undefined;
        if (!base) {
          // [index*scale + disp32] or [disp32]: SIB with no base, always a 32-bit displacement.
          modrm = (regField << 3) | 4;
          sib = (scaleBits << 6) | ((index ? index.num & 7 : 4) << 3) | 5;
          dispBytes = 4;
          if (index && index.num >= 8) rex |= 0x42;
        } else {
          const mod = size === 0 ? 0 : size === 1 ? 0x40 : 0x80;
          dispBytes = size;
          if (base.num >= 8) rex |= 0x41;
          if (index || (base.num & 7) === 4) {
            modrm = mod | (regField << 3) | 4;
            sib = (scaleBits << 6) | ((index ? index.num & 7 : 4) << 3) | (base.num & 7);
            if (index && index.num >= 8) rex |= 0x42;
          } else {
            modrm = mod | (regField << 3) | (base.num & 7);
          }
        }
      }
    }
  }
  if (rex || needRex) {
    if (forbidRex) return undefined;
    out.push(rex | 0x40);
  }
  for (let i = 0; i < s.op.length; i++) out.push(s.op[i]);
  if (s.f === F.O || s.f === F.O2) out[out.length - 1] |= regOp!.num & 7;
  if (modrm >= 0) out.push(modrm);
  if (sib >= 0) out.push(sib);
  const dispAt = out.length;
  if (dispBytes) pushLe(out, Number(disp), dispBytes);
  if (immIdx >= 0) {
    if (s.imm === 8) {
      const u = BigInt.asUintN(64, imm);
      pushLe(out, Number(u & 0xffffffffn), 4);
      pushLe(out, Number(u >> 32n), 4);
    } else pushLe(out, Number(imm), s.imm);
  }

  if (s.f === F.J) {
    const o = ops[0];
    if (o.kind !== 'branch') return undefined;
    const end = req.ip + BigInt(out.length + s.imm);
    const rel = BigInt.asIntN(64, o.target - end);
    if (s.imm === 1 ? rel < I8_MIN || rel > I8_MAX : rel < I32_MIN || rel > I32_MAX) return undefined;
    pushLe(out, Number(rel), s.imm);
  } else if (ripTarget !== undefined) {
    const end = req.ip + BigInt(out.length);
    const rel = BigInt.asIntN(64, ripTarget - end);
    if (rel < I32_MIN || rel > I32_MAX) return undefined;
    const r = Number(rel);
    for (let i = 0; i < 4; i++) out[dispAt + i] = (r >> (8 * i)) & 0xff;
  }
  return Uint8Array.from(out);
}

/** Appends the low `n` (1, 2 or 4) bytes of a value within ±2^32, little-endian. */
function pushLe(out: number[], v: number, n: number): void {
  for (let i = 0; i < n; i++) out.push((v >> (8 * i)) & 0xff);
}

const SEG: Record<string, number> = { es: 0x26, cs: 0x2e, ss: 0x36, ds: 0x3e, fs: 0x64, gs: 0x65 };

/** Control registers and segment registers by name: their ModRM.reg numbers. */
const CR = new Map(Array.from({ length: 16 }, (_, i) => [`cr${i}`, i] as [string, number]));
const SREG = new Map(['es', 'cs', 'ss', 'ds', 'fs', 'gs'].map((n, i) => [n, i] as [string, number]));

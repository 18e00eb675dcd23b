// Compiles a straight-line block into one JavaScript function. The commonest forms (register
// moves, ALU on registers and immediates, loads and stores through base+displacement, PUSH/POP,
// LEA, Jcc) become inline code; everything else calls its handler directly (a call site with a
// single target, which the engine can inline). Instructions that cannot fault or touch memory
// skip the bookkeeping (RIP, in-flight index, attention check) that precise faults and watches
// need; every other instruction keeps it, so behaviour is exactly the interpreter's.

import { SHADOW_DEPTH, type Cpu } from '../cpu/cpu';
import { FlagOp } from '../cpu/flags';
import { Insn, K } from '../decode/insn';
import { cond } from './fast';
import { push64, pop64, addrOfStack, jumpTo } from './operands';
import { controlHandlers } from './control';

const TWO32 = 4294967296;

/**
 * Inline 64-bit load of address `a` into `lo`/`hi`: an aligned access that hits the read TLB reads
 * the page directly; anything else (miss, misaligned, page-crossing) calls the checked path.
 */
function load64(a: string, lo: string, hi: string): string {
  return `{ const off = ${a} & 4095, pk = (${a} - off) * ${1 / 4096}, ti = pk & 255;
    if ((off & 7) === 0 && M.rKey[ti] === pk) { const w = M.rPage[ti].i32, j = off >> 2; ${lo} = w[j]; ${hi} = w[j + 1]; }
    else { ${lo} = M.read64(${a}); ${hi} = M.hi; } }`;
}

/** Inline 64-bit store, the same way through the write TLB (which never holds code or watched pages). */
function store64(a: string, lo: string, hi: string): string {
  return `{ const off = ${a} & 4095, pk = (${a} - off) * ${1 / 4096}, ti = pk & 255;
    if ((off & 7) === 0 && M.wKey[ti] === pk) { const w = M.wPage[ti].i32, j = off >> 2; w[j] = ${lo}; w[j + 1] = ${hi}; }
    else M.write64(${a}, ${lo}, ${hi}); }`;
}

/** Inline code for an instruction that cannot fault, or undefined. */
function pureTemplate(x: Insn): string | undefined {
  const d = 2 * x.r0, s = 2 * x.r1;
  const reg8 = (k: K, r: number) => k === K.REG && r < 16;
  if (x.lock || x.rep) return undefined;
  if (x.mnemonic === 'mov') {
    if (x.s0 === 8 && reg8(x.k0, x.r0) && reg8(x.k1, x.r1)) return `R[${d}] = R[${s}]; R[${d + 1}] = R[${s + 1}];`;
    if (x.s0 === 8 && reg8(x.k0, x.r0) && x.k1 === K.IMM) return `R[${d}] = ${x.immLo}; R[${d + 1}] = ${x.immHi};`;
    if (x.s0 === 4 && reg8(x.k0, x.r0) && reg8(x.k1, x.r1)) return `R[${d}] = R[${s}]; R[${d + 1}] = 0;`;
    if (x.s0 === 4 && reg8(x.k0, x.r0) && x.k1 === K.IMM) return `R[${d}] = ${x.immLo}; R[${d + 1}] = 0;`;
    return undefined;
  }
  const alu = ['add', 'sub', 'and', 'or', 'xor', 'cmp', 'test'].indexOf(x.mnemonic);
  if (alu >= 0 && (x.s0 === 8 || x.s0 === 4) && reg8(x.k0, x.r0) && (reg8(x.k1, x.r1) || x.k1 === K.IMM)) {
    const op = x.mnemonic, write = op !== 'cmp' && op !== 'test';
    const bLo = x.k1 === K.IMM ? String(x.immLo) : `R[${s}]`;
    const bHi = x.k1 === K.IMM ? String(x.immHi) : `R[${s + 1}]`;
    if (x.s0 === 8) {
      let code = `{ const aLo = R[${d}], aHi = R[${d + 1}], bLo = ${bLo}, bHi = ${bHi}; let lo, hi;\n`;
      if (op === 'add') code += `const t = (aLo >>> 0) + (bLo >>> 0); lo = t | 0; hi = (aHi + bHi + (t >= ${TWO32} ? 1 : 0)) | 0; c.fop = ${FlagOp.ADD};`;
      else if (op === 'sub' || op === 'cmp') code += `const t = (aLo >>> 0) - (bLo >>> 0); lo = t | 0; hi = (aHi - bHi - (t < 0 ? 1 : 0)) | 0; c.fop = ${FlagOp.SUB};`;
      else code += `lo = aLo ${op === 'xor' ? '^' : op === 'or' ? '|' : '&'} bLo; hi = aHi ${op === 'xor' ? '^' : op === 'or' ? '|' : '&'} bHi; c.fop = ${FlagOp.LOGIC};`;
      code += ` c.fsz = 64; c.faLo = aLo; c.faHi = aHi; c.fbLo = bLo; c.fbHi = bHi; c.frLo = lo; c.frHi = hi; c.fcf = 0;`;
      if (write) code += ` R[${d}] = lo; R[${d + 1}] = hi;`;
      return code + ' }';
    }
    let code = `{ const a = R[${d}], b = ${bLo}; let r;\n`;
    if (op === 'add') code += `r = (a + b) | 0; c.fop = ${FlagOp.ADD};`;
    else if (op === 'sub' || op === 'cmp') code += `r = (a - b) | 0; c.fop = ${FlagOp.SUB};`;
    else code += `r = a ${op === 'xor' ? '^' : op === 'or' ? '|' : '&'} b; c.fop = ${FlagOp.LOGIC};`;
    code += ` c.fsz = 32; c.faLo = a; c.faHi = 0; c.fbLo = b; c.fbHi = 0; c.frLo = r; c.frHi = 0; c.fcf = 0;`;
    if (write) code += ` R[${d}] = r; R[${d + 1}] = 0;`;
    return code + ' }';
  }
  if (x.cc >= 0 && x.mnemonic.startsWith('cmov') && reg8(x.k0, x.r0) && reg8(x.k1, x.r1) && (x.s0 === 8 || x.s0 === 4)) {
    // CMOVcc: a 32-bit destination is zero-extended whether or not the move happens.
    if (x.s0 === 8) return `if (cond(c, ${x.cc})) { R[${d}] = R[${s}]; R[${d + 1}] = R[${s + 1}]; }`;
    return `if (cond(c, ${x.cc})) R[${d}] = R[${s}]; R[${d + 1}] = 0;`;
  }
  if (x.cc >= 0 && x.mnemonic.startsWith('set') && x.k0 === K.REG && x.s0 === 1) {
    const lowByte = x.r0 < 16, j = lowByte ? d : 2 * (x.r0 - 16);
    return lowByte ? `R[${j}] = (R[${j}] & ~0xff) | (cond(c, ${x.cc}) ? 1 : 0);`
      : `R[${j}] = (R[${j}] & ~0xff00) | (cond(c, ${x.cc}) ? 0x100 : 0);`;
  }
  if (x.mnemonic === 'lea' && x.s0 === 8 && reg8(x.k0, x.r0) && !x.mA32 && x.mSeg === 0) {
    let lo = `${x.mDispLo >>> 0}`, hi = `${x.mDispHi}`;
    if (x.mBase >= 0) { lo += ` + (R[${2 * x.mBase}] >>> 0)`; hi += ` + R[${2 * x.mBase + 1}]`; }
    if (x.mIndex >= 0) { lo += ` + (R[${2 * x.mIndex}] >>> 0) * ${x.mScale}`; hi += ` + R[${2 * x.mIndex + 1}] * ${x.mScale}`; }
    return `{ let lo = ${lo}; const carry = Math.floor(lo / ${TWO32}); lo -= carry * ${TWO32}; R[${d}] = lo | 0; R[${d + 1}] = (${hi} + carry) | 0; }`;
  }
  return undefined;
}

/** Inline code for a load or store through base+displacement (may fault: needs the bookkeeping). */
function memTemplate(x: Insn): string | undefined {
  const stack = stackTemplate(x);
  if (stack !== undefined) return stack;
  const ext = x.mnemonic === 'movzx' || x.mnemonic === 'movsx' || x.mnemonic === 'movsxd';
  const narrow = (x.mnemonic === 'mov' && x.s0 === 4) || (ext && (x.s0 === 8 || x.s0 === 4) && x.k1 === K.MEM);
  if (!(x.mnemonic === 'mov' && x.s0 === 8) && !narrow) return undefined;
  if (x.lock || x.mSeg !== 0 || x.mA32 || x.mBase < 0) return undefined;
  const b = 2 * x.mBase;
  // Effective address base [+ index*scale] + disp32 (sign-extended); a non-canonical result goes
  // through ea(), which raises the same #GP/#SS as the interpreter.
  let lo = `(R[${b}] >>> 0) + ${x.mDispLo >>> 0}`, hi = `R[${b + 1}] + ${x.mDispHi}`;
  if (x.mIndex >= 0) { lo += ` + (R[${2 * x.mIndex}] >>> 0) * ${x.mScale}`; hi += ` + R[${2 * x.mIndex + 1}] * ${x.mScale}`; }
  const addr = `let lo = ${lo}, hi = ${hi};
    if (lo >= ${TWO32}) { const carry = Math.floor(lo / ${TWO32}); lo -= carry * ${TWO32}; hi += carry; } hi |= 0;
    const a = (hi >> 15) === 0 || (hi >> 15) === -1 ? hi * ${TWO32} + lo : ea(c, x${'$K'});`;
  if (narrow) {
    // 8/16/32-bit loads (zero- or sign-extended) and 32-bit stores call the memory's helpers.
    if (x.k0 === K.REG && x.r0 < 16 && x.k1 === K.MEM) {
      const d = 2 * x.r0, sz = x.s1;
      const read = sz === 1 ? 'M.read8(a)' : sz === 2 ? 'M.read16(a)' : 'M.read32(a)';
      const sx = x.mnemonic !== 'movzx' && x.mnemonic !== 'mov';
      const v = !sx ? read : sz === 1 ? `(${read} << 24) >> 24` : sz === 2 ? `(${read} << 16) >> 16` : `${read} | 0`;
      const hi = x.s0 === 4 || !sx ? '0' : 'v >> 31';
      return `{ ${addr} const v = ${v}; R[${d}] = v; R[${d + 1}] = ${hi}; }`;
    }
    if (x.mnemonic === 'mov' && x.k0 === K.MEM && x.k1 === K.REG && x.r1 < 16) return `{ ${addr} M.write32(a, R[${2 * x.r1}]); }`;
    return undefined;
  }
  if (x.k0 === K.REG && x.r0 < 16 && x.k1 === K.MEM) {
    return `{ ${addr} let lo2 = 0, hi2 = 0; ${load64('a', 'lo2', 'hi2')} R[${2 * x.r0}] = lo2; R[${2 * x.r0 + 1}] = hi2; }`;
  }
  if (x.k0 === K.MEM && x.k1 === K.REG && x.r1 < 16) {
    return `{ ${addr} const vl = R[${2 * x.r1}], vh = R[${2 * x.r1 + 1}]; ${store64('a', 'vl', 'vh')} }`;
  }
  return undefined;
}

/** The new RSP after pushing 8 bytes, as `sLo`/`sHi`, and its address `a` (#SS when non-canonical). */
const PUSH_ADDR = `let sLo = (R[8] >>> 0) - 8, sHi = R[9]; if (sLo < 0) { sLo += ${TWO32}; sHi = (sHi - 1) | 0; }
    const a = (sHi >> 15) === 0 || (sHi >> 15) === -1 ? sHi * ${TWO32} + sLo : addrOfStack(sLo, sHi);`;

/** PUSH r64, POP r64 and CALL rel32 (writes before RSP moves, as the handlers do). */
function stackTemplate(x: Insn): string | undefined {
  if (x.lock || x.rep) return undefined;
  if (x.mnemonic === 'push' && x.k0 === K.REG && x.s0 === 8 && x.r0 < 16) {
    return `{ ${PUSH_ADDR} const vl = R[${2 * x.r0}], vh = R[${2 * x.r0 + 1}]; ${store64('a', 'vl', 'vh')} R[8] = sLo | 0; R[9] = sHi; }`;
  }
  if (x.mnemonic === 'pop' && x.k0 === K.REG && x.s0 === 8 && x.r0 < 16) {
    return `{ const h = R[9], a = (h >> 15) === 0 || (h >> 15) === -1 ? h * ${TWO32} + (R[8] >>> 0) : addrOfStack(R[8], h);
    let lo = 0, hi = 0; ${load64('a', 'lo', 'hi')} let sLo = (R[8] >>> 0) + 8, sHi = R[9]; if (sLo >= ${TWO32}) { sLo -= ${TWO32}; sHi = (sHi + 1) | 0; }
    R[8] = sLo | 0; R[9] = sHi; R[${2 * x.r0}] = lo; R[${2 * x.r0 + 1}] = hi; }`;
  }
  if (x.mnemonic === 'ret' && x.nops === 0) {
    // The target is checked before RSP moves, so a non-canonical return address faults precisely.
    return `{ const h = R[9], a = (h >> 15) === 0 || (h >> 15) === -1 ? h * ${TWO32} + (R[8] >>> 0) : addrOfStack(R[8], h);
    let lo = 0, hi = 0; ${load64('a', 'lo', 'hi')}
    if ((hi >> 15) !== 0 && (hi >> 15) !== -1) jumpTo(c, lo, hi);
    let sLo = (R[8] >>> 0) + 8, sHi = R[9]; if (sLo >= ${TWO32}) { sLo -= ${TWO32}; sHi = (sHi + 1) | 0; }
    R[8] = sLo | 0; R[9] = sHi;
    const to = hi * ${TWO32} + (lo >>> 0); c.rip = to;
    const n = c.ssN; if (n > 0 && n <= ${SHADOW_DEPTH} && c.ssRet[n - 1] === to) c.ssN = n - 1; else popShadow(c, x${'$K'}); }`;
  }
  if (x.mnemonic === 'call' && x.k0 === K.IMM) {
    const ret = x.next;
    return `{ ${PUSH_ADDR} ${store64('a', String((ret % TWO32) | 0), String(Math.floor(ret / TWO32) | 0))} R[8] = sLo | 0; R[9] = sHi;
    c.rip = ${x.target}; const n = c.ssN; if (n < ${SHADOW_DEPTH}) { c.ssRet[n] = ${ret}; c.ssTarget[n] = ${x.target}; c.ssSp[n] = sHi * ${TWO32} + sLo; } c.ssN = n + 1; }`;
  }
  return undefined;
}

/**
 * Compiles a block. The function returns how many instructions completed: all of them, or
 * fewer when one raised `c.attention` (a watch hit, a write to code).
 */
export function compileBlock(insns: Insn[], ea: (c: Cpu, i: Insn) => number): (c: Cpu) => number {
  const names: string[] = ['ea', 'cond', 'push64', 'pop64', 'addrOfStack', 'jumpTo', 'popShadow'];
  const values: unknown[] = [ea, cond, push64, pop64, addrOfStack, jumpTo, controlHandlers.__popShadow];
  let body = 'const R = c.r, M = c.mem;\n';
  const n = insns.length;
  insns.forEach((x, k) => {
    names.push(`h${k}`, `x${k}`);
    values.push(x.exec, x);
    const last = k === n - 1;
    const pure = pureTemplate(x);
    if (pure !== undefined) {
      body += pure + '\n';
      if (last) body += `c.rip = ${x.next};\n`;
      return;
    }
    if (last && x.cc >= 0 && x.k0 === K.IMM && x.mnemonic[0] === 'j' && x.mnemonic !== 'jrcxz' && x.mnemonic !== 'jecxz') {
      body += `c.rip = cond(c, ${x.cc}) ? ${x.target} : ${x.next};\n`;
      return;
    }
    body += `c.rip = ${x.next}; c.bk = ${k};\n`;
    const mem = memTemplate(x);
    body += mem !== undefined ? mem.replace('$K', String(k)) + '\n' : `h${k}(c, x${k});\n`;
    if (!last) body += `if (c.attention) return ${k + 1};\n`;
  });
  body += `return ${n};`;
  const factory = new Function(...names, `'use strict'; return function block(c) {\n${body}\n};`) as (...a: unknown[]) => (c: Cpu) => number;
  return factory(...values);
}

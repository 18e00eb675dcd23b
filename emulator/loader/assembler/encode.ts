// Turns a selected instruction plus resolved operand values into an encoder request, and
// puts legacy prefixes in gas's order (segment, 0x67, 0x66, rep, lock, then REX): iced
// emits `lock` before `0x66`, gas after, and the bytes must be gas's.

import { EncOperand, EncRequest, encodeInstruction } from '../../decode/encoder';
import { fastEncode } from '../../decode/fastEncode';
import { Expr } from './expr';
import { Selected } from './select';

/** Resolves an expression to a number (final addresses, or a placeholder while sizing). */
export type Resolver = (e: Expr) => bigint;

/** Thrown when a value does not fit the field gas chose for it. */
export class RangeError_ extends Error {}

const PREFIX_RANK: Record<number, number> = { 0x26: 1, 0x2e: 1, 0x36: 1, 0x3e: 1, 0x64: 1, 0x65: 1, 0x67: 2, 0x66: 3, 0xf2: 4, 0xf3: 4, 0xf0: 5 };

/** Stable-sorts the leading legacy prefixes into gas's order. */
export function orderPrefixes(bytes: Uint8Array): Uint8Array {
  let n = 0;
  while (n < bytes.length && PREFIX_RANK[bytes[n]] !== undefined) n++;
  if (n < 2) return bytes;
  const head = Array.from(bytes.subarray(0, n)).map((b, i) => ({ b, i })).sort((x, y) => PREFIX_RANK[x.b] - PREFIX_RANK[y.b] || x.i - y.i);
  const out = new Uint8Array(bytes.length);
  head.forEach((h, i) => (out[i] = h.b));
  out.set(bytes.subarray(n), n);
  return out;
}

/** The byte the `rex64` prefix mnemonic stands for (REX.W). */
const REX_W = 0x48;

/**
 * Encodes `sel` at `ip` (the address of its first prefix byte); `code` overrides the form (relaxation).
 * A `rex64` prefix is merged as gas merges it: into the instruction's own REX byte when it has
 * one (`rex64 movl %eax,%r8d` is 49 89 c0, one REX), else as a REX.W placed after the legacy
 * prefixes (a REX anywhere but right before the opcode is ignored by the CPU).
 */
export function encodeSelected(sel: Selected, prefix: number[], ip: bigint, value: Resolver, code = sel.code): Uint8Array {
  if (!prefix.includes(REX_W)) return encodePrefixed(sel, prefix, ip, value, code);
  const rest = prefix.filter((b) => b !== REX_W);
  const own = encodePrefixed(sel, rest, ip, value, code);
  let p = 0;
  while (p < own.length && PREFIX_RANK[own[p]] !== undefined) p++;
  if (p < own.length && (own[p] & 0xf0) === 0x40) {
    const out = own.slice();
    out[p] |= 0x08;
    return out;
  }
  // One byte more before the opcode: encoded one byte later, so that what is relative to the
  // instruction's end (branches, RIP-relative operands) still is.
  const later = encodePrefixed(sel, rest, ip + 1n, value, code);
  const out = new Uint8Array(later.length + 1);
  out.set(later.subarray(0, p));
  out[p] = REX_W;
  out.set(later.subarray(p), p + 1);
  return out;
}

function encodePrefixed(sel: Selected, prefix: number[], ip: bigint, value: Resolver, code: string): Uint8Array {
  if (code.startsWith('raw:')) {
    const raw = Buffer.from(code.slice(4), 'hex');
    return orderPrefixes(Uint8Array.from([...prefix, ...raw]));
  }
  let ripConst: bigint | undefined;
  const ops: EncOperand[] = sel.ops.map((o): EncOperand => {
    switch (o.k) {
      case 'reg':
        return { kind: 'reg', reg: o.name };
      case 'imm': {
        const v = o.early.kind === 'const' ? o.early.v : value(o.expr);
        return { kind: 'imm', value: fitImm(v, o.bits) };
      }
      case 'rel':
        return { kind: 'branch', target: BigInt.asUintN(64, value(o.expr)) };
      case 'mem': {
        const m = o.m;
        let disp = m.disp ? (o.early?.kind === 'const' ? o.early.v : value(m.disp)) : 0n;
        if (m.base?.kind === 'rip') {
          if (o.early?.kind === 'const') ripConst = disp;
          disp = BigInt.asUintN(64, disp);
        }
        else if (o.dispSize === 4 && (disp < -(1n << 31n) || disp > (1n << 31n) - 1n)) {
          // gas sign-extends a 32-bit displacement; an address above 2 GiB cannot be one.
          if (disp >= 0n && disp < 1n << 32n && !m.base && !m.index) disp = BigInt.asIntN(32, disp);
          else throw new RangeError_(`displacement 0x${BigInt.asUintN(64, disp).toString(16)} does not fit in 32 bits`);
        }
        return { kind: 'mem', base: m.base?.name, index: m.index?.name, scale: m.scale, disp, dispSize: o.dispSize, seg: m.seg?.name, broadcast: o.bcst };
      }
    }
  });
  const req: EncRequest = { code, ops, ip: ip + BigInt(prefix.length), evex: sel.evex, bitness: sel.bits };
  if (ripConst === undefined && !sel.alts) {
    // The common legacy forms: encoded by table, cheaper than the cache key below.
    const fast = fastEncode(req);
    if (fast) return prefix.length ? orderPrefixes(Uint8Array.from([...prefix, ...fast])) : orderPrefixes(fast);
  }
  // Bytes that do not depend on where the instruction is (no branch, no RIP-relative operand)
  // are the same for the same request: kernel code repeats itself (macros), and a WASM round
  // trip per instruction is most of the encoding time.
  const key = ops.some((o) => o.kind === 'branch' || (o.kind === 'mem' && o.base === 'rip')) ? undefined : cacheKey(req, sel.alts, prefix);
  if (key !== undefined) {
    const hit = CACHE.get(key);
    if (hit) return hit;
  }
  let bytes: Uint8Array;
  try {
    bytes = encodeInstruction(req);
    for (const alt of sel.alts ?? []) {
      const b = encodeInstruction({ ...req, code: alt });
      if (b.length < bytes.length) bytes = b;
    }
  } catch (e) {
    const rel = ops.find((o) => o.kind === 'branch') as { target: bigint } | undefined;
    if (rel && /Branch distance/i.test((e as Error).message)) {
      const dist = BigInt.asIntN(64, rel.target - req.ip);
      throw new RangeError_(`branch target out of range for '${sel.mnemonic}' (it only has a signed 8-bit displacement; target is ${dist} bytes away)`);
    }
    throw e;
  }
  if (ripConst !== undefined) {
    // A numeric RIP displacement is relative to the end of the instruction: re-encode once
    // the length is known, with the target that yields exactly that displacement.
    const m = ops.find((o) => o.kind === 'mem') as { disp: bigint };
    m.disp = BigInt.asUintN(64, req.ip + BigInt(bytes.length) + ripConst);
    bytes = encodeInstruction(req);
  }
  const out = prefix.length ? orderPrefixes(Uint8Array.from([...prefix, ...bytes])) : orderPrefixes(bytes);
  if (key !== undefined) {
    if (CACHE.size >= CACHE_MAX) CACHE.clear();
    CACHE.set(key, out);
  }
  return out;
}

const CACHE = new Map<string, Uint8Array>();
const CACHE_MAX = 50_000;

function cacheKey(req: EncRequest, alts: string[] | undefined, prefix: number[]): string {
  let k = `${req.code}|${req.bitness ?? 64}|${prefix.join(',')}|${alts?.join(',') ?? ''}`;
  const x = req.evex;
  if (x) k += `|${x.mask ?? ''}${x.zeroing ? 'z' : ''}${x.rounding ?? ''}${x.sae ? 's' : ''}`;
  for (const o of req.ops) {
    if (o.kind === 'reg') k += `|r${o.reg}`;
    else if (o.kind === 'imm') k += `|i${o.value}`;
    else if (o.kind === 'mem') k += `|m${o.seg ?? ''}:${o.base ?? ''},${o.index ?? ''},${o.scale},${o.disp},${o.dispSize}${o.broadcast ? 'b' : ''}`;
  }
  return k;
}

function fitImm(v: bigint, bits: 8 | 16 | 32 | 64): bigint {
  if (bits === 64) return BigInt.asIntN(64, v);
  const lo = -(1n << BigInt(bits - 1));
  const hi = (1n << BigInt(bits)) - 1n;
  if (v < lo || v > hi) throw new RangeError_(`value 0x${BigInt.asUintN(64, v).toString(16)} does not fit in ${bits} bits`);
  return BigInt.asIntN(bits, v);
}

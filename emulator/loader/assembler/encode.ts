// Turns a selected instruction plus resolved operand values into an encoder request, and
// puts legacy prefixes in gas's order (segment, 0x67, 0x66, rep, lock, then REX): iced
// emits `lock` before `0x66`, gas after, and the bytes must be gas's.

import { EncMem, EncOperand, EncRequest, encodeInstruction } from '../../decode/encoder';
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
  const viaTemplate = templated(req, sel.alts, prefix, ripConst);
  if (viaTemplate) return viaTemplate;
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

/** `dispClass` replaces the displacement's value in the key (templates, below). */
function cacheKey(req: EncRequest, alts: string[] | undefined, prefix: number[], dispClass?: string): string {
  let k = `${req.code}|${req.bitness ?? 64}|${prefix.join(',')}|${alts?.join(',') ?? ''}`;
  const x = req.evex;
  if (x) k += `|${x.mask ?? ''}${x.zeroing ? 'z' : ''}${x.rounding ?? ''}${x.sae ? 's' : ''}`;
  for (let i = 0; i < req.ops.length; i++) {
    const o = req.ops[i];
    if (o.kind === 'reg') k += `|r${o.reg}`;
    else if (o.kind === 'imm') k += `|i${o.value}`;
    else if (o.kind === 'mem') k += `|m${o.seg ?? ''}:${o.base ?? ''},${o.index ?? ''},${o.scale},${dispClass ?? o.disp},${o.dispSize}${o.broadcast ? 'b' : ''}`;
  }
  return k;
}

/**
 * A form iced encoded once, with the place of its displacement: the same instruction with
 * another displacement of the same size (or another RIP-relative target) differs only there.
 * `fromEnd` counts from the end of the bytes, so the caller's prefixes do not move it.
 */
interface Template {
  bytes: Uint8Array;
  fromEnd: number;
  width: 1 | 4;
}

const TEMPLATES = new Map<string, Template | null>();

/**
 * The displacement kinds a template stands for: `B` a disp8, `D` a disp32, `R` a RIP-relative
 * rel32. EVEX forms scale a disp8 by the operand size (disp8*N), so only their RIP-relative
 * operands (always rel32) are templated; a zero displacement is left to the exact cache.
 */
function dispClass(req: EncRequest, m: EncMem, ripConst: bigint | undefined): { cls: 'B' | 'D' | 'R'; v: bigint } | undefined {
  if (m.base === 'rip') return { cls: 'R', v: ripConst ?? 0n };
  if (req.code.startsWith('EVEX_') || req.bitness === 32 || /^(e..|r\d+d)$/.test(m.base ?? m.index ?? '')) return undefined;
  const d = BigInt.asIntN(64, m.disp);
  if (d < -(1n << 31n) || d >= 1n << 31n) return undefined;
  if (m.dispSize === 4) return { cls: 'D', v: d };
  if (d === 0n) return undefined;
  return d >= -128n && d <= 127n ? { cls: 'B', v: d } : { cls: 'D', v: d };
}

/** Probe displacements: every byte of one differs from the other's; all within signed 32 bits (a RIP displacement beyond does not encode). */
const PROBE: Record<'B' | 'D' | 'R', [bigint, bigint, bigint]> = {
  B: [0x12n, 0x6dn, -0x5an],
  D: [0x11223344n, 0x5a6b7c0dn, -0x3c4b5a69n],
  R: [0x11223344n, 0x5a6b7c0dn, -0x3c4b5a69n],
};

/**
 * Encodes a request with one memory operand from a template when it can (see Template): the
 * template is made from two probes of iced's and checked against a third before it is used,
 * so a form whose displacement is not a plain field (moffs, disp8*N) never gets one.
 */
function templated(req: EncRequest, alts: string[] | undefined, prefix: number[], ripConst: bigint | undefined): Uint8Array | undefined {
  let m: EncMem | undefined;
  for (let i = 0; i < req.ops.length; i++) {
    const o = req.ops[i];
    if (o.kind === 'branch') return undefined;
    if (o.kind === 'mem') {
      if (m) return undefined;
      m = o;
    }
  }
  if (!m || alts || req.code.includes('moffs')) return undefined;
  const dc = dispClass(req, m, ripConst);
  if (!dc) return undefined;
  const key = cacheKey(req, alts, prefix, dc.cls);
  let t = TEMPLATES.get(key);
  if (t === undefined) {
    t = makeTemplate(req, m, dc.cls);
    if (TEMPLATES.size >= CACHE_MAX) TEMPLATES.clear();
    TEMPLATES.set(key, t);
  }
  if (!t) return undefined;
  let v = dc.v;
  // req.ip is where iced's bytes start (after the caller's prefixes): the target is relative to their end.
  if (dc.cls === 'R' && ripConst === undefined) v = BigInt.asIntN(64, m.disp - (req.ip + BigInt(t.bytes.length)));
  if (dc.cls === 'R' && (v < -(1n << 31n) || v >= 1n << 31n)) return undefined;
  const out = prefix.length ? orderPrefixes(Uint8Array.from([...prefix, ...t.bytes])) : orderPrefixes(t.bytes.slice());
  patch(out, out.length - t.fromEnd, t.width, v);
  return out;
}

function patch(out: Uint8Array, at: number, width: number, v: bigint): void {
  const n = Number(BigInt.asIntN(32, v));
  for (let i = 0; i < width; i++) out[at + i] = (n >> (8 * i)) & 0xff;
}

/** Encodes `req` with the memory operand's displacement (or RIP-relative displacement) `d`, at address 0. */
function probe(req: EncRequest, m: EncMem, cls: 'B' | 'D' | 'R', d: bigint, ip = 0n): Uint8Array | undefined {
  const ops = req.ops.map((o) => (o === m ? { ...m, disp: cls === 'R' ? 0n : d } : o));
  try {
    if (cls !== 'R') return encodeInstruction({ ...req, ops, ip: 0n });
    // RIP-relative: the target is relative to the instruction's end; encode once for the length.
    const first = encodeInstruction({ ...req, ops, ip });
    const target = BigInt.asUintN(64, ip + BigInt(first.length) + d);
    return encodeInstruction({ ...req, ops: req.ops.map((o) => (o === m ? { ...m, disp: target } : o)), ip });
  } catch {
    return undefined;
  }
}

function makeTemplate(req: EncRequest, m: EncMem, cls: 'B' | 'D' | 'R'): Template | null {
  const [a, b, c] = PROBE[cls];
  const width = cls === 'B' ? 1 : 4;
  const ea = probe(req, m, cls, a);
  const eb = probe(req, m, cls, b);
  if (!ea || !eb || ea.length !== eb.length) return null;
  let first = -1, last = -1;
  for (let i = 0; i < ea.length; i++) {
    if (ea[i] !== eb[i]) {
      if (first < 0) first = i;
      last = i;
    }
  }
  if (first < 0 || last - first + 1 !== width) return null;
  const t: Template = { bytes: ea, fromEnd: ea.length - first, width };
  // The field must hold the displacement itself, and a third value (negative, at another
  // address) must come out of the template exactly as iced encodes it.
  const check = ea.slice();
  patch(check, first, width, a);
  if (!equal(check, ea)) return null;
  const ip = 0x7654321n;
  const ec = probe(req, m, cls, c, ip);
  if (!ec || ec.length !== ea.length) return null;
  patch(check, first, width, c);
  return equal(check, ec) ? t : null;
}

function equal(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Per width: the lowest signed and highest unsigned value a field takes. */
const IMM_RANGE: Record<8 | 16 | 32, [bigint, bigint]> = {
  8: [-(1n << 7n), (1n << 8n) - 1n],
  16: [-(1n << 15n), (1n << 16n) - 1n],
  32: [-(1n << 31n), (1n << 32n) - 1n],
};

function fitImm(v: bigint, bits: 8 | 16 | 32 | 64): bigint {
  if (bits === 64) return BigInt.asIntN(64, v);
  const [lo, hi] = IMM_RANGE[bits];
  if (v < lo || v > hi) throw new RangeError_(`value 0x${BigInt.asUintN(64, v).toString(16)} does not fit in ${bits} bits`);
  return BigInt.asIntN(bits, v);
}

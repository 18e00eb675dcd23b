// Instruction selection: matches a parsed AT&T instruction against the table in isa.ts the
// way gas's match_template does (first template that fits, immediates sized by their value
// when it is known at that point of the file, operand size from the suffix or the
// registers), and reports what was expected when nothing fits.

import { Expr, numNode, truncates } from './expr';
import { CONDITIONS, Entry, Form, PREFIXES, Pat, TABLE, allMnemonics } from './isa';
import { MemOperand, Operand } from './operands';
import { isSimdMnemonic, needsSimd, selectSimd } from './simd';

/** What the assembler knows about an expression at parse time. */
export type Early = { kind: 'const'; v: bigint } | { kind: 'reloc' };

/** An operand ready for encoding, in the encoder's order. */
export type SelOp =
  | { k: 'reg'; name: string }
  | { k: 'imm'; expr: Expr; bits: 8 | 16 | 32 | 64; early: Early }
  | { k: 'mem'; m: MemOperand; dispSize: 0 | 4; early?: Early; bcst?: boolean }
  | { k: 'rel'; expr: Expr };

/** The chosen form of one instruction. */
export interface Selected {
  mnemonic: string;
  code: string;
  near?: string;
  ops: SelOp[];
  entry: Entry;
  /** AVX-512 opmask, zeroing, rounding. */
  evex?: { mask?: string; zeroing?: boolean; rounding?: 'rn' | 'rd' | 'ru' | 'rz'; sae?: boolean };
  /** A warning gas also gives (an operand size it defaulted). */
  warning?: string;
  /** `.code32`: encoded as 32-bit code. */
  bits?: 32;
  /** Other forms that encode the same operation; the shortest encoding wins (gas's VEX operand swap). */
  alts?: string[];
}

/**
 * A selection with every field present, in one order: emission, encoding and the instruction
 * cache read selections of every kind (legacy, SIMD, with or without a warning), and a shape per
 * kind made those reads polymorphic and deoptimised them at the first of a new kind.
 */
export function selected(mnemonic: string, code: string, near: string | undefined, ops: SelOp[], entry: Entry, warning?: string): Selected {
  return { mnemonic, code, near, ops, entry, evex: undefined, warning, bits: undefined, alts: undefined };
}

export class SelectError extends Error {
  constructor(message: string, readonly column?: number) {
    super(message);
  }
}

interface Parsed {
  entry: Entry;
  size?: 8 | 16 | 32 | 64;
}

function lookup(mnemonic: string, table = TABLE): Parsed | undefined {
  const e = table.get(mnemonic) ?? (table !== TABLE ? TABLE.get(mnemonic) : undefined);
  if (e) return { entry: e, size: e.fixedSize };
  const base = mnemonic.slice(0, -1);
  const sfx = mnemonic.slice(-1);
  const b = table.get(base) ?? (table !== TABLE ? TABLE.get(base) : undefined);
  if (b && b.suffixes?.includes(sfx)) return { entry: b, size: ({ b: 8, w: 16, l: 32, q: 64 } as const)[sfx as 'b'] };
  return undefined;
}

/** True when the mnemonic is a known instruction (with or without size suffix). */
export function isMnemonic(m: string): boolean {
  // Prefix words are never vector instructions: no need to build the vector table for `rep`.
  return lookup(m) !== undefined || (PREFIXES[m] === undefined && isSimdMnemonic(m));
}

function fits(v: bigint, lo: bigint, hi: bigint): boolean {
  return v >= lo && v <= hi;
}

/** gas's optimize_imm: a value that fits the operand size unsigned is read as signed. */
function normalize(v: bigint, size: number | undefined): bigint {
  if (size === 16 && (v & U16_MASK) === 0n) return BigInt.asIntN(16, v);
  if (size === 32 && (v & U32_MASK) === 0n) return BigInt.asIntN(32, v);
  return v;
}

/**
 * A 32-bit operation's immediate as gas takes it into the 4-byte field: also a negative 64-bit
 * value above -2^32 (`andl $(~0xFF000000), %ecx`), folded to its low half. Only for the 4-byte
 * field: gas never shortens such a value to a sign-extended byte (`andl $0xffffffff00000005,
 * %ecx` is 81 /4 05000000), and -2^32 itself is "shortened" (selection's `shortened`).
 */
function normalize32(v: bigint, size: number | undefined): bigint {
  if (size === 32 && v < 0n && v > U32_SPAN) return BigInt.asIntN(32, v);
  return normalize(v, size);
}

const I32_MIN = -(1n << 31n), I32_MAX = (1n << 31n) - 1n, U32_MAX = (1n << 32n) - 1n;
const U16_MASK = ~0xffffn, U32_MASK = ~0xffffffffn, U32_SPAN = -(1n << 32n);

const SIZED_REG: Record<string, number> = { r8: 8, r16: 16, r32: 32, r64: 64, rm8: 8, rm16: 16, rm32: 32, rm64: 64 };

function matchPat(p: Pat, op: Operand, ev: Early | undefined, size: number | undefined): boolean {
  switch (p) {
    case 'r8': case 'r16': case 'r32': case 'r64':
      return op.k === 'reg' && !op.star && op.reg.kind === 'gpr' && op.reg.size === SIZED_REG[p];
    case 'rm8': case 'rm16': case 'rm32': case 'rm64':
      return (op.k === 'reg' && !op.star && op.reg.kind === 'gpr' && op.reg.size === SIZED_REG[p]) || (op.k === 'mem' && !op.star);
    case 'm': case 'm64': case 'm128':
      return op.k === 'mem' && !op.star;
    case 'al': case 'ax': case 'eax': case 'rax': case 'cl': case 'fs': case 'gs':
      return op.k === 'reg' && !op.star && op.reg.name === p;
    case 'cr':
      return op.k === 'reg' && op.reg.kind === 'cr';
    case 'sreg':
      return op.k === 'reg' && !op.star && op.reg.kind === 'seg';
    case 'rel':
      return op.k === 'mem' && !op.star && !op.base && !op.index && !op.seg && op.disp !== undefined;
    case 'ind':
      return (op.k === 'reg' && op.reg.kind === 'gpr' && op.reg.size === 64) || (op.k === 'mem' && (op.star || !!op.base || !!op.index));
    case 'moffs':
      return op.k === 'mem' && !op.star && !op.base && !op.index;
    case 'mfar':
      return op.k === 'mem' && op.star;
    case 'xlat': case 'xlat32': case 'xlatfs': case 'xlatgs': {
      if (op.k !== 'mem' || op.star || op.index || op.disp !== undefined || op.base?.name !== (p === 'xlat32' ? 'ebx' : 'rbx')) return false;
      const seg = op.seg?.name ?? 'ds';
      return p === 'xlatfs' ? seg === 'fs' : p === 'xlatgs' ? seg === 'gs' : seg === 'ds';
    }
    case 'ind32':
      return (op.k === 'reg' && op.reg.kind === 'gpr' && op.reg.size === 32) || (op.k === 'mem' && (op.star || !!op.base || !!op.index));
  }
  if (op.k !== 'imm' || !ev) return false;
  if (ev.kind === 'reloc') return p !== 'i8s' && p !== 'one';
  const v = ev.v;
  switch (p) {
    case 'one': return v === 1n;
    case 'i8s': return fits(normalize(v, size), -128n, 127n);
    case 'i8': return fits(v, -128n, 255n);
    case 'i16': return fits(v, -32768n, 65535n);
    case 'i32': return fits(normalize32(v, size), I32_MIN, U32_MAX);
    case 'i32s': return fits(v, I32_MIN, I32_MAX);
    case 'i64': return true;
  }
  return false;
}

function immBits(p: Pat, code: string): 8 | 16 | 32 | 64 {
  if (p === 'i64') return 64;
  if (p === 'i8' || p === 'i8s') return 8;
  if (p === 'i16') return 16;
  if (code.includes('imm8')) return 8;
  return 32;
}

/** Renders a form in AT&T order for "valid forms" hints. */
function describeForm(m: string, f: Form, entry: Entry): string {
  const names: Record<string, string> = { i8s: '$imm8', i8: '$imm8', i16: '$imm16', i32: '$imm32', i32s: '$imm32', i64: '$imm64', one: '$1', rel: 'label', ind: '*r64/m64', m: 'mem', cr: '%crN', mfar: '*mem', xlat: '(%rbx)', xlat32: '(%ebx)', xlatfs: '%fs:(%rbx)', xlatgs: '%gs:(%rbx)' };
  const ops = f.ops.map((p) => names[p] ?? (/^(al|ax|eax|rax|cl|fs|gs)$/.test(p) ? `%${p}` : p));
  if (!entry.noReverse) ops.reverse();
  const sfx = f.size && entry.suffixes && TABLE.get(m) === entry ? ({ 8: 'b', 16: 'w', 32: 'l', 64: 'q' } as const)[f.size] : '';
  return `${m}${sfx && entry.suffixes?.includes(sfx) ? sfx : ''} ${ops.join(', ')}`.trim();
}

/** Edit distance counting a swap of neighbours as one edit (typos like `mvo`). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** Closest known mnemonics, for "unknown mnemonic" messages. */
export function suggestMnemonics(m: string): string[] {
  // Only names within 2 of the length can be within 2 edits: a huge word costs nothing.
  return allMnemonics()
    .filter((n) => Math.abs(n.length - m.length) <= 2)
    .map((n) => ({ n, d: editDistance(m, n) }))
    .filter((x) => x.d <= 2)
    .sort((a, b) => a.d - b.d || a.n.localeCompare(b.n))
    .slice(0, 4)
    .map((x) => x.n);
}

/**
 * Chooses the form for `mnemonic` with AT&T-order operands. `early` evaluates immediates and
 * displacements with what is known at this point of the file.
 */
export function select(mnemonic: string, attOps: Operand[], early: (e: Expr) => Early, table: Map<string, Entry> = TABLE): Selected {
  const parsed = lookup(mnemonic, table);
  if (!parsed || needsSimd(attOps)) {
    const v = selectSimd(mnemonic, attOps, early);
    if (v) return v;
  }
  if (attOps.some((o) => o.k === 'rc')) throw new SelectError(`'${mnemonic}' takes no rounding operand`);
  if (!parsed) {
    const near = suggestMnemonics(mnemonic);
    throw new SelectError(`unknown instruction '${mnemonic}'${near.length ? `; did you mean ${near.map((n) => `'${n}'`).join(', ')}?` : ''}`);
  }
  const { entry } = parsed;
  const ops = entry.noReverse ? attOps : [...attOps].reverse();
  const evs = ops.map((o) => (o.k === 'imm' ? early(o.expr) : undefined));
  if (mnemonic === 'int' && ops.length === 1 && evs[0]?.kind === 'const' && evs[0].v === 3n) {
    return selected(mnemonic, 'Int3', undefined, [], entry);
  }
  // The form depends on the mnemonic and on what matchPat and the forms' `when` read of each
  // operand: found once per shape, as kernel code repeats a few shapes thousands of times.
  const key = table === TABLE ? legacyShapeKey(mnemonic, ops, evs) : undefined;
  const known = key === undefined ? undefined : LEGACY_CHOICES.get(key);
  if (known) return selected(mnemonic, known.f.code, known.f.near, buildOps(known.f, ops, evs), entry, known.warning);
  const remember = (f: Form, warning?: string) => {
    if (key === undefined) return;
    if (LEGACY_CHOICES.size >= 20_000) LEGACY_CHOICES.clear();
    LEGACY_CHOICES.set(key, { f, warning });
  };
  const regs = ops.map((o) => (o.k === 'reg' ? o.reg.name : undefined));
  let sizeMismatch: Form | undefined;
  let unsized = false;
  let unsized32: Form | undefined;
  for (let fi = 0; fi < entry.forms.length; fi++) {
    const f = entry.forms[fi];
    if (f.ops.length !== ops.length) continue;
    const size = f.size;
    if (!f.ops.every((p, i) => matchPat(p, ops[i], evs[i], size))) continue;
    if (f.when && !f.when(regs)) continue;
    if (size && parsed.size && size !== parsed.size) {
      sizeMismatch ??= f;
      continue;
    }
    if (size && !parsed.size) {
      const sized = f.ops.some((p, i) => (p in SIZED_REG || /^(al|ax|eax|rax|ind|ind32)$/.test(p)) && ops[i].k === 'reg');
      if (!sized && entry.defaultSize !== size) {
        unsized = true;
        if (size === 32) unsized32 ??= f;
        continue;
      }
    }
    remember(f);
    return selected(mnemonic, f.code, f.near, buildOps(f, ops, evs), entry);
  }
  const cut = shortened(mnemonic, entry, parsed.size, ops, evs, regs);
  if (cut) return cut;
  const hint = entry.forms.slice(0, 8).map((f) => describeForm(mnemonic.replace(/[bwlq]$/, (s) => (TABLE.has(mnemonic) ? s : '')), f, entry));
  if (sizeMismatch && !unsized) {
    const reg = attOps.find((o) => o.k === 'reg' && o.reg.kind === 'gpr');
    throw new SelectError(
      `operand size mismatch for '${mnemonic}': the suffix says ${parsed.size}-bit${reg && reg.k === 'reg' ? ` but %${reg.reg.name} is ${reg.reg.size}-bit` : ''}`,
    );
  }
  if (unsized && unsized32 && entry.suffixes?.includes('l')) {
    // GNU as takes the 32-bit form here, with a warning.
    const f = unsized32;
    const warning = `no size suffix and no register operand for '${mnemonic}': assembled as ${mnemonic}l (32-bit), as GNU as does; write ${['b', 'w', 'l', 'q'].filter((x) => entry.suffixes?.includes(x)).map((x) => mnemonic + x).join('/')} to say which`;
    remember(f, warning);
    return selected(mnemonic, f.code, f.near, buildOps(f, ops, evs), entry, warning);
  }
  if (unsized) {
    throw new SelectError(`no size suffix and no register operand: cannot tell the operand size of '${mnemonic}'; write ${['b', 'w', 'l', 'q'].filter((s) => entry.suffixes?.includes(s)).map((s) => mnemonic + s).join('/')}`);
  }
  const got = attOps.map(describeOperand).join(', ');
  throw new SelectError(`invalid operands for '${mnemonic}' (${got || 'none'}); expected one of: ${[...new Set(hint)].join(' | ')}`);
}

/**
 * GNU as (tc-i386.c: optimize_imm, offset_in_range) cuts an immediate too wide for an 8-, 16- or
 * 32-bit operation, whose size the suffix or a register operand fixes, to that size, with a
 * warning, and encodes it in the form with an immediate of the full size (never the
 * sign-extended byte): `addl $0x1ffffffff, (%rax)` is 81 /0 ffffffff. Not remembered by shape:
 * the warning names the value.
 */
function shortened(mnemonic: string, entry: Entry, suffixSize: number | undefined, ops: Operand[], evs: (Early | undefined)[], regs: (string | undefined)[]): Selected | undefined {
  const i = evs.findIndex((e) => e?.kind === 'const');
  if (i < 0 || evs.some((e, k) => k !== i && e !== undefined)) return undefined;
  const reg = ops.find((o) => o.k === 'reg' && o.reg.kind === 'gpr');
  const size = suffixSize ?? (reg?.k === 'reg' ? reg.reg.size : undefined);
  if (size !== 8 && size !== 16 && size !== 32) return undefined;
  const v = (evs[i] as { kind: 'const'; v: bigint }).v;
  const u = BigInt.asUintN(64, v);
  // gas warns only when neither the value nor its negation fits the size (`addb $-255, %cl`
  // is 0x01 without a word).
  const warn = truncates(v, size / 8);
  const cut = BigInt.asUintN(size, v);
  const evs2 = evs.slice();
  evs2[i] = { kind: 'const', v: cut };
  for (const f of entry.forms) {
    if (f.ops.length !== ops.length || f.ops[i] === 'i8s' || f.ops[i] === 'one') continue;
    if (f.size && f.size !== size) continue;
    if (!f.ops.every((p, k) => matchPat(p, ops[k], evs2[k], f.size))) continue;
    if (f.when && !f.when(regs)) continue;
    const warning = warn ? `0x${u.toString(16)} shortened to 0x${cut.toString(16)}: the immediate is cut to the ${size}-bit operation, as GNU as does` : undefined;
    return selected(mnemonic, f.code, f.near, buildOps(f, ops, evs2), entry, warning);
  }
  return undefined;
}

const LEGACY_CHOICES = new Map<string, { f: Form; warning?: string }>();

/**
 * Everything the form choice reads of the operands: register names (sizes, kinds and the
 * fixed-register patterns), the parts a memory operand has (base and segment by name: the
 * xlat patterns read them), and for a known immediate which of matchPat's ranges it fits.
 */
function legacyShapeKey(mnemonic: string, ops: Operand[], evs: (Early | undefined)[]): string {
  let k = mnemonic;
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i];
    if (o.k === 'reg') k += `|r${o.star ? '*' : ''}${o.reg.name}`;
    else if (o.k === 'mem') k += `|m${o.star ? '*' : ''}${o.seg?.name ?? ''}:${o.disp ? 'd' : ''}(${o.base?.name ?? ''},${o.index ? 'i' : ''})`;
    else if (o.k === 'imm') {
      const ev = evs[i];
      if (!ev || ev.kind === 'reloc') k += '|iR';
      else {
        const v = ev.v;
        const v16 = normalize(v, 16), v32 = normalize(v, 32);
        k += `|i${+(v === 1n)}${+fits(v16, -128n, 127n)}${+fits(v32, -128n, 127n)}${+fits(v, -128n, 127n)}${+fits(v, -128n, 255n)}${+fits(v, -32768n, 65535n)}`;
        k += `${+fits(v16, I32_MIN, U32_MAX)}${+fits(normalize32(v, 32), I32_MIN, U32_MAX)}${+fits(v, I32_MIN, U32_MAX)}${+fits(v, I32_MIN, I32_MAX)}`;
      }
    } else k += '|c';
  }
  return k;
}

function describeOperand(o: Operand): string {
  if (o.k === 'reg') return `${o.star ? '*' : ''}%${o.reg.name}`;
  if (o.k === 'imm') return '$imm';
  if (o.k === 'rc') return `{${o.mode}}`;
  return o.star ? '*mem' : 'mem';
}

const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
const reg32 = (num: number) => R32[num];

function buildOps(f: Form, ops: Operand[], evs: (Early | undefined)[]): SelOp[] {
  const order = f.order ?? f.ops.map((_, i) => i);
  return order.map((i): SelOp => {
    if (i === -1) return { k: 'imm', expr: numNode(1n), bits: 8, early: { kind: 'const', v: 1n } };
    if (i === -2) return { k: 'reg', name: 'cl' };
    const o = ops[i];
    const p = f.ops[i];
    if (p === 'rel') return { k: 'rel', expr: (o as MemOperand).disp! };
    if (o.k === 'reg') return { k: 'reg', name: f.regAs32 === i ? reg32(o.reg.num) : o.reg.name };
    if (o.k === 'imm') {
      const ev = evs[i]!;
      // The sign-extended imm8 forms carry the value gas normalised to the operand size.
      const early: Early = (p === 'i8s' || p === 'i32') && ev.kind === 'const' ? { kind: 'const', v: p === 'i32' ? normalize32(ev.v, f.size) : normalize(ev.v, f.size) } : ev;
      return { k: 'imm', expr: o.expr, bits: immBits(p, f.code), early };
    }
    return { k: 'mem', m: o as MemOperand, dispSize: 0, early: undefined, bcst: false };
  });
}

/** Condition-code aliases, exported for the listing and the disassembler tests. */
export { CONDITIONS };

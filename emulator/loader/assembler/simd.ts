// SSE, AVX and AVX-512 instructions: their forms are read from iced-x86's Code names
// (`VEX_Vpaddd_ymm_ymm_ymmm256`, `EVEX_Vpternlogd_zmm_k1z_zmm_zmmm512b32_imm8`), so every
// vector instruction iced encodes is known to the assembler without a hand-written list.
// Candidates are tried as gas tries its templates: legacy SSE, then VEX, then EVEX (gas
// only takes EVEX when a register above 15, a mask, a broadcast, rounding, a zmm register or
// an EVEX-only mnemonic asks for it), each group in opcode order.

import { allCodeNames } from '../../decode/encoder';
import { Expr } from './expr';
import { Early, SelectError, Selected, SelOp, selected } from './select';
import { Entry } from './isa';
import { MemOperand, Operand, RegInfo } from './operands';

type VecClass = 'xmm' | 'ymm' | 'zmm';

/** One operand of a form, decoded from a Code name token. */
interface Spec {
  /** Register class the operand may be, if any. */
  reg?: VecClass | 'k' | 'gpr';
  /** GPR width for `reg: 'gpr'`. */
  gprSize?: number;
  /** A memory operand is allowed. */
  mem?: boolean;
  /** Bits of the memory operand (vector forms): with `bcst`, the broadcast count is mem/bcst. */
  memBits?: number;
  /** Element size of an embedded broadcast. */
  bcst?: number;
  /** VSIB memory with this index register class. */
  vsib?: VecClass;
  imm?: boolean;
  /** `{%kN}` allowed here; `z`: `{z}` also. */
  mask?: 'k' | 'kz';
}

interface SimdForm {
  code: string;
  enc: 0 | 1 | 2; // legacy, VEX, EVEX
  specs: Spec[];
  rounding: boolean;
  sae: boolean;
}

/**
 * iced's Code names by mnemonic, in enum (opcode) order: a cheap pass over the names that reads
 * only the encoding prefix and the mnemonic. The operand tokens of a mnemonic's names are parsed
 * into forms the first time a statement uses that mnemonic (`FORMS`), not for all ~5,000 names
 * at once: a file with a handful of vector mnemonics pays for those alone.
 */
let names: Map<string, string[]> | undefined;
/** Parsed forms by mnemonic; `null`: iced has names for it but none is a vector form. */
const FORMS = new Map<string, SimdForm[] | null>();

function parseToken(t: string): Spec | undefined {
  let m = /^(xmm|ymm|zmm)(?:m(\d+))?(?:b(\d+))?$/.exec(t);
  if (m) {
    const cls = m[1] as VecClass;
    if (!m[2]) return { reg: cls };
    return { reg: cls, mem: true, memBits: Number(m[2]), bcst: m[3] ? Number(m[3]) : undefined };
  }
  if ((m = /^r(8|16|32|64)$/.exec(t))) return { reg: 'gpr', gprSize: Number(m[1]) };
  if ((m = /^rm(8|16|32|64)$/.exec(t))) return { reg: 'gpr', gprSize: Number(m[1]), mem: true };
  if ((m = /^r(32|64)m(8|16|32)$/.exec(t))) return { reg: 'gpr', gprSize: Number(m[1]), mem: true };
  if (/^m(8|16|32|64|128|256|512)?$/.test(t) || t === 'mem') return { mem: true };
  if (t === 'kr') return { reg: 'k' };
  if (/^km(8|16|32|64)$/.test(t)) return { reg: 'k', mem: true };
  if ((m = /^vm(32|64)(x|y|z)$/.exec(t))) return { vsib: `${m[2]}mm` as VecClass, mem: true };
  if (t === 'imm8') return { imm: true };
  return undefined;
}

function indexNames(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const code of allCodeNames()) {
    let start = 0;
    const u = code.indexOf('_');
    if (u > 0) {
      const head = code.slice(0, u);
      if (head === 'VEX' || head === 'EVEX') start = u + 1;
      else if (/^[A-Z]+$/.test(head)) continue; // XOP, MVEX, 3DNow!
    }
    const end = code.indexOf('_', start);
    const mnemonic = code.slice(start, end < 0 ? undefined : end).toLowerCase();
    let list = out.get(mnemonic);
    if (!list) out.set(mnemonic, (list = []));
    list.push(code);
  }
  return out;
}

/** The vector forms among one mnemonic's Code names. */
function parseForms(codes: string[]): SimdForm[] {
  const out: SimdForm[] = [];
  for (const code of codes) {
    const parts = code.split('_');
    let enc: 0 | 1 | 2 = 0;
    let i = 0;
    if (parts[0] === 'VEX') (enc = 1), (i = 1);
    else if (parts[0] === 'EVEX') (enc = 2), (i = 1);
    const specs: Spec[] = [];
    let rounding = false;
    let sae = false;
    let ok = true;
    let vector = false;
    for (const t of parts.slice(i + 1)) {
      if (t === 'k1' || t === 'k1z') {
        if (!specs.length) { ok = false; break; }
        specs[specs.length - 1].mask = t === 'k1' ? 'k' : 'kz';
        continue;
      }
      if (t === 'er') { rounding = true; continue; }
      if (t === 'sae') { sae = true; continue; }
      const s = parseToken(t);
      if (!s) { ok = false; break; }
      if (s.reg === 'xmm' || s.reg === 'ymm' || s.reg === 'zmm' || s.reg === 'k' || s.vsib) vector = true;
      specs.push(s);
    }
    // VEX-encoded GPR instructions (BMI1/BMI2: andn bzhi rorx sarx shlx shrx pdep pext mulx bextr blsi blsr blsmsk) too.
    if (!ok || !(vector || enc === 1)) continue;
    out.push({ code, enc, specs, rounding, sae });
  }
  return out.sort((a, b) => a.enc - b.enc); // stable: opcode order within a group
}

function forms(mnemonic: string): SimdForm[] | undefined {
  let list = FORMS.get(mnemonic);
  if (list === undefined) {
    names ??= indexNames();
    const codes = names.get(mnemonic);
    const parsed = codes ? parseForms(codes) : [];
    list = parsed.length ? parsed : null;
    if (FORMS.size >= 10_000) FORMS.clear(); // bounded even when asked about endless unknown words
    FORMS.set(mnemonic, list);
  }
  return list ?? undefined;
}

/** True when `mnemonic` names a vector instruction (possibly with an AT&T size suffix). */
export function isSimdMnemonic(mnemonic: string): boolean {
  return !!forms(mnemonic) || (/[lqxy]$/.test(mnemonic) && !!forms(mnemonic.slice(0, -1)));
}

const isVec = (r: RegInfo) => r.kind === 'xmm' || r.kind === 'ymm' || r.kind === 'zmm';

/** True when an operand list needs the vector selector (a vector/mask register or a decoration). */
export function needsSimd(ops: Operand[]): boolean {
  return ops.some((o) => o.k === 'rc' || (o.k === 'reg' && (isVec(o.reg) || o.reg.kind === 'k' || !!o.deco)) || (o.k === 'mem' && (!!o.deco || (!!o.index && isVec(o.index)))));
}

function matchSpec(s: Spec, o: Operand, ev: Early | undefined, evex: boolean, sfx: string): boolean {
  if (o.k === 'rc') return false;
  if (o.k === 'imm') return !!s.imm && (ev?.kind !== 'const' || (ev.v >= -128n && ev.v <= 255n));
  if (s.imm) return false;
  const deco = o.deco;
  if (deco?.mask && !s.mask) return false;
  if (deco?.zero && s.mask !== 'kz') return false;
  if (o.k === 'reg') {
    if (o.star) return false;
    const r = o.reg;
    if (s.reg === 'gpr') return r.kind === 'gpr' && r.size === s.gprSize && (sfx !== 'l' || r.size === 32) && (sfx !== 'q' || r.size === 64);
    if (s.reg === 'k') return r.kind === 'k';
    if (!s.reg || r.kind !== s.reg) return false;
    return evex || r.num < 16;
  }
  // memory
  if (!s.mem || o.star) return false;
  const vsibIdx = o.index && isVec(o.index) ? o.index : undefined;
  if (s.vsib) return !!vsibIdx && vsibIdx.kind === s.vsib && (evex || vsibIdx.num < 16);
  if (vsibIdx) return false;
  if (deco?.bcst) {
    if (!s.bcst || !s.memBits || deco.bcst * s.bcst !== s.memBits) return false;
  }
  if (sfx === 'l' && s.reg === 'gpr' && s.gprSize !== 32) return false;
  if (sfx === 'q' && s.reg === 'gpr' && s.gprSize !== 64) return false;
  if (sfx === 'x' && s.reg !== 'xmm') return false;
  if (sfx === 'y' && s.reg !== 'ymm') return false;
  return true;
}

const IMPLICIT_XMM0 = new Set(['sha256rnds2', 'blendvps', 'blendvpd', 'pblendvb']);

const DUMMY_ENTRY: Entry = { forms: [] };

/**
 * Chooses the vector form for `mnemonic` with AT&T operands; undefined when the mnemonic is
 * not a vector instruction. Throws SelectError when it is one but no form fits.
 */
export function selectSimd(mnemonic: string, attOps: Operand[], early: (e: Expr) => Early): Selected | undefined {
  let list = forms(mnemonic);
  let sfx = '';
  if (!list && /[lqxy]$/.test(mnemonic)) {
    list = forms(mnemonic.slice(0, -1));
    sfx = mnemonic.slice(-1);
  }
  if (!list) return undefined;
  // The legacy blends and sha256rnds2 read %xmm0 implicitly; gas also takes it written out first.
  if (IMPLICIT_XMM0.has(mnemonic) && attOps.length === 3 && attOps[0].k === 'reg' && attOps[0].reg.name === 'xmm0') attOps = attOps.slice(1);
  // Intel order (reversed), without the rounding operand; immediates evaluated: one pass.
  let rc: (Operand & { k: 'rc' }) | undefined;
  const ops: Operand[] = [];
  const evs: (Early | undefined)[] = [];
  for (let i = attOps.length - 1; i >= 0; i--) {
    const o = attOps[i];
    if (o.k === 'rc') {
      rc = o; // the first one, as written
      continue;
    }
    ops.push(o);
    evs.push(o.k === 'imm' ? early(o.expr) : undefined);
  }
  // The choice depends on the mnemonic and on each operand's shape alone (what matchSpec
  // reads): kernel files repeat a few shapes thousands of times, so it is made once per shape.
  const key = shapeKey(mnemonic, ops, evs, rc);
  let choice = CHOICES.get(key);
  if (!choice) {
    choice = choose(list, ops, evs, rc, sfx);
    if (!choice) {
      const shapes = [...new Set(list.map((x) => x.code.replace(/^(VEX|EVEX)_[^_]+_?/, '').replace(/_/g, ', ')))].slice(0, 8);
      const got = attOps.map((o) => (o.k === 'reg' ? `%${o.reg.name}` : o.k === 'imm' ? '$imm' : o.k === 'rc' ? `{${o.mode}}` : 'mem')).join(', ');
      throw new SelectError(`invalid operands for '${mnemonic}' (${got || 'none'}); its forms (Intel order) are: ${shapes.join(' | ')}`);
    }
    if (CHOICES.size >= 20_000) CHOICES.clear();
    CHOICES.set(key, choice);
  }
  const sel = selected(mnemonic, choice.code, undefined, ops.map((o, i) => selOp(o, evs[i])), DUMMY_ENTRY);
  let deco: { mask?: RegInfo; zero?: boolean } | undefined;
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i];
    if ((o.k === 'reg' || o.k === 'mem') && o.deco?.mask) deco = o.deco;
  }
  if (deco || rc) {
    sel.evex = { mask: deco?.mask?.name, zeroing: deco?.zero, rounding: rc && rc.mode !== 'sae' ? rc.mode : undefined, sae: rc?.mode === 'sae' || undefined };
  }
  if (choice.alts) sel.alts = choice.alts;
  return sel;
}

/** The form chosen for one operand shape, and gas's register-swap alternatives. */
interface Choice {
  code: string;
  alts?: string[];
}

const CHOICES = new Map<string, Choice>();

/**
 * Everything `choose` reads of the operands, as a string: register names, memory shape (indirection, VSIB index class and whether it is above 15,
 * decorations), immediates as "fits imm8 or not known yet" vs "known and out of range", and
 * the rounding operand.
 */
function shapeKey(mnemonic: string, ops: Operand[], evs: (Early | undefined)[], rc: (Operand & { k: 'rc' }) | undefined): string {
  let k = mnemonic;
  if (rc) k += `|rc${rc.mode}`;
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i];
    if (o.k === 'imm') {
      const ev = evs[i];
      k += ev?.kind === 'const' && (ev.v < -128n || ev.v > 255n) ? '|I' : '|i';
      continue;
    }
    if (o.k === 'rc') continue;
    if (o.k === 'reg') k += `|r${o.star ? '*' : ''}${o.reg.name}`;
    else {
      const x = o.index && isVec(o.index) ? `${o.index.kind}${o.index.num >= 16 ? '+' : ''}` : '';
      k += `|m${o.star ? '*' : ''}${x}`;
    }
    const d = o.deco;
    if (d) k += `{${d.mask?.name ?? ''}${d.zero ? 'z' : ''}${d.bcst ?? ''}}`;
  }
  return k;
}

function choose(list: SimdForm[], ops: Operand[], evs: (Early | undefined)[], rc: (Operand & { k: 'rc' }) | undefined, sfx: string): Choice | undefined {
  const matching = list.filter((f) => {
    if (f.specs.length !== ops.length) return false;
    if (rc && !(rc.mode === 'sae' ? f.sae || f.rounding : f.rounding)) return false;
    return f.specs.every((s, i) => matchSpec(s, ops[i], evs[i], f.enc === 2, sfx));
  });
  // A memory operand that fits both a GPR-or-memory and a vector-or-memory form takes the
  // vector one (gas lists `movq m64, %xmm` as f3 0f 7e before 66 REX.W 0f 6e).
  const gprMem = (x: SimdForm) => x.specs.some((s, i) => ops[i].k === 'mem' && s.reg === 'gpr');
  const f = matching.find((x) => !gprMem(x) && x.enc === matching[0]?.enc) ?? matching[0];
  if (!f) return undefined;
  // gas swaps the operands of a register-to-register load/store pair when that allows the
  // two-byte VEX prefix: every other form in the same group that fits is an alternative,
  // and the encoder keeps the shortest.
  if (f.enc === 1 && ops.every((o) => o.k === 'reg')) {
    const alts = matching.filter((x) => x !== f && x.enc === 1).map((x) => x.code);
    if (alts.length) return { code: f.code, alts };
  }
  return { code: f.code };
}

function selOp(o: Operand, ev: Early | undefined): SelOp {
  if (o.k === 'reg') return { k: 'reg', name: o.reg.name };
  if (o.k === 'imm') return { k: 'imm', expr: o.expr, bits: 8, early: ev! };
  return { k: 'mem', m: o as MemOperand, dispSize: 0, early: undefined, bcst: !!(o as MemOperand).deco?.bcst };
}

// The dispatch table: the instruction records of every family (see table.ts for the record and
// how to add an instruction), indexed by mnemonic. The table is also the list of what we
// emulate; anything else stops with "not emulated".

import { CpuFault, Vector } from '../cpu/fault';
import { notEmulated } from '../cpu/system';
import { Insn, K } from '../decode/insn';
import type { Handler } from '../decode/insn';
import { FEATURE, UNIMPLEMENTED_FEATURES, type CpuidFeature, type InsnRecord } from './table';
import { formHandler } from './jit';
import { records as alu } from './alu';
import { records as atomic } from './atomic';
import { records as bit } from './bit';
import { records as control } from './control';
import { records as move } from './move';
import { records as muldiv } from './muldiv';
import { records as shift } from './shift';
import { records as stack } from './stack';
import { records as string } from './string';
import { records as system } from './system';
import { records as sse } from './sse';
import { records as ssefp } from './ssefp';
import { records as ext } from './ext';
import { records as sysext } from './sysext';
import { records as segment, segmentHandler } from './segment';

/** Every family's records. A new family: one import above, one entry here. */
const FAMILIES: readonly (readonly InsnRecord[])[] = [alu, atomic, bit, control, move, muldiv, shift, stack, string, system, sse, ssefp, ext, sysext, segment];

/** Every record, in family order. */
export const RECORDS: readonly InsnRecord[] = FAMILIES.flat();

const BY_MNEMONIC = new Map<string, InsnRecord>();
/** Records of the forms with an XMM operand. */
const BY_MNEMONIC_XMM = new Map<string, InsnRecord>();
for (const r of RECORDS) {
  const map = r.xmm ? BY_MNEMONIC_XMM : BY_MNEMONIC;
  for (const m of r.mnemonics) {
    if (map.has(m)) throw new Error(`instruction table: '${m}' has two records (${map.get(m)!.name}, ${r.name})`);
    map.set(m, r);
  }
}

/** The record that executes a mnemonic (iced-x86, lowercase); `xmm`: of the form with an XMM operand. */
export function recordOf(mnemonic: string, xmm = false): InsnRecord | undefined {
  return xmm ? BY_MNEMONIC_XMM.get(mnemonic) : BY_MNEMONIC.get(mnemonic) ?? BY_MNEMONIC_XMM.get(mnemonic);
}

function hexAddr(a: number): string {
  return '0x' + BigInt.asUintN(64, BigInt(a)).toString(16);
}

const notEmulatedHandler: Handler = (_c, i) => {
  throw notEmulated(i);
};

const invalidOpcode: Handler = (_c, i) => {
  throw new CpuFault(Vector.UD, undefined, `invalid opcode (bytes ${[...i.bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ')}) at ${hexAddr(i.addr)}`);
};

const badLock: Handler = (_c, i) => {
  throw new CpuFault(Vector.UD, undefined, `lock prefix not allowed on '${i.text()}'`);
};

function featureAbsent(f: CpuidFeature): Handler {
  const leaf = `${f.leaf.toString(16).toUpperCase()}H${f.subleaf !== undefined ? `, ECX=${f.subleaf}` : ''}`;
  return (_c, i) => {
    throw new CpuFault(Vector.UD, undefined, `invalid opcode: '${i.text()}' at ${hexAddr(i.addr)} needs ${f.name}, which CPUID clears (CPUID.${leaf}:${f.reg.toUpperCase()}.${f.name}[bit ${f.bit}] = 0)`);
  };
}

/**
 * Chooses the handler for a decoded instruction and records its specialised form in `i.form`
 * (what the block compiler inlines): the form's handler when one matches, unless `generic`
 * (the differential suite runs the records' generic handlers that way too). `hasFeature`
 * answers whether CPUID announces a feature; a record whose feature is clear then behaves as
 * its `withoutFeature` says (#UD by default).
 */
export function resolveHandler(i: Insn, generic = false, hasFeature?: (f: CpuidFeature) => boolean): Handler {
  i.form = null;
  if (i.mnemonic === '(bad)') return invalidOpcode;
  const r = recordOf(i.mnemonic, i.k0 === K.XMM || i.k1 === K.XMM || i.k2 === K.XMM);
  if (!r) return notEmulatedHandler;
  // MOV/PUSH/POP with a segment register: exec/segment.ts.
  if (i.k0 === K.SEG || i.k1 === K.SEG) { const h = segmentHandler(i); if (h) return h; }
  // Far JMP/CALL through memory (m16:16/32/64): exec/segment.ts.
  if ((i.mnemonic === 'jmp' || i.mnemonic === 'call') && /_m16(16|32|64)$/.test(i.codeName)) return segmentHandler(i)!;
  // Operands we do not model (MMX/YMM, segment or debug registers) mean another instruction form.
  if (i.k0 === K.SEG || i.k1 === K.SEG || i.k2 === K.SEG || i.k0 === K.OTHER || i.k1 === K.OTHER || i.k2 === K.OTHER) return notEmulatedHandler;
  if (i.lock && !(r.lockable && i.k0 === K.MEM)) return badLock;
  if (r.cpuid !== undefined && hasFeature !== undefined && r.withoutFeature !== 'runs' && !hasFeature(r.cpuid)) {
    if (r.withoutFeature === undefined) return featureAbsent(r.cpuid);
    const alt = recordOf(r.withoutFeature.as);
    if (alt === undefined) throw new Error(`instruction table: ${r.name} executes as unknown '${r.withoutFeature.as}'`);
    return alt.exec;
  }
  if (generic || !r.forms) return r.exec;
  for (const f of r.forms) {
    if (f.match(i)) { i.form = f; return formHandler(f, i); }
  }
  return r.exec;
}

/** Lowercase mnemonics the emulator executes. */
export function emulatedMnemonics(): string[] {
  return [...new Set([...BY_MNEMONIC.keys(), ...BY_MNEMONIC_XMM.keys()])].sort();
}

/** The form groups the differential suite must cover: every record's, unless it says it cannot be checked natively. */
export function differentialGroups(): string[] {
  return RECORDS.flatMap((r) => (r.diff === false ? [] : r.diff ?? [r.name]));
}

/**
 * Brings the instruction-set feature bits of a CPUID table in line with the records: a feature
 * some record names is announced, every other one the table knows (FEATURE, UNIMPLEMENTED_FEATURES)
 * is cleared. Other bits (paging, APIC, VMX, ...) are left as given.
 */
export function isaCpuid(table: Map<string, [number, number, number, number]>): void {
  const named = new Set(RECORDS.map((r) => r.cpuid).filter((f): f is CpuidFeature => f !== undefined));
  const REG = { eax: 0, ebx: 1, ecx: 2, edx: 3 } as const;
  for (const f of [...Object.values(FEATURE), ...Object.values(UNIMPLEMENTED_FEATURES)] as CpuidFeature[]) {
    const key = f.subleaf === undefined ? f.leaf.toString(16) : `${f.leaf.toString(16)}:${f.subleaf}`;
    const v = table.get(key) ?? [0, 0, 0, 0];
    const r = REG[f.reg];
    v[r] = named.has(f) ? (v[r] | (1 << f.bit)) >>> 0 : (v[r] & ~(1 << f.bit)) >>> 0;
    table.set(key, v);
  }
}

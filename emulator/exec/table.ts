// The instruction table: one record per instruction, holding everything the emulator knows
// about it — its semantics (the handler), the specialised forms generated from one source
// template each, and its facts (lockable, ends a block, runs alone, flags the SDM leaves
// undefined, the CPUID feature that announces it, the GNU as mnemonics that produce it, the
// forms the differential suite must check). The interpreter, the block compiler, the machine's
// block builder and the differential suite all read these records; there is no other list.
//
// HOW TO ADD AN INSTRUCTION
// 1. Write its semantics as a width-generic `Handler` (see decode/insn.ts) in the family file it
//    belongs to (exec/alu.ts, move.ts, ...) and append a record to that file's `records` array:
//      rec('popcnt', popcnt, { cpuid: FEATURE.POPCNT, undefinedFlags: 0 })
//    `rec(name, exec, facts)` covers one mnemonic; `mnemonics` lists every iced-x86 mnemonic
//    (lowercase) when one record covers several (`jcc` covers je, jne, ...; `movs` covers
//    movsb..movsq). Set the facts that apply: `lockable`, `endsBlock` (a control transfer),
//    `solo` (reads the instruction count, leaves for the platform, or stops the run),
//    `noFallThrough` (never continues at the next instruction: decoding ahead stops after it),
//    `trace` (a block continues through it, see InsnRecord), `undefinedFlags` (RFLAGS bits
//    the SDM's "Flags Affected" leaves undefined; 'count' when it
//    depends on the count, see the differential suite's flagMasks.ts), `cpuid`, `asm`.
// 2. A new family: create exec/<family>.ts exporting `records: InsnRecord[]` and add it to
//    FAMILIES in exec/index.ts (one import, one array entry).
// 3. Hot forms (optional): add `forms`, each a `match` on the decoded operand shape and a `src`
//    template producing JavaScript for the semantics from the operand expressions it is given
//    (`TemplateOps`). The same template becomes the interpreter's specialised handler (operands
//    read from the decoded instruction, compiled once per distinct shape) and the block
//    compiler's inline code (operands as constants). A form must behave exactly like `exec`
//    on the shapes it matches: the differential suite runs every case through `exec` alone, the
//    specialised handlers and the blocks.
// 4. The differential suite requires at least one form of its own for every record's `name`
//    (or the names in `diff`); set `diff: false` with a reason for instructions the host CPU
//    cannot check in user mode (privileged, platform, time-dependent).

import type { Handler, Insn } from '../decode/insn';

/** A CPUID feature bit: leaf (and subleaf), register and bit that announce an instruction. */
export interface CpuidFeature {
  name: string;
  leaf: number;
  subleaf?: number;
  reg: 'eax' | 'ebx' | 'ecx' | 'edx';
  bit: number;
}

/** Feature bits named by records (Intel SDM Vol. 2A, CPUID, tables 3-10, 3-11 and leaf 07H/80000001H). */
export const FEATURE = {
  CX16: { name: 'CMPXCHG16B', leaf: 1, reg: 'ecx', bit: 13 },
  POPCNT: { name: 'POPCNT', leaf: 1, reg: 'ecx', bit: 23 },
  BMI1: { name: 'BMI1', leaf: 7, subleaf: 0, reg: 'ebx', bit: 3 },
  LZCNT: { name: 'LZCNT', leaf: 0x80000001, reg: 'ecx', bit: 5 },
  SSE2: { name: 'SSE2', leaf: 1, reg: 'edx', bit: 26 },
  SSE: { name: 'SSE', leaf: 1, reg: 'edx', bit: 25 },
  FXSR: { name: 'FXSR', leaf: 1, reg: 'edx', bit: 24 },
  CX8: { name: 'CX8', leaf: 1, reg: 'edx', bit: 8 },
  SSE3: { name: 'SSE3', leaf: 1, reg: 'ecx', bit: 0 },
  SSSE3: { name: 'SSSE3', leaf: 1, reg: 'ecx', bit: 9 },
  SSE41: { name: 'SSE4.1', leaf: 1, reg: 'ecx', bit: 19 },
  SSE42: { name: 'SSE4.2', leaf: 1, reg: 'ecx', bit: 20 },
  MOVBE: { name: 'MOVBE', leaf: 1, reg: 'ecx', bit: 22 },
  RDRAND: { name: 'RDRAND', leaf: 1, reg: 'ecx', bit: 30 },
  BMI2: { name: 'BMI2', leaf: 7, subleaf: 0, reg: 'ebx', bit: 8 },
  ADX: { name: 'ADX', leaf: 7, subleaf: 0, reg: 'ebx', bit: 19 },
  RDSEED: { name: 'RDSEED', leaf: 7, subleaf: 0, reg: 'ebx', bit: 18 },
  LAHF: { name: 'LAHF-SAHF', leaf: 0x80000001, reg: 'ecx', bit: 0 },
  CLFSH: { name: 'CLFSH', leaf: 1, reg: 'edx', bit: 19 },
  FSGSBASE: { name: 'FSGSBASE', leaf: 7, subleaf: 0, reg: 'ebx', bit: 0 },
  CLFLUSHOPT: { name: 'CLFLUSHOPT', leaf: 7, subleaf: 0, reg: 'ebx', bit: 23 },
  CLWB: { name: 'CLWB', leaf: 7, subleaf: 0, reg: 'ebx', bit: 24 },
} as const satisfies Record<string, CpuidFeature>;

/**
 * Instruction-set features no record implements: CPUID must not announce them (the default
 * CPUID clears them; see isaCpuid in exec/index.ts). x87 and MMX are not modelled.
 */
export const UNIMPLEMENTED_FEATURES = {
  FPU: { name: 'FPU (x87)', leaf: 1, reg: 'edx', bit: 0 },
  MMX: { name: 'MMX', leaf: 1, reg: 'edx', bit: 23 },
  PCLMULQDQ: { name: 'PCLMULQDQ', leaf: 1, reg: 'ecx', bit: 1 },
  MONITOR: { name: 'MONITOR/MWAIT', leaf: 1, reg: 'ecx', bit: 3 },
  FMA: { name: 'FMA', leaf: 1, reg: 'ecx', bit: 12 },
  AES: { name: 'AES', leaf: 1, reg: 'ecx', bit: 25 },
  XSAVE: { name: 'XSAVE', leaf: 1, reg: 'ecx', bit: 26 },
  OSXSAVE: { name: 'OSXSAVE', leaf: 1, reg: 'ecx', bit: 27 },
  AVX: { name: 'AVX', leaf: 1, reg: 'ecx', bit: 28 },
  F16C: { name: 'F16C', leaf: 1, reg: 'ecx', bit: 29 },
  HLE: { name: 'HLE', leaf: 7, subleaf: 0, reg: 'ebx', bit: 4 },
  AVX2: { name: 'AVX2', leaf: 7, subleaf: 0, reg: 'ebx', bit: 5 },
  RTM: { name: 'RTM', leaf: 7, subleaf: 0, reg: 'ebx', bit: 11 },
  AVX512F: { name: 'AVX512F', leaf: 7, subleaf: 0, reg: 'ebx', bit: 16 },
  SHA: { name: 'SHA', leaf: 7, subleaf: 0, reg: 'ebx', bit: 29 },
  PREFETCHW: { name: 'PREFETCHW', leaf: 0x80000001, reg: 'ecx', bit: 8 },
} as const satisfies Record<string, CpuidFeature>;

/**
 * Operand expressions a template is given: JavaScript source that evaluates to the value in the
 * generated function, where `c` is the Cpu, `R` its register array (two int32 halves per GPR)
 * and `M` its memory. In the interpreter they read the decoded instruction; in a block they are
 * constants.
 */
export interface TemplateOps {
  /** Index into R of the low half of operand 0's / 1's register (2 × register number). */
  d: string;
  s: string;
  /** Immediate, low and high halves (sign-extended to the operand size). */
  immLo: string;
  immHi: string;
  /** Condition code, branch target and next instruction's address. */
  cc: string;
  target: string;
  next: string;
  /** The decoded instruction (for helpers that take it, e.g. `ea(c, x)` and fault messages). */
  x: string;
  /** The effective address of the memory operand (may raise #GP/#SS like the interpreter). */
  ea: string;
  /**
   * Base + index × scale + displacement before carrying and the canonical check, as the sums
   * of the low halves (unsigned, may exceed 2^32) and of the high halves; only for instructions
   * with no segment override and 64-bit addressing.
   */
  addrLo: string;
  addrHi: string;
  /**
   * The status flags this instruction sets are dead (a later instruction of the block sets
   * them all before anything can read them): a form whose `flags` is 'def' or 'part' leaves
   * them alone. Never set in the interpreter.
   */
  noFlags: boolean;
}

/**
 * How a form uses the status flags (CF PF AF ZF SF OF), for the block compiler's dead-flag
 * elimination: 'none' neither reads nor writes them; 'def' sets all six from its operands
 * alone; 'part' may keep or combine earlier values (a rotate sets CF and OF only; a count of
 * zero changes none). Forms that read them (Jcc, CMOVcc, SETcc) leave `flags` unset.
 */
export type FlagUse = 'none' | 'def' | 'part';

/** A specialised form: a template for one operand shape of the instruction. */
export interface Form {
  /** Whether the decoded instruction has this form's shape (never true for LOCK/REP forms unless the template handles them). */
  match(i: Insn): boolean;
  /**
   * Whether the form can fault or touch memory: in a block it then keeps the bookkeeping that
   * precise faults and watches need (RIP, the index of the instruction in flight, attention).
   */
  faults: boolean;
  /**
   * The semantics as JavaScript statements. `i` is only for choosing code by shape (sizes,
   * operand kinds, the mnemonic): per-instruction values must come from `o`.
   */
  src(o: TemplateOps, i: Insn, tail?: string): string;
  /**
   * Its use of the status flags (see FlagUse; unset: it reads them). A 'def' or 'part' form's
   * template leaves the flags untouched when given `o.noFlags`, and changes nothing else then.
   */
  flags?: FlagUse | ((i: Insn) => FlagUse);
  /**
   * For a form that sets the flags: a JavaScript condition `cc` computed from its template's
   * own locals, which the block compiler fuses with a following Jcc (the code is placed as
   * `tail`, at the end of the template's scope); undefined where there is no such shortcut.
   */
  fuse?(cc: number, i: Insn): string | undefined;
}

export interface InsnRecord {
  /** The record's name: the mnemonic, or the family name (`jcc`, `cmovcc`, `movs`). */
  name: string;
  /** iced-x86 mnemonics (lowercase) this record executes. */
  mnemonics: readonly string[];
  /** The semantics for every operand form (the interpreter's generic handler). */
  exec: Handler;
  /** Specialised forms, tried in order. */
  forms?: readonly Form[];
  /** Accepts a LOCK prefix (with a memory destination). */
  lockable?: boolean;
  /** A control transfer: a block ends after it (unless `trace` lets the block continue). */
  endsBlock?: boolean;
  /**
   * A transfer a block continues through when it is direct (a constant target) or, for a
   * return, predicted: 'jump' goes on at the target; 'call' at the target, its return address
   * becoming the prediction of the next 'return' in the block, which goes on there when the
   * popped address equals it and leaves the block (RIP = the popped address) when it does not.
   */
  trace?: 'jump' | 'call' | 'return';
  /**
   * Execution never falls through to the next instruction (or does so only after the run has
   * stopped): decoding ahead stops after it, since what follows may be data.
   */
  noFallThrough?: boolean;
  /** Runs alone (outside blocks): reads the instruction count, leaves for the platform, or stops the run. */
  solo?: boolean;
  /** Runs alone when it has a REP prefix (string instructions re-execute themselves). */
  soloWithRep?: boolean;
  /** RFLAGS bits the SDM leaves undefined ('count': depends on the count operand). */
  undefinedFlags?: number | 'count';
  /** The CPUID feature that announces the instruction (absent: baseline x86-64). */
  cpuid?: CpuidFeature;
  /**
   * What the instruction does when its `cpuid` feature is clear (a user-given CPUID can clear
   * it): by default #UD, as the SDM's exception lists say ("#UD If CPUID...[bit n] = 0");
   * `{ as: mnemonic }` when the SDM says the encoding executes as another instruction on such
   * processors (LZCNT as BSR, TZCNT as BSF); 'runs' when the SDM lists no such #UD (CMPXCHG8B).
   */
  withoutFeature?: { as: string } | 'runs';
  /** GNU as base mnemonics (without size suffixes) that assemble to it, when they differ from `mnemonics`. */
  asm?: readonly string[];
  /**
   * Executes the forms with an XMM operand (these records are indexed apart: MOVSD and CMPSD
   * also name string instructions). Without an XMM operand the other table is asked first.
   */
  xmm?: boolean;
  /** Form groups the differential suite must cover (default [name]); false: not checkable natively (why in a comment). */
  diff?: readonly string[] | false;
}

export type Facts = Omit<InsnRecord, 'name' | 'mnemonics' | 'exec'> & { mnemonics?: readonly string[] };

/** A record for `name` (also its only mnemonic unless `facts.mnemonics` says otherwise). */
export function rec(name: string, exec: Handler, facts: Facts = {}): InsnRecord {
  return { ...facts, name, mnemonics: facts.mnemonics ?? [name], exec };
}

// Shared vocabulary of the TDX layer: general-purpose register numbering, the narrow CPU/memory
// interface the TDX module and VMM models are written against, and register-role records.
// The emulator adapts its Machine to `TdxCpuAccess`; nothing in emulator/tdx imports the CPU
// emulator, so the catalog and models stay usable from a plain Node script and from tests.

/**
 * General-purpose registers in x86 encoding order (Linux arch/x86/coco/tdx/tdcall.S, TDX_R* bits of asm/shared/tdx.h: "bit n stands for
 * GPR n"). The same numbering indexes the TDVMCALL exposure bitmap and the module's operand ids
 * 0..15 (TDX module tdx_error_codes_defs.h, tdx_api_defs.h).
 */
export const GPR_NAMES = [
  'RAX', 'RCX', 'RDX', 'RBX', 'RSP', 'RBP', 'RSI', 'RDI',
  'R8', 'R9', 'R10', 'R11', 'R12', 'R13', 'R14', 'R15',
] as const;

/** Upper-case GPR name, e.g. `'RCX'`. */
export type GprName = (typeof GPR_NAMES)[number];

/** A GPR number 0..15 in encoding order (RAX = 0 … R15 = 15). */
export type GprIndex = number;

/** Name → encoding number, e.g. `GPR.R12 === 12`. */
export const GPR: Readonly<Record<GprName, GprIndex>> = Object.freeze(
  Object.fromEntries(GPR_NAMES.map((n, i) => [n, i])) as Record<GprName, GprIndex>,
);

/** Parses `rcx`, `RCX`, `%rcx` into its encoding number; undefined when not a 64-bit GPR name. */
export function gprIndex(name: string): GprIndex | undefined {
  const i = (GPR_NAMES as readonly string[]).indexOf(name.trim().replace(/^%/, '').toUpperCase());
  return i < 0 ? undefined : i;
}

/** Every 64-bit value in this layer is a bigint; this keeps one in range. */
export const U64_MASK = (1n << 64n) - 1n;
export function u64(v: bigint): bigint {
  return v & U64_MASK;
}

/**
 * Parses a number as users write one: decimal, `0x` hex, `0b` binary, optional `_` separators,
 * optional trailing `n`/`ULL`. Returns undefined for anything else (names included).
 */
export function parseTdxNumber(text: string): bigint | undefined {
  const t = text.trim().replace(/_/g, '').replace(/(ULL|UL|LL|U|L|n)$/i, '');
  if (/^0x[0-9a-f]+$/i.test(t) || /^0b[01]+$/i.test(t) || /^[0-9]+$/.test(t)) return BigInt(t);
  if (/^-[0-9]+$/.test(t)) return u64(BigInt(t));
  return undefined;
}

/**
 * A bad entry in a model's configuration. `path` names it as the launch configuration spells
 * it (`vmm.msrs[0].msr`, `tdxModule.numLps`), so the error is reported against that attribute
 * without reading the message.
 */
export class ModelConfigError extends RangeError {
  constructor(readonly path: string, readonly detail: string) {
    super(`${path}: ${detail}`);
  }
}

/** A 64-bit value as configuration may hold it: bigint, safe integer, or a number string. */
export type U64Like = bigint | number | string;

/** Converts a `U64Like` to a 64-bit bigint; throws a ModelConfigError at path `what` when it is not a number. */
export function toU64(v: U64Like, what: string): bigint {
  if (typeof v === 'bigint') return u64(v);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new ModelConfigError(what, `${v} is not a safe integer (write it as a string or bigint)`);
    return u64(BigInt(v));
  }
  const n = parseTdxNumber(v);
  if (n === undefined) throw new ModelConfigError(what, `"${v}" is not a number`);
  return u64(n);
}

/** `0x` + 16 upper-case hex digits, the way the kernel prints statuses (`%016llx`). */
export function hex64(v: bigint): string {
  return '0x' + u64(v).toString(16).toUpperCase().padStart(16, '0');
}

/**
 * What the TDX module and VMM models need from the emulated CPU. The platform layer adapts its
 * Machine to this; addresses are guest-physical (the emulator identity-maps, so GPA = address).
 */
export interface TdxCpuAccess {
  /** Reads GPR `i` (0 = RAX … 15 = R15, x86 encoding order). */
  getReg(i: GprIndex): bigint;
  /** Writes GPR `i`; the value is already truncated to 64 bits. */
  setReg(i: GprIndex, v: bigint): void;
  /** Reads `len` bytes at a guest-physical address. May throw the memory model's fault. */
  readMemory(gpa: bigint, len: number): Uint8Array;
  /** Writes bytes at a guest-physical address. May throw the memory model's fault. */
  writeMemory(gpa: bigint, bytes: Uint8Array): void;
  /**
   * Optional: whether [gpa, gpa+len) is backed by emulated memory. When absent every address is
   * treated as mapped. The module uses it where the real module would take an EPT-violation TD
   * exit instead of returning a status (TDG.MR.REPORT, TDG.MEM.PAGE.ACCEPT).
   */
  isMapped?(gpa: bigint, len: number): boolean;
}

/** One register's role in a leaf's or sub-function's ABI. */
export interface RegisterRole {
  /** The register, e.g. `'R12'`. */
  reg: GprName;
  /** Bit range when the role covers only part of the register, e.g. `'2:0'`. */
  bits?: string;
  /** What the value means, in the reference's words. */
  role: string;
  /** Set when the reference marks this *unverified* or *fork-only*, or it comes from outside it. */
  caveat?: string;
  /**
   * For a TDG.VP.VMCALL output defined only in some answers: `read` when the direction input
   * (R13) is 0 (a read), `not-success` when R10 is not TDVMCALL_STATUS_SUCCESS.
   */
  when?: 'read' | 'not-success';
}

/** Where a catalogue entry's facts come from (public names as the references give them). */
export interface Provenance {
  /** E.g. `'Linux 6.12 asm/tdx.h'`, `'intel/tdx-module tdx_1.5 include/tdx_api_defs.h'`. */
  source: string;
  /**
   * Present when the reference does not confirm the entry in a mainline/released kernel or
   * in the module source: the reference's own qualifier (`'unverified'`, `'fork-only'`, …)
   * or `'supplement'` for facts taken from the public TDX module source that the two project
   * references do not list.
   */
  caveat?: 'unverified' | 'fork-only' | 'non-kernel' | 'supplement' | 'discrepancy';
  /** Free text that explains the caveat. */
  note?: string;
}

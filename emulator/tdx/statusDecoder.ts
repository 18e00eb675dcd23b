// Status decoders: any 64-bit RAX after TDCALL/SEAMCALL into its name and fields
// (TDX module tdx_error_codes_defs.h, tdx_api_defs.h layout), and any R10 after TDG.VP.VMCALL into its TDVMCALL status.
// Unknown values are still split into their parts, so hovers and call cards never show bare hex.

import { TDVMCALL_STATUS_CODES, TDX_OPERAND_IDS, TDX_STATUS_BITS, TDX_STATUS_CLASS_LABELS, TDX_STATUS_CODES, X86_TRAP_NAMES, type TdvmcallStatusCode, type TdxStatusCode } from './statusCatalog';
import { hex64, u64 } from './types';

/** A TDX completion status taken apart. */
export interface DecodedTdxStatus {
  /** The value decoded (64-bit). */
  value: bigint;
  /** `value` as `0x` + 16 hex digits. */
  hex: string;
  /** Name of the catalogued code whose bits 63:32 match (or the exact software code). */
  name?: string;
  /** The catalogued code itself. */
  code?: TdxStatusCode;
  /** True when `value` equals the catalogued value (or a documented alternative) exactly. */
  exact: boolean;
  /** `value === 0` (TDX_SUCCESS). */
  success: boolean;
  /** Bit 63 clear but value nonzero: success with a warning (e.g. TDX_PAGE_ALREADY_ACCEPTED). */
  warning: boolean;
  /** Bit 63. */
  error: boolean;
  /** Bit 62. */
  nonRecoverable: boolean;
  /** Bit 61: the module's "fatal" variant. */
  fatal: boolean;
  /** Bit 60: host-recoverability hint. */
  hostRecoverabilityHint: boolean;
  /** Bits 47:40. */
  classCode: number;
  /** Our display label for the class, when we have one (not from the references). */
  classLabel?: string;
  /** Bits 39:32. */
  detailsL1: number;
  /** Bits 31:0: operand id or details L2. */
  detailsL2: number;
  /** Bits 59:48 when nonzero: reserved bits set, which no catalogued code does. */
  reservedBits?: bigint;
  /** Class 0xFF: made by kernel software, never by the module. */
  software: boolean;
  /** Operand id, when the code carries one (see `StatusDetailKind`). */
  operandId?: number;
  /** Operand name: a register (`RCX`) or a module object (`TDR`, `TDMR`, …). */
  operandName?: string;
  /** TDX_PAGE_ALREADY_ACCEPTED / TDX_PAGE_SIZE_MISMATCH: SEPT level 0 = 4K, 1 = 2M, 2 = 1G. */
  level?: number;
  /** TDMR/PAMT configuration errors: the TDMR index (byte 0). */
  tdmrIndex?: number;
  /** TDX_SW_ERROR | trap: the trap number the kernel's fixup put in RAX. */
  trap?: number;
  /** `#GP`, `#UD`, … for `trap`. */
  trapName?: string;
  /** One line, e.g. `TDX_OPERAND_INVALID (error, non-recoverable), operand RCX`. */
  text: string;
}

const LEVEL_NAMES = ['4K', '2M', '1G'];
/** Codes RAX can carry after a TDCALL or a module SEAMCALL (the P-SEAMLDR's have their own decoder). */
const MODULE_CODES = TDX_STATUS_CODES.filter((c) => !c.seamldr);
const SEAMLDR_CODES = TDX_STATUS_CODES.filter((c) => c.seamldr);

/** Decodes RAX after a P-SEAMLDR call (SEAMCALL with RAX bit 63): its name, or undefined. */
export function decodeSeamldrStatus(value: bigint): { value: bigint; name?: string; text: string } {
  const v = u64(value);
  if (v === 0n) return { value: v, name: 'P_SEAMLDR_SUCCESS', text: 'P_SEAMLDR_SUCCESS' };
  const c = SEAMLDR_CODES.find((x) => x.value === v);
  return c ? { value: v, name: c.name, text: `${c.name}: ${c.summary}` } : { value: v, text: `unknown P-SEAMLDR status ${hex64(v)}` };
}
const STATUS_ONLY = TDX_STATUS_BITS.STATUS_MASK;

function byStatusBits(v: bigint): TdxStatusCode | undefined {
  // TDX_SUCCESS is only ever exact: bits 63:32 clear with low bits set is not a module status.
  const status = v & STATUS_ONLY;
  return status === 0n ? undefined : MODULE_CODES.find((c) => c.value === status);
}

/** Decodes any 64-bit TDCALL/SEAMCALL status. */
export function decodeTdxStatus(value: bigint): DecodedTdxStatus {
  const v = u64(value);
  const B = TDX_STATUS_BITS;
  const classCode = Number((v >> B.CLASS_SHIFT) & 0xffn);
  const d: DecodedTdxStatus = {
    value: v,
    hex: hex64(v),
    exact: false,
    success: v === 0n,
    warning: v !== 0n && (v & B.ERROR) === 0n,
    error: (v & B.ERROR) !== 0n,
    nonRecoverable: (v & B.NON_RECOVERABLE) !== 0n,
    fatal: (v & B.FATAL) !== 0n,
    hostRecoverabilityHint: (v & B.HOST_RECOVERABILITY_HINT) !== 0n,
    classCode,
    detailsL1: Number((v >> B.DETAILS_L1_SHIFT) & 0xffn),
    detailsL2: Number(v & B.DETAILS_L2_MASK),
    software: classCode === B.SW_CLASS,
    text: '',
  };
  const label = TDX_STATUS_CLASS_LABELS.get(classCode);
  if (label) d.classLabel = label;
  if (v & B.RESERVED_MASK) d.reservedBits = (v & B.RESERVED_MASK) >> 48n;

  let code = MODULE_CODES.find((c) => c.value === v) ?? MODULE_CODES.find((c) => c.alternativeValues?.includes(v));
  if (code) d.exact = true;
  else {
    code = byStatusBits(v);
    // The module's "fatal" variant of a code differs only in bit 61 (TDX module tdx_error_codes_defs.h, tdx_api_defs.h).
    if (!code && d.fatal) code = byStatusBits(v & ~B.FATAL);
  }
  if (code) {
    d.code = code;
    d.name = code.name;
  }

  const low = d.detailsL2;
  switch (code?.detail) {
    case 'operand':
      d.operandId = low;
      break;
    case 'level':
      d.level = low;
      break;
    case 'tdmr-index':
      d.tdmrIndex = low & 0xff;
      break;
    case 'trap':
      d.trap = low;
      break;
    default:
      if (!d.exact && low !== 0) d.operandId = low;
  }
  if (d.operandId !== undefined) {
    const n = TDX_OPERAND_IDS.get(d.operandId);
    if (n) d.operandName = n;
  }
  if (d.trap !== undefined) {
    const n = X86_TRAP_NAMES.get(d.trap);
    if (n) d.trapName = n;
  }
  d.text = describe(d);
  return d;
}

function describe(d: DecodedTdxStatus): string {
  if (d.success) return 'TDX_SUCCESS';
  const flags: string[] = [];
  if (d.error) flags.push('error');
  else flags.push('warning');
  if (d.nonRecoverable) flags.push('non-recoverable');
  if (d.fatal) flags.push('fatal');
  if (d.hostRecoverabilityHint) flags.push('host-recoverability hint');
  if (d.software) flags.push('software-made');
  let text = d.name ?? `unknown status ${d.hex}`;
  text += ` (${flags.join(', ')})`;
  if (!d.name) {
    text += `: class 0x${d.classCode.toString(16).toUpperCase().padStart(2, '0')}`;
    if (d.classLabel) text += ` (${d.classLabel})`;
    text += `, details L1 0x${d.detailsL1.toString(16).toUpperCase()}`;
  }
  if (d.operandId !== undefined) {
    text += d.operandName ? `, operand ${d.operandName} (id ${d.operandId})` : `, operand id ${d.operandId}`;
  } else if (d.level !== undefined) {
    text += `, level ${d.level} (${LEVEL_NAMES[d.level] ?? '?'})`;
  } else if (d.tdmrIndex !== undefined) {
    text += `, TDMR index ${d.tdmrIndex}`;
  } else if (d.trap !== undefined) {
    text += `, trap ${d.trap}${d.trapName ? ` (${d.trapName})` : ''}`;
  }
  if (!d.name && d.operandId === undefined && d.detailsL2 !== 0) text += `, details L2 0x${d.detailsL2.toString(16).toUpperCase()}`;
  if (d.reservedBits) text += `, reserved bits 59:48 = 0x${d.reservedBits.toString(16).toUpperCase()}`;
  if (d.exact && d.code?.alternativeValues?.includes(d.value)) text += ` [alternative value: ${d.code.note ?? 'see the catalogue'}]`;
  return text;
}

/**
 * Builds a status from a base code and an operand id the way the module does
 * (`api_error_with_operand_id` adds the id to the base, TDX module tdx_error_codes_defs.h, tdx_api_defs.h).
 */
export function withOperand(base: bigint, operandId: number): bigint {
  return u64(base + BigInt(operandId));
}

/** A TDVMCALL status (R10 after TDG.VP.VMCALL) taken apart. */
export interface DecodedTdvmcallStatus {
  value: bigint;
  hex: string;
  /** Catalogued name, e.g. `TDVMCALL_STATUS_RETRY`. */
  name?: string;
  code?: TdvmcallStatusCode;
  /** Bit 63: the VMM reports an error. */
  error: boolean;
  /** TDVMCALL_STATUS_RETRY: partial progress, the caller should repeat. */
  retry: boolean;
  /** One line, e.g. `TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED (error)`. */
  text: string;
}

/** Decodes any R10 value returned by the VMM through TDG.VP.VMCALL. */
export function decodeTdvmcallStatus(value: bigint): DecodedTdvmcallStatus {
  const v = u64(value);
  const code = TDVMCALL_STATUS_CODES.find((c) => c.value === v);
  const error = (v >> 63n) === 1n;
  const d: DecodedTdvmcallStatus = { value: v, hex: hex64(v), error, retry: v === 1n, text: '' };
  if (code) {
    d.code = code;
    d.name = code.name;
  }
  const what = code?.name ?? `unknown TDVMCALL status ${d.hex}`;
  d.text = v === 0n ? what : `${what} (${error ? 'error' : code ? 'not an error' : 'nonzero, not an error bit'})`;
  return d;
}

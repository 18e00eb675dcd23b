// Flags (and results) the Intel SDM leaves undefined, per instruction and, where it depends on
// it, per count or operand. The harness masks exactly these bits; everything else is compared.
// References are to the instruction pages of the SDM, Vol. 2 ("Flags Affected").

import { AF, CF, OF, PF, SF, ZF } from './layout';
import { recordOf } from '../../emulator/exec/index';

/** The undefined-flags mask of an instruction's record in the emulator's table (exec/table.ts). */
function undef(mnemonic: string): number {
  const u = recordOf(mnemonic)?.undefinedFlags;
  if (typeof u !== 'number') throw new Error(`instruction table: '${mnemonic}' has no fixed undefined-flags mask`);
  return u;
}

/** AND/OR/XOR/TEST: "The OF and CF flags are cleared; ... The state of the AF flag is undefined." */
export const LOGIC_UNDEF = undef('and');
/** MUL, IMUL: "The SF, ZF, AF, and PF flags are undefined." */
export const MUL_UNDEF = undef('mul');
/** DIV, IDIV: "The CF, OF, SF, ZF, AF, and PF flags are undefined." */
export const DIV_UNDEF = undef('div');
/** BT/BTS/BTR/BTC: "The ZF flag is unaffected. The OF, SF, AF, and PF flags are undefined." */
export const BT_UNDEF = undef('bt');
/** BSF/BSR: "The CF, OF, SF, AF, and PF flags are undefined." */
export const BSF_UNDEF = undef('bsf');
/** TZCNT/LZCNT: "The OF, SF, PF and AF flags are undefined." */
export const CNT_UNDEF = undef('tzcnt');

// The table's masks must be the SDM's (quoted above), checked against the bits by name.
for (const [name, got, want] of [['and', LOGIC_UNDEF, AF], ['mul', MUL_UNDEF, SF | ZF | AF | PF], ['div', DIV_UNDEF, CF | OF | SF | ZF | AF | PF],
  ['bt', BT_UNDEF, OF | SF | AF | PF], ['bsf', BSF_UNDEF, CF | OF | SF | AF | PF], ['tzcnt', CNT_UNDEF, OF | SF | PF | AF]] as const) {
  if (got !== want) throw new Error(`instruction table: undefined flags of '${name}' are 0x${got.toString(16)}, the SDM says 0x${want.toString(16)}`);
}

export type ShiftOp = 'shl' | 'shr' | 'sar' | 'rol' | 'ror' | 'rcl' | 'rcr';

/** The count after the hardware mask: 6 bits for 64-bit operands, 5 bits otherwise. */
export function maskedCount(count: number, width: number): number {
  return count & (width === 64 ? 63 : 31);
}

/**
 * SAL/SAR/SHL/SHR: a masked count of 0 affects no flag; OF is defined only for 1-bit shifts;
 * AF is undefined for a non-zero count; CF is undefined for SHL/SHR when the count is at least
 * the operand width (possible only for 8- and 16-bit operands).
 * ROL/ROR/RCL/RCR: a masked count of 0 affects no flag; OF is defined only for 1-bit rotates;
 * SF ZF AF PF are never affected.
 */
export function shiftUndef(op: ShiftOp, width: number, count: number): number {
  const c = maskedCount(count, width);
  if (c === 0) return 0;
  let u = c === 1 ? 0 : OF;
  if (op === 'shl' || op === 'shr' || op === 'sar') {
    u |= AF;
    if ((op === 'shl' || op === 'shr') && c >= width) u |= CF;
  }
  return u;
}

/**
 * SHLD/SHRD: count masked to 5 bits (6 for 64-bit); 0 = no operation; "If the count is greater
 * than the operand size, the result is undefined" and so are all six flags; otherwise OF is
 * defined only for 1-bit shifts and AF is undefined.
 */
export function doubleShiftUndef(width: number, count: number): { flags: number; dest: boolean } {
  const c = maskedCount(count, width);
  if (c === 0) return { flags: 0, dest: false };
  if (c > width) return { flags: CF | OF | SF | ZF | AF | PF, dest: true };
  return { flags: AF | (c === 1 ? 0 : OF), dest: false };
}

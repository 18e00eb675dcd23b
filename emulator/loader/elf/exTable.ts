// Decoding of the kernel's `__ex_table` after relocation (Linux arch/x86/include/asm/extable.h,
// arch/x86/mm/extable.c): 12-byte entries of three signed 32-bit fields; `insn` and `fixup`
// are relative to the address of the field itself, `data` packs the EX_TYPE_* type, register,
// flags and immediate (arch/x86/include/asm/extable_fixup_types.h).

import { ExTableEntry } from '../image';
import { fail } from './errors';

/** EX_TYPE_* values the platform delivers faults through (extable_fixup_types.h). */
export const EX_TYPE_DEFAULT = 1;
export const EX_TYPE_FAULT = 2;
/** EX_FLAG_* bits of the data word: clear RAX / RDX before resuming at the fixup. */
export const EX_FLAG_CLEAR_AX = 1;
export const EX_FLAG_CLEAR_DX = 2;

/** The type (bits 0-7) and flags (bits 12-15) packed in an entry's data word. */
export function exTypeAndFlags(data: number): { type: number; flags: number } {
  return { type: data & 0xff, flags: (data >> 12) & 0xf };
}

/** Entries of one relocated `__ex_table` section loaded at `address`. */
export function decodeExTable(bytes: Uint8Array, address: bigint, file: string): ExTableEntry[] {
  if (bytes.length % 12 !== 0) {
    fail({ file, section: '__ex_table', offset: bytes.length - (bytes.length % 12) }, `size ${bytes.length} is not a multiple of 12 (the x86-64 entry size since Linux 5.16)`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: ExTableEntry[] = [];
  for (let o = 0; o < bytes.length; o += 12) {
    const at = address + BigInt(o);
    out.push({
      insn: BigInt.asUintN(64, at + BigInt(dv.getInt32(o, true))),
      fixup: BigInt.asUintN(64, at + 4n + BigInt(dv.getInt32(o + 4, true))),
      type: dv.getInt32(o + 8, true),
    });
  }
  return out;
}

// x86-64 relocation arithmetic as GNU ld applies it in a static, non-PIC link: the psABI
// formulas, overflow checks per field, and ld's GOTPCRELX relaxations (so the bytes we load
// equal `ld -T script` output for the same placement, and no GOT entry exists that ld would
// have relaxed away). Which address each symbol and place has is link.ts's business.

/** psABI names, for messages (`unsupported relocation R_X86_64_TPOFF32`). */
export const RELOC_NAMES: readonly string[] = [
  'NONE', '64', 'PC32', 'GOT32', 'PLT32', 'COPY', 'GLOB_DAT', 'JUMP_SLOT', 'RELATIVE', 'GOTPCREL',
  '32', '32S', '16', 'PC16', '8', 'PC8', 'DTPMOD64', 'DTPOFF64', 'TPOFF64', 'TLSGD',
  'TLSLD', 'DTPOFF32', 'GOTTPOFF', 'TPOFF32', 'PC64', 'GOTOFF64', 'GOTPC32', 'GOT64', 'GOTPCREL64', 'GOTPC64',
  'GOTPLT64', 'PLTOFF64', 'SIZE32', 'SIZE64', 'GOTPC32_TLSDESC', 'TLSDESC_CALL', 'TLSDESC', 'IRELATIVE', 'RELATIVE64', '39',
  '40', 'GOTPCRELX', 'REX_GOTPCRELX',
];

export const R_X86_64_NONE = 0;
export const R_X86_64_64 = 1;
export const R_X86_64_PC32 = 2;
export const R_X86_64_PLT32 = 4;
export const R_X86_64_GOTPCREL = 9;
export const R_X86_64_32 = 10;
export const R_X86_64_32S = 11;
export const R_X86_64_16 = 12;
export const R_X86_64_PC16 = 13;
export const R_X86_64_8 = 14;
export const R_X86_64_PC8 = 15;
export const R_X86_64_PC64 = 24;
export const R_X86_64_SIZE32 = 32;
export const R_X86_64_SIZE64 = 33;
export const R_X86_64_GOTPCRELX = 41;
export const R_X86_64_REX_GOTPCRELX = 42;

/** `R_X86_64_PC32`, or `R_X86_64_<n>` for numbers the psABI does not name. */
export function relocName(type: number): string {
  return `R_X86_64_${RELOC_NAMES[type] ?? type}`;
}

/** Every type `applyRelocation` handles (the rest are rejected by name). */
export const SUPPORTED_RELOCATIONS: ReadonlySet<number> = new Set([
  R_X86_64_NONE, R_X86_64_64, R_X86_64_PC32, R_X86_64_PLT32, R_X86_64_GOTPCREL, R_X86_64_32, R_X86_64_32S,
  R_X86_64_16, R_X86_64_PC16, R_X86_64_8, R_X86_64_PC8, R_X86_64_PC64, R_X86_64_SIZE32, R_X86_64_SIZE64,
  R_X86_64_GOTPCRELX, R_X86_64_REX_GOTPCRELX,
]);

/** Inputs of one relocation. */
export interface RelocInput {
  type: number;
  /** Contents of the section being relocated, modified in place. */
  bytes: Uint8Array;
  /** Offset of the field in `bytes`. */
  offset: number;
  /** Address of the field (P). */
  place: bigint;
  /** Value of the symbol (S). */
  symbol: bigint;
  /** Size of the symbol (Z), for SIZE32/SIZE64. */
  symbolSize: bigint;
  addend: bigint;
  /** Address of the symbol's GOT slot, allocated on first use (only when ld would keep the GOT load). */
  gotSlot: () => bigint;
}

type Check = 'signed' | 'unsigned' | 'bitfield' | 'none';

/** Applies one relocation; returns an error message (unsupported type, overflow) or undefined. */
export function applyRelocation(r: RelocInput): string | undefined {
  const { type, symbol: S, addend: A, place: P } = r;
  switch (type) {
    case R_X86_64_NONE: return undefined;
    case R_X86_64_64: return put(r, r.offset, 8, S + A, 'none');
    case R_X86_64_PC64: return put(r, r.offset, 8, S + A - P, 'none');
    case R_X86_64_PC32:
    case R_X86_64_PLT32: return put(r, r.offset, 4, S + A - P, 'signed'); // no PLT in a static image: straight to the symbol
    case R_X86_64_32: return put(r, r.offset, 4, S + A, 'unsigned');
    case R_X86_64_32S: return put(r, r.offset, 4, S + A, 'signed');
    case R_X86_64_16: return put(r, r.offset, 2, S + A, 'bitfield');
    case R_X86_64_PC16: return put(r, r.offset, 2, S + A - P, 'signed');
    case R_X86_64_8: return put(r, r.offset, 1, S + A, 'bitfield');
    case R_X86_64_PC8: return put(r, r.offset, 1, S + A - P, 'signed');
    case R_X86_64_SIZE32: return put(r, r.offset, 4, r.symbolSize + A, 'unsigned');
    case R_X86_64_SIZE64: return put(r, r.offset, 8, r.symbolSize + A, 'none');
    case R_X86_64_GOTPCREL:
    case R_X86_64_GOTPCRELX:
    case R_X86_64_REX_GOTPCRELX:
      if (A === -4n && relax(r)) return undefined;
      return put(r, r.offset, 4, r.gotSlot() + A - P, 'signed');
    default: return `unsupported relocation ${relocName(type)}`;
  }
}

/** Addresses are 64-bit: a value fits a signed field when its two's-complement reading does. */
function fits32(v: bigint, signed: boolean): boolean {
  if (signed) {
    const s = BigInt.asIntN(64, v);
    return s >= -(1n << 31n) && s < 1n << 31n;
  }
  return BigInt.asUintN(64, v) < 1n << 32n;
}

/**
 * ld's conversions of a GOT load into a direct form (binutils elf_x86_64_convert_load_reloc,
 * non-PIC output, checked against ld 2.40): `call/jmp *x@GOTPCREL(%rip)` → `addr32 call x` /
 * `jmp x; nop`; `mov x@GOTPCREL(%rip), %r` → `mov $x, %r` when x fits the immediate, else `lea`;
 * `test`/ALU ops → their `$imm32` forms. Plain GOTPCREL only ever relaxes mov → lea.
 * Returns false when the instruction must keep its GOT load.
 */
function relax(r: RelocInput): boolean {
  const { bytes: b, offset: o, symbol: S, place: P } = r;
  if (o < 2 || o + 4 > b.length) return false;
  const opcode = b[o - 2];
  const modrm = b[o - 1];
  const pcrel = S - 4n - P;
  if (r.type === R_X86_64_GOTPCREL) {
    if (opcode !== 0x8b || (modrm & 0xc7) !== 0x05 || !fits32(pcrel, true)) return false;
    b[o - 2] = 0x8d;
    write(b, o, 4, pcrel);
    return true;
  }
  const rexAt = r.type === R_X86_64_REX_GOTPCRELX && o >= 3 && (b[o - 3] & 0xf0) === 0x40 ? o - 3 : -1;
  const rexW = rexAt >= 0 && (b[rexAt] & 8) !== 0;
  const immFits = fits32(S, rexW);
  if (opcode === 0xff && (modrm === 0x15 || modrm === 0x25)) {
    if (modrm === 0x15) {
      if (!fits32(pcrel, true)) return false;
      b[o - 2] = 0x67; // addr32 prefix keeps the length: ld's default -z call-nop=prefix-addr
      b[o - 1] = 0xe8;
      write(b, o, 4, pcrel);
    } else {
      const rel = S - 4n - (P - 1n);
      if (!fits32(rel, true)) return false;
      b[o - 2] = 0xe9;
      write(b, o - 1, 4, rel);
      b[o + 3] = 0x90;
    }
    return true;
  }
  if ((modrm & 0xc7) !== 0x05) return false;
  const reg = (modrm >> 3) & 7;
  const toImm = (op: number, modrmOut: number): boolean => {
    b[o - 2] = op;
    b[o - 1] = modrmOut;
    if (rexAt >= 0) b[rexAt] = (b[rexAt] & ~0x4) | ((b[rexAt] & 0x4) >> 2); // REX.R moves to REX.B
    write(b, o, 4, S);
    return true;
  };
  if (opcode === 0x8b) {
    if (immFits) return toImm(0xc7, 0xc0 | reg);
    if (!rexW || !fits32(pcrel, true)) return false;
    b[o - 2] = 0x8d;
    write(b, o, 4, pcrel);
    return true;
  }
  if (opcode === 0x85) return immFits && toImm(0xf7, 0xc0 | reg);
  // add/or/adc/sbb/and/sub/xor/cmp r, m: opcode 0x03 | (op << 3) → 0x81 /op
  if ((opcode & 0xc7) === 0x03) return immFits && toImm(0x81, 0xc0 | (opcode & 0x38) | reg);
  return false;
}

function put(r: RelocInput, at: number, size: number, v: bigint, check: Check): string | undefined {
  if (at < 0 || at + size > r.bytes.length) return `${relocName(r.type)} field runs past the end of the section`;
  const bits = BigInt(size * 8);
  // Symbol values and places are unsigned 64-bit addresses; read the result as ld does,
  // two's complement, so kernel addresses fit 32S and differences may wrap.
  const sv = BigInt.asIntN(64, v);
  const uv = BigInt.asUintN(64, v);
  const ok =
    check === 'none' ||
    (check === 'signed' && sv >= -(1n << (bits - 1n)) && sv < 1n << (bits - 1n)) ||
    (check === 'unsigned' && uv < 1n << bits) ||
    (check === 'bitfield' && (uv < 1n << bits || (sv < 0n && sv >= -(1n << (bits - 1n)))));
  if (!ok) {
    const shown = check === 'signed' && sv < 0n ? `-0x${(-sv).toString(16)}` : `0x${uv.toString(16)}`;
    const why = r.type === R_X86_64_32S ? ': -mcmodel=kernel code must be loaded in the top 2 GiB (e.g. base 0xffffffff81000000)'
      : r.type === R_X86_64_32 ? ': this object needs addresses below 4 GiB'
      : check === 'signed' ? ': the target is too far away' : '';
    return `relocation overflow: ${relocName(r.type)} value ${shown} does not fit in ${size * 8} ${check === 'signed' ? 'signed ' : ''}bits${why}`;
  }
  write(r.bytes, at, size, v);
  return undefined;
}

function write(b: Uint8Array, at: number, size: number, v: bigint): void {
  let u = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++) {
    b[at + i] = Number(u & 0xffn);
    u >>= 8n;
  }
}

// Constants shared by both sides of the differential harness: where the data buffer lives,
// the GPR numbering (hardware order, as in the native records), the RFLAGS bits we compare,
// and the buffer fill that the C driver and the emulator side must reproduce byte for byte.

/**
 * The data buffer (memory operands and the stack of every case), mapped at a fixed address:
 * within ±2 GiB of the code (RIP-relative and disp32 operands reach it) and above the 1 GiB
 * range over which Linux randomises the brk heap of a static non-PIE program.
 */
export const BUF_ADDR = 0x60000000n;
export const BUF_SIZE = 0x4000;

/** GPRs in hardware encoding order: index = register number in ModRM/REX. */
export const GPR64 = [
  'rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
] as const;
export const GPR32 = [
  'eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi',
  'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d',
] as const;
export const GPR16 = [
  'ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di',
  'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w',
] as const;
export const GPR8 = [
  'al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil',
  'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b',
] as const;
export const GPR8HIGH = ['ah', 'ch', 'dh', 'bh'] as const;

export const RSP = 4;
export const RBP = 5;

/** RFLAGS bits. */
export const CF = 0x1;
export const PF = 0x4;
export const AF = 0x10;
export const ZF = 0x40;
export const SF = 0x80;
export const TF = 0x100;
export const IF = 0x200;
export const DF = 0x400;
export const OF = 0x800;
/** The six status flags. */
export const STATUS = CF | PF | AF | ZF | SF | OF;
/** What the harness compares: the status flags and DF. */
export const COMPARED_FLAGS = STATUS | DF;
/** Bits every input RFLAGS carries: the reserved bit 1 and IF (user mode cannot clear it). */
export const RFLAGS_FIXED = 0x202n;

export function flagNames(bits: number): string {
  const names: [number, string][] = [[CF, 'CF'], [PF, 'PF'], [AF, 'AF'], [ZF, 'ZF'], [SF, 'SF'], [DF, 'DF'], [OF, 'OF']];
  return names.filter(([b]) => bits & b).map(([, n]) => n).join(' ') || '-';
}

/**
 * Fills the buffer from a 32-bit seed with xorshift32 words (little endian). The C driver
 * runs the identical loop, so neither side ships the 16 KiB per case.
 */
export function fillBuffer(seed: number, out: Uint8Array): void {
  const words = new Uint32Array(out.buffer, out.byteOffset, out.byteLength >>> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
}

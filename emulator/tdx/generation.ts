// Kernel generations of the TDX call code (G0–G5, docs/kernel-generations.md) and the tags
// that say in which kernel header, under which name and in which generations the kernel defines
// a catalogue entry. The built-in headers (loader/headers/tdx.ts) are generated from these tags.

/** A kernel generation as labelled in the reference table. */
export type Generation = 'G0' | 'G1' | 'G2' | 'G3' | 'G3.5' | 'G4' | 'G5';

/** All generations, oldest first. */
export const GENERATIONS: readonly Generation[] = ['G0', 'G1', 'G2', 'G3', 'G3.5', 'G4', 'G5'];

/** True when `g` is `from` or newer (and, if given, `to` or older). */
export function inGenerations(g: Generation, from: Generation, to?: Generation): boolean {
  const i = GENERATIONS.indexOf(g);
  return i >= GENERATIONS.indexOf(from) && (to === undefined || i <= GENERATIONS.indexOf(to));
}

/** The kernel headers the built-in set generates from the catalogue. */
export type KernelHeader = 'asm/tdx.h' | 'asm/shared/tdx.h' | 'asm/shared/tdx_errno.h' | 'uapi/asm/vmx.h';

/** How a catalogued value is written in a `#define`. */
export type HeaderFormat = 'dec' | 'hex' | 'ul' | 'ull' | 'bit';

/**
 * One `#define` of a catalogue entry in a kernel header: the header, the generations that
 * define it (all when `from` is absent), the macro name (the entry's kernel symbol when absent),
 * and how the value is written — or the kernel's own expression (`(TDX_SW_ERROR | X86_TRAP_GP)`)
 * when it writes the value in terms of other macros.
 */
export interface HeaderDefinition {
  header: KernelHeader;
  name?: string;
  from?: Generation;
  to?: Generation;
  format?: HeaderFormat;
  expr?: string;
  /** Write the entry's alternative value (the kernel's, where it differs from the module's). */
  kernelValue?: boolean;
}

/** Whether generation `g` has this definition. */
export function definedIn(d: HeaderDefinition, g: Generation): boolean {
  return d.from === undefined ? d.to === undefined || inGenerations(g, 'G0', d.to) : inGenerations(g, d.from, d.to);
}

/** The C text of `value` in `format` (`_AC(0x…, ULL)` for 64-bit constants, as the kernel writes them). */
export function formatHeaderValue(value: bigint, format: HeaderFormat = 'dec'): string {
  const hex = value.toString(16).toUpperCase();
  switch (format) {
    case 'dec': return value.toString();
    case 'hex': return '0x' + hex;
    case 'ul': return `_AC(0x${hex.padStart(16, '0')}, UL)`;
    case 'ull': return `_AC(0x${hex.padStart(16, '0')}, ULL)`;
    case 'bit': return `BIT(${value.toString(2).length - 1})`;
  }
}

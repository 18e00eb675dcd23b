// Helpers shared by the form catalogues: operand-size suffixes, condition codes, immediate
// pickers and a compact `form()` constructor.

import type { CaseBuilder, Form, Width } from '../builder';

export const WIDTHS: readonly Width[] = [8, 16, 32, 64];
export const SUFFIX: Record<Width, string> = { 8: 'b', 16: 'w', 32: 'l', 64: 'q' };
export const CONDS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'] as const;

export function form(name: string, build: (b: CaseBuilder) => void, mnemonic = name.split(' ')[0]): Form {
  return { name, mnemonic, build };
}

/** A signed immediate of `width` bits (8/16/32), edge-biased. */
export function imm(b: CaseBuilder, width: 8 | 16 | 32): number {
  return b.rng.signed(width);
}

/** A signed immediate that does NOT fit in 8 bits, so GAS must use the long encoding. */
export function immLong(b: CaseBuilder, width: 16 | 32): number {
  for (;;) {
    const v = b.rng.signed(width);
    if (v < -128 || v > 127) return v;
    if (b.rng.chance(0.3)) return width === 16 ? b.rng.pick([0x80, -129, 0x7fff, -0x8000, 0x1234]) : b.rng.pick([0x80, -129, 0x7fffffff, -0x80000000, 0x12345678]);
  }
}

/** The immediate as GAS text. */
export function $(v: number | bigint): string {
  return `$${v}`;
}

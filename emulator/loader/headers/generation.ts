// Kernel generations of the TDX call code (reference tdx-abi.md §0, G0–G5). The built-in
// headers and the struct presets pick their contents by generation.

/** A kernel generation as labelled in the reference table. */
export type Generation = 'G0' | 'G1' | 'G2' | 'G3' | 'G3.5' | 'G4' | 'G5';

/** All generations, oldest first. */
export const GENERATIONS: readonly Generation[] = ['G0', 'G1', 'G2', 'G3', 'G3.5', 'G4', 'G5'];

/** True when `g` is `from` or newer (and, if given, `to` or older). */
export function inGenerations(g: Generation, from: Generation, to?: Generation): boolean {
  const i = GENERATIONS.indexOf(g);
  return i >= GENERATIONS.indexOf(from) && (to === undefined || i <= GENERATIONS.indexOf(to));
}

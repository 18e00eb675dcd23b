// Generates the suite's cases (every form × N inputs, optionally filtered) and checks the
// native results for generator mistakes: a case that faults natively without the form saying
// it may is a bug in the generator, not in the emulator.

import { Case, buildCase } from './builder';
import { allForms } from './forms/index';
import type { NativeResult } from './records';

export interface SuiteOptions {
  /** Inputs per form (8 quick, 64 full). */
  inputs: number;
  seed: number;
  /** Only forms whose name matches. */
  filter?: RegExp;
  /** Only this input index (reproduction of one case). */
  only?: number;
}

export const DEFAULT_SEED = 0x7d1c;

export function generateCases(opts: SuiteOptions): Case[] {
  const cases: Case[] = [];
  for (const form of allForms()) {
    if (opts.filter && !opts.filter.test(form.name)) continue;
    for (let i = 0; i < opts.inputs; i++) {
      if (opts.only !== undefined && i !== opts.only) continue;
      cases.push(buildCase(form, cases.length, i, opts.seed));
    }
  }
  return cases;
}

/** Cases that faulted natively although their form does not expect it. */
export function unexpectedNativeFaults(cases: readonly Case[], results: readonly NativeResult[]): string[] {
  const out: string[] = [];
  cases.forEach((c, i) => {
    const r = results[i];
    if (r.vector >= 0 && !c.mayFault) out.push(`${c.form.name} #${c.index}: native vector ${r.vector} at 0x${r.rip.toString(16)}\n  ${c.asm.join('\n  ')}`);
  });
  return out;
}

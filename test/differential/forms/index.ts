// The catalogue of instruction forms the differential suite checks, in a fixed order (case ids
// and the generated program depend on it). Names are unique; mnemonics group the report.

import type { Form } from '../builder';
import { differentialGroups } from '../../../emulator/exec/index';
import { aluForms } from './alu';
import { bitForms } from './bits';
import { chainForms } from './chains';
import { faultForms } from './faults';
import { branchForms } from './branch';
import { miscForms } from './misc';
import { moveForms } from './move';
import { mulDivForms } from './mulDiv';
import { shiftForms } from './shift';
import { stackForms } from './stack';
import { stringForms } from './string';
import { fusedForms } from './fused';
import { sseForms } from './sse';
import { sseFpForms } from './ssefp';
import { extForms } from './ext';
import { issue13Forms } from './issue13';

/**
 * The form groups the catalogue must cover: every instruction record's (the emulator's table,
 * emulator/exec/table.ts), less those the host CPU cannot check in user mode.
 */
export const REQUIRED_MNEMONICS: readonly string[] = differentialGroups();

let cached: Form[] | undefined;

export function allForms(): Form[] {
  if (cached) return cached;
  const forms = [
    ...moveForms(), ...aluForms(), ...shiftForms(), ...mulDivForms(), ...bitForms(),
    ...stackForms(), ...branchForms(), ...stringForms(), ...miscForms(), ...chainForms(), ...faultForms(), ...fusedForms(),
    ...sseForms(), ...sseFpForms(), ...extForms(), ...issue13Forms(),
  ];
  const seen = new Set<string>();
  for (const f of forms) {
    if (seen.has(f.name)) throw new Error(`duplicate form name: ${f.name}`);
    seen.add(f.name);
  }
  cached = forms;
  return forms;
}

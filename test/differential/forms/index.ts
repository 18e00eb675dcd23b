// The catalogue of instruction forms the differential suite checks, in a fixed order (case ids
// and the generated program depend on it). Names are unique; mnemonics group the report.

import type { Form } from '../builder';
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
import { sseForms } from './sse';
import { sseFpForms } from './ssefp';

/** Every mnemonic of issue 2 that runs in user mode; the test checks each has forms. */
export const REQUIRED_MNEMONICS = [
  'mov', 'movabs', 'movzx', 'movsx', 'movsxd', 'lea', 'xchg', 'bswap', 'cmovcc', 'setcc',
  'add', 'adc', 'sub', 'sbb', 'and', 'or', 'xor', 'not', 'neg', 'inc', 'dec', 'cmp', 'test',
  'shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr', 'shld', 'shrd',
  'mul', 'imul', 'div', 'idiv', 'bt', 'bts', 'btr', 'btc', 'bsf', 'bsr', 'tzcnt', 'lzcnt', 'popcnt',
  'push', 'pop', 'pushf', 'popf', 'leave', 'enter',
  'jmp', 'jcc', 'jrcxz', 'loop', 'call', 'ret',
  'movs', 'stos', 'lods', 'cmps', 'scas',
  'cbw', 'cwde', 'cdqe', 'cwd', 'cdq', 'cqo',
  'xadd', 'cmpxchg', 'cmpxchg16b', 'clc', 'stc', 'cmc', 'cld', 'std',
  'nop', 'endbr64', 'pause', 'lfence', 'mfence', 'sfence',
];

let cached: Form[] | undefined;

export function allForms(): Form[] {
  if (cached) return cached;
  const forms = [
    ...moveForms(), ...aluForms(), ...shiftForms(), ...mulDivForms(), ...bitForms(),
    ...stackForms(), ...branchForms(), ...stringForms(), ...miscForms(), ...chainForms(), ...faultForms(),
    ...sseForms(), ...sseFpForms(),
  ];
  const seen = new Set<string>();
  for (const f of forms) {
    if (seen.has(f.name)) throw new Error(`duplicate form name: ${f.name}`);
    seen.add(f.name);
  }
  cached = forms;
  return forms;
}

// The fast subset of the robustness fuzz suite (test/support/fuzzSuite.ts; CI runs it for
// minutes): DAP sequences with garbage frames and hostile launch attributes, ELF/DWARF mutants
// of real gcc objects, assembler mutants. Every count must be zero.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzAsm, fuzzDap, fuzzElf, summary, zeros } from '../support/fuzzSuite';

const SEED = Number(process.env.TDX_FUZZ_SEED ?? 0x1d18);

for (const [name, f, n] of [['dap', fuzzDap, 3], ['elf', fuzzElf, 50], ['asm', fuzzAsm, 50]] as const) {
  test(`fuzz suite (fast subset): ${name}, seed ${SEED}`, async () => {
    const c = await f(SEED, n);
    assert.ok(zeros(c), `${summary(name, c)}\n${c.failures.slice(0, 10).join('\n')}`);
  });
}

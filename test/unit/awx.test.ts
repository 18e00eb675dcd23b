// An "awx" section is mapped as its flags say (readable, writable, executable): guest
// self-modifying code runs (SDM Vol. 3A, 8.1.3 "Handling Self- and Cross-Modifying Code": a
// write to an instruction about to execute takes effect), where a read-execute mapping faulted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from '../../emulator/session/session';

test('"awx" code patches its own immediate and runs the new value', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdx-awx-'));
  const f = join(dir, 'smc.S');
  // movq $1, %rax is 48 c7 c0 imm32 (SDM Vol. 2B, MOV C7 /0): its immediate starts 3 bytes in.
  writeFileSync(f, '\t.section .text.smc,"awx"\n\t.globl smc\nsmc:\n\tmovb $2, 1f+3(%rip)\n1:\tmovq $1, %rax\n\tret\n');
  const s = await Session.create({ program: f, entry: 'smc', context: 'none' }, { cwd: dir });
  const stop = s.run();
  assert.equal(stop.reason, 'returned', stop.message);
  assert.equal(s.machine.getReg('rax'), 2n);
});

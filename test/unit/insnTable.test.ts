// The instruction table (emulator/exec/table.ts) against the other things that name
// instructions: the CPUID the machine reports, the assembler, iced-x86's decoder.

import assert from 'node:assert/strict';
import test from 'node:test';
import { Machine } from '../../emulator/machine';
import { RECORDS, recordOf } from '../../emulator/exec/index';
import { TABLE } from '../../emulator/loader/assembler/isa';
import { isSimdMnemonic } from '../../emulator/loader/assembler/simd';
import { decodeRun } from '../../emulator/decode/decoder';

const REG = { eax: 0, ebx: 1, ecx: 2, edx: 3 } as const;

test('every CPUID feature an instruction record names is announced by the default machine', () => {
  const m = new Machine();
  const missing = RECORDS.filter((r) => r.cpuid).filter((r) => {
    const f = r.cpuid!;
    return ((m.cpuid(f.leaf, f.subleaf ?? 0)[REG[f.reg]] >>> f.bit) & 1) !== 1;
  }).map((r) => `${r.name}: ${r.cpuid!.name}`);
  assert.deepEqual(missing, []);
});

test('the assembler accepts every instruction the emulator executes (under its GNU as names)', () => {
  const missing = RECORDS.flatMap((r) => r.asm ?? r.mnemonics).filter((m) => !TABLE.has(m) && !isSimdMnemonic(m));
  assert.deepEqual(missing, []);
});

test('records are found by the mnemonic iced-x86 decodes (GNU as encodings of each family)', () => {
  // Bytes from GNU as (objdump -d of `add %rbx,%rax; jne .; cmovg %rcx,%rdx; sete %al; movsb; rep stosq; lock xadd %eax,(%rdi)`).
  const bytes = Uint8Array.from([0x48, 0x01, 0xd8, 0x75, 0xfe, 0x48, 0x0f, 0x4f, 0xd1, 0x0f, 0x94, 0xc0, 0xa4, 0xf3, 0x48, 0xab, 0xf0, 0x0f, 0xc1, 0x07]);
  const { insns } = decodeRun(bytes, 0x1000, 16, () => false);
  assert.deepEqual(insns.map((i) => recordOf(i.mnemonic)?.name), ['add', 'jcc', 'cmovcc', 'setcc', 'movs', 'stos', 'xadd']);
  assert.equal(recordOf('jne')?.endsBlock, true);
  assert.equal(recordOf('xadd')?.lockable, true);
  assert.equal(recordOf('stosq')?.soloWithRep, true);
});

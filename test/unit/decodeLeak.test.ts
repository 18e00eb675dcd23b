// iced-x86 lives in WebAssembly memory that never shrinks: a leaked Decoder or Instruction
// shows up as growth. Ten million steps of self-modifying code (so decoding happens again and
// again) and many disassemblies must leave the WASM memory exactly as large as before.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from '../support/program';
import { wasmMemoryBytes, disassemble, formatBytes } from '../../emulator/decode/decoder';

const PROGRAM = `
	mov	$1000000000, %r9
outer:	lea	p+1(%rip), %rdi
	incb	(%rdi)		/* rewrites the immediate below: the page's decoded code is dropped */
p:	mov	$0x11, %al
	mov	$300, %ecx
inner:	add	%rax, %rbx
	dec	%ecx
	jnz	inner
	dec	%r9
	jnz	outer
	ret
`;

test('ten million steps with constant re-decoding do not grow the WASM memory', () => {
  const { m } = load(PROGRAM, { codePerms: 'rwx' });
  const bytes = m.readBytes(0x401000n, 64);
  // Warm-up: first use of each formatter and the decode path allocates once.
  const warm = m.run(1_000_000);
  assert.equal(warm.kind, 'budget');
  for (let k = 0; k < 2000; k++) { disassemble(bytes, 0x401000, k & 1 ? 'intel' : 'att'); formatBytes(bytes, 0x401000, 'att'); }
  const before = wasmMemoryBytes();
  assert.ok(before > 0, 'iced-x86 memory is visible');
  for (let i = 0; i < 5; i++) {
    const r = m.run(2_000_000);
    assert.equal(r.kind, 'budget');
    for (let k = 0; k < 2000; k++) { disassemble(bytes, 0x401000, k & 1 ? 'intel' : 'att'); formatBytes(bytes, 0x401000, 'att'); }
  }
  assert.equal(m.instructionCount, 11_000_000);
  assert.equal(wasmMemoryBytes(), before);
});

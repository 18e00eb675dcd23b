// Edge values of the data and space directives (and LEB128 constants), said as GNU as says them: for each small
// source, the lines where GNU as (run here, at test time) warns or errors are the lines where we
// warn or error, with the same severity; and where GNU as makes an object, the bytes are its own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assembleText } from '../../emulator/loader/assembler';
import { formatDiagnostic } from '../../emulator/loader/diagnostics';
import { compareWithGas, OracleCase } from './assemblerOracle';

const CASES: Record<string, string> = {
  'fill-negative-size': '.fill 3,-1,0\nnop\n',
  'fill-negative-count': '.fill -1,1,0\nnop\n',
  'fill-size-over-8': '.fill 2,9,0x1122\nnop\n',
  'skip-negative': '.skip -1\nnop\n.space -5, 1\n.zero -2\nnop\n',
  'rept-negative': '.rept -3\nnop\n.endr\nnop\n',
  'org-absolute': 'nop\n.org 0x10\nnop\n.data\n.byte 1\n.org 4, 0xaa\n.byte 2\n',
  'org-backwards': 'nop\nnop\n.org 1\nnop\n',
  'data-truncated': '.byte 256\n.byte -129\n.byte -256\n.byte -255\n.word 65536\n.word -65537\n.long 0x1ffffffff\n.long -4294967295\n.byte 255\n',
  'data-resolved-later': '.byte x\n.word y\n.long 2f - 1f\n1: .skip 3\n2:\nx = -200\ny = -65535\n',
  'data-later-too-wide': '.byte x\nx = -300\n',
  'data-later-difference': '.word 2f - 1f\n1: .skip 70000\n2:\n',
  'align-zero': 'nop\n.balign 0\nnop\n.align 0\nnop\n.p2align 0\nnop\n',
  'skip-fill-truncated': '.skip 2, 300\n.skip 2, -255\nnop\n',
  'skip-later-wide-fill': '.skip 2f - 1f, 0x1cc\n1: nop\n2:\n',
  'label-again-in-place': 'L0:\nL0:\nnop\n.rept 3\nL1:\n.endr\nL2:\nnop\nL2:\n',
  'rept-empty': '.rept 4\n.endr\nnop\n',
  'division-shift': '.byte 7 / 0, 7 % 0, 1 << 64, 1 << -1, 0x80 >> 70\n.long (3 / 0) + (2f - 1f)\n1: .p2align 3\n2:\n',
  'zero-fill': '.zero 3, 0xab\n.zero 2f - 1f, 0xcd\n1: nop\n2:\n',
  'align-max-zero': 'nop\n.p2align 4, 0xcc, 0\nnop\n.align 8, 300, 0\n',
  'space-fill-later': 'L0: nop\n.space 3, 2f - L0\n.skip 0, 2f - L0\n2:\n',
  'space-wide-fill': '.skip 2, 300\n.skip -1, -129\n',
  'difference-across-align': 'nop\nL0: int3\n.p2align 4\n.4byte (. - L0) / 2, ((. - L0) < 0x80) > -1\n',
  'imm-shortened': 'addb $300, %cl\nmovw $70000, %ax\nmovl $0x1ffffffff, %eax\nimul $0x1ffffffff, %ecx, %edx\naddl $0x1ffffffff, (%rax)\nmovb $-300, (%rax)\ncmpl $0x100000000, %eax\naddb $-255, %cl\nshlb $300, %cl\n',
  'imm-negative-32': 'andl $0xffffffff00000005, %ecx\naddl $0xffffffff00000005, %eax\nimul $0xffffffff00000005, %ecx, %edx\nandl $(~0xFF000000), %ecx\nandl $0xffffffff00000000, %ecx\nandl $0xffffffff, %ecx\n',
  'imm-too-wide-64': 'addq $0x100000000, %rax\nnop\n',
  'equals-in-operand': 'movl $(1 == 1), %eax\nmovl $(1 < 2), %eax\n',
  'subtract-other-section': '.text\nL0: nop\n.data\n.long L0 - .\n.long -(. - L0)\n',
  leb128: '.uleb128 -1\n.sleb128 -1, 63, 64, -64, -65\n.uleb128 127, 128, 0\n.sleb128 0x7fffffffffffffff, -0x8000000000000000\n1: nop\n2:\n.uleb128 2b - 1b\n',
};

/** "line:severity" of every message GNU as printed for the file. */
function gasMessages(dir: string, name: string, src: string): { said: string[]; ok: boolean } {
  const f = join(dir, `${name}.s`);
  writeFileSync(f, src);
  const r = spawnSync('as', ['--64', f, '-o', join(dir, `${name}.o`)], { encoding: 'utf8' });
  const said = [...r.stderr.matchAll(/:(\d+): (Warning|Error): /g)].map((m) => `${m[1]}:${m[2].toLowerCase()}`);
  return { said: [...new Set(said)].sort(), ok: r.status === 0 };
}

test('assembler: edge values of .fill, .skip, .rept, .org and data warn and fail where GNU as does, with its bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdxdbg-gasdiag-'));
  try {
    const same: OracleCase[] = [];
    for (const [name, src] of Object.entries(CASES)) {
      const gas = gasMessages(dir, name, src);
      const r = assembleText(src, `${name}.s`);
      const ours = [...new Set(r.diagnostics.map((d) => `${d.location?.line}:${d.severity}`))].sort();
      assert.deepEqual(ours, gas.said, `${name}: ours\n${r.diagnostics.map(formatDiagnostic).join('\n')}`);
      assert.equal(r.image !== undefined, gas.ok, `${name}: an Image exactly when GNU as makes an object`);
      if (r.image) same.push({ name, ext: '.s', source: src, image: r.image, listing: r.listing });
    }
    // Both outcomes are exercised.
    assert.ok(same.length >= 6 && same.length < Object.keys(CASES).length);
    const problems = (await compareWithGas(same)).flatMap((x) => x.problems);
    assert.equal(problems.length, 0, problems.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

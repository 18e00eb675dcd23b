// What gcc emits for everyday kernel C at -O0/-O2 (and with the mitigations): bit scans, byte
// swaps, 128-bit multiplies, division by constants, cmov/setcc, struct copies (rep movs),
// bit-fields, switches. Each function runs in the Session and on the host (the same source
// built natively); the results must agree. An instruction the emulator lacks fails here by name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { Session } from '../../emulator/session/session';
import { tempDir } from '../unit/elfOracle';
import { C_DIR, VARIANTS, fixtureObject } from './helpers';

const M = '{ .rcx = 0x80ff017f02fe0381ULL, .rdx = 5, .r10 = 5, .r11 = 3, .rsi = 7 }';
/** Entry, launch `args`, and the same call in C for the host. */
const CASES: [string, unknown[], string][] = [
  ['bitscan', [0x1230], 'bitscan(0x1230)'],
  ['bitscan', [0], 'bitscan(0)'],
  ['swap_rotate', ['0x123456789abcdef0', 13], 'swap_rotate(0x123456789abcdef0ULL, 13)'],
  ['mul_hi', ['0xfedcba9876543210', '0x123456789'], 'mul_hi(0xfedcba9876543210ULL, 0x123456789ULL)'],
  ['div_consts', [1234567, -98765], 'div_consts(1234567, -98765)'],
  ['pick', [3, 5, 1], 'pick(3, 5, 1)'],
  ['pick', ['0xffffffffffffffff', 5, -1], 'pick(0xffffffffffffffffULL, 5, -1)'],
  ['bitfields', ['0x1234567', 0x55], 'bitfields(0x1234567, 0x55)'],
  ['classify', ['0x8000020300000000'], 'classify(0x8000020300000000ULL)'],
  ['classify', ['0x8000000000000001'], 'classify(0x8000000000000001ULL)'],
  ['copy_args', [{ struct: 'tdx_module_args' }, { struct: 'tdx_module_args', init: { rcx: '0x80ff017f02fe0381', rdx: 5, r10: 5, r11: 3, rsi: 7 } }],
    `({ struct tdx_module_args d = {0}, s = ${M}; copy_args(&d, &s); })`],
  ['sums', [{ struct: 'tdx_module_args', init: { rcx: '0x80ff017f02fe0381', rdx: 5 } }, 16],
    `({ struct tdx_module_args s = ${M}; sums((const unsigned char *)&s, 16); })`],
];

let hostResults: bigint[] | undefined;
function host(): bigint[] {
  if (hostResults) return hostResults;
  const dir = tempDir('tdx-idioms-');
  const main = join(dir, 'main.c');
  writeFileSync(main, `#include <stdio.h>\n#include "${join(C_DIR, 'idioms.c')}"\nint main(void) {\n` +
    CASES.map(([, , call]) => `\tprintf("%llx\\n", (unsigned long long)${call});\n`).join('') + '\treturn 0;\n}\n');
  execFileSync('gcc', ['-O1', '-I', C_DIR, '-o', join(dir, 'main'), main]);
  hostResults = execFileSync(join(dir, 'main'), { encoding: 'utf8' }).trim().split('\n').map((x) => BigInt('0x' + x));
  return hostResults;
}

for (const v of VARIANTS) {
  test(`${v.name}: everyday C idioms give the host's results`, async () => {
    const obj = await fixtureObject('idioms.c', v);
    const want = host();
    for (const [k, [entry, args]] of CASES.entries()) {
      const s = await Session.create({ program: obj, entry, args }, { cwd: C_DIR });
      const st = s.run();
      assert.equal(st.reason, 'returned', `${entry}: ${st.message}`);
      assert.equal(s.machine.getReg('rax').toString(16), want[k].toString(16), `${entry}(${JSON.stringify(args)})`);
    }
  });
}

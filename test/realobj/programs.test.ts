// Whole programs, compared with the host CPU: our own hashing, sorting, bignum and
// bytecode-interpreter C (test/fixtures/programs/), built by gcc at -O0 to -O3, with and without
// -mgeneral-regs-only and with -march=x86-64-v2. Each program runs natively (linked with a driver
// that prints program_main()'s result) and in the emulator (the object loaded as ELF, the entry
// called), and the two results must be equal. The expected value is the host CPU's, never ours.
//
// A build the emulator cannot run yet (SSE code stops as "not emulated" until the ISA issue lands
// the SSE records) is reported as a TODO with the instruction named, not as a pass; any other
// difference fails.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Session } from '../../emulator/session/session';
import { compileWithToolchain } from '../../emulator/loader/toolchain';
import { fromRoot } from '../support/paths';
import { tempDir } from '../unit/elfOracle';

const DIR = fromRoot('test/fixtures/programs');
const PROGRAMS = ['hash', 'sort', 'bignum', 'vm'];
// npm test builds -O2 only; CI (TDX_PROGRAMS_FULL=1) every level.
const OPTS = process.env.TDX_PROGRAMS_FULL === '1' ? ['-O0', '-O1', '-O2', '-O3'] : ['-O2'];
const ISAS: { name: string; args: string[]; sse: boolean }[] = [
  { name: 'general-regs-only', args: ['-mgeneral-regs-only'], sse: false },
  { name: 'x86-64 baseline', args: [], sse: true },
  { name: 'x86-64-v2', args: ['-march=x86-64-v2'], sse: true },
];
// Freestanding: nothing becomes a libc call (the objects link with nothing but themselves).
const COMMON = ['-ffreestanding', '-fno-builtin', '-fno-tree-loop-distribute-patterns', '-fno-stack-protector', '-fcf-protection=none'];
const out = tempDir('tdx-programs-');

function native(program: string, args: string[], tag: string): string {
  const exe = join(out, `${program}-${tag}`);
  execFileSync('gcc', [...args, ...COMMON, '-I', DIR, '-o', exe, join(DIR, `${program}.c`), join(DIR, 'driver.c')], { stdio: 'pipe' });
  return execFileSync(exe, { encoding: 'utf8' }).trim();
}

for (const program of PROGRAMS) {
  for (const opt of OPTS) {
    for (const isa of ISAS) {
      test(`${program}.c ${opt} ${isa.name}: the emulator's result equals the host CPU's`, async (t) => {
        const args = [opt, ...isa.args];
        const tag = `${opt}-${isa.name.replace(/\W+/g, '_')}`;
        const want = native(program, args, tag);
        const obj = (await compileWithToolchain(join(DIR, `${program}.c`), { compiler: 'gcc', args: [...args, ...COMMON] }, { cwd: DIR, outDir: join(out, tag) })).object;
        const s = await Session.create({ program: obj, entry: 'program_main', context: 'none', maxInstructions: 50_000_000 }, { cwd: DIR });
        const stop = s.run();
        if (stop.reason === 'not-emulated' && isa.sse) {
          t.todo(`SSE not emulated yet: ${stop.message}`);
          assert.fail(stop.message);
        }
        assert.equal(stop.reason, 'returned', stop.message);
        assert.equal(`0x${s.machine.getReg('rax').toString(16)}`, want);
      });
    }
  }
}

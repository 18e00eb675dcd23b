// Byte-for-byte comparison of the built-in assembler with GNU as: generated instruction
// coverage, NOP padding of every length, and the hand-written fixtures in
// test/fixtures/asm (plain `.s` directly; `.S` through the built-in preprocessor and gcc's cpp).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { builtinHeaders, type Generation } from '../../emulator/loader/headers';
import { assembleText } from '../../emulator/loader/assembler';
import { formatDiagnostic } from '../../emulator/loader/diagnostics';
import { buildImage } from '../../emulator/loader/buildImage';
import { OracleCase, compareWithGas } from './assemblerOracle';
import { coverageAlu, coverageControl } from './assemblerForms';

/** The repository root, whether this runs from test/ or bundled into out/test/. */
function repoRoot(): string {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return existsSync(join(d, 'package.json')) ? d : process.cwd();
}
const FIXTURES = join(repoRoot(), 'test/fixtures/asm');

function plainCase(name: string, source: string): OracleCase {
  const r = assembleText(source, name);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors.length, 0, `${name}: our assembler failed:\n${errors.map(formatDiagnostic).join('\n')}`);
  return { name, ext: '.s', source, image: r.image!, listing: r.listing };
}

function paddingSource(): string {
  const l = ['.text'];
  for (let n = 1; n <= 140; n++) l.push('.balign 256', 'ret', `.skip ${254 - n}, 0xcc`, 'ret', '.balign 256');
  l.push('.p2align 4,,7', 'ret', '.p2align 5,,3', 'int3', '.balign 8, 0xcc', 'ret', '.align 16', '.data', '.byte 1', '.balign 8', '.byte 2', '.p2align 4, 0x55');
  return l.join('\n') + '\n';
}

/** gcc gets the same built-in kernel headers our preprocessor uses (the headers are ours; the
 *  comparison is of the assembler). */
function headerDir(g: Generation): string {
  const dir = mkdtempSync(join(tmpdir(), 'tdxdbg-hdr-'));
  for (const [name, text] of builtinHeaders(g)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

async function fixtureCases(): Promise<OracleCase[]> {
  const out: OracleCase[] = [];
  for (const f of readdirSync(FIXTURES).sort()) {
    const path = join(FIXTURES, f);
    const source = readFileSync(path, 'utf8');
    if (f.endsWith('.s')) {
      // As a user's .s is built: no C preprocessor, gas's comment rules.
      const r = await buildImage(path, {});
      const errors = r.diagnostics.filter((d) => d.severity === 'error');
      assert.equal(errors.length, 0, `${f}: buildImage failed:\n${errors.map(formatDiagnostic).join('\n')}`);
      out.push({ name: f, ext: '.s', source, image: r.image!, listing: r.listing });
    }
    else if (f.endsWith('.S')) {
      // The kernel generation is in the name: tdx-guest-g1.S, tdx-module-call-g5.S.
      const generation = (/-g(\d(?:\.5)?)\./i.exec(f)?.[1] ? `G${/-g(\d(?:\.5)?)\./i.exec(f)![1]}` : 'G5') as Generation;
      const hdr = headerDir(generation);
      const r = await buildImage(path, { includePaths: [FIXTURES], generation });
      const errors = r.diagnostics.filter((d) => d.severity === 'error');
      assert.equal(errors.length, 0, `${f}: buildImage failed:\n${errors.map(formatDiagnostic).join('\n')}`);
      out.push({ name: f, ext: '.S', source, image: r.image!, listing: r.listing, flags: [`-I${FIXTURES}`, `-I${hdr}`, '-D__ASSEMBLY__', '-include', join(hdr, 'linux/kconfig.h')] });
    }
  }
  return out;
}

test('assembler: every fixture and every generated form is byte-identical to GNU as', async () => {
  const cases = [
    plainCase('coverage-alu.s', coverageAlu()),
    plainCase('coverage-control.s', coverageControl()),
    plainCase('padding.s', paddingSource()),
    ...(await fixtureCases()),
  ];
  const results = await compareWithGas(cases);
  const problems = results.flatMap((r) => r.problems);
  assert.equal(problems.length, 0, problems.slice(0, 12).join('\n'));
  assert.ok(cases.length >= 5);
});

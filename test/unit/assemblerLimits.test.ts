// Assembler inputs bounded by design: an unguarded self-include, huge .fill/.skip, runaway
// .rept and a huge unknown mnemonic end in a clear file:line:col error, quickly and in bounded
// memory (the report's cases ran 60 s / 5 GB before).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage } from '../../emulator/loader/buildImage';
import { formatDiagnostic } from '../../emulator/loader/diagnostics';

const dir = mkdtempSync(join(tmpdir(), 'tdx-asmlim-'));

async function errorsOf(name: string, text: string): Promise<{ text: string; ms: number }> {
  const f = join(dir, name);
  writeFileSync(f, text);
  const t0 = Date.now();
  const r = await buildImage(f, {});
  const errs = r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n');
  return { text: errs, ms: Date.now() - t0 };
}

const CASES: [string, string, RegExp, number][] = [
  ['self.S', '#include "self.S"\n#include "self.S"\nnop\n', /self\.S:\d+:\d+: error: "self\.S" includes itself 8 levels deep/, 5000],
  ['fill.S', '.data\n.fill 1<<28, 8\n', /fill\.S:2:1: error: \.fill of 2,147,483,648 bytes would make the section .* over the limit of 67,108,864/, 2000],
  ['skip.S', '.data\n.rept 20\n.skip 1<<28\n.endr\n', /skip\.S:3:1: error: \.skip of 268,435,456 bytes/, 2000],
  ['word.S', `${'x'.repeat(100_000)} %rax\n`, /word\.S:1:1: error: unknown instruction/, 3000],
  ['rept.S', '.rept 400000\nnop\nnop\n.endr\n', /rept\.S:1:1: error: this repetition adds 800,000 statements/, 3000],
];

for (const [name, text, re, ms] of CASES) {
  test(`assembler limit: ${name}`, async () => {
    const r = await errorsOf(name, text);
    assert.match(r.text, re);
    assert.doesNotMatch(r.text, /internal assembler error/);
    assert.ok(r.ms < ms, `${name}: ${r.ms} ms`);
  });
}

test('.quad 09 is a bad octal number (GNU as: junk at end of line), not an internal error', async () => {
  const r = await errorsOf('oct.S', '.data\n.quad 09\n');
  assert.match(r.text, /oct\.S:2:\d+: error: bad octal number '09'/);
  assert.doesNotMatch(r.text, /internal/);
});

test('.ascii "\\ at the end of the file is an unterminated string, not an internal error', async () => {
  const r = await errorsOf('asc.S', '.data\n.ascii "\\');
  assert.match(r.text, /asc\.S:2:\d+: error: /);
  assert.doesNotMatch(r.text, /internal/);
});

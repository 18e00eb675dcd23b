// Struct layouts are bounded: a struct of two members of a struct of two members … (the
// report's 20 and 24 levels, a 4 KB `gcc -g` object) loads in bounded time and memory, through
// DWARF and through `headers`, and what is not expanded says so.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadElfObjects } from '../../emulator/loader/loadElf';
import { loadCDeclarations } from '../../emulator/loader/cheaders';
import { MAX_LAYOUT_FIELDS } from '../../emulator/loader/layoutLimits';
import type { FieldLayout } from '../../emulator/loader/image';

function nested(levels: number): string {
  let c = 'struct s0 { unsigned long a, b; };\n';
  for (let i = 1; i <= levels; i++) c += `struct s${i} { struct s${i - 1} x, y; };\n`;
  return c;
}

function count(fs: readonly FieldLayout[] | undefined): number {
  let n = 0;
  const stack = [...(fs ?? [])];
  while (stack.length) { const f = stack.pop()!; n++; if (f.fields) stack.push(...f.fields); }
  return n;
}

const dir = mkdtempSync(join(tmpdir(), 'tdx-nest-'));

for (const levels of [20, 24]) {
  test(`DWARF: ${levels} levels of nested structs load within bounds`, () => {
    const c = join(dir, `n${levels}.c`), o = join(dir, `n${levels}.o`);
    writeFileSync(c, nested(levels) + `struct s${levels} *g;\nint f(void) { return 0; }\n`);
    execFileSync('gcc', ['-c', '-g', '-o', o, c]);
    const t0 = Date.now(), m0 = process.memoryUsage().rss;
    const img = loadElfObjects([{ path: o, bytes: readFileSync(o) }]);
    const ms = Date.now() - t0, mb = (process.memoryUsage().rss - m0) / 2 ** 20;
    const top = img.structs.get(`s${levels}`)!;
    assert.ok(top, 'the struct is there');
    // Its size is gcc's: 16 bytes at level 0, doubled per level.
    assert.equal(top.size, 16 * 2 ** levels);
    assert.ok(count(top.fields) <= MAX_LAYOUT_FIELDS + 64, `${count(top.fields)} fields`);
    const stack = [...top.fields]; let marked = false;
    while (stack.length) { const f = stack.pop()!; if (/members not expanded/.test(f.type)) marked = true; if (f.fields) stack.push(...f.fields); }
    assert.ok(marked, 'the unexpanded members say so');
    assert.ok(ms < 20_000 && mb < 600, `${levels} levels: ${ms} ms, ${mb.toFixed(0)} MiB`);
  });
}

test('headers: 24 levels of nested structs lay out within bounds', () => {
  const h = join(dir, 'n24.h');
  writeFileSync(h, nested(24));
  const t0 = Date.now();
  const d = loadCDeclarations(h);
  const l = d.structs.get('s24')!;
  assert.equal(l.size, 16 * 2 ** 24);
  assert.ok(count(l.fields) <= MAX_LAYOUT_FIELDS + 64);
  assert.ok(Date.now() - t0 < 20_000, `${Date.now() - t0} ms`);
});

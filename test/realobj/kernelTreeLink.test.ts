// Linking from a build tree loads only what the run can reach (emulator/loader/elf/treeLink.ts),
// on objects the host's gcc builds with the kernel's flags: an entry that calls into one object
// of its folder, through a static helper (a call the assembler resolved: no relocation), links
// that object and the one it calls in turn; an object that only unreached code refers to stays
// out, as does one whose symbol the configuration stubs. Expected sets follow from the C below.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { compileWithToolchain } from '../../emulator/loader/toolchain';
import { linkReachable, treeCandidates } from '../../emulator/loader/elf/treeLink';
import { KERNEL_FLAGS } from './helpers';

const SOURCES: Record<string, string> = {
  'main.c': `
int b_func(int); int c_func(int); extern int d_table[4];
static __attribute__((noinline)) int helper(int x) { return b_func(x) + 1; }
int entry(int x) { return helper(x) * 2; }
int not_run(int x) { return c_func(x); }
int reads(int k) { return d_table[k]; }
`,
  'b.c': 'int e_func(int); int b_func(int x) { return e_func(x) + 3; }\n',
  'c.c': 'int c_func(int x) { return x - 1; }\n',
  'd.c': 'int d_table[4] = { 1, 2, 3, 4 };\n',
  'e.c': 'int e_func(int x) { return x * 5; }\n',
};

test('build-tree linking follows the run: entry → static helper → b.o → e.o; c.o (unreached) and d.o (data of another function) stay out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdx-treelink-'));
  const objs: Record<string, string> = {};
  for (const [name, text] of Object.entries(SOURCES)) {
    writeFileSync(join(dir, name), text);
    objs[name] = (await compileWithToolchain(join(dir, name), { compiler: 'gcc', args: ['-O2', ...KERNEL_FLAGS] }, { cwd: dir, outDir: dir })).object;
  }
  const main = objs['main.c'];
  const candidates = treeCandidates([dir], new Set([main]));
  assert.deepEqual(candidates.map((p) => basename(p)), ['b.o', 'c.o', 'd.o', 'e.o']);
  const r = linkReachable([main], candidates, { names: ['entry'] });
  assert.deepEqual(r.added.map((a) => [basename(a.object), a.symbol, a.from]), [['b.o', 'b_func', 'helper'], ['e.o', 'e_func', 'b_func']]);
  assert.deepEqual(r.skipped.map((p) => basename(p)), ['c.o', 'd.o']);
  assert.equal(r.definedElsewhere.get('c_func'), objs['c.c']);
  // A data root loads the object defining what it reads.
  const d = linkReachable([main], candidates, { names: ['reads'] });
  assert.deepEqual(d.added.map((a) => basename(a.object)), ['d.o']);
  // A stubbed name is never taken from the tree.
  const s = linkReachable([main], candidates, { names: ['entry'], stubbed: ['b_func'] });
  assert.deepEqual(s.added, []);
  // No roots (no entry): every function of the program may run, so everything it refers to is linked.
  const all = linkReachable([main], candidates, { names: [] });
  assert.deepEqual(all.added.map((a) => basename(a.object)).sort(), ['b.o', 'c.o', 'd.o', 'e.o']);
  // The second walk over unchanged objects uses the index kept from the first.
  assert.equal(d.cached, 4);
});

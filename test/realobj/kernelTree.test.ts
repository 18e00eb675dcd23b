// Kernel build trees without a kernel: a stand-in tree (test/fixtures/c/kernel-tree, copied to a
// temp folder) whose Makefile builds one object into an O= folder and writes a kbuild-style .cmd
// file. Checks the object a file maps to, staleness from the .cmd dependencies, the single-object
// make with progress lines, compiler errors as diagnostics, the Session's kernelSource/kernelBuild
// path (trusted and untrusted), and DWARF paths from another machine mapped back into the tree.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from '../../emulator/session/session';
import { ConfigError } from '../../emulator/session/config';
import { LoadError } from '../../emulator/loader/diagnostics';
import { buildKernelObjects, cmdDependencies, kernelObjectFor, kernelObjectStaleness, mapKernelPath } from '../../emulator/loader/kernelTree';
import { tempDir } from '../unit/elfOracle';
import { C_DIR } from './helpers';

function freshTree(): { source: string; build: string } {
  const root = tempDir('tdx-ktree-');
  const source = join(root, 'linux');
  cpSync(join(C_DIR, 'kernel-tree'), source, { recursive: true });
  const build = join(root, 'build');
  mkdirSync(build);
  return { source, build };
}

const DEMO = 'arch/x86/coco/tdx/demo.o';

test('kernelObjectFor: sources and objects of the tree name their object', () => {
  const tree = { source: '/k/linux', build: '/k/linux/out' };
  assert.equal(kernelObjectFor('arch/x86/coco/tdx/tdcall.S', tree), 'arch/x86/coco/tdx/tdcall.o');
  assert.equal(kernelObjectFor('/k/linux/arch/x86/coco/tdx/tdx.c', tree), 'arch/x86/coco/tdx/tdx.o');
  assert.equal(kernelObjectFor('/k/linux/out/arch/x86/coco/tdx/tdx.o', tree), 'arch/x86/coco/tdx/tdx.o', 'O= inside the tree');
  assert.throws(() => kernelObjectFor('/elsewhere/a.c', tree), /not inside kernelSource/);
  assert.throws(() => kernelObjectFor('arch/x86/Kconfig', tree), /neither a kernel source/);
});

test('cmdDependencies reads source_ and deps_ and skips $(wildcard)', () => {
  const text = 'cmd_a.o := gcc x\n\nsource_a.o := /s/a.c\n\ndeps_a.o := \\\n  /s/a.h \\\n    $(wildcard include/config/X) \\\n  include/generated/b.h \\\n\na.o: $(deps_a.o)\n';
  assert.deepEqual(cmdDependencies(text), ['/s/a.c', '/s/a.h', 'include/generated/b.h']);
});

test('the single-object build runs the tree\'s make, forwards progress, and tracks staleness', async () => {
  const tree = freshTree();
  assert.match(kernelObjectStaleness(DEMO, tree)?.reason ?? '', /has not been built/);
  const progress: string[] = [];
  const r = await buildKernelObjects([DEMO], tree, { onProgress: (l) => progress.push(l) });
  assert.deepEqual(r.argv.slice(0, 4), ['make', '-C', tree.source, `O=${tree.build}`]);
  assert.ok(progress.some((l) => /CC\s+arch\/x86\/coco\/tdx\/demo\.o/.test(l)), progress.join('\n'));
  assert.ok(existsSync(join(tree.build, DEMO)));
  assert.equal(kernelObjectStaleness(DEMO, tree), undefined);
  // A header the .cmd file lists becomes newer: the object is stale again, and says why.
  const later = new Date(Date.now() + 5000);
  utimesSync(join(tree.source, 'include/demo.h'), later, later);
  assert.match(kernelObjectStaleness(DEMO, tree)?.reason ?? '', /include\/demo\.h is newer than arch\/x86\/coco\/tdx\/demo\.o/);
});

test('compiler errors of the kernel build become diagnostics in the source tree', async () => {
  const tree = freshTree();
  await assert.rejects(buildKernelObjects(['arch/x86/coco/tdx/broken.o'], tree), (e: unknown) => {
    assert.ok(e instanceof LoadError);
    const d = e.diagnostics.find((x) => x.severity === 'error' && x.location);
    assert.ok(d, e.message);
    assert.equal(d.location?.file, join(tree.source, 'arch/x86/coco/tdx/broken.c'));
    assert.equal(d.location?.line, 4);
    assert.match(d.message, /undeclared_thing/);
    return true;
  });
});

test('Session: kernelSource + kernelBuild build the object once, then load it; untrusted workspaces never run make', async () => {
  const tree = freshTree();
  const config = { program: 'arch/x86/coco/tdx/demo.c', kernelSource: tree.source, kernelBuild: tree.build, entry: 'demo_sum', args: [{ struct: 'demo_args', init: { r10: 1, r11: 2, r12: 3 } }] };
  await assert.rejects(Session.create(config, { trusted: false }), (e: unknown) => e instanceof ConfigError && e.attribute === 'kernelBuild' && /untrusted workspace/.test(e.message));
  const progress: string[] = [];
  const s = await Session.create(config, { onProgress: (l) => progress.push(l) });
  assert.ok(progress.some((l) => /building arch\/x86\/coco\/tdx\/demo\.o with the kernel's make/.test(l)), progress.join('\n'));
  assert.equal(s.run().reason, 'returned');
  assert.equal(s.machine.getReg('rax'), 1n + 2n * 2n + 3n * 3n);
  assert.equal(s.programPath, join(tree.source, 'arch/x86/coco/tdx/demo.c'));
  assert.ok(s.lineAt(s.entry.address)?.file === join(tree.source, 'arch/x86/coco/tdx/demo.c'));
  // Up to date now: an untrusted workspace may load it (reading an object runs nothing).
  const again = await Session.create(config, { trusted: false, onProgress: () => assert.fail('make ran for an up-to-date object') });
  assert.equal(again.run().reason, 'returned');
});

test('DWARF paths of an object built elsewhere map back into the source tree', async () => {
  const tree = freshTree();
  const old = process.env.KCFLAGS;
  process.env.KCFLAGS = `-fdebug-prefix-map=${tree.source}=/build/linux-6.1-elsewhere`;
  try {
    await buildKernelObjects([DEMO], tree);
  } finally {
    if (old === undefined) delete process.env.KCFLAGS; else process.env.KCFLAGS = old;
  }
  assert.equal(mapKernelPath('/build/linux-6.1-elsewhere/arch/x86/coco/tdx/demo.c', tree), join(tree.source, 'arch/x86/coco/tdx/demo.c'));
  assert.equal(mapKernelPath('/nowhere/at/all.c', tree), '/nowhere/at/all.c');
  const s = await Session.create({ program: 'arch/x86/coco/tdx/demo.c', kernelSource: tree.source, kernelBuild: tree.build, entry: 'demo_sum' }, { trusted: false });
  const files = new Set(s.image.lines.map((l) => l.file));
  assert.ok(files.has(join(tree.source, 'arch/x86/coco/tdx/demo.c')), [...files].join(', '));
  assert.ok(s.image.sources.has(join(tree.source, 'arch/x86/coco/tdx/demo.c')), 'the source was read through the mapping');
});

test('launch validation: kernelSource and kernelBuild go together; objects are strings', async () => {
  await assert.rejects(Session.create({ program: 'x.S', kernelSource: '/k' }), (e: unknown) => e instanceof ConfigError && e.attribute === 'kernelBuild');
  await assert.rejects(Session.create({ program: 'x.S', objects: [1] }), (e: unknown) => e instanceof ConfigError && e.attribute === 'objects');
  await assert.rejects(Session.create({ program: 'x.S', kernelSource: '/nonexistent-tree', kernelBuild: '/tmp' }), (e: unknown) => e instanceof ConfigError && e.attribute === 'kernelSource');
});

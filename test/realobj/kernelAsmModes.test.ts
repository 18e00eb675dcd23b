// The kernel's TDX assembly files assembled by the built-in assembler in both of its modes and
// compared with the objects kbuild built from them (scripts/kernel-objects.sh, Debian's
// linux-source-6.1 and linux-source-6.12, x86_64 defconfig + TDX): every allocated section's
// bytes after linking both at our addresses, the decoded __ex_table, and the symbols.
//   - kernel-tree mode: the tree's headers and the flags of kbuild's .cmd file (no make runs);
//   - built-in shims: the file alone with the generation of its kernel (docs/kernel-generations.md).
// Skipped when the objects have not been built, unless TDX_KERNEL_TEST=1 asks for them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage } from '../../emulator/loader/buildImage';
import { findKernelTree, kernelTreeFlags } from '../../emulator/loader/kbuildFlags';
import type { Generation } from '../../emulator/loader/headers';
import { compareWithObject } from '../unit/assemblerOracle';
import { fromRoot } from '../support/paths';

const CACHE = process.env.TDX_KERNEL_CACHE ?? fromRoot('.cache/kernel');
const REQUIRED = process.env.TDX_KERNEL_TEST === '1';

interface Case { version: string; file: string; generation: Generation }
const CASES: Case[] = [
  { version: '6.1', file: 'arch/x86/coco/tdx/tdcall.S', generation: 'G1' },
  { version: '6.12', file: 'arch/x86/coco/tdx/tdcall.S', generation: 'G4' },
  { version: '6.12', file: 'arch/x86/virt/vmx/tdx/seamcall.S', generation: 'G4' },
];

const dir = mkdtempSync(join(tmpdir(), 'tdx-kasm-'));

for (const c of CASES) {
  const src = join(CACHE, `linux-source-${c.version}`);
  const build = join(CACHE, `build-${c.version}`);
  const object = join(build, c.file.replace(/\.S$/, '.o'));
  const ready = existsSync(object);
  const skip = !ready && !REQUIRED ? `no ${c.version} kernel object ${object} (run scripts/kernel-objects.sh ${c.version}, or set TDX_KERNEL_TEST=1 to require it)` : false;
  const stem = join(dir, `${c.version}-${c.file.replace(/\W/g, '_')}`);
  const needSetup = () => { if (!ready) assert.fail(`TDX_KERNEL_TEST=1 but ${object} is missing: run scripts/kernel-objects.sh ${c.version}`); };

  test(`linux ${c.version} ${c.file}, kernel-tree mode (tree found from the file, kbuild's flags): the kbuild object's bytes`, { skip }, async () => {
    needSetup();
    const file = join(src, c.file);
    const tree = findKernelTree(file);
    assert.deepEqual(tree, { source: src, build: build }, 'the tree and its O= folder are found by walking up from the file');
    const flags = kernelTreeFlags(file, tree!);
    assert.equal(flags.sibling, undefined, 'the object has its own .cmd');
    const r = await buildImage(file, { generation: c.generation, kernelTree: flags });
    assert.ok(r.image, r.diagnostics.map((d) => `${d.location?.file}:${d.location?.line}: ${d.message}`).join('\n'));
    const cmp = await compareWithObject({ name: `${c.version} ${c.file} (tree)`, image: r.image!, listing: r.listing }, object, `${stem}-tree`, { symbols: true });
    assert.deepEqual(cmp.problems, []);
  });

  test(`linux ${c.version} ${c.file}, built-in shims of ${c.generation} (the file alone): the kbuild object's bytes`, { skip }, async () => {
    needSetup();
    const r = await buildImage(join(src, c.file), { generation: c.generation });
    assert.ok(r.image, r.diagnostics.map((d) => `${d.location?.file}:${d.location?.line}: ${d.message}`).join('\n'));
    assert.deepEqual(r.diagnostics.map((d) => `${d.severity} ${d.location?.file}:${d.location?.line}: ${d.message}`), [], 'gcc -E and GNU as have nothing to say about these files: neither do we');
    const cmp = await compareWithObject({ name: `${c.version} ${c.file} (shims)`, image: r.image!, listing: r.listing }, object, `${stem}-shims`, { symbols: true });
    assert.deepEqual(cmp.problems, []);
  });
}

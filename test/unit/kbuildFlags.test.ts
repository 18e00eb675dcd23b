// Kernel-tree mode's own pieces on a fake tree laid out in a temporary folder (no kernel text):
// kbuild `.cmd` parsing (both spellings, quoting, relative paths resolved from the O= folder,
// -include/-U/-Wa), the sibling fallback, tree discovery by walking up (O= beside the tree with
// its `source` link, an in-tree build, no configured build), and a build with the tree's flags
// compared with gcc -c run with the same command line in the build folder.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findKernelTree, generationOfTree, kernelTreeFlags, parseKbuildCmd, shellSplit } from '../../emulator/loader/kbuildFlags';
import { buildImage } from '../../emulator/loader/buildImage';
import { compareWithObject } from './assemblerOracle';
import { Session } from '../../emulator/session/session';

const root = mkdtempSync(join(tmpdir(), 'tdx-ktree-'));
const SRC = join(root, 'linux');
const BUILD = join(root, 'build');
const put = (p: string, text: string) => { mkdirSync(dirname(p), { recursive: true }); writeFileSync(p, text); };

// The source tree: a top Makefile (version 6.12), Kconfig, a header and two assembly files.
put(join(SRC, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n');
put(join(SRC, 'Kconfig'), '');
put(join(SRC, 'include/linux/pre.h'), '#define PRE_INCLUDED 7\n#include <generated/autoconf.h>\n');
put(join(SRC, 'arch/demo/include/asm/demo.h'), '#ifdef CONFIG_DEMO_WIDE\n#define DEMO_OP addq\n#else\n#define DEMO_OP addl\n#endif\n');
put(join(SRC, 'arch/demo/lib/one.S'), '#include <asm/demo.h>\n#include "local.h"\n.globl one\none:\n\tDEMO_OP $PRE_INCLUDED, %rax\n\tmovl $LOCAL_VALUE, %ecx\n\tmovl $MODLEN, %edx\n#ifndef DROPPED\n\tnop\n#endif\n\tret\n');
put(join(SRC, 'arch/demo/lib/local.h'), '#define LOCAL_VALUE 0x1234\n');
put(join(SRC, 'arch/demo/lib/two.S'), '#include <asm/demo.h>\n.globl two\ntwo:\n\tDEMO_OP $PRE_INCLUDED, %rbx\n\tret\n');
// The O= folder: generated headers, kbuild's link back to the source, one object's command.
put(join(BUILD, 'include/generated/autoconf.h'), '#define CONFIG_DEMO_WIDE 1\n');
symlinkSync(SRC, join(BUILD, 'source'));
const CMD = `gcc -Wp,-MMD,arch/demo/lib/.one.o.d -nostdinc -I${SRC}/arch/demo/include -I ./include -include ${SRC}/include/linux/pre.h ` +
  `-D__KERNEL__ -D__ASSEMBLY__ -DDROPPED -UDROPPED -DMODLEN=3 -DKBUILD_MODFILE='"arch/demo/lib/one"' -DKBUILD_MODNAME='"one"' -D__KBUILD_MODNAME=kmod_one ` +
  `-Wa,--noexecstack,-W -m64 -c -o arch/demo/lib/one.o ${SRC}/arch/demo/lib/one.S`;
put(join(BUILD, 'arch/demo/lib/.one.o.cmd'), `savedcmd_arch/demo/lib/one.o := ${CMD}\n\nsource_arch/demo/lib/one.o := ${SRC}/arch/demo/lib/one.S\n`);
const TREE = { source: SRC, build: BUILD };

test('shellSplit: quotes and backslashes as /bin/sh reads them', () => {
  assert.deepEqual(shellSplit(`gcc -DA='"x y"' -DB="q\\"r" c\\ d  'e'"f"`), ['gcc', '-DA="x y"', '-DB=q"r', 'c d', 'ef']);
});

test('parseKbuildCmd: -I/-D/-U/-include/-Wa, relative paths from the build folder, both cmd_ spellings', () => {
  for (const prefix of ['savedcmd_', 'cmd_']) {
    const f = parseKbuildCmd(`${prefix}arch/demo/lib/one.o := ${CMD}\n`, 'x.cmd', BUILD);
    assert.deepEqual(f.includePaths, [`${SRC}/arch/demo/include`, join(BUILD, 'include')]);
    assert.deepEqual(f.includes, [`${SRC}/include/linux/pre.h`]);
    assert.equal(f.defines.MODLEN, '3');
    assert.equal(f.defines.KBUILD_MODFILE, '"arch/demo/lib/one"');
    assert.equal(f.defines.__ASSEMBLY__, '1');
    assert.deepEqual(f.undefines, ['DROPPED']);
    assert.deepEqual(f.assemblerFlags, ['--noexecstack', '-W']);
    assert.equal(f.machine, '-m64');
    assert.equal(f.source, `${SRC}/arch/demo/lib/one.S`);
  }
  assert.throws(() => parseKbuildCmd('deps_x := a.h\n', 'y.cmd', BUILD), /y\.cmd holds no cmd_\/savedcmd_ line/);
});

test('kernelTreeFlags: the object\'s own .cmd, else a sibling\'s with the module names rewritten, else a clear error', () => {
  const own = kernelTreeFlags(join(SRC, 'arch/demo/lib/one.S'), TREE);
  assert.equal(own.cmdFile, join(BUILD, 'arch/demo/lib/.one.o.cmd'));
  assert.equal(own.sibling, undefined);
  const sib = kernelTreeFlags(join(SRC, 'arch/demo/lib/two.S'), TREE);
  assert.equal(sib.sibling, join(BUILD, 'arch/demo/lib/.one.o.cmd'));
  assert.equal(sib.defines.KBUILD_MODFILE, '"arch/demo/lib/two"');
  assert.equal(sib.defines.KBUILD_MODNAME, '"two"');
  assert.equal(sib.defines.__KBUILD_MODNAME, 'kmod_two');
  assert.equal(sib.source, join(SRC, 'arch/demo/lib/two.S'));
  put(join(SRC, 'arch/demo/other/three.S'), 'nop\n');
  assert.throws(() => kernelTreeFlags(join(SRC, 'arch/demo/other/three.S'), TREE), /no kbuild flags for arch\/demo\/other\/three\.S: .*\.three\.o\.cmd does not exist/);
});

test('findKernelTree: walks up to the source tree and finds its O= folder by the source link; in-tree builds; unconfigured trees', () => {
  assert.deepEqual(findKernelTree(join(SRC, 'arch/demo/lib/one.S')), TREE);
  assert.deepEqual(findKernelTree(join(BUILD, 'arch/demo/lib/one.s')), { source: SRC, build: BUILD }, 'a file of the O= folder finds the tree through its source link');
  assert.equal(findKernelTree(join(root, 'elsewhere/x.S')), undefined);
  assert.equal(generationOfTree(SRC), 'G4');
  // An in-tree build: generated headers in the source tree itself.
  const inTree = join(root, 'intree');
  put(join(inTree, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 1\n');
  put(join(inTree, 'Kconfig'), '');
  put(join(inTree, 'include/generated/autoconf.h'), '');
  put(join(inTree, 'arch/x86/a.S'), 'nop\n');
  assert.deepEqual(findKernelTree(join(inTree, 'arch/x86/a.S')), { source: inTree, build: inTree });
  assert.equal(generationOfTree(inTree), 'G1');
  // A tree never configured: no build folder, no tree mode.
  const bare = join(root, 'bare');
  put(join(bare, 'Makefile'), '');
  put(join(bare, 'Kconfig'), '');
  mkdirSync(join(bare, 'include'), { recursive: true });
  put(join(bare, 'arch/x86/a.S'), 'nop\n');
  assert.equal(findKernelTree(join(bare, 'arch/x86/a.S')), undefined);
});

test('a .S of the fake tree built with its kbuild flags: the bytes gcc -c gives with the same command line in the build folder', async (t) => {
  for (const name of ['one', 'two']) {
    const file = join(SRC, `arch/demo/lib/${name}.S`);
    const r = await buildImage(file, { kernelTreeFrom: 'discover' });
    assert.ok(r.image, r.diagnostics.map((d) => d.message).join('\n'));
    assert.equal(r.kernelTree?.source, SRC);
    // gcc, run where kbuild runs it, with the flags of the .cmd (for two.S: the sibling's, retargeted).
    const words = shellSplit(CMD).slice(1).filter((w) => !w.startsWith('-Wp,'));
    const args = name === 'one' ? words : words.map((w) => w.replace(/\bone\b/g, 'two'));
    mkdirSync(join(BUILD, 'arch/demo/lib'), { recursive: true });
    execFileSync('gcc', args, { cwd: BUILD });
    const cmp = await compareWithObject({ name, image: r.image!, listing: r.listing }, join(BUILD, `arch/demo/lib/${name}.o`), join(root, `cmp-${name}`), { symbols: true });
    assert.deepEqual(cmp.problems, []);
    t.diagnostic(`${name}.S: ${r.image!.sections[0].bytes.length} bytes of .text equal gcc's`);
  }
  // Discovery off: the built-in headers know nothing of the tree's <asm/demo.h>.
  const off = await buildImage(join(SRC, 'arch/demo/lib/one.S'), {});
  assert.ok(off.diagnostics.some((d) => d.severity === 'error' && /asm\/demo\.h: no such file/.test(d.message)));
});

test('launches: a .S of the tree found by walking up runs with the tree\'s flags; kernelSource/kernelBuild in an untrusted workspace assemble a never-built object\'s .S instead of asking for make', async () => {
  const progress: string[] = [];
  const s = await Session.create({ program: join(SRC, 'arch/demo/lib/one.S'), entry: 'one', context: 'none' }, { onProgress: (l) => progress.push(l) });
  assert.ok(progress.some((l) => /kernel tree .*\.one\.o\.cmd/.test(l)), progress.join('\n'));
  assert.equal(s.config.generation, 'G4', 'the tree is 6.12: G4');
  const u = await Session.create({ program: 'arch/demo/lib/two.S', kernelSource: SRC, kernelBuild: BUILD, entry: 'two', context: 'none' }, { trusted: false, cwd: root });
  assert.equal(u.programPath, join(SRC, 'arch/demo/lib/two.S'));
  assert.ok(u.image.symbols.some((x) => x.name === 'two'));
});

test('what the built-in assembler does not do of a kbuild command is named: -m32 is an error, an unknown -Wa option a warning', async () => {
  put(join(SRC, 'arch/demo/boot/b.S'), 'nop\n');
  put(join(BUILD, 'arch/demo/boot/.b.o.cmd'), `cmd_arch/demo/boot/b.o := gcc -m32 -Wa,-mfoo,--noexecstack -c -o arch/demo/boot/b.o ${SRC}/arch/demo/boot/b.S\n`);
  const r = await buildImage(join(SRC, 'arch/demo/boot/b.S'), { kernelTreeFrom: 'discover' });
  assert.equal(r.image, undefined);
  assert.ok(r.diagnostics.some((d) => d.severity === 'error' && /with -m32 .*64-bit code only/.test(d.message)), r.diagnostics.map((d) => d.message).join('\n'));
  assert.ok(r.diagnostics.some((d) => d.severity === 'warning' && /assembler option -mfoo/.test(d.message)));
  assert.ok(!r.diagnostics.some((d) => /--noexecstack/.test(d.message)));
});
